/*
 * hook_log_syslog.c: syslog, vsyslog and their fortified forms.
 *
 * The message is formatted here (errno restored first, so %m names the
 * caller's error; the _chk forms format with their fortify flag), decorated,
 * and handed to the real function as "%s", which keeps the priority, the
 * ident and every openlog option, LOG_PERROR included.
 *
 * CTXSHIM_LOG_SYSLOG=rfc5424 sends RFC 5424 packets of our own instead,
 * the context as structured data ([ctx@32473 request_id="..."]) and the
 * message unchanged, to /dev/log; openlog's ident, facility and LOG_PID /
 * LOG_PERROR are followed, setlogmask is obeyed.
 *
 * CTXSHIM_LOG_LEVEL drops messages below the level, with or without a
 * context.  A message sent while the context is empty goes to the real
 * function untouched.
 */
#undef _FORTIFY_SOURCE
#include "log.h"
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

int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, va_list ap);

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

CTX_EXPORT void closelog(void)
{
	pthread_mutex_lock(&sl_lock);
	sl_ident = NULL;
	pthread_mutex_unlock(&sl_lock);
	REAL(closelog)();
}

/* ---- RFC 5424 --------------------------------------------------------------------- */

/* Copy S as a header field: printable ASCII but space, at most MAX; "-" if
 * nothing is left. */
static void put_field(struct lbuf *b, const char *s, size_t max)
{
	size_t n = 0;
	for (; s && s[n] && n < max; n++) {
		unsigned char c = (unsigned char)s[n];
		lb_putc(b, c > 32 && c < 127 ? (char)c : '_');
	}
	if (n == 0)
		lb_putc(b, '-');
}

static void put_uint(struct lbuf *b, unsigned long v)
{
	char d[24];
	int i = sizeof d;
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	lb_put(b, d + i, sizeof d - (size_t)i);
}

static void send_dev_log(const char *p, size_t n)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX, .sun_path = "/dev/log" };
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return;
	if (sendto(s, p, n, MSG_NOSIGNAL, (struct sockaddr *)&a, sizeof a) < 0 &&
	    errno == EPROTOTYPE) {
		/* a stream socket: glibc ends each message with a NUL there */
		close(s);
		s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s >= 0 && connect(s, (struct sockaddr *)&a, sizeof a) == 0)
			send(s, p, n + 1, MSG_NOSIGNAL);
	}
	if (s >= 0)
		close(s);
}

static void rfc5424(int pri, const char *msg, size_t mlen, struct log_deco *d)
{
	char pkt[OUT_BUF + 1], host[256], tm[32], ident[64];
	struct lbuf b;
	int opt;

	pthread_mutex_lock(&sl_lock);
	const char *id = sl_ident ? sl_ident : program_invocation_short_name;
	/* no strnlen over a "" stand-in: gcc -O1 with ASan then warns that
	 * the bound exceeds the literal's size (stringop-overread) */
	size_t il = id ? strnlen(id, sizeof ident - 1) : 0;
	if (il)
		memcpy(ident, id, il);
	ident[il] = '\0';
	opt = sl_option;
	if ((pri & LOG_FACMASK) == 0)
		pri |= sl_facility;
	pthread_mutex_unlock(&sl_lock);
	if (!(LOG_MASK(LOG_PRI(pri)) & setlogmask(0)))
		return;
	if (gethostname(host, sizeof host) < 0)
		host[0] = '\0';
	host[sizeof host - 1] = '\0';
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	lf_iso8601(tm, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, 0, 1);

	lb_init(&b, pkt, OUT_BUF);
	lb_putc(&b, '<');
	put_uint(&b, (unsigned long)(pri & (LOG_FACMASK | LOG_PRIMASK)));
	lb_put(&b, ">1 ", 3);
	lb_put(&b, tm, strlen(tm));
	lb_putc(&b, ' ');
	put_field(&b, host, 255);
	lb_putc(&b, ' ');
	put_field(&b, ident, 48);
	lb_putc(&b, ' ');
	put_uint(&b, (unsigned long)getpid());
	lb_put(&b, " - ", 3);
	size_t sd_at = b.len;
	const struct lt_fields *f = log_deco_fields(d);
	size_t sd = lt_sd(f->ctx, f->base, pkt + b.len, OUT_BUF - b.len);
	if (sd == 0)
		lb_putc(&b, '-');
	else
		b.len += sd;
	size_t sd_len = b.len - sd_at;
	lb_putc(&b, ' ');
	lb_put(&b, msg, mlen);      /* cut at the buffer's end, like syslog */
	size_t n = b.len < OUT_BUF ? b.len : OUT_BUF;
	pkt[n] = '\0';
	send_dev_log(pkt, n);

	if (opt & LOG_PERROR) {
		/* glibc's copy on stderr: "ident[pid]: message" */
		struct lbuf e;
		char line[OUT_BUF];
		lb_init(&e, line, sizeof line - 1);
		lb_put(&e, ident, strlen(ident));
		if (opt & LOG_PID) {
			lb_putc(&e, '[');
			put_uint(&e, (unsigned long)getpid());
			lb_putc(&e, ']');
		}
		lb_put(&e, ": ", 2);
		lb_put(&e, pkt + sd_at, sd_len);
		lb_putc(&e, ' ');
		lb_put(&e, msg, mlen);
		size_t l = e.len < sizeof line - 1 ? e.len : sizeof line - 1;
		line[l++] = '\n';
		REAL(write)(STDERR_FILENO, line, l);
	}
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
	if (!(log_cfg.sinks & LOG_SINK_SYSLOG) || !log_has_context()) {
		real_vsyslog_any(pri, flag, fmt, ap);
		return;
	}

	int was = log_enter();
	if (log_cfg.style == LF_TEXT && !log_cfg.rfc5424 && fmt) {
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
	char buf[MSG_BUF], *msg = buf;
	va_list aq;
	va_copy(aq, ap);
	errno = saved_errno_;
	int n = flag < 0 ? vsnprintf(buf, sizeof buf, fmt, aq)
			 : __vsnprintf_chk(buf, sizeof buf, flag, sizeof buf, fmt, aq);
	va_end(aq);
	if (n >= (int)sizeof buf && (msg = malloc((size_t)n + 1)) != NULL) {
		va_copy(aq, ap);
		errno = saved_errno_;
		n = flag < 0 ? vsnprintf(msg, (size_t)n + 1, fmt, aq)
			     : __vsnprintf_chk(msg, (size_t)n + 1, flag, (size_t)n + 1, fmt, aq);
		va_end(aq);
	} else if (n >= (int)sizeof buf) {
		msg = buf;
		n = sizeof buf - 1;   /* out of memory: the message is cut */
	}
	if (n < 0) {
		log_leave(was);
		RESTORE_ERRNO;
		real_vsyslog_any(pri, flag, fmt, ap);
		return;
	}

	struct log_deco d;
	log_deco_begin(&d, LOG_PRI(pri), caller, 1);
	if (log_cfg.rfc5424) {
		rfc5424(pri, msg, (size_t)n, &d);
	} else {
		char out[OUT_BUF], *text;
		size_t len = decorate(&d, msg, (size_t)n, out, &text);
		if (len == (size_t)-1)
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
