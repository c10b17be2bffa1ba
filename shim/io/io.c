/*
 * io.c: read, write and close on file descriptors.
 *
 * These run on every I/O call of the program, so the common case, an fd
 * nobody watches, is fdtab_get() and a branch before the real function.
 * Watched fds go to their family (io.h); the close family clears the fd's
 * bits *before* the real close, so a number reused at once by another thread
 * never inherits stale state.
 */
#include "core.h"
#include "fdtab.h"
#include "hooks.h"
#include "io.h"

#include <errno.h>
#include <linux/close_range.h>
#include <sys/sendfile.h>

/* The fd's bits when the shim should act on it, else 0. */
static inline unsigned watched(int fd)
{
	unsigned k = fdtab_get(fd);
	if (likely(k == 0) || ctx_self.in_hook || ctx_cfg.disabled)
		return 0;
	return k;
}

/* ---- writes ----------------------------------------------------------- */

/* The watched cases apart, so that the common path needs no stack frame:
 * a load, a branch and a jump to the real function. */
static __attribute__((noinline)) ssize_t write_watched(unsigned k, int fd, const void *buf,
						       size_t n, void *caller)
{
	io_caller = caller;
	if (k & FD_CONN)
		return net_write(fd, buf, n);
	if ((k & FD_LOGQ) && !log_fd_decide(fd))
		return REAL(write)(fd, buf, n);   /* data, not a log */
	return log_write(fd, buf, n);
}

static __attribute__((noinline)) ssize_t writev_watched(unsigned k, int fd,
							const struct iovec *iov, int cnt,
							void *caller)
{
	io_caller = caller;
	if (k & FD_CONN)
		return net_writev(fd, iov, cnt);
	if ((k & FD_LOGQ) && !log_fd_decide(fd))
		return REAL(writev)(fd, iov, cnt);
	return log_writev(fd, iov, cnt);
}

CTX_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	unsigned k = watched(fd);
	if (likely(!k))
		return REAL(write)(fd, buf, n);
	return write_watched(k, fd, buf, n, __builtin_return_address(0));
}

CTX_EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	unsigned k = watched(fd);
	if (likely(!k))
		return REAL(writev)(fd, iov, cnt);
	return writev_watched(k, fd, iov, cnt, __builtin_return_address(0));
}

CTX_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	if (likely(!(watched(fd) & FD_CONN)))
		return REAL(send)(fd, buf, n, flags);
	return net_send(fd, buf, n, flags);
}

CTX_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
			  __CONST_SOCKADDR_ARG a, socklen_t al)
{
	if (likely(!(watched(fd) & FD_CONN)))
		return REAL(sendto)(fd, buf, n, flags, a, al);
	return net_sendto(fd, buf, n, flags, a.__sockaddr__, al);
}

CTX_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (likely(!(watched(fd) & FD_CONN)))
		return REAL(sendmsg)(fd, msg, flags);
	return net_sendmsg(fd, msg, flags);
}

/* A response body sent from a file still counts in the HTTP stream. */
CTX_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t n)
{
	if (likely(!(watched(out) & FD_CONN)))
		return REAL(sendfile)(out, in, off, n);
	return net_sendfile(out, in, off, n, 0);
}

CTX_EXPORT ssize_t sendfile64(int out, int in, off64_t *off, size_t n)
{
	if (likely(!(watched(out) & FD_CONN)))
		return REAL(sendfile64)(out, in, off, n);
	return net_sendfile(out, in, off, n, 1);
}

/* ---- reads ------------------------------------------------------------ */

CTX_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	if (likely(!(watched(fd) & FD_CONN)))
		return REAL(read)(fd, buf, n);
	return net_read(fd, buf, n);
}

CTX_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	if (likely(!(watched(fd) & FD_CONN)))
		return REAL(__read_chk)(fd, buf, n, buflen);
	if (n > buflen)
		return REAL(__read_chk)(fd, buf, n, buflen);  /* libc aborts */
	return net_read(fd, buf, n);
}

CTX_EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	if (likely(!(watched(fd) & FD_CONN)))
		return REAL(readv)(fd, iov, cnt);
	return net_readv(fd, iov, cnt);
}

CTX_EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	if (likely(!(watched(fd) & FD_CONN)))
		return REAL(recv)(fd, buf, n, flags);
	return net_recv(fd, buf, n, flags);
}

CTX_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
	if (likely(!(watched(fd) & FD_CONN)) || n > buflen)
		return REAL(__recv_chk)(fd, buf, n, buflen, flags);
	return net_recv(fd, buf, n, flags);
}

CTX_EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags,
			    __SOCKADDR_ARG a, socklen_t *al)
{
	if (likely(!(watched(fd) & FD_CONN)))
		return REAL(recvfrom)(fd, buf, n, flags, a, al);
	return net_recvfrom(fd, buf, n, flags, a.__sockaddr__, al);
}

CTX_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
				  __SOCKADDR_ARG a, socklen_t *al)
{
	if (likely(!(watched(fd) & FD_CONN)) || n > buflen)
		return REAL(__recvfrom_chk)(fd, buf, n, buflen, flags, a, al);
	return net_recvfrom(fd, buf, n, flags, a.__sockaddr__, al);
}

