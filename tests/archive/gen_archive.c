/*
 * Fixture generator of the archive suite: container checkpoint archives of
 * every layout (podman, CRI-O, containerd, pod) and compression (none,
 * gzip, zstd, xz, bzip2), made with libarchive's writer from the real
 * podman archive (tests/data/podman/c1.tar.zst), the real CRIU dumps
 * (tests/data/criu-real) and the dumps gen_criu_dump writes, plus one
 * archive per broken rule.
 *
 *   gen_archive OUTDIR C1_ARCHIVE REAL_DIR [GENERATED_DUMPS_DIR]
 *   gen_archive --million FILE C1_ARCHIVE   1,000,000 members (podman layout + artifacts/)
 *   gen_archive --zeros FILE C1_ARCHIVE GIB   a GIB GiB zero member in a small zstd frame
 *   gen_archive --big FILE C1_ARCHIVE SLEEP_DUMP MIB   a valid checkpoint with
 *                                  MIB MiB of incompressible rootfs-diff (benchmark)
 *
 * OUTDIR/manifest: one line per archive, "FILE CODE MEMBER OFFSET [OPTIONS]":
 * CODE "valid" (no error, no warning) or the one finding expected; MEMBER
 * "-" for the archive itself; OFFSET "-" for none.  OUTDIR/podman-none.layout:
 * "HEADER_OFFSET DATA_OFFSET SIZE NAME" for each member of the plain tar,
 * for the truncation tests.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct ent {
	char *name;
	unsigned type;      /* AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFCHR */
	char *data;
	size_t size;
	char *link;         /* symlink target */
	char *hardlink;
} ent;

typedef struct eset {
	ent *e;
	size_t n, cap;
} eset;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("gen_archive: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

static char *xstrdup(const char *s)
{
	char *p = s ? strdup(s) : NULL;
	if (s && !p)
		die("out of memory");
	return p;
}

static char *xmemdup(const void *p, size_t n)
{
	char *q = xmalloc(n);
	memcpy(q, p, n);
	return q;
}

static ent *add(eset *s, const char *name, unsigned type, const void *data, size_t size,
		const char *link)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->e = realloc(s->e, s->cap * sizeof(*s->e));
		if (!s->e)
			die("out of memory");
	}
	ent *e = &s->e[s->n++];
	memset(e, 0, sizeof(*e));
	e->name = xstrdup(name);
	e->type = type;
	e->data = xmemdup(data ? data : "", size);
	e->size = size;
	e->link = xstrdup(link);
	return e;
}

static void add_file(eset *s, const char *name, const char *text)
{
	add(s, name, AE_IFREG, text, strlen(text), NULL);
}

static void eset_free(eset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->e[i].name);
		free(s->e[i].data);
		free(s->e[i].link);
		free(s->e[i].hardlink);
	}
	free(s->e);
	memset(s, 0, sizeof(*s));
}

/* A copy of src, names prefixed, entries whose name starts with drop left out. */
static void copy_into(eset *dst, const eset *src, const char *prefix, const char *drop)
{
	for (size_t i = 0; i < src->n; i++) {
		const ent *e = &src->e[i];
		char name[8192];
		if (drop && strncmp(e->name, drop, strlen(drop)) == 0)
			continue;
		snprintf(name, sizeof(name), "%s%s", prefix, e->name);
		ent *n = add(dst, name, e->type, e->data, e->size, e->link);
		n->hardlink = xstrdup(e->hardlink);
	}
}

static ent *find(eset *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->e[i].name, name) == 0)
			return &s->e[i];
	return NULL;
}

static void set_data(eset *s, const char *name, const void *data, size_t size)
{
	ent *e = find(s, name);
	if (!e)
		die("no member %s", name);
	free(e->data);
	e->data = xmemdup(data, size);
	e->size = size;
}

/* ---- reading -------------------------------------------------------------- */

