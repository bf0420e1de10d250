/*
 * Container checkpoint archives (podman `container checkpoint --export`,
 * CRI-O and containerd checkpoints written for the kubelet, pod
 * checkpoints), verified member by member in the one pass the core's
 * archive source makes over them: nothing is extracted.
 *
 * Layouts and what restore reads, from the writers and readers themselves:
 * podman libpod/container_internal_common.go exportCheckpoint, CRI-O
 * internal/lib/checkpoint.go, containerd container_checkpoint_linux.go,
 * checkpointctl lib/metadata.go.
 *
 * Per member: the CRIU images of checkpoint/ and pre-checkpoint/ with the
 * criu module's image checks, stats-dump (a CRIU service image), the JSON
 * members (well-formed, capped, the fields restore reads), the nested tars
 * read to their end by a second libarchive reader, and the member names
 * themselves (paths leaving the archive, links, devices, duplicates,
 * members outside the layout).  At the end: what restore needs and did not
 * find, pod folders, and the parent chain of pre-checkpoint exports
 * (`--previous PRE-ARCHIVE`, podman's --import-previous).
 */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "formats/container/container.h"
#include "formats/criu/criu.h"
#include "formats/criu/dump/dump.h"

#define CONTAINER_CODES(X) \
	X(AR_TRUNCATED, "archive.truncated", ERROR, \
	  "the archive ends inside a member, or after one without the tar end-of-archive blocks") \
	X(AR_CORRUPT, "archive.corrupt", ERROR, \
	  "the archive cannot be read: not tar, a tar header checksum, or corrupt compressed data") \
	X(CT_NO_CHECKPOINT, "container.layout.no-checkpoint", ERROR, \
	  "the archive has no checkpoint/ (nor pre-checkpoint/) folder: not a container checkpoint") \
	X(CT_MISSING, "container.member.missing", ERROR, \
	  "a member restore reads (config.dump, spec.dump) is not in the archive") \
	X(CT_DUPLICATE, "container.member.duplicate", ERROR, \
	  "a member appears twice: which copy restore extracts is the last, unverified one") \
	X(CT_UNEXPECTED, "container.member.unexpected", WARNING, \
	  "a member outside the layout the engine writes (not read by restore)") \
	X(CT_PATH, "container.member.path", ERROR, \
	  "a member name is absolute or has a '..' component: extraction would leave the target folder") \
	X(CT_NAME_LONG, "container.member.name-long", ERROR, \
	  "a member name is longer than PATH_MAX (4096 bytes): it cannot be extracted") \
	X(CT_LINK_OUT, "container.member.link-out", ERROR, \
	  "a symbolic or hard link points outside the archive (absolute, or up through '..')") \
	X(CT_HARDLINK, "container.member.hardlink", WARNING, \
	  "a hard link member: no engine writes them; its data is another member's") \
	X(CT_SPECIAL, "container.member.special", ERROR, \
	  "a device, FIFO or socket member: extraction would create it") \
	X(CT_KIND, "container.member.kind", ERROR, \
	  "a member restore reads as a file (image, JSON, tar) is a folder or a link") \
	X(CT_JSON, "container.json.malformed", ERROR, \
	  "a JSON member restore parses is empty or not well-formed JSON") \
	X(CT_JSON_LARGE, "container.json.too-large", ERROR, \
	  "a JSON member is larger than 4 MiB: not verified") \
	X(CT_JSON_FIELD, "container.json.field", ERROR, \
	  "a field restore reads is missing from a JSON member or has the wrong type") \
	X(CT_NESTED, "container.nested.corrupt", ERROR, \
	  "a nested tar (rootfs-diff.tar, volumes/*.tar, devshm-checkpoint.tar) is truncated or corrupt") \
	X(CT_PARENT_PREVIOUS, "container.parent.previous-missing", ERROR, \
	  "checkpoint/parent links to ../pre-checkpoint, which is in another archive: give it with --previous") \
	X(CT_PARENT_DANGLING, "container.parent.dangling", ERROR, \
	  "checkpoint/parent links to a folder neither this archive nor the --previous one holds") \
	X(CT_PREVIOUS_UNUSED, "container.previous.unused", WARNING, \
	  "--previous was given, but the archive's checkpoint has no parent link") \
	X(CT_POD_MISSING, "container.pod.container-missing", ERROR, \
	  "pod.options lists a container whose folder is not in the archive")

enum { CONTAINER_CODES(SV_CODE_ENUM) CT_NCODES };
static const sv_code container_codes[] = { CONTAINER_CODES(SV_CODE_ROW) };

#define JSON_MAX (4u << 20)       /* JSON members: podman's are tens of KiB */
#define NAME_MAX_BYTES 4096       /* PATH_MAX */
#define MAX_CONTAINERS 64         /* folders of a pod checkpoint */
#define UNEXPECTED_REPORTS 100    /* then one note of how many more */
#define META_MAX 128              /* metadata strings shown with -v */

/* ---- a set of member names ---------------------------------------------- */

typedef struct name_set {
	char **slot;
	size_t cap, n;
} name_set;

static uint64_t hash_name(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* Add name; 1 added, 0 already there, -1 out of memory. */
static int set_add(name_set *set, const char *name)
{
	if (set->n * 2 >= set->cap) {
		size_t ncap = set->cap ? set->cap * 2 : 256;
		char **ns = calloc(ncap, sizeof(*ns));
		if (!ns)
			return -1;
		for (size_t i = 0; i < set->cap; i++) {
			if (!set->slot[i])
				continue;
			size_t j = hash_name(set->slot[i]) & (ncap - 1);
			while (ns[j])
				j = (j + 1) & (ncap - 1);
			ns[j] = set->slot[i];
		}
		free(set->slot);
		set->slot = ns;
		set->cap = ncap;
	}
	size_t j = hash_name(name) & (set->cap - 1);
	while (set->slot[j]) {
		if (strcmp(set->slot[j], name) == 0)
			return 0;
		j = (j + 1) & (set->cap - 1);
	}
	if (!(set->slot[j] = strdup(name)))
		return -1;
	set->n++;
	return 1;
}

static void set_free(name_set *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->slot[i]);
	free(set->slot);
	memset(set, 0, sizeof(*set));
}

