/*
 * Plugins (criu-images.md "Newer CRIU", plugin images): what in the dump
 * only a plugin restores, against the plugins inventory.img lists.
 *
 * CRIU 4.x (criu-dev) writes inventory plugins_entry (criu/image.c,
 * write_img_inventory) with the plugins that took part in the dump:
 * amdgpu_plugin adds itself when it handles a device VMA or file
 * (plugins/amdgpu/amdgpu_plugin.c, add_inventory_plugin), cuda_plugin when
 * it checkpoints a CUDA task.  On restore (criu/image.c, prepare_inventory)
 * a present plugins_entry names the only plugins that may run: each plugin's
 * init asks check_and_remove_inventory_plugin() and disables itself when it
 * is not listed (amdgpu_plugin_init, cuda_plugin_init); an absent
 * plugins_entry (an older dump) enables every plugin.  So, with a
 * plugins_entry present:
 *
 *   - amdgpu images (amdgpu-kfd-ID, amdgpu-renderD-ID, amdgpu-dmabuf_ID,
 *     amdgpu-pages-*, amdgpu-drm-pages-*) are the amdgpu plugin's state:
 *     without amdgpu_plugin listed, its RESTORE_EXT_FILE hook never runs and
 *     the KFD/DRM files fail (criu/files-ext.c, open_fd: "Unable to restore
 *     %#x"), and its UPDATE_VMA_MAP hook never moves the device mappings
 *     (criu/files-reg.c, VMA_EXT_PLUGIN);
 *   - an EXT file is restored only by a plugin's RESTORE_EXT_FILE hook
 *     (criu/files-ext.c), a VMA_EXT_PLUGIN VMA only by a plugin's
 *     UPDATE_VMA_MAP hook (criu/files-reg.c; criu/mem.c leaves it to the
 *     plugin): with no plugin listed at all, nothing restores them.  Which
 *     plugin an EXT file needs is known only when amdgpu images carry its
 *     id; a plugin outside CRIU's tree may not check the list, so a listed
 *     plugin other than amdgpu's is taken to serve them.
 *
 * A listed plugin that nothing needs is not an error: restore only insists
 * that it be installed (check_inventory_plugins: "Missing required
 * plugin").  It is a note for amdgpu_plugin, whose work always leaves a
 * trace in the dump; CUDA's leaves none (its GPU memory is in pages-N.img),
 * so a listed cuda_plugin is never questioned.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define CRIU_DUMP_INTERNAL
#include "formats/criu/dump/dump.h"
#include "formats/criu/schema/schema.h"

#define VMA_EXT_PLUGIN (1u << 27) /* criu/include/image.h */
#define AMDGPU_PLUGIN "amdgpu_plugin" /* CR_PLUGIN_REGISTER name */

/* What in the dump needs a plugin. */
typedef struct needs {
	size_t amdgpu_imgs, ext_files, ext_vmas;
	long amdgpu_img;              /* the first amdgpu image by name, or -1 */
	const dfile *ext;             /* the EXT file of lowest id */
	const dmm *vma_mm;            /* the mm of lowest pid with such a VMA */
	size_t vma;                   /* its first such VMA */
} needs;

static bool is_amdgpu(const dimg *i)
{
	if (!i->named)
		return false;
	switch (i->named->type->id) {
	case CRIU_T_AMDGPU_KFD:
	case CRIU_T_AMDGPU_RENDER:
	case CRIU_T_AMDGPU_DMABUF:
	case CRIU_T_AMDGPU_PAGES:
	case CRIU_T_AMDGPU_DRM_PAGES:
		return true;
	default:
		return false;
	}
}

static needs find_needs(dump *d)
{
	needs n = { .amdgpu_img = -1 };

	for (size_t k = 0; k < d->byname.n; k++) {
		size_t at = DV(d->byname, size_t)[k];
		if (!is_amdgpu(&DV(d->imgs, dimg)[at]))
			continue;
		if (n.amdgpu_img < 0)
			n.amdgpu_img = (long)at;
		n.amdgpu_imgs++;
	}
	for (size_t k = 0; k < d->files.n; k++) {
		const dfile *f = &DV(d->files, dfile)[k];
		if (f->type != FD_TYPES__EXT)
			continue;
		if (!n.ext || f->id < n.ext->id)
			n.ext = f;
		n.ext_files++;
	}
	for (size_t m = 0; m < d->mms.n; m++) {
		const dmm *mm = &DV(d->mms, dmm)[m];
		for (size_t k = 0; k < mm->nvmas; k++) {
			if (!(DV(d->vmas, dvma)[mm->vma0 + k].status & VMA_EXT_PLUGIN))
				continue;
			n.ext_vmas++;
			if (!n.vma_mm || mm->pid < n.vma_mm->pid ||
			    (mm->pid == n.vma_mm->pid && k < n.vma)) {
				n.vma_mm = mm;
				n.vma = k;
			}
		}
	}
	return n;
}

