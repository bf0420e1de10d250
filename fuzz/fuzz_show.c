/*
 * `streamverify show` and `diff` on fuzzed dump directories: the input is
 * cut into image files of a temporary directory (as fuzz_criu_dir does),
 * which is then shown with every section in both forms and diffed with
 * itself (page hashes, the parent chain when a `parent` link is made).
 *
 * Layout of the input: repeated { u8 name selector, u16le length, bytes }.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "module.h"

/* One task (pid 1, files 2) with all it may have, a second (pid 3), and the files. */
static const char *const file_names[] = {
	"inventory.img", "pstree.img", "core-1.img", "core-3.img", "ids-1.img", "ids-3.img",
	"mm-1.img", "mm-3.img", "pagemap-1.img", "pagemap-3.img", "pages-1.img", "pages-2.img",
	"fdinfo-2.img", "fdinfo-3.img", "files.img", "fs-1.img", "fs-3.img", "memfd.img",
	"remap-fpath.img", "ghost-file-1.img", "mountpoints-13.img", "cgroup.img", "stats-dump",
	"sk-queues.img", "tcp-stream-a.img", "reg-files.img", "inetsk.img", "unixsk.img",
	"pipes.img", "fifo.img", "eventfd.img", "tty.img", "pagemap-shmem-5.img",
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
	size_t at = 0;

	if (!dir[0]) {
		/* in memory where there is a tmpfs: creating files is most of a run */
		snprintf(dir, sizeof(dir), "%s/sv-fuzz-show-%d",
			 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (int)getpid());
		if (mkdir(dir, 0700) != 0)
			abort();
		/* what show prints is not the fuzzer's business */
		if (!freopen("/dev/null", "w", stdout))
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
	/* one of the three ways out per input, by its length */
	char *tree[] = { "show", "--all", "--env", dir, NULL };
	char *json[] = { "show", "--all", "--env", "--format", "json", dir, NULL };
	char *diff[] = { "diff", "--format", size & 8 ? "json" : "tree", dir, dir, NULL };
	switch (size % 3) {
	case 0: sv_show_main(4, tree); break;
	case 1: sv_show_main(6, json); break;
	default: sv_diff_main(5, diff); break;
	}
	return 0;
}