/* ---- state -------------------------------------------------------------- */

enum engine { ENGINE_UNKNOWN, ENGINE_PODMAN, ENGINE_CRIO, ENGINE_CONTAINERD };
static const char *const engine_names[] = { "unknown", "podman", "CRI-O", "containerd" };

/* One container: the archive root, or a folder of a pod checkpoint. */
typedef struct container {
	char *prefix;             /* "" or "FOLDER/" */
	bool checkpoint, pre_checkpoint, config, spec;
	bool parent_link;         /* checkpoint/parent */
	char *parent_target;
	enum engine engine;       /* from spec.dump's annotations */
	enum engine hint;         /* from the members present */
	uint64_t checkpoint_bytes, rootfs_diff_bytes;
	uint64_t images;
	criu_dump *ck, *pre;      /* the CRIU dumps of checkpoint/ and pre-checkpoint/ */
	char name[META_MAX], id[META_MAX], image[META_MAX], runtime[META_MAX];
	char created[META_MAX], checkpointed[META_MAX];
} container;

typedef struct ctr_run {
	sv_ctx *cx;
	sv_members *m;
	name_set names;
	container *ctr[MAX_CONTAINERS];
	size_t nctr;
	bool pod_options, pod_dump;
	json_t *pod_containers;   /* pod.options "containers", kept to the end */
	uint64_t members;
	uint64_t unexpected;
	char last_unexpected[256]; /* top folder last reported, to say it once */
	bool is_previous;         /* verifying the --previous archive */
	criu_dump *previous_pre;  /* the --previous archive's pre-checkpoint dump */
	bool previous_failed;     /* ... which could not be read to its end */
} ctr_run;

/* Text from the input, made printable (\xNN) and capped, for messages and stats. */
static void printable(char *out, size_t outsz, const char *in, size_t inlen)
{
	size_t o = 0;

	for (size_t i = 0; i < inlen && o + 5 < outsz; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c < 0x20 || c >= 0x7f || c == '\\')
			o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

/* ---- member names ---------------------------------------------------------- */

/* The name without leading "./" (and "/" runs after it) and trailing '/'. */
static char *normalize(const char *name)
{
	while (name[0] == '.' && name[1] == '/') {
		name += 2;
		while (*name == '/')
			name++;
	}
	size_t n = strlen(name);
	while (n > 0 && name[n - 1] == '/')
		n--;
	return strndup(name, n);
}

/* True when a path (relative to base_depth folders down) climbs out of the root. */
static bool escapes(const char *path, long depth)
{
	const char *p = path;

	if (*p == '/')
		return true;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (--depth < 0)
				return true;
		} else if (len > 0 && !(len == 1 && p[0] == '.')) {
			depth++;
		}
		if (!e)
			break;
		p = e + 1;
	}
	return false;
}

static bool has_dotdot(const char *path)
{
	const char *p = path;

	for (;;) {
		if (p[0] == '.' && p[1] == '.' && (p[2] == '/' || p[2] == '\0'))
			return true;
		p = strchr(p, '/');
		if (!p)
			return false;
		p++;
	}
}

static long folder_depth(const char *path)
{
	long d = 0;

	for (const char *p = path; *p; p++)
		if (*p == '/')
			d++;
	return d;
}

/* ---- member kinds by name ------------------------------------------------------ */

typedef enum member_role {
	R_NONE,          /* not part of a container's layout */
	R_DIR_OK,        /* a folder of the layout */
	R_IMAGE,         /* checkpoint/X or pre-checkpoint/X */
	R_PARENT,        /* checkpoint/parent */
	R_DESCRIPTORS,   /* checkpoint/descriptors.json */
	R_STATS,         /* stats-dump */
	R_CONFIG, R_SPEC, R_JSON_ANY, R_BIND_MOUNTS, R_DELETED, R_NETWORK,
	R_TAR,           /* rootfs-diff.tar, devshm-checkpoint.tar, volumes/X.tar */
	R_OPAQUE         /* logs, artifacts: present, not judged */
} member_role;

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The role of rest, a path inside one container's folder. */
static member_role role_of(const char *rest, enum engine *hint)
{
	static const struct { const char *name; member_role role; enum engine hint; } top[] = {
		{ "checkpoint", R_DIR_OK, ENGINE_UNKNOWN },
		{ "pre-checkpoint", R_DIR_OK, ENGINE_PODMAN },
		{ "artifacts", R_DIR_OK, ENGINE_PODMAN },
		{ "volumes", R_DIR_OK, ENGINE_PODMAN },
		{ "stats-dump", R_STATS, ENGINE_UNKNOWN },
		{ "config.dump", R_CONFIG, ENGINE_UNKNOWN },
		{ "spec.dump", R_SPEC, ENGINE_UNKNOWN },
		{ "network.status", R_NETWORK, ENGINE_PODMAN },
		{ "bind.mounts", R_BIND_MOUNTS, ENGINE_CRIO },
		{ "deleted.files", R_DELETED, ENGINE_UNKNOWN },
		{ "status.dump", R_JSON_ANY, ENGINE_CONTAINERD },
		{ "status", R_JSON_ANY, ENGINE_CONTAINERD },
		{ "rootfs-diff.tar", R_TAR, ENGINE_UNKNOWN },
		{ "devshm-checkpoint.tar", R_TAR, ENGINE_PODMAN },
		{ "ctr.log", R_OPAQUE, ENGINE_PODMAN },
		{ "container.log", R_OPAQUE, ENGINE_CONTAINERD },
		{ "dump.log", R_OPAQUE, ENGINE_UNKNOWN },
		{ "io.kubernetes.cri-o.LogPath", R_OPAQUE, ENGINE_CRIO },
	};

	*hint = ENGINE_UNKNOWN;
	for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++)
		if (strcmp(rest, top[i].name) == 0) {
			*hint = top[i].hint;
			return top[i].role;
		}
	if (strncmp(rest, "artifacts/", 10) == 0) {
		*hint = ENGINE_PODMAN;
		return R_OPAQUE;
	}
	if (strncmp(rest, "volumes/", 8) == 0 && !strchr(rest + 8, '/') && ends_with(rest, ".tar")) {
		*hint = ENGINE_PODMAN;
		return R_TAR;
	}
	const char *sub = NULL;
	if (strncmp(rest, "checkpoint/", 11) == 0)
		sub = rest + 11;
	else if (strncmp(rest, "pre-checkpoint/", 15) == 0)
		sub = rest + 15;
	if (sub && *sub && !strchr(sub, '/')) {
		if (sub == rest + 11 && strcmp(sub, "parent") == 0)
			return R_PARENT;
		if (strcmp(sub, "descriptors.json") == 0)
			return R_DESCRIPTORS;
		if (strcmp(sub, "dump.log") == 0 || strcmp(sub, "restore.log") == 0)
			return R_OPAQUE;
		return R_IMAGE;
	}
	return R_NONE;
}

