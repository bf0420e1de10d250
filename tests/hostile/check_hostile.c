/*
 * Hostile input, on purpose: every length or count field of every format
 * forged to the worst values, truncation at every byte of a small valid
 * input of each format, directories full of traps, and the promise that
 * inputs are never written.  The fixtures come from the formats' own
 * generators (tests/xen/gen_xen, tests/criu/gen_criu) and the real CRIU
 * dumps.
 *
 * Outside the sanitizer build the forged-length runs happen under a 64 MiB
 * address-space limit, so an allocation sized by an unchecked length
 * fails the test instead of passing quietly.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "streamverify.h"
#include "hostile.h"
#include "cli_files.h"
#include "formats/criu/schema/images.h"
#include "formats/criu/schema/pb.h"
#include "formats/criu/schema/schema.h"
#include "cgroup.pb-c.h"

static char xen_dir[4096], criu_dir[4096], work_dir[4096];
static const char *data_dir;

/* ---- helpers ----------------------------------------------------------- */

typedef struct run_result {
	int status;
	unsigned long errors;
	size_t ndiags;
	struct {
		char code[64];
		uint64_t offset;
		int severity;
		char file[256];
	} d[32];
} run_result;

static void on_diag(void *ctx, const sv_diag *d)
{
	run_result *r = ctx;

	if (r->ndiags < 32) {
		snprintf(r->d[r->ndiags].code, sizeof(r->d[0].code), "%s", d->code->id);
		snprintf(r->d[r->ndiags].file, sizeof(r->d[0].file), "%s", d->file);
		r->d[r->ndiags].offset = d->offset;
		r->d[r->ndiags].severity = d->severity;
		r->ndiags++;
	}
}

static int verify(const char *path, const char *format, run_result *r)
{
	sv_options opt = { .format = format };
	sv_sink sink = { r, on_diag, NULL, NULL, NULL };
	sv_summary sum;

	memset(r, 0, sizeof(*r));
	r->status = sv_verify(path, &opt, &sink, &sum);
	r->errors = sum.errors;
	return r->status;
}

static bool has_code(const run_result *r, const char *code)
{
	for (size_t i = 0; i < r->ndiags; i++)
		if (strcmp(r->d[i].code, code) == 0)
			return true;
	return false;
}

/* ---- where the length fields are ------------------------------------------ */

typedef struct field {
	size_t at;      /* offset of the field */
	int width;      /* 4 or 8 octets */
	bool big;       /* big-endian */
	bool shrink_valid; /* a smaller value is legal (the rest is ignored) */
} field;

typedef struct layout {
	field f[4096];
	size_t nf;
	size_t bounds[4096];  /* offsets where a record / entry starts */
	size_t nb;
} layout;

