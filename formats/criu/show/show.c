/*
 * `streamverify show`: what a CRIU checkpoint holds, as a tree for people
 * or as JSON (docs/show-schema.json) for programs; findings of the
 * verification made in the same pass come first.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "formats/criu/show/show.h"
#include "formats/criu/schema/images.h"
#include "formats/criu/schema/schema.h"
#include "formats/criu/schema/linux.h"

/* ---- escaping ----------------------------------------------------------------- */

/* Length of a valid UTF-8 sequence at s (n bytes left), 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* C1 controls (U+0080..U+009F) and bidi overrides change how a terminal shows text. */
static bool unsafe_cp(const unsigned char *s, size_t len)
{
	if (len == 2 && s[0] == 0xc2 && s[1] < 0xa0)
		return true;
	/* U+202A..U+202E, U+2066..U+2069 */
	if (len == 3 && s[0] == 0xe2 && s[1] == 0x80 && s[2] >= 0xaa && s[2] <= 0xae)
		return true;
	return len == 3 && s[0] == 0xe2 && s[1] == 0x81 && s[2] >= 0xa6 && s[2] <= 0xa9;
}

void show_put_escaped(FILE *f, const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		size_t len = utf8_len(s + i, n - i);
		if (len == 1 && c >= 0x20 && c != 0x7f && c != '\\') {
			fputc((int)c, f);
		} else if (c == '\\') {
			fputs("\\\\", f);
		} else if (len > 1 && !unsafe_cp(s + i, len)) {
			fwrite(s + i, 1, len, f);
		} else if (len > 1) {
			for (size_t k = 0; k < len; k++)
				fprintf(f, "\\x%02x", s[i + k]);
		} else {
			fprintf(f, "\\x%02x", c);
			len = 1;
		}
		i += len;
	}
}

void show_put_str(FILE *f, const char *s)
{
	show_put_escaped(f, (const unsigned char *)(s ? s : ""), s ? strlen(s) : 0);
}

void show_json_bytes(FILE *f, const unsigned char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		size_t len = utf8_len(s + i, n - i);
		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc((int)c, f);
		} else if (len == 1 && c >= 0x20 && c != 0x7f) {
			fputc((int)c, f);
		} else if (len > 1) {
			fwrite(s + i, 1, len, f);
			i += len;
			continue;
		} else {
			fprintf(f, "\\u%04x", c);
		}
		i++;
	}
	fputc('"', f);
}

static void json_str(FILE *f, const char *s)
{
	if (!s)
		fputs("null", f);
	else
		show_json_bytes(f, (const unsigned char *)s, strlen(s));
}

/* ---- names ---------------------------------------------------------------------- */

const char *show_state_name(uint32_t state)
{
	switch (state) {
	case CRIU_TASK_ALIVE: return "running";
	case CRIU_TASK_DEAD: return "zombie";
	case CRIU_TASK_STOPPED: return "stopped";
	case CRIU_TASK_HELPER: return "dead";
	default: return "unknown";
	}
}

const char *show_fd_kind(uint32_t type)
{
	static const char *const k[] = {
		"unknown", "file", "pipe", "fifo", "inet", "unix", "eventfd", "epoll",
		"inotify", "signalfd", "packet", "tty", "fanotify", "netlink", "ns", "tun",
		"external", "timerfd", "memfd", "bpfmap"
	};
	if (type < sizeof(k) / sizeof(k[0]))
		return k[type];
	if (type == 65534)
		return "ctl-tty";
	if (type == 65535)
		return "autofs-pipe";
	return "unknown";
}

const char *show_family_name(uint32_t family)
{
	switch (family) {
	case CRIU_AF_UNIX: return "unix";
	case CRIU_AF_INET: return "inet";
	case CRIU_AF_INET6: return "inet6";
	case CRIU_AF_NETLINK: return "netlink";
	case CRIU_AF_PACKET: return "packet";
	default: return "unknown";
	}
}

const char *show_sktype_name(uint32_t type)
{
	switch (type) {
	case CRIU_SOCK_STREAM: return "stream";
	case CRIU_SOCK_DGRAM: return "dgram";
	case CRIU_SOCK_RAW: return "raw";
	case CRIU_SOCK_RDM: return "rdm";
	case CRIU_SOCK_SEQPACKET: return "seqpacket";
	case CRIU_SOCK_PACKET: return "packet";
	default: return "unknown";
	}
}

const char *show_skstate_name(uint32_t state)
{
	static const char *const s[] = {
		"unknown", "established", "syn-sent", "syn-recv", "fin-wait1", "fin-wait2",
		"time-wait", "close", "close-wait", "last-ack", "listen", "closing"
	};
	return state < sizeof(s) / sizeof(s[0]) ? s[state] : "unknown";
}

void show_format_addr(char *buf, size_t size, const uint32_t *a, size_t n)
{
	unsigned char b[16];

	if (n == 1) {
		memcpy(b, a, 4);
		snprintf(buf, size, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
		return;
	}
	if (n != 4) {
		snprintf(buf, size, "%s", n ? "?" : "");
		return;
	}
	memcpy(b, a, 16);
	/* IPv4-mapped */
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (memcmp(b, mapped, 12) == 0) {
		snprintf(buf, size, "::ffff:%u.%u.%u.%u", b[12], b[13], b[14], b[15]);
		return;
	}
	/* the longest run of zero groups becomes :: */
	unsigned g[8];
	int best = -1, bestlen = 0;
	for (int i = 0; i < 8; i++)
		g[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > bestlen && j - i > 1) {
			best = i;
			bestlen = j - i;
		}
		i = j > i ? j : i + 1;
	}
	size_t o = 0;
	buf[0] = '\0';
	for (int i = 0; i < 8 && o < size; i++) {
		if (i == best) {
			o += (size_t)snprintf(buf + o, size - o, "::");
			i += bestlen - 1;
			continue;
		}
		o += (size_t)snprintf(buf + o, size - o, "%s%x",
				      (i && i != best + bestlen) ? ":" : "", g[i]);
	}
}

static const show_queue *queue_of(const show_dump *d, const show_file *f)
{
	/* TCP streams by inode (tcp-stream-INO), other sockets' packets by id */
	if ((f->family == CRIU_AF_INET || f->family == CRIU_AF_INET6) && f->type == FD_TYPES__INETSK) {
		const show_queue *q = show_queue_find(d, true, f->ino);
		if (q)
			return q;
	}
	return show_queue_find(d, false, f->id);
}

static bool is_deleted(const show_dump *d, const show_file *f)
{
	const show_remap *r = show_remap_find(d, f->id);
	return r && r->type == REMAP_TYPE__GHOST;
}

/* The entry with the path of fe: itself, or a FIFO's regular-file entry. */
static const show_file *path_entry(const show_dump *d, const show_file *fe)
{
	const show_file *r;

	if (fe->type != FD_TYPES__FIFO)
		return fe;
	r = show_file_find_type(d, fe->regf_id, FD_TYPES__REG);
	return r ? r : fe;
}