/* Is the first component of path a top-level name of a container's layout? */
static bool is_layout_top(const char *path)
{
	enum engine hint;
	const char *slash = strchr(path, '/');
	char first[64];
	size_t len = slash ? (size_t)(slash - path) : strlen(path);

	if (len >= sizeof(first))
		return false;
	memcpy(first, path, len);
	first[len] = '\0';
	return role_of(first, &hint) != R_NONE;
}

static container *container_for(ctr_run *run, const char *prefix, size_t plen)
{
	for (size_t i = 0; i < run->nctr; i++)
		if (strlen(run->ctr[i]->prefix) == plen && strncmp(run->ctr[i]->prefix, prefix, plen) == 0)
			return run->ctr[i];
	if (run->nctr == MAX_CONTAINERS)
		return NULL;
	container *c = calloc(1, sizeof(*c));
	if (!c || !(c->prefix = strndup(prefix, plen))) {
		free(c);
		return NULL;
	}
	run->ctr[run->nctr++] = c;
	return c;
}

/* ---- reading members ------------------------------------------------------ */

/* The whole member in memory (size capped by the caller); NULL when it ended short. */
static unsigned char *read_whole(sv_stream *s, uint64_t size, size_t *got)
{
	unsigned char *p = sv_read_alloc(s, (size_t)size, got);

	if (!p && size == 0)
		p = malloc(1);
	return p;
}

/*
 * A CRIU image: the criu module's checks.  The archive source reads small
 * members whole before handing them out, so a member the archive breaks
 * inside is reported once, by the source, and never opened here.
 */
static void verify_image(ctr_run *run, container *c, const char *base)
{
	sv_stream *s = sv_member_open(run->cx, run->m);

	if (!s)
		return;
	c->images++;
	criu_verify_image(run->cx, s, base, NULL, NULL);
	sv_close(s);
}

/* The JSON of a member (NULL after a finding); *at gets the error offset. */
static json_t *load_json(ctr_run *run, const sv_member *mb, const char *what)
{
	sv_stream *s;
	json_error_t err;
	json_t *j;
	size_t got;
	unsigned char *buf;

	if (mb->size > JSON_MAX) {
		sv_report(run->cx, &container_codes[CT_JSON_LARGE], SV_NONE,
			  "%s is %llu bytes, more than the %u this verifier reads", what,
			  (unsigned long long)mb->size, JSON_MAX);
		return NULL;
	}
	s = sv_member_open(run->cx, run->m);
	if (!s)
		return NULL;
	buf = read_whole(s, mb->size, &got);
	sv_close(s);
	if (!buf)
		return NULL; /* the archive ended inside it: the source says so */
	if (got == 0) {
		sv_report(run->cx, &container_codes[CT_JSON], 0, "%s is empty", what);
		free(buf);
		return NULL;
	}
	j = json_loadb((const char *)buf, got, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);
	free(buf);
	if (!j) {
		char msg[160];
		printable(msg, sizeof(msg), err.text, strlen(err.text));
		sv_report(run->cx, &container_codes[CT_JSON], (uint64_t)(err.position > 0 ? err.position : 0),
			  "%s is not well-formed JSON: %s (line %d, column %d)", what, msg,
			  err.line, err.column);
	}
	return j;
}

static const char *jtype(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "?";
}

/* Field key of object o must be a string (non-empty when required). */
static bool want_string(ctr_run *run, const char *what, json_t *o, const char *key,
			bool required, char *copy)
{
	json_t *v = json_object_get(o, key);

	if (!v) {
		if (required)
			sv_report(run->cx, &container_codes[CT_JSON_FIELD], SV_NONE,
				  "%s has no \"%s\", which restore reads", what, key);
		return !required;
	}
	if (!json_is_string(v) || (required && json_string_length(v) == 0)) {
		sv_report(run->cx, &container_codes[CT_JSON_FIELD], SV_NONE,
			  "%s: \"%s\" is %s, not a%s string", what, key,
			  json_is_string(v) ? "empty" : jtype(v), required ? " non-empty" : "");
		return false;
	}
	if (copy)
		printable(copy, META_MAX, json_string_value(v), json_string_length(v));
	return true;
}

