/*
 * Check tests of the CRIU JSON converter: the value conversions it shares
 * with crit (quoted-printable, base64, addresses, Python integer literals,
 * device numbers) against what Python gives, and hostile images: every
 * truncation and random corruptions of real images never crash, and any
 * image that decodes encodes back to JSON that decodes the same.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "streamverify.h"
#include "formats/criu/json/json_common.h"
#include "formats/criu/json/json_stream.h"

/* ---- quoted-printable: quopri.encodestring() of Python 3.11 ------------------ */

static const struct {
	const char *in;
	size_t n;
	const char *out;
} qp_vectors[] = {
	{ "", 0, "" },
	{ "\0", 1, "=00" },
	{ "/tmp/sock", 9, "/tmp/sock" },
	{ "abc \n", 5, "abc=20\n" },
	{ "abc\t", 4, "abc=09" },
	{ "x\r\ny", 4, "x\r\ny" },
	{ "x\ry", 3, "x\ry" },
	{ ".", 1, "=2E" },
	{ ".\n", 2, "=2E\n" },
	{ "a.\n", 3, "a.\n" },
	{ "\n.", 2, "\n=2E" },
	{ "\x7f\x80\xff", 3, "=7F=80=FF" },
	{ " ", 1, "=20" },
	{ "_?", 2, "_?" },
	{ "\0@abstract", 10, "=00@abstract" },
};

START_TEST(test_qp)
{
	for (size_t i = 0; i < sizeof(qp_vectors) / sizeof(qp_vectors[0]); i++) {
		char out[256];
		unsigned char back[256];
		size_t k = cj_qp_encode((const unsigned char *)qp_vectors[i].in, qp_vectors[i].n, out);
		ck_assert_uint_eq(k, strlen(qp_vectors[i].out));
		ck_assert(memcmp(out, qp_vectors[i].out, k) == 0);
		size_t m = cj_qp_decode(out, k, back);
		ck_assert_uint_eq(m, qp_vectors[i].n);
		ck_assert(memcmp(back, qp_vectors[i].in, m) == 0);
	}
}
END_TEST

START_TEST(test_qp_long_lines)
{
	unsigned char in[80];
	char out[512];
	unsigned char back[512];

	/* 80 x 'a': 75 characters, a soft break, the other 5. */
	memset(in, 'a', sizeof(in));
	size_t k = cj_qp_encode(in, 80, out);
	ck_assert_uint_eq(k, 82);
	ck_assert(out[75] == '=' && out[76] == '\n');
	ck_assert_uint_eq(cj_qp_decode(out, k, back), 80);
	/* 74 x 'a' then NUL: the quoted byte moves to the next line. */
	in[74] = 0;
	k = cj_qp_encode(in, 75, out);
	ck_assert_uint_eq(k, 74 + 2 + 3);
	ck_assert(memcmp(out + 74, "=\n=00", 5) == 0);
}
END_TEST

/* ---- base64 ---------------------------------------------------------------------- */

START_TEST(test_base64)
{
	char out[16];
	unsigned char back[16];
	size_t n;

	ck_assert_uint_eq(cj_b64_chunk((const unsigned char *)"abc", 3, out), 4);
	ck_assert(memcmp(out, "YWJj", 4) == 0);
	ck_assert_uint_eq(cj_b64_chunk((const unsigned char *)"ab", 2, out), 4);
	ck_assert(memcmp(out, "YWI=", 4) == 0);
	ck_assert_uint_eq(cj_b64_chunk((const unsigned char *)"a", 1, out), 4);
	ck_assert(memcmp(out, "YQ==", 4) == 0);
	ck_assert(cj_b64_decode("YWJj\nYQ==\n", 10, back, &n));
	ck_assert_uint_eq(n, 4);
	ck_assert(memcmp(back, "abca", 4) == 0);
	ck_assert(cj_b64_decode("", 0, back, &n) && n == 0);
	ck_assert(!cj_b64_decode("YW!j", 4, back, &n));
	ck_assert(!cj_b64_decode("YWJ", 3, back, &n));    /* padding missing */
	ck_assert(!cj_b64_decode("YQ==YQ==", 8, back, &n)); /* data after padding */
	ck_assert(!cj_b64_decode("Y", 1, back, &n));
}
END_TEST

/* ---- addresses: ipaddress of Python 3.11 ----------------------------------------- */