void show_file_target(FILE *f, const show_dump *d, const show_file *fe, bool json)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	char a[64], b[64];

	if (!m)
		return;
	switch (fe->type) {
	case FD_TYPES__REG:
	case FD_TYPES__FIFO: {
		const show_file *r = path_entry(d, fe);
		fputs(r->path ? r->path : "?", m);
		if (is_deleted(d, r))
			fputs(" (deleted)", m);
		if (fe->type == FD_TYPES__FIFO)
			fprintf(m, " pipe:[%u]", fe->pipe_id);
		break;
	}
	case FD_TYPES__PIPE:
		fprintf(m, "pipe:[%u]", fe->pipe_id);
		break;
	case FD_TYPES__INETSK:
		show_format_addr(a, sizeof(a), fe->src_addr, fe->nsrc);
		show_format_addr(b, sizeof(b), fe->dst_addr, fe->ndst);
		fprintf(m, "%s %s %s%s%s:%u",
			fe->proto == CRIU_IPPROTO_TCP ? "tcp" : fe->proto == CRIU_IPPROTO_UDP ? "udp" :
			fe->proto == CRIU_IPPROTO_UDPLITE ? "udplite" : "ip", show_skstate_name(fe->state),
			fe->family == CRIU_AF_INET6 ? "[" : "", a, fe->family == CRIU_AF_INET6 ? "]" : "",
			fe->src_port);
		if (fe->state != 10 && fe->dst_port)
			fprintf(m, " -> %s%s%s:%u", fe->family == CRIU_AF_INET6 ? "[" : "", b,
				fe->family == CRIU_AF_INET6 ? "]" : "", fe->dst_port);
		fprintf(m, " ino %u", fe->ino);
		break;
	case FD_TYPES__UNIXSK:
		fprintf(m, "unix %s %s ino %u", show_sktype_name(fe->sktype),
			show_skstate_name(fe->state), fe->ino);
		if (fe->peer)
			fprintf(m, " peer %u", fe->peer);
		if (fe->name_len) {
			fputs(" ", m);
			if (fe->name[0] == '\0') {
				fputc('@', m);
				fwrite(fe->name + 1, 1, fe->name_len - 1, m);
			} else {
				fwrite(fe->name, 1, fe->name_len, m);
			}
		}
		break;
	case FD_TYPES__PACKETSK:
		fprintf(m, "packet %s proto 0x%04x", show_sktype_name(fe->sktype), fe->proto);
		break;
	case FD_TYPES__NETLINKSK:
		fprintf(m, "netlink proto %u port %u ino %u", fe->proto, fe->nl_portid, fe->ino);
		break;
	case FD_TYPES__EVENTFD:
		fprintf(m, "eventfd counter %" PRIu64, fe->counter);
		break;
	case FD_TYPES__SIGNALFD:
		fprintf(m, "signalfd mask 0x%" PRIx64, fe->sigmask);
		break;
	case FD_TYPES__TIMERFD:
		fprintf(m, "timerfd clock %u", fe->clockid);
		break;
	case FD_TYPES__TTY:
		fprintf(m, "tty %u", fe->tty_info);
		break;
	case FD_TYPES__MEMFD:
		fprintf(m, "memfd:%s", fe->path ? fe->path : "?");
		break;
	case FD_TYPES__TUNF:
		fprintf(m, "tun %s", fe->path ? fe->path : "");
		break;
	case FD_TYPES__NS:
		fprintf(m, "ns %u", fe->ino);
		break;
	case FD_TYPES__EVENTPOLL:
		fprintf(m, "epoll%s%s", fe->path ? " " : "", fe->path ? fe->path : "");
		break;
	default:
		fputs(show_fd_kind(fe->type), m);
		break;
	}
	if (fclose(m) != 0) {
		free(text);
		return;
	}
	if (json)
		show_json_bytes(f, (unsigned char *)text, len);
	else
		show_put_escaped(f, (unsigned char *)text, len);
	free(text);
}

/* ---- findings, collected while verifying ------------------------------------- */

#define SHOW_MAX_FINDINGS 1000

typedef struct finding {
	char *file, *msg;
	const char *code, *severity;
	uint64_t offset;
} finding;

typedef struct findings {
	finding *v;
	size_t n, dropped;
} findings;

static void on_diag(void *ctx, const sv_diag *dg)
{
	findings *fs = ctx;
	finding *v;

	if (fs->n >= SHOW_MAX_FINDINGS || !(v = realloc(fs->v, (fs->n + 1) * sizeof(*v)))) {
		fs->dropped++;
		return;
	}
	fs->v = v;
	v[fs->n].file = strdup(dg->file ? dg->file : "");
	v[fs->n].msg = strdup(dg->message ? dg->message : "");
	v[fs->n].code = dg->code->id;
	v[fs->n].severity = sv_severity_name(dg->severity);
	v[fs->n].offset = dg->offset;
	if (!v[fs->n].file || !v[fs->n].msg) {
		free(v[fs->n].file);
		free(v[fs->n].msg);
		fs->dropped++;
		return;
	}
	fs->n++;
}

static void findings_free(findings *fs)
{
	for (size_t i = 0; i < fs->n; i++) {
		free(fs->v[i].file);
		free(fs->v[i].msg);
	}
	free(fs->v);
}

/* ---- the show run ------------------------------------------------------------------ */

enum {
	SEC_PS = 1, SEC_FILES = 2, SEC_MEM = 4, SEC_SOCKETS = 8, SEC_MOUNTS = 16,
	SEC_STATS = 32, SEC_ALL = 63
};

typedef struct show_opts {
	unsigned sections;
	bool env, json, have_pid;
	uint32_t pid;
} show_opts;

/* Collect path; findings in fs; returns the run status (SV_EXIT_*), *dp the model. */
int show_load(const char *path, bool hash, findings *fs, show_dump **dp, sv_summary *sum);
int show_load(const char *path, bool hash, findings *fs, show_dump **dp, sv_summary *sum)
{
	sv_sink sink = { fs, on_diag, NULL, NULL, NULL };
	show_dump *d = show_dump_new(path, hash);
	int st;

	*dp = d;
	if (!d) {
		fprintf(stderr, "streamverify: out of memory\n");
		return SV_EXIT_FAILURE;
	}
	st = show_run(path, &sink, d, sum);
	return st;
}

/* ARCHIVE:pre-checkpoint names the pre-dump of a container archive (podman --with-previous). */
#define PRE_SUFFIX ":pre-checkpoint"

/*
 * show_load() for a checkpoint as the command line names it: a path, or
 * ARCHIVE:pre-checkpoint (when no file has that name) for the archive's
 * pre-checkpoint/ dump, which is then the model returned.
 */
static int load_named(const char *name, bool hash, findings *fs, show_dump **dp, sv_summary *sum)
{
	size_t n = strlen(name), k = strlen(PRE_SUFFIX);
	struct stat st;
	char *path;

	if (n <= k || strcmp(name + n - k, PRE_SUFFIX) != 0 || stat(name, &st) == 0)
		return show_load(name, hash, fs, dp, sum);
	if (!(path = strndup(name, n - k))) {
		*dp = NULL;
		fprintf(stderr, "streamverify: out of memory\n");
		return SV_EXIT_FAILURE;
	}
	int r = show_load(path, hash, fs, dp, sum);
	show_dump *d = *dp, *pre = d ? d->pre_ckpt : NULL;
	if (d && !pre && r != SV_EXIT_FAILURE) {
		fprintf(stderr, "streamverify: %s holds no pre-checkpoint/ folder\n", path);
		r = SV_EXIT_FAILURE;
	}
	free(path);
	if (!pre) {
		show_dump_free(d);
		*dp = NULL;
		return r;
	}
	/* the pre-dump alone: detached from the container's model */
	d->pre_ckpt = NULL;
	if (d->pre_is_parent) {
		d->parent = NULL;
		d->pre_is_parent = false;
	}
	show_dump_free(d);
	*dp = pre;
	return r;
}

static bool selected(const show_opts *o, const show_task *t)
{
	return !o->have_pid || t->pid == o->pid;
}

