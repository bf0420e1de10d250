/* Conversions shared by the CRIU JSON decoder and encoder (json_common.h). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "formats/criu/json/json_common.h"
#include "formats/criu/schema/images.h"
#include "formats/criu/schema/linux.h"


/* ---- flags and dictionaries (crit's pb2dict tables, CRIU 3.17.1) ------- */

static const cj_flag mmap_prot[] = {
	{ "PROT_READ", CRIU_PROT_READ }, { "PROT_WRITE", CRIU_PROT_WRITE },
	{ "PROT_EXEC", CRIU_PROT_EXEC },
};

static const cj_flag mmap_flags[] = {
	{ "MAP_SHARED", CRIU_MAP_SHARED }, { "MAP_PRIVATE", CRIU_MAP_PRIVATE },
	{ "MAP_ANON", CRIU_MAP_ANONYMOUS }, { "MAP_GROWSDOWN", CRIU_MAP_GROWSDOWN },
};

/* VMA_AREA_NONE (0) is in crit's table too but can never be printed. */
static const cj_flag mmap_status[] = {
	{ "VMA_AREA_NONE", 0 },
	{ "VMA_AREA_REGULAR", CRIU_VMA_AREA_REGULAR },
	{ "VMA_AREA_STACK", CRIU_VMA_AREA_STACK },
	{ "VMA_AREA_VSYSCALL", CRIU_VMA_AREA_VSYSCALL },
	{ "VMA_AREA_VDSO", CRIU_VMA_AREA_VDSO },
	{ "VMA_AREA_HEAP", CRIU_VMA_AREA_HEAP },
	{ "VMA_FILE_PRIVATE", CRIU_VMA_FILE_PRIVATE },
	{ "VMA_FILE_SHARED", CRIU_VMA_FILE_SHARED },
	{ "VMA_ANON_SHARED", CRIU_VMA_ANON_SHARED },
	{ "VMA_ANON_PRIVATE", CRIU_VMA_ANON_PRIVATE },
	{ "VMA_AREA_SYSVIPC", CRIU_VMA_AREA_SYSVIPC },
	{ "VMA_AREA_SOCKET", CRIU_VMA_AREA_SOCKET },
	{ "VMA_AREA_VVAR", CRIU_VMA_AREA_VVAR },
	{ "VMA_AREA_AIORING", CRIU_VMA_AREA_AIORING },  { "VMA_UNSUPP", CRIU_VMA_UNSUPP },
};

static const cj_flag rfile_flags[] = {
	{ "O_WRONLY", 01 },          { "O_RDWR", 02 },          { "O_CREAT", 0100 },
	{ "O_EXCL", 0200 },          { "O_NOCTTY", 0400 },      { "O_TRUNC", 01000 },
	{ "O_APPEND", 02000 },       { "O_NONBLOCK", 04000 },   { "O_DSYNC", 010000 },
	{ "FASYNC", 020000 },        { "O_DIRECT", 040000 },    { "O_LARGEFILE", 0100000 },
	{ "O_DIRECTORY", 0200000 },  { "O_NOFOLLOW", 0400000 }, { "O_NOATIME", 01000000 },
	{ "O_CLOEXEC", 02000000 },
};

static const cj_flag seals_flags[] = {
	{ "F_SEAL_SEAL", 0x1 },  { "F_SEAL_SHRINK", 0x2 }, { "F_SEAL_GROW", 0x4 },
	{ "F_SEAL_WRITE", 0x8 }, { "F_SEAL_FUTURE_WRITE", 0x10 },
};

static const cj_flag pmap_flags[] = {
	{ "PE_PARENT", CRIU_PE_PARENT }, { "PE_LAZY", CRIU_PE_LAZY },
	{ "PE_PRESENT", CRIU_PE_PRESENT },
	{ "PE_PAYLOAD_ALIGNED", CRIU_PE_PAYLOAD_ALIGNED }, /* image version 3 */
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *name;
	const cj_flag *map;
	size_t n;
} flag_maps[] = {
	{ "mmap.prot", mmap_prot, N(mmap_prot) },
	{ "mmap.flags", mmap_flags, N(mmap_flags) },
	{ "mmap.status", mmap_status, N(mmap_status) },
	{ "rfile.flags", rfile_flags, N(rfile_flags) },
	{ "pmap.flags", pmap_flags, N(pmap_flags) },
	{ "seals.flags", seals_flags, N(seals_flags) },
};