static uint32_t word(unsigned a, unsigned b, unsigned c, unsigned d)
{
	/* The bytes a.b.c.d as CRIU stores them in a u32 on little-endian hosts. */
	return a | b << 8 | c << 16 | (uint32_t)d << 24;
}

START_TEST(test_ip)
{
	char text[64];
	uint32_t w[4];
	size_t n;

	w[0] = word(127, 0, 0, 1);
	ck_assert(cj_ip_format(w, 1, text));
	ck_assert_str_eq(text, "127.0.0.1");

	static const struct {
		unsigned char b[16];
		const char *text;
	} v6[] = {
		{ { 0 }, "::" },
		{ { [15] = 1 }, "::1" },
		{ { [10] = 0xff, [11] = 0xff, [12] = 1, [13] = 2, [14] = 3, [15] = 4 }, "::ffff:102:304" },
		{ { [1] = 1, [7] = 1, [15] = 1 }, "1:0:0:1::1" },
		{ { [1] = 1, [5] = 1, [9] = 1, [13] = 1 }, "1:0:1:0:1:0:1:0" },
		{ { 0xfe, 0x80, [9] = 1, [15] = 1 }, "fe80::1:0:0:1" },
		{ { [1] = 1 }, "1::" },
		{ { [5] = 1 }, "0:0:1::" },
	};
	for (size_t i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
		for (int k = 0; k < 4; k++)
			w[k] = word(v6[i].b[4 * k], v6[i].b[4 * k + 1], v6[i].b[4 * k + 2],
				    v6[i].b[4 * k + 3]);
		ck_assert(cj_ip_format(w, 4, text));
		ck_assert_str_eq(text, v6[i].text);
		uint32_t back[4];
		ck_assert(cj_ip_parse(text, back, &n));
		ck_assert_uint_eq(n, 4);
		ck_assert(memcmp(back, w, sizeof(back)) == 0);
	}
	ck_assert(!cj_ip_format(w, 2, text));
	ck_assert(cj_ip_parse("10.1.2.3", w, &n) && n == 1 && w[0] == word(10, 1, 2, 3));
	ck_assert(!cj_ip_parse("10.1.2", w, &n));
}
END_TEST

/* ---- Python integer literals, int(x, 0) ----------------------------------------- */

START_TEST(test_parse_int)
{
	bool neg;
	uint64_t v;

	ck_assert(cj_parse_int("0_0", 0, &neg, &v) && v == 0);
	ck_assert(cj_parse_int(" 0x_1f ", 0, &neg, &v) && v == 31 && !neg);
	ck_assert(cj_parse_int("-0o17", 0, &neg, &v) && v == 15 && neg);
	ck_assert(cj_parse_int("0b101", 0, &neg, &v) && v == 5);
	ck_assert(cj_parse_int("18446744073709551615", 0, &neg, &v) && v == UINT64_MAX);
	ck_assert(!cj_parse_int("18446744073709551616", 0, &neg, &v));
	ck_assert(!cj_parse_int("010", 0, &neg, &v));      /* Python refuses it */
	ck_assert(cj_parse_int("010", 10, &neg, &v) && v == 10);
	ck_assert(!cj_parse_int("0x", 0, &neg, &v));
	ck_assert(!cj_parse_int("1__0", 0, &neg, &v));
	ck_assert(!cj_parse_int("12abc", 0, &neg, &v));
	ck_assert(!cj_parse_int("", 0, &neg, &v));
}
END_TEST

START_TEST(test_dev)
{
	uint64_t major, minor, dev;

	cj_dev_split(0x800001, false, &major, &minor); /* 8:1 in the kernel's encoding */
	ck_assert(major == 8 && minor == 1);
	ck_assert(cj_dev_join(8, 1, false, &dev) && dev == 0x800001);
	cj_dev_split(0x0801, true, &major, &minor);    /* glibc's old encoding */
	ck_assert(major == 8 && minor == 1);
	ck_assert(cj_dev_join(8, 1, true, &dev) && dev == 0x0801);
	for (uint64_t d = 1; d; d <<= 3) {
		cj_dev_split(d, true, &major, &minor);
		ck_assert(cj_dev_join(major, minor, true, &dev) && dev == d);
	}
}
END_TEST

/* ---- hostile images --------------------------------------------------------------- */

typedef struct counts {
	unsigned errors;
	unsigned warnings;
} counts;

static counts last_counts; /* of the last convert() */