/* NUL-separated strings of n bytes up to the first empty one / the end. */
static void put_args(FILE *f, const unsigned char *p, size_t n, bool json)
{
	size_t i = 0;
	bool first = true;

	if (json)
		fputc('[', f);
	while (i < n) {
		const unsigned char *z = memchr(p + i, '\0', n - i);
		size_t len = z ? (size_t)(z - (p + i)) : n - i;
		if (len == 0 && z && !json)
			break;
		if (len == 0 && z) {
			break;
		}
		if (json) {
			if (!first)
				fputc(',', f);
			show_json_bytes(f, p + i, len);
		} else {
			if (!first)
				fputc(' ', f);
			show_put_escaped(f, p + i, len);
		}
		first = false;
		i += len + 1;
	}
	if (json)
		fputc(']', f);
}

static const char *file_path(const show_dump *d, uint32_t id)
{
	const show_file *f = show_file_find(d, id);
	return f && f->type == FD_TYPES__REG ? f->path : NULL;
}

/* -- tree ---------------------------------------------------------------------------- */

typedef struct treectx {
	show_dump *d;
	const size_t *order;
	size_t *kids;            /* order sorted by ppid */
	bool *seen;
	size_t n;
	FILE *f;
	const show_opts *o;
	char prefix[256];
} treectx;

static void task_comm(FILE *f, const show_task *t)
{
	show_put_str(f, t->comm ? t->comm : "?");
}

static void print_task_line(treectx *c, const show_task *t, const char *branch)
{
	FILE *f = c->f;
	fprintf(f, "%8u %8u %-8s %3zu  %s%s", t->pid, t->ppid,
		t->have_core ? show_state_name(t->state) : "?", t->ntids, c->prefix, branch);
	if (t->args && t->args_len && t->args[0]) {
		put_args(f, t->args, t->args_len, false);
		if (!t->args_done)
			fputs(" [incomplete]", f);
	} else {
		fputc('[', f);
		task_comm(f, t);
		fputc(']', f);
	}
	fputc('\n', f);
	if (c->o->env && t->env && t->env_len) {
		const unsigned char *p = t->env;
		size_t i = 0, n = t->env_len;
		while (i < n) {
			const unsigned char *z = memchr(p + i, '\0', n - i);
			size_t len = z ? (size_t)(z - (p + i)) : n - i;
			if (len == 0)
				break;
			fprintf(f, "%8s %8s %-8s %3s  %s    env ", "", "", "", "", c->prefix);
			show_put_escaped(f, p + i, len);
			fputc('\n', f);
			i += len + 1;
		}
	}
}

