/* Diagnostic codes of the CRIU module: one per rule. */
#ifndef SV_CRIU_CODES_H
#define SV_CRIU_CODES_H

#include "module.h"

#define CRIU_CODES(X)                                                                   \
	X(CRIU_MAGIC_UNKNOWN, "criu.magic.unknown", ERROR,                               \
	  "the file does not start with a CRIU image magic")                             \
	X(CRIU_MAGIC_HEAD, "criu.magic.head", ERROR,                                      \
	  "the head magic does not fit the type: IMG_SERVICE on a normal image or "      \
	  "IMG_COMMON on a service file")                                                \
	X(CRIU_MAGIC_INVENTORY_HEAD, "criu.magic.inventory-head", ERROR,                  \
	  "inventory.img carries a head magic before the INVENTORY magic")               \
	X(CRIU_MAGIC_NAME, "criu.magic.name", ERROR,                                      \
	  "the image's magic is not the one its file name implies")                      \
	X(CRIU_ENTRY_TOO_LARGE, "criu.entry.too-large", ERROR,                            \
	  "an entry is larger than streamverify decodes (64 MiB): it cannot be "        \
	  "verified, and CRIU's own entries are kilobytes")                             \
	X(CRIU_ENTRY_MALFORMED, "criu.entry.malformed", ERROR,                            \
	  "an entry is not a well-formed protobuf message of its type")                  \
	X(CRIU_ENTRY_REQUIRED, "criu.entry.required", ERROR,                              \
	  "an entry lacks a required field")                                             \
	X(CRIU_ENTRY_ENUM, "criu.entry.enum", ERROR,                                      \
	  "an enum field holds a value the CRIU 3.17 schema does not define")            \
	X(CRIU_ENTRY_UNKNOWN_FIELD, "criu.entry.unknown-field", NOTE,                     \
	  "an entry holds a field the CRIU 3.17 schema does not define (newer CRIU?)")   \
	X(CRIU_IMAGE_EMPTY, "criu.image.empty", ERROR,                                    \
	  "the image holds no entry, but CRIU reads one from it")                        \
	X(CRIU_IMAGE_EMPTY_NONE, "criu.image.empty-none", NOTE,                          \
	  "an image CRIU reads as \"none\" when it holds no entry (cgroup, seccomp, "   \
	  "pidns, apparmor) holds none")                                                 \
	X(CRIU_ITIMERS_COUNT, "criu.itimers.count", ERROR,                               \
	  "a legacy itimers image does not hold exactly three entries")                  \
	X(CRIU_IMAGE_EXTRA_ENTRY, "criu.image.extra-entry", ERROR,                        \
	  "a single-entry image holds more than one entry")                              \
	X(CRIU_INVENTORY_VERSION, "criu.inventory.version", ERROR,                        \
	  "inventory img_version is not 1 or 2 (nor 0 in a pre-dump)")                   \
	X(CRIU_INVENTORY_FDINFO_PER_ID, "criu.inventory.fdinfo-per-id", ERROR,            \
	  "inventory lacks fdinfo_per_id: an image too old for CRIU 3.x")                \
	X(CRIU_INVENTORY_COMPRESS, "criu.inventory.compress", ERROR,                      \
	  "inventory compress is not 0, 1 or 2, or compression fields appear with an "  \
	  "img_version other than 3")                                                   \
	X(CRIU_INVENTORY_REGION_SIZE, "criu.inventory.region-size", ERROR,               \
	  "compress_region_size is missing in region mode, not a multiple of 4096, "   \
	  "above 4 MiB, or given without region mode")                                  \
	X(CRIU_INVENTORY_ROOT_CG_SET, "criu.inventory.root-cg-set", ERROR,                \
	  "inventory root_cg_set is 0")                                                  \
	X(CRIU_PAGEMAP_UNALIGNED, "criu.pagemap.unaligned", ERROR,                        \
	  "a pagemap entry's vaddr is not page-aligned")                                 \
	X(CRIU_PAGEMAP_ZERO_PAGES, "criu.pagemap.zero-pages", ERROR,                      \
	  "a pagemap entry covers no page (nr_pages 0)")                                 \
	X(CRIU_PAGEMAP_RANGE, "criu.pagemap.range", ERROR,                                \
	  "a pagemap entry runs past the end of the address space")                      \
	X(CRIU_PAGEMAP_ORDER, "criu.pagemap.order", ERROR,                                \
	  "pagemap entries are not in ascending address order")                          \
	X(CRIU_PAGEMAP_OVERLAP, "criu.pagemap.overlap", ERROR,                            \
	  "a pagemap entry overlaps the one before it")                                  \
	X(CRIU_PAGEMAP_FLAGS, "criu.pagemap.flags", ERROR,                                \
	  "a pagemap entry has flag bits CRIU does not define")                          \
	X(CRIU_PAGEMAP_FLAGS_CONFLICT, "criu.pagemap.flags-conflict", ERROR,              \
	  "a pagemap entry's flags say its pages are both in the parent and here, "      \
	  "or nowhere")                                                                  \
	X(CRIU_PAGEMAP_NEW_LAYOUT, "criu.pagemap.new-layout", NOTE,                       \
	  "the pagemap uses CRIU 4.2's layout (page count in field 5)")                  \
	X(CRIU_PAGEMAP_COMPRESS_NOT_PRESENT, "criu.pagemap.compress-not-present", ERROR,  \
	  "a pagemap entry whose pages are not in this dump (PE_PARENT, PE_LAZY) "      \
	  "carries compression fields or PE_PAYLOAD_ALIGNED")                           \
	X(CRIU_PAGEMAP_REGION_PAGES, "criu.pagemap.region-pages", ERROR,                  \
	  "a pagemap entry's region_pages is 0 or above 1024 (4 MiB)")                  \
	X(CRIU_PAGEMAP_BLOCKS, "criu.pagemap.blocks", ERROR,                              \
	  "a compressed pagemap entry has not one compressed size per block "          \
	  "(ceil(nr_pages / block pages))")                                             \
	X(CRIU_PAGEMAP_BLOCK_SIZE, "criu.pagemap.block-size", ERROR,                      \
	  "a block's compressed size exceeds its uncompressed size")                    \
	X(CRIU_PAGEMAP_TOTAL, "criu.pagemap.total", ERROR,                                \
	  "a compressed pagemap entry's total_compressed_size is absent or is not the " \
	  "sum of its blocks")                                                          \
	X(CRIU_GHOST_NO_SIZE, "criu.ghost.no-size", ERROR,                                \
	  "a chunked ghost file has no size")                                            \
	X(CRIU_GHOST_CHUNK_ORDER, "criu.ghost.chunk-order", ERROR,                        \
	  "ghost file chunks are not in ascending, non-overlapping order")               \
	X(CRIU_GHOST_CHUNK_RANGE, "criu.ghost.chunk-range", ERROR,                        \
	  "a ghost file chunk lies beyond the file size")                                \
	X(CRIU_GHOST_CONTENTS, "criu.ghost.contents", ERROR,                              \
	  "a ghost file that is not a regular file carries contents")                    \
	X(CRIU_GHOST_SIZE, "criu.ghost.size", ERROR,                                      \
	  "a plain ghost file's contents differ in length from its size")                \
	X(CRIU_GHOST_RDEV, "criu.ghost.rdev", ERROR,                                      \
	  "a ghost device file has no rdev")                                             \
	X(CRIU_GHOST_SYMLINK, "criu.ghost.symlink", ERROR,                                \
	  "a ghost symbolic link has no target")                                         \
	X(CRIU_IPC_SHM_PADDING, "criu.ipc.shm-padding", WARNING,                          \
	  "the padding after IPC shared memory contents holds non-zero bytes")           \
	X(CRIU_IPC_SEM_PADDING, "criu.ipc.sem-padding", ERROR,                            \
	  "the padding after semaphore values holds non-zero bytes")                     \
	X(CRIU_IPC_MSG_PADDING, "criu.ipc.msg-padding", ERROR,                            \
	  "the padding after an IPC message holds non-zero bytes")                       \
	X(CRIU_IPC_MSG_SIZE, "criu.ipc.msg-size", ERROR,                                  \
	  "an IPC message is larger than MSGMAX (8192)")                                 \
	X(CRIU_SKQ_SCM, "criu.skq.scm", ERROR,                                            \
	  "a queued packet has more than one SCM, or one that is not SCM_RIGHTS")        \
	X(CRIU_TCP_UNSQ_LEN, "criu.tcp.unsq-len", ERROR,                                  \
	  "a TCP stream entry has no unsq_len")                                          \
	X(CRIU_TCP_WSCALE, "criu.tcp.wscale", ERROR,                                      \
	  "a TCP stream with window scaling has no rcv_wscale")                          \
	X(CRIU_TCP_TIMESTAMP, "criu.tcp.timestamp", ERROR,                                \
	  "a TCP stream with timestamps has no timestamp")                               \
	X(CRIU_SECCOMP_FILTER_LEN, "criu.seccomp.filter-len", ERROR,                      \
	  "a seccomp filter's length is not a multiple of 8 (one BPF instruction)")      \
	X(CRIU_SECCOMP_PREV_FORWARD, "criu.seccomp.prev-forward", WARNING,               \
	  "a seccomp filter's prev is a later filter (no cycle): CRIU writes the one " \
	  "before")                                                                      \
	X(CRIU_SECCOMP_PREV, "criu.seccomp.prev", ERROR,                                  \
	  "a seccomp filter's prev is past the last filter, or following prev loops")   \
	X(CRIU_PAGES_SIZE, "criu.pages.size", ERROR,                                      \
	  "a pages file's size is not a multiple of the page size")                      \
	X(CRIU_PAGES_LZ4, "criu.pages.lz4", ERROR,                                        \
	  "a compressed block of a pages file is not an LZ4 block that decodes to "    \
	  "exactly its uncompressed size")                                              \
	X(CRIU_PAGES_PAYLOAD, "criu.pages.payload-size", ERROR,                           \
	  "a pages file's size is not the sum of its pagemap's payloads (with "        \
	  "alignment padding)")                                                         \
	X(CRIU_PAGES_UNSIZED, "criu.pages.unsized", NOTE,                                 \
	  "a pages file verified without its pagemap holds no whole number of pages: "  \
	  "cut short if uncompressed, valid if compressed (image version 3); only "     \
	  "the dump can tell")                                                          \
	X(CRIU_PLUGIN_TRAILING, "criu.plugin.trailing", ERROR,                            \
	  "a plugin image holds bytes after the message its size prefix announces "    \
	  "(the plugin reads only that many)")                                          \
	X(CRIU_TMPFS_NOT_GZIP, "criu.tmpfs.not-gzip", ERROR,                              \
	  "a tmpfs archive is not gzip-compressed")                                      \
	X(CRIU_TAR_CHECKSUM, "criu.tar.checksum", ERROR,                                  \
	  "a tar header's checksum does not match")                                      \
	X(CRIU_TAR_HEADER, "criu.tar.header", ERROR,                                      \
	  "a tar header has an unreadable size field")                                   \
	X(CRIU_TAR_END, "criu.tar.end", WARNING,                                          \
	  "the tar archive lacks its end-of-archive blocks")                             \
	X(CRIU_IPROUTE_MAGIC, "criu.iproute.magic", ERROR,                                \
	  "an iproute2 save stream does not start with its magic")                       \
	X(CRIU_IPROUTE_NLMSG, "criu.iproute.nlmsg", ERROR,                                \
	  "an iproute2 save stream holds a malformed netlink message")

enum { CRIU_CODES(SV_CODE_ENUM) CRIU_NCODES };

/*
 * The criu module registers one table: these codes of single images, then
 * the dump directory checks' (dump.h), then the JSON conversions'
 * (json_common.h).
 */
extern const sv_code criu_codes[];

#endif /* SV_CRIU_CODES_H */
