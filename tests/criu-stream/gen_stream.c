/*
 * gen_stream: writes criu-image-streamer captures (as the streamer's
 * src/capture.rs lays them out: u32 LE length + image.marker, file data
 * after each file_data marker) for the criu-stream tests.
 *
 *   gen_stream --all DUMP OUT   every fixture from the dump directory DUMP
 *                               (a real CRIU dump), and OUT/manifest: path,
 *                               expected code ("-" for clean), offset, file
 *                               the offset is in ("-": the capture), exit
 *   gen_stream --markers N F    a capture of one file cut into N markers
 *
 * With --all it also writes captures split over shards (the streamer's
 * --shard-fds): directories of shard files under OUT/shards/, markers
 * dealt round-robin, and OUT/shards/manifest: directory, code, offset,
 * the shard file the offset is in ("-": none), exit.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "streamverify.h"
#include "image-streamer-marker.pb-c.h"

static const char *out_dir;
static FILE *manifest;

#define MAX_SHARDS 4
#define SEQ_KEPT 4096

/*
 * A capture being written: f and bytes are the shard being written (the
 * only one unless nshards > 1: then each marker goes to the next shard,
 * round-robin, and its data with it).
 */
typedef struct cap {
	FILE *f;
	uint64_t seq;
	long bytes;
	int nshards, cur;
	FILE *fs[MAX_SHARDS];
	long sbytes[MAX_SHARDS];
	long seq_off[SEQ_KEPT];      /* where the first markers went */
	int seq_shard[SEQ_KEPT];
} cap;

static char *path_of(const char *rel)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s/%s", out_dir, rel);
	return buf;
}

static void die(const char *what)
{
	perror(what);
	exit(2);
}

static void put_u32(cap *c, uint32_t v)
{
	unsigned char b[4] = { (unsigned char)v, (unsigned char)(v >> 8),
			       (unsigned char)(v >> 16), (unsigned char)(v >> 24) };
	if (fwrite(b, 1, 4, c->f) != 4)
		die("write");
	c->bytes += 4;
}

static void put_bytes(cap *c, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, c->f) != n)
		die("write");
	c->bytes += (long)n;
}

/* Several shards: the next marker goes to the next shard. */
static void next_shard(cap *c)
{
	if (c->nshards < 2)
		return;
	c->sbytes[c->cur] = c->bytes;
	c->cur = (c->cur + 1) % c->nshards;
	c->f = c->fs[c->cur];
	c->bytes = c->sbytes[c->cur];
}

/* One marker; returns its offset (in its shard: c->cur). */
static long put_marker(cap *c, Image__Marker *m)
{
	long at;

	next_shard(c);
	at = c->bytes;
	if (m->seq < SEQ_KEPT) {
		c->seq_off[m->seq] = at;
		c->seq_shard[m->seq] = c->cur;
	}
	unsigned char buf[8192];
	size_t n = image__marker__get_packed_size(m);

	if (n > sizeof(buf))
		exit(2);
	image__marker__pack(m, buf);
	put_u32(c, (uint32_t)n);
	put_bytes(c, buf, n);
	return at;
}

static long m_filename(cap *c, const char *name)
{
	Image__Marker m = IMAGE__MARKER__INIT;
	m.seq = c->seq++;
	m.body_case = IMAGE__MARKER__BODY_FILENAME;
	m.filename = (char *)name;
	return put_marker(c, &m);
}

static long m_data(cap *c, const void *p, uint32_t n)
{
	Image__Marker m = IMAGE__MARKER__INIT;
	m.seq = c->seq++;
	m.body_case = IMAGE__MARKER__BODY_FILE_DATA;
	m.file_data = n;
	long at = put_marker(c, &m);
	put_bytes(c, p, n);
	return at;
}

static long m_file_eof(cap *c)
{
	Image__Marker m = IMAGE__MARKER__INIT;
	m.seq = c->seq++;
	m.body_case = IMAGE__MARKER__BODY_FILE_EOF;
	m.file_eof = 1;
	return put_marker(c, &m);
}

