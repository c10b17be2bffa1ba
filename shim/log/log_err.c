/*
 * log_err.c: perror, the BSD err/warn family and GNU error and
 * error_at_line.
 *
 * glibc prints these through internal stdio calls that no hook sees, so
 * they are written here in full, byte for byte what glibc prints (the
 * program name, the message, ": " and the error text, the newline), and the
 * line goes through the line engine like any other.  error() and
 * error_at_line() keep glibc's side effects: stdout flushed first,
 * error_message_count, error_one_per_line, error_print_progname, exit.
 * A wide-oriented stderr is left to the real functions (undecorated).
 */
#undef _FORTIFY_SOURCE
#include "log.h"
#include "hooks.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* From <error.h>, which defines error() inline when optimizing. */
extern unsigned int error_message_count;
extern int error_one_per_line;
extern void (*error_print_progname)(void);

#define MSG_BUF 2048

/* Format FMT into BUF (or a malloc'ed buffer when longer: *OUT).  Length,
 * or -1. */
static int fmt_msg(char *buf, char **out, const char *fmt, va_list ap)
{
	return log_vformat(buf, MSG_BUF, out, -1, fmt, ap, errno);
}

/* Write the pieces V to stderr as one line.  UNORIENTED_FD: write to the
 * fd rather than the stream when stderr has no orientation yet (perror must
 * not give it one, so glibc writes to the descriptor too). */
static void emit(struct iovec *v, int cnt, int direct_ok, void *caller)
{
	FILE *f = stderr;
	int was = log_enter();
	if (direct_ok && fwide(f, 0) == 0) {
		size_t total = 0;
		for (int i = 0; i < cnt; i++)
			total += v[i].iov_len;
		/* flush what the stream holds, then everything, like glibc */
		fflush(f);
		int fd = fileno(f);
		while (total) {
			ssize_t r = log_out_fd(fd, v, cnt, total, log_cfg.line_level, caller);
			if (r <= 0)
				break;
			total -= (size_t)r;
			while (r > 0 && cnt) {
				if ((size_t)r >= v->iov_len) {
					r -= (ssize_t)v->iov_len;
					v++;
					cnt--;
				} else {
					v->iov_base = (char *)v->iov_base + r;
					v->iov_len -= (size_t)r;
					r = 0;
				}
			}
		}
	} else {
		flockfile(f);
		log_out_stream(f, fileno(f), v, cnt, log_cfg.line_level, caller);
		funlockfile(f);
	}
	log_leave(was);
}

/* The shim handles stderr lines (else: the real function does all). */
static int acting(void)
{
	if (unlikely(!ctx_cfg.ready))
		ctx_init();
	return stderr && (fdtab_get(fileno(stderr)) & (FD_LOG | FD_LOGQ)) && !ctx_self.in_hook &&
	       !ctx_cfg.disabled && fwide(stderr, 0) <= 0 && log_fd_is_log(fileno(stderr));
}

/* ---- perror ------------------------------------------------------------------- */

CTX_EXPORT void perror(const char *s)
{
	if (!acting()) {
		REAL(perror)(s);
		return;
	}
	KEEP_ERRNO;
	char eb[256];
	const char *es = strerror_r(saved_errno_, eb, sizeof eb);
	struct iovec v[4];
	int n = 0;
	if (s && *s) {
		v[n++] = (struct iovec){ (void *)s, strlen(s) };
		v[n++] = (struct iovec){ ": ", 2 };
	}
	v[n++] = (struct iovec){ (void *)es, strlen(es) };
	v[n++] = (struct iovec){ "\n", 1 };
	emit(v, n, 1, __builtin_return_address(0));
	RESTORE_ERRNO;
}

/* ---- err and warn ------------------------------------------------------------------ */

/* "prog: message: error text\n" (WITH_ERR) or "prog: message\n". */
static void warn_line(const char *fmt, va_list ap, int with_err, void *caller)
{
	KEEP_ERRNO;
	char buf[MSG_BUF], *msg = buf, eb[256];
	int n = 0;
	if (fmt) {
		int was = log_enter();
		n = fmt_msg(buf, &msg, fmt, ap);
		log_leave(was);
		if (n < 0)
			n = 0;
	}
	const char *prog = program_invocation_short_name;
	struct iovec v[6];
	int c = 0;
	v[c++] = (struct iovec){ (void *)prog, strlen(prog) };
	v[c++] = (struct iovec){ ": ", 2 };
	if (fmt) {
		v[c++] = (struct iovec){ msg, (size_t)n };
		if (with_err)
			v[c++] = (struct iovec){ ": ", 2 };
	}
	if (with_err) {
		const char *es = strerror_r(saved_errno_, eb, sizeof eb);
		v[c++] = (struct iovec){ (void *)es, strlen(es) };
	}
	v[c++] = (struct iovec){ "\n", 1 };
	emit(v, c, 0, caller);
	if (msg != buf)
		free(msg);
	RESTORE_ERRNO;
}

CTX_EXPORT void vwarn(const char *fmt, va_list ap)
{
	if (!acting())
		REAL(vwarn)(fmt, ap);
	else
		warn_line(fmt, ap, 1, __builtin_return_address(0));
}

CTX_EXPORT void vwarnx(const char *fmt, va_list ap)
{
	if (!acting())
		REAL(vwarnx)(fmt, ap);
	else
		warn_line(fmt, ap, 0, __builtin_return_address(0));
}

CTX_EXPORT void warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (!acting())
		REAL(vwarn)(fmt, ap);
	else
		warn_line(fmt, ap, 1, __builtin_return_address(0));
	va_end(ap);
}

CTX_EXPORT void warnx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (!acting())
		REAL(vwarnx)(fmt, ap);
	else
		warn_line(fmt, ap, 0, __builtin_return_address(0));
	va_end(ap);
}

