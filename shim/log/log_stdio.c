/*
 * log_stdio.c: the stdio functions on log streams (stderr, stdout when
 * it is a sink, files opened under file:GLOB): the fprintf and printf
 * families with their fortified (_chk) forms, dprintf, fputs, puts, fputc,
 * putc, putchar, fwrite and their _unlocked forms.
 *
 * glibc's stdio writes through an internal write that our write hook never
 * sees, so lines are decorated here, before they enter the stream: the
 * program's text is formatted into a buffer (with the fortify flag of a _chk
 * call), and the line engine puts prefix and text into the stream with one
 * fwrite, under the stream's lock.  An unbuffered stderr then makes it one
 * write(2), so lines from threads never mix.
 *
 * For any other stream each hook costs a load and a branch.
 */
#undef _FORTIFY_SOURCE
#include "log.h"
#include "hooks.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* glibc's headers make these macros when optimizing; we define the real
 * functions. */
#undef fwrite_unlocked
#undef fputs_unlocked
#undef putc


/* The shim should decorate or track lines on F. */
static inline int watched_stream(FILE *f)
{
	if (unlikely(!ctx_cfg.ready))
		ctx_init();
	return likely(f != NULL) && (fdtab_get(f->_fileno) & (FD_LOG | FD_LOGQ)) &&
	       !ctx_self.in_hook && !ctx_cfg.disabled && log_fd_is_log(f->_fileno);
}

/* 1 when a call on FD must go through the engine: a line is to be decorated
 * now or a decorated one is open. */
static inline int needs_engine(int fd)
{
	return (log_state(fd) & LST_DEC) || log_has_context();
}

/* Put IN through the engine into F; LOCK: take the stream's lock (the
 * _unlocked calls hold it already).  0 or -1 with errno. */
static int to_stream(FILE *f, const struct iovec *in, int cnt, int lock, void *caller)
{
	int was = log_enter();
	if (lock)
		flockfile(f);
	int rc = log_out_stream(f, f->_fileno, in, cnt, log_cfg.line_level, caller);
	if (lock)
		funlockfile(f);
	log_leave(was);
	return rc;
}

/* ---- formatted output -------------------------------------------------------- */

#define FMT_BUF 2048

static int real_vfprintf_any(FILE *f, int flag, const char *fmt, va_list ap)
{
	return flag < 0 ? REAL(vfprintf)(f, fmt, ap) : REAL(__vfprintf_chk)(f, flag, fmt, ap);
}

/* vfprintf on a watched stream. */
static int stream_vprintf(FILE *f, int flag, const char *fmt, va_list ap, void *caller)
{
	int fd = f->_fileno;
	if (!needs_engine(fd)) {
		/* Undecorated.  A format ending in a newline ends the line: the
		 * common case costs nothing more.  Otherwise the text is needed
		 * to know whether a line is left open. */
		size_t fl = fmt ? strlen(fmt) : 0;
		if (fl == 0 || fmt[fl - 1] == '\n') {
			int r = real_vfprintf_any(f, flag, fmt, ap);
			if (r > 0)
				log_note_plain(fd, '\n');
			return r;
		}
	}
	KEEP_ERRNO;
	/* The prefix of a line starting now goes right before the text, so a
	 * whole line is one fwrite from one buffer (the common case). */
	char out[LOG_PREFIX_MAX + FMT_BUF];
	size_t pl = 0;
	int fast = log_cfg.fast_lines && log_state(fd) == 0;
	if (fast)
		pl = log_line_prefix(log_cfg.line_level, caller, 1, out, LOG_PREFIX_MAX);
	char *buf = out + pl, *text;
	int was = log_enter();   /* a printf handler of the program's may log */
	int n = log_vformat(buf, FMT_BUF, &text, flag, fmt, ap, saved_errno_);
	log_leave(was);
	if (n < 0) {
		if (text != buf)
			free(text);
		RESTORE_ERRNO;
		return real_vfprintf_any(f, flag, fmt, ap);
	}
	if (fast && text == buf && n > 0 && text[0] != '\n' && text[n - 1] == '\n' &&
	    !memchr(text, '\n', (size_t)n - 1)) {
		/* fwrite takes the stream's lock itself (and skips it while the
		 * program has one thread) */
		size_t total = pl + (size_t)n;
		if (REAL(fwrite)(out, 1, total, f) != total)
			return -1;
		RESTORE_ERRNO;
		return n;
	}
	int rc = 0;
	if (n > 0) {
		struct iovec v = { text, (size_t)n };
		rc = to_stream(f, &v, 1, 1, caller);
	}
	int err = errno;
	if (text != buf)
		free(text);
	if (rc < 0) {
		errno = err;
		return -1;
	}
	RESTORE_ERRNO;
	return n;
}

