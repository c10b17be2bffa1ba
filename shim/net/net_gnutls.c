/*
 * net_gnutls.c: HTTPS through GnuTLS (libgnutls.so.30), like OpenSSL's in
 * net_tls.c: the plaintext of gnutls_record_recv and gnutls_record_send (and
 * gnutls_record_send2, which record_send calls) goes to the same HTTP reader
 * and writer; gnutls_deinit releases the session's record.
 *
 * A session is followed when its transport is a socket the shim watches
 * (gnutls_transport_get_int): accepted, a server; connected (with
 * CTXSHIM_HTTP_PROPAGATE), a client.  Sessions over other transports are
 * left alone.
 *
 * Adding a line.  gnutls_record_send may send fewer bytes than it is given
 * (at most a record), and one that fails with GNUTLS_E_AGAIN or
 * GNUTLS_E_INTERRUPTED must be called again with the same arguments or with
 * NULL and 0.  So a call that needs a line sends, from the record's own
 * buffer, the program's bytes up to the blank line, the line, and the blank
 * line's first byte, and tells the program it wrote those bytes of its own:
 * an honest short count, the rest comes in its next call.  A retry, with
 * whatever arguments, resends that buffer.  A call that needs no line is
 * the program's own; if it must be retried with NULL, the bytes the library
 * kept go unseen and the connection's output is no longer followed.
 */
#include "net_tls.h"

#include <gnutls/gnutls.h>
#define HOOKS_LIB_gnutls ~, 1
#define HOOKS_LIB_DEFINE
#include "hooks_lib.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define G_REAL(name) REAL_LIB(name, hooks_libs_gnutls)

static int (*real_get_int)(gnutls_session_t);

/* S's record, made on first use; NULL without memory. */
static struct tls_conn *rec_get(gnutls_session_t s)
{
	struct tls_conn *t = net_tls_find(s);
	if (t)
		return t;
	if (!real_get_int)
		real_get_int = (int (*)(gnutls_session_t))hooks_lib_sym(hooks_libs_gnutls,
									 "gnutls_transport_get_int");
	int fd = real_get_int ? real_get_int(s) : -1;
	struct net_conn *sc = fd >= 0 ? net_slot(fd) : NULL;
	int kind = sc ? atomic_load(&sc->kind) : NET_NONE;
	return net_tls_make(s, fd, kind == NET_IN ? 1 : kind == NET_OUT ? 0 : -1);
}

CTX_EXPORT ssize_t gnutls_record_recv(gnutls_session_t s, void *buf, size_t n)
{
	if (!net_tls_act())
		return G_REAL(gnutls_record_recv)(s, buf, n);
	net_tls_in++;
	ssize_t r = G_REAL(gnutls_record_recv)(s, buf, n);
	net_tls_in--;
	KEEP_ERRNO;
	ctx_self.in_hook++;
	struct tls_conn *t = rec_get(s);
	ctx_self.in_hook--;
	net_tls_read(t, buf, r > 0 ? (size_t)r : 0);
	RESTORE_ERRNO;
	return r;
}

CTX_EXPORT void gnutls_deinit(gnutls_session_t s)
{
	if (s && (net_cfg.http || net_cfg.propagate) && !net_tls_in)
		net_tls_forget(s);
	net_tls_in++;
	G_REAL(gnutls_deinit)(s);
	net_tls_in--;
}

/* One real send, with the program's flavour of the call (TWO: send2). */
struct how {
	int two;
	size_t pad;
	unsigned flags;
};

static ssize_t send_once(gnutls_session_t s, const void *p, size_t n, const struct how *k)
{
	net_tls_in++;
	ssize_t r = k->two ? G_REAL(gnutls_record_send2)(s, p, n, k->pad, k->flags)
			   : G_REAL(gnutls_record_send)(s, p, n);
	net_tls_in--;
	return r;
}

static int again(ssize_t r)
{
	return r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED;
}

/* Without the lock, the guard up: TAKEN program bytes of BUF[0,N) went
 * out, with the line at INJ (NONE: none). */