static uint32_t get32(const unsigned char *p, bool big)
{
	return big ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
		   : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static void add_field(layout *l, size_t at, int width, bool big)
{
	if (l->nf < sizeof(l->f) / sizeof(l->f[0]))
		l->f[l->nf++] = (field){ at, width, big, false };
}

static void add_bound(layout *l, size_t at)
{
	if (l->nb < sizeof(l->bounds) / sizeof(l->bounds[0]))
		l->bounds[l->nb++] = at;
}

/*
 * Walk Xen records from *at (libxc when libxc, else libxl), recording each
 * record's length field and the count fields inside bodies.  Returns at
 * the END record's end (or the input's end).  Record framing: u32 type,
 * u32 length, body, padding to 8 (both specs).
 */
static size_t walk_xen_records(const unsigned char *p, size_t n, size_t at, bool libxc,
			       bool big, layout *l);

static size_t walk_libxc(const unsigned char *p, size_t n, size_t at, layout *l)
{
	bool big;

	if (at + 40 > n)
		return n;
	big = (get32(p + at + 16, true) >> 16) & 1;
	return walk_xen_records(p, n, at + 40, true, big, l);
}

static size_t walk_xen_records(const unsigned char *p, size_t n, size_t at, bool libxc,
			       bool big, layout *l)
{
	while (at + 8 <= n) {
		uint32_t type = get32(p + at, big), len = get32(p + at + 4, big);
		size_t body = at + 8, next = body + len + (8 - len % 8) % 8;

		add_bound(l, at);
		add_field(l, at + 4, 4, big);
		if (libxc && (type == 1 || type == 10) && len >= 4)   /* PAGE_DATA, HVM_PARAMS count */
			add_field(l, body, 4, big);
		if (next > n)
			return n;
		if (!libxc && type == 1)                              /* LIBXC_CONTEXT: the libxc stream */
			next = walk_libxc(p, n, next, l);
		if (type == 0)
			return next;
		at = next;
	}
	return n;
}

static void walk_xen(const char *kind, const unsigned char *p, size_t n, layout *l)
{
	memset(l, 0, sizeof(*l));
	if (strcmp(kind, "libxc") == 0) {
		walk_libxc(p, n, 0, l);
	} else if (strcmp(kind, "libxl") == 0) {
		walk_xen_records(p, n, 16, false, p[15] & 1, l);
	} else if (n >= 52) {                  /* xl: 32-octet magic, 4 u32, optional data */
		bool big = get32(p + 32, false) != 0x01020304;
		uint32_t optlen = get32(p + 44, big);
		add_field(l, 44, 4, big);
		if (optlen >= 4) {
			/* config_len: shorter is fine, the rest of the optional data is ignored */
			add_field(l, 48, 4, big);
			l->f[l->nf - 1].shrink_valid = true;
		}
		if (48 + (size_t)optlen + 16 <= n)
			walk_xen_records(p, n, 48 + optlen + 16, false, p[48 + optlen + 15] & 1, l);
	}
}

/* CRIU: the u32 size of every entry, when the file is entries only. */
static bool walk_criu(const unsigned char *p, size_t n, layout *l)
{
	size_t at;

	memset(l, 0, sizeof(*l));
	if (n < 4)
		return false;
	at = get32(p, false) == 0x58313116 ? 4 : 8;  /* inventory has no head magic */
	while (at + 4 <= n) {
		uint32_t size = get32(p + at, false);
		add_bound(l, at);
		add_field(l, at, 4, false);
		if (size > n - at - 4)
			return false;
		at += 4 + size;
	}
	/* Blobs after entries would desynchronise this walk: such files are not used. */
	return at == n;
}

static void put_field(unsigned char *p, const field *f, uint64_t v)
{
	for (int i = 0; i < f->width; i++) {
		int shift = f->big ? 8 * (f->width - 1 - i) : 8 * i;
		p[f->at + (size_t)i] = (unsigned char)(v >> shift);
	}
}

static uint64_t get_field(const unsigned char *p, const field *f)
{
	uint64_t v = 0;

	for (int i = 0; i < f->width; i++) {
		int shift = f->big ? 8 * (f->width - 1 - i) : 8 * i;
		v |= (uint64_t)p[f->at + (size_t)i] << shift;
	}
	return v;
}

static const uint64_t hostile_values[] = { 0, 1, 0x7fffffff, 0x80000000, 0xffffffff };

/*
 * Forge every field of the layout to every hostile value in turn: each run
 * must end with exit 1 and at least one error, never a crash, a hang or
 * an allocation beyond the address-space limit.
 */
static unsigned forge_all(const char *name, const char *format, const unsigned char *orig,
			  size_t n, const layout *l)
{
	unsigned char *p = malloc(n);
	char path[4200];
	unsigned runs = 0;

	snprintf(path, sizeof(path), "%s/forged-%d", work_dir, (int)getpid());
	for (size_t i = 0; i < l->nf; i++) {
		for (size_t k = 0; k < sizeof(hostile_values) / sizeof(hostile_values[0]); k++) {
			run_result r;
			uint64_t was = get_field(orig, &l->f[i]);
			if (was == hostile_values[k] || (hostile_values[k] < was && l->f[i].shrink_valid))
				continue;
			memcpy(p, orig, n);
			put_field(p, &l->f[i], hostile_values[k]);
			spew(path, p, n);
			verify(path, format, &r);
			ck_assert_msg(r.status == 1 && r.errors > 0,
				      "%s: field at %zu = %#llx: exit %d, %lu errors", name, l->f[i].at,
				      (unsigned long long)hostile_values[k], r.status, r.errors);
			runs++;
		}
	}
	unlink(path);
	free(p);
	return runs;
}

/* Lines of a generator's manifest (in *text, to be freed with the array). */
static char **manifest_lines(const char *path, size_t *count, char **textp)
{
	size_t len, n = 0;
	char *text = (char *)slurp(path, &len), *save = NULL;
	char **lines = calloc(len + 1, sizeof(char *));

	text[len] = '\0';
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		lines[n++] = line;
	*count = n;
	*textp = text;
	return lines;
}

/* ---- forged lengths ------------------------------------------------------- */

START_TEST(xen_length_fields_forged)
{
	size_t nlines;
	char **lines, *text;
	char manifest[4200];
	unsigned runs = 0, files = 0;
	layout *l = malloc(sizeof(*l));

	snprintf(manifest, sizeof(manifest), "%s/MANIFEST", xen_dir);
	lines = manifest_lines(manifest, &nlines, &text);
	limit_address_space();
	for (size_t i = 0; i < nlines; i++) {
		char name[256], kind[32], verdict[64];
		char path[4400];
		size_t n;
		unsigned char *p;

		if (sscanf(lines[i], "%255s %31s %63s", name, kind, verdict) != 3 ||
		    strcmp(verdict, "valid") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", xen_dir, name);
		p = slurp(path, &n);
		walk_xen(kind, p, n, l);
		ck_assert_msg(l->nf > 0, "%s: no length field found", name);
		runs += forge_all(name, kind, p, n, l);
		files++;
		free(p);
	}
	ck_assert_uint_ge(files, 10);
	ck_assert_uint_ge(runs, 500);
	free(l);
	free(lines);
	free(text);
}
END_TEST

/* Real images and generated ones whose files are entries only. */
static unsigned forge_criu_dir(const char *dir, unsigned *files, layout *l)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned runs = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char path[4400];
		size_t n;
		unsigned char *p;
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 16) ||
		    st.st_size < 12 || strncmp(e->d_name, "pages-", 6) == 0)
			continue;
		p = slurp(path, &n);
		if (walk_criu(p, n, l) && l->nf > 0) {
			runs += forge_all(path, "criu", p, n, l);
			(*files)++;
		}
		free(p);
	}
	closedir(d);
	return runs;
}

