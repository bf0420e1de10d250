/* The inside of member sources, shared by members.c and members_archive.c. */
#ifndef SV_MEMBERS_H
#define SV_MEMBERS_H

#include "internal.h"

typedef struct sv_members_ops {
	const sv_member *(*next)(sv_members *m);
	sv_stream *(*open)(sv_ctx *cx, sv_members *m);
	void (*free)(sv_members *m); /* the implementation's state, not m */
} sv_members_ops;

struct sv_members {
	const sv_members_ops *ops;
	void *impl;
	char *path;    /* the source as diagnostics name it */
	bool is_dir;
	sv_ctx *cx;
	sv_member cur; /* the current member, filled by next */
};

/* A directory source over an open descriptor, which it then owns. */
sv_members *sv_members_from_dirfd(sv_ctx *cx, int dirfd, const char *path);

#endif