static long m_image_eof(cap *c)
{
	Image__Marker m = IMAGE__MARKER__INIT;
	m.seq = c->seq++;
	m.body_case = IMAGE__MARKER__BODY_IMAGE_EOF;
	m.image_eof = 1;
	return put_marker(c, &m);
}

static cap cap_open(const char *rel)
{
	cap c = { .f = fopen(path_of(rel), "wb"), .nshards = 1 };
	if (!c.f)
		die(rel);
	c.fs[0] = c.f;
	return c;
}

/* A capture over n shards: DIR/shard-0 ... DIR/shard-(n-1). */
static cap shards_open(const char *dir, int n)
{
	cap c = { .nshards = n, .cur = n - 1 };
	memset(c.seq_off, 0xff, sizeof(c.seq_off)); /* -1: not written */
	char rel[256];

	if (mkdir(path_of(dir), 0755) != 0 && errno != EEXIST)
		die(dir);
	for (int k = 0; k < n; k++) {
		snprintf(rel, sizeof(rel), "%s/shard-%d", dir, k);
		c.fs[k] = fopen(path_of(rel), "wb");
		if (!c.fs[k])
			die(rel);
	}
	/* The first marker goes to shard 0. */
	c.f = c.fs[n - 1];
	return c;
}

static void cap_close(cap *c)
{
	for (int k = 0; k < c->nshards; k++)
		if (fclose(c->fs[k]) != 0)
			die("close");
}

static void expect(const char *rel, const char *code, long off, const char *file)
{
	int status = 0;

	if (code) {
		const sv_code *k = sv_code_find(code);
		if (!k) {
			fprintf(stderr, "gen_stream: unknown code %s\n", code);
			exit(2);
		}
		status = k->severity == SV_ERROR ? 1 : 0;
	}
	fprintf(manifest, "%s\t%s\t%ld\t%s\t%d\n", rel, code ? code : "-", code ? off : -1L,
		file ? file : "-", status);
}

/* ---- the dump's files ------------------------------------------------------------ */

typedef struct dfile {
	char name[256];
	unsigned char *data;
	size_t len;
} dfile;

static dfile files[256];
static size_t nfiles;

static int by_name(const void *a, const void *b)
{
	return strcmp(((const dfile *)a)->name, ((const dfile *)b)->name);
}