CTX_EXPORT void verr(int status, const char *fmt, va_list ap)
{
	if (!acting())
		REAL(verr)(status, fmt, ap);
	warn_line(fmt, ap, 1, __builtin_return_address(0));
	exit(status);
}

CTX_EXPORT void verrx(int status, const char *fmt, va_list ap)
{
	if (!acting())
		REAL(verrx)(status, fmt, ap);
	warn_line(fmt, ap, 0, __builtin_return_address(0));
	exit(status);
}

CTX_EXPORT void err(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (!acting())
		REAL(verr)(status, fmt, ap);
	warn_line(fmt, ap, 1, __builtin_return_address(0));
	va_end(ap);
	exit(status);
}

CTX_EXPORT void errx(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (!acting())
		REAL(verrx)(status, fmt, ap);
	warn_line(fmt, ap, 0, __builtin_return_address(0));
	va_end(ap);
	exit(status);
}

/* ---- error and error_at_line ------------------------------------------------------ */

/* The body both share, once the name part is decided.  PROG_PART: what
 * glibc prints before the message when error_print_progname is unset. */
static void error_body(int status, int errnum, const char *file, unsigned line, int at_line,
		       const char *fmt, va_list ap, int deco, void *caller)
{
	KEEP_ERRNO;
	int cancel;
	char buf[MSG_BUF], *msg = buf, eb[256], num[16];
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	fflush(stdout);
	flockfile(stderr);

	struct iovec v[10];
	int c = 0;
	if (error_print_progname) {
		/* the program's own code: it may log through our hooks, and
		 * its text then starts the line */
		error_print_progname();
	} else {
		const char *prog = program_invocation_name;
		v[c++] = (struct iovec){ (void *)prog, strlen(prog) };
		v[c++] = (struct iovec){ at_line ? ":" : ": ", at_line ? 1u : 2u };
	}
	if (at_line) {
		if (file) {
			int i = sizeof num;
			num[--i] = ' ';
			num[--i] = ':';
			unsigned u = line;
			do {
				num[--i] = (char)('0' + u % 10);
				u /= 10;
			} while (u);
			num[--i] = ':';
			v[c++] = (struct iovec){ (void *)file, strlen(file) };
			v[c++] = (struct iovec){ num + i, sizeof num - (size_t)i };
		} else {
			v[c++] = (struct iovec){ " ", 1 };
		}
	}
	RESTORE_ERRNO;
	int was = log_enter();
	int n = fmt_msg(buf, &msg, fmt, ap);
	log_leave(was);
	v[c++] = (struct iovec){ msg, n > 0 ? (size_t)n : 0 };
	++error_message_count;
	if (errnum) {
		const char *es = strerror_r(errnum, eb, sizeof eb);
		v[c++] = (struct iovec){ ": ", 2 };
		v[c++] = (struct iovec){ (void *)es, strlen(es) };
	}
	v[c++] = (struct iovec){ "\n", 1 };
	if (deco) {
		log_out_stream(stderr, fileno(stderr), v, c, log_cfg.line_level, caller);
	} else {
		for (int i = 0; i < c; i++)
			REAL(fwrite_unlocked)(v[i].iov_base, 1, v[i].iov_len, stderr);
	}
	fflush(stderr);
	if (msg != buf)
		free(msg);
	funlockfile(stderr);
	pthread_setcancelstate(cancel, NULL);
	if (status)
		exit(status);
	RESTORE_ERRNO;
}

/* Without the shim acting (disabled, recursion, wide stderr), glibc's own
 * functions cannot be called with our va_list, so the same code prints the
 * line undecorated: the engine passes bytes through when there is no
 * context, and a wide stderr gets the text through fwprintf. */
static void error_any(int status, int errnum, const char *file, unsigned line, int at_line,
		      const char *fmt, va_list ap, void *caller)
{
	if (unlikely(!ctx_cfg.ready))
		ctx_init();
	if (stderr && fwide(stderr, 0) > 0) {
		char buf[MSG_BUF], *msg = buf;
		KEEP_ERRNO;
		fflush(stdout);
		if (error_print_progname)
			error_print_progname();
		else
			fwprintf(stderr, at_line ? L"%s:" : L"%s: ", program_invocation_name);
		if (at_line)
			fwprintf(stderr, file ? L"%s:%u: " : L" ", file, line);
		RESTORE_ERRNO;
		int n = fmt_msg(buf, &msg, fmt, ap);
		fwprintf(stderr, L"%.*s", n > 0 ? n : 0, msg);
		++error_message_count;
		if (errnum) {
			char eb[256];
			fwprintf(stderr, L": %s", strerror_r(errnum, eb, sizeof eb));
		}
		fwprintf(stderr, L"\n");
		fflush(stderr);
		if (msg != buf)
			free(msg);
		if (status)
			exit(status);
		RESTORE_ERRNO;
		return;
	}
	error_body(status, errnum, file, line, at_line, fmt, ap, acting(), caller);
}

CTX_EXPORT void error(int status, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	error_any(status, errnum, NULL, 0, 0, fmt, ap, __builtin_return_address(0));
	va_end(ap);
}

CTX_EXPORT void error_at_line(int status, int errnum, const char *file, unsigned line,
			      const char *fmt, ...)
{
	static const char *last_file;
	static unsigned last_line;
	if (error_one_per_line) {
		if (line == last_line &&
		    (file == last_file || (file && last_file && !strcmp(file, last_file))))
			return;
		last_file = file;
		last_line = line;
	}
	va_list ap;
	va_start(ap, fmt);
	error_any(status, errnum, file, line, 1, fmt, ap, __builtin_return_address(0));
	va_end(ap);
}