#define PRINTF_HOOK(name, stream_expr, flag_decl, flag_val, last)                  \
	CTX_EXPORT int name(flag_decl const char *fmt, ...)                           \
	{                                                                             \
		FILE *f = stream_expr;                                                \
		va_list ap;                                                           \
		int r;                                                                \
		va_start(ap, last);                                                   \
		if (likely(!watched_stream(f)))                                       \
			r = real_vfprintf_any(f, flag_val, fmt, ap);                  \
		else                                                                  \
			r = stream_vprintf(f, flag_val, fmt, ap,                      \
					   __builtin_return_address(0));              \
		va_end(ap);                                                           \
		return r;                                                             \
	}

#define COMMA ,
PRINTF_HOOK(fprintf, stream, FILE *stream COMMA, -1, fmt)
PRINTF_HOOK(__fprintf_chk, stream, FILE *stream COMMA int flag COMMA, flag, fmt)
PRINTF_HOOK(printf, stdout, , -1, fmt)
PRINTF_HOOK(__printf_chk, stdout, int flag COMMA, flag, fmt)

CTX_EXPORT int vfprintf(FILE *f, const char *fmt, va_list ap)
{
	if (likely(!watched_stream(f)))
		return REAL(vfprintf)(f, fmt, ap);
	return stream_vprintf(f, -1, fmt, ap, __builtin_return_address(0));
}

CTX_EXPORT int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap)
{
	if (likely(!watched_stream(f)))
		return REAL(__vfprintf_chk)(f, flag, fmt, ap);
	return stream_vprintf(f, flag, fmt, ap, __builtin_return_address(0));
}

/* vprintf and putchar are inline functions in glibc's headers when
 * optimizing: ours get their exported names through asm labels. */
CTX_EXPORT int hook_vprintf(const char *fmt, va_list ap) __asm__("vprintf");
CTX_EXPORT int hook_putchar(int c) __asm__("putchar");

CTX_EXPORT int hook_vprintf(const char *fmt, va_list ap)
{
	if (likely(!watched_stream(stdout)))
		return REAL(vfprintf)(stdout, fmt, ap);
	return stream_vprintf(stdout, -1, fmt, ap, __builtin_return_address(0));
}

CTX_EXPORT int __vprintf_chk(int flag, const char *fmt, va_list ap)
{
	if (likely(!watched_stream(stdout)))
		return REAL(__vfprintf_chk)(stdout, flag, fmt, ap);
	return stream_vprintf(stdout, flag, fmt, ap, __builtin_return_address(0));
}

/* ---- dprintf: formatted output straight to an fd -------------------------------- */

static int real_vdprintf_any(int fd, int flag, const char *fmt, va_list ap)
{
	return flag < 0 ? REAL(vdprintf)(fd, fmt, ap) : REAL(__vdprintf_chk)(fd, flag, fmt, ap);
}

static int fd_vprintf(int fd, int flag, const char *fmt, va_list ap, void *caller)
{
	if (unlikely(!ctx_cfg.ready))
		ctx_init();
	if (likely(!(fdtab_get(fd) & (FD_LOG | FD_LOGQ))) || ctx_self.in_hook ||
	    ctx_cfg.disabled || !log_fd_is_log(fd))
		return real_vdprintf_any(fd, flag, fmt, ap);
	KEEP_ERRNO;
	char buf[FMT_BUF], *text;
	int was = log_enter();
	int n = log_vformat(buf, FMT_BUF, &text, flag, fmt, ap, saved_errno_);
	log_leave(was);
	if (n < 0) {
		if (text != buf)
			free(text);
		RESTORE_ERRNO;
		return real_vdprintf_any(fd, flag, fmt, ap);
	}
	/* like glibc's vdprintf: everything, or an error */
	size_t done = 0;
	int err = 0;
	while (done < (size_t)n) {
		struct iovec v = { text + done, (size_t)n - done };
		ssize_t r = log_out_fd(fd, &v, 1, v.iov_len, log_cfg.line_level, caller);
		if (r <= 0) {
			err = r < 0 ? errno : EIO;
			break;
		}
		done += (size_t)r;
	}
	if (text != buf)
		free(text);
	if (err) {
		errno = err;
		return -1;
	}
	RESTORE_ERRNO;
	return n;
}

CTX_EXPORT int dprintf(int fd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = fd_vprintf(fd, -1, fmt, ap, __builtin_return_address(0));
	va_end(ap);
	return r;
}

CTX_EXPORT int __dprintf_chk(int fd, int flag, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = fd_vprintf(fd, flag, fmt, ap, __builtin_return_address(0));
	va_end(ap);
	return r;
}

CTX_EXPORT int vdprintf(int fd, const char *fmt, va_list ap)
{
	return fd_vprintf(fd, -1, fmt, ap, __builtin_return_address(0));
}

CTX_EXPORT int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap)
{
	return fd_vprintf(fd, flag, fmt, ap, __builtin_return_address(0));
}

