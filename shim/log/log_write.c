/*
 * log_write.c: write(2) and writev(2) on log fds (io.h): the common case
 * (one whole line at a line start, text style) in one write from one
 * buffer; everything else through the line engine (log_line.c).
 */
#include "log.h"
#include "log_sink.h"
#include "hooks.h"
#include "io.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

/* ---- write(2) and writev(2) on log fds (io.h) ----------------------------------- */

size_t log_line_prefix(int level, void *caller, int safe, char *out, size_t cap)
{
	size_t n = log_cached_prefix(level, out, cap);
	if (n != (size_t)-1)
		return n;
	struct log_deco d;
	log_deco_begin(&d, level, caller, safe);
	n = log_deco_prefix(&d, out, cap);
	log_deco_end(&d);
	return n;
}

#define FAST_MAX 1024

/* The usual case: one whole line written at a line start, in a style that
 * puts nothing after the message.  Prefix and line go out in one write
 * from one buffer.  Returns the program's bytes, -1, or -2 when only the
 * prefix went out (the engine goes on from there). */
static __attribute__((noinline)) ssize_t fast_line(int fd, const char *buf, size_t n)
{
	char out[LOG_PREFIX_MAX + FAST_MAX];
	size_t pl = log_cached_prefix(log_cfg.line_level, out, LOG_PREFIX_MAX);
	if (unlikely(pl == (size_t)-1))
		pl = log_line_prefix(log_cfg.line_level, io_caller, 0, out, LOG_PREFIX_MAX);
	memcpy(out + pl, buf, n);
	ssize_t r = REAL(write)(fd, out, pl + n);
	if (likely(r == (ssize_t)(pl + n)))
		return (ssize_t)n;   /* errno untouched: nothing here sets it */
	if (r < 0)
		return -1;
	if ((size_t)r < pl) {
		KEEP_ERRNO;
		log_finish(fd, out + r, pl - (size_t)r);
		RESTORE_ERRNO;
		r = (ssize_t)pl;
	}
	log_set_state(fd, LST_MID | LST_DEC);
	return (size_t)r == pl ? -2 : r - (ssize_t)pl;
}

/* Everything but the fast case. */
static __attribute__((noinline)) ssize_t write_slow(int fd, const void *buf, size_t n)
{
	if (unlikely(n == 0 || n > SSIZE_MAX || !buf))
		return REAL(write)(fd, buf, n);
	if (!(log_state(fd) & LST_DEC) && !log_has_context()) {
		/* nothing to add: only follow the line state */
		ssize_t r = REAL(write)(fd, buf, n);
		if (r > 0)
			log_note_plain(fd, ((const char *)buf)[r - 1]);
		return r;
	}
	/* No recursion guard here: the engine keeps all its state on the
	 * stack, so a signal handler's write that lands in the middle of
	 * ours is decorated too. */
	KEEP_ERRNO;
	struct iovec v = { (void *)buf, n };
	ssize_t r = log_out_fd(fd, &v, 1, n, log_cfg.line_level, io_caller);
	if (r >= 0)
		RESTORE_ERRNO;
	return r;
}

ssize_t log_write(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	if (unlikely(fdtab_get(fd) & FD_JOURNAL) && n && p && log_has_context()) {
		struct iovec v = { (void *)buf, n };
		return log_journal_write(fd, &v, 1, n, log_cfg.line_level, io_caller);
	}
	/* The common case: one whole line at a line start. */
	if (likely(log_cfg.fast_lines) && n - 1 < FAST_MAX && p && p[n - 1] == '\n' &&
	    p[0] != '\n' && log_state(fd) == 0 && log_has_context() &&
	    (n == 1 || !memchr(p, '\n', n - 1))) {
		ssize_t r = fast_line(fd, p, n);
		if (likely(r != -2))
			return r;
		/* only the prefix is out: the engine goes on */
	}
	return write_slow(fd, buf, n);
}

ssize_t log_writev(int fd, const struct iovec *iov, int cnt)
{
	size_t total = 0;
	if (unlikely(!iov || cnt <= 0 || cnt > IOV_MAX))
		return REAL(writev)(fd, iov, cnt);
	for (int i = 0; i < cnt; i++) {
		if (iov[i].iov_len > SSIZE_MAX - total || (!iov[i].iov_base && iov[i].iov_len))
			return REAL(writev)(fd, iov, cnt);   /* the kernel's EINVAL/EFAULT */
		total += iov[i].iov_len;
	}
	if (total == 0)
		return REAL(writev)(fd, iov, cnt);
	if (unlikely(fdtab_get(fd) & FD_JOURNAL) && log_has_context())
		return log_journal_write(fd, iov, cnt, total, log_cfg.line_level, io_caller);
	if (!(log_state(fd) & LST_DEC) && !log_has_context()) {
		ssize_t r = REAL(writev)(fd, iov, cnt);
		if (r > 0) {
			size_t at = (size_t)r - 1;
			for (int i = 0; i < cnt; i++) {
				if (at < iov[i].iov_len) {
					log_note_plain(fd, ((const char *)iov[i].iov_base)[at]);
					break;
				}
				at -= iov[i].iov_len;
			}
		}
		return r;
	}
	KEEP_ERRNO;
	ssize_t r = log_out_fd(fd, iov, cnt, total, log_cfg.line_level, io_caller);
	if (r >= 0)
		RESTORE_ERRNO;
	return r;
}