static void load_archive(eset *s, const char *path)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;

	archive_read_support_format_tar(a);
	archive_read_support_filter_all(a);
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK)
		die("%s: %s", path, archive_error_string(a));
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		size_t size = (size_t)archive_entry_size(e);
		char *buf = xmalloc(size);
		if (archive_read_data(a, buf, size) != (la_ssize_t)size)
			die("%s: short member", path);
		add(s, archive_entry_pathname(e), archive_entry_filetype(e), buf, size,
		    archive_entry_symlink(e));
		free(buf);
	}
	archive_read_free(a);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		die("%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = xmalloc((size_t)n);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		die("%s: short read", path);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files of a dump directory as PREFIX/NAME (the parent link as a symlink). */
static void load_dir(eset *s, const char *dir, const char *prefix, const char *parent_target)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char *names[4096];
	size_t n = 0;

	if (!d)
		die("%s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL && n < 4096)
		if (de->d_name[0] != '.')
			names[n++] = xstrdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	char p[4096];
	snprintf(p, sizeof(p), "%s/", prefix);
	add(s, p, AE_IFDIR, NULL, 0, NULL);
	for (size_t i = 0; i < n; i++) {
		char path[4096], name[4096];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		snprintf(name, sizeof(name), "%s/%s", prefix, names[i]);
		if (lstat(path, &st) != 0)
			die("%s: %s", path, strerror(errno));
		if (strcmp(names[i], "parent") == 0) {
			if (parent_target)
				add(s, name, AE_IFLNK, NULL, 0, parent_target);
		} else if (strcmp(names[i], "dump.log") == 0 || strcmp(names[i], "manifest") == 0) {
			/* podman keeps CRIU's log out of checkpoint/ */
		} else if (S_ISREG(st.st_mode)) {
			size_t len;
			char *buf = slurp(path, &len);
			add(s, name, AE_IFREG, buf, len, NULL);
			free(buf);
		}
		free(names[i]);
	}
}

/* ---- writing ---------------------------------------------------------------- */

typedef struct tarbuf {
	char *p;
	size_t len;
	size_t *hdr;   /* header offset of each entry */
	size_t *data;  /* data offset of each entry */
} tarbuf;

static void build_tar(const eset *s, tarbuf *t)
{
	struct archive *w = archive_write_new();
	size_t cap = 1 << 20, used = 0;

	for (size_t i = 0; i < s->n; i++)
		cap += s->e[i].size + 2048 + strlen(s->e[i].name) * 2;
	t->p = xmalloc(cap);
	t->hdr = xmalloc(s->n * sizeof(size_t));
	t->data = xmalloc(s->n * sizeof(size_t));
	archive_write_set_format_pax_restricted(w);
	archive_write_add_filter_none(w);
	archive_write_set_bytes_per_block(w, 0);
	if (archive_write_open_memory(w, t->p, cap, &used) != ARCHIVE_OK)
		die("archive_write_open_memory: %s", archive_error_string(w));
	for (size_t i = 0; i < s->n; i++) {
		const ent *e = &s->e[i];
		struct archive_entry *ae = archive_entry_new();
		archive_entry_set_pathname(ae, e->name);
		archive_entry_set_mtime(ae, 1764680912, 0);
		if (e->hardlink) {
			archive_entry_set_hardlink(ae, e->hardlink);
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, 0644);
		} else {
			archive_entry_set_filetype(ae, e->type);
			archive_entry_set_perm(ae, e->type == AE_IFDIR ? 0755 : 0644);
		}
		if (e->type == AE_IFREG && !e->hardlink)
			archive_entry_set_size(ae, (la_int64_t)e->size);
		if (e->type == AE_IFLNK)
			archive_entry_set_symlink(ae, e->link);
		if (e->type == AE_IFCHR)
			archive_entry_set_rdev(ae, 0x0103);
		t->hdr[i] = used;
		if (archive_write_header(w, ae) != ARCHIVE_OK)
			die("%s: %s", e->name, archive_error_string(w));
		t->data[i] = used;
		if (e->type == AE_IFREG && !e->hardlink && e->size &&
		    archive_write_data(w, e->data, e->size) != (la_ssize_t)e->size)
			die("%s: %s", e->name, archive_error_string(w));
		archive_write_finish_entry(w); /* the padding, so the next header's offset is right */
		archive_entry_free(ae);
	}
	archive_write_close(w);
	archive_write_free(w);
	t->len = used;
}

static void tarbuf_free(tarbuf *t)
{
	free(t->p);
	free(t->hdr);
	free(t->data);
}

/* The bytes as they are, or compressed by libarchive's raw writer. */
static void write_bytes(const char *path, const char *p, size_t len, const char *filter)
{
	if (!filter || strcmp(filter, "none") == 0) {
		FILE *f = fopen(path, "wb");
		if (!f || fwrite(p, 1, len, f) != len || fclose(f) != 0)
			die("%s: %s", path, strerror(errno));
		return;
	}
	struct archive *w = archive_write_new();
	struct archive_entry *ae = archive_entry_new();
	archive_write_set_format_raw(w);
	if (strcmp(filter, "gzip") == 0)
		archive_write_add_filter_gzip(w);
	else if (strcmp(filter, "zstd") == 0)
		archive_write_add_filter_zstd(w);
	else if (strcmp(filter, "xz") == 0)
		archive_write_add_filter_xz(w);
	else if (strcmp(filter, "bzip2") == 0)
		archive_write_add_filter_bzip2(w);
	else
		die("unknown filter %s", filter);
	if (archive_write_open_filename(w, path) != ARCHIVE_OK)
		die("%s: %s", path, archive_error_string(w));
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_pathname(ae, "data");
	archive_entry_set_size(ae, (la_int64_t)len);
	if (archive_write_header(w, ae) != ARCHIVE_OK ||
	    archive_write_data(w, p, len) != (la_ssize_t)len)
		die("%s: %s", path, archive_error_string(w));
	archive_entry_free(ae);
	if (archive_write_close(w) != ARCHIVE_OK)
		die("%s: %s", path, archive_error_string(w));
	archive_write_free(w);
}

static const char *outdir;
static FILE *manifest;

static void emit(const char *file, const eset *s, const char *filter, const char *code,
		 const char *member, const char *offset, const char *opts)
{
	char path[4096];
	tarbuf t;

	snprintf(path, sizeof(path), "%s/%s", outdir, file);
	build_tar(s, &t);
	write_bytes(path, t.p, t.len, filter);
	tarbuf_free(&t);
	fprintf(manifest, "%s %s %s %s%s%s\n", file, code, member, offset, opts ? " " : "",
		opts ? opts : "");
}