/* Tasks of the tree sorted by parent (then pstree order): a task's children in a range. */
static int cmp_ppid(const void *a, const void *b, void *arg)
{
	const show_task *t = arg;
	const show_task *x = &t[*(const size_t *)a], *y = &t[*(const size_t *)b];
	if (x->ppid != y->ppid)
		return x->ppid < y->ppid ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

#define TREE_MAX_DEPTH 100

static void print_children(treectx *c, uint32_t ppid, int depth)
{
	const show_task *ts = c->d->tasks.v;
	size_t a = 0, b, hi = c->n;

	/* the range of ppid's children in c->kids */
	while (a < hi) {
		size_t m = a + (hi - a) / 2;
		if (ts[c->kids[m]].ppid < ppid)
			a = m + 1;
		else
			hi = m;
	}
	for (b = a; b < c->n && ts[c->kids[b]].ppid == ppid; b++)
		;
	for (size_t i = a; i < b; i++) {
		size_t k = c->kids[i];
		show_task *t = &SVV(c->d->tasks, show_task)[k];
		bool last = i + 1 == b;
		if (c->seen[k] || t->pid == ppid)
			continue;
		c->seen[k] = true;
		size_t plen = strlen(c->prefix);
		print_task_line(c, t, last ? "└─ " : "├─ ");
		if (depth < TREE_MAX_DEPTH && plen + 8 < sizeof(c->prefix)) {
			strcat(c->prefix, last ? "   " : "│  ");
			print_children(c, t->pid, depth + 1);
			c->prefix[plen] = '\0';
		}
	}
}

static void tree_ps(treectx *c)
{
	fprintf(c->f, "\nProcesses\n%8s %8s %-8s %3s  %s\n", "PID", "PPID", "STATE", "THR",
		"COMMAND");
	if (c->o->have_pid) {
		show_task *t = show_task_find(c->d, c->o->pid);
		if (t && t->in_pstree)
			print_task_line(c, t, "");
		return;
	}
	/* roots: tasks whose parent is not in the dump */
	for (size_t i = 0; i < c->n; i++) {
		show_task *t = &SVV(c->d->tasks, show_task)[c->order[i]];
		show_task *p = show_task_find(c->d, t->ppid);
		if ((p && p->in_pstree && p != t) || c->seen[c->order[i]])
			continue;
		c->seen[c->order[i]] = true;
		c->prefix[0] = '\0';
		print_task_line(c, t, "");
		print_children(c, t->pid, 0);
	}
	/* what no root reaches: parents in a cycle, or deeper than shown */
	bool head = false;
	for (size_t i = 0; i < c->n; i++) {
		show_task *t = &SVV(c->d->tasks, show_task)[c->order[i]];
		if (c->seen[c->order[i]])
			continue;
		if (!head)
			fputs("  (not reached from a root: a cycle of parents, or deeper than "
			      "100 levels)\n", c->f);
		head = true;
		c->prefix[0] = '\0';
		print_task_line(c, t, "");
	}
}

/*
 * The first task before t (pstree order) with the same fd table (CLONE_FILES),
 * whose fds are then not listed again: a forged dump of many tasks sharing a
 * table of many fds must not print their product.
 */
static const show_task *same_table(const show_dump *d, const show_task *t)
{
	const show_task *ts = d->tasks.v;
	size_t a = 0, hi = d->ntask_by_files;

	if (!t->have_ids || !d->task_by_files)
		return NULL;
	/* task_by_files is sorted by files id, then pstree order: the first is the earliest */
	while (a < hi) {
		size_t m = a + (hi - a) / 2;
		if (ts[d->task_by_files[m]].files_id < t->files_id)
			a = m + 1;
		else
			hi = m;
	}
	const show_task *first = a < d->ntask_by_files ? &ts[d->task_by_files[a]] : NULL;
	return first && first->files_id == t->files_id && first != t ? first : NULL;
}

static void tree_files(treectx *c)
{
	FILE *f = c->f;
	for (size_t i = 0; i < c->n; i++) {
		show_task *t = &SVV(c->d->tasks, show_task)[c->order[i]];
		if (!selected(c->o, t) || !t->have_core || t->state == CRIU_TASK_DEAD)
			continue;
		fprintf(f, "\nFiles of %u (", t->pid);
		task_comm(f, t);
		fputs(")\n", f);
		if (t->have_fs) {
			const char *cwd = file_path(c->d, t->cwd_id), *root = file_path(c->d, t->root_id);
			fputs("  cwd   ", f);
			show_put_str(f, cwd ? cwd : "?");
			fputs("\n  root  ", f);
			show_put_str(f, root ? root : "?");
			fputc('\n', f);
		}
		if (t->have_mm && t->exe_file_id) {
			const char *exe = file_path(c->d, t->exe_file_id);
			fputs("  exe   ", f);
			show_put_str(f, exe ? exe : "?");
			fputc('\n', f);
		}
		if (!t->have_ids)
			continue;
		const show_task *same = same_table(c->d, t);
		if (same) {
			fprintf(f, "  fds   the table of %u (shared)\n", same->pid);
			continue;
		}
		fprintf(f, "  %5s  %-9s %s\n", "FD", "KIND", "TARGET");
		size_t nfds;
		const show_fd *fds = show_fds_of(c->d, t->files_id, &nfds);
		for (size_t k = 0; k < nfds; k++) {
			const show_fd *fd = &fds[k];
			const show_file *fe = show_file_find(c->d, fd->id);
			fprintf(f, "  %5u  %-9s ", fd->fd, show_fd_kind(fd->type));
			if (fe)
				show_file_target(f, c->d, fe, false);
			else
				fprintf(f, "(no file entry %u)", fd->id);
			fputc('\n', f);
		}
	}
}

static void prot_str(char *b, uint32_t prot, uint32_t flags)
{
	b[0] = prot & CRIU_PROT_READ ? 'r' : '-';
	b[1] = prot & CRIU_PROT_WRITE ? 'w' : '-';
	b[2] = prot & CRIU_PROT_EXEC ? 'x' : '-';
	b[3] = flags & CRIU_MAP_SHARED ? 's' : 'p';
	b[4] = '\0';
}

static const char *vma_kind(uint32_t status)
{
	if (status & CRIU_VMA_AREA_STACK) return "stack";
	if (status & CRIU_VMA_AREA_VSYSCALL) return "vsyscall";
	if (status & CRIU_VMA_AREA_VDSO) return "vdso";
	if (status & CRIU_VMA_AREA_VVAR) return "vvar";
	if (status & CRIU_VMA_AREA_HEAP) return "heap";
	if (status & CRIU_VMA_AREA_MEMFD) return "memfd";
	if (status & CRIU_VMA_AREA_AIORING) return "aio";
	if (status & CRIU_VMA_AREA_SOCKET) return "socket";
	if (status & CRIU_VMA_AREA_SYSVIPC) return "sysvipc";
	if (status & CRIU_VMA_FILE_PRIVATE) return "file";
	if (status & CRIU_VMA_FILE_SHARED) return "shared-file";
	if (status & CRIU_VMA_ANON_SHARED) return "shared-anon";
	if (status & CRIU_VMA_ANON_PRIVATE) return "anon";
	return "other";
}

static const char *vma_file(const show_dump *d, const show_vma *v)
{
	if (!(v->status & (CRIU_VMA_FILE_PRIVATE | CRIU_VMA_FILE_SHARED | CRIU_VMA_AREA_MEMFD)))
		return NULL;
	const show_file *f = show_file_find(d, (uint32_t)v->shmid);
	return f ? f->path : NULL;
}

static void tree_mem(treectx *c)
{
	FILE *f = c->f;
	for (size_t i = 0; i < c->n; i++) {
		show_task *t = &SVV(c->d->tasks, show_task)[c->order[i]];
		uint64_t tot[5] = { 0 };
		if (!selected(c->o, t) || !t->have_mm)
			continue;
		fprintf(f, "\nMemory of %u (", t->pid);
		task_comm(f, t);
		fputs(")\n", f);
		fprintf(f, "  %-12s %-12s %-4s %-11s %8s %8s %8s %8s %8s  %s\n", "START", "END",
			"PROT", "KIND", "PAGES", "DUMPED", "PARENT", "LAZY", "ABSENT", "FILE");
		for (size_t k = 0; k < t->nvmas; k++) {
			const show_vma *v = &t->vmas[k];
			char p[5];
			uint64_t pages = v->end > v->start ? (v->end - v->start) / CRIU_PAGE_SIZE : 0;
			uint64_t got = v->present + v->parent + v->lazy;
			uint64_t absent = pages > got ? pages - got : 0;
			prot_str(p, v->prot, v->flags);
			fprintf(f, "  %012" PRIx64 " %012" PRIx64 " %-4s %-11s %8" PRIu64 " %8" PRIu64
				" %8" PRIu64 " %8" PRIu64 " %8" PRIu64 "  ", v->start, v->end, p,
				vma_kind(v->status), pages, v->present, v->parent, v->lazy, absent);
			const char *fp = vma_file(c->d, v);
			if (fp)
				show_put_str(f, fp);
			fputc('\n', f);
			tot[0] += pages;
			tot[1] += v->present;
			tot[2] += v->parent;
			tot[3] += v->lazy;
			tot[4] += absent;
		}
		fprintf(f, "  %-12s %-12s %-4s %-11s %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
			" %8" PRIu64 "\n", "total", "", "", "", tot[0], tot[1], tot[2], tot[3], tot[4]);
	}
}

typedef struct owner_out {
	FILE *f;
	bool json, first;
} owner_out;

static void owner_one(void *arg, uint32_t pid, uint32_t fd)
{
	owner_out *o = arg;
	if (o->json)
		fprintf(o->f, "%s{\"pid\":%u,\"fd\":%u}", o->first ? "" : ",", pid, fd);
	else
		fprintf(o->f, "%s%u:%u", o->first ? "" : ",", pid, fd);
	o->first = false;
}

/* Owners of a file id: "pid:fd" list. */
static void owners(FILE *f, const show_dump *d, uint32_t id, bool json)
{
	owner_out o = { f, json, true };

	if (json)
		fputc('[', f);
	show_owners(d, id, owner_one, &o);
	if (json)
		fputc(']', f);
}

static bool is_socket(const show_file *fe)
{
	return show_is_socket(fe);
}

static void tree_sockets(treectx *c)
{
	FILE *f = c->f;
	fprintf(f, "\nSockets\n  %-7s %-9s %-11s %10s %8s  %-14s %s\n", "FAMILY", "TYPE", "STATE",
		"INODE", "QUEUED", "OWNERS", "ADDRESSES");
	for (size_t i = 0; i < c->d->files.n; i++) {
		const show_file *fe = &SVV(c->d->files, show_file)[i];
		const show_queue *q;
		if (!is_socket(fe))
			continue;
		q = queue_of(c->d, fe);
		fprintf(f, "  %-7s %-9s %-11s %10u %8" PRIu64 "  ", show_family_name(fe->family),
			show_sktype_name(fe->sktype),
			fe->type == FD_TYPES__PACKETSK ? "-" : show_skstate_name(fe->state), fe->ino,
			q ? q->bytes : 0);
		char *o = NULL;
		size_t ol = 0;
		FILE *m = open_memstream(&o, &ol);
		if (m) {
			owners(m, c->d, fe->id, false);
			if (fclose(m) == 0)
				fprintf(f, "%-14s ", o);
			free(o);
		}
		show_file_target(f, c->d, fe, false);
		fputc('\n', f);
	}
}

static const char *fstype_name(uint32_t t)
{
	static char lower[32];
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(&fstype__descriptor, (int)t);
	size_t i = 0;

	if (!v)
		return "unknown";
	for (; v->name[i] && i < sizeof(lower) - 1; i++)
		lower[i] = (char)(v->name[i] >= 'A' && v->name[i] <= 'Z' ? v->name[i] + 32 : v->name[i]);
	lower[i] = '\0';
	return lower;
}

static void tree_mounts(treectx *c)
{
	FILE *f = c->f;
	fprintf(f, "\nMounts\n  %6s %6s %6s  %-10s %-24s %s\n", "NS", "ID", "PARENT", "TYPE",
		"MOUNTPOINT", "SOURCE");
	for (size_t i = 0; i < c->d->mounts.n; i++) {
		const show_mount *m = &SVV(c->d->mounts, show_mount)[i];
		fprintf(f, "  %6" PRIu64 " %6u %6u  %-10s ", m->ns, m->mnt_id, m->parent_id,
			m->fsname ? "" : fstype_name(m->fstype));
		if (m->fsname)
			show_put_str(f, m->fsname);
		show_put_str(f, m->mountpoint);
		fputs("  ", f);
		show_put_str(f, m->source);
		if (m->root && strcmp(m->root, "/") != 0) {
			fputs(" root=", f);
			show_put_str(f, m->root);
		}
		if (m->ext)
			fputs(" (external)", f);
		fputc('\n', f);
	}
	fprintf(f, "\nNamespaces\n  %8s", "PID");
	for (int k = 0; k < SHOW_NS_COUNT; k++)
		fprintf(f, " %11s", show_ns_names[k]);
	fputc('\n', f);
	for (size_t i = 0; i < c->n; i++) {
		show_task *t = &SVV(c->d->tasks, show_task)[c->order[i]];
		if (!selected(c->o, t) || !t->have_ids)
			continue;
		fprintf(f, "  %8u", t->pid);
		for (int k = 0; k < SHOW_NS_COUNT; k++)
			if (t->ns_has & (1u << k))
				fprintf(f, " %11u", t->ns[k]);
			else
				fprintf(f, " %11s", "-");
		fputc('\n', f);
	}
	fputs("\nCgroups\n", f);
	for (size_t i = 0; i < c->n; i++) {
		show_task *t = &SVV(c->d->tasks, show_task)[c->order[i]];
		if (selected(c->o, t) && t->has_cg_set)
			fprintf(f, "  task %u: set %u\n", t->pid, t->cg_set);
	}
	for (size_t i = 0; i < c->d->cgctls.n; i++) {
		const show_cgctl *g = &SVV(c->d->cgctls, show_cgctl)[i];
		fprintf(f, "  set %u  ", g->set);
		show_put_str(f, g->name);
		fputs("  ", f);
		show_put_str(f, g->path);
		fputc('\n', f);
	}
}

/* The unit of a statistic, by its name: times are in microseconds. */
static const char *stat_unit(const char *name)
{
	size_t n = strlen(name);
	if ((n > 5 && strcmp(name + n - 5, "_time") == 0) || strcmp(name, "irmap_resolve") == 0)
		return "us";
	if (strstr(name, "pages_"))
		return "pages";
	if (strcmp(name, "page_pipes") == 0)
		return "pipes";
	return strcmp(name, "page_pipe_bufs") == 0 ? "buffers" : "count";
}

static void tree_stats(treectx *c)
{
	FILE *f = c->f;
	fputs("\nStatistics (stats-dump.img)\n", f);
	if (!c->d->have_stats) {
		fputs("  none in this checkpoint\n", f);
		return;
	}
	for (size_t k = 0; k < c->d->nstats; k++) {
		const char *unit = stat_unit(c->d->stats[k].name);
		uint64_t v = c->d->stats[k].value;
		fprintf(f, "  %-24s %12" PRIu64 " %s", c->d->stats[k].name, v,
			strcmp(unit, "us") == 0 ? "µs" : unit);
		if (strcmp(unit, "us") == 0)
			fprintf(f, " (%.6f s)", (double)v / 1e6);
		else if (strcmp(unit, "pages") == 0)
			fprintf(f, " (%" PRIu64 " KiB)", v * 4);
		fputc('\n', f);
	}
}

static void print_findings_tree(FILE *f, const findings *fs, const sv_summary *sum)
{
	if (!fs->n && !fs->dropped)
		return;
	fprintf(f, "Findings (%lu errors, %lu warnings, %lu notes)\n", sum->errors, sum->warnings,
		sum->notes);
	for (size_t i = 0; i < fs->n; i++) {
		const finding *x = &fs->v[i];
		fputs("  ", f);
		show_put_str(f, x->file);
		if (x->offset != SV_NONE)
			fprintf(f, ":0x%" PRIx64, x->offset);
		fprintf(f, ": %s: ", x->severity);
		show_put_str(f, x->msg);
		fprintf(f, " [%s]\n", x->code);
	}
	if (fs->dropped)
		fprintf(f, "  ... and %zu more\n", fs->dropped);
	fputc('\n', f);
}

static const char *verdict(const sv_summary *s)
{
	return s->status == SV_EXIT_VALID ? "valid" : s->status == SV_EXIT_INVALID ? "invalid" :
	       "not verified";
}

/* A container's name: pod.options' name for it, else config.dump's. */
static const char *ctr_label(const show_dump *d)
{
	return d->pod_name ? d->pod_name : d->ctr_name;
}

static void show_tree_one(FILE *f, show_dump *d, const show_opts *o, const sv_summary *sum);

/* "Container NAME (id ID), image IMAGE, folder F/" */
static void put_container(FILE *f, const show_dump *d)
{
	fputs("Container ", f);
	show_put_str(f, ctr_label(d) ? ctr_label(d) : "?");
	if (d->ctr_id) {
		fputs(" (id ", f);
		show_put_str(f, d->ctr_id);
		fputc(')', f);
	}
	if (d->ctr_image) {
		fputs(", image ", f);
		show_put_str(f, d->ctr_image);
	}
	if (d->folder) {
		fputs(", folder ", f);
		show_put_str(f, d->folder);
	}
	fputc('\n', f);
}

/* Each line of text, indented by two spaces. */
static void put_indented(FILE *f, const char *text, size_t len)
{
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (text + i)) + 1 : len - i;
		if (n > 1)
			fputs("  ", f);
		fwrite(text + i, 1, n, f);
		i += n;
	}
}

