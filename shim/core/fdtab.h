/*
 * fdtab.h: what the shim knows of each file descriptor, one byte per fd.
 *
 * Every I/O hook starts with fdtab_get(fd): for the fds a program uses for
 * its data (0, the common case) that is one bounds check, one load and one
 * branch before the real call.  Families set bits when an fd becomes theirs
 * (a log file opened, a connection accepted) and the close hooks clear them.
 */
#ifndef CTX_FDTAB_H
#define CTX_FDTAB_H

#include <stdatomic.h>
#include <stdint.h>

#define FDTAB_MAX 65536        /* fds above this are never watched */

enum {
	FD_LOG = 1,     /* lines written here are decorated (logging) */
	FD_CONN = 2,    /* a watched connection (sockets and HTTP) */
	/* stdout/stderr of a sink, not yet known to be a log rather than data
	 * (a pipe its parent reads): decided once, at its first line, by
	 * log_fd_decide (log_fdkind.c), which turns it into FD_LOG or nothing */
	FD_LOGQ = 4,
	FD_JOURNAL = 8, /* with FD_LOG: a stream to journald; lines become native
			 * entries (log_sink_journal.c) */
};

extern _Atomic uint8_t fdtab[FDTAB_MAX];
/* What fds 0-2 return to when dup2'ed over (fd 2: FD_LOGQ when stderr is a
 * log sink: whatever now sits on the fd is judged at its first line). */
extern uint8_t fdtab_default[3];

static inline unsigned fdtab_get(int fd)
{
	if ((unsigned)fd >= FDTAB_MAX)
		return 0;
	return atomic_load_explicit(&fdtab[fd], memory_order_relaxed);
}

static inline void fdtab_set(int fd, unsigned bits)
{
	if ((unsigned)fd < FDTAB_MAX)
		atomic_fetch_or_explicit(&fdtab[fd], (uint8_t)bits, memory_order_relaxed);
}

static inline void fdtab_unset(int fd, unsigned bits)
{
	if ((unsigned)fd < FDTAB_MAX)
		atomic_fetch_and_explicit(&fdtab[fd], (uint8_t)~bits, memory_order_relaxed);
}

/* The return address of the I/O hook that dispatched the current call (the
 * program's call site, for a log line's {caller}). */
extern __thread void *io_caller __attribute__((tls_model("initial-exec")));

/* FD stops being what the families knew it as (closed, dup2'ed over, or a
 * number found reused): its bits are cleared, then each family that had one
 * drops its state through the function it gave fdtab_on_forget (BIT: FD_LOG
 * or FD_CONN) at start-up. */
void fdtab_forget(int fd);
void fdtab_on_forget(unsigned bit, void (*fn)(int fd));

static inline void fdtab_store(int fd, unsigned bits)
{
	if ((unsigned)fd < FDTAB_MAX)
		atomic_store_explicit(&fdtab[fd], (uint8_t)bits, memory_order_relaxed);
}

/* Back to what a fresh fd of that number is (after close or dup2). */
static inline void fdtab_reset(int fd)
{
	if ((unsigned)fd < FDTAB_MAX)
		atomic_store_explicit(&fdtab[fd], fd < 3 ? fdtab_default[fd] : 0,
				      memory_order_relaxed);
}

#endif