/* The header offset of member name in the plain tar of s, as "0x..". */
static const char *header_offset(const eset *s, const char *name, size_t nth)
{
	static char buf[32];
	tarbuf t;

	build_tar(s, &t);
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->e[i].name, name) == 0 && nth-- == 0) {
			snprintf(buf, sizeof(buf), "0x%zx", t.hdr[i]);
			tarbuf_free(&t);
			return buf;
		}
	die("no member %s", name);
}

/* ---- the layouts ---------------------------------------------------------------- */

static const char crio_spec[] =
	"{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"args\":[\"sleep\",\"1000\"]},"
	"\"root\":{\"path\":\"/var/lib/containers/storage/overlay/x/merged\"},"
	"\"annotations\":{\"io.container.manager\":\"cri-o\",\"io.kubernetes.cri-o.Name\":\"k8s_c1\"}}";
static const char crio_config[] =
	"{\"id\":\"6a0ce8c2d4\",\"name\":\"k8s_sleeper_pod\",\"rootfsImage\":\"docker.io/library/busybox:latest\","
	"\"rootfsImageRef\":\"sha256:beae173ccac6\",\"rootfsImageName\":\"docker.io/library/busybox:latest\","
	"\"runtime\":\"runc\",\"createdTime\":\"2026-12-02T13:00:00Z\",\"checkpointedTime\":\"2026-12-02T13:05:00Z\"}";
static const char containerd_spec[] =
	"{\"ociVersion\":\"1.1.0\",\"process\":{\"args\":[\"sleep\",\"1000\"]},"
	"\"annotations\":{\"io.kubernetes.cri.container-type\":\"container\",\"io.kubernetes.cri.sandbox-id\":\"abc\"}}";
static const char containerd_config[] =
	"{\"id\":\"f00dfeed\",\"name\":\"sleeper\",\"rootfsImageName\":\"docker.io/library/busybox:latest\","
	"\"runtime\":\"io.containerd.runc.v2\",\"createdTime\":\"2026-12-02T13:00:00Z\"}";

/* The tar (gzip'd for containerd) of one small file: a rootfs diff. */
static void small_tar(const char *filter, char **out, size_t *outlen)
{
	eset s = { 0 };
	tarbuf t;
	char tmp[4096];

	add_file(&s, "tmp/counter", "42\n");
	build_tar(&s, &t);
	snprintf(tmp, sizeof(tmp), "%s/.small.tmp", outdir);
	write_bytes(tmp, t.p, t.len, filter);
	*out = slurp(tmp, outlen);
	unlink(tmp);
	tarbuf_free(&t);
	eset_free(&s);
}

/* podman's checkpoint with another dump as checkpoint/ (c1's metadata around it). */
static void podman_with(eset *dst, const eset *c1, const char *dumpdir, const char *ckdir,
			const char *parent)
{
	for (size_t i = 0; i < c1->n; i++) {
		const ent *e = &c1->e[i];
		if (strncmp(e->name, "checkpoint", 10) == 0)
			continue;
		add(dst, e->name, e->type, e->data, e->size, e->link);
	}
	load_dir(dst, dumpdir, ckdir, parent);
}