START_TEST(criu_entry_sizes_forged)
{
	unsigned runs = 0, files = 0;
	char dir[4200];
	layout *l = malloc(sizeof(*l));

	limit_address_space();
	snprintf(dir, sizeof(dir), "%s/valid", criu_dir);
	runs += forge_criu_dir(dir, &files, l);
	if (data_dir) {
		snprintf(dir, sizeof(dir), "%s/criu-real/threads", data_dir);
		runs += forge_criu_dir(dir, &files, l);
	}
	ck_assert_uint_ge(files, 20);
	ck_assert_uint_ge(runs, 100);
	free(l);
}
END_TEST

/*
 * The lengths inside CRIU messages that size the blob after them: the
 * first entry of each such image is unpacked, the field forged, the entry
 * packed again (its size field follows), and the rest of the file kept.
 */
static const struct blob_length {
	const char *file;
	const ProtobufCMessageDescriptor *desc;
	const char *field;
} blob_lengths[] = {
	{ "pipes-data.img", &pipe_data_entry__descriptor, "bytes" },
	{ "fifo-data.img", &pipe_data_entry__descriptor, "bytes" },
	{ "sk-queues.img", &sk_packet_entry__descriptor, "length" },
	{ "tcp-stream-1.img", &tcp_stream_entry__descriptor, "inq_len" },
	{ "tcp-stream-1.img", &tcp_stream_entry__descriptor, "outq_len" },
	{ "bpfmap-data.img", &bpfmap_data_entry__descriptor, "keys_bytes" },
	{ "bpfmap-data.img", &bpfmap_data_entry__descriptor, "values_bytes" },
	{ "ipcns-sem-1.img", &ipc_sem_entry__descriptor, "nsems" },
	{ "ipcns-msg-1.img", &ipc_msg_entry__descriptor, "qnum" },
};

static void set_number(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, uint64_t v)
{
	unsigned char *base = (unsigned char *)m;

	if (f->type == PROTOBUF_C_TYPE_UINT64 || f->type == PROTOBUF_C_TYPE_FIXED64) {
		memcpy(base + f->offset, &v, sizeof(v));
	} else {
		uint32_t w = (uint32_t)v;
		memcpy(base + f->offset, &w, sizeof(w));
	}
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
		protobuf_c_boolean has = 1;
		memcpy(base + f->quantifier_offset, &has, sizeof(has));
	}
}

