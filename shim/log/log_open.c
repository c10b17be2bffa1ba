/*
 * log_open.c: the file: sink.  A file opened for writing under a path
 * (as the program spelt it) that matches a CTXSHIM_LOG file:GLOB becomes a
 * log fd: its lines are decorated by the write hooks and the stdio hooks.
 *
 * glibc opens and closes inside fopen, freopen, fclose, fcloseall and
 * closefrom without going through our open and close hooks, so those are
 * hooked here too: a log bit left on a closed fd would decorate whatever
 * reuses the number next, a socket's data perhaps.
 *
 * Without file: patterns every hook here is a load and a branch.
 *
 * A vforked child (core.h) shares the tables with its parent: what it opens
 * or closes is its own business, never recorded (checked only where a record
 * would change).
 */
#undef _FORTIFY_SOURCE
#include "log.h"
#include "hooks.h"
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>

static inline int file_sink(void)
{
	if (unlikely(!ctx_cfg.ready))
		ctx_init();
	return unlikely(log_cfg.nglobs != 0) && !ctx_cfg.disabled;
}

static int matches(const char *path)
{
	for (int i = 0; i < log_cfg.nglobs; i++)
		if (lf_glob(log_cfg.globs[i], path))
			return 1;
	return 0;
}

/* FD was just opened as PATH for writing. */
static void opened(int fd, const char *path)
{
	if (fd < 0 || !path || !matches(path))
		return;
	KEEP_ERRNO;
	if (ctx_in_vfork_child()) {
		RESTORE_ERRNO;
		return;
	}
	if (fdtab_get(fd))
		fdtab_forget(fd);   /* a closed fd's leftovers: it is new */
	log_set_state(fd, 0);
	fdtab_set(fd, FD_LOG);
	RESTORE_ERRNO;
}

static inline int writes(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY && !(flags & O_PATH);
}

static inline int needs_mode(int flags)
{
	return (flags & O_CREAT) || (flags & __O_TMPFILE) == __O_TMPFILE;
}

#define MODE_ARG(flags)                                 \
	mode_t mode = 0;                                \
	if (needs_mode(flags)) {                        \
		va_list ap;                             \
		va_start(ap, flags);                    \
		mode = va_arg(ap, mode_t);              \
		va_end(ap);                             \
	}

CTX_EXPORT int open(const char *path, int flags, ...)
{
	MODE_ARG(flags);
	int fd = REAL(open)(path, flags, mode);
	if (file_sink() && writes(flags))
		opened(fd, path);
	return fd;
}

CTX_EXPORT int open64(const char *path, int flags, ...)
{
	MODE_ARG(flags);
	int fd = REAL(open64)(path, flags, mode);
	if (file_sink() && writes(flags))
		opened(fd, path);
	return fd;
}

CTX_EXPORT int openat(int dir, const char *path, int flags, ...)
{
	MODE_ARG(flags);
	int fd = REAL(openat)(dir, path, flags, mode);
	if (file_sink() && writes(flags))
		opened(fd, path);
	return fd;
}

CTX_EXPORT int openat64(int dir, const char *path, int flags, ...)
{
	MODE_ARG(flags);
	int fd = REAL(openat64)(dir, path, flags, mode);
	if (file_sink() && writes(flags))
		opened(fd, path);
	return fd;
}

/* The fortified forms (called when the flags are not known at compile time
 * and no mode is given); the real ones keep their O_CREAT check. */
CTX_EXPORT int __open_2(const char *path, int flags)
{
	int fd = REAL(__open_2)(path, flags);
	if (file_sink() && writes(flags))
		opened(fd, path);
	return fd;
}

CTX_EXPORT int __open64_2(const char *path, int flags)
{
	int fd = REAL(__open64_2)(path, flags);
	if (file_sink() && writes(flags))
		opened(fd, path);
	return fd;
}

CTX_EXPORT int __openat_2(int dir, const char *path, int flags)
{
	int fd = REAL(__openat_2)(dir, path, flags);
	if (file_sink() && writes(flags))
		opened(fd, path);
	return fd;
}

CTX_EXPORT int __openat64_2(int dir, const char *path, int flags)
{
	int fd = REAL(__openat64_2)(dir, path, flags);
	if (file_sink() && writes(flags))
		opened(fd, path);
	return fd;
}

CTX_EXPORT int creat(const char *path, mode_t mode)
{
	int fd = REAL(creat)(path, mode);
	if (file_sink())
		opened(fd, path);
	return fd;
}

CTX_EXPORT int creat64(const char *path, mode_t mode)
{
	int fd = REAL(creat64)(path, mode);
	if (file_sink())
		opened(fd, path);
	return fd;
}

