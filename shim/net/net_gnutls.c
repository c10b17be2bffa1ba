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
 * Adding a line: net_tls_write.c, as for OpenSSL.  A retry with NULL and 0
 * after GNUTLS_E_AGAIN resumes the sequence; if it was at the program's own
 * bytes, the library sends what it kept, unseen, and the connection's
 * output is no longer followed.
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

struct gt_io {
	gnutls_session_t s;
	const struct how *k;
};

static ssize_t send_once(gnutls_session_t s, const void *p, size_t n, const struct how *k)
{
	net_tls_in++;
	ssize_t r = k->two ? G_REAL(gnutls_record_send2)(s, p, n, k->pad, k->flags)
			   : G_REAL(gnutls_record_send)(s, p, n);
	net_tls_in--;
	return r;
}

static long gt_once(void *arg, const void *p, size_t len, size_t *w)
{
	struct gt_io *io = arg;
	ssize_t r = send_once(io->s, p, len, io->k);
	*w = r > 0 ? (size_t)r : 0;
	return r > 0 ? 1 : (long)r;
}

static ssize_t do_send(gnutls_session_t s, const void *buf, size_t n, const struct how *k)
{
	ctx_self.in_hook++;
	struct tls_conn *t = rec_get(s);
	ctx_self.in_hook--;
	if (!t || !t->watched || (!buf && !t->wstage) || (buf && !n))
		return send_once(s, buf, n, k);
	struct gt_io io = { s, k };
	size_t total = 0;
	long r = net_tls_out(t, buf, n, &total, gt_once, &io);
	net_tls_enter(t);
	return r > 0 ? (ssize_t)total : (ssize_t)r;
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