static void show_tree(FILE *f, show_dump *d, const show_opts *o, const findings *fs,
		      const sv_summary *sum)
{
	size_t n = 0;

	print_findings_tree(f, fs, sum);
	if (!d->pod) {
		show_tree_one(f, d, o, sum);
		return;
	}
	/* a pod checkpoint: one subtree per container */
	for (const show_dump *c = d; c; c = c->next)
		n++;
	fputs("Pod checkpoint ", f);
	show_put_str(f, sum->input ? sum->input : d->path);
	fprintf(f, ": %zu container%s, %s\n", n, n == 1 ? "" : "s", verdict(sum));
	for (show_dump *c = d; c; c = c->next) {
		char *text = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&text, &len);
		fputs("\n", f);
		put_container(f, c);
		if (!m)
			continue;
		show_tree_one(m, c, o, sum);
		if (fclose(m) == 0)
			put_indented(f, text, len);
		free(text);
	}
}

static void show_tree_one(FILE *f, show_dump *d, const show_opts *o, const sv_summary *sum)
{
	treectx c = { 0 };
	size_t ntasks = 0;

	c.d = d;
	c.f = f;
	c.o = o;
	c.order = show_tree_order(d, &ntasks);
	c.n = ntasks;
	c.kids = malloc((ntasks ? ntasks : 1) * sizeof(size_t));
	c.seen = calloc(d->tasks.n ? d->tasks.n : 1, sizeof(bool));
	if (!c.kids || !c.seen) {
		free((void *)c.order);
		c.order = NULL;
	} else {
		if (c.order && ntasks)
			memcpy(c.kids, c.order, ntasks * sizeof(size_t));
		if (ntasks > 1)
			qsort_r(c.kids, ntasks, sizeof(size_t), cmp_ppid, d->tasks.v);
	}
	fputs("Checkpoint ", f);
	show_put_str(f, d->path);
	fprintf(f, ": %s, %zu process%s, %s\n", d->predump ? "CRIU pre-dump" : "CRIU dump", c.n,
		c.n == 1 ? "" : "es", verdict(sum));
	/* a pod's containers are named in the line that opens their subtree */
	if ((ctr_label(d) || d->ctr_image) && !d->folder)
		put_container(f, d);
	if (d->limited)
		fputs("  (some items were left out: the checkpoint holds more than is shown)\n", f);
	if (d->pages_before_maps)
		fputs("  (a pages file came before its pagemap: command lines may be missing)\n", f);
	if (c.order) {
		if (o->sections & SEC_PS)
			tree_ps(&c);
		if (o->sections & SEC_FILES)
			tree_files(&c);
		if (o->sections & SEC_MEM)
			tree_mem(&c);
		if (o->sections & SEC_SOCKETS)
			tree_sockets(&c);
		if (o->sections & SEC_MOUNTS)
			tree_mounts(&c);
	}
	if (o->sections & SEC_STATS)
		tree_stats(&c);
	free((void *)c.order);
	free(c.kids);
	free(c.seen);
}