static bool want_type(ctr_run *run, const char *what, json_t *j, json_type t, json_type t2)
{
	if (json_typeof(j) == t || json_typeof(j) == t2)
		return true;
	sv_report(run->cx, &container_codes[CT_JSON_FIELD], SV_NONE, "%s is %s, not %s", what,
		  jtype(j), t == JSON_OBJECT ? "an object" : t == JSON_ARRAY ? "an array" : "as expected");
	return false;
}

static void check_config(ctr_run *run, container *c, json_t *j)
{
	const char *w = "config.dump";

	if (!want_type(run, w, j, JSON_OBJECT, JSON_OBJECT))
		return;
	want_string(run, w, j, "id", true, c->id);
	want_string(run, w, j, "name", true, c->name);
	want_string(run, w, j, "runtime", false, c->runtime);
	want_string(run, w, j, "createdTime", false, c->created);
	want_string(run, w, j, "checkpointedTime", false, c->checkpointed);
	if (!want_string(run, w, j, "rootfsImageName", false, c->image))
		return;
	if (!c->image[0])
		want_string(run, w, j, "rootfsImage", false, c->image);
	want_string(run, w, j, "rootfsImageRef", false, NULL);
}

static void check_spec(ctr_run *run, container *c, json_t *j)
{
	const char *w = "spec.dump";
	json_t *ann;

	if (!want_type(run, w, j, JSON_OBJECT, JSON_OBJECT))
		return;
	want_string(run, w, j, "ociVersion", true, NULL);
	ann = json_object_get(j, "annotations");
	if (ann && json_is_object(ann)) {
		const char *mgr = json_string_value(json_object_get(ann, "io.container.manager"));
		const char *key;
		json_t *v;
		if (mgr && strcmp(mgr, "libpod") == 0)
			c->engine = ENGINE_PODMAN;
		else if (mgr && strcmp(mgr, "cri-o") == 0)
			c->engine = ENGINE_CRIO;
		else
			json_object_foreach(ann, key, v) {
				if (strncmp(key, "io.kubernetes.cri.", 18) == 0) {
					c->engine = ENGINE_CONTAINERD;
					break;
				}
			}
	}
}

/* Every element of array j is a string. */
static void check_string_array(ctr_run *run, const char *w, json_t *j)
{
	size_t i;
	json_t *v;

	if (!want_type(run, w, j, JSON_ARRAY, JSON_NULL) || json_is_null(j))
		return;
	json_array_foreach(j, i, v) {
		if (!json_is_string(v)) {
			sv_report(run->cx, &container_codes[CT_JSON_FIELD], SV_NONE,
				  "%s: element %zu is %s, not a string", w, i, jtype(v));
			return;
		}
	}
}

static void check_bind_mounts(ctr_run *run, json_t *j)
{
	const char *w = "bind.mounts";
	size_t i;
	json_t *v;

	if (!want_type(run, w, j, JSON_ARRAY, JSON_NULL) || json_is_null(j))
		return;
	json_array_foreach(j, i, v) {
		char what[64];
		snprintf(what, sizeof(what), "bind.mounts[%zu]", i);
		if (!want_type(run, what, v, JSON_OBJECT, JSON_OBJECT))
			return;
		if (!want_string(run, what, v, "source", true, NULL) ||
		    !want_string(run, what, v, "destination", true, NULL))
			return;
	}
}

static void check_pod_options(ctr_run *run, json_t *j)
{
	const char *w = "pod.options";
	json_t *v, *ctrs;

	if (!want_type(run, w, j, JSON_OBJECT, JSON_OBJECT))
		return;
	v = json_object_get(j, "version");
	if (!v || !json_is_integer(v)) {
		sv_report(run->cx, &container_codes[CT_JSON_FIELD], SV_NONE,
			  "pod.options: \"version\" is %s, not an integer", v ? jtype(v) : "missing");
		return;
	}
	ctrs = json_object_get(j, "containers");
	if (!ctrs || !json_is_object(ctrs)) {
		sv_report(run->cx, &container_codes[CT_JSON_FIELD], SV_NONE,
			  "pod.options: \"containers\" is %s, not an object", ctrs ? jtype(ctrs) : "missing");
		return;
	}
	const char *key;
	json_object_foreach(ctrs, key, v) {
		if (!json_is_string(v)) {
			char k[META_MAX];
			printable(k, sizeof(k), key, strlen(key));
			sv_report(run->cx, &container_codes[CT_JSON_FIELD], SV_NONE,
				  "pod.options: containers[\"%s\"] is %s, not a string", k, jtype(v));
			return;
		}
	}
	json_decref(run->pod_containers);
	run->pod_containers = json_incref(ctrs);
}

/* ---- nested tars ------------------------------------------------------------- */

typedef struct nested {
	sv_stream *s;
	size_t pending;
} nested;

static la_ssize_t nested_feed(struct archive *a, void *arg, const void **buf)
{
	nested *n = arg;
	size_t avail;

	(void)a;
	if (n->pending)
		sv_skip(n->s, n->pending);
	*buf = sv_peek(n->s, SV_PEEK_MAX, &avail);
	n->pending = avail;
	return (la_ssize_t)avail;
}

/* Data the nested reader passes over is skipped in the member, never copied. */
static la_int64_t nested_skip(struct archive *a, void *arg, la_int64_t len)
{
	nested *n = arg;

	(void)a;
	if (n->pending) {
		sv_skip(n->s, n->pending);
		n->pending = 0;
	}
	return len > 0 ? (la_int64_t)sv_skip(n->s, (uint64_t)len) : 0;
}