START_TEST(criu_blob_lengths_forged)
{
	unsigned runs = 0;
	char forged[4200];

	limit_address_space();
	snprintf(forged, sizeof(forged), "%s/blob-%d.img", work_dir, (int)getpid());
	for (size_t i = 0; i < sizeof(blob_lengths) / sizeof(blob_lengths[0]); i++) {
		const struct blob_length *b = &blob_lengths[i];
		const ProtobufCFieldDescriptor *f =
			protobuf_c_message_descriptor_get_field_by_name(b->desc, b->field);
		char path[4400];
		size_t n;
		unsigned char *p;

		ck_assert_ptr_nonnull(f);
		snprintf(path, sizeof(path), "%s/valid/%s", criu_dir, b->file);
		p = slurp(path, &n);
		ck_assert_uint_ge(n, 12);
		uint32_t size = get32(p + 8, false);
		ck_assert_uint_le(size, n - 12);
		for (size_t k = 0; k < sizeof(hostile_values) / sizeof(hostile_values[0]); k++) {
			ProtobufCMessage *m = protobuf_c_message_unpack(b->desc, NULL, size, p + 12);
			uint64_t was = 0;
			run_result r;

			ck_assert_ptr_nonnull(m);
			memcpy(&was, (unsigned char *)m + f->offset,
			       f->type == PROTOBUF_C_TYPE_UINT64 ? 8 : 4);
			if (was == hostile_values[k]) {
				protobuf_c_message_free_unpacked(m, NULL);
				continue;
			}
			set_number(m, f, hostile_values[k]);
			size_t packed = protobuf_c_message_get_packed_size(m);
			unsigned char *out = malloc(12 + packed + (n - 12 - size));
			memcpy(out, p, 8);
			out[8] = (unsigned char)packed;
			out[9] = (unsigned char)(packed >> 8);
			out[10] = (unsigned char)(packed >> 16);
			out[11] = (unsigned char)(packed >> 24);
			protobuf_c_message_pack(m, out + 12);
			memcpy(out + 12 + packed, p + 12 + size, n - 12 - size);
			spew(forged, out, 12 + packed + (n - 12 - size));
			verify(forged, "criu", &r);
			ck_assert_msg(r.status == 1 && r.errors > 0, "%s: %s = %#llx: exit %d, %lu errors",
				      b->file, b->field, (unsigned long long)hostile_values[k], r.status,
				      r.errors);
			runs++;
			free(out);
			protobuf_c_message_free_unpacked(m, NULL);
		}
		free(p);
	}
	unlink(forged);
	ck_assert_uint_ge(runs, 30);
}
END_TEST

/* ---- truncation at every offset ------------------------------------------- */

/*
 * Cut the file at every offset.  A cut inside a record must be reported as
 * input.truncated at an offset between the record's start and the cut; a
 * cut at a record boundary must still make the input invalid when the
 * format requires an end marker (Xen streams that are not checkpointed),
 * and a CRIU image cut before its only entry is invalid too.
 */
static void truncate_everywhere(const char *path, const char *format, const layout *l,
				bool boundary_cut_invalid)
{
	size_t n;
	unsigned char *p = slurp(path, &n);
	char cut_path[4200];

	snprintf(cut_path, sizeof(cut_path), "%s/cut-%d", work_dir, (int)getpid());
	for (size_t cut = 0; cut < n; cut++) {
		run_result r;
		size_t start = 0;
		bool boundary = false;

		for (size_t b = 0; b < l->nb; b++) {
			if (l->bounds[b] <= cut)
				start = l->bounds[b];
			boundary |= l->bounds[b] == cut;
		}
		spew(cut_path, p, cut);
		verify(cut_path, format, &r);
		if (boundary) {
			if (boundary_cut_invalid)
				ck_assert_msg(r.status == 1, "%s cut at record boundary %zu: exit %d",
					      path, cut, r.status);
			continue;
		}
		ck_assert_msg(r.status == 1, "%s cut at %zu: exit %d", path, cut, r.status);
		if (cut < (l->nb ? l->bounds[0] : 0))
			continue; /* inside the headers: each format names its own header */
		bool found = false;
		for (size_t i = 0; i < r.ndiags; i++)
			if (strcmp(r.d[i].code, "input.truncated") == 0 && r.d[i].offset >= start &&
			    r.d[i].offset <= cut)
				found = true;
		ck_assert_msg(found, "%s cut at %zu (record at %zu): no input.truncated in [%zu, %zu]; first: %s at %llu",
			      path, cut, start, start, cut, r.ndiags ? r.d[0].code : "none",
			      r.ndiags ? (unsigned long long)r.d[0].offset : 0ull);
	}
	unlink(cut_path);
	free(p);
}

