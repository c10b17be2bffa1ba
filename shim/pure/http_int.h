/*
 * http_int.h: what http_parse.c shares with the two machines, http_rx.c and
 * http_tx.c.  Internal to the pure parser; nothing here has state.
 */
#ifndef CTX_HTTP_INT_H
#define CTX_HTTP_INT_H

#include "http_parse.h"

enum { BODY_NONE, BODY_LEN, BODY_CHUNKED };
enum { W_NONE, W_ID, W_TP, W_CL, W_TE };   /* which wanted header */

extern const uint8_t http_tchar[256];     /* RFC 9110 tchar */

static inline int http_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Header lines. */
void http_hdr_begin(struct http_hdr *h, char c);
void http_hdr_classify(struct http_hdr *h, const char *idname, size_t idlen);
void http_hdr_val_add(struct http_hdr *h, const char *p, size_t n);
size_t http_hdr_val_trim(struct http_hdr *h);
void http_hdr_name_addn(struct http_hdr *h, const char *b, size_t k);
size_t http_hdr_line(struct http_hdr *h, const char *b, size_t lim, const char *idname,
		     size_t idlen);
void http_framing_cl(struct http_hdr *h, size_t n, uint8_t *seen, uint8_t *bad, uint64_t *cl);
void http_framing_te(struct http_hdr *h, size_t n, uint8_t *seen, uint8_t *chunked);

/* Runs of bytes are taken in one step (a header name, a value, a target):
 * each step takes at most the bytes left before the head reaches
 * HTTP_HEAD_MAX, so the limit falls on the same byte however the stream is
 * split. */
static inline size_t http_tchar_run(const char *b, size_t n)
{
	size_t k = 0;
	while (k < n && http_tchar[(uint8_t)b[k]])
		k++;
	return k;
}

static inline size_t http_ows_run(const char *b, size_t n)
{
	size_t k = 0;
	while (k < n && (b[k] == ' ' || b[k] == '\t'))
		k++;
	return k;
}

/* Bodies. */
void http_body_start(struct http_body *b, int kind, uint64_t len);
size_t http_body_skip(struct http_body *b, const char *buf, size_t n, int *done, int *bad);

#endif
