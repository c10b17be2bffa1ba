/*
 * log_syslog.c: syslog, vsyslog and their fortified forms.
 *
 * The message is formatted here (errno restored first, so %m names the
 * caller's error; the _chk forms format with their fortify flag), decorated,
 * and handed to the real function as "%s", which keeps the priority, the
 * ident and every openlog option, LOG_PERROR included.
 *
 * CTXSHIM_LOG_SYSLOG=rfc5424 hands the message to a sink of our own instead
 * (log_sink.h; RFC 5424 in log_sink_rfc5424.c): openlog's ident, facility
 * and options are passed on, setlogmask is obeyed here.
 *
 * CTXSHIM_LOG_LEVEL drops messages below the level, with or without a
 * context.  A message sent while the context is empty goes to the real
 * function untouched.
 */
#undef _FORTIFY_SOURCE
#include "log.h"
#include "log_sink.h"
#include "hooks.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define MSG_BUF 2048
#define OUT_BUF 4096

/* ---- what openlog said (rfc5424 mode needs it) ----------------------------------- */

static pthread_mutex_t sl_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *sl_ident;          /* glibc keeps the caller's pointer too */
static int sl_option;
static int sl_facility = LOG_USER;

CTX_EXPORT void openlog(const char *ident, int option, int facility)
{
	pthread_mutex_lock(&sl_lock);
	sl_ident = ident;
	sl_option = option;
	if (facility != 0 && (facility & ~LOG_FACMASK) == 0)
		sl_facility = facility;
	pthread_mutex_unlock(&sl_lock);
	REAL(openlog)(ident, option, facility);
}

/* What openlog said, copied into R (IDENT: a buffer of N bytes for the ident,
 * since glibc keeps only the caller's pointer). */
static void openlog_state(struct log_record *r, char *ident, size_t n)
{
	pthread_mutex_lock(&sl_lock);
	const char *id = sl_ident ? sl_ident : program_invocation_short_name;
	/* no strnlen over a "" stand-in: gcc -O1 with ASan then warns that
	 * the bound exceeds the literal's size (stringop-overread) */
	size_t il = id ? strnlen(id, n - 1) : 0;
	if (il)
		memcpy(ident, id, il);
	ident[il] = '\0';
	r->ident = ident;
	r->option = sl_option;
	if ((r->pri & LOG_FACMASK) == 0)
		r->pri |= sl_facility;
	pthread_mutex_unlock(&sl_lock);
}

CTX_EXPORT void closelog(void)
{
	pthread_mutex_lock(&sl_lock);
	sl_ident = NULL;
	pthread_mutex_unlock(&sl_lock);
	REAL(closelog)();
}

/* ---- the hooks ---------------------------------------------------------------------- */

static void real_vsyslog_any(int pri, int flag, const char *fmt, va_list ap)
{
	if (flag < 0)
		REAL(vsyslog)(pri, fmt, ap);
	else
		REAL(__vsyslog_chk)(pri, flag, fmt, ap);
}

/* The message decorated into OUT (or a malloc'ed buffer, *RES). */
static size_t decorate(struct log_deco *d, const char *msg, size_t n, char *out, char **res)
{
	char pre[LOG_PREFIX_MAX], suf[LOG_SUFFIX_MAX];
	size_t pl = log_deco_prefix(d, pre, sizeof pre);
	size_t sl = log_deco_suffix(d, suf, sizeof suf);
	size_t need = pl + sl + 1 + (log_cfg.style == LF_TEXT ? n : n * 6);
	char *p = out;
	if (need > OUT_BUF) {
		p = malloc(need);
		if (!p)
			return (size_t)-1;
	}
	*res = p;
	memcpy(p, pre, pl);
	size_t at = pl;
	if (log_cfg.style == LF_TEXT) {
		memcpy(p + at, msg, n);
		at += n;
	} else {
		struct lbuf b;
		unsigned pend = 0;
		lb_init(&b, p + at, need - at);
		lf_escape_msg(log_cfg.style, msg, n, &pend, &b);
		at += b.len;
	}
	memcpy(p + at, suf, sl);
	at += sl;
	p[at] = '\0';
	return at;
}

/* 1 when FMT holds a %n conversion (its fortify check wants the format in
 * read-only memory, where a copy of ours is not). */
static int has_n(const char *fmt)
{
	for (const char *p = fmt; (p = strchr(p, '%')) != NULL;) {
		p++;
		if (*p == '%') {
			p++;
			continue;
		}
		while (*p && strchr("0123456789$#+- .'hlLqjztI*", *p))
			p++;
		if (*p == 'n')
			return 1;
	}
	return 0;
}

/* S as format text: '%' doubled.  Returns the bytes written to OUT. */
static size_t put_literal(char *out, const char *s, size_t n)
{
	if (!memchr(s, '%', n)) {
		memcpy(out, s, n);
		return n;
	}
	size_t at = 0;
	for (size_t i = 0; i < n; i++) {
		out[at++] = s[i];
		if (s[i] == '%')
			out[at++] = '%';
	}
	return at;
}