/* Whether the inventory lists name; *unsure when names beyond those kept might. */
static bool listed(const dump *d, const char *name, bool *unsure)
{
	size_t kept = d->nplugins < DUMP_MAX_PLUGINS ? d->nplugins : DUMP_MAX_PLUGINS;

	*unsure = d->nplugins > kept;
	for (size_t k = 0; k < kept; k++)
		if (d->plugins[k] && strcmp(d->plugins[k], name) == 0)
			return true;
	return false;
}

static void describe(const needs *n, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = 0;
#define ADD(count, what)                                                                   \
	if ((count) && at < len)                                                           \
		at += (size_t)snprintf(buf + at, len - at, "%s%zu %s%s", at ? ", " : "",   \
				       (size_t)(count), what, (count) == 1 ? "" : "s")
	ADD(n->amdgpu_imgs, "amdgpu image");
	ADD(n->ext_files, "EXT file");
	ADD(n->ext_vmas, "VMA_EXT_PLUGIN VMA");
#undef ADD
}

void dump_check_plugins(dump *d)
{
	needs n = find_needs(d);
	bool unsure = false;
	bool amdgpu = listed(d, AMDGPU_PLUGIN, &unsure);
	const char *inv = "inventory.img's plugins_entry";
	char what[128];

	/* The plugin's own files: it reads them itself, not through CRIU. */
	for (size_t k = 0; k < d->imgs.n; k++)
		if (is_amdgpu(&DV(d->imgs, dimg)[k]))
			DV(d->imgs, dimg)[k].referenced = true;
	if (!d->has_plugins_entry || sv_stopped(d->cx))
		return; /* an older dump: restore enables every plugin */
	describe(&n, what, sizeof(what));
	if (n.amdgpu_imgs && !amdgpu) {
		if (!unsure)
			dump_report(d, n.amdgpu_img, SV_NONE, NULL, CD_PLUGIN_MISSING, SV_NONE,
				    "this is the amdgpu plugin's state (%s in the dump), but %s "
				    "does not list " AMDGPU_PLUGIN ": restore disables the plugin, "
				    "and the GPU files it restores fail (CRIU: unable to restore)",
				    what, inv);
		return;
	}
	if (n.amdgpu_imgs)
		return;
	if (d->nplugins == 0 && n.ext)
		dump_report(d, n.ext->img, n.ext->index, "file_entry", CD_PLUGIN_MISSING, SV_NONE,
			    "EXT file %" PRIu32 " is restored only by a plugin (%s in the dump), "
			    "but %s lists no plugin (CRIU: unable to restore %#" PRIx32 ")",
			    n.ext->id, what, inv, n.ext->id);
	else if (d->nplugins == 0 && n.vma_mm) {
		const dvma *v = &DV(d->vmas, dvma)[n.vma_mm->vma0 + n.vma];
		dump_report(d, n.vma_mm->img, 0, "mm_entry", CD_PLUGIN_MISSING, SV_NONE,
			    "VMA %zu 0x%" PRIx64 "-0x%" PRIx64 " has VMA_EXT_PLUGIN: only a "
			    "plugin restores it (%s in the dump), but %s lists no plugin",
			    n.vma, v->start, v->end, what, inv);
	} else if (amdgpu && !n.ext && !n.vma_mm && !dump_files_unsure(d) &&
		   !DUMP_UNSURE(d, MM)) {
		dimg *i = dump_find(d, "inventory.img");
		dump_report(d, i ? (long)(i - DV(d->imgs, dimg)) : -1, 0, "inventory_entry",
			    CD_PLUGIN_UNUSED, SV_NONE,
			    AMDGPU_PLUGIN " is listed, but the dump holds no amdgpu image, EXT "
			    "file or VMA_EXT_PLUGIN VMA: restore still needs the plugin installed");
	}
}

void dump_emit_plugins(dump *d)
{
	needs n = find_needs(d);
	char list[DUMP_MAX_PLUGINS * 64 + 32] = "", what[128];
	size_t kept = d->nplugins < DUMP_MAX_PLUGINS ? d->nplugins : DUMP_MAX_PLUGINS;

	for (size_t k = 0; k < kept; k++) {
		size_t at = strlen(list);
		snprintf(list + at, sizeof(list) - at, "%s%s", at ? " " : "",
			 d->plugins[k] ? d->plugins[k] : "");
	}
	if (d->nplugins > kept) {
		size_t at = strlen(list);
		snprintf(list + at, sizeof(list) - at, " and %zu more", d->nplugins - kept);
	}
	sv_emit_stat(d->cx, "plugins.listed", "%s",
		     !d->has_plugins_entry ? "not recorded (restore enables every plugin)" :
		     list[0] ? list : "none");
	describe(&n, what, sizeof(what));
	if (n.amdgpu_imgs)
		sv_emit_stat(d->cx, "plugins.needed", AMDGPU_PLUGIN " (%s)", what);
	else if (n.ext_files || n.ext_vmas)
		sv_emit_stat(d->cx, "plugins.needed", "a plugin (%s)", what);
	else
		sv_emit_stat(d->cx, "plugins.needed", "none");
}