static void load_dump(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		die(dir);
	while ((e = readdir(d)) && nfiles < 256) {
		char p[4096];
		struct stat st;
		if (e->d_name[0] == '.' || strstr(e->d_name, ".log"))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (stat(p, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		FILE *f = fopen(p, "rb");
		if (!f)
			die(p);
		dfile *df = &files[nfiles++];
		snprintf(df->name, sizeof(df->name), "%s", e->d_name);
		df->len = (size_t)st.st_size;
		df->data = malloc(df->len ? df->len : 1);
		if (!df->data || fread(df->data, 1, df->len, f) != df->len)
			die(p);
		fclose(f);
	}
	closedir(d);
	qsort(files, nfiles, sizeof(files[0]), by_name);
}

static dfile *dump_file(const char *prefix)
{
	for (size_t i = 0; i < nfiles; i++)
		if (strncmp(files[i].name, prefix, strlen(prefix)) == 0)
			return &files[i];
	fprintf(stderr, "gen_stream: no %s* in the dump\n", prefix);
	exit(2);
}

/* One whole file: its name, data in chunks of at most chunk bytes, file_eof. */
static void put_file(cap *c, const dfile *df, size_t chunk)
{
	m_filename(c, df->name);
	for (size_t at = 0; at < df->len; at += chunk) {
		size_t n = df->len - at < chunk ? df->len - at : chunk;
		m_data(c, df->data + at, (uint32_t)n);
	}
	m_file_eof(c);
}

/* The whole dump, file after file; skip names the file left out. */
static void put_dump(cap *c, const char *skip, size_t chunk)
{
	for (size_t i = 0; i < nfiles; i++)
		if (!skip || strcmp(files[i].name, skip) != 0)
			put_file(c, &files[i], chunk);
}

static void fixtures(void)
{
	cap c;
	long off;

	if (mkdir(path_of("valid"), 0755) != 0 && errno != EEXIST)
		die("valid");
	if (mkdir(path_of("broken"), 0755) != 0 && errno != EEXIST)
		die("broken");

	/* Valid: the dump file by file, in 64 KiB chunks and in 1000-byte ones. */
	c = cap_open("valid/dump.capture");
	put_dump(&c, NULL, 65536);
	m_image_eof(&c);
	cap_close(&c);
	expect("valid/dump.capture", NULL, -1, NULL);
	c = cap_open("valid/small-chunks.capture");
	put_dump(&c, NULL, 1000);
	m_image_eof(&c);
	cap_close(&c);
	expect("valid/small-chunks.capture", NULL, -1, NULL);

	/* Valid: pagemap and pages interleaved chunk by chunk, as the
	 * streamer writes files CRIU writes at the same time. */
	{
		dfile *pm = dump_file("pagemap-"), *pg = dump_file("pages-");
		c = cap_open("valid/interleaved.capture");
		for (size_t i = 0; i < nfiles; i++)
			if (&files[i] != pm && &files[i] != pg)
				put_file(&c, &files[i], 65536);
		size_t a = 0, b = 0;
		while (a < pm->len || b < pg->len) {
			if (a < pm->len) {
				size_t n = pm->len - a < 16 ? pm->len - a : 16;
				m_filename(&c, pm->name);
				m_data(&c, pm->data + a, (uint32_t)n);
				a += n;
				if (a == pm->len)
					m_file_eof(&c);
			}
			if (b < pg->len) {
				size_t n = pg->len - b < 4096 ? pg->len - b : 4096;
				m_filename(&c, pg->name);
				m_data(&c, pg->data + b, (uint32_t)n);
				b += n;
				if (b == pg->len)
					m_file_eof(&c);
			}
		}
		m_image_eof(&c);
		cap_close(&c);
		expect("valid/interleaved.capture", NULL, -1, NULL);
	}

	/* The marker rules, one each. */
	c = cap_open("broken/seq-gap.capture");
	put_file(&c, &files[0], 65536);
	c.seq++;
	off = c.bytes;
	for (size_t i = 1; i < nfiles; i++)
		put_file(&c, &files[i], 65536);
	m_image_eof(&c);
	cap_close(&c);
	expect("broken/seq-gap.capture", "criu-stream.seq", off, NULL);

	c = cap_open("broken/seq-repeat.capture");
	put_dump(&c, NULL, 65536);
	c.seq--;
	off = m_image_eof(&c);
	cap_close(&c);
	expect("broken/seq-repeat.capture", "criu-stream.seq", off, NULL);

	c = cap_open("broken/no-body.capture");
	put_dump(&c, NULL, 65536);
	{
		Image__Marker m = IMAGE__MARKER__INIT;
		m.seq = c.seq++;
		off = put_marker(&c, &m);
	}
	cap_close(&c);
	expect("broken/no-body.capture", "criu-stream.marker.malformed", off, NULL);

	c = cap_open("broken/eof-false.capture");
	m_filename(&c, files[0].name);
	m_data(&c, files[0].data, (uint32_t)files[0].len);
	{
		Image__Marker m = IMAGE__MARKER__INIT;
		m.seq = c.seq++;
		m.body_case = IMAGE__MARKER__BODY_FILE_EOF;
		m.file_eof = 0;
		off = put_marker(&c, &m);
	}
	cap_close(&c);
	expect("broken/eof-false.capture", "criu-stream.marker.malformed", off, NULL);

	c = cap_open("broken/not-protobuf.capture");
	put_dump(&c, NULL, 65536);
	off = c.bytes;
	put_u32(&c, 3);
	put_bytes(&c, "\x08\xff\xff", 3);
	cap_close(&c);
	expect("broken/not-protobuf.capture", "criu-stream.marker.malformed", off, NULL);

	c = cap_open("broken/data-no-file.capture");
	put_dump(&c, NULL, 65536);
	off = m_data(&c, "abc", 3);
	m_image_eof(&c);
	cap_close(&c);
	expect("broken/data-no-file.capture", "criu-stream.no-file", off, NULL);

	c = cap_open("broken/eof-no-file.capture");
	put_dump(&c, NULL, 65536);
	off = m_file_eof(&c);
	m_image_eof(&c);
	cap_close(&c);
	expect("broken/eof-no-file.capture", "criu-stream.no-file", off, NULL);

	c = cap_open("broken/filename.capture");
	off = m_filename(&c, "../inventory.img");
	cap_close(&c);
	expect("broken/filename.capture", "criu-stream.filename", off, NULL);

	c = cap_open("broken/file-twice.capture");
	put_dump(&c, NULL, 65536);
	off = m_filename(&c, files[0].name);
	cap_close(&c);
	expect("broken/file-twice.capture", "criu-stream.file-twice", off, NULL);

	c = cap_open("broken/no-image-eof.capture");
	put_dump(&c, NULL, 65536);
	cap_close(&c);
	expect("broken/no-image-eof.capture", "criu-stream.no-image-eof", c.bytes, NULL);

	c = cap_open("broken/after-eof.capture");
	put_dump(&c, NULL, 65536);
	m_image_eof(&c);
	off = c.bytes;
	m_filename(&c, "extra.img");
	cap_close(&c);
	expect("broken/after-eof.capture", "criu-stream.after-eof", off, NULL);

	c = cap_open("broken/early-image-eof.capture");
	put_dump(&c, files[nfiles - 1].name, 65536);
	m_filename(&c, files[nfiles - 1].name);
	m_data(&c, files[nfiles - 1].data, (uint32_t)files[nfiles - 1].len);
	off = m_image_eof(&c);
	cap_close(&c);
	expect("broken/early-image-eof.capture", "criu-stream.file-incomplete", off, NULL);

	/* Lengths: 0, above 10 KiB, cut short. */
	static const uint32_t bad_len[] = { 0, 10241, 0x7fffffff, 0x80000000u, 0xffffffffu };
	for (size_t i = 0; i < sizeof(bad_len) / sizeof(bad_len[0]); i++) {
		char rel[64];
		snprintf(rel, sizeof(rel), "broken/marker-len-%" PRIx32 ".capture", bad_len[i]);
		c = cap_open(rel);
		put_file(&c, &files[0], 65536);
		off = c.bytes;
		put_u32(&c, bad_len[i]);
		put_bytes(&c, "\x12\x01x", 3);
		cap_close(&c);
		expect(rel, "criu-stream.marker.length", off, NULL);
	}
	c = cap_open("broken/marker-cut.capture");
	put_file(&c, &files[0], 65536);
	off = c.bytes;
	put_u32(&c, 40);
	put_bytes(&c, "\x08\x05\x12", 3);
	cap_close(&c);
	expect("broken/marker-cut.capture", "input.truncated", off + 4, NULL);

	/* file_data lengths forged: more data announced than the capture holds.
	 * A member cut inside its own structure reports that instead (one
	 * finding): the image-cut fixture. */
	c = cap_open("broken/image-cut.capture");
	m_filename(&c, "stats-dump");
	{
		Image__Marker m = IMAGE__MARKER__INIT;
		m.seq = c.seq++;
		m.body_case = IMAGE__MARKER__BODY_FILE_DATA;
		m.file_data = 100;
		put_marker(&c, &m);
		put_bytes(&c, "\x40\x59\x10\x55", 4);
	}
	cap_close(&c);
	expect("broken/image-cut.capture", "input.truncated", 4, "[stats-dump]");

	static const uint32_t bad_data[] = { 1, 0x7fffffff, 0x80000000u, 0xffffffffu };
	for (size_t i = 0; i < sizeof(bad_data) / sizeof(bad_data[0]); i++) {
		char rel[64];
		Image__Marker m = IMAGE__MARKER__INIT;
		snprintf(rel, sizeof(rel), "broken/data-len-%" PRIx32 ".capture", bad_data[i]);
		static const unsigned char page[4096];
		c = cap_open(rel);
		/* A whole page first: the pages image itself is sound where it
		 * ends, so the cut is the capture's finding. */
		m_filename(&c, "pages-1.img");
		m_data(&c, page, sizeof(page));
		m.seq = c.seq++;
		m.body_case = IMAGE__MARKER__BODY_FILE_DATA;
		m.file_data = bad_data[i];
		put_marker(&c, &m);
		off = c.bytes;
		cap_close(&c);
		expect(rel, "input.truncated", off, NULL);
	}

	/* An image broken inside a valid capture: found in the member, at its
	 * offset (stats-dump with IMG_COMMON instead of IMG_SERVICE). */
	{
		dfile *st = dump_file("stats-dump");
		unsigned char save[4];
		memcpy(save, st->data, 4);
		memcpy(st->data, "\x19\x43\x56\x54", 4);
		c = cap_open("broken/image-head.capture");
		put_dump(&c, NULL, 65536);
		m_image_eof(&c);
		cap_close(&c);
		memcpy(st->data, save, 4);
		expect("broken/image-head.capture", "criu.magic.head", 0, "[stats-dump]");
	}
	/* A dump relation broken: the inventory left out. */
	c = cap_open("broken/no-inventory.capture");
	put_dump(&c, "inventory.img", 65536);
	m_image_eof(&c);
	cap_close(&c);
	expect("broken/no-inventory.capture", "criu.dump.inventory.missing", -1, NULL);
}

/* ---- captures over several shards ------------------------------------------------- */

static FILE *shard_manifest;

static void expect_shards(const char *dir, const char *code, long off, int shard)
{
	if (off < -1) {
		fprintf(stderr, "gen_stream: %s: offset not kept\n", dir);
		exit(2);
	}
	int status = code ? sv_code_find(code)->severity == SV_ERROR : 0;
	char file[32] = "-";

	if (shard >= 0)
		snprintf(file, sizeof(file), "shard-%d", shard);
	fprintf(shard_manifest, "%s\t%s\t%ld\t%s\t%d\n", dir, code ? code : "-",
		code ? off : -1L, file, status);
}

static void copy_file(const char *from_rel, const char *to_rel)
{
	char from[4096], buf[65536];
	size_t n;

	snprintf(from, sizeof(from), "%s", path_of(from_rel));
	FILE *in = fopen(from, "rb"), *out = fopen(path_of(to_rel), "wb");
	if (!in || !out)
		die(to_rel);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			die(to_rel);
	fclose(in);
	if (fclose(out) != 0)
		die(to_rel);
}

static void shard_fixtures(void)
{
	cap c;
	uint64_t s;

	if (mkdir(path_of("shards"), 0755) != 0 && errno != EEXIST)
		die("shards");
	shard_manifest = fopen(path_of("shards/manifest"), "w");
	if (!shard_manifest)
		die("shards/manifest");

	/* Valid: two and three shards, large and small chunks. */
	c = shards_open("shards/valid-2", 2);
	put_dump(&c, NULL, 65536);
	m_image_eof(&c);
	cap_close(&c);
	expect_shards("valid-2", NULL, -1, -1);
	c = shards_open("shards/valid-3", 3);
	put_dump(&c, NULL, 1000);
	m_image_eof(&c);
	cap_close(&c);
	expect_shards("valid-3", NULL, -1, -1);
	/* One shard in a directory is a capture too. */
	c = shards_open("shards/valid-1", 1);
	put_dump(&c, NULL, 65536);
	m_image_eof(&c);
	cap_close(&c);
	expect_shards("valid-1", NULL, -1, -1);

	/* A seq left out: no shard holds it; found at the lowest next one. */
	c = shards_open("shards/gap", 2);
	put_file(&c, &files[0], 65536);
	s = ++c.seq;
	for (size_t i = 1; i < nfiles; i++)
		put_file(&c, &files[i], 65536);
	m_image_eof(&c);
	cap_close(&c);
	expect_shards("gap", "criu-stream.seq", c.seq_off[s], c.seq_shard[s]);

	/* A shard missing: shard-0 alone, whose second marker is seq 2. */
	c = shards_open("shards/missing", 2);
	put_dump(&c, NULL, 65536);
	m_image_eof(&c);
	cap_close(&c);
	if (unlink(path_of("shards/missing/shard-1")) != 0)
		die("unlink");
	expect_shards("missing", "criu-stream.seq", c.seq_off[2], c.seq_shard[2]);

	/* A shard given twice: its copy's first marker repeats seq 1. */
	c = shards_open("shards/duplicate", 2);
	put_dump(&c, NULL, 65536);
	m_image_eof(&c);
	cap_close(&c);
	copy_file("shards/duplicate/shard-1", "shards/duplicate/shard-1-copy");
	fprintf(shard_manifest, "duplicate\tcriu-stream.shard.repeat\t0\tshard-1-copy\t1\n");

	/* A seq that came already, later in another shard. */
	c = shards_open("shards/repeat", 2);
	put_dump(&c, NULL, 65536);
	s = c.seq;
	c.seq = 3;
	m_filename(&c, files[0].name);
	expect_shards("repeat", "criu-stream.shard.repeat", c.seq_off[3], c.cur);
	c.seq = s;
	m_image_eof(&c);
	cap_close(&c);

	/* A marker after image_eof, in the other shard. */
	c = shards_open("shards/after-eof", 2);
	put_dump(&c, NULL, 65536);
	m_image_eof(&c);
	s = c.seq;
	m_filename(&c, "extra.img");
	cap_close(&c);
	expect_shards("after-eof", "criu-stream.after-eof", c.seq_off[s], c.seq_shard[s]);

	/* A shard cut inside a marker. */
	c = shards_open("shards/cut", 2);
	put_file(&c, &files[0], 65536);
	next_shard(&c);
	{
		long at = c.bytes;
		put_u32(&c, 40);
		put_bytes(&c, "\x08\x05\x12", 3);
		expect_shards("cut", "input.truncated", at + 4, c.cur);
	}
	cap_close(&c);

	/* A capture that stops: no shard has image_eof. */
	c = shards_open("shards/no-image-eof", 2);
	put_dump(&c, NULL, 65536);
	cap_close(&c);
	expect_shards("no-image-eof", "criu-stream.no-image-eof", -1, -1);

	if (fclose(shard_manifest) != 0)
		die("shards/manifest");
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--all") == 0) {
		load_dump(argv[2]);
		out_dir = argv[3];
		if (mkdir(out_dir, 0755) != 0 && errno != EEXIST)
			die(out_dir);
		manifest = fopen(path_of("manifest"), "w");
		if (!manifest)
			die("manifest");
		fixtures();
		fclose(manifest);
		shard_fixtures();
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "--markers") == 0) {
		unsigned long n = strtoul(argv[2], NULL, 10);
		out_dir = ".";
		cap c = { .f = fopen(argv[3], "wb"), .nshards = 1 };
		if (!c.f)
			die(argv[3]);
		c.fs[0] = c.f;
		m_filename(&c, "stats-dump");
		for (unsigned long i = 0; i + 3 < n; i++)
			m_data(&c, "", 0);
		m_file_eof(&c);
		m_image_eof(&c);
		cap_close(&c);
		return 0;
	}
	fputs("usage: gen_stream --all DUMP OUT | --markers N FILE\n", stderr);
	return 2;
}