static void layouts(const eset *c1, const char *real, const char *gendumps)
{
	static const char *const filters[] = { "none", "gzip", "zstd", "xz", "bzip2" };
	static const char *const exts[] = { "tar", "tar.gz", "tar.zst", "tar.xz", "tar.bz2" };
	char name[600];
	char *rootfs_gz;
	size_t rootfs_gz_len;
	eset s = { 0 };

	for (size_t i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "podman-%s.%s", filters[i], exts[i]);
		emit(name, c1, filters[i], "valid", "-", "-", NULL);
	}
	/* zstd named .tar.gz, as users name them: bytes decide. */
	emit("podman-zstd-named.tar.gz", c1, "zstd", "valid", "-", "-", NULL);

	/* CRI-O: uncompressed, "./" names, bind.mounts, its log under a literal name. */
	add(&s, "./", AE_IFDIR, NULL, 0, NULL);
	copy_into(&s, c1, "./", "config.dump");
	set_data(&s, "./spec.dump", crio_spec, strlen(crio_spec));
	add_file(&s, "./config.dump", crio_config);
	add_file(&s, "./bind.mounts",
		 "[{\"source\":\"/tmp/x\",\"destination\":\"/data\",\"file_type\":\"directory\",\"permissions\":493}]");
	add_file(&s, "./deleted.files", "[\"/etc/motd\"]");
	add_file(&s, "./dump.log", "(00.000000) Dumping finished successfully\n");
	add_file(&s, "./io.kubernetes.cri-o.LogPath", "2026-12-02T13:00:00Z stdout F hello\n");
	emit("crio.tar", &s, "none", "valid", "-", "-", NULL);
	eset_free(&s);

	/* containerd: rootfs-diff.tar is gzip data, status files, no podman extras. */
	small_tar("gzip", &rootfs_gz, &rootfs_gz_len);
	copy_into(&s, c1, "", "config.dump");
	set_data(&s, "spec.dump", containerd_spec, strlen(containerd_spec));
	set_data(&s, "rootfs-diff.tar", rootfs_gz, rootfs_gz_len);
	add_file(&s, "config.dump", containerd_config);
	add_file(&s, "status", "{\"pid\":1234,\"createdAt\":\"2026-12-02T13:00:00Z\"}");
	add_file(&s, "status.dump", "{\"id\":\"f00dfeed\",\"state\":\"CONTAINER_RUNNING\"}");
	add_file(&s, "container.log", "");
	emit("containerd.tar", &s, "none", "valid", "-", "-", NULL);
	free(rootfs_gz);
	eset_free(&s);

	/* A pod checkpoint: pod.options, pod.dump, one folder per container. */
	add_file(&s, "pod.options",
		 "{\"version\":1,\"containers\":{\"c1\":\"b903db11-c1\",\"c2\":\"a1b2c3d4-c2\"},\"mountLabel\":\"\"}");
	add_file(&s, "pod.dump", "{\"id\":\"pod0\",\"name\":\"pod0\"}");
	copy_into(&s, c1, "b903db11-c1/", NULL);
	copy_into(&s, c1, "a1b2c3d4-c2/", NULL);
	emit("pod.tar.zst", &s, "zstd", "valid", "-", "-", NULL);
	eset_free(&s);

	/* Each real CRIU dump as a podman checkpoint. */
	DIR *d = opendir(real);
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL) {
		char dir[8192];
		if (de->d_name[0] == '.' || strchr(de->d_name, '.'))
			continue;
		/* incremental dumps: the pairs below */
		if (strcmp(de->d_name, "incr-2") == 0 || strncmp(de->d_name, "chain-", 6) == 0)
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", real, de->d_name);
		podman_with(&s, c1, dir, "checkpoint", NULL);
		snprintf(name, sizeof(name), "real-%s.tar.zst", de->d_name);
		emit(name, &s, "zstd", "valid", "-", "-", NULL);
		eset_free(&s);
	}
	if (d)
		closedir(d);

	/* The dumps gen_criu_dump writes (valid ones) as podman checkpoints. */
	if (gendumps) {
		char mpath[8400], line[1024];
		snprintf(mpath, sizeof(mpath), "%s/manifest", gendumps);
		FILE *m = fopen(mpath, "r");
		while (m && fgets(line, sizeof(line), m)) {
			char dname[256], code[256], dir[8192];
			if (sscanf(line, "%255s %255s", dname, code) != 2 || strcmp(code, "valid") != 0)
				continue;
			snprintf(dir, sizeof(dir), "%s/%s", gendumps, dname);
			struct stat st;
			snprintf(mpath, sizeof(mpath), "%s/inventory.img", dir);
			if (stat(mpath, &st) != 0)
				continue; /* not a dump (cpuinfo) */
			snprintf(mpath, sizeof(mpath), "%s/parent", dir);
			if (lstat(mpath, &st) == 0)
				continue; /* chains are the real pairs' business */
			podman_with(&s, c1, dir, "checkpoint", NULL);
			snprintf(name, sizeof(name), "gen-%s.tar", dname);
			emit(name, &s, "none", "valid", "-", "-", NULL);
			eset_free(&s);
		}
		if (m)
			fclose(m);
	}

	/* Pre-checkpoint chains: two archives (podman 4.3), and one holding both. */
	char pre[4096], fin[4096];
	snprintf(pre, sizeof(pre), "%s/incr-1", real);
	snprintf(fin, sizeof(fin), "%s/incr-2", real);
	podman_with(&s, c1, pre, "pre-checkpoint", NULL);
	emit("pre.tar.zst", &s, "zstd", "valid", "-", "-", NULL);
	eset_free(&s);
	podman_with(&s, c1, fin, "checkpoint", "../pre-checkpoint");
	emit("final.tar.zst", &s, "zstd", "container.parent.previous-missing", "-", "-", NULL);
	emit("final-with-previous.tar.zst", &s, "zstd", "valid", "-", "-", "--previous=pre.tar.zst");
	load_dir(&s, pre, "pre-checkpoint", NULL);
	emit("combined.tar.zst", &s, "zstd", "valid", "-", "-", NULL);
	eset_free(&s);
	/* The parent link names a folder no archive has. */
	podman_with(&s, c1, fin, "checkpoint", "../elsewhere");
	emit("dangling-parent.tar.zst", &s, "zstd", "container.parent.dangling", "-", "-",
	     "--previous=pre.tar.zst");
	eset_free(&s);
	/* --previous with a checkpoint that has no parent: a warning. */
	emit("previous-unused.tar.zst", c1, "zstd", "container.previous.unused", "-", "-",
	     "--previous=pre.tar.zst");
}

/* ---- one archive per broken rule -------------------------------------------------- */