/* -- JSON ------------------------------------------------------------------------------ */

static void json_file(FILE *f, const show_dump *d, const show_file *fe)
{
	fprintf(f, "{\"id\":%u,\"kind\":", fe->id);
	json_str(f, show_fd_kind(fe->type));
	fputs(",\"target\":", f);
	show_file_target(f, d, fe, true);
	if (fe->type == FD_TYPES__REG || fe->type == FD_TYPES__FIFO) {
		const show_file *r = path_entry(d, fe);
		fputs(",\"path\":", f);
		json_str(f, r->path);
		fprintf(f, ",\"deleted\":%s", is_deleted(d, r) ? "true" : "false");
	}
	if (fe->type == FD_TYPES__PIPE || fe->type == FD_TYPES__FIFO)
		fprintf(f, ",\"pipe_id\":%u", fe->pipe_id);
	if (is_socket(fe))
		fprintf(f, ",\"inode\":%u", fe->ino);
	if (fe->type == FD_TYPES__UNIXSK)
		fprintf(f, ",\"peer\":%u", fe->peer);
	fputc('}', f);
}

static void json_task(FILE *f, const show_dump *d, const show_task *t, const show_opts *o)
{
	fprintf(f, "{\"pid\":%u,\"ppid\":%u,\"pgid\":%u,\"sid\":%u,\"state\":", t->pid, t->ppid,
		t->pgid, t->sid);
	json_str(f, t->have_core ? show_state_name(t->state) : "unknown");
	fputs(",\"comm\":", f);
	json_str(f, t->comm);
	fputs(",\"threads\":[", f);
	for (size_t i = 0; i < t->ntids; i++)
		fprintf(f, "%s%u", i ? "," : "", t->tids[i]);
	fputs("],\"cmdline\":", f);
	if (t->args && t->args_len)
		put_args(f, t->args, t->args_len, true);
	else
		fputs("null", f);
	fprintf(f, ",\"cmdline_complete\":%s", t->args_done ? "true" : "false");
	if (o->env) {
		fputs(",\"environ\":", f);
		if (t->env && t->env_len)
			put_args(f, t->env, t->env_len, true);
		else
			fputs("null", f);
	}
	fputs(",\"exe\":", f);
	json_str(f, t->have_mm ? file_path(d, t->exe_file_id) : NULL);
	fputs(",\"cwd\":", f);
	json_str(f, t->have_fs ? file_path(d, t->cwd_id) : NULL);
	fputs(",\"root\":", f);
	json_str(f, t->have_fs ? file_path(d, t->root_id) : NULL);
	fputs(",\"namespaces\":{", f);
	bool first = true;
	for (int k = 0; k < SHOW_NS_COUNT; k++)
		if (t->ns_has & (1u << k)) {
			fprintf(f, "%s\"%s\":%u", first ? "" : ",", show_ns_names[k], t->ns[k]);
			first = false;
		}
	fputs("},\"cgroup_set\":", f);
	if (t->has_cg_set)
		fprintf(f, "%u", t->cg_set);
	else
		fputs("null", f);
	if (o->sections & SEC_FILES) {
		const show_task *same = same_table(d, t);
		if (same)
			fprintf(f, ",\"fds_shared_with\":%u", same->pid);
		fputs(",\"fds\":[", f);
		first = true;
		size_t nfds = 0;
		const show_fd *fds = t->have_ids && !same ? show_fds_of(d, t->files_id, &nfds) : NULL;
		for (size_t k = 0; k < nfds; k++) {
			const show_fd *fd = &fds[k];
			const show_file *fe;
			fprintf(f, "%s{\"fd\":%u,\"kind\":", first ? "" : ",", fd->fd);
			json_str(f, show_fd_kind(fd->type));
			fputs(",\"file\":", f);
			if ((fe = show_file_find(d, fd->id)))
				json_file(f, d, fe);
			else
				fputs("null", f);
			fputc('}', f);
			first = false;
		}
		fputc(']', f);
	}
	if (o->sections & SEC_MEM) {
		uint64_t tot[5] = { 0 };
		fputs(",\"vmas\":[", f);
		for (size_t k = 0; k < t->nvmas; k++) {
			const show_vma *v = &t->vmas[k];
			char p[5];
			uint64_t pages = v->end > v->start ? (v->end - v->start) / CRIU_PAGE_SIZE : 0;
			uint64_t got = v->present + v->parent + v->lazy;
			uint64_t absent = pages > got ? pages - got : 0;
			prot_str(p, v->prot, v->flags);
			fprintf(f, "%s{\"start\":%" PRIu64 ",\"end\":%" PRIu64 ",\"prot\":\"%s\","
				"\"flags\":%u,\"status\":%u,\"kind\":\"%s\",\"pgoff\":%" PRIu64
				",\"file\":", k ? "," : "", v->start, v->end, p, v->flags, v->status,
				vma_kind(v->status), v->pgoff);
			json_str(f, vma_file(d, v));
			fprintf(f, ",\"pages\":%" PRIu64 ",\"dumped\":%" PRIu64 ",\"parent\":%" PRIu64
				",\"lazy\":%" PRIu64 ",\"absent\":%" PRIu64 "}", pages, v->present,
				v->parent, v->lazy, absent);
			tot[0] += pages;
			tot[1] += v->present;
			tot[2] += v->parent;
			tot[3] += v->lazy;
			tot[4] += absent;
		}
		fprintf(f, "],\"pages\":{\"total\":%" PRIu64 ",\"dumped\":%" PRIu64 ",\"parent\":%" PRIu64
			",\"lazy\":%" PRIu64 ",\"absent\":%" PRIu64 "}", tot[0], tot[1], tot[2], tot[3],
			tot[4]);
	}
	fputc('}', f);
}

static void json_findings(FILE *f, const findings *fs)
{
	fputc('[', f);
	for (size_t i = 0; i < fs->n; i++) {
		const finding *x = &fs->v[i];
		fputs(i ? ",{\"file\":" : "{\"file\":", f);
		json_str(f, x->file);
		if (x->offset == SV_NONE)
			fputs(",\"offset\":null", f);
		else
			fprintf(f, ",\"offset\":%" PRIu64, x->offset);
		fprintf(f, ",\"severity\":\"%s\",\"code\":", x->severity);
		json_str(f, x->code);
		fputs(",\"message\":", f);
		json_str(f, x->msg);
		fputc('}', f);
	}
	fputc(']', f);
}

