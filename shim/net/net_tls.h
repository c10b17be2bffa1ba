/*
 * net_tls.h: what the TLS libraries' hooks share (net_tls.c: the records
 * and OpenSSL; net_gnutls.c: GnuTLS).  A TLS connection's record is keyed by
 * the library's object (SSL *, gnutls_session_t) and holds a struct
 * net_conn of its own, outside the fd table.
 */
#ifndef CTX_NET_TLS_H
#define CTX_NET_TLS_H

#include "net.h"

#include "hooks.h"
#include "ptrtab.h"

#include <stdint.h>

#define NONE SIZE_MAX
#define TLS_COPY_MAX 4096   /* program bytes copied in front of an added line */
#define TLS_SUFFIX_MAX 4096 /* ... and after it (OpenSSL) */

/* Where a program's write stands after a real write asked for a retry. */
enum { W_NONE, W_COPY, W_PROG };

struct tls_conn {
	struct net_conn c;          /* first: 64-aligned */
	struct ptrtab_node node;    /* key: the SSL or the GnuTLS session */
	int watched;                /* followed (server: NET_IN, client: NET_OUT) */
	int fd;                     /* the socket under it, or -1 */
	int wstage;                 /* W_*: a real write to resume */
	size_t wdone, wn;           /* program bytes of the call written, of it */
	size_t wlen;                /* W_PROG: the length that real write had */
	size_t winj, wline, wsuf;   /* W_COPY: program bytes, line, program bytes in wbuf */
	size_t woff, wbuf_len;      /* W_COPY: bytes of wbuf taken, and in it */
	char *wbuf;                 /* made on first use */
	char *pbuf;                 /* the program's bytes in wbuf */
};

/* Calls a TLS library makes to its own public functions are its business:
 * only the program's outermost call is followed. */
extern __thread int net_tls_in;

/* 1 when a hook should follow this call: the shim is on, HTTP or
 * propagation is, and the call is the program's. */
int net_tls_act(void);

/* KEY's record, or NULL. */
struct tls_conn *net_tls_find(const void *key);
/* A record for KEY on socket FD (-1: none known); SERVER 1, client 0, -1
 * unknown (not followed).  NULL without memory. */
struct tls_conn *net_tls_make(const void *key, int fd, int server);
/* KEY is being freed by its library: its record goes. */
void net_tls_forget(const void *key);
/* The program read N bytes (0: a read that failed) into BUF from T (NULL
 * allowed). */
void net_tls_read(struct tls_conn *t, const void *buf, size_t n);
/* The program writes BUF[0,N) on T (GnuTLS's retry: NULL, 0), each real
 * write made by ONCE(ARG, P, LEN, &W) (> 0: success, W bytes; else the
 * library's failure, returned as is).  > 0 with *TOTAL the program's bytes
 * written, or the failure (net_tls_write.c). */
long net_tls_out(struct tls_conn *t, const char *buf, size_t n, size_t *total,
		 long (*once)(void *arg, const void *p, size_t len, size_t *w), void *arg);
/* After a write: a server connection's context becomes the thread's. */
void net_tls_enter(struct tls_conn *t);

#endif