static void done(struct tls_conn *t, const char *buf, size_t n, size_t taken, size_t inj,
		 size_t ll)
{
	KEEP_ERRNO;
	ctx_self.in_hook++;
	net_tx_done(&t->c, buf, n, taken, inj, ll);
	ctx_self.in_hook--;
	RESTORE_ERRNO;
}

static ssize_t gt_out(struct tls_conn *t, gnutls_session_t s, const char *buf, size_t n,
		      const struct how *k)
{
	struct net_conn *c = &t->c;
	char line[NET_INJ_MAX];
	size_t ll = 0;
	ssize_t r;
	if (t->wstage == W_PROG) {
		t->wstage = W_NONE;
		if (!buf || n != t->wlen) {
			ctx_self.in_hook++;
			net_lock(c);
			net_abandon(c);
			net_unlock(c);
			ctx_self.in_hook--;
			return send_once(s, buf, n, k);
		}
	}
	if (t->wstage == W_NONE) {
		if (!buf || !n)
			return send_once(s, buf, n, k);
		KEEP_ERRNO;
		ctx_self.in_hook++;
		size_t inj = net_tx_plan(c, buf, n, line, &ll);
		if (inj != NONE && inj <= TLS_COPY_MAX && !t->wbuf) {
			t->wbuf = malloc(TLS_COPY_MAX + NET_INJ_MAX + 1);
			t->pbuf = malloc(TLS_COPY_MAX + 1);
			if (!t->wbuf || !t->pbuf) {
				free(t->wbuf);
				free(t->pbuf);
				t->wbuf = t->pbuf = NULL;
			}
		}
		ctx_self.in_hook--;
		RESTORE_ERRNO;
		if (inj == NONE || inj > TLS_COPY_MAX || !t->wbuf) {
			/* A long prefix goes alone (a short count); the line
			 * then starts the next call. */
			size_t len = inj == NONE ? n : inj;
			r = send_once(s, buf, len, k);
			if (again(r)) {
				t->wstage = W_PROG;
				t->wlen = n;
			} else if (r > 0) {
				done(t, buf, (size_t)r, (size_t)r, NONE, 0);
			}
			return r;
		}
		/* The scanner saw the blank line's first byte at INJ: it is
		 * there, and goes with the line. */
		memcpy(t->pbuf, buf, inj + 1);
		t->plen = inj + 1;
		memcpy(t->wbuf, buf, inj);
		memcpy(t->wbuf + inj, line, ll);
		t->wbuf[inj + ll] = buf[inj];
		t->winj = inj;
		t->wline = ll;
		t->woff = 0;
		t->wbuf_len = inj + ll + 1;
		t->wstage = W_COPY;
	}
	/* W_COPY: this call or a retry (with the same arguments or NULL):
	 * our buffer goes, from where it stands. */
	while (t->woff < t->wbuf_len) {
		r = send_once(s, t->wbuf + t->woff, t->wbuf_len - t->woff, k);
		if (r < 0)
			return r;
		t->woff += (size_t)r;
	}
	t->wstage = W_NONE;
	done(t, t->pbuf, t->plen, t->winj, t->winj, t->wline);
	done(t, t->pbuf + t->winj, 1, 1, NONE, 0);
	return (ssize_t)t->plen;
}

static ssize_t do_send(gnutls_session_t s, const void *buf, size_t n, const struct how *k)
{
	ctx_self.in_hook++;
	struct tls_conn *t = rec_get(s);
	ctx_self.in_hook--;
	if (!t || !t->watched)
		return send_once(s, buf, n, k);
	ssize_t r = gt_out(t, s, buf, n, k);
	net_tls_enter(t);
	return r;
}

CTX_EXPORT ssize_t gnutls_record_send(gnutls_session_t s, const void *buf, size_t n)
{
	if (!net_tls_act())
		return G_REAL(gnutls_record_send)(s, buf, n);
	struct how k = { 0, 0, 0 };
	return do_send(s, buf, n, &k);
}

CTX_EXPORT ssize_t gnutls_record_send2(gnutls_session_t s, const void *buf, size_t n, size_t pad,
				       unsigned flags)
{
	if (!net_tls_act())
		return G_REAL(gnutls_record_send2)(s, buf, n, pad, flags);
	struct how k = { 1, pad, flags };
	return do_send(s, buf, n, &k);
}