START_TEST(xen_truncated_at_every_offset)
{
	static const char *const small[][2] = {
		{ "valid-libxc-pv-v3.libxc", "libxc" },
		{ "valid-libxl-hvm.libxl", "libxl" },
		{ "valid-xl-hvm.xl", "xl" },
	};
	layout *l = malloc(sizeof(*l));

	for (size_t i = 0; i < 3; i++) {
		char path[4400];
		size_t n;
		unsigned char *p;

		snprintf(path, sizeof(path), "%s/%s", xen_dir, small[i][0]);
		p = slurp(path, &n);
		walk_xen(small[i][1], p, n, l);
		free(p);
		truncate_everywhere(path, small[i][1], l, true);
	}
	free(l);
}
END_TEST

START_TEST(criu_truncated_at_every_offset)
{
	layout *l = malloc(sizeof(*l));
	char path[4400];
	size_t n;
	unsigned char *p;

	/* A single-entry image: every cut, boundary or not, is invalid. */
	snprintf(path, sizeof(path), "%s/valid/mm-1.img", criu_dir);
	p = slurp(path, &n);
	ck_assert(walk_criu(p, n, l));
	free(p);
	truncate_everywhere(path, "criu", l, true);
	/* A multi-entry one: a cut between entries leaves a shorter valid image. */
	snprintf(path, sizeof(path), "%s/valid/pstree.img", criu_dir);
	p = slurp(path, &n);
	ck_assert(walk_criu(p, n, l));
	free(p);
	truncate_everywhere(path, "criu", l, false);
	free(l);
}
END_TEST

/* ---- directories full of traps -------------------------------------------- */

static void copy_file(const char *from, const char *to)
{
	size_t n;
	unsigned char *p = slurp(from, &n);

	spew(to, p, n);
	free(p);
}

/* Run a verification in a child with a deadline: a hang fails the test. */
static int verify_with_deadline(const char *path, const char *format, run_result *out)
{
	char result[4200];
	pid_t pid;
	int st;

	snprintf(result, sizeof(result), "%s/result-%d", work_dir, (int)getpid());
	pid = fork();
	if (pid == 0) {
		run_result r;
		alarm(20);
		verify(path, format, &r);
		spew(result, &r, sizeof(r));
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "verification of %s hung or crashed", path);
	size_t n;
	unsigned char *p = slurp(result, &n);
	ck_assert_uint_eq(n, sizeof(*out));
	memcpy(out, p, n);
	free(p);
	unlink(result);
	return out->status;
}

START_TEST(directory_traps)
{
	char dir[4200], p[4400], real[4400];
	run_result r;

	ck_assert_ptr_nonnull(data_dir);
	snprintf(dir, sizeof(dir), "%s/traps-%d", work_dir, (int)getpid());
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	snprintf(real, sizeof(real), "%s/criu-real/sleep/inventory.img", data_dir);
	snprintf(p, sizeof(p), "%s/inventory.img", dir);
	copy_file(real, p);
	/* A FIFO where pstree.img should be: never opened for a blocking read. */
	snprintf(p, sizeof(p), "%s/pstree.img", dir);
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	/* A symlink loop, a device node, a directory, a dangling link. */
	snprintf(p, sizeof(p), "%s/files.img", dir);
	ck_assert_int_eq(symlink("files.img", p), 0);
	snprintf(p, sizeof(p), "%s/seccomp.img", dir);
	ck_assert_int_eq(symlink("/dev/null", p), 0);
	snprintf(p, sizeof(p), "%s/fdinfo-2.img", dir);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/timens-0.img", dir);
	ck_assert_int_eq(symlink("/nonexistent/streamverify", p), 0);
	/* A unix socket where an image should be: reported, never opened. */
	{
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		size_t len = strlen(dir);
		ck_assert_uint_lt(len + sizeof("/ids-1.img"), sizeof(a.sun_path));
		memcpy(a.sun_path, dir, len);
		memcpy(a.sun_path + len, "/ids-1.img", sizeof("/ids-1.img"));
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
		close(fd);
	}
	/* A parent link to itself. */
	snprintf(p, sizeof(p), "%s/parent", dir);
	ck_assert_int_eq(symlink(".", p), 0);

	verify_with_deadline(dir, "criu", &r);
	/* Invalid, not "not verified": every trap is a finding and the run goes on. */
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(has_code(&r, "input.not-regular"), "a FIFO or device was not refused");
	ck_assert_msg(r.errors >= 3, "only %lu errors for a directory of traps", r.errors);
}
END_TEST

