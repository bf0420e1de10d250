/*
 * Input streams: one buffered reader for regular files, pipes and gzip.
 *
 * Modules see a flat byte stream with an exact offset.  Data sits in one
 * fixed buffer; peeks and scans hand out pointers into it, so bytes that
 * are only looked at are never copied, and bytes that are only skipped are
 * never read at all when the input is a regular uncompressed file.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "internal.h"

/* Skips shorter than this read through the buffer rather than seek. */
#define SEEK_MIN ((uint64_t)64 << 10)

/* Large enough that a pipe is drained with few system calls. */
#define STREAM_BUF (1u << 20)

/* Buffers are whole pages: a smaller one saves nothing. */
#define STREAM_PAGE ((size_t)4096)

struct sv_stream {
	sv_ctx *cx;            /* where I/O and gzip failures are reported */
	int fd;                /* -1 for a stream read through src */
	bool owns_fd;
	sv_source src;         /* read (and skip) callbacks when fd < 0 */
	bool size_known;       /* size holds the stream's declared length */
	bool size_trusted;     /* ... and it is a regular file's real size */
	char *name;            /* file name used in diagnostics */
	bool seekable;         /* regular file, not compressed: skips seek */
	/*
	 * A regular file is read with pread(2) at file_off, the offset of the
	 * next byte to read: a skip only moves file_off, so jumping to the
	 * next record header and reading it costs one system call, not an
	 * lseek(2) and a read(2).  The descriptor's own offset is set at close
	 * when the descriptor is not ours (stdin).
	 */
	bool positional;
	uint64_t file_off;
	bool gzip;
	bool src_eof;          /* the source has no more bytes */
	bool failed;           /* a read or decompression error was reported */
	bool counted;          /* a file of a directory: counted when closed */
	uint64_t base;         /* file offset of stream offset 0 (stdin may not start at 0) */
	uint64_t size;         /* stream length when seekable */
	uint64_t pos;          /* stream offset of buf[head] */
	unsigned char *buf;
	size_t cap, head, tail;
	size_t read_size;      /* bytes the next read(2) asks for, at most cap */
	uint64_t landed;       /* stream offset where the last seek landed */
	/*
	 * --tee: bytes from offset tee_from on stay in buf until a record
	 * boundary says they belong to records found valid (tee_valid moves
	 * on); they are written to tee_fd before the next read, so a run of
	 * small records goes out in one write(2) of about a read's size, and
	 * nothing valid waits in buf while the input is waited for.  buf
	 * grows up to TEE_HOLD_MAX to hold one record whole.
	 */
	bool tee;
	bool tee_cut;          /* forwarding stopped for good */
	int tee_fd;
	uint64_t tee_from;     /* first byte not yet written */
	uint64_t tee_valid;    /* bytes before this offset belong to valid records */
	/* gzip state: compressed bytes wait in zin[zhead..ztail). */
	z_stream z;
	bool z_live;           /* inflate initialised and mid-member */
	unsigned char *zin;
	size_t zhead, ztail, zcap;
	uint64_t zraw;         /* compressed bytes consumed, for messages */
};

static const sv_code *core(int which)
{
	return &sv_core_codes[which];
}

/*
 * The buffer for an input of known length: no larger than the input,
 * rounded up to a page.  A dump directory opens a stream per image, most
 * of them a few hundred bytes, and a fuzzer opens one per execution.
 * Inputs of a whole buffer or more keep the whole buffer, so large files
 * are read exactly as before.
 */
static size_t buf_size_for(uint64_t len)
{
	if (len >= STREAM_BUF)
		return STREAM_BUF;
	if (len == 0)
		return STREAM_PAGE;
	return ((size_t)len + STREAM_PAGE - 1) & ~(STREAM_PAGE - 1);
}

/* Resize buf to cap bytes, at least tail; false when out of memory. */
static bool buf_resize(sv_stream *s, size_t cap)
{
	unsigned char *p = realloc(s->buf, cap);

	if (!p)
		return false;
	s->buf = p;
	s->cap = cap;
	return true;
}

