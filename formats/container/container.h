/*
 * The container module: checkpoint archives of podman, CRI-O and
 * containerd (and pod checkpoints), read as member sources.
 */
#ifndef SV_CONTAINER_H
#define SV_CONTAINER_H

#include "module.h"

/*
 * Defined with the archive member source (verify/members_archive.c): true
 * when the source ended on an error it or a module reported (a truncated
 * or corrupt archive), so that what was not seen is not called missing.
 * Belongs in verify/module.h next to sv_members_open_archive.
 */
bool sv_members_failed(const sv_members *m);

#endif