static void count_diag(void *ctx, const sv_diag *d)
{
	counts *c = ctx;

	if (d->severity == SV_ERROR)
		c->errors++;
	else if (d->severity == SV_WARNING)
		c->warnings++;
}

static const char *test_dir(void)
{
	const char *d = getenv("SV_TEST_BUILD");
	return d && *d ? d : "/tmp";
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0) {
		long n = ftell(f);
		rewind(f);
		if (n >= 0 && (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n)
			*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

static void spill(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(p, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
}

/* Convert path into a new temporary file; returns the exit status. */
static int convert(const char *path, sv_action action, unsigned flags, FILE **out)
{
	static const sv_options opt = { .format = "criu" };
	counts c = { 0, 0 };
	sv_sink sink = { &c, count_diag, NULL, NULL, NULL };

	*out = tmpfile();
	ck_assert_ptr_nonnull(*out);
	int st = sv_convert(path, action, flags, *out, &opt, &sink);
	ck_assert_int_ne(st, SV_EXIT_FAILURE);
	ck_assert(st == SV_EXIT_VALID || c.errors > 0);
	last_counts = c;
	fflush(*out);
	return st;
}

static unsigned char *file_bytes(FILE *f, size_t *len)
{
	long n;
	unsigned char *buf;

	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	*len = (size_t)n;
	return buf;
}

/*
 * Real images by kind: the first file of the corpus whose name starts so
 * (pids and inode numbers differ from one dump to the next).
 */
static const char *const real_images[] = {
	"tcp-stream-", "sk-queues", "files.img", "pipes-data", "fifo-data", "ghost-file-",
	"mm-",         "pagemap-",  "core-",     "filelocks",  "memfd",     "inventory",
};
#define N_REAL (sizeof(real_images) / sizeof(real_images[0]))

static char *real_path(size_t i)
{
	static char path[2800];
	const char *data = getenv("SV_DATA");
	char corpus[2000];
	struct dirent *top;
	DIR *dir;

	snprintf(corpus, sizeof(corpus), "%s/criu-real", data ? data : "tests/data");
	path[0] = '\0';
	if (!(dir = opendir(corpus)))
		return path;
	while (!path[0] && (top = readdir(dir))) {
		char sub[2400];
		DIR *d;
		struct dirent *ent;
		if (top->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", corpus, top->d_name);
		if (!(d = opendir(sub)))
			continue;
		while ((ent = readdir(d)))
			if (strncmp(ent->d_name, real_images[i], strlen(real_images[i])) == 0) {
				snprintf(path, sizeof(path), "%s/%s", sub, ent->d_name);
				break;
			}
		closedir(d);
	}
	closedir(dir);
	return path;
}

/*
 * Decode img; when it decodes, encode the JSON and decode the result: the
 * two JSON texts must be the same.  Returns whether img decoded.
 */
static bool decode_reencode(const char *img, unsigned flags, const char *tag)
{
	char json_path[4200], img2_path[4200];
	FILE *json, *img2, *json2;
	size_t n1, n2;

	if (convert(img, SV_ACTION_DECODE, flags, &json) != SV_EXIT_VALID) {
		fclose(json);
		return false;
	}
	unsigned char *text1 = file_bytes(json, &n1);
	fclose(json);
	/*
	 * Values crit leaves out (a string that is not UTF-8, an undefined
	 * enum value) may leave a required field missing: such JSON does not
	 * encode, with crit either.
	 */
	if (last_counts.warnings) {
		free(text1);
		return true;
	}
	snprintf(json_path, sizeof(json_path), "%s/%s-%d.json", test_dir(), tag, (int)getpid());
	spill(json_path, text1, n1);
	ck_assert_int_eq(convert(json_path, SV_ACTION_ENCODE, 0, &img2), SV_EXIT_VALID);
	size_t ni;
	unsigned char *bytes = file_bytes(img2, &ni);
	fclose(img2);
	snprintf(img2_path, sizeof(img2_path), "%s/%s-%d.img", test_dir(), tag, (int)getpid());
	spill(img2_path, bytes, ni);
	ck_assert_int_eq(convert(img2_path, SV_ACTION_DECODE, flags, &json2), SV_EXIT_VALID);
	unsigned char *text2 = file_bytes(json2, &n2);
	fclose(json2);
	ck_assert_uint_eq(n1, n2);
	ck_assert(memcmp(text1, text2, n1) == 0);
	unlink(json_path);
	unlink(img2_path);
	free(text1);
	free(text2);
	free(bytes);
	return true;
}

START_TEST(test_truncations)
{
	size_t len;
	unsigned char *img = slurp(real_path((size_t)_i), &len);
	char path[4200];

	ck_assert_msg(img != NULL, "cannot read %s", real_path((size_t)_i));
	snprintf(path, sizeof(path), "%s/trunc-%d.img", test_dir(), (int)getpid());
	for (size_t cut = 0; cut < len; cut++) {
		FILE *out;
		spill(path, img, cut);
		int st = convert(path, SV_ACTION_DECODE, 0, &out);
		fclose(out);
		/* Cut inside the magic: never an image. */
		if (cut < 4)
			ck_assert_int_eq(st, SV_EXIT_INVALID);
		/* info gives figures for whatever is whole (or says why not). */
		convert(path, SV_ACTION_INFO, 0, &out);
		fclose(out);
	}
	unlink(path);
	free(img);
}
END_TEST

/* xorshift: reproducible corruptions. */
static uint64_t rng_state;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

START_TEST(test_corruptions)
{
	size_t len;
	unsigned char *img = slurp(real_path((size_t)_i), &len);
	char path[4200], tag[64];
	unsigned decoded = 0;

	ck_assert_msg(img != NULL, "cannot read %s", real_path((size_t)_i));
	rng_state = 0x9e3779b97f4a7c15ull + (uint64_t)_i;
	snprintf(path, sizeof(path), "%s/mut-%d.img", test_dir(), (int)getpid());
	snprintf(tag, sizeof(tag), "mut%d", _i);
	unsigned char *mut = malloc(len);
	ck_assert_ptr_nonnull(mut);
	for (int round = 0; round < 150; round++) {
		memcpy(mut, img, len);
		/* Leave the magic, so the entries are what is tested. */
		for (int k = 0, nflips = 1 + (int)(rnd() % 4); k < nflips && len > 8; k++)
			mut[8 + rnd() % (len - 8)] = (unsigned char)rnd();
		spill(path, mut, len);
		decoded += decode_reencode(path, round % 2 ? SV_CONV_PRETTY : 0, tag);
	}
	/* Some corruptions still decode: they exercise the encoder too. */
	ck_assert_uint_gt(decoded, 0);
	unlink(path);
	free(mut);
	free(img);
}
END_TEST

START_TEST(test_real_reencode)
{
	char tag[32];

	snprintf(tag, sizeof(tag), "real%d", _i);
	ck_assert(decode_reencode(real_path((size_t)_i), 0, tag));
	ck_assert(decode_reencode(real_path((size_t)_i), SV_CONV_PRETTY, tag));
	/* --nopl JSON is for reading only, but every image gives one. */
	FILE *out;
	ck_assert_int_eq(convert(real_path((size_t)_i), SV_ACTION_DECODE,
				 SV_CONV_NOPL | SV_CONV_PRETTY, &out), SV_EXIT_VALID);
	fclose(out);
}
END_TEST

/* What the last dropped_diag() run saw. */
typedef struct dropped_seen {
	unsigned dropped, others;
	uint64_t offset;
	char message[512];
} dropped_seen;

static void dropped_diag(void *ctx, const sv_diag *d)
{
	dropped_seen *ds = ctx;

	if (strcmp(d->code->id, "criu.json.dropped") != 0) {
		ds->others++;
		return;
	}
	ds->dropped++;
	ds->offset = d->offset;
	snprintf(ds->message, sizeof(ds->message), "%s", d->message);
}

/*
 * Issue 24: a required string that is not UTF-8 is left out of the JSON,
 * as crit does, and said so (criu.json.dropped, at the entry), with the
 * consequence: the JSON then does not encode back.
 */
START_TEST(test_dropped_required)
{
	/* core_entry: mtype X86_64, tc with comm = ff fe (not UTF-8) */
	static const unsigned char img[] = {
		0x19, 0x43, 0x56, 0x54, 0x47, 0x38, 0x05, 0x55, 18, 0, 0, 0,
		0x08, 0x01, 0x1a, 0x0e, 0x08, 0x01, 0x10, 0x00, 0x18, 0x00, 0x20, 0x00,
		0x28, 0x00, 0x32, 0x02, 0xff, 0xfe,
	};
	static const sv_options opt = { .format = "criu" };
	char path[4200], json_path[4200];
	dropped_seen ds = { 0 };
	sv_sink sink = { &ds, dropped_diag, NULL, NULL, NULL };

	snprintf(path, sizeof(path), "%s/dropped-%d.img", test_dir(), (int)getpid());
	spill(path, img, sizeof(img));
	FILE *out = tmpfile();
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(sv_convert(path, SV_ACTION_DECODE, 0, out, &opt, &sink), SV_EXIT_VALID);
	ck_assert_uint_eq(ds.dropped, 1);
	ck_assert_uint_eq(ds.others, 0);
	ck_assert_uint_eq(ds.offset, 8);
	ck_assert_ptr_nonnull(strstr(ds.message, "task_core_entry.comm"));
	ck_assert_ptr_nonnull(strstr(ds.message, "cannot be encoded back"));
	size_t n;
	fflush(out);
	unsigned char *text = file_bytes(out, &n);
	fclose(out);
	ck_assert_ptr_null(memmem(text, n, "comm", 4));
	/* And indeed the JSON does not encode: comm is missing. */
	snprintf(json_path, sizeof(json_path), "%s/dropped-%d.json", test_dir(), (int)getpid());
	spill(json_path, text, n);
	ck_assert_int_eq(convert(json_path, SV_ACTION_ENCODE, 0, &out), SV_EXIT_INVALID);
	fclose(out);
	free(text);
	unlink(path);
	unlink(json_path);
}
END_TEST

/* ---- the fast path of encode's reader gives what jansson gives ---------------- */

static const struct {
	const char *text;
	bool fast; /* the fast path reads it (else it leaves it to jansson) */
} fast_vectors[] = {
	{ "{\"a\": 1, \"b\": [true, false, null], \"c\": \"x\"}", true },
	{ "\"AwQFBgcICQo=\\n\"", true },
	{ "{\"addr\": \"BAUGBwgJCgs=\\n\", \"n\": -3}", true },
	{ "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", true },
	{ "[\"a\\nb\", \"c\\td\", \"\"]", true },
	{ "\"\\u0041\"", false },      /* a Unicode escape: left to jansson */
	{ "\"a\\u0000b\"", false },    /* a NUL, allowed by JSON_ALLOW_NUL */
	{ "{\"k\\n\": 1}", false },    /* an escape in a key */
	{ "\"\\x\"", false },          /* not an escape: jansson words the error */
	{ "\"abc\\\"", false },        /* the escape takes the closing quote */
	{ "\"a\\n\tb\"", false },      /* a raw tab is not allowed in a string */
	{ "\"\\n\xc3\xa9\"", false },  /* UTF-8: jansson checks it */
	{ "{\"a\": 1, \"a\": 2}", false }, /* a repeated key: jansson refuses it */
	{ "12345678901234567890", false },
	{ "1.5", false },
};

START_TEST(test_fast_parse)
{
	for (size_t i = 0; i < sizeof(fast_vectors) / sizeof(fast_vectors[0]); i++) {
		const char *t = fast_vectors[i].text;
		json_t *quick = cjs_fast_parse(t, strlen(t));
		ck_assert_msg((quick != NULL) == fast_vectors[i].fast, "vector %zu: %s", i, t);
		if (!quick)
			continue;
		json_error_t err;
		json_t *ref = json_loadb(t, strlen(t), JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
		ck_assert_msg(ref != NULL, "vector %zu: jansson refuses it: %s", i, err.text);
		char *a = json_dumps(quick, JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
		char *b = json_dumps(ref, JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
		ck_assert_str_eq(a, b);
		free(a);
		free(b);
		json_decref(ref);
		json_decref(quick);
	}
}
END_TEST

static Suite *json_suite(void)
{
	Suite *s = suite_create("criu-json");
	TCase *tc = tcase_create("values");

	tcase_add_test(tc, test_qp);
	tcase_add_test(tc, test_qp_long_lines);
	tcase_add_test(tc, test_base64);
	tcase_add_test(tc, test_ip);
	tcase_add_test(tc, test_parse_int);
	tcase_add_test(tc, test_dev);
	tcase_add_test(tc, test_dropped_required);
	tcase_add_test(tc, test_fast_parse);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, test_real_reencode, 0, N_REAL);
	tcase_add_loop_test(tc, test_truncations, 0, N_REAL);
	tcase_add_loop_test(tc, test_corruptions, 0, N_REAL);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(json_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