static void check_nested_tar(ctr_run *run, const sv_member *mb, const char *what,
			     bool must_gzip)
{
	sv_stream *s;
	struct archive *a;
	struct archive_entry *e;
	nested n = { NULL, 0 };
	unsigned long entries = 0;
	int rc;

	if (mb->size == 0)
		return; /* nothing to extract */
	if (!(s = sv_member_open(run->cx, run->m)))
		return;
	n.s = s;
	if (must_gzip) {
		size_t avail;
		const unsigned char *h = sv_peek(s, 2, &avail);
		if (avail < 2 || h[0] != 0x1f || h[1] != 0x8b) {
			const sv_code *code = sv_code_find("criu.tmpfs.not-gzip");
			sv_report(run->cx, code ? code : &container_codes[CT_NESTED], 0,
				  "a tmpfs image must be gzip-compressed tar (CRIU extracts it with tar --gzip)");
			sv_close(s);
			return;
		}
	}
	a = archive_read_new();
	if (!a) {
		sv_close(s);
		return;
	}
	archive_read_support_format_tar(a);
	archive_read_support_filter_gzip(a); /* containerd's rootfs-diff.tar */
	archive_read_set_read_callback(a, nested_feed);
	archive_read_set_skip_callback(a, nested_skip);
	archive_read_set_callback_data(a, &n);
	rc = archive_read_open1(a);
	while (rc == ARCHIVE_OK) {
		rc = archive_read_next_header(a, &e);
		if (rc == ARCHIVE_WARN)
			rc = ARCHIVE_OK;
		if (rc != ARCHIVE_OK)
			break;
		entries++;
		rc = archive_read_data_skip(a);
	}
	if (rc != ARCHIVE_EOF && !sv_members_failed(run->m)) {
		char msg[160];
		const char *es = archive_error_string(a);
		la_int64_t pos = archive_read_header_position(a);
		uint64_t at = pos > 0 ? (uint64_t)pos : 0;
		printable(msg, sizeof(msg), es ? es : "unreadable", strlen(es ? es : "unreadable"));
		sv_report(run->cx, &container_codes[CT_NESTED], at,
			  "%s: after %lu entr%s: %s (offset in the tar%s)", what, entries,
			  entries == 1 ? "y" : "ies", msg,
			  archive_filter_count(a) > 1 ? ", decompressed" : "");
	}
	archive_read_free(a);
	sv_close(s);
}

/* ---- per member ------------------------------------------------------------ */

static void unexpected(ctr_run *run, const char *name, const char *why)
{
	const char *slash = strchr(name, '/');
	size_t toplen = slash ? (size_t)(slash - name) : strlen(name);

	/* One finding per unexpected top-level folder, a run of members in it. */
	if (slash && toplen < sizeof(run->last_unexpected) &&
	    strncmp(run->last_unexpected, name, toplen) == 0 && run->last_unexpected[toplen] == '\0')
		return;
	if (toplen < sizeof(run->last_unexpected)) {
		memcpy(run->last_unexpected, name, toplen);
		run->last_unexpected[toplen] = '\0';
	} else {
		run->last_unexpected[0] = '\0';
	}
	run->unexpected++;
	if (run->unexpected <= UNEXPECTED_REPORTS)
		sv_report(run->cx, &container_codes[CT_UNEXPECTED], SV_NONE,
			  "%s%s: not read by restore", why, slash ? " (a folder of them)" : "");
}

/* The dump of checkpoint/ (or pre-checkpoint/) of container c, made on first use. */
static criu_dump *dump_for(ctr_run *run, container *c, bool pre)
{
	criu_dump **d = pre ? &c->pre : &c->ck;
	char path[4096 + 64], where[META_MAX];

	if (!*d) {
		printable(where, sizeof(where), c->prefix, strlen(c->prefix));
		snprintf(path, sizeof(path), "%s:%s%s", sv_members_path(run->m), where,
			 pre ? "pre-checkpoint" : "checkpoint");
		*d = criu_dump_new(run->cx, path);
	}
	return *d;
}

/*
 * A member of checkpoint/ or pre-checkpoint/: to the criu module's dump
 * checks (every image verified, every relation checked at the end), by its
 * name inside the dump.
 */
static void dump_member(ctr_run *run, container *c, const sv_member *mb, const char *rest)
{
	bool pre = strncmp(rest, "pre-checkpoint/", 15) == 0;
	criu_dump *d = dump_for(run, c, pre);
	sv_member sub = *mb;
	sv_stream *s = NULL;

	if (!d)
		return;
	sub.name = strchr(rest, '/') + 1;
	/*
	 * tmpfs contents are gzip'd tar, and members are given raw: the
	 * nested reader checks the gzip layer (CRC, length) and the tar; the
	 * dump learns the image is there.
	 */
	if (mb->kind == SV_MEMBER_FILE && strncmp(sub.name, "tmpfs-", 6) == 0 &&
	    ends_with(sub.name, ".tar.gz.img")) {
		c->images++;
		check_nested_tar(run, mb, rest, true);
		criu_dump_add(d, &sub, NULL);
		return;
	}
	if (mb->kind == SV_MEMBER_FILE) {
		if (criu_dump_wants(d, &sub))
			s = sv_member_open(run->cx, run->m);
		c->images++;
	}
	criu_dump_add(d, &sub, s);
	sv_close(s);
}