static void broken(const eset *c1)
{
	eset s = { 0 };
	char off[64];

	/* No checkpoint/ at all. */
	copy_into(&s, c1, "", "checkpoint");
	emit("no-checkpoint.tar", &s, "none", "container.layout.no-checkpoint", "-", "-", NULL);
	eset_free(&s);

	copy_into(&s, c1, "", "config.dump");
	emit("no-config.tar", &s, "none", "container.member.missing", "-", "-", NULL);
	eset_free(&s);

	/* Malformed JSON: the error is at byte 11 (the second comma). */
	copy_into(&s, c1, "", NULL);
	set_data(&s, "config.dump", "{\"id\":\"x\",,\"name\":\"c\"}", 22);
	emit("bad-config.tar", &s, "none", "container.json.malformed", "config.dump", "0xb", NULL);
	set_data(&s, "config.dump", "{\"name\":\"c1\"}", 13);
	emit("config-no-id.tar", &s, "none", "container.json.field", "config.dump", "-", NULL);
	eset_free(&s);

	copy_into(&s, c1, "", NULL);
	set_data(&s, "spec.dump", "", 0);
	emit("empty-spec.tar", &s, "none", "container.json.malformed", "spec.dump", "0x0", NULL);
	set_data(&s, "spec.dump", "{\"process\":{}}", 14);
	emit("spec-no-version.tar", &s, "none", "container.json.field", "spec.dump", "-", NULL);
	eset_free(&s);

	copy_into(&s, c1, "", NULL);
	set_data(&s, "checkpoint/descriptors.json", "{\"0\":\"/dev/null\"}", 17);
	emit("descriptors-object.tar", &s, "none", "container.json.field",
	     "checkpoint/descriptors.json", "-", NULL);
	eset_free(&s);

	copy_into(&s, c1, "", NULL);
	set_data(&s, "network.status", "{\"podman\":", 10);
	emit("network-truncated-json.tar", &s, "none", "container.json.malformed", "network.status",
	     "0xa", NULL);
	eset_free(&s);

	/* A member listed twice: the second header is the finding. */
	copy_into(&s, c1, "", NULL);
	add(&s, "config.dump", AE_IFREG, find(&s, "config.dump")->data,
	    find(&s, "config.dump")->size, NULL);
	snprintf(off, sizeof(off), "%s", header_offset(&s, "config.dump", 1));
	emit("duplicate.tar", &s, "none", "container.member.duplicate", "config.dump", off, NULL);
	eset_free(&s);

	copy_into(&s, c1, "", NULL);
	add_file(&s, "/etc/cron.d/evil", "* * * * * root sh\n");
	emit("absolute.tar", &s, "none", "container.member.path", "/etc/cron.d/evil", "-", NULL);
	eset_free(&s);

	copy_into(&s, c1, "", NULL);
	add_file(&s, "checkpoint/../../evil", "x");
	emit("dotdot.tar", &s, "none", "container.member.path", "checkpoint/../../evil", "-", NULL);
	eset_free(&s);

	copy_into(&s, c1, "", NULL);
	add(&s, "artifacts/etc", AE_IFLNK, NULL, 0, "../../etc");
	emit("symlink-out.tar", &s, "none", "container.member.link-out", "artifacts/etc", "-", NULL);
	eset_free(&s);

	copy_into(&s, c1, "", NULL);
	add(&s, "artifacts/log", AE_IFREG, NULL, 0, NULL)->hardlink = xstrdup("ctr.log");
	emit("hardlink.tar", &s, "none", "container.member.hardlink", "artifacts/log", "-", NULL);
	eset_free(&s);

	copy_into(&s, c1, "", NULL);
	add(&s, "artifacts/null", AE_IFCHR, NULL, 0, NULL);
	emit("device.tar", &s, "none", "container.member.special", "artifacts/null", "-", NULL);
	eset_free(&s);

	/* A 100 KiB name: named in the diagnostic by its first 200 bytes. */
	{
		size_t n = 100 * 1024;
		char *longname = xmalloc(n + 1);
		for (size_t i = 0; i < n; i++)
			longname[i] = (i % 100 == 99) ? '/' : 'a';
		longname[n - 1] = 'z';
		longname[n] = '\0';
		copy_into(&s, c1, "", NULL);
		add_file(&s, longname, "x");
		char shown[256];
		snprintf(shown, sizeof(shown), "%.200s...", longname);
		emit("longname.tar", &s, "none", "container.member.name-long", shown, "-", NULL);
		eset_free(&s);
		free(longname);
	}

	copy_into(&s, c1, "", NULL);
	add_file(&s, "extra/notes.txt", "hello");
	add_file(&s, "extra/more.txt", "hello");
	emit("unexpected.tar", &s, "none", "container.member.unexpected", "extra/notes.txt", "-", NULL);
	eset_free(&s);

	/* config.dump as a folder. */
	copy_into(&s, c1, "", "config.dump");
	add(&s, "config.dump/", AE_IFDIR, NULL, 0, NULL);
	emit("config-folder.tar", &s, "none", "container.member.kind", "config.dump/", "-", NULL);
	eset_free(&s);

	/* A 5 MiB config.dump (valid JSON padded with spaces): over the cap. */
	{
		size_t n = 5u << 20;
		char *big = xmalloc(n);
		memset(big, ' ', n);
		static const char head[] = "{\"id\":\"x\",\"name\":\"c1\"}";
		memcpy(big, head, sizeof(head) - 1);
		copy_into(&s, c1, "", NULL);
		set_data(&s, "config.dump", big, n);
		emit("config-large.tar.zst", &s, "zstd", "container.json.too-large", "config.dump", "-", NULL);
		eset_free(&s);
		free(big);
	}

	/* A name with terminal control sequences: escaped wherever it is shown. */
	copy_into(&s, c1, "", NULL);
	add_file(&s, "\x1b]0;pwned\x07" "evil", "x");
	emit("ctrl-name.tar", &s, "none", "container.member.unexpected", "\\x1b]0;pwned\\x07evil", "-", NULL);
	eset_free(&s);

	/* rootfs-diff.tar with a broken header checksum (its first byte). */
	copy_into(&s, c1, "", NULL);
	{
		ent *e = find(&s, "rootfs-diff.tar");
		e->data[0] ^= 0x01;
	}
	emit("nested-corrupt.tar", &s, "none", "container.nested.corrupt", "rootfs-diff.tar", "0x0", NULL);
	eset_free(&s);

	/* pod.options naming a folder that is not there. */
	add_file(&s, "pod.options", "{\"version\":1,\"containers\":{\"c1\":\"b903db11-c1\",\"c2\":\"gone-c2\"}}");
	copy_into(&s, c1, "b903db11-c1/", NULL);
	emit("pod-missing.tar", &s, "none", "container.pod.container-missing", "-", "-", NULL);
	eset_free(&s);

	/* A tmpfs image that is not gzip. */
	copy_into(&s, c1, "", NULL);
	set_data(&s, "checkpoint/tmpfs-dev-37.tar.gz.img", "plain text, not gzip", 20);
	emit("tmpfs-not-gzip.tar", &s, "none", "criu.tmpfs.not-gzip",
	     "checkpoint/tmpfs-dev-37.tar.gz.img", "0x0", NULL);
	eset_free(&s);

	/* stats-dump with a bad magic, found by the image checks. */
	copy_into(&s, c1, "", NULL);
	find(&s, "stats-dump")->data[0] ^= 0xff;
	emit("bad-stats.tar.zst", &s, "zstd", "criu.magic.unknown", "stats-dump", "0x0", NULL);
	eset_free(&s);

	/* A pages file one page shorter than its pagemap says: the dump checks. */
	copy_into(&s, c1, "", NULL);
	find(&s, "checkpoint/pages-1.img")->size -= 4096;
	emit("pages-short.tar.zst", &s, "zstd", "criu.dump.pages.size", "checkpoint/pages-1.img", "-", NULL);
	eset_free(&s);
}