/* ---- unformatted output ---------------------------------------------------------- */

/* Bytes P[0..N) (N > 0) into watched stream F; 0 or -1. */
static int stream_bytes(FILE *f, const struct iovec *v, int cnt, int lock, void *caller)
{
	KEEP_ERRNO;
	int rc = to_stream(f, v, cnt, lock, caller);
	if (rc == 0)
		RESTORE_ERRNO;
	return rc;
}

static int fputs_any(const char *s, FILE *f, int lock, void *caller)
{
	size_t n = strlen(s);
	if (n == 0 || !needs_engine(f->_fileno)) {
		int r = lock ? REAL(fputs)(s, f) : REAL(fputs_unlocked)(s, f);
		if (r >= 0 && n)
			log_note_plain(f->_fileno, s[n - 1]);
		return r;
	}
	struct iovec v = { (void *)s, n };
	return stream_bytes(f, &v, 1, lock, caller) < 0 ? EOF : 1;
}

CTX_EXPORT int fputs(const char *s, FILE *f)
{
	if (likely(!watched_stream(f)))
		return REAL(fputs)(s, f);
	return fputs_any(s, f, 1, __builtin_return_address(0));
}

CTX_EXPORT int fputs_unlocked(const char *s, FILE *f)
{
	if (likely(!watched_stream(f)))
		return REAL(fputs_unlocked)(s, f);
	return fputs_any(s, f, 0, __builtin_return_address(0));
}

CTX_EXPORT int puts(const char *s)
{
	FILE *f = stdout;
	if (likely(!watched_stream(f)))
		return REAL(puts)(s);
	size_t n = strlen(s);
	if (!needs_engine(f->_fileno)) {
		int r = REAL(puts)(s);
		if (r >= 0)
			log_note_plain(f->_fileno, '\n');
		return r;
	}
	struct iovec v[2] = { { (void *)s, n }, { "\n", 1 } };
	if (stream_bytes(f, v, 2, 1, __builtin_return_address(0)) < 0)
		return EOF;
	return n + 1 > INT_MAX ? INT_MAX : (int)(n + 1);
}

static int putc_any(int c, FILE *f, int lock, int (*real)(int, FILE *), void *caller)
{
	if (!needs_engine(f->_fileno)) {
		int r = real(c, f);
		if (r != EOF)
			log_note_plain(f->_fileno, (char)c);
		return r;
	}
	char ch = (char)c;
	struct iovec v = { &ch, 1 };
	if (stream_bytes(f, &v, 1, lock, caller) < 0)
		return EOF;
	return (unsigned char)c;
}

CTX_EXPORT int fputc(int c, FILE *f)
{
	if (likely(!watched_stream(f)))
		return REAL(fputc)(c, f);
	return putc_any(c, f, 1, REAL(fputc), __builtin_return_address(0));
}

CTX_EXPORT int putc(int c, FILE *f)
{
	if (likely(!watched_stream(f)))
		return REAL(putc)(c, f);
	return putc_any(c, f, 1, REAL(putc), __builtin_return_address(0));
}

CTX_EXPORT int hook_putchar(int c)
{
	if (likely(!watched_stream(stdout)))
		return REAL(putchar)(c);
	return putc_any(c, stdout, 1, REAL(putc), __builtin_return_address(0));
}

static size_t fwrite_any(const void *p, size_t size, size_t nmemb, FILE *f, int lock,
			 void *caller)
{
	size_t n = size * nmemb;
	if (!needs_engine(f->_fileno)) {
		size_t r = lock ? REAL(fwrite)(p, size, nmemb, f)
				: REAL(fwrite_unlocked)(p, size, nmemb, f);
		if (r == nmemb)
			log_note_plain(f->_fileno, ((const char *)p)[n - 1]);
		return r;
	}
	struct iovec v = { (void *)p, n };
	return stream_bytes(f, &v, 1, lock, caller) < 0 ? 0 : nmemb;
}

static inline int fwrite_plain(const void *p, size_t size, size_t nmemb)
{
	/* nothing to decorate, or a size the real call should judge */
	return !p || size == 0 || nmemb == 0 || nmemb > SSIZE_MAX / size;
}

CTX_EXPORT size_t fwrite(const void *p, size_t size, size_t nmemb, FILE *f)
{
	if (likely(!watched_stream(f)) || fwrite_plain(p, size, nmemb))
		return REAL(fwrite)(p, size, nmemb, f);
	return fwrite_any(p, size, nmemb, f, 1, __builtin_return_address(0));
}

CTX_EXPORT size_t fwrite_unlocked(const void *p, size_t size, size_t nmemb, FILE *f)
{
	if (likely(!watched_stream(f)) || fwrite_plain(p, size, nmemb))
		return REAL(fwrite_unlocked)(p, size, nmemb, f);
	return fwrite_any(p, size, nmemb, f, 0, __builtin_return_address(0));
}
