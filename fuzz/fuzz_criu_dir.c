/*
 * CRIU dump directories: the input is cut into a few image files of a
 * temporary directory, which is then verified as a whole dump.
 *
 * Layout of the input: repeated { u8 name selector, u16le length, bytes }.
 * The selector picks one of the file names a dump holds, so the fuzzer
 * can build directories of real shape from its mutations.
 */
#include <dirent.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_common.h"

static const char *const file_names[] = {
	"inventory.img", "pstree.img", "core-1.img", "core-2.img", "ids-1.img",
	"mm-1.img", "pagemap-1.img", "pages-1.img", "fdinfo-2.img", "files.img",
	"fs-1.img", "seccomp.img", "timens-0.img", "stats-dump", "cgroup.img",
	"tcp-stream-10.img", "inetsk.img", "unixsk.img", "pipes-data.img",
	"ghost-file-1.img", "remap-fpath.img", "pagemap-shmem-5.img", "pages-2.img",
	"core-3.img", "ids-3.img", "mm-3.img", "pagemap-3.img", "fdinfo-3.img",
	"fs-3.img", "utsns-11.img", "ipcns-var-12.img", "mountpoints-13.img",
	"netns-14.img", "filelocks.img", "tmpfs-dev-20.tar.gz.img", "cpuinfo.img",
};
#define NNAMES (sizeof(file_names) / sizeof(file_names[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void clear_dir(void)
{
	for (size_t i = 0; i < NNAMES; i++) {
		char p[256];
		snprintf(p, sizeof(p), "%s/%s", dir, file_names[i]);
		unlink(p);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sv_options opt = { .format = "criu" };
	size_t at = 0;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/sv-fuzz-dir-%d", (int)getpid());
		if (mkdir(dir, 0700) != 0)
			abort();
	}
	clear_dir();
	while (at + 3 <= size) {
		const char *name = file_names[data[at] % NNAMES];
		size_t len = (size_t)data[at + 1] | (size_t)data[at + 2] << 8;
		char p[256];
		int fd;

		at += 3;
		if (len > size - at)
			len = size - at;
		snprintf(p, sizeof(p), "%s/%s", dir, name);
		fd = open(p, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd < 0 || (len && write(fd, data + at, len) != (ssize_t)len))
			abort();
		close(fd);
		at += len;
	}
	sv_verify(dir, &opt, &fuzz_counting_sink, NULL);
	return 0;
}