static void member(ctr_run *run, const sv_member *mb)
{
	sv_ctx *cx = run->cx;
	size_t rawlen = strlen(mb->name);
	char *name;
	const char *rest;
	container *c = NULL;
	member_role role;
	enum engine hint;

	sv_set_file(cx, mb->display);
	sv_record_none(cx);
	if (rawlen > NAME_MAX_BYTES) {
		sv_report(cx, &container_codes[CT_NAME_LONG], SV_NONE,
			  "the member name is %zu bytes long", rawlen);
		return;
	}
	if (mb->name[0] == '/' || has_dotdot(mb->name) || rawlen == 0) {
		sv_report(cx, &container_codes[CT_PATH], SV_NONE,
			  rawlen == 0 ? "the member has an empty name" :
			  mb->name[0] == '/' ? "the member name is an absolute path" :
					       "the member name has a '..' component");
		return;
	}
	if (!(name = normalize(mb->name))) {
		sv_report(cx, &sv_core_codes[SV_CORE_IO], SV_NONE, "out of memory");
		return;
	}
	if (*name == '\0') { /* "./": the root itself */
		free(name);
		return;
	}
	if (sv_want_records(cx))
		sv_emit_record(cx, run->members, "member", mb->offset, mb->size, "%s",
			       mb->kind == SV_MEMBER_DIR ? "folder" : mb->kind == SV_MEMBER_SYMLINK ?
			       "symbolic link" : mb->kind == SV_MEMBER_HARDLINK ? "hard link" :
			       mb->kind == SV_MEMBER_OTHER ? "special file" : "file");

	/* Links that leave the archive; devices. */
	if (mb->kind == SV_MEMBER_SYMLINK && mb->link &&
	    escapes(mb->link, folder_depth(name))) {
		char t[META_MAX];
		printable(t, sizeof(t), mb->link, strlen(mb->link));
		sv_report(cx, &container_codes[CT_LINK_OUT], SV_NONE,
			  "symbolic link to '%s', outside the archive", t);
		goto out;
	}
	if (mb->kind == SV_MEMBER_HARDLINK) {
		char t[META_MAX];
		printable(t, sizeof(t), mb->link ? mb->link : "", strlen(mb->link ? mb->link : ""));
		if (!mb->link || escapes(mb->link, 0))
			sv_report(cx, &container_codes[CT_LINK_OUT], SV_NONE,
				  "hard link to '%s', outside the archive", t);
		else
			sv_report(cx, &container_codes[CT_HARDLINK], SV_NONE,
				  "hard link to '%s'", t);
		goto out;
	}
	if (mb->kind == SV_MEMBER_OTHER) {
		sv_report(cx, &container_codes[CT_SPECIAL], SV_NONE,
			  "a device, FIFO or socket member");
		goto out;
	}

	/* Which container: the root, or the folder of a pod checkpoint. */
	rest = name;
	if (strcmp(name, "pod.options") == 0 || strcmp(name, "pod.dump") == 0) {
		if (mb->kind != SV_MEMBER_FILE) {
			sv_report(cx, &container_codes[CT_KIND], SV_NONE, "not a regular file");
			goto out;
		}
		if (set_add(&run->names, name) == 0) {
			sv_report(cx, &container_codes[CT_DUPLICATE], mb->offset,
				  "the second member of this name");
			goto out;
		}
		json_t *j = load_json(run, mb, name);
		if (j && strcmp(name, "pod.options") == 0) {
			run->pod_options = true;
			check_pod_options(run, j);
		} else if (j) {
			run->pod_dump = true;
			want_type(run, name, j, JSON_OBJECT, JSON_OBJECT);
		}
		json_decref(j);
		goto out;
	}
	if (is_layout_top(name)) {
		c = container_for(run, "", 0);
	} else {
		const char *slash = strchr(name, '/');
		if (slash && is_layout_top(slash + 1)) {
			c = container_for(run, name, (size_t)(slash - name) + 1);
			rest = slash + 1;
		} else if (!slash && mb->kind == SV_MEMBER_DIR) {
			/* A pod container's folder, or not: its members say. */
			goto out;
		}
	}
	if (!c) {
		unexpected(run, name, "a member outside the checkpoint layout");
		goto out;
	}
	role = role_of(rest, &hint);
	if (hint != ENGINE_UNKNOWN && c->hint == ENGINE_UNKNOWN)
		c->hint = hint;
	if (role == R_NONE) {
		unexpected(run, name, "a member outside the checkpoint layout");
		goto out;
	}
	/* Present, whatever its state: a bad one is its own finding. */
	if (role == R_CONFIG)
		c->config = true;
	else if (role == R_SPEC)
		c->spec = true;
	if (role == R_DIR_OK) {
		if (mb->kind != SV_MEMBER_DIR) {
			sv_report(cx, &container_codes[CT_KIND], SV_NONE, "should be a folder");
			goto out;
		}
		if (strcmp(rest, "checkpoint") == 0)
			c->checkpoint = true;
		else if (strcmp(rest, "pre-checkpoint") == 0)
			c->pre_checkpoint = true;
		goto out;
	}
	/* A file of the layout: once only. */
	if (mb->kind != SV_MEMBER_DIR && role != R_OPAQUE) {
		int added = set_add(&run->names, name);
		if (added < 0) {
			sv_report(cx, &sv_core_codes[SV_CORE_IO], SV_NONE, "out of memory");
			goto out;
		}
		if (added == 0) {
			sv_report(cx, &container_codes[CT_DUPLICATE], mb->offset,
				  "the second member of this name: restore would extract this one over the first");
			goto out;
		}
	}
	if (strncmp(rest, "checkpoint/", 11) == 0)
		c->checkpoint = true;
	else if (strncmp(rest, "pre-checkpoint/", 15) == 0)
		c->pre_checkpoint = true;
	if (role == R_PARENT && mb->kind == SV_MEMBER_SYMLINK) {
		c->parent_link = true;
		free(c->parent_target);
		c->parent_target = strdup(mb->link ? mb->link : "");
	}
	if (role == R_IMAGE || role == R_PARENT) {
		if (mb->kind == SV_MEMBER_FILE && strncmp(rest, "checkpoint/", 11) == 0)
			c->checkpoint_bytes += mb->size;
		dump_member(run, c, mb, rest);
		goto out;
	}
	if (role == R_OPAQUE)
		goto out;
	if (mb->kind != SV_MEMBER_FILE) {
		sv_report(cx, &container_codes[CT_KIND], SV_NONE, "not a regular file: restore reads it as one");
		goto out;
	}
	switch (role) {
	case R_STATS:
		verify_image(run, c, "stats-dump");
		break;
	case R_TAR:
		if (strcmp(rest, "rootfs-diff.tar") == 0)
			c->rootfs_diff_bytes = mb->size;
		check_nested_tar(run, mb, rest, false);
		break;
	default: {
		json_t *j = load_json(run, mb, rest);
		if (!j)
			break;
		switch (role) {
		case R_CONFIG:
			check_config(run, c, j);
			break;
		case R_SPEC:
			check_spec(run, c, j);
			break;
		case R_DESCRIPTORS:
			check_string_array(run, "checkpoint/descriptors.json", j);
			break;
		case R_DELETED:
			check_string_array(run, "deleted.files", j);
			break;
		case R_BIND_MOUNTS:
			check_bind_mounts(run, j);
			break;
		case R_NETWORK:
			want_type(run, "network.status", j, JSON_OBJECT,
				  json_is_array(j) ? JSON_ARRAY : JSON_NULL);
			break;
		default:
			break;
		}
		json_decref(j);
		break;
	}
	}
out:
	free(name);
}