/* Byte-level damage of the plain podman tar. */
static void damaged(const eset *c1)
{
	tarbuf t;
	char path[4096], off[64];
	size_t cfg = 0;

	build_tar(c1, &t);
	/* The layout, for the truncation loop of the test. */
	snprintf(path, sizeof(path), "%s/podman-none.layout", outdir);
	FILE *f = fopen(path, "w");
	if (!f)
		die("%s: %s", path, strerror(errno));
	for (size_t i = 0; i < c1->n; i++) {
		fprintf(f, "%zu %zu %zu %s\n", t.hdr[i], t.data[i], c1->e[i].size, c1->e[i].name);
		if (strcmp(c1->e[i].name, "config.dump") == 0)
			cfg = i;
	}
	fprintf(f, "%zu %zu 0 -\n", t.len, t.len);
	fclose(f);

	/* A header checksum: one byte of config.dump's name. */
	t.p[t.hdr[cfg] + 1] ^= 0x01;
	snprintf(path, sizeof(path), "%s/header-checksum.tar", outdir);
	write_bytes(path, t.p, t.len, "none");
	snprintf(off, sizeof(off), "0x%zx", t.hdr[cfg]);
	fprintf(manifest, "header-checksum.tar archive.corrupt - %s\n", off);
	t.p[t.hdr[cfg] + 1] ^= 0x01;

	/* The end-of-archive blocks cut off: truncated after the last member. */
	size_t end = t.data[c1->n - 1] + (c1->e[c1->n - 1].size + 511) / 512 * 512;
	snprintf(path, sizeof(path), "%s/no-trailer.tar", outdir);
	write_bytes(path, t.p, end, "none");
	fprintf(manifest, "no-trailer.tar archive.truncated - 0x%zx\n", end);

	/* gzip'd, then cut inside the compressed data: the core's finding. */
	snprintf(path, sizeof(path), "%s/cut.tar.gz", outdir);
	write_bytes(path, t.p, t.len, "gzip");
	{
		size_t len;
		char *gz = slurp(path, &len);
		write_bytes(path, gz, len / 2, "none");
		fprintf(manifest, "cut.tar.gz input.gzip.truncated - *\n");
		/* and corrupt in the middle */
		gz[len / 2] ^= 0x55;
		gz[len / 2 + 1] ^= 0x55;
		snprintf(path, sizeof(path), "%s/corrupt.tar.gz", outdir);
		write_bytes(path, gz, len, "none");
		fprintf(manifest, "corrupt.tar.gz input.gzip.corrupt - *\n");
		free(gz);
	}
	/* zstd, xz and bzip2 cut in half and damaged: libarchive's findings. */
	static const char *const filters[] = { "zstd", "xz", "bzip2" };
	for (size_t i = 0; i < 3; i++) {
		size_t len;
		snprintf(path, sizeof(path), "%s/cut.tar.%s", outdir, filters[i]);
		write_bytes(path, t.p, t.len, filters[i]);
		char *z = slurp(path, &len);
		write_bytes(path, z, len / 2, "none");
		fprintf(manifest, "cut.tar.%s archive.truncated * *\n", filters[i]);
		z[len / 2] ^= 0x55;
		z[len / 2 + 1] ^= 0x55;
		z[len / 2 + 2] ^= 0x55;
		snprintf(path, sizeof(path), "%s/corrupt.tar.%s", outdir, filters[i]);
		write_bytes(path, z, len, "none");
		fprintf(manifest, "corrupt.tar.%s archive.corrupt * *\n", filters[i]);
		free(z);
	}
	tarbuf_free(&t);
}

