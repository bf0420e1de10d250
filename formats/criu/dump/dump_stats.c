/*
 * The summary of a dump for --verbose and --json (what crit x ps, fds,
 * mems and rss show, and stats-dump): figures under dotted keys, and one
 * record per task of pstree.img.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define CRIU_DUMP_INTERNAL
#include "formats/criu/dump/dump.h"
#include "formats/criu/schema/schema.h"
#include "formats/criu/schema/linux.h"

static const char *task_state(const dump *d, const dtask *t)
{
	if (t->core < 0)
		return "unknown";
	const dcore *c = &DV(d->cores, dcore)[t->core];
	if (!c->has_tc)
		return "unknown";
	switch (c->task_state) {
	case CRIU_TASK_ALIVE: return "alive";
	case CRIU_TASK_DEAD: return "zombie";
	case CRIU_TASK_STOPPED: return "stopped";
	default: return "unknown";
	}
}

static void emit_tasks(dump *d)
{
	dimg *pst = dump_find(d, "pstree.img");
	const dtask *t = DV(d->tasks, dtask);
	uint64_t live = 0, zombies = 0, stopped = 0, threads = 0;

	for (size_t i = 0; i < d->tasks.n; i++) {
		const char *state = task_state(d, &t[i]);
		const char *comm = t[i].core >= 0 ? DV(d->cores, dcore)[t[i].core].comm : "";

		if (strcmp(state, "zombie") == 0)
			zombies++;
		else
			live++;
		if (strcmp(state, "stopped") == 0)
			stopped++;
		if (strcmp(state, "zombie") != 0)
			threads += t[i].nthreads;
		sv_set_file(d->cx, pst ? pst->path : NULL);
		sv_emit_record(d->cx, t[i].index, "task", t[i].offset, 0,
			       "pid=%" PRIu32 " ppid=%" PRIu32 " pgid=%" PRIu32 " sid=%" PRIu32
			       " state=%s threads=%zu comm=%s", t[i].pid, t[i].ppid, t[i].pgid,
			       t[i].sid, state, strcmp(state, "zombie") ? t[i].nthreads : (size_t)0,
			       comm);
		sv_set_file(d->cx, NULL);
	}
	sv_emit_stat_u64(d->cx, "tasks.count", d->tasks.n);
	sv_emit_stat_u64(d->cx, "tasks.live", live);
	sv_emit_stat_u64(d->cx, "tasks.stopped", stopped);
	sv_emit_stat_u64(d->cx, "tasks.zombies", zombies);
	sv_emit_stat_u64(d->cx, "tasks.threads", threads);
}

static void emit_files(dump *d)
{
	uint64_t by_type[20] = { 0 }, other = 0;
	const dfile *f = DV(d->files, dfile);
	char key[64];

	sv_emit_stat_u64(d->cx, "files.count", d->files.n);
	sv_emit_stat_u64(d->cx, "files.fds", d->fds.n);
	for (size_t k = 0; k < d->files.n; k++) {
		if (f[k].type < 20)
			by_type[f[k].type]++;
		else
			other++;
	}
	for (uint32_t t = 0; t < 20; t++)
		if (by_type[t]) {
			snprintf(key, sizeof(key), "files.type.%s", dump_fd_type_name(t));
			sv_emit_stat_u64(d->cx, key, by_type[t]);
		}
	if (other)
		sv_emit_stat_u64(d->cx, "files.type.other", other);
}

static const char *family_name(uint32_t family)
{
	switch (family) {
	case CRIU_AF_UNIX: return "unix";
	case CRIU_AF_INET: return "inet";
	case CRIU_AF_INET6: return "inet6";
	case CRIU_AF_NETLINK: return "netlink";
	case CRIU_AF_PACKET: return "packet";
	default: return "other";
	}
}

static const char *sk_state_name(uint32_t state)
{
	static const char *const names[CRIU_TCP_STATE_COUNT] = {
		"0", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
		"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING"
	};
	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "other";
}

static void emit_sockets(dump *d)
{
	/*
	 * family x state counts: the known families, then the others; the
	 * TCP states, then one count for any state above them.
	 */
	static const uint32_t families[] = { CRIU_AF_UNIX, CRIU_AF_INET, CRIU_AF_INET6,
					     CRIU_AF_NETLINK, CRIU_AF_PACKET, 0 };
	enum { N_FAMILIES = sizeof(families) / sizeof(families[0]), OTHER_FAMILY = N_FAMILIES - 1,
	       OTHER_STATE = CRIU_TCP_STATE_COUNT };
	uint64_t counts[N_FAMILIES][OTHER_STATE + 1] = { { 0 } };
	uint64_t total = 0;
	const dfile *f = DV(d->files, dfile);
	char key[96];

	for (size_t k = 0; k < d->files.n; k++) {
		uint32_t t = f[k].type;
		if (t != FD_TYPES__UNIXSK && t != FD_TYPES__INETSK && t != FD_TYPES__PACKETSK &&
		    t != FD_TYPES__NETLINKSK)
			continue;
		size_t fi = OTHER_FAMILY;
		for (size_t j = 0; j < OTHER_FAMILY; j++)
			if (families[j] == f[k].family)
				fi = j;
		counts[fi][f[k].state < OTHER_STATE ? f[k].state : OTHER_STATE]++;
		total++;
	}
	sv_emit_stat_u64(d->cx, "sockets.count", total);
	for (size_t fi = 0; fi < N_FAMILIES; fi++)
		for (uint32_t s = 0; s <= OTHER_STATE; s++)
			if (counts[fi][s]) {
				snprintf(key, sizeof(key), "sockets.%s.%s",
					 family_name(families[fi]), sk_state_name(s));
				sv_emit_stat_u64(d->cx, key, counts[fi][s]);
			}
}