/* Report against this stream's file, keeping the module's record context. */
static void stream_report(sv_stream *s, int which, uint64_t off,
			  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void stream_report(sv_stream *s, int which, uint64_t off,
			  const char *fmt, ...)
{
	va_list ap;
	const char *saved = sv_get_file(s->cx);

	sv_set_file(s->cx, s->name);
	va_start(ap, fmt);
	sv_vreport(s->cx, core(which), off, fmt, ap);
	va_end(ap);
	sv_set_file(s->cx, saved);
}

/* One read(2), retried on EINTR, and on EAGAIN after waiting for data. */
static ssize_t read_some(int fd, void *p, size_t n)
{
	for (;;) {
		ssize_t r = read(fd, p, n);
		if (r >= 0)
			return r;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
				return -1;
		} else if (errno != EINTR) {
			return -1;
		}
	}
}

/* One read from the stream's source: a descriptor or the callbacks. */
static ssize_t src_read(sv_stream *s, void *p, size_t n)
{
	ssize_t r;

	if (s->fd < 0)
		return s->src.read(s->src.arg, p, n);
	if (!s->positional)
		return read_some(s->fd, p, n);
	do
		r = pread(s->fd, p, n, (off_t)s->file_off);
	while (r < 0 && errno == EINTR);
	if (r > 0)
		s->file_off += (uint64_t)r;
	return r;
}

static void raw_fail(sv_stream *s, int err)
{
	if (!s->failed) {
		s->failed = true;
		sv_ctx_io_failed(s->cx);
		stream_report(s, SV_CORE_IO, s->pos + (s->tail - s->head),
			      "read error: %s", strerror(err));
	}
	s->src_eof = true;
}

/* Pull compressed bytes into zin. */
static bool gz_refill(sv_stream *s)
{
	ssize_t r;

	if (s->zhead == s->ztail)
		s->zhead = s->ztail = 0;
	if (s->ztail == s->zcap) {
		memmove(s->zin, s->zin + s->zhead, s->ztail - s->zhead);
		s->ztail -= s->zhead;
		s->zhead = 0;
	}
	r = src_read(s, s->zin + s->ztail, s->zcap - s->ztail);
	if (r < 0) {
		raw_fail(s, errno);
		return false;
	}
	s->ztail += (size_t)r;
	return r > 0;
}

/*
 * Inflate into buf[tail..cap).  Concatenated gzip members are one stream,
 * as gzip -d treats them; zlib checks each member's CRC-32 and length.
 */
static void gz_fill(sv_stream *s)
{
	size_t before = s->tail;

	while (s->tail == before && !s->src_eof) {
		int rc;

		if (!s->z_live) {
			/* Between members: more input must be another member. */
			if (s->zhead == s->ztail && !gz_refill(s)) {
				s->src_eof = true;
				break;
			}
			if (s->ztail - s->zhead < 2 && !gz_refill(s) &&
			    s->ztail - s->zhead < 2) {
				stream_report(s, SV_CORE_GZIP, s->pos + (s->tail - s->head),
					      "%zu byte(s) of trailing garbage after gzip data (compressed offset %llu)",
					      s->ztail - s->zhead, (unsigned long long)s->zraw);
				s->src_eof = true;
				break;
			}
			if (s->zin[s->zhead] != 0x1f || s->zin[s->zhead + 1] != 0x8b) {
				stream_report(s, SV_CORE_GZIP, s->pos + (s->tail - s->head),
					      "trailing garbage after gzip data (compressed offset %llu)",
					      (unsigned long long)s->zraw);
				s->src_eof = true;
				break;
			}
			if (inflateReset2(&s->z, 16 + MAX_WBITS) != Z_OK) {
				s->src_eof = true;
				break;
			}
			s->z_live = true;
		}
		if (s->zhead == s->ztail && !gz_refill(s)) {
			if (!s->failed)
				stream_report(s, SV_CORE_GZIP_TRUNCATED, s->pos + (s->tail - s->head),
					      "gzip data ends before its end marker (compressed offset %llu)",
					      (unsigned long long)s->zraw);
			s->failed = true;
			s->src_eof = true;
			break;
		}
		s->z.next_in = s->zin + s->zhead;
		s->z.avail_in = (uInt)(s->ztail - s->zhead);
		s->z.next_out = s->buf + s->tail;
		s->z.avail_out = (uInt)(s->cap - s->tail);
		rc = inflate(&s->z, Z_NO_FLUSH);
		s->zraw += (s->ztail - s->zhead) - s->z.avail_in;
		s->zhead = s->ztail - s->z.avail_in;
		s->tail = s->cap - s->z.avail_out;
		if (rc == Z_STREAM_END) {
			s->z_live = false;
			/* More members may follow; only look when buf has room. */
			if (s->zhead == s->ztail && !gz_refill(s))
				s->src_eof = true;
		} else if (rc != Z_OK && rc != Z_BUF_ERROR) {
			stream_report(s, SV_CORE_GZIP, s->pos + (s->tail - s->head),
				      "gzip data is corrupt: %s (compressed offset %llu)",
				      s->z.msg ? s->z.msg : zError(rc),
				      (unsigned long long)s->zraw);
			s->failed = true;
			s->src_eof = true;
		}
	}
}

