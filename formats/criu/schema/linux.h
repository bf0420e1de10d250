/*
 * Linux values that CRIU images carry as plain numbers, named once for
 * the dump checks (dump/) and the checkpoint viewer (show/): a task's
 * state in core_entry.tc.task_state (criu/include/task.h, compel), socket
 * address families and types (linux/socket.h, linux/net.h), TCP states
 * (include/net/tcp_states.h) and the VMA status bits of vma_entry.status
 * (criu/include/image.h).
 */
#ifndef SV_CRIU_LINUX_H
#define SV_CRIU_LINUX_H

/* core_entry.tc.task_state */
#define CRIU_TASK_ALIVE   1u
#define CRIU_TASK_DEAD    2u /* a zombie */
#define CRIU_TASK_STOPPED 3u
#define CRIU_TASK_HELPER  6u /* a dead helper of the process tree */

/* Address families. */
#define CRIU_AF_UNIX    1u
#define CRIU_AF_INET    2u
#define CRIU_AF_INET6   10u
#define CRIU_AF_NETLINK 16u
#define CRIU_AF_PACKET  17u

/* Socket types. */
#define CRIU_SOCK_STREAM    1u
#define CRIU_SOCK_DGRAM     2u
#define CRIU_SOCK_RAW       3u
#define CRIU_SOCK_RDM       4u
#define CRIU_SOCK_SEQPACKET 5u
#define CRIU_SOCK_PACKET    10u

/* IP protocols. */
#define CRIU_IPPROTO_TCP     6u
#define CRIU_IPPROTO_UDP     17u
#define CRIU_IPPROTO_UDPLITE 136u

/* TCP states, 1 .. CRIU_TCP_STATE_COUNT - 1. */
enum criu_tcp_state {
	CRIU_TCP_ESTABLISHED = 1,
	CRIU_TCP_SYN_SENT,
	CRIU_TCP_SYN_RECV,
	CRIU_TCP_FIN_WAIT1,
	CRIU_TCP_FIN_WAIT2,
	CRIU_TCP_TIME_WAIT,
	CRIU_TCP_CLOSE,
	CRIU_TCP_CLOSE_WAIT,
	CRIU_TCP_LAST_ACK,
	CRIU_TCP_LISTEN,
	CRIU_TCP_CLOSING,
	CRIU_TCP_STATE_COUNT
};

/* vma_entry.prot and vma_entry.flags: mmap(2)'s values, as CRIU stores them */
#define CRIU_PROT_READ      0x1u
#define CRIU_PROT_WRITE     0x2u
#define CRIU_PROT_EXEC      0x4u
#define CRIU_MAP_SHARED     0x1u
#define CRIU_MAP_PRIVATE    0x2u
#define CRIU_MAP_ANONYMOUS  0x20u
#define CRIU_MAP_GROWSDOWN  0x100u

/* vma_entry.status */
#define CRIU_VMA_AREA_REGULAR (1u << 0)
#define CRIU_VMA_AREA_STACK   (1u << 1)
#define CRIU_VMA_AREA_VSYSCALL (1u << 2)
#define CRIU_VMA_AREA_VDSO    (1u << 3)
#define CRIU_VMA_AREA_HEAP    (1u << 5)
#define CRIU_VMA_FILE_PRIVATE (1u << 6)
#define CRIU_VMA_FILE_SHARED  (1u << 7)
#define CRIU_VMA_ANON_SHARED  (1u << 8)
#define CRIU_VMA_ANON_PRIVATE (1u << 9)
#define CRIU_VMA_AREA_SYSVIPC (1u << 10)
#define CRIU_VMA_AREA_SOCKET  (1u << 11)
#define CRIU_VMA_AREA_VVAR    (1u << 12)
#define CRIU_VMA_AREA_AIORING (1u << 13)
#define CRIU_VMA_AREA_MEMFD   (1u << 14)
#define CRIU_VMA_EXT_PLUGIN   (1u << 27)
#define CRIU_VMA_UNSUPP       (1u << 31)

#endif /* SV_CRIU_LINUX_H */
