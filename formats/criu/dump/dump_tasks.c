/*
 * Tasks, namespaces and cgroups of a full dump (CRIU 3.17.1:
 * criu/pstree.c read_one_pstree_item() and prepare_pstree_kobj_ids(),
 * criu/cr-restore.c check_core(), criu/seccomp.c, criu/cgroup.c).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define CRIU_DUMP_INTERNAL
#include "formats/criu/dump/dump.h"
#include "formats/criu/schema/schema.h"
#include "formats/criu/schema/linux.h"


/* A pid or thread id of pstree.img and where it is. */
typedef struct tid_at {
	uint32_t tid;
	uint32_t task;   /* task index */
	uint32_t pos;    /* 0: the task's pid; k + 1: threads[k] */
} tid_at;

static int cmp_tid_at(const void *a, const void *b)
{
	const tid_at *x = a, *y = b;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	if (x->task != y->task)
		return x->task < y->task ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static long pstree_img(dump *d)
{
	dimg *p = dump_find(d, "pstree.img");
	return p ? (long)(p - DV(d->imgs, dimg)) : -1;
}

static long img_of(dump *d, const char *prefix, uint64_t id)
{
	dimg *i = dump_find_id(d, prefix, id, false);
	return i ? (long)(i - DV(d->imgs, dimg)) : -1;
}

/* The pstree ids, sorted, with duplicates reported. */
static tid_at *sorted_tids(dump *d, size_t *count, long pst)
{
	dtask *t = DV(d->tasks, dtask);
	size_t n = 0, cap = d->tasks.n + d->threads.n;
	tid_at *a = malloc((cap ? cap : 1) * sizeof(*a));

	if (!a)
		return NULL;
	for (size_t i = 0; i < d->tasks.n; i++) {
		a[n++] = (tid_at){ t[i].pid, (uint32_t)i, 0 };
		for (size_t k = 0; k < t[i].nthreads; k++) {
			uint32_t tid = DV(d->threads, uint32_t)[t[i].thread0 + k];
			if (k == 0 && tid == t[i].pid)
				continue; /* the leader: the task itself */
			a[n++] = (tid_at){ tid, (uint32_t)i, (uint32_t)k + 1 };
		}
	}
	qsort(a, n, sizeof(*a), cmp_tid_at);
	for (size_t i = 1; i < n; i++) {
		if (a[i].tid != a[i - 1].tid)
			continue;
		const tid_at *x = &a[i - 1], *y = &a[i];
		dump_report(d, pst, t[y->task].index, "pstree_entry", CD_PSTREE_DUPLICATE,
			    t[y->task].offset,
			    "%s %" PRIu32 " of task %" PRIu32 " is already %s of task %" PRIu32
			    " (entry %" PRIu64 ")",
			    y->pos ? "thread" : "pid", y->tid, t[y->task].pid,
			    x->pos ? "a thread" : "the pid", t[x->task].pid, t[x->task].index);
	}
	*count = n;
	return a;
}

static const tid_at *find_tid(const tid_at *a, size_t n, uint32_t tid)
{
	tid_at key = { tid, 0, 0 };
	size_t lo = sv_lower_bound(&key, a, n, sizeof(*a), cmp_tid_at);

	return lo < n && a[lo].tid == tid ? &a[lo] : NULL;
}

static void check_tree(dump *d, long pst)
{
	dtask *t = DV(d->tasks, dtask);
	size_t ntids = 0;
	tid_at *tids = sorted_tids(d, &ntids, pst);
	long root = -1;

	if (!tids)
		return;
	for (size_t i = 0; i < d->tasks.n && !sv_stopped(d->cx); i++) {
		if (t[i].ppid == 0) {
			if (root >= 0)
				dump_report(d, pst, t[i].index, "pstree_entry", CD_PSTREE_ROOT,
					    t[i].offset, "task %" PRIu32 " has ppid 0 too: task %"
					    PRIu32 " (entry %" PRIu64 ") is already the root "
					    "(CRIU: parent missed on non-root task)",
					    t[i].pid, t[root].pid, t[root].index);
			else
				root = (long)i;
			continue;
		}
		const tid_at *p = find_tid(tids, ntids, t[i].ppid);
		while (p && p > tids && p[-1].tid == p->tid)
			p--;
		if (!p && DUMP_UNSURE(d, PSTREE))
			continue; /* the parent may be in what could not be read */
		if (!p || p->pos != 0) {
			dump_report(d, pst, t[i].index, "pstree_entry", CD_PSTREE_PARENT_ORDER,
				    t[i].offset, "task %" PRIu32 " has ppid %" PRIu32 ", which %s "
				    "(CRIU: can't find a parent)", t[i].pid, t[i].ppid,
				    p ? "is a thread, not a task" : "no task of pstree.img has");
		} else if (p->task >= i) {
			dump_report(d, pst, t[i].index, "pstree_entry", CD_PSTREE_PARENT_ORDER,
				    t[i].offset, "task %" PRIu32 " comes before its parent %" PRIu32
				    " (entry %" PRIu64 "); CRIU needs each parent first",
				    t[i].pid, t[i].ppid, t[p->task].index);
		} else {
			t[i].parent = (long)p->task;
		}
	}
	if (root < 0 && d->tasks.n && !DUMP_UNSURE(d, PSTREE))
		dump_report(d, pst, SV_NONE, NULL, CD_PSTREE_ROOT, SV_NONE,
			    "no task has ppid 0: the dump has no root task");
	free(tids);
}

static void check_thread_core(dump *d, const dtask *t, size_t k, long pst)
{
	uint32_t tid = DV(d->threads, uint32_t)[t->thread0 + k];
	dcore *c = dump_core(d, tid);

	dump_ref(d, "signal-p-", tid, false);
	if (!c && dump_ref(d, "core-", tid, false))
		return; /* there, but unreadable: reported where it broke */
	if (!c) {
		if (k > 0 || tid != t->pid) /* the leader's own core is reported once */
			dump_report(d, pst, t->index, "pstree_entry", CD_TASK_CORE_MISSING,
				    t->offset, "thread %" PRIu32 " of task %" PRIu32
				    " has no core-%" PRIu32 ".img", tid, t->pid, tid);
		return;
	}
	DV(d->imgs, dimg)[c->img].referenced = true;
	if (k > 0 && (c->has_tc || c->has_ids))
		dump_report(d, c->img, 0, "core_entry", CD_THREAD_CORE_TC, SV_NONE,
			    "thread %" PRIu32 " is not the leader of task %" PRIu32
			    " in pstree.img, but its core carries %s", tid, t->pid,
			    c->has_tc && c->has_ids ? "tc and ids" : c->has_tc ? "tc" : "ids");
	if (!c->has_arch_info)
		dump_report(d, c->img, 0, "core_entry", CD_TASK_THREAD_INFO, SV_NONE,
			    "thread %" PRIu32 " of live task %" PRIu32 " has no thread_info "
			    "(CRIU: core info data missed for non-zombie)", tid, t->pid);
	if (c->has_seccomp_filter && !DUMP_UNSURE(d, SECCOMP)) {
		if (!d->have_seccomp)
			dump_report(d, c->img, 0, "core_entry", CD_SECCOMP_INDEX, SV_NONE,
				    "thread %" PRIu32 " uses seccomp filter %" PRIu32
				    ", but seccomp.img is absent or unreadable", tid,
				    c->seccomp_filter);
		else if (c->seccomp_filter >= d->nseccomp)
			dump_report(d, c->img, 0, "core_entry", CD_SECCOMP_INDEX, SV_NONE,
				    "thread %" PRIu32 " uses seccomp filter %" PRIu32
				    ", but seccomp.img has %zu filters (CRIU: corrupted filter index)",
				    tid, c->seccomp_filter, d->nseccomp);
	}
}

static int cmp_ids(const void *a, const void *b)
{
	uint32_t x = ((const dids *)a)->pid, y = ((const dids *)b)->pid;
	return x < y ? -1 : x > y;
}

static void link_ids(dump *d)
{
	dtask *t = DV(d->tasks, dtask);

	dump_sort(&d->ids, sizeof(dids), cmp_ids);
	for (size_t i = 0; i < d->tasks.n; i++) {
		dids key = { .pid = t[i].pid };
		dids *found = d->ids.n ? bsearch(&key, d->ids.v, d->ids.n, sizeof(dids), cmp_ids)
				       : NULL;
		t[i].ids = found ? (long)(found - DV(d->ids, dids)) : -1;
	}
}

static void require_task_image(dump *d, const dtask *t, long pst, const char *prefix,
			       const char *what)
{
	if (!dump_ref(d, prefix, t->pid, false))
		dump_report(d, pst, t->index, "pstree_entry", CD_TASK_IMAGE_MISSING, t->offset,
			    "live task %" PRIu32 " has no %s%" PRIu32 ".img (%s)",
			    t->pid, prefix, t->pid, what);
}

static void check_root_ids(dump *d)
{
	dtask *t = DV(d->tasks, dtask);

	for (size_t i = 0; i < d->tasks.n; i++) {
		if (t[i].ppid != 0 || !t[i].live || !d->has_root_ids)
			continue;
		const dids *ids = dump_task_ids(d, &t[i]);
		if (!ids)
			return;
		long img = t[i].ids >= 0 ? img_of(d, "ids-", t[i].pid) :
			   DV(d->cores, dcore)[t[i].core].img;
		const char *names[4] = { "vm_id", "files_id", "fs_id", "sighand_id" };
		uint32_t mine[4] = { ids->vm, ids->files, ids->fs, ids->sighand };
		uint32_t criu[4] = { d->root_ids.vm, d->root_ids.files, d->root_ids.fs,
				     d->root_ids.sighand };
		for (int k = 0; k < 4; k++)
			if (mine[k] == criu[k])
				dump_report(d, img, 0, "task_kobj_ids_entry", CD_IDS_ROOT_SAME,
					    SV_NONE, "root task %" PRIu32 " has %s %" PRIu32
					    ", the same as CRIU's own in inventory.img root_ids "
					    "(CRIU: image corruption on kIDs data)",
					    t[i].pid, names[k], mine[k]);
		return;
	}
}

void dump_check_tasks(dump *d)
{
	long pst = pstree_img(d);
	dtask *t = DV(d->tasks, dtask);

	if (pst < 0)
		return;
	if (d->tasks.n == 0) {
		if (DV(d->imgs, dimg)[pst].verified)
			dump_report(d, pst, SV_NONE, NULL, CD_PSTREE_EMPTY, SV_NONE,
				    "pstree.img lists no task: there is nothing to restore");
		return;
	}
	check_tree(d, pst);
	link_ids(d);

	for (size_t i = 0; i < d->tasks.n && !sv_stopped(d->cx); i++) {
		dcore *c = dump_core(d, t[i].pid);

		t[i].live = true;
		if (!c && dump_ref(d, "core-", t[i].pid, false)) {
			/*
			 * The core is there but could not be read (reported where
			 * it broke): the task's state is unknown, so its other
			 * images are taken as they are, neither required nor stray.
			 */
			t[i].live = false;
			static const char *const own[] = { "ids-", "mm-", "pagemap-", "fs-" };
			for (size_t k = 0; k < sizeof(own) / sizeof(own[0]); k++)
				dump_ref(d, own[k], t[i].pid, false);
			for (size_t k = 0; k < t[i].nthreads; k++)
				check_thread_core(d, &t[i], k, pst);
			continue;
		} else if (!c) {
			dump_report(d, pst, t[i].index, "pstree_entry", CD_TASK_CORE_MISSING,
				    t[i].offset, "task %" PRIu32 " has no core-%" PRIu32 ".img",
				    t[i].pid, t[i].pid);
		} else {
			t[i].core = (long)(c - DV(d->cores, dcore));
			DV(d->imgs, dimg)[c->img].referenced = true;
			if (!c->has_tc) {
				dump_report(d, c->img, 0, "core_entry", CD_TASK_CORE_TC, SV_NONE,
					    "core of task %" PRIu32 " has no tc (CRIU: core task "
					    "state data missed)", t[i].pid);
			} else if (c->task_state == CRIU_TASK_DEAD) {
				t[i].zombie = true;
				t[i].live = false;
			} else if (c->task_state != CRIU_TASK_ALIVE && c->task_state != CRIU_TASK_STOPPED) {
				dump_report(d, c->img, 0, "core_entry", CD_TASK_STATE, SV_NONE,
					    "task %" PRIu32 " has task_state %" PRIu32
					    " (CRIU: unknown task state)", t[i].pid, c->task_state);
			}
		}
		if (!t[i].live)
			continue; /* a zombie has its core only */

		if (t[i].nthreads == 0 || DV(d->threads, uint32_t)[t[i].thread0] != t[i].pid)
			dump_report(d, pst, t[i].index, "pstree_entry", CD_PSTREE_LEADER,
				    t[i].offset, "task %" PRIu32 " lists %s as its first thread; "
				    "CRIU takes threads[0] to be the task itself", t[i].pid,
				    t[i].nthreads ? "another id" : "no thread");
		for (size_t k = 0; k < t[i].nthreads; k++)
			check_thread_core(d, &t[i], k, pst);
		/* No thread listed: the leader's core still needs its registers. */
		if (t[i].nthreads == 0 && c && !c->has_arch_info)
			dump_report(d, c->img, 0, "core_entry", CD_TASK_THREAD_INFO, SV_NONE,
				    "live task %" PRIu32 " has no thread_info", t[i].pid);

		if (dump_ref(d, "ids-", t[i].pid, false) == NULL && !(c && c->has_ids))
			dump_report(d, pst, t[i].index, "pstree_entry", CD_TASK_IDS, t[i].offset,
				    "live task %" PRIu32 " has no ids-%" PRIu32 ".img and its core "
				    "has no ids (CRIU: core IDS data missed for non-zombie)",
				    t[i].pid, t[i].pid);
		require_task_image(d, &t[i], pst, "mm-", "its memory layout");
		require_task_image(d, &t[i], pst, "pagemap-", "which pages it has");
		require_task_image(d, &t[i], pst, "fs-", "its cwd and root");
		/* Images older CRIUs wrote per task; 3.17 still reads them. */
		static const char *const legacy[] = { "creds-", "sigacts-", "itimers-",
						      "posix-timers-", "rlimit-", "signal-s-",
						      "vmas-" };
		for (size_t k = 0; k < sizeof(legacy) / sizeof(legacy[0]); k++)
			dump_ref(d, legacy[k], t[i].pid, false);
	}
	check_root_ids(d);
}

/*
 * For each task, its nearest ancestor for which has() holds, or -1: one
 * pass in pstree order (a parent comes before its children), so a chain
 * of any depth costs O(n), not a walk per task.
 */
static long *nearest_ancestors(dump *d, bool (*has)(dump *d, const dtask *t))
{
	const dtask *t = DV(d->tasks, dtask);
	long *near = malloc((d->tasks.n ? d->tasks.n : 1) * sizeof(*near));

	if (!near) {
		dump_oom(d, "the process tree");
		return NULL;
	}
	for (size_t i = 0; i < d->tasks.n; i++) {
		long p = t[i].parent;
		/* check_tree() links a task only to an earlier one */
		near[i] = p < 0 ? -1 : has(d, &t[p]) ? p : near[p];
	}
	return near;
}

static bool has_ids(dump *d, const dtask *t)
{
	return dump_task_ids(d, t) != NULL;
}

static bool has_cg_set(dump *d, const dtask *t)
{
	return t->core >= 0 && DV(d->cores, dcore)[t->core].has_cg_set;
}

/* ---- namespaces ------------------------------------------------------------------- */

/* The images a dumped namespace of each kind must have, and may have. */
static const char *const ns_required[DNS_COUNT] = {
	[DNS_NET] = "netns-", [DNS_IPC] = "ipcns-var-", [DNS_UTS] = "utsns-",
	[DNS_MNT] = "mountpoints-", [DNS_USER] = "userns-", [DNS_TIME] = "timens-",
};
static const char *const ns_optional_net[] = {
	"netdev-", "ifaddr-", "route-", "route6-", "rule-", "iptables-", "ip6tables-",
	"nftables-", "netns-ct-", "netns-exp-", NULL
};
static const char *const ns_optional_ipc[] = { "ipcns-shm-", "ipcns-msg-", "ipcns-sem-", NULL };
static const char *const ns_optional_pid[] = { "pidns-", NULL };
/* Each list ends with NULL. */
static const char *const *const ns_optional[DNS_COUNT] = {
	[DNS_NET] = ns_optional_net, [DNS_IPC] = ns_optional_ipc, [DNS_PID] = ns_optional_pid,
};

static void ref_ns_images(dump *d, int kind, uint32_t id, long at_img, uint32_t pid)
{
	for (const char *const *opt = ns_optional[kind]; opt && *opt; opt++)
		dump_ref(d, *opt, id, false);
	if (!ns_required[kind])
		return;
	if (dump_ref(d, ns_required[kind], id, false))
		return;
	/*
	 * A network namespace that was external at dump time (runc marks a
	 * container's as such) is not dumped, and restore takes it from its
	 * options (criu/net.c: an external netns is joined, not created): the
	 * images cannot tell, so it is a warning, not a verdict.  podman's
	 * checkpoints have none.
	 */
	if (kind == DNS_NET)
		dump_report(d, at_img, SV_NONE, NULL, CD_NS_NET_OUTSIDE, SV_NONE,
			    "task %" PRIu32 " is in its own net namespace %" PRIu32
			    " (inventory.img root_ids has %" PRIu32 "), but netns-%" PRIu32
			    ".img is absent: restore works only when that namespace is "
			    "given from outside (--external net[...]), as container engines do",
			    pid, id, d->root_ids.ns[kind], id);
	else
		dump_report(d, at_img, SV_NONE, NULL, CD_NS_IMAGE_MISSING, SV_NONE,
			    "task %" PRIu32 " is in its own %s namespace %" PRIu32
			    " (inventory.img root_ids has %" PRIu32 "), but %s%" PRIu32
			    ".img is absent", pid, dump_ns_names[kind], id,
			    d->root_ids.ns[kind], ns_required[kind], id);
}

static long ids_img(dump *d, const dtask *t)
{
	if (t->ids >= 0)
		return img_of(d, "ids-", t->pid);
	return t->core >= 0 ? DV(d->cores, dcore)[t->core].img : -1;
}

void dump_check_ns(dump *d)
{
	dtask *t = DV(d->tasks, dtask);
	const dids *root = NULL;
	long root_task = -1;
	unsigned dumped = 0;

	for (size_t i = 0; i < d->tasks.n; i++)
		if (t[i].ppid == 0 && t[i].live) {
			root = dump_task_ids(d, &t[i]);
			root_task = (long)i;
			break;
		}
	if (!root || !d->has_root_ids)
		return;
	if (!d->ns_per_id) {
		/* Before ns_per_id, namespace images were named by the root pid. */
		for (int k = 0; k < DNS_COUNT; k++)
			if (ns_required[k])
				dump_ref(d, ns_required[k], t[root_task].pid, false);
		for (int k = 0; k < DNS_COUNT; k++)
			for (const char *const *opt = ns_optional[k]; opt && *opt; opt++)
				dump_ref(d, *opt, t[root_task].pid, false);
		return;
	}
	for (int k = 0; k < DNS_COUNT; k++) {
		unsigned bit = 1u << k;
		if (!(root->ns_has & bit) || !(d->root_ids.ns_has & bit))
			continue;
		if (root->ns[k] != d->root_ids.ns[k]) {
			dumped |= bit;
			ref_ns_images(d, k, root->ns[k], ids_img(d, &t[root_task]), t[root_task].pid);
		}
	}
	/* CRIU writes timens-0.img when the time namespace is the host's. */
	if (!(dumped & (1u << DNS_TIME)))
		dump_ref(d, "timens-", 0, false);

	long *near = nearest_ancestors(d, has_ids);
	if (!near)
		return;
	for (size_t i = 0; i < d->tasks.n && !sv_stopped(d->cx); i++) {
		if (!t[i].live || t[i].parent < 0)
			continue;
		const dids *mine = dump_task_ids(d, &t[i]);
		const dids *up = near[i] >= 0 ? dump_task_ids(d, &t[near[i]]) : NULL;
		if (!mine || !up)
			continue;
		for (int k = 0; k < DNS_COUNT; k++) {
			unsigned bit = 1u << k;
			if (k == DNS_CGROUP || !(mine->ns_has & bit) || !(up->ns_has & bit) ||
			    mine->ns[k] == up->ns[k])
				continue;
			/* Only mount and network namespaces nest, and only when the
			 * root task has its own of that kind (CLONE_SUBNS). */
			if ((k == DNS_MNT || k == DNS_NET) && (dumped & bit)) {
				ref_ns_images(d, k, mine->ns[k], ids_img(d, &t[i]), t[i].pid);
				continue;
			}
			dump_report(d, ids_img(d, &t[i]), 0, "task_kobj_ids_entry", CD_NS_CHILD,
				    SV_NONE, "task %" PRIu32 " is in %s namespace %" PRIu32
				    ", its parent %" PRIu32 " in %" PRIu32 "%s (CRIU: can't "
				    "restore sub-task in NS)", t[i].pid, dump_ns_names[k],
				    mine->ns[k], t[t[i].parent].pid, up->ns[k],
				    (k == DNS_MNT || k == DNS_NET) ?
				    "; nested only when the root task has its own" : "");
		}
	}
	free(near);
}

/* ---- cgroups -------------------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

void dump_check_cgroups(dump *d)
{
	dtask *t = DV(d->tasks, dtask);
	dcore *cores = DV(d->cores, dcore);
	long *near;

	if (DUMP_UNSURE(d, CGROUP) || DUMP_CAPPED(d->cgsets))
		return; /* the sets may be in what could not be read or kept */
	near = nearest_ancestors(d, has_cg_set);
	if (!near)
		return;
	dump_sort(&d->cgsets, sizeof(uint32_t), cmp_u32);
	for (size_t i = 0; i < d->tasks.n && !sv_stopped(d->cx); i++) {
		if (!t[i].live || t[i].core < 0 || !cores[t[i].core].has_cg_set)
			continue;
		uint32_t set = cores[t[i].core].cg_set;
		bool inherited_known = false;
		uint32_t inherited = 0;

		if (set == 0)
			continue;
		if (near[i] >= 0) {
			inherited = cores[t[near[i]].core].cg_set;
			inherited_known = true;
		}
		if (!inherited_known && t[i].parent < 0 && d->has_root_cg_set) {
			inherited = d->root_cg_set;
			inherited_known = true;
		}
		if (inherited_known && inherited == set)
			continue;
		if (d->cgsets.n && bsearch(&set, d->cgsets.v, d->cgsets.n, sizeof(uint32_t), cmp_u32))
			continue;
		dump_report(d, cores[t[i].core].img, 0, "core_entry", CD_CGROUP_SET, SV_NONE,
			    "task %" PRIu32 " is in cgroup set %" PRIu32 ", which is not %s's "
			    "(%" PRIu32 ") and not in cgroup.img%s", t[i].pid, set,
			    t[i].parent < 0 ? "CRIU's own (inventory root_cg_set)" : "its parent",
			    inherited, d->have_cgroup ? "" : " (cgroup.img is absent)");
	}
	free(near);
}