/* ---- the end of the archive ------------------------------------------------- */

static void finish_container(ctr_run *run, container *c, bool have_previous)
{
	sv_ctx *cx = run->cx;
	char where[META_MAX + 16];

	printable(where, META_MAX, c->prefix, strlen(c->prefix));
	if (!c->checkpoint && !c->pre_checkpoint) {
		sv_report(cx, &container_codes[CT_NO_CHECKPOINT], SV_NONE,
			  "no %scheckpoint/ folder: nothing to restore", where);
		return;
	}
	if (c->checkpoint && !c->config)
		sv_report(cx, &container_codes[CT_MISSING], SV_NONE,
			  "no %sconfig.dump: restore cannot recreate the container", where);
	if (c->checkpoint && !c->spec)
		sv_report(cx, &container_codes[CT_MISSING], SV_NONE,
			  "no %sspec.dump: restore cannot recreate the container", where);
	if (c->pre)
		criu_dump_finish(c->pre, NULL);
	if (c->parent_link) {
		char t[META_MAX];
		const char *target = c->parent_target ? c->parent_target : "";
		bool to_pre = strcmp(target, "../pre-checkpoint") == 0 ||
			      strcmp(target, "../pre-checkpoint/") == 0;
		criu_dump *parent = !to_pre ? NULL : c->pre ? c->pre : run->previous_pre;
		printable(t, sizeof(t), target, strlen(target));
		if (!to_pre)
			sv_report(cx, &container_codes[CT_PARENT_DANGLING], SV_NONE,
				  "%scheckpoint/parent links to '%s', which no archive holds", where, t);
		else if (!parent && !have_previous)
			sv_report(cx, &container_codes[CT_PARENT_PREVIOUS], SV_NONE,
				  "%scheckpoint/parent links to ../pre-checkpoint, which this archive lacks: "
				  "verify with --previous PRE-ARCHIVE (podman restore --import-previous)", where);
		else if (!parent && !run->previous_failed)
			sv_report(cx, &container_codes[CT_PARENT_DANGLING], SV_NONE,
				  "%scheckpoint/parent links to ../pre-checkpoint, which neither this archive "
				  "nor the --previous one holds", where);
		/*
		 * Without its parent the dump's in-parent pages cannot be
		 * checked: the finding above stands for what follows from it.
		 */
		if (c->ck && parent) {
			criu_dump_set_parent(c->ck, parent);
			criu_dump_finish(c->ck, NULL);
		}
		return;
	}
	if (c->ck)
		criu_dump_finish(c->ck, NULL);
	if (have_previous && c->checkpoint && !run->is_previous) {
		sv_report(cx, &container_codes[CT_PREVIOUS_UNUSED], SV_NONE,
			  "%scheckpoint/ has no parent link: the --previous archive is not part of its chain",
			  where);
	}
}

static void emit_stats(ctr_run *run)
{
	sv_ctx *cx = run->cx;

	if (!sv_want_records(cx))
		return;
	sv_emit_stat(cx, "layout", "%s", run->pod_options ? "pod" : "container");
	sv_emit_stat_u64(cx, "members", run->members);
	for (size_t i = 0; i < run->nctr; i++) {
		container *c = run->ctr[i];
		enum engine e = c->engine != ENGINE_UNKNOWN ? c->engine : c->hint;
		char key[128], pre[48];
		printable(pre, sizeof(pre), c->prefix, strlen(c->prefix) > 40 ? 40 : strlen(c->prefix));
#define STAT(k, v) do { snprintf(key, sizeof(key), "%s%s", pre, k); \
		        if ((v)[0]) sv_emit_stat(cx, key, "%s", v); } while (0)
		STAT("engine", engine_names[e]);
		STAT("container", c->name);
		STAT("id", c->id);
		STAT("image", c->image);
		STAT("runtime", c->runtime);
		STAT("created", c->created);
		STAT("checkpointed", c->checkpointed);
#undef STAT
		snprintf(key, sizeof(key), "%scheckpoint_bytes", pre);
		sv_emit_stat_u64(cx, key, c->checkpoint_bytes);
		snprintf(key, sizeof(key), "%sroot_fs_diff_bytes", pre);
		sv_emit_stat_u64(cx, key, c->rootfs_diff_bytes);
		snprintf(key, sizeof(key), "%simages", pre);
		sv_emit_stat_u64(cx, key, c->images);
	}
}