/* Text style: the prefix (its '%' doubled) before the program's own format,
 * so glibc formats the message once, with the program's arguments (%m and
 * positional arguments included).  0, or -1 to take the general way. */
#define FMT_MAX 2048

static int syslog_prefixed(int pri, int flag, const char *fmt, va_list ap, struct log_deco *d,
			   int err)
{
	char pre[LOG_PREFIX_MAX], suf[LOG_SUFFIX_MAX];
	char nf[2 * LOG_PREFIX_MAX + FMT_MAX + 2 * LOG_SUFFIX_MAX + 1];
	size_t fl = strlen(fmt);
	if (fl > FMT_MAX || (flag > 0 && has_n(fmt)))
		return -1;
	size_t pl = log_deco_prefix(d, pre, sizeof pre);
	size_t sl = log_cfg.has_suffix ? log_deco_suffix(d, suf, sizeof suf) : 0;
	size_t at = put_literal(nf, pre, pl);
	memcpy(nf + at, fmt, fl);
	at += fl;
	at += put_literal(nf + at, suf, sl);
	nf[at] = '\0';
	errno = err;
	real_vsyslog_any(pri, flag, nf, ap);
	return 0;
}

static void do_syslog(int pri, int flag, const char *fmt, va_list ap, void *caller)
{
	if (!ctx_should_act()) {
		real_vsyslog_any(pri, flag, fmt, ap);
		return;
	}
	KEEP_ERRNO;
	if (LOG_PRI(pri) > log_cfg.syslog_max)
		return;
	if (!(log_cfg.sinks & (LOG_SINK_SYSLOG | LOG_SINK_JOURNAL)) || !log_has_context()) {
		real_vsyslog_any(pri, flag, fmt, ap);
		return;
	}

	int was = log_enter();
	if (log_cfg.style == LF_TEXT && !log_cfg.rfc5424 && !(log_cfg.sinks & LOG_SINK_JOURNAL) &&
	    fmt) {
		struct log_deco d;
		log_deco_begin(&d, LOG_PRI(pri), caller, 1);
		int r = syslog_prefixed(pri, flag, fmt, ap, &d, saved_errno_);
		log_deco_end(&d);
		if (r == 0) {
			log_leave(was);
			RESTORE_ERRNO;
			return;
		}
	}
	char buf[MSG_BUF], *msg;
	int n = log_vformat(buf, sizeof buf, &msg, flag, fmt, ap, saved_errno_);
	if (n < 0) {
		log_leave(was);
		RESTORE_ERRNO;
		real_vsyslog_any(pri, flag, fmt, ap);
		return;
	}

	struct log_deco d;
	log_deco_begin(&d, LOG_PRI(pri), caller, 1);
	struct log_record r = { .pri = pri, .msg = msg, .len = (size_t)n, .deco = &d };
	char ident[64];
	int done = 0;
	if ((log_cfg.sinks & LOG_SINK_JOURNAL) || log_cfg.rfc5424) {
		openlog_state(&r, ident, sizeof ident);
		if (!(LOG_MASK(LOG_PRI(r.pri)) & setlogmask(0)))
			done = 1;      /* masked: syslog(3) would send nothing */
		else if ((log_cfg.sinks & LOG_SINK_JOURNAL) && log_sink_journal.emit(&r) == 0)
			done = 1;
		else if (log_cfg.rfc5424)
			done = log_sink_rfc5424.emit(&r) == 0;
	}
	if (!done) {
		/* syslog(3) as usual; decorated when syslog is one of the sinks */
		char out[OUT_BUF], *text = msg;
		if ((log_cfg.sinks & LOG_SINK_SYSLOG) &&
		    decorate(&d, msg, (size_t)n, out, &text) == (size_t)-1)
			text = msg;
		if (flag < 0)
			REAL(syslog)(pri, "%s", text);
		else
			REAL(__syslog_chk)(pri, flag, "%s", text);
		if (text != out && text != msg)
			free(text);
	}
	log_deco_end(&d);
	if (msg != buf)
		free(msg);
	log_leave(was);
	RESTORE_ERRNO;
}

CTX_EXPORT void syslog(int pri, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	do_syslog(pri, -1, fmt, ap, __builtin_return_address(0));
	va_end(ap);
}

CTX_EXPORT void __syslog_chk(int pri, int flag, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	do_syslog(pri, flag, fmt, ap, __builtin_return_address(0));
	va_end(ap);
}

CTX_EXPORT void vsyslog(int pri, const char *fmt, va_list ap)
{
	do_syslog(pri, -1, fmt, ap, __builtin_return_address(0));
}

CTX_EXPORT void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
{
	do_syslog(pri, flag, fmt, ap, __builtin_return_address(0));
}