/*
 * The largest record --tee holds back whole: libxc's record cap (128 MiB)
 * plus one read buffer.
 */
#define TEE_HOLD_MAX ((size_t)128 << 20 | STREAM_BUF)

static void tee_flush(sv_stream *s);

/* Index in buf of the first byte that must be kept. */
static size_t keep_index(const sv_stream *s)
{
	if (s->tee && !s->tee_cut && s->tee_from < s->pos)
		return s->head - (size_t)(s->pos - s->tee_from);
	return s->head;
}

/*
 * Make room at the end of buf: write out what is known valid, then move
 * the live bytes to the front.
 */
static void compact(sv_stream *s)
{
	size_t keep;

	tee_flush(s);
	keep = keep_index(s);

	if (keep == 0)
		return;
	memmove(s->buf, s->buf + keep, s->tail - keep);
	s->tail -= keep;
	s->head -= keep;
}

/*
 * A full buffer that --tee must keep whole: grow it, within the cap, by
 * one read buffer at a time rather than doubling.  Every page of buf gets
 * written before the buffer is compacted, so its size is the resident
 * memory: a libxc record of 1024 pages (4 MiB) needs 5 MiB, not 8.
 */
static bool tee_grow(sv_stream *s)
{
	size_t cap = s->cap + STREAM_BUF;

	if (s->cap >= TEE_HOLD_MAX)
		return false;
	if (cap > TEE_HOLD_MAX)
		cap = TEE_HOLD_MAX;
	return buf_resize(s, cap);
}

/* Add bytes to the buffer; false when none could be added. */
static bool fill(sv_stream *s)
{
	size_t before;

	if (s->src_eof)
		return false;
	/* Valid bytes go out before the input is waited for. */
	tee_flush(s);
	if (keep_index(s) == s->tail)
		s->head = s->tail = 0;
	else if (s->tail == s->cap)
		compact(s);
	/* A source of unknown size starts small (sv_stream_open_source) and
	 * doubles while reading goes on, up to a whole buffer. */
	if (s->tail == s->cap && s->cap < STREAM_BUF && !s->size_known && !s->gzip &&
	    !buf_resize(s, s->cap * 2 < STREAM_BUF ? s->cap * 2 : STREAM_BUF)) {
		raw_fail(s, ENOMEM);
		return false;
	}
	if (s->tail == s->cap && s->tee && !s->tee_cut && !tee_grow(s)) {
		/* Holding more would break the memory bound: give up forwarding. */
		stream_report(s, SV_CORE_TEE, s->tee_from,
			      "a record from offset 0x%llx is longer than --tee can hold "
			      "(%zu MiB): forwarding stopped before it",
			      (unsigned long long)s->tee_from, TEE_HOLD_MAX >> 20);
		s->tee_cut = true;
		compact(s);
	}
	if (s->tail == s->cap)
		return false;
	before = s->tail;
	if (s->gzip) {
		gz_fill(s);
	} else {
		size_t want = s->cap - s->tail;
		if (want > s->read_size)
			want = s->read_size;
		ssize_t r = src_read(s, s->buf + s->tail, want);
		if (r < 0)
			raw_fail(s, errno);
		else if (r == 0)
			s->src_eof = true;
		else
			s->tail += (size_t)r;
		/* Reading on and on: back to whole buffers. */
		if (s->read_size < s->cap)
			s->read_size = s->read_size * 2 < s->cap ? s->read_size * 2 : s->cap;
	}
	return s->tail > before;
}

