/*
 * net_tls_write.c: adding a line to what a program writes through a TLS
 * library (OpenSSL's SSL_write, GnuTLS's gnutls_record_send).
 *
 * Both libraries want a write that could not finish (SSL_ERROR_WANT_WRITE,
 * GNUTLS_E_AGAIN) called again with the same buffer (OpenSSL, unless
 * SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER) or with the same arguments or NULL
 * (GnuTLS).  So one program call becomes a sequence of real writes, each
 * from a buffer that stays put until it completes:
 *   - the program's bytes up to where a line goes, the line, and the
 *     program's bytes after it up to TLS_SUFFIX_MAX (suffix_len), copied into
 *     the connection's own buffer: one record, one system call for a small
 *     response.  A prefix longer than TLS_COPY_MAX is written first from the
 *     program's buffer, and the line after it;
 *   - everything else straight from the program's buffer.
 * When a real write fails, the program gets that failure (it retries, as it
 * must); the record remembers where the sequence stands, and the retry
 * resumes it with the very buffer and length the failed real write had.
 * The program is told its own count: the whole call, or what a real write
 * took of its bytes when the library writes in part (OpenSSL's
 * SSL_MODE_ENABLE_PARTIAL_WRITE, GnuTLS past a record's size).  The scanner
 * is moved over the copied bytes from a copy of the program's bytes alone
 * (a GnuTLS retry passes no buffer).
 */
#include "net_tls.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* How many of the program's bytes P[0,AVAIL) from the blank line on go in
 * the same record as the added line: at most TLS_SUFFIX_MAX, and never a
 * byte where another blank line could start (the end of a next head, whose
 * line the next plan must add): none after a '\n' that is a '\r' or a
 * '\n'.  At least the blank line's first byte. */
static size_t suffix_len(const char *p, size_t avail)
{
	size_t n = avail < TLS_SUFFIX_MAX ? avail : TLS_SUFFIX_MAX;
	for (size_t i = 1; i < n; i++)
		if (p[i - 1] == '\n' && (p[i] == '\r' || p[i] == '\n'))
			return i;
	return n;
}

/* TAKEN of the program bytes BUF[0,N) went out (and the line at INJ). */
static void scanned(struct tls_conn *t, const char *buf, size_t n, size_t taken, size_t inj,
		    size_t ll)
{
	KEEP_ERRNO;
	ctx_self.in_hook++;
	net_tx_done(&t->c, buf, n, taken, inj, ll);
	ctx_self.in_hook--;
	RESTORE_ERRNO;
}

/* A new request head on a client connection: the request it is bound to
 * becomes the thread's, so its id is the one added (as for sockets). */
static void bind_out(struct tls_conn *t)
{
	ctx_self.in_hook++;
	net_lock(&t->c);
	struct net_http *h = net_http_of(&t->c);
	if (h && !t->c.tx_pass && !h->pend_len && http_tx_idle(&h->tx))
		net_out_bind(&t->c);
	net_unlock(&t->c);
	ctx_self.in_hook--;
}

static void stop_following(struct tls_conn *t)
{
	ctx_self.in_hook++;
	net_lock(&t->c);
	net_abandon(&t->c);
	net_unlock(&t->c);
	ctx_self.in_hook--;
}

long net_tls_out(struct tls_conn *t, const char *buf, size_t n, size_t *total,
		 long (*once)(void *arg, const void *p, size_t len, size_t *w), void *arg)
{
	char line[NET_INJ_MAX];
	size_t done = 0, w, ll;
	long r;
	if (t->wstage) {
		if (!buf && !n) {
			n = t->wn;      /* GnuTLS's retry: the call before, again */
		} else if (!buf || n < t->wdone + (t->wstage == W_PROG ? t->wlen : 0)) {
			/* Not the retry the library asked for: the stream is no
			 * longer what the scanner saw; stop following it. */
			t->wstage = W_NONE;
			stop_following(t);
			return once(arg, buf, n, total);
		}
		done = t->wdone;
	}
	for (;;) {
		if (t->wstage == W_COPY) {
			r = once(arg, t->wbuf + t->woff, t->wbuf_len - t->woff, &w);
			if (r <= 0)
				return r;
			t->woff += w;
			if (t->woff < t->wbuf_len)
				continue;     /* written in part: the rest is a new write */
			t->wstage = W_NONE;
			scanned(t, t->pbuf, t->winj + t->wsuf, t->winj, t->winj, t->wline);
			scanned(t, t->pbuf + t->winj, t->wsuf, t->wsuf, NONE, 0);
			done += t->winj + t->wsuf;
		} else if (t->wstage == W_PROG) {
			/* Without the program's buffer (a GnuTLS retry with NULL)
			 * the library sends what it kept, unseen. */
			r = once(arg, buf ? buf + done : NULL, buf ? t->wlen : 0, &w);
			if (r <= 0)
				return r;
			t->wstage = W_NONE;
			if (buf)
				scanned(t, buf + done, w, w, NONE, 0);
			else
				stop_following(t);
			done += w;
			if (w < t->wlen || !buf) {
				*total = done;     /* an honest short count */
				return r;
			}
		}
		if (!buf) {
			*total = done;     /* a GnuTLS retry: nothing more given */
			return 1;
		}
		t->wdone = done;
		t->wn = n;
		if (done == n) {
			*total = n;
			return 1;
		}
		/* Plan what follows: a line at INJ, or none. */
		KEEP_ERRNO;
		if (atomic_load(&t->c.kind) == NET_OUT && net_cfg.propagate)
			bind_out(t);
		size_t inj = net_tx_plan(&t->c, buf + done, n - done, line, &ll);
		if (inj != NONE && inj <= TLS_COPY_MAX && !t->wbuf) {
			t->wbuf = malloc(TLS_COPY_MAX + NET_INJ_MAX + TLS_SUFFIX_MAX);
			t->pbuf = malloc(TLS_COPY_MAX + TLS_SUFFIX_MAX);
			if (!t->wbuf || !t->pbuf) {
				free(t->wbuf);
				free(t->pbuf);
				t->wbuf = t->pbuf = NULL;
			}
		}
		RESTORE_ERRNO;
		if (inj == NONE) {
			t->wstage = W_PROG;
			t->wlen = n - done;
		} else if (inj > TLS_COPY_MAX || !t->wbuf) {
			/* A long prefix: from the program's buffer, then the line
			 * (the next plan finds it at 0). */
			t->wstage = W_PROG;
			t->wlen = inj;
		} else {
			const char *p = buf + done;
			size_t suf = suffix_len(p + inj, n - done - inj);
			memcpy(t->pbuf, p, inj + suf);
			memcpy(t->wbuf, p, inj);
			memcpy(t->wbuf + inj, line, ll);
			memcpy(t->wbuf + inj + ll, p + inj, suf);
			t->winj = inj;
			t->wline = ll;
			t->wsuf = suf;
			t->woff = 0;
			t->wbuf_len = inj + ll + suf;
			t->wstage = W_COPY;
		}
	}
}