/* A FIFO given as a whole input must not be mistaken for a directory image. */
START_TEST(fifo_and_device_as_image_in_dump)
{
	char dir[4200], p[4400], real[4400];
	run_result r;
	static const char *const names[] = { "inventory.img", "pstree.img", "core-234.img" };

	ck_assert_ptr_nonnull(data_dir);
	snprintf(dir, sizeof(dir), "%s/fifo-%d", work_dir, (int)getpid());
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	for (size_t i = 0; i < 2; i++) {
		snprintf(real, sizeof(real), "%s/criu-real/sleep/%s", data_dir, names[i]);
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		copy_file(real, p);
	}
	snprintf(p, sizeof(p), "%s/core-234.img", dir);
	ck_assert_int_eq(mknod(p, S_IFCHR | 0600, makedev(1, 3)), 0);
	verify_with_deadline(dir, "criu", &r);
	ck_assert_int_ne(r.status, 0);
	ck_assert(has_code(&r, "input.not-regular"));
}
END_TEST

/* ---- inputs are never written ---------------------------------------------- */

typedef struct fingerprint {
	char path[4200];
	struct timespec mtime;
	off_t size;
	uLong crc;
} fingerprint;

static void take(fingerprint *f, const char *path)
{
	struct stat st;
	size_t n;
	unsigned char *p;

	ck_assert_int_eq(stat(path, &st), 0);
	snprintf(f->path, sizeof(f->path), "%s", path);
	f->mtime = st.st_mtim;
	f->size = st.st_size;
	p = slurp(path, &n);
	f->crc = crc32(0, p, (uInt)n);
	free(p);
}

static void same(const fingerprint *f)
{
	fingerprint now;

	take(&now, f->path);
	ck_assert_msg(now.size == f->size && now.crc == f->crc &&
		      now.mtime.tv_sec == f->mtime.tv_sec && now.mtime.tv_nsec == f->mtime.tv_nsec,
		      "%s changed", f->path);
}

START_TEST(inputs_are_never_written)
{
	static fingerprint prints[512];
	size_t np = 0;
	const char *dirs[] = { xen_dir, NULL, NULL };
	char cdir[4200], rdir[4200];

	snprintf(cdir, sizeof(cdir), "%s/valid", criu_dir);
	dirs[1] = cdir;
	if (data_dir) {
		snprintf(rdir, sizeof(rdir), "%s/criu-real/shtree", data_dir);
		dirs[2] = rdir;
	}
	for (size_t k = 0; k < 3; k++) {
		DIR *d = dirs[k] ? opendir(dirs[k]) : NULL;
		struct dirent *e;
		if (!d)
			continue;
		while ((e = readdir(d)) && np < 512) {
			char path[4400];
			struct stat st;
			snprintf(path, sizeof(path), "%s/%s", dirs[k], e->d_name);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
				take(&prints[np++], path);
		}
		closedir(d);
	}
	ck_assert_uint_ge(np, 50);
	FILE *devnull = fopen("/dev/null", "w");
	ck_assert_ptr_nonnull(devnull);
	for (size_t i = 0; i < np; i++) {
		run_result r;
		verify(prints[i].path, NULL, &r);
		sv_convert(prints[i].path, SV_ACTION_DECODE, 0, devnull, NULL, NULL);
	}
	fclose(devnull);
	if (dirs[2]) {
		run_result r;
		verify(dirs[2], "criu", &r);
	}
	for (size_t i = 0; i < np; i++)
		same(&prints[i]);
}
END_TEST