uint64_t sv_offset(const sv_stream *s)
{
	return s->pos;
}

static void consume(sv_stream *s, size_t n)
{
	s->head += n;
	s->pos += n;
}

size_t sv_read(sv_stream *s, void *dst, size_t n)
{
	unsigned char *out = dst;
	size_t done = 0;

	while (done < n) {
		size_t avail = s->tail - s->head;
		if (avail == 0) {
			/* Big reads of plain data go straight to the caller. */
			if (!s->gzip && !s->tee && !s->src_eof && n - done >= s->cap) {
				ssize_t r = src_read(s, out + done, n - done);
				if (r < 0) {
					raw_fail(s, errno);
					break;
				}
				if (r == 0) {
					s->src_eof = true;
					break;
				}
				done += (size_t)r;
				s->pos += (uint64_t)r;
				continue;
			}
			if (!fill(s))
				break;
			avail = s->tail - s->head;
		}
		if (avail > n - done)
			avail = n - done;
		memcpy(out + done, s->buf + s->head, avail);
		consume(s, avail);
		done += avail;
	}
	return done;
}

bool sv_need(sv_ctx *cx, sv_stream *s, void *buf, size_t n, const char *what)
{
	uint64_t at = s->pos;
	size_t got = sv_read(s, buf, n);

	if (got == n)
		return true;
	sv_report_truncated(cx, at, n, got, what);
	return false;
}

const unsigned char *sv_peek(sv_stream *s, size_t n, size_t *avail)
{
	if (n > SV_PEEK_MAX)
		n = SV_PEEK_MAX;
	if (s->tail - s->head < n && s->cap - s->head < n) {
		compact(s);
		/* A kept record may leave too little room: grow for the peek. */
		while (s->cap - s->head < n && s->tee && !s->tee_cut && tee_grow(s))
			;
	}
	while (s->tail - s->head < n && fill(s))
		;
	/*
	 * A buffer sized to a declared length cannot hold the peek: the
	 * input has more bytes than it declared (a file that grew, a member
	 * source that says less than it gives).  Peeks see what is there.
	 */
	if (s->tail - s->head < n && s->cap - s->head < n && !s->src_eof) {
		if (buf_resize(s, s->head + n)) {
			while (s->tail - s->head < n && fill(s))
				;
		} else {
			/* Not a short input: say it was not read (exit 2). */
			raw_fail(s, ENOMEM);
		}
	}
	*avail = s->tail - s->head < n ? s->tail - s->head : n;
	return s->buf + s->head;
}

bool sv_at_end(sv_stream *s)
{
	size_t avail;

	sv_peek(s, 1, &avail);
	return avail == 0;
}

uint64_t sv_skip(sv_stream *s, uint64_t n)
{
	uint64_t done = 0;
	uint64_t used_end = s->pos; /* what was wanted since the last jump ends here */

	while (done < n) {
		uint64_t avail = s->tail - s->head;
		if (avail == 0) {
			/*
			 * Seek over what is large; read through what is small
			 * (a 4 KiB page between 8-octet headers), so dense
			 * little records keep whole-buffer reads.
			 */
			if (s->seekable && !s->src_eof && n - done >= SEEK_MIN) {
				/* Nothing buffered: jump, never reading the bytes. */
				uint64_t left = s->size > s->pos ? s->size - s->pos : 0;
				uint64_t step = n - done < left ? n - done : left;
				if (step > 0) {
					if (s->fd >= 0) {
						/* Nothing is buffered: file_off is at pos. */
						s->file_off += step;
					} else if (s->src.skip(s->src.arg, step) != (int64_t)step) {
						raw_fail(s, errno ? errno : EIO);
						break;
					}
					/*
					 * After a jump the next record header and
					 * its small body are all that is wanted:
					 * refilling a whole buffer would copy the
					 * page data the seek just avoided.  Ask
					 * for what was consumed between the last
					 * two jumps (a record's header and pfn
					 * array, typically) and a little more.
					 */
					uint64_t gap = used_end - s->landed + 64;
					s->pos += step;
					done += step;
					s->landed = s->pos;
					s->read_size = gap < SV_PEEK_MAX ? (size_t)gap : SV_PEEK_MAX;
				}
				if (done < n && !fill(s))
					break;
				continue;
			}
			if (!fill(s))
				break;
			avail = s->tail - s->head;
		}
		if (avail > n - done)
			avail = n - done;
		consume(s, (size_t)avail);
		done += avail;
	}
	return done;
}

