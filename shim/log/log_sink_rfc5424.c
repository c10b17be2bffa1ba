/*
 * log_sink_rfc5424.c: the RFC 5424 sink (CTXSHIM_LOG_SYSLOG=rfc5424).  Each
 * message becomes one packet to /dev/log: the context as structured data
 * ([ctx@32473 request_id="..."]) and the program's message unchanged; with
 * LOG_PERROR, glibc's copy on stderr too.
 */
#include "log_sink.h"
#include "hooks.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define OUT_BUF 4096

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

int log_dgram_send(const char *path, const char *p, size_t n)
{
	KEEP_ERRNO;
	int rc = -1;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	size_t pl = strlen(path);
	if (pl >= sizeof a.sun_path)
		return -1;
	memcpy(a.sun_path, path, pl + 1);
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		goto out;
	if (REAL(sendto)(s, p, n, MSG_NOSIGNAL, (struct sockaddr *)&a, sizeof a) >= 0) {
		rc = 0;
	} else if (errno == EPROTOTYPE) {
		/* a stream socket: glibc ends each message with a NUL there */
		REAL(close)(s);
		s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s >= 0 && REAL(connect)(s, (struct sockaddr *)&a, sizeof a) == 0 &&
		    REAL(send)(s, p, n, MSG_NOSIGNAL) >= 0 && REAL(send)(s, "", 1, MSG_NOSIGNAL) >= 0)
			rc = 0;
	}
	if (s >= 0)
		REAL(close)(s);
out:
	RESTORE_ERRNO;
	return rc;
}

/* glibc's copy of a message on stderr (LOG_PERROR): "ident[pid]: message",
 * here with the structured data SD before the message. */
static void perror_copy(const struct log_record *r, const char *sd, size_t sd_len)
{
	struct lbuf e;
	char line[OUT_BUF];
	lb_init(&e, line, sizeof line - 1);
	lb_put(&e, r->ident, strlen(r->ident));
	if (r->option & LOG_PID) {
		lb_putc(&e, '[');
		put_uint(&e, (unsigned long)getpid());
		lb_putc(&e, ']');
	}
	lb_put(&e, ": ", 2);
	lb_put(&e, sd, sd_len);
	lb_putc(&e, ' ');
	lb_put(&e, r->msg, r->len);
	size_t l = e.len < sizeof line - 1 ? e.len : sizeof line - 1;
	line[l++] = '\n';
	REAL(write)(STDERR_FILENO, line, l);
}

static int rfc5424_emit(const struct log_record *r)
{
	char pkt[OUT_BUF + 1], host[256], tm[32];
	struct lbuf b;

	if (gethostname(host, sizeof host) < 0)
		host[0] = '\0';
	host[sizeof host - 1] = '\0';
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	lf_iso8601(tm, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, 0, 1);

	lb_init(&b, pkt, OUT_BUF);
	lb_putc(&b, '<');
	put_uint(&b, (unsigned long)(r->pri & (LOG_FACMASK | LOG_PRIMASK)));
	lb_put(&b, ">1 ", 3);
	lb_put(&b, tm, strlen(tm));
	lb_putc(&b, ' ');
	put_field(&b, host, 255);
	lb_putc(&b, ' ');
	put_field(&b, r->ident, 48);
	lb_putc(&b, ' ');
	put_uint(&b, (unsigned long)getpid());
	lb_put(&b, " - ", 3);
	size_t sd_at = b.len;
	const struct lt_fields *f = log_deco_fields(r->deco);
	size_t sd = lt_sd(f->ctx, f->base, pkt + b.len, OUT_BUF - b.len);
	if (sd == 0)
		lb_putc(&b, '-');
	else
		b.len += sd;
	size_t sd_len = b.len - sd_at;
	lb_putc(&b, ' ');
	lb_put(&b, r->msg, r->len);      /* cut at the buffer's end, like syslog */
	size_t n = b.len < OUT_BUF ? b.len : OUT_BUF;
	pkt[n] = '\0';
	log_dgram_send("/dev/log", pkt, n);
	if (r->option & LOG_PERROR)
		perror_copy(r, pkt + sd_at, sd_len);
	/* Like syslog(3): a message no daemon takes is lost, not passed on. */
	return 0;
}

const struct log_sink log_sink_rfc5424 = {
	.name = "rfc5424",
	.open = NULL,
	.emit = rfc5424_emit,
	.close = NULL,
};
