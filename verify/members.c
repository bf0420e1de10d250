/*
 * Member sources: the named files of a checkpoint, whether a directory or
 * an archive, enumerated and opened by the core so that a module's checks
 * run unchanged over either.  This file has the common part and the
 * directory source; members_archive.c has the archive source.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "members.h"

/* A directory with more entries than this is not a checkpoint CRIU wrote. */
#define DIR_MAX_ENTRIES 1000000u

typedef struct dir_source {
	int dirfd;
	char **names;   /* sorted */
	size_t n, next;
	char *display;  /* "PATH/NAME" of the current member */
	char *link;     /* target of the current member when a symlink */
} dir_source;

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void dir_free(sv_members *m)
{
	dir_source *d = m->impl;

	for (size_t i = 0; i < d->n; i++)
		free(d->names[i]);
	free(d->names);
	free(d->display);
	free(d->link);
	if (d->dirfd >= 0)
		close(d->dirfd);
	free(d);
}

/* Read and sort the names of the directory; false (errno set) on failure. */
static bool dir_read_names(dir_source *d)
{
	int fd = openat(d->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t cap = 0;
	DIR *dir;
	struct dirent *de;

	if (fd < 0)
		return false;
	dir = fdopendir(fd);
	if (!dir) {
		int err = errno;
		close(fd);
		errno = err;
		return false;
	}
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (d->n == DIR_MAX_ENTRIES)
			break;
		if (d->n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			char **p = realloc(d->names, ncap * sizeof(*p));
			if (!p)
				goto oom;
			d->names = p;
			cap = ncap;
		}
		if (!(d->names[d->n] = strdup(de->d_name)))
			goto oom;
		d->n++;
	}
	closedir(dir);
	if (d->n > 1)
		qsort(d->names, d->n, sizeof(*d->names), cmp_name);
	return true;
oom:
	closedir(dir);
	errno = ENOMEM;
	return false;
}

static const sv_member *dir_next(sv_members *m)
{
	dir_source *d = m->impl;
	struct stat st;

	free(d->display);
	free(d->link);
	d->display = d->link = NULL;
	if (d->next == d->n)
		return NULL;
	const char *name = d->names[d->next++];
	size_t plen = strlen(m->path);

	/* "DIR/NAME", without doubling a trailing slash of DIR. */
	while (plen > 1 && m->path[plen - 1] == '/')
		plen--;
	if (asprintf(&d->display, "%.*s/%s", (int)plen, m->path, name) < 0)
		d->display = NULL;
	memset(&m->cur, 0, sizeof(m->cur));
	m->cur.name = name;
	m->cur.display = d->display ? d->display : name;
	m->cur.offset = SV_NONE;
	m->cur.size = SV_NONE;
	if (fstatat(d->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		m->cur.kind = SV_MEMBER_OTHER;
		return &m->cur;
	}
	if (S_ISLNK(st.st_mode)) {
		char buf[4096];
		ssize_t n = readlinkat(d->dirfd, name, buf, sizeof(buf) - 1);
		m->cur.kind = SV_MEMBER_SYMLINK;
		if (n >= 0) {
			buf[n] = '\0';
			d->link = strdup(buf);
			m->cur.link = d->link;
		}
		/* A link to a regular file is read as that file, as CRIU reads it. */
		if (fstatat(d->dirfd, name, &st, 0) == 0 && S_ISREG(st.st_mode)) {
			m->cur.kind = SV_MEMBER_FILE;
			m->cur.size = (uint64_t)st.st_size;
		}
	} else if (S_ISREG(st.st_mode)) {
		m->cur.kind = SV_MEMBER_FILE;
		m->cur.size = (uint64_t)st.st_size;
	} else if (S_ISDIR(st.st_mode)) {
		m->cur.kind = SV_MEMBER_DIR;
	} else {
		m->cur.kind = SV_MEMBER_OTHER;
	}
	return &m->cur;
}

static sv_stream *dir_open(sv_ctx *cx, sv_members *m)
{
	dir_source *d = m->impl;

	return sv_open_at(cx, d->dirfd, m->cur.name, m->cur.display, SV_OPEN_RAW);
}

static const sv_members_ops dir_ops = { dir_next, dir_open, dir_free };

static sv_members *dir_source_new(sv_ctx *cx, int dirfd, const char *path)
{
	sv_members *m = calloc(1, sizeof(*m));
	dir_source *d = calloc(1, sizeof(*d));

	if (!m || !d || !(m->path = strdup(path)))
		goto fail;
	m->ops = &dir_ops;
	m->impl = d;
	m->is_dir = true;
	m->cx = cx;
	d->dirfd = dirfd;
	if (!dir_read_names(d)) {
		int err = errno;
		d->dirfd = -1; /* the caller keeps its descriptor on failure */
		dir_free(m);
		free(m->path);
		free(m);
		errno = err;
		return NULL;
	}
	return m;
fail:
	free(d);
	if (m)
		free(m->path);
	free(m);
	errno = ENOMEM;
	return NULL;
}

/* ---- the interface ------------------------------------------------------- */

sv_members *sv_members_from_dirfd(sv_ctx *cx, int dirfd, const char *path)
{
	return dir_source_new(cx, dirfd, path);
}

sv_members *sv_members_open_dir(sv_ctx *cx, const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	sv_members *m;

	if (fd < 0)
		return NULL;
	m = dir_source_new(cx, fd, path);
	if (!m) {
		int err = errno;
		close(fd);
		errno = err;
	}
	return m;
}

sv_members *sv_members_open_subdir(sv_ctx *cx, sv_members *m, const char *name)
{
	dir_source *d;
	char *path;
	int fd;
	sv_members *sub;

	if (!m->is_dir) {
		errno = ENOTSUP;
		return NULL;
	}
	d = m->impl;
	fd = openat(d->dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (asprintf(&path, "%s/%s", m->path, name) < 0) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	sub = dir_source_new(cx, fd, path);
	if (!sub) {
		int err = errno;
		close(fd);
		errno = err;
	}
	free(path);
	return sub;
}

sv_stream *sv_members_open_name(sv_ctx *cx, sv_members *m, const char *name,
				const char *display)
{
	dir_source *d;
	struct stat st;

	if (!m->is_dir || strchr(name, '/'))
		return NULL;
	d = m->impl;
	if (fstatat(d->dirfd, name, &st, 0) != 0)
		return NULL;
	return sv_open_at(cx, d->dirfd, name, display, SV_OPEN_RAW);
}

/* The descriptor of a directory source (for modules not yet on members). */
int sv_members_dirfd(const sv_members *m)
{
	return m->is_dir ? ((const dir_source *)m->impl)->dirfd : -1;
}

const sv_member *sv_members_next(sv_members *m)
{
	return m->ops->next(m);
}

sv_stream *sv_member_open(sv_ctx *cx, sv_members *m)
{
	return m->ops->open(cx, m);
}

const char *sv_members_path(const sv_members *m)
{
	return m->path;
}

bool sv_members_is_dir(const sv_members *m)
{
	return m->is_dir;
}

void sv_members_close(sv_members *m)
{
	if (!m)
		return;
	m->ops->free(m);
	free(m->path);
	free(m);
}