uint64_t sv_scan(sv_stream *s, uint64_t n, sv_scan_fn fn, void *arg)
{
	uint64_t done = 0;

	if (!fn)
		return sv_skip(s, n);
	while (done < n) {
		size_t avail = s->tail - s->head;
		if (avail == 0) {
			if (!fill(s))
				break;
			avail = s->tail - s->head;
		}
		if (avail > n - done)
			avail = (size_t)(n - done);
		uint64_t at = s->pos;
		const unsigned char *p = s->buf + s->head;
		consume(s, avail);
		done += avail;
		if (fn(arg, p, avail, at) != 0) {
			done += sv_skip(s, n - done);
			break;
		}
	}
	return done;
}

void *sv_read_alloc(sv_stream *s, size_t n, size_t *got)
{
	uint64_t rem = sv_remaining(s);
	size_t cap, have = 0;
	unsigned char *p;

	*got = 0;
	/*
	 * A file cannot hold more than it has left; from a pipe start at one
	 * buffer and double only while the data keeps coming.
	 */
	if (rem != UINT64_MAX && s->size_trusted)
		cap = n < rem ? n : (size_t)rem;
	else if (rem != UINT64_MAX && rem < n)
		cap = rem < STREAM_BUF ? (size_t)rem : STREAM_BUF;
	else
		cap = n < STREAM_BUF ? n : STREAM_BUF;
	p = malloc(cap ? cap : 1);
	if (!p)
		return NULL;
	for (;;) {
		size_t next;

		have += sv_read(s, p + have, cap - have);
		/*
		 * Short: the input ended.  cap 0: a declared length of 0
		 * remains, and doubling 0 would realloc to nothing.
		 */
		if (have < cap || have == n || cap == 0 || (rem != UINT64_MAX && s->size_trusted))
			break;
		next = cap <= n / 2 ? cap * 2 : n;
		unsigned char *q = realloc(p, next);
		if (!q)
			break;
		p = q;
		cap = next;
	}
	*got = have;
	if (have != n) {
		free(p);
		return NULL;
	}
	return p;
}

uint64_t sv_remaining(const sv_stream *s)
{
	if (!s->size_known)
		return UINT64_MAX;
	return s->size > s->pos ? s->size - s->pos : 0;
}

/* ---- --tee ---------------------------------------------------------------- */

/*
 * Pipes on either side of --tee hold 64 KiB by default: every 64 KiB
 * would cost each process a sleep and a wake-up.  A pipe as large as
 * the read buffer lets one read(2) take what a whole buffer can hold.
 * Best effort: the pipe keeps its size when the kernel refuses
 * (pipe-max-size, the user's pipe quota).
 */
static void grow_pipe(int fd)
{
	struct stat st;
	int size;

	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode))
		return;
	size = fcntl(fd, F_GETPIPE_SZ);
	if (size >= 0 && (size_t)size < STREAM_BUF)
		(void)fcntl(fd, F_SETPIPE_SZ, (int)STREAM_BUF);
}