CTX_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	if (likely(!(watched(fd) & FD_CONN)))
		return REAL(recvmsg)(fd, msg, flags);
	return net_recvmsg(fd, msg, flags);
}

/* ---- closing ----------------------------------------------------------
 * In a vforked child (Python's subprocess, posix_spawn) the tables are the
 * parent's: the child's close, dup2, dup3 and close_range change its own fd
 * table only, so they must leave ours alone (and free nothing).  Telling
 * costs a system call, paid only when there is something to forget. */

/* FD's open file may be about to go: a json/logfmt record left open on it
 * is ended while it still can be (before the real close or dup2).  FD_LOGQ
 * too: a shell writes `printf a >&2` through a copy of fd 2 on fd 1, which
 * is judged on its own, so fd 2 may still be unjudged with a record open
 * (its line state says whether one is). */
static inline void closing(int fd)
{
	if (fdtab_get(fd) & (FD_LOG | FD_LOGQ))
		log_fd_closing(fd);
}

/* Forget what we knew of FD (before the real close: see the top). */
#define forget fdtab_forget

CTX_EXPORT int close(int fd)
{
	if (unlikely(fdtab_get(fd)) && likely(!ctx_in_vfork_child())) {
		KEEP_ERRNO;
		closing(fd);
		forget(fd);
		RESTORE_ERRNO;
		/* Nothing after the real close: from that instant another thread
		 * may get the number (accept, open) and mark it; forget() has
		 * already cleared what was ours, so whatever gets the number next
		 * starts clean (dup2 onto 0-2 is what makes a log). */
		return REAL(close)(fd);
	}
	return REAL(close)(fd);
}

/* dup2/dup3 concern us when NEW has bits, when NEW is one of 0-2 whose
 * default is a log, or when OLD is a log: a copy of a log fd is a log fd
 * (a shell's `echo ... >&2` is dup2(2, 1) and a write on 1), a copy of one
 * not yet judged is judged alike.  Anything else onto 0-2 gets the default,
 * judged at its first line (a pipe there may be data: log_fdkind.c).  Sets
 * *CARRY. */
static inline int dup_watched(int old, int new, unsigned *carry)
{
	*carry = fdtab_get(old) & (FD_LOG | FD_LOGQ | FD_JOURNAL);
	if (old == new)
		return 0;
	if (!(fdtab_get(new) || *carry || ((unsigned)new < 3 && fdtab_default[new])))
		return 0;
	KEEP_ERRNO;
	int child = ctx_in_vfork_child();
	RESTORE_ERRNO;
	return !child;
}

/* After a successful dup of OLD onto NEW.  NEW's old file is closed now; its
 * number cannot be taken by another thread meanwhile, since it is NEW's
 * again.  (A failed dup leaves NEW as it was, and so its bits.)  A copy of
 * a log shares its line state (log_fd_dup): a line begun through one fd
 * ends through the other. */
static void dup_done(int old, int new, unsigned carry)
{
	KEEP_ERRNO;
	forget(new);
	if (carry) {
		fdtab_store(new, carry);   /* the same file as OLD: its verdict */
		log_fd_dup(old, new);      /* ... and its line */
	} else {
		fdtab_reset(new);
	}
	RESTORE_ERRNO;
}

CTX_EXPORT int dup2(int old, int new)
{
	unsigned carry;
	if (likely(!dup_watched(old, new, &carry)))
		return REAL(dup2)(old, new);
	KEEP_ERRNO;
	closing(new);
	RESTORE_ERRNO;
	int r = REAL(dup2)(old, new);
	if (r >= 0)
		dup_done(old, new, carry);
	return r;
}

CTX_EXPORT int dup3(int old, int new, int flags)
{
	unsigned carry;
	if (likely(!dup_watched(old, new, &carry)))
		return REAL(dup3)(old, new, flags);
	KEEP_ERRNO;
	closing(new);
	RESTORE_ERRNO;
	int r = REAL(dup3)(old, new, flags);
	if (r >= 0)
		dup_done(old, new, carry);
	return r;
}

CTX_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	if (flags & CLOSE_RANGE_CLOEXEC)
		return REAL(close_range)(first, last, flags);
	/* The first fd we know of, if any: nothing to do (and nothing to ask
	 * the kernel) for a range of fds we never marked. */
	unsigned fd = first;
	while (fd <= last && fd < FDTAB_MAX && !fdtab_get((int)fd))
		fd++;
	if (fd > last || fd >= FDTAB_MAX)
		return REAL(close_range)(first, last, flags);
	KEEP_ERRNO;
	if (ctx_in_vfork_child()) {
		RESTORE_ERRNO;
		return REAL(close_range)(first, last, flags);
	}
	for (; fd <= last && fd < FDTAB_MAX; fd++) {
		closing((int)fd);
		forget((int)fd);
	}
	RESTORE_ERRNO;
	int r = REAL(close_range)(first, last, flags);
	if (r == 0) {
		for (unsigned s = first; s <= last && s < 3; s++)
			fdtab_unset((int)s, 0xff);
	}
	return r;
}