static void emit_memory(dump *d)
{
	uint64_t vma_bytes = 0, present = 0, parent = 0, lazy = 0;
	uint64_t sh_present = 0, sh_parent = 0, sh_lazy = 0, stored = 0;

	for (size_t k = 0; k < d->vmas.n; k++) {
		const dvma *v = &DV(d->vmas, dvma)[k];
		if (v->end > v->start)
			vma_bytes += v->end - v->start;
	}
	for (size_t k = 0; k < d->pagemaps.n; k++) {
		const dpagemap *pm = &DV(d->pagemaps, dpagemap)[k];
		if (pm->shmem) {
			sh_present += pm->present;
			sh_parent += pm->parent;
			sh_lazy += pm->lazy;
		} else {
			present += pm->present;
			parent += pm->parent;
			lazy += pm->lazy;
		}
	}
	for (size_t k = 0; k < d->imgs.n; k++) {
		const dimg *i = &DV(d->imgs, dimg)[k];
		if (i->verified && i->info.type && i->info.type->id == CRIU_T_PAGES)
			stored += i->info.raw_bytes;
	}
	sv_emit_stat_u64(d->cx, "memory.mms", d->mms.n);
	sv_emit_stat_u64(d->cx, "memory.vmas", d->vmas.n);
	sv_emit_stat_u64(d->cx, "memory.vma_bytes", vma_bytes);
	sv_emit_stat_u64(d->cx, "memory.pages.present", present);
	sv_emit_stat_u64(d->cx, "memory.pages.parent", parent);
	sv_emit_stat_u64(d->cx, "memory.pages.lazy", lazy);
	sv_emit_stat_u64(d->cx, "memory.bytes.present", present * CRIU_PAGE_SIZE);
	sv_emit_stat_u64(d->cx, "memory.shmem.pages.present", sh_present);
	sv_emit_stat_u64(d->cx, "memory.shmem.pages.parent", sh_parent);
	sv_emit_stat_u64(d->cx, "memory.shmem.pages.lazy", sh_lazy);
	sv_emit_stat_u64(d->cx, "memory.pages_files.bytes", stored);
}

static void emit_namespaces(dump *d)
{
	const dtask *root = NULL;
	char list[128] = "";

	for (size_t i = 0; i < d->tasks.n; i++)
		if (DV(d->tasks, dtask)[i].ppid == 0) {
			root = &DV(d->tasks, dtask)[i];
			break;
		}
	const dids *ids = root ? dump_task_ids(d, root) : NULL;
	if (!ids || !d->has_root_ids)
		return;
	for (int k = 0; k < DNS_COUNT; k++) {
		unsigned bit = 1u << k;
		char key[48];
		if (!(ids->ns_has & bit))
			continue;
		snprintf(key, sizeof(key), "namespaces.%s", dump_ns_names[k]);
		bool own = (d->root_ids.ns_has & bit) && d->root_ids.ns[k] != ids->ns[k];
		sv_emit_stat(d->cx, key, "%" PRIu32 " (%s)", ids->ns[k], own ? "dumped" : "host's");
		if (own) {
			size_t n = strlen(list);
			snprintf(list + n, sizeof(list) - n, "%s%s", n ? " " : "", dump_ns_names[k]);
		}
	}
	sv_emit_stat(d->cx, "namespaces.dumped", "%s", list[0] ? list : "none");
}

static void emit_dump_stats(dump *d)
{
	static const char *const names[14] = {
		"freezing_time", "frozen_time", "memdump_time", "memwrite_time",
		"pages_scanned", "pages_skipped_parent", "pages_written", "irmap_resolve",
		"pages_lazy", "page_pipes", "page_pipe_bufs", "shpages_scanned",
		"shpages_skipped_parent", "shpages_written"
	};
	char key[64];

	if (!d->have_stats)
		return;
	for (int k = 0; k < 14; k++)
		if (d->stats_has[k]) {
			snprintf(key, sizeof(key), "stats.dump.%s", names[k]);
			sv_emit_stat_u64(d->cx, key, d->stats[k]);
		}
}

void dump_emit_stats(dump *d)
{
	static const char *const kinds[] = { "none", "dump", "pre-dump", "cpuinfo" };
	size_t shmem = 0;

	if (!sv_want_records(d->cx))
		return;
	sv_set_file(d->cx, NULL);
	sv_emit_stat(d->cx, "dump.kind", "%s", kinds[d->kind]);
	sv_emit_stat_u64(d->cx, "dump.images", d->imgs.n);
	if (d->have_inventory)
		sv_emit_stat_u64(d->cx, "dump.img_version", d->img_version);
	if (d->kind == DUMP_FULL) {
		emit_tasks(d);
		emit_files(d);
		emit_sockets(d);
		emit_namespaces(d);
		dump_emit_plugins(d);
	}
	if (d->kind == DUMP_FULL || d->kind == DUMP_PRE) {
		for (size_t k = 0; k < d->pagemaps.n; k++)
			shmem += DV(d->pagemaps, dpagemap)[k].shmem;
		emit_memory(d);
		sv_emit_stat_u64(d->cx, "memory.shmem.pagemaps", shmem);
	}
	emit_dump_stats(d);
}