static void finish(ctr_run *run, bool have_previous)
{
	sv_ctx *cx = run->cx;

	sv_set_file(cx, NULL);
	sv_record_none(cx);
	if (run->unexpected > UNEXPECTED_REPORTS)
		sv_report(cx, &container_codes[CT_UNEXPECTED], SV_NONE,
			  "%llu more members outside the checkpoint layout (not reported one by one)",
			  (unsigned long long)(run->unexpected - UNEXPECTED_REPORTS));
	/* What the archive did not show because it broke is not "missing". */
	if (sv_members_failed(run->m) || sv_stopped(cx))
		return;
	if (run->nctr == 0) {
		sv_report(cx, &container_codes[CT_NO_CHECKPOINT], SV_NONE,
			  "no checkpoint/ folder: not a container checkpoint archive");
		return;
	}
	for (size_t i = 0; i < run->nctr; i++)
		finish_container(run, run->ctr[i], have_previous);
	if (run->pod_containers) {
		const char *key;
		json_t *v;
		json_object_foreach(run->pod_containers, key, v) {
			const char *folder = json_string_value(v);
			bool found = false;
			size_t flen = folder ? strlen(folder) : 0;
			for (size_t i = 0; folder && i < run->nctr; i++)
				found |= strlen(run->ctr[i]->prefix) == flen + 1 &&
					 strncmp(run->ctr[i]->prefix, folder, flen) == 0;
			if (!found) {
				char f[META_MAX];
				printable(f, sizeof(f), folder ? folder : "", flen);
				sv_report(cx, &container_codes[CT_POD_MISSING], SV_NONE,
					  "pod.options lists container folder '%s', which the archive lacks", f);
			}
		}
	}
}

static void run_free(ctr_run *run)
{
	for (size_t i = 0; i < run->nctr; i++) {
		criu_dump_free(run->ctr[i]->ck);
		criu_dump_free(run->ctr[i]->pre);
		free(run->ctr[i]->prefix);
		free(run->ctr[i]->parent_target);
		free(run->ctr[i]);
	}
	set_free(&run->names);
	json_decref(run->pod_containers);
}

/*
 * Verify the archive m.  previous_pre: the --previous archive's
 * pre-checkpoint dump, or NULL; keep_pre (for the --previous archive
 * itself) receives this archive's own pre-checkpoint dump, finished.
 */
static void verify_one(sv_ctx *cx, sv_members *m, bool is_previous, bool have_previous,
		       bool previous_failed, criu_dump *previous_pre, criu_dump **keep_pre)
{
	ctr_run run = { 0 };
	const sv_member *mb;

	run.cx = cx;
	run.m = m;
	run.is_previous = is_previous;
	run.previous_failed = previous_failed;
	run.previous_pre = previous_pre;
	while (!sv_stopped(cx) && (mb = sv_members_next(m)) != NULL) {
		sv_count_record(cx);
		member(&run, mb);
		run.members++;
	}
	sv_set_file(cx, NULL);
	sv_record_none(cx);
	finish(&run, have_previous);
	if (!is_previous)
		emit_stats(&run);
	if (keep_pre && !sv_members_failed(m))
		for (size_t i = 0; i < run.nctr && !*keep_pre; i++)
			if (run.ctr[i]->prefix[0] == '\0' && run.ctr[i]->pre) {
				*keep_pre = run.ctr[i]->pre;
				run.ctr[i]->pre = NULL;
			}
	run_free(&run);
	sv_set_file(cx, NULL);
}

static void container_verify_members(sv_ctx *cx, sv_members *m)
{
	const char *prev = sv_param(cx, "previous");
	criu_dump *pre = NULL;
	bool have_previous = false, previous_failed = false;

	/* The --previous archive (podman's --import-previous), verified first. */
	if (prev && *prev) {
		sv_stream *s = sv_open_at(cx, AT_FDCWD, prev, prev, 0);
		sv_members *pm = s ? sv_members_open_archive(cx, s) : NULL;
		have_previous = true;
		previous_failed = !pm;
		if (pm) {
			verify_one(cx, pm, true, false, false, NULL, &pre);
			previous_failed = sv_members_failed(pm);
			sv_members_close(pm);
		}
		sv_close(s);
	}
	if (!sv_stopped(cx))
		verify_one(cx, m, false, have_previous, previous_failed, pre, NULL);
	criu_dump_free(pre);
}

/* A stream forced to this format (--format container): read it as an archive. */
static void container_verify(sv_ctx *cx, sv_stream *in)
{
	sv_members *m = sv_members_open_archive(cx, in);

	if (!m)
		return;
	container_verify_members(cx, m);
	sv_members_close(m);
}

/*
 * Any tar archive: but a name another module knows (a CRIU tmpfs image,
 * tmpfs-dev-5.tar.gz.img, is a gzip'd tar too) outbids this.
 */
static int container_bid(const sv_bid_input *in)
{
	return in->is_archive ? 50 : 0;
}

const sv_format sv_format_container = {
	.name = "container",
	.description = "container checkpoint archives: podman, CRI-O, containerd, pods "
		       "(tar; gzip, zstd, xz, bzip2); --previous PRE-ARCHIVE for a pre-checkpoint chain",
	.codes = container_codes,
	.ncodes = CT_NCODES,
	.bid = container_bid,
	/*
	 * A stream only: the archive is opened here (sv_members_open_archive).
	 * No verify_members, so a directory is never taken for a container
	 * checkpoint.
	 */
	.verify = container_verify,
};