/* Write buf[from, from + n) to the tee; false (reported) when it fails. */
static bool tee_write(sv_stream *s, size_t from, size_t n)
{
	while (n > 0) {
		ssize_t w = write(s->tee_fd, s->buf + from, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			stream_report(s, SV_CORE_TEE, s->tee_from,
				      "cannot forward the input: %s; forwarding stopped",
				      w < 0 ? strerror(errno) : "nothing written");
			s->tee_cut = true;
			sv_ctx_io_failed(s->cx);
			return false;
		}
		from += (size_t)w;
		n -= (size_t)w;
		s->tee_from += (uint64_t)w;
	}
	return true;
}

/* Write out the bytes found valid and not yet written. */
static void tee_flush(sv_stream *s)
{
	if (s->tee && !s->tee_cut && s->tee_valid > s->tee_from)
		tee_write(s, keep_index(s), (size_t)(s->tee_valid - s->tee_from));
}

void sv_stream_tee(sv_stream *s, int fd)
{
	s->tee = true;
	s->tee_fd = fd;
	s->tee_from = s->tee_valid = s->pos;
	/* Every byte must pass through buf: no seeks over it. */
	s->seekable = false;
	grow_pipe(s->fd);
	grow_pipe(fd);
}

bool sv_stream_tee_active(const sv_stream *s)
{
	return s && s->tee && !s->tee_cut;
}

void sv_stream_tee_commit(sv_stream *s, uint64_t upto)
{
	if (!s->tee || s->tee_cut)
		return;
	if (upto > s->pos)
		upto = s->pos; /* only bytes the module has gone past */
	if (upto > s->tee_valid)
		s->tee_valid = upto;
}

void sv_stream_tee_flush(sv_stream *s)
{
	tee_flush(s);
}

void sv_stream_tee_cut(sv_stream *s)
{
	/* What was found valid before still goes out; nothing after it. */
	tee_flush(s);
	s->tee_cut = true;
}

uint64_t sv_stream_tee_forwarded(const sv_stream *s)
{
	return s->tee_from;
}

const char *sv_stream_name(const sv_stream *s)
{
	return s->name;
}

bool sv_stream_gzip(const sv_stream *s)
{
	return s->gzip;
}

bool sv_stream_seekable(const sv_stream *s)
{
	return s->seekable;
}

/*
 * Sniff for the gzip magic without losing the bytes; from then on the
 * stream inflates.  False only when out of memory.
 */
static bool gzip_sniff(sv_stream *s)
{
	while (s->tail < 2 && fill(s))
		;
	if (s->tail >= 2 && s->buf[0] == 0x1f && s->buf[1] == 0x8b) {
		/* What was read is compressed input: it becomes zin. */
		unsigned char *out = malloc(STREAM_BUF);
		if (!out)
			return false;
		s->zin = s->buf;
		s->zcap = s->cap;
		s->ztail = s->tail;
		s->cap = STREAM_BUF;
		s->buf = out;
		s->zhead = 0;
		s->head = s->tail = 0;
		s->gzip = true;
		s->seekable = s->size_known = s->size_trusted = false;
		s->src_eof = false;
		if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK)
			return false;
		s->z_live = true;
	}
	return true;
}

/*
 * Wrap an open descriptor.  The first bytes decide whether the input is
 * gzip; they are read before anything else so that pipes work too.
 */
sv_stream *sv_stream_open_fd(sv_ctx *cx, int fd, bool owns_fd,
			     const char *name, unsigned flags)
{
	sv_stream *s = calloc(1, sizeof(*s));
	struct stat st;

	if (!s)
		goto oom;
	s->cx = cx;
	s->fd = fd;
	s->owns_fd = owns_fd;
	s->name = strdup(name);
	s->cap = STREAM_BUF;
	s->read_size = STREAM_BUF;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		off_t here = lseek(fd, 0, SEEK_CUR);
		if (here != (off_t)-1) {
			s->seekable = s->size_known = s->size_trusted = true;
			s->positional = true;
			s->base = s->file_off = (uint64_t)here;
			s->size = (uint64_t)st.st_size > s->base ? (uint64_t)st.st_size - s->base : 0;
			/* (gzip_sniff gives a gzip file a whole buffer to inflate into.) */
			s->cap = buf_size_for(s->size);
		}
	}
	s->buf = malloc(s->cap);
	/*
	 * A regular file is read in small pieces first, the first one what a
	 * bid looks at: most of a migration stream is skipped by seeks, each
	 * page of the buffer that a read fills is a page fault, and whole
	 * buffers come back by doubling while reading goes on.
	 */
	if (s->seekable)
		s->read_size = SV_BID_BYTES;
	if (s->read_size > s->cap)
		s->read_size = s->cap;
	if (!s->name || !s->buf)
		goto oom;
	if (!(flags & SV_OPEN_RAW) && !gzip_sniff(s))
		goto oom;
	return s;