/* ---- the big ones -------------------------------------------------------------------- */

/* 1,000,000 members: c1's checkpoint and 999,958 empty files under artifacts/. */
static void million(const char *path, const eset *c1)
{
	struct archive *w = archive_write_new();

	archive_write_set_format_pax_restricted(w);
	archive_write_add_filter_zstd(w);
	if (archive_write_open_filename(w, path) != ARCHIVE_OK)
		die("%s: %s", path, archive_error_string(w));
	struct archive_entry *ae = archive_entry_new();
	for (size_t i = 0; i < 1000000; i++) {
		char name[64];
		archive_entry_clear(ae);
		archive_entry_set_mtime(ae, 1764680912, 0);
		if (i < c1->n) {
			const ent *e = &c1->e[i];
			archive_entry_set_pathname(ae, e->name);
			archive_entry_set_filetype(ae, e->type);
			archive_entry_set_perm(ae, 0644);
			if (e->type == AE_IFREG)
				archive_entry_set_size(ae, (la_int64_t)e->size);
			if (archive_write_header(w, ae) != ARCHIVE_OK ||
			    (e->size && archive_write_data(w, e->data, e->size) != (la_ssize_t)e->size))
				die("%s", archive_error_string(w));
			continue;
		}
		snprintf(name, sizeof(name), "artifacts/f%07zu", i);
		archive_entry_set_pathname(ae, name);
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_set_perm(ae, 0644);
		archive_entry_set_size(ae, 0);
		if (archive_write_header(w, ae) != ARCHIVE_OK)
			die("%s", archive_error_string(w));
	}
	archive_entry_free(ae);
	archive_write_close(w);
	archive_write_free(w);
}

static void put(FILE *f, const void *p, size_t n)
{
	if (fwrite(p, 1, n, f) != n)
		die("write: %s", strerror(errno));
}

/* A ustar header of a regular file (size below 8 GiB). */
static void ustar_header(unsigned char hdr[512], const char *name, uint64_t size)
{
	unsigned sum = 0;

	memset(hdr, 0, 512);
	snprintf((char *)hdr, 100, "%s", name);
	memcpy(hdr + 100, "0000644", 8);
	memcpy(hdr + 108, "0000000", 8);
	memcpy(hdr + 116, "0000000", 8);
	snprintf((char *)hdr + 124, 12, "%011llo", (unsigned long long)(size & 077777777777ull));
	memcpy(hdr + 136, "15061464720", 12);
	hdr[156] = '0';
	memcpy(hdr + 257, "ustar", 6);
	memcpy(hdr + 263, "00", 2);
	memset(hdr + 148, ' ', 8);
	for (size_t i = 0; i < 512; i++)
		sum += hdr[i];
	snprintf((char *)hdr + 148, 8, "%06o", sum);
	hdr[155] = ' ';
}

/*
 * A large, valid checkpoint for the benchmark: c1's metadata, the real
 * sleep dump as checkpoint/, and a rootfs-diff.tar holding one file of MIB
 * MiB (random, zero and text pages in turn), written as it goes (never all
 * in memory).
 */