const cj_flag *cj_flags_map(const char *dict, size_t *n)
{
	for (size_t i = 0; i < N(flag_maps); i++)
		if (strcmp(flag_maps[i].name, dict) == 0) {
			*n = flag_maps[i].n;
			return flag_maps[i].map;
		}
	*n = 0;
	return NULL;
}

/* Value names by dictionary and field name, as crit keys them. */
static const struct {
	const char *dict, *field;
	int64_t value;
	const char *name;
} dict_rows[] = {
	{ "gen", "task_state", 1, "Alive" },
	{ "gen", "task_state", 3, "Zombie" },
	{ "gen", "task_state", 6, "Stopped" },
	{ "sk", "family", 1, "UNIX" },
	{ "sk", "family", 2, "INET" },
	{ "sk", "family", 10, "INET6" },
	{ "sk", "family", 16, "NETLINK" },
	{ "sk", "family", 17, "PACKET" },
	{ "sk", "type", 1, "STREAM" },
	{ "sk", "type", 2, "DGRAM" },
	{ "sk", "type", 3, "RAW" },
	{ "sk", "type", 5, "SEQPACKET" },
	{ "sk", "type", 10, "PACKET" },
	{ "sk", "state", 1, "ESTABLISHED" },
	{ "sk", "state", 2, "SYN_SENT" },
	{ "sk", "state", 3, "SYN_RECV" },
	{ "sk", "state", 4, "FIN_WAIT1" },
	{ "sk", "state", 5, "FIN_WAIT2" },
	{ "sk", "state", 6, "TIME_WAIT" },
	{ "sk", "state", 7, "CLOSE" },
	{ "sk", "state", 8, "CLOSE_WAIT" },
	{ "sk", "state", 9, "LAST_ACK" },
	{ "sk", "state", 10, "LISTEN" },
	{ "sk", "proto", 0, "IP" },
	{ "sk", "proto", 6, "TCP" },
	{ "sk", "proto", 17, "UDP" },
	{ "sk", "proto", 136, "UDPLITE" },
};

const char *cj_dict_name(const char *dict, const char *field, int64_t value)
{
	for (size_t i = 0; i < N(dict_rows); i++)
		if (dict_rows[i].value == value && strcmp(dict_rows[i].dict, dict) == 0 &&
		    strcmp(dict_rows[i].field, field) == 0)
			return dict_rows[i].name;
	return NULL;
}

bool cj_dict_value(const char *dict, const char *field, const char *name, int64_t *value)
{
	for (size_t i = 0; i < N(dict_rows); i++)
		if (strcmp(dict_rows[i].name, name) == 0 && strcmp(dict_rows[i].dict, dict) == 0 &&
		    strcmp(dict_rows[i].field, field) == 0) {
			*value = dict_rows[i].value;
			return true;
		}
	return false;
}

/* ---- device numbers -------------------------------------------------------- */

#define KERN_MINORBITS 20

void cj_dev_split(uint64_t dev, bool odev, uint64_t *major, uint64_t *minor)
{
	if (odev) {
		/* glibc's major()/minor(), which crit calls through os.major(). */
		*major = ((dev >> 8) & 0xfff) | ((dev >> 32) & 0xfffff000u);
		*minor = (dev & 0xff) | ((dev >> 12) & 0xffffff00u);
	} else {
		*major = dev >> KERN_MINORBITS;
		*minor = dev & ((1u << KERN_MINORBITS) - 1);
	}
}

bool cj_dev_join(uint64_t major, uint64_t minor, bool odev, uint64_t *dev)
{
	if (odev) {
		/* glibc's makedev(): both halves are 32-bit there. */
		if (major > UINT32_MAX || minor > UINT32_MAX)
			return false;
		*dev = ((major & 0xfff) << 8) | ((major & 0xfffff000u) << 32) |
		       (minor & 0xff) | ((minor & 0xffffff00u) << 12);
		return true;
	}
	/* Python ints do not overflow: a shift past 64 bits is out of range. */
	if (major > (UINT64_MAX >> KERN_MINORBITS))
		return false;
	*dev = major << KERN_MINORBITS | minor;
	return true;
}

/* ---- IP addresses ------------------------------------------------------------ */

