/*
 * http_parse.h: incremental HTTP/1.x stream parsers, for the sockets family.
 *
 * Two byte-stream machines, fed whatever a read or write carried, however
 * the stream is split:
 *
 *   http_rx  the requests a server reads: request line, the few headers the
 *            shim cares about, then the body skipped by its framing, so the
 *            next keep-alive or pipelined request is found too.
 *   http_tx  the messages a program writes (responses of a server, requests
 *            of a client): it stops just before the blank line that ends a
 *            head, the one place where a header line can be added, and
 *            follows the body framing to the next head.
 *
 * Neither buffers the stream: state is a few fixed fields, so a head can be
 * split at any byte and nothing is ever read past the bytes given.  Both give
 * up (HTTP_PASS) on anything that is not well-formed HTTP/1.x, after which
 * the caller must leave the stream alone.
 *
 * Pure: no globals, no allocation, no system calls.
 */
#ifndef CTX_HTTP_PARSE_H
#define CTX_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_HEAD_MAX 32768     /* bytes of one head, start line included */
#define HTTP_METHOD_MAX 16
#define HTTP_PATH_MAX 1024      /* request_path is cut here */
#define HTTP_ID_MAX 200         /* longest id taken from a request */
#define HTTP_NAME_MAX 64        /* longest header name the shim looks for */
#define HTTP_VAL_MAX 256        /* longest header value kept */

/* Events: why a feed or scan returned. */
enum {
	HTTP_MORE = 0,   /* every byte given was consumed; nothing to report */
	HTTP_REQ,        /* rx: a request head is complete (fields in ->f) */
	HTTP_HEAD_END,   /* tx: stopped before the blank line of a head */
	HTTP_DONE,       /* tx: a message (head and body) has ended */
	HTTP_PASS,       /* not (or no longer) HTTP: leave the stream alone */
	HTTP_TOO_BIG,    /* rx: a head passed HTTP_HEAD_MAX; stream abandoned */
	HTTP_AMBIG,      /* rx: the message's framing is ambiguous (RFC 9112 6.3,
			  * see http_rx.c): the server may see other requests
			  * than the parser would; stream abandoned */
};

/* Body framing, shared by both directions. */
struct http_body {
	uint8_t kind;     /* enum in http_parse.c */
	uint8_t st;       /* chunked sub-state */
	uint16_t linelen; /* chunk-size and trailer line length */
	uint64_t left;    /* bytes of body or of the current chunk */
};

/* The header being read: its name, lowercased, and (when the name is one
 * the parser wants) its value. */
struct http_hdr {
	uint16_t nlen, vlen;
	uint8_t which;    /* which wanted header (0: none) */
	uint8_t over;     /* value longer than HTTP_VAL_MAX */
	char name[HTTP_NAME_MAX + 1];
	char val[HTTP_VAL_MAX + 1];
};

/* What a request head said.  (Small fields first: the parser's hot state
 * should share as few cache lines as possible.) */
struct http_req_fields {
	uint16_t path_len;
	uint8_t method_len, id_len;
	uint8_t id_ok;       /* the id header was present (first one) and valid */
	uint8_t id_seen;     /* the id header was present */
	uint8_t tp_ok;       /* a valid W3C traceparent was present */
	uint8_t tp_seen;
	uint8_t path_cut;    /* the target was longer than HTTP_PATH_MAX */
	char method[HTTP_METHOD_MAX + 1];
	char path[HTTP_PATH_MAX + 1];
	char id[HTTP_ID_MAX + 1];     /* valid only when id_ok */
	char trace_id[33], span_id[17], flags[3];  /* valid only when tp_ok */
};

struct http_rx {
	const char *idname;   /* lowercase name of the id header */
	uint8_t idname_len;
	uint8_t st;           /* state (http_parse.c) */
	uint8_t sub;          /* position within a fixed token ("HTTP/1.") */
	uint8_t te_seen, te_chunked, cl_seen, cl_bad, connect;
	uint8_t v10;          /* the request is HTTP/1.0 */
	uint8_t cr;           /* the last byte taken of a header value was CR */
	uint32_t head_len;    /* bytes of the current head so far */
	uint64_t cl;
	struct http_body body;
	struct http_req_fields f;
	struct http_hdr h;
};

struct http_tx {
	const char *idname;   /* lowercase id header name */
	uint8_t idname_len;
	uint8_t requests;     /* 1: a client's requests; 0: a server's responses */
	uint8_t st;
	uint8_t sub;
	uint8_t crlf;         /* the start line ended with CRLF (not bare LF) */
	uint8_t has_id;       /* the head carries the id header */
	uint8_t has_tp;       /* the head carries traceparent */
	uint8_t te_seen, te_chunked, cl_seen, cl_bad;
	uint8_t no_body;      /* set by the caller at HTTP_HEAD_END */
	uint8_t tunnel;       /* set by the caller: the stream ends after this head */
	uint16_t status;      /* responses: the status code */
	uint32_t head_len;
	uint64_t cl;
	struct http_body body;
	struct http_hdr h;
};

/* IDNAME is the lowercase header name (at most HTTP_NAME_MAX bytes) and
 * must outlive the parser. */
void http_rx_init(struct http_rx *p, const char *idname, size_t idname_len);

/* Feed N bytes.  Returns how many were consumed (all of them, except when
 * stopping at HTTP_REQ) and sets *EV.  After HTTP_PASS, HTTP_TOO_BIG or
 * HTTP_AMBIG every later feed consumes everything and reports HTTP_PASS.
 * HTTP_PASS: the bytes where a request line should start are not one (not
 * HTTP, or no longer); HTTP_AMBIG: an HTTP/1.x request whose head or body
 * another parser could read differently (the request is not reported). */
size_t http_rx_feed(struct http_rx *p, const char *buf, size_t n, int *ev);

void http_tx_init(struct http_tx *s, int requests, const char *idname, size_t idname_len);

/* Scan N bytes of the outgoing stream.  Returns how many were consumed and
 * sets *EV.  At HTTP_HEAD_END nothing of the blank line has been consumed;
 * the caller reads ->status/->has_id, may set ->no_body and ->tunnel, and
 * calls http_tx_scan again (the same position) to go on. */
size_t http_tx_scan(struct http_tx *s, const char *buf, size_t n, int *ev);

/* *D = *S, copying of the header buffers only what is in use (a scanner
 * between messages carries none). */
void http_tx_copy(struct http_tx *d, const struct http_tx *s);

/* 1 when the next byte scanned starts a new message (between messages). */
int http_tx_idle(const struct http_tx *s);

/* Account for N bytes of the outgoing stream that the scanner cannot see
 * (sent with sendfile).  Inside a body of known length they are counted;
 * anywhere else the scanner gives up.  Returns how many were accounted
 * (stopping at HTTP_DONE) and sets *EV. */
size_t http_tx_skip(struct http_tx *s, size_t n, int *ev);

/* 1 if V (N bytes) may serve as a request id: 1-200 of [A-Za-z0-9._:+/=-]. */
int http_id_valid(const char *v, size_t n);

/* Parse a W3C traceparent value; 1 and the parts (NUL-terminated) if valid. */
int http_traceparent_parse(const char *v, size_t n, char trace_id[33],
			   char span_id[17], char flags[3]);

/* 1 if NAME (N bytes) is a valid header field name (an RFC 9110 token). */
int http_token_valid(const char *name, size_t n);

#endif