static void big(const char *path, const eset *c1, const char *sleepdir, unsigned mib)
{
	eset s = { 0 };
	struct archive *w = archive_write_new();
	struct archive_entry *ae = archive_entry_new();
	uint64_t data = (uint64_t)mib << 20;
	uint64_t inner = 512 + data + 1024; /* data is a multiple of 512 */
	unsigned char hdr[512], zero[1024];
	static unsigned char buf[1 << 16];
	uint64_t x = 0x9e3779b97f4a7c15ull;

	podman_with(&s, c1, sleepdir, "checkpoint", NULL);
	archive_write_set_format_pax_restricted(w);
	if (archive_write_open_filename(w, path) != ARCHIVE_OK)
		die("%s: %s", path, archive_error_string(w));
	for (size_t i = 0; i < s.n; i++) {
		const ent *e = &s.e[i];
		archive_entry_clear(ae);
		archive_entry_set_pathname(ae, e->name);
		archive_entry_set_filetype(ae, e->type);
		archive_entry_set_perm(ae, 0644);
		archive_entry_set_mtime(ae, 1764680912, 0);
		bool rootfs = strcmp(e->name, "rootfs-diff.tar") == 0;
		if (e->type == AE_IFREG)
			archive_entry_set_size(ae, rootfs ? (la_int64_t)inner : (la_int64_t)e->size);
		if (archive_write_header(w, ae) != ARCHIVE_OK)
			die("%s", archive_error_string(w));
		if (!rootfs) {
			if (e->size && archive_write_data(w, e->data, e->size) != (la_ssize_t)e->size)
				die("%s", archive_error_string(w));
			continue;
		}
		ustar_header(hdr, "data.bin", data);
		archive_write_data(w, hdr, 512);
		for (uint64_t o = 0; o < data; o += sizeof(buf)) {
			/* Pages as memory is: random, zero, and small-alphabet text in turn. */
			for (size_t k = 0; k < sizeof(buf); k += 8) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				uint64_t v = (k / 4096) % 3 == 0 ? x : (k / 4096) % 3 == 1 ? 0 :
					     (x & 0x0f0f0f0f0f0f0f0full) | 0x6060606060606060ull;
				memcpy(buf + k, &v, 8);
			}
			if (archive_write_data(w, buf, sizeof(buf)) != (la_ssize_t)sizeof(buf))
				die("%s", archive_error_string(w));
		}
		memset(zero, 0, sizeof(zero));
		archive_write_data(w, zero, sizeof(zero));
	}
	archive_entry_free(ae);
	if (archive_write_close(w) != ARCHIVE_OK)
		die("%s", archive_error_string(w));
	archive_write_free(w);
	eset_free(&s);
}

/* A zstd block header: last flag, type (0 raw, 1 RLE), size. */
static void zblock(FILE *f, int last, int type, uint32_t size)
{
	uint32_t h = (uint32_t)last | (uint32_t)type << 1 | size << 3;
	unsigned char b[3] = { (unsigned char)h, (unsigned char)(h >> 8), (unsigned char)(h >> 16) };
	put(f, b, 3);
}

/*
 * c1's members, then artifacts/zeros of GIB GiB, written as one zstd frame
 * by hand: raw blocks for the tar headers, RLE blocks for the zeros (4
 * bytes per 128 KiB), so the file stays small.
 */
static void zeros(const char *path, const eset *c1, unsigned gib)
{
	eset s = { 0 };
	tarbuf head, tail;
	uint64_t size = (uint64_t)gib << 30;
	FILE *f = fopen(path, "wb");

	if (!f)
		die("%s: %s", path, strerror(errno));
	copy_into(&s, c1, "", NULL);
	build_tar(&s, &head);
	/* Drop the end blocks; append the big member's header by hand. */
	size_t hlen = head.data[s.n - 1] + (s.e[s.n - 1].size + 511) / 512 * 512;
	unsigned char hdr[512];
	ustar_header(hdr, "artifacts/zeros", size);
	(void)tail;

	static const unsigned char magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
	put(f, magic, 4);
	unsigned char fhd = 0; /* no checksum, no content size, window descriptor follows */
	put(f, &fhd, 1);
	unsigned char wd = (17 - 10) << 3; /* 128 KiB window */
	put(f, &wd, 1);
	for (size_t o = 0; o < hlen; o += 65536) {
		size_t n = hlen - o < 65536 ? hlen - o : 65536;
		zblock(f, 0, 0, (uint32_t)n);
		put(f, head.p + o, n);
	}
	zblock(f, 0, 0, 512);
	put(f, hdr, 512);
	for (uint64_t o = 0; o < size; o += 131072) {
		zblock(f, 0, 1, 131072);
		unsigned char z = 0;
		put(f, &z, 1);
	}
	/* End-of-archive blocks (size is a multiple of 512: no padding). */
	zblock(f, 1, 1, 1024);
	unsigned char z = 0;
	put(f, &z, 1);
	if (fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
	tarbuf_free(&head);
	eset_free(&s);
}

int main(int argc, char **argv)
{
	eset c1 = { 0 };

	if (argc == 4 && strcmp(argv[1], "--million") == 0) {
		load_archive(&c1, argv[3]);
		million(argv[2], &c1);
		eset_free(&c1);
		return 0;
	}
	if (argc == 6 && strcmp(argv[1], "--big") == 0) {
		load_archive(&c1, argv[3]);
		big(argv[2], &c1, argv[4], (unsigned)atoi(argv[5]));
		eset_free(&c1);
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "--zeros") == 0) {
		load_archive(&c1, argv[3]);
		zeros(argv[2], &c1, (unsigned)atoi(argv[4]));
		eset_free(&c1);
		return 0;
	}
	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: gen_archive OUTDIR C1_ARCHIVE REAL_DIR [GENERATED_DUMPS]\n"
				"       gen_archive --million FILE C1_ARCHIVE\n"
				"       gen_archive --zeros FILE C1_ARCHIVE GIB\n");
		return 2;
	}
	outdir = argv[1];
	mkdir(outdir, 0755);
	char mpath[4096];
	snprintf(mpath, sizeof(mpath), "%s/manifest", outdir);
	if (!(manifest = fopen(mpath, "w")))
		die("%s: %s", mpath, strerror(errno));
	load_archive(&c1, argv[2]);
	layouts(&c1, argv[3], argc == 5 ? argv[4] : NULL);
	broken(&c1);
	damaged(&c1);
	fclose(manifest);
	eset_free(&c1);
	return 0;
}