/*
 * The words hold the address bytes in memory order of a little-endian
 * host (CRIU copies in_addr/in6_addr into u32s); crit turns each with
 * ntohl(), which on the little-endian machines it runs on swaps bytes.
 */
static void word_bytes(uint32_t w, unsigned char *b)
{
	b[0] = (unsigned char)w;
	b[1] = (unsigned char)(w >> 8);
	b[2] = (unsigned char)(w >> 16);
	b[3] = (unsigned char)(w >> 24);
}

bool cj_ip_format(const uint32_t *words, size_t n, char out[64])
{
	unsigned char b[16];

	if (n == 1) {
		word_bytes(words[0], b);
		snprintf(out, 64, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
		return true;
	}
	if (n < 4)
		return false;
	for (int i = 0; i < 4; i++)
		word_bytes(words[i], b + 4 * i);

	unsigned hextet[8];
	int best_start = -1, best_len = 0, run_start = -1, run_len = 0;

	for (int i = 0; i < 8; i++) {
		hextet[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
		if (hextet[i] == 0) {
			if (run_start < 0)
				run_start = i;
			run_len++;
			/* The first longest run of zeros wins, as in ipaddress. */
			if (run_len > best_len) {
				best_len = run_len;
				best_start = run_start;
			}
		} else {
			run_start = -1;
			run_len = 0;
		}
	}
	if (best_len < 2)
		best_start = -1;

	size_t len = 0;
	for (int i = 0; i < 8; i++) {
		if (i == best_start) {
			len += (size_t)snprintf(out + len, 64 - len, "::");
			i += best_len - 1;
			continue;
		}
		if (len && out[len - 1] != ':')
			out[len++] = ':';
		len += (size_t)snprintf(out + len, 64 - len, "%x", hextet[i]);
	}
	out[len] = '\0';
	return true;
}

static uint32_t bytes_word(const unsigned char *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

bool cj_ip_parse(const char *text, uint32_t words[4], size_t *n)
{
	unsigned char b[16];

	if (inet_pton(AF_INET, text, b) == 1) {
		words[0] = bytes_word(b);
		*n = 1;
		return true;
	}
	if (inet_pton(AF_INET6, text, b) == 1) {
		for (int i = 0; i < 4; i++)
			words[i] = bytes_word(b + 4 * i);
		*n = 4;
		return true;
	}
	return false;
}

/* ---- integers as Python reads them ------------------------------------------ */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

bool cj_parse_int(const char *text, int base, bool *negative, uint64_t *magnitude)
{
	const char *p = text;
	uint64_t v = 0;
	bool any = false, prefixed = false;

	while (is_blank(*p))
		p++;
	*negative = false;
	if (*p == '+' || *p == '-')
		*negative = *p++ == '-';
	if (base == 0) {
		if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
			base = 16;
		else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
			base = 8;
		else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
			base = 2;
		if (base) {
			p += 2;
			prefixed = true;
		} else {
			base = 10;
			/* Without a prefix, only zero may start with 0 ("010" is refused). */
			if (*p == '0') {
				const char *q = p;
				while (*q == '0' || (*q == '_' && q[1] == '0'))
					q++;
				if (digit_value(*q) < 10)
					return false;
			}
		}
	}
	/* One underscore may follow the prefix and separate digits. */
	if (*p == '_' && prefixed)
		p++;
	for (;;) {
		int d = digit_value(*p);
		if (d >= base)
			break;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return false;
		v = v * (uint64_t)base + (uint64_t)d;
		any = true;
		p++;
		if (*p == '_' && digit_value(p[1]) < base)
			p++;
	}
	while (is_blank(*p))
		p++;
	if (!any || *p)
		return false;
	*magnitude = v;
	return true;
}

/* ---- UTF-8 ---------------------------------------------------------------------- */

bool cj_utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t len;
		unsigned char lo = 0x80, hi = 0xbf;
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			if (c == 0xe0)
				lo = 0xa0; /* overlong */
			else if (c == 0xed)
				hi = 0x9f; /* surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f; /* past U+10FFFF */
		} else {
			return false;
		}
		if (n - i < len || s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k < len; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return false;
		i += len;
	}
	return true;
}

/* ---- base64 ---------------------------------------------------------------------- */

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t cj_b64_chunk(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0, i = 0;

	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = b64_alphabet[(v >> 6) & 63];
		out[o++] = b64_alphabet[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	return o;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

bool cj_b64_decode(const char *text, size_t len, unsigned char *out, size_t *outlen)
{
	uint32_t acc = 0;
	unsigned nbits = 0, quantum = 0, pad = 0;
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (is_blank((char)c))
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		int v = b64_value(c);
		if (v < 0 || pad)
			return false; /* not base64, or data after the padding */
		acc = acc << 6 | (uint32_t)v;
		nbits += 6;
		quantum = (quantum + 1) % 4;
		if (nbits >= 8) {
			nbits -= 8;
			out[o++] = (unsigned char)(acc >> nbits);
		}
	}
	/* A final quantum of 2 or 3 characters needs 2 or 1 padding characters. */
	if (quantum ? pad != 4 - quantum : pad != 0)
		return false;
	*outlen = o;
	return true;
}

/* ---- quoted-printable ------------------------------------------------------------ */

#define QP_LINE 76

static const char hex_upper[] = "0123456789ABCDEF";

/* Does in[i] have to be written as =XX (quotetabs off, text mode, no header)? */
static bool qp_must_quote(const unsigned char *in, size_t n, size_t i, size_t linelen)
{
	unsigned char c = in[i];
	bool last = i + 1 == n;

	if (c > 126 || c == '=')
		return true;
	/* A lone '.' on a line upsets mail transports. */
	if (c == '.' && linelen == 0 &&
	    (last || in[i + 1] == '\n' || in[i + 1] == '\r' || in[i + 1] == 0))
		return true;
	if ((c == '\t' || c == ' ') && last)
		return true;
	return c < 33 && c != '\r' && c != '\n' && c != '\t' && c != ' ';
}

size_t cj_qp_encode(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0, linelen = 0;
	const unsigned char *nl = n ? memchr(in, '\n', n) : NULL;
	/* Line ends are all written the way the first one is. */
	bool crlf = nl && nl > in && nl[-1] == '\r';

	for (size_t i = 0; i < n;) {
		if (qp_must_quote(in, n, i, linelen)) {
			if (linelen + 3 >= QP_LINE) {
				out[o++] = '=';
				if (crlf)
					out[o++] = '\r';
				out[o++] = '\n';
				linelen = 0;
			}
			out[o++] = '=';
			out[o++] = hex_upper[in[i] >> 4];
			out[o++] = hex_upper[in[i] & 15];
			linelen += 3;
			i++;
		} else if (in[i] == '\n' || (in[i] == '\r' && i + 1 < n && in[i + 1] == '\n')) {
			/* Blanks before a line end are quoted so that they survive. */
			if (o && (out[o - 1] == ' ' || out[o - 1] == '\t')) {
				unsigned char c = (unsigned char)out[o - 1];
				out[o - 1] = '=';
				out[o++] = hex_upper[c >> 4];
				out[o++] = hex_upper[c & 15];
			}
			if (crlf)
				out[o++] = '\r';
			out[o++] = '\n';
			i += in[i] == '\r' ? 2 : 1;
			linelen = 0;
		} else {
			if (i + 1 != n && in[i + 1] != '\n' && linelen + 1 >= QP_LINE) {
				out[o++] = '=';
				if (crlf)
					out[o++] = '\r';
				out[o++] = '\n';
				linelen = 0;
			}
			out[o++] = (char)in[i++];
			linelen++;
		}
	}
	return o;
}

static bool is_hex_digit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

size_t cj_qp_decode(const char *in, size_t n, unsigned char *out)
{
	size_t o = 0, i = 0;

	while (i < n) {
		if (in[i] != '=') {
			out[o++] = (unsigned char)in[i++];
			continue;
		}
		if (++i >= n)
			break;
		if (in[i] == '\n' || in[i] == '\r') {
			/* A soft line break: skip to just past its newline. */
			while (i < n && in[i] != '\n')
				i++;
			if (i < n)
				i++;
		} else if (in[i] == '=') {
			out[o++] = '=';
			i++;
		} else if (i + 1 < n && is_hex_digit(in[i]) && is_hex_digit(in[i + 1])) {
			out[o++] = (unsigned char)(digit_value(in[i]) << 4 | digit_value(in[i + 1]));
			i += 2;
		} else {
			out[o++] = '=';
		}
	}
	return o;
}

/* Bytes one element of a repeated field of type t takes in a protobuf-c message. */
size_t cj_elem_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	default:
		return 4;
	}
}