oom:
	if (s) {
		free(s->zin);
		free(s->buf);
		free(s->name);
		free(s);
	}
	if (owns_fd)
		close(fd);
	return NULL;
}

sv_stream *sv_stream_open_source(sv_ctx *cx, const sv_source *src,
				 const char *name, uint64_t start, unsigned flags)
{
	sv_stream *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->cx = cx;
	s->fd = -1;
	s->src = *src;
	s->pos = start;
	s->name = strdup(name);
	/*
	 * Of unknown size (a member being streamed out of a capture or an
	 * archive): most are images of a few KiB, and a whole buffer for each
	 * costs a page fault per page touched (and, under ASan, an mmap of its
	 * own); fill() doubles it while reading goes on.
	 */
	s->cap = SV_PEEK_MAX;
	if (src->size != SV_NONE) {
		s->size_known = true;
		s->size = start + src->size;
		s->cap = buf_size_for(src->size);
		s->seekable = src->skip != NULL;
	}
	s->read_size = s->cap;
	s->buf = malloc(s->cap);
	if (!s->name || !s->buf) {
		free(s->buf);
		free(s->name);
		free(s);
		return NULL;
	}
	if (!(flags & SV_OPEN_RAW) && !gzip_sniff(s)) {
		sv_close(s);
		return NULL;
	}
	return s;
}

void sv_close(sv_stream *s)
{
	if (!s)
		return;
	if (s->counted)
		sv_ctx_file_read(s->cx, sv_offset(s));
	if (s->gzip)
		inflateEnd(&s->z);
	if (s->owns_fd)
		close(s->fd);
	else if (s->positional)
		/* Leave a borrowed descriptor where read(2) would have. */
		(void)lseek(s->fd, (off_t)s->file_off, SEEK_SET);
	free(s->zin);
	free(s->buf);
	free(s->name);
	free(s);
}

sv_stream *sv_open_at(sv_ctx *cx, int dirfd, const char *name,
		      const char *path, unsigned flags)
{
	struct stat st;
	int fd;
	sv_stream *s;
	const char *saved = sv_get_file(cx);

	sv_set_file(cx, path);
	/*
	 * O_NONBLOCK: a FIFO put where an image should be must not hang the
	 * run waiting for a writer.  O_NOFOLLOW is not used: CRIU's own
	 * directories hold symlinks (parent) that are followed on purpose,
	 * and a loop shows up as ELOOP.
	 */
	fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		sv_ctx_io_failed(cx);
		sv_report(cx, core(SV_CORE_IO), SV_NONE, "cannot open: %s", strerror(errno));
		sv_set_file(cx, saved);
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		sv_report(cx, core(SV_CORE_NOT_REGULAR), SV_NONE,
			  "not a regular file (%s): not read",
			  S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO" :
			  S_ISCHR(st.st_mode) ? "a character device" :
			  S_ISBLK(st.st_mode) ? "a block device" :
			  S_ISSOCK(st.st_mode) ? "a socket" : "special file");
		close(fd);
		sv_set_file(cx, saved);
		return NULL;
	}
	/* Regular file: blocking reads are fine again. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	sv_set_file(cx, saved);
	s = sv_stream_open_fd(cx, fd, true, path, flags);
	if (!s) {
		sv_report(cx, core(SV_CORE_IO), SV_NONE, "out of memory opening %s", path);
		sv_ctx_io_failed(cx);
	} else {
		s->counted = true; /* for the directory's summary */
	}
	return s;
}