/* ---- big valid protobuf entries (issue 22) ----------------------------------- */

/*
 * A cgroup image of one 4 MiB entry: 1,300 directories of 100 properties
 * each, as a container with many cgroups dumps.  It is valid, and must be
 * found so (protobuf-c unpacks it into thousands of submessages, all in
 * the per-entry arena).
 */
static void write_big_cgroup(const char *path, size_t ndirs)
{
	CgroupPerms perms = CGROUP_PERMS__INIT;
	CgroupPropEntry props[100], *pprops[100];
	char names[100][16];
	CgroupDirEntry *dirs = calloc(ndirs, sizeof(*dirs)), **pdirs = calloc(ndirs, sizeof(*pdirs));
	char (*dnames)[16] = calloc(ndirs, 16);
	CgControllerEntry ctl = CG_CONTROLLER_ENTRY__INIT;
	CgControllerEntry *pctl = &ctl;
	char *cname = "cpu";
	CgroupEntry ce = CGROUP_ENTRY__INIT;

	ck_assert(dirs && pdirs && dnames);
	perms.mode = 0644;
	for (size_t i = 0; i < 100; i++) {
		cgroup_prop_entry__init(&props[i]);
		snprintf(names[i], sizeof(names[i]), "cpu.prop%zu", i);
		props[i].name = names[i];
		props[i].value = "1";
		props[i].perms = &perms;
		pprops[i] = &props[i];
	}
	for (size_t i = 0; i < ndirs; i++) {
		cgroup_dir_entry__init(&dirs[i]);
		snprintf(dnames[i], 16, "/d%zu", i);
		dirs[i].dir_name = dnames[i];
		dirs[i].n_properties = 100;
		dirs[i].properties = pprops;
		dirs[i].dir_perms = &perms;
		pdirs[i] = &dirs[i];
	}
	ctl.n_cnames = 1;
	ctl.cnames = &cname;
	ctl.n_dirs = ndirs;
	ctl.dirs = pdirs;
	ce.n_controllers = 1;
	ce.controllers = &pctl;
	size_t size = cgroup_entry__get_packed_size(&ce);
	uint8_t *buf = malloc(size);
	ck_assert_ptr_nonnull(buf);
	cgroup_entry__pack(&ce, buf);
	uint32_t head[3] = { CRIU_IMG_COMMON_MAGIC, criu_image_by_name("CGROUP")->magic,
			     (uint32_t)size };
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(head, sizeof(head), 1, f), 1);
	ck_assert_uint_eq(fwrite(buf, size, 1, f), 1);
	ck_assert_int_eq(fclose(f), 0);
	free(buf);
	free(dirs);
	free(pdirs);
	free(dnames);
}

START_TEST(criu_big_cgroup_entry_valid)
{
	char path[4200];
	run_result r;

	snprintf(path, sizeof(path), "%s/big-cgroup.img", work_dir);
	write_big_cgroup(path, 1300);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_gt(st.st_size, 3 << 20);
	ck_assert_int_eq(verify(path, "criu", &r), SV_EXIT_VALID);
	ck_assert_uint_eq(r.ndiags, 0);
	unlink(path);
}
END_TEST

/*
 * The arena hands a slab-sized block that protobuf-c freed to the next
 * request of that size (the scanned-member slabs of the next submessage),
 * and keeps everything else until the reset.
 */
START_TEST(criu_arena_reuses_freed_slabs)
{
	criu_arena a;

	criu_arena_init(&a);
	void *slab = a.pc.alloc(a.pc.allocator_data, 1024);
	void *other = a.pc.alloc(a.pc.allocator_data, 1000);
	ck_assert_ptr_nonnull(slab);
	ck_assert_ptr_nonnull(other);
	memset(slab, 0xab, 1024);
	a.pc.free(a.pc.allocator_data, slab);
	a.pc.free(a.pc.allocator_data, other);
	ck_assert_ptr_eq(a.pc.alloc(a.pc.allocator_data, 1024), slab);
	/* Not a slab size: not reused; the reused slab is live again. */
	ck_assert_ptr_ne(a.pc.alloc(a.pc.allocator_data, 1000), other);
	ck_assert_ptr_ne(a.pc.alloc(a.pc.allocator_data, 1024), slab);
	/* Short strings take 8 bytes, not 16. */
	char *s1 = a.pc.alloc(a.pc.allocator_data, 2), *s2 = a.pc.alloc(a.pc.allocator_data, 2);
	ck_assert_int_eq((int)(s2 - s1), 8);
	criu_arena_reset(&a);
	ck_assert_ptr_ne(a.pc.alloc(a.pc.allocator_data, 1024), NULL);
	criu_arena_free(&a);
}
END_TEST