/* ---- stdio ---------------------------------------------------------------------------- */

static int mode_writes(const char *mode)
{
	return mode && (mode[0] == 'w' || mode[0] == 'a' || strchr(mode, '+'));
}

CTX_EXPORT FILE *fopen(const char *path, const char *mode)
{
	FILE *f = REAL(fopen)(path, mode);
	if (f && file_sink() && mode_writes(mode))
		opened(fileno(f), path);
	return f;
}

CTX_EXPORT FILE *fopen64(const char *path, const char *mode)
{
	FILE *f = REAL(fopen64)(path, mode);
	if (f && file_sink() && mode_writes(mode))
		opened(fileno(f), path);
	return f;
}

/* Forget FD before glibc closes it internally. */
static void closing(int fd)
{
	if (fd >= 0 && fdtab_get(fd)) {
		KEEP_ERRNO;
		fdtab_forget(fd);
		RESTORE_ERRNO;
	}
}

/* After the internal close: nothing of the old file remains on FD. */
static void closed(int fd)
{
	if (fd >= 0 && fd < FDTAB_MAX && fdtab_get(fd))
		fdtab_unset(fd, 0xff);
}

typedef FILE *(*freopen_fn)(const char *, const char *, FILE *);

static FILE *reopen(freopen_fn real, const char *path, const char *mode, FILE *f)
{
	if (unlikely(!ctx_cfg.ready))
		ctx_init();
	/* A NULL path keeps the same file (only the mode changes). */
	int old = f && path ? f->_fileno : -1;
	if (old >= 0 && fdtab_get(old) && ctx_in_vfork_child())
		return real(path, mode, f);
	closing(old);
	FILE *r = real(path, mode, f);
	if (old >= 0) {
		int err = errno;
		/* glibc keeps the stream's fd number: freopen(.., stderr) is a
		 * new stderr, a log sink when stderr is one */
		fdtab_reset(old);
		log_set_state(old, 0);
		errno = err;
	}
	if (r && path && file_sink() && mode_writes(mode))
		opened(fileno(r), path);
	return r;
}

CTX_EXPORT FILE *freopen(const char *path, const char *mode, FILE *f)
{
	return reopen(REAL(freopen), path, mode, f);
}

CTX_EXPORT FILE *freopen64(const char *path, const char *mode, FILE *f)
{
	return reopen(REAL(freopen64), path, mode, f);
}

CTX_EXPORT int fclose(FILE *f)
{
	int fd = f ? f->_fileno : -1;
	if (likely(fd < 0 || !fdtab_get(fd)) || ctx_in_vfork_child())
		return REAL(fclose)(f);
	closing(fd);
	/* A connection's stream (fdopen): its state goes before the fd does,
	 * as close does, and so does the closing thread's lease on it. */
	if (fdtab_get(fd) & FD_CONN)
		fdtab_forget(fd);
	int r = REAL(fclose)(f);
	int err = errno;
	closed(fd);
	errno = err;
	return r;
}

/* Every stream but the standard ones is closed: forget their fds.  The
 * stream list is glibc's; the fds with bits are ours to scan. */
CTX_EXPORT int fcloseall(void)
{
	int r = REAL(fcloseall)();
	KEEP_ERRNO;
	if (ctx_in_vfork_child()) {
		RESTORE_ERRNO;
		return r;
	}
	/* fcloseall flushes stdin/out/err and closes the rest; fds above 2
	 * that are still open are not streams' (fcntl tells) */
	for (int fd = 3; fd < FDTAB_MAX; fd++) {
		if (fdtab_get(fd) && fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			fdtab_forget(fd);
			closed(fd);
		}
	}
	RESTORE_ERRNO;
	return r;
}

CTX_EXPORT void closefrom(int low)
{
	if (low < 0)
		low = 0;
	int first = low;
	while (first < FDTAB_MAX && !fdtab_get(first))
		first++;
	if (first >= FDTAB_MAX) {       /* nothing of ours in the range */
		REAL(closefrom)(low);
		return;
	}
	KEEP_ERRNO;
	if (ctx_in_vfork_child()) {
		RESTORE_ERRNO;
		REAL(closefrom)(low);
		return;
	}
	for (int fd = first; fd < FDTAB_MAX; fd++) {
		closing(fd);
		if (fdtab_get(fd) & FD_CONN)
			fdtab_forget(fd);   /* connections: as close does */
	}
	RESTORE_ERRNO;
	REAL(closefrom)(low);
	for (int fd = first; fd < FDTAB_MAX; fd++)
		closed(fd);
}