static void show_json(FILE *f, show_dump *d, const show_opts *o, const findings *fs,
		      const sv_summary *sum)
{
	size_t n = 0;
	size_t *order = show_tree_order(d, &n);
	bool first = true;

	fputs("{\"schema\":\"streamverify-show/1\",\"checkpoint\":", f);
	json_str(f, d->path);
	fprintf(f, ",\"kind\":\"%s\",\"verdict\":\"%s\",\"errors\":%lu,\"warnings\":%lu,"
		"\"notes\":%lu,\"complete\":%s,\"findings\":", d->predump ? "pre-dump" : "dump",
		verdict(sum), sum->errors, sum->warnings, sum->notes,
		d->limited || d->oom ? "false" : "true");
	json_findings(f, fs);
	fputs(",\"container\":", f);
	if (ctr_label(d) || d->ctr_image) {
		fputs("{\"name\":", f);
		json_str(f, ctr_label(d));
		fputs(",\"image\":", f);
		json_str(f, d->ctr_image);
		fputs(",\"id\":", f);
		json_str(f, d->ctr_id);
		fputs(",\"folder\":", f);
		json_str(f, d->folder);
		fputc('}', f);
	} else {
		fputs("null", f);
	}
	fputs(",\"processes\":[", f);
	for (size_t i = 0; order && i < n; i++) {
		const show_task *t = &SVV(d->tasks, show_task)[order[i]];
		if (!selected(o, t))
			continue;
		if (!first)
			fputc(',', f);
		json_task(f, d, t, o);
		first = false;
	}
	fputc(']', f);
	if (o->sections & SEC_SOCKETS) {
		fputs(",\"sockets\":[", f);
		first = true;
		for (size_t i = 0; i < d->files.n; i++) {
			const show_file *fe = &SVV(d->files, show_file)[i];
			char a[64], b[64];
			if (!is_socket(fe))
				continue;
			const show_queue *q = queue_of(d, fe);
			show_format_addr(a, sizeof(a), fe->src_addr, fe->nsrc);
			show_format_addr(b, sizeof(b), fe->dst_addr, fe->ndst);
			fprintf(f, "%s{\"id\":%u,\"inode\":%u,\"family\":\"%s\",\"type\":\"%s\","
				"\"state\":\"%s\",\"protocol\":%u,\"local\":",
				first ? "" : ",", fe->id, fe->ino, show_family_name(fe->family),
				show_sktype_name(fe->sktype),
				fe->type == FD_TYPES__PACKETSK ? "none" : show_skstate_name(fe->state),
				fe->proto);
			if (fe->family == CRIU_AF_INET || fe->family == CRIU_AF_INET6) {
				fprintf(f, "{\"address\":\"%s\",\"port\":%u},\"remote\":", a, fe->src_port);
				fprintf(f, "{\"address\":\"%s\",\"port\":%u}", b, fe->dst_port);
			} else if (fe->family == CRIU_AF_UNIX) {
				if (fe->name_len)
					show_json_bytes(f, fe->name, fe->name_len);
				else
					fputs("null", f);
				fprintf(f, ",\"remote\":null,\"peer\":%u", fe->peer);
			} else {
				fputs("null,\"remote\":null", f);
			}
			fprintf(f, ",\"queued_bytes\":%" PRIu64 ",\"owners\":", q ? q->bytes : 0);
			owners(f, d, fe->id, true);
			fputc('}', f);
			first = false;
		}
		fputc(']', f);
	}
	if (o->sections & SEC_MOUNTS) {
		fputs(",\"mounts\":[", f);
		for (size_t i = 0; i < d->mounts.n; i++) {
			const show_mount *m = &SVV(d->mounts, show_mount)[i];
			fprintf(f, "%s{\"ns\":%" PRIu64 ",\"id\":%u,\"parent\":%u,\"fstype\":",
				i ? "," : "", m->ns, m->mnt_id, m->parent_id);
			json_str(f, m->fsname ? m->fsname : fstype_name(m->fstype));
			fputs(",\"mountpoint\":", f);
			json_str(f, m->mountpoint);
			fputs(",\"source\":", f);
			json_str(f, m->source);
			fputs(",\"root\":", f);
			json_str(f, m->root);
			fputs(",\"options\":", f);
			json_str(f, m->options);
			fprintf(f, ",\"external\":%s}", m->ext ? "true" : "false");
		}
		fputs("],\"cgroups\":[", f);
		for (size_t i = 0; i < d->cgctls.n; i++) {
			const show_cgctl *g = &SVV(d->cgctls, show_cgctl)[i];
			fprintf(f, "%s{\"set\":%u,\"controller\":", i ? "," : "", g->set);
			json_str(f, g->name);
			fputs(",\"path\":", f);
			json_str(f, g->path);
			fputc('}', f);
		}
		fputc(']', f);
	}
	if (o->sections & SEC_STATS) {
		fputs(",\"stats\":", f);
		if (!d->have_stats) {
			fputs("null", f);
		} else {
			fputc('{', f);
			for (size_t k = 0; k < d->nstats; k++)
				fprintf(f, "%s\"%s\":{\"value\":%" PRIu64 ",\"unit\":\"%s\"}",
					k ? "," : "", d->stats[k].name, d->stats[k].value,
					stat_unit(d->stats[k].name));
			fputc('}', f);
		}
	}
	fputs("}\n", f);
	free(order);
}

/* The findings about container d's files (names under d->path), and their counts. */
static void findings_of(const show_dump *d, const findings *all, const sv_summary *sum,
			findings *out, sv_summary *osum)
{
	size_t plen = strlen(d->path);

	*osum = *sum;
	osum->errors = osum->warnings = osum->notes = 0;
	out->n = out->dropped = 0;
	out->v = malloc((all->n ? all->n : 1) * sizeof(finding));
	for (size_t i = 0; out->v && i < all->n; i++) {
		const finding *x = &all->v[i];
		if (strncmp(x->file, d->path, plen) != 0)
			continue;
		out->v[out->n++] = *x;
		if (strcmp(x->severity, "error") == 0)
			osum->errors++;
		else if (strcmp(x->severity, "warning") == 0)
			osum->warnings++;
		else
			osum->notes++;
	}
	if (sum->status == SV_EXIT_VALID || sum->status == SV_EXIT_INVALID)
		osum->status = osum->errors ? SV_EXIT_INVALID : SV_EXIT_VALID;
}

/* A pod checkpoint: its findings, then one show document per container. */
static void show_json_pod(FILE *f, show_dump *d, const show_opts *o, const findings *fs,
			  const sv_summary *sum)
{
	bool complete = true;

	for (const show_dump *c = d; c; c = c->next)
		complete &= !(c->limited || c->oom);
	fputs("{\"schema\":\"streamverify-show-pod/1\",\"checkpoint\":", f);
	json_str(f, sum->input ? sum->input : d->path);
	fprintf(f, ",\"verdict\":\"%s\",\"errors\":%lu,\"warnings\":%lu,\"notes\":%lu,"
		"\"complete\":%s,\"findings\":", verdict(sum), sum->errors, sum->warnings, sum->notes,
		complete ? "true" : "false");
	json_findings(f, fs);
	fputs(",\"containers\":[", f);
	for (show_dump *c = d; c; c = c->next) {
		findings mine;
		sv_summary msum;
		char *text = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&text, &len);
		findings_of(c, fs, sum, &mine, &msum);
		if (m) {
			show_json(m, c, o, &mine, &msum);
			if (fclose(m) == 0 && len) {
				if (c != d)
					fputc(',', f);
				fwrite(text, 1, len - 1, f); /* without its newline */
			}
		}
		free(text);
		free(mine.v);
	}
	fputs("]}\n", f);
}

/* ---- command line ------------------------------------------------------------------- */