/*
 * fuzz_cli_files' first finding: --write-baseline after a run without
 * findings sorted an empty key set by passing NULL to qsort (undefined
 * behaviour, reported by UBSan under make asan).  The baseline holds its
 * head line alone, and it reads back as an empty set.
 */
START_TEST(baseline_of_a_run_without_findings)
{
	static const char head[] = "# streamverify baseline 1: CODE, FILE, RECORD, RECORD TYPE; "
				   "streamverify --baseline reports these as notes\n";
	keyset none = { 0 }, again = { 0 };
	char path[4200];
	size_t len;
	unsigned char *text;

	snprintf(path, sizeof(path), "%s/empty.baseline", work_dir);
	ck_assert_int_eq(sv_write_baseline(&none, path), 0);
	text = slurp(path, &len);
	ck_assert_uint_eq(len, strlen(head));
	ck_assert_mem_eq(text, head, len);
	free(text);
	ck_assert_int_eq(sv_read_baseline(&again, path), 0);
	ck_assert_uint_eq(again.n, 0);
	ck_assert(!sv_keyset_has(&again, "input.io\tx\t-\t-"));
	sv_keyset_free(&none);
	sv_keyset_free(&again);
}
END_TEST

static void run_generator(const char *gen, const char *dir)
{
	char cmd[8400];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && '%s' --all '%s' >/dev/null", dir, gen, dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "check_hostile: %s failed\n", cmd);
		exit(EXIT_FAILURE);
	}
}

int main(void)
{
	const char *build = getenv("SV_BUILD"), *tb = getenv("SV_TEST_BUILD");
	char gen[4200];
	SRunner *sr;
	Suite *s = suite_create("hostile");
	TCase *forge = tcase_create("forged-lengths");
	TCase *cut = tcase_create("truncation");
	TCase *dirs = tcase_create("directories");
	TCase *ro = tcase_create("read-only");
	int failed;

	if (!build || !tb) {
		fprintf(stderr, "check_hostile: run me from make check (SV_BUILD, SV_TEST_BUILD)\n");
		return EXIT_FAILURE;
	}
	data_dir = getenv("SV_DATA");
	snprintf(work_dir, sizeof(work_dir), "%s", tb);
	mkdir(work_dir, 0700);
	snprintf(xen_dir, sizeof(xen_dir), "%s/xen-fixtures", tb);
	snprintf(criu_dir, sizeof(criu_dir), "%s/criu-fixtures", tb);
	snprintf(gen, sizeof(gen), "%s/tests/xen/gen_xen", build);
	run_generator(gen, xen_dir);
	snprintf(gen, sizeof(gen), "%s/tests/criu/gen_criu", build);
	run_generator(gen, criu_dir);

	tcase_set_timeout(forge, 600);
	tcase_set_timeout(cut, 600);
	tcase_set_timeout(dirs, 60);
	tcase_set_timeout(ro, 300);
	tcase_add_test(forge, xen_length_fields_forged);
	tcase_add_test(forge, criu_entry_sizes_forged);
	tcase_add_test(forge, criu_blob_lengths_forged);
	tcase_add_test(cut, xen_truncated_at_every_offset);
	tcase_add_test(cut, criu_truncated_at_every_offset);
	tcase_add_test(dirs, directory_traps);
	tcase_add_test(dirs, fifo_and_device_as_image_in_dump);
	tcase_add_test(ro, inputs_are_never_written);
	tcase_add_test(forge, criu_big_cgroup_entry_valid);
	tcase_add_test(forge, criu_arena_reuses_freed_slabs);
	tcase_add_test(ro, baseline_of_a_run_without_findings);
	suite_add_tcase(s, forge);
	suite_add_tcase(s, cut);
	suite_add_tcase(s, dirs);
	suite_add_tcase(s, ro);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