static const char show_usage[] =
	"Usage: streamverify show [OPTIONS] CHECKPOINT\n"
	"Show what a CRIU checkpoint holds; findings of its verification come first.\n"
	"CHECKPOINT: a dump directory, a container checkpoint archive (podman, CRI-O,\n"
	"containerd; a pod checkpoint shows every container), a criu-image-streamer\n"
	"capture, or ARCHIVE:pre-checkpoint for the pre-dump in an archive's\n"
	"pre-checkpoint/ folder (podman --with-previous).\n"
	"  --ps         the process tree with state, threads and command lines (default)\n"
	"  --files      every process's fds with kind and target, cwd, root and exe\n"
	"  --mem        every VMA with pages dumped, in a parent, lazy or absent\n"
	"  --sockets    sockets: family, type, state, addresses, queued bytes, owners\n"
	"  --mounts     mounts, namespaces and cgroups\n"
	"  --stats      the dump's statistics (times in µs, pages)\n"
	"  --all        all of the above\n"
	"  -p, --pid PID  only this process\n"
	"  --env        also the environment (read from the task's memory)\n"
	"  --format tree|json  output for people (default) or programs\n"
	"                      (JSON schema: docs/show-schema.json)\n"
	"  -h, --help\n"
	"Exit status: 0 shown and valid, 1 shown with errors, 2 not readable or usage.\n";

static int usage_err(const char *prog, const char *msg)
{
	fprintf(stderr, "streamverify %s: %s\nTry 'streamverify %s --help'.\n", prog, msg, prog);
	return SV_EXIT_FAILURE;
}

/* --format tree|json: false for an unknown value. */
static bool parse_format(const char *v, bool *json)
{
	if (strcmp(v, "json") != 0 && strcmp(v, "tree") != 0)
		return false;
	*json = v[0] == 'j';
	return true;
}

int sv_show_main(int argc, char **argv)
{
	enum { O_PS = 256, O_FILES, O_MEM, O_SOCKETS, O_MOUNTS, O_STATS, O_ALL, O_ENV, O_FORMAT };
	static const struct option lo[] = {
		{ "ps", no_argument, NULL, O_PS }, { "files", no_argument, NULL, O_FILES },
		{ "mem", no_argument, NULL, O_MEM }, { "sockets", no_argument, NULL, O_SOCKETS },
		{ "mounts", no_argument, NULL, O_MOUNTS }, { "stats", no_argument, NULL, O_STATS },
		{ "all", no_argument, NULL, O_ALL }, { "env", no_argument, NULL, O_ENV },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "pid", required_argument, NULL, 'p' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	show_opts o = { 0 };
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "p:h", lo, NULL)) != -1) {
		switch (c) {
		case O_PS: o.sections |= SEC_PS; break;
		case O_FILES: o.sections |= SEC_FILES; break;
		case O_MEM: o.sections |= SEC_MEM; break;
		case O_SOCKETS: o.sections |= SEC_SOCKETS; break;
		case O_MOUNTS: o.sections |= SEC_MOUNTS; break;
		case O_STATS: o.sections |= SEC_STATS; break;
		case O_ALL: o.sections |= SEC_ALL; break;
		case O_ENV: o.env = true; break;
		case O_FORMAT:
			if (!parse_format(optarg, &o.json))
				return usage_err("show", "--format takes tree or json");
			break;
		case 'p': {
			char *end;
			errno = 0;
			unsigned long v = strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || v > UINT32_MAX || optarg[0] == '-')
				return usage_err("show", "--pid takes a process id");
			o.have_pid = true;
			o.pid = (uint32_t)v;
			break;
		}
		case 'h':
			fputs(show_usage, stdout);
			return SV_EXIT_VALID;
		default:
			return usage_err("show", "unknown option");
		}
	}
	if (argc - optind != 1)
		return usage_err("show", "give exactly one CHECKPOINT");
	if (!o.sections)
		o.sections = SEC_PS;

	findings fs = { 0 };
	show_dump *d;
	sv_summary sum = { 0 };
	int st = load_named(argv[optind], false, &fs, &d, &sum);
	if (d) {
		if (o.json && d->pod)
			show_json_pod(stdout, d, &o, &fs, &sum);
		else if (o.json)
			show_json(stdout, d, &o, &fs, &sum);
		else
			show_tree(stdout, d, &o, &fs, &sum);
	}
	show_dump_free(d);
	findings_free(&fs);
	if (fflush(stdout) != 0 || ferror(stdout))
		st = SV_EXIT_FAILURE;
	return st;
}

static const char diff_usage[] =
	"Usage: streamverify diff [--format tree|json] A B\n"
	"       streamverify diff [--format tree|json] ARCHIVE\n"
	"Compare two CRIU checkpoints (each as show reads them): processes added and\n"
	"removed, fds opened and closed, VMAs changed, pages changed (contents compared\n"
	"by a 64-bit hash per page, in-parent pages through the parent chain, or an\n"
	"archive's pre-checkpoint/), sockets.  ARCHIVE alone compares its\n"
	"pre-checkpoint/ with its checkpoint/ (as A ARCHIVE:pre-checkpoint and B ARCHIVE,\n"
	"in one pass).  Pod checkpoints are compared container by container, paired\n"
	"by name.\n"
	"Exit status: 0 no differences, 1 differences, 2 not readable or usage.\n";

int sv_diff_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "format", required_argument, NULL, 'F' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	bool json = false;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'F':
			if (!parse_format(optarg, &json))
				return usage_err("diff", "--format takes tree or json");
			break;
		case 'h':
			fputs(diff_usage, stdout);
			return SV_EXIT_VALID;
		default:
			return usage_err("diff", "unknown option");
		}
	}
	if (argc - optind != 2 && argc - optind != 1)
		return usage_err("diff", "give two checkpoints A and B, or one archive");

	findings fa = { 0 }, fb = { 0 };
	show_dump *a = NULL, *b = NULL;
	sv_summary sa = { 0 }, sb = { 0 };
	int st = SV_EXIT_FAILURE;
	int ra, rb;
	bool one = argc - optind == 1;

	if (one) {
		/* ARCHIVE alone: its pre-checkpoint/ against its checkpoint/, in one pass */
		rb = ra = load_named(argv[optind], true, &fa, &b, &sa);
		a = b ? b->pre_ckpt : NULL;
		if (b && !a && ra != SV_EXIT_FAILURE) {
			fputs("streamverify diff: ", stderr);
			show_put_str(stderr, argv[optind]);
			fputs(": no pre-checkpoint/ folder to compare its checkpoint with; "
			      "give two checkpoints A and B\n", stderr);
			show_dump_free(b);
			findings_free(&fa);
			return SV_EXIT_FAILURE;
		}
	} else {
		ra = load_named(argv[optind], true, &fa, &a, &sa);
		rb = load_named(argv[optind + 1], true, &fb, &b, &sb);
	}

	if (ra == SV_EXIT_FAILURE || rb == SV_EXIT_FAILURE || !a || !b) {
		const findings *bad = ra == SV_EXIT_FAILURE ? &fa : &fb;
		for (size_t i = 0; i < bad->n; i++) {
			fputs("streamverify diff: ", stderr);
			show_put_str(stderr, bad->v[i].file);
			fputs(": ", stderr);
			show_put_str(stderr, bad->v[i].msg);
			fputc('\n', stderr);
		}
	} else {
		if (!json) {
			print_findings_tree(stdout, &fa, &sa);
			if (!one)
				print_findings_tree(stdout, &fb, &sb);
		}
		/* pods: container by container, paired by name */
		if (!one && (a->pod || b->pod))
			st = show_diff_pods(a, b, argv[optind], argv[optind + 1], stdout, json);
		else
			st = show_diff_run(a, b, stdout, json);
	}
	if (!one)
		show_dump_free(a); /* else b's own pre-checkpoint */
	show_dump_free(b);
	findings_free(&fa);
	findings_free(&fb);
	if (fflush(stdout) != 0 || ferror(stdout))
		st = SV_EXIT_FAILURE;
	return st;
}
