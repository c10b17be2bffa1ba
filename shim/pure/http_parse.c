/*
 * http_parse.c: what the HTTP/1.x machines share (see http_parse.h): token
 * and id checks, traceparent, header lines, body framing.  The machines are
 * http_rx.c (requests a server reads) and http_tx.c (messages a program
 * writes).
 *
 * Both machines move byte by byte through the start line and header lines,
 * and jump over runs they do not need (a header value nobody wants, body
 * bytes) with memchr or a count, so a typical head costs a few hundred
 * cheap steps and a body almost nothing.  Every state change is driven by
 * the byte at hand; no state ever looks back, so a split at any byte gives
 * the same result as one whole buffer.
 */
#include "http_int.h"

#include <stddef.h>
#include <string.h>

/* Chunked body sub-states.  The framing is taken strictly (RFC 9112 7.1):
 * every line ends with CRLF, a size is followed only by CR or by optional
 * whitespace and ";" extensions, a trailer line starts with a name.  A body
 * that bends any of this is one that another parser may end elsewhere, so
 * it is reported broken rather than guessed at. */
enum {
	C_SIZE, C_BWS, C_EXT, C_SIZE_CR, C_DATA, C_DATA_END, C_DATA_CR,
	C_TRAILER, C_TRAILER_LINE, C_TRAILER_LCR, C_TRAILER_CR,
};

#define CHUNK_LINE_MAX 4096

/* RFC 9110 tchar. */
const uint8_t http_tchar[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
	['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
	['`'] = 1, ['|'] = 1, ['~'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
};

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = http_lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int http_token_valid(const char *name, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!http_tchar[(uint8_t)name[i]])
			return 0;
	return 1;
}

int http_id_valid(const char *v, size_t n)
{
	if (n == 0 || n > HTTP_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
		      c == '+' || c == '/' || c == '=' || c == '-'))
			return 0;
	}
	return 1;
}

/* N lowercase hex digits, not all zero. */
static int lowhex(const char *v, size_t n)
{
	int nonzero = 0;
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
		nonzero |= c != '0';
	}
	return nonzero;
}

int http_traceparent_parse(const char *v, size_t n, char trace_id[33],
			   char span_id[17], char flags[3])
{
	/* version "-" trace-id(32) "-" parent-id(16) "-" flags(2): 55 bytes.
	 * Version 00 is exactly that; a later version may append "-" fields. */
	if (n < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-')
		return 0;
	if (hexval(v[0]) < 0 || hexval(v[1]) < 0 || http_lower(v[0]) != v[0] ||
	    http_lower(v[1]) != v[1] || (v[0] == 'f' && v[1] == 'f'))
		return 0;
	if (v[0] == '0' && v[1] == '0' ? n != 55 : (n > 55 && v[55] != '-'))
		return 0;
	if (!lowhex(v + 3, 32) || !lowhex(v + 36, 16))
		return 0;
	if (hexval(v[53]) < 0 || hexval(v[54]) < 0 || http_lower(v[53]) != v[53] ||
	    http_lower(v[54]) != v[54])
		return 0;
	memcpy(trace_id, v + 3, 32);
	trace_id[32] = '\0';
	memcpy(span_id, v + 36, 16);
	span_id[16] = '\0';
	flags[0] = v[53];
	flags[1] = v[54];
	flags[2] = '\0';
	return 1;
}

/* ---- headers, shared by both machines --------------------------------- */

void http_hdr_begin(struct http_hdr *h, char c)
{
	h->name[0] = (char)http_lower(c);
	h->nlen = 1;
	h->vlen = 0;
	h->over = 0;
	h->which = W_NONE;
}

static int name_is(const struct http_hdr *h, const char *lit, size_t n)
{
	return h->nlen == n && memcmp(h->name, lit, n) == 0;
}

/* Which wanted header the name just read is.  TP_WANTED: traceparent too. */
void http_hdr_classify(struct http_hdr *h, const char *idname, size_t idlen)
{
	if (h->nlen > HTTP_NAME_MAX)
		h->which = W_NONE;
	else if (name_is(h, idname, idlen))
		h->which = W_ID;
	else if (name_is(h, "traceparent", 11))
		h->which = W_TP;
	else if (name_is(h, "content-length", 14))
		h->which = W_CL;
	else if (name_is(h, "transfer-encoding", 17))
		h->which = W_TE;
	else
		h->which = W_NONE;
}

void http_hdr_val_add(struct http_hdr *h, const char *p, size_t n)
{
	size_t room = HTTP_VAL_MAX - h->vlen;
	if (n > room) {
		n = room;
		h->over = 1;
	}
	memcpy(h->val + h->vlen, p, n);
	h->vlen = (uint16_t)(h->vlen + n);
}

/* The value without surrounding spaces and tabs and the CR before LF. */
size_t http_hdr_val_trim(struct http_hdr *h)
{
	size_t n = h->vlen;
	if (n && h->val[n - 1] == '\r')
		n--;
	while (n && (h->val[n - 1] == ' ' || h->val[n - 1] == '\t'))
		n--;
	h->val[n] = '\0';
	return n;
}

/* Content-Length: 1-18 digits, in one header.  A second Content-Length
 * header is taken as bad even when it repeats the value (RFC 9110 allows a
 * recipient to merge identical ones; the safe rule is to follow neither). */
void http_framing_cl(struct http_hdr *h, size_t n, uint8_t *seen, uint8_t *bad, uint64_t *cl)
{
	uint64_t v = 0;
	if (*seen || h->over || n == 0 || n > 18) {
		*bad = 1;
		*seen = 1;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (h->val[i] < '0' || h->val[i] > '9') {
			*bad = 1;
			break;
		}
		v = v * 10 + (uint64_t)(h->val[i] - '0');
	}
	*seen = 1;
	*cl = v;
}

/* Transfer-Encoding: chunked when it is the last coding of the last header. */
void http_framing_te(struct http_hdr *h, size_t n, uint8_t *seen, uint8_t *chunked)
{
	size_t i = n;
	*seen = 1;
	*chunked = 0;
	if (h->over)
		return;
	while (i && h->val[i - 1] != ',')
		i--;
	while (i < n && (h->val[i] == ' ' || h->val[i] == '\t'))
		i++;
	if (n - i == 7) {
		char w[7];
		for (size_t k = 0; k < 7; k++)
			w[k] = (char)http_lower(h->val[i + k]);
		*chunked = memcmp(w, "chunked", 7) == 0;
	}
}

/* ---- bodies ------------------------------------------------------------ */

void http_body_start(struct http_body *b, int kind, uint64_t len)
{
	b->kind = (uint8_t)kind;
	b->st = C_SIZE;
	b->linelen = 0;
	b->left = kind == BODY_LEN ? len : 0;
}

/* Skip body bytes.  Returns bytes consumed; *done when the body ended,
 * *bad when the chunked framing is broken. */
size_t http_body_skip(struct http_body *b, const char *buf, size_t n, int *done, int *bad)
{
	size_t i = 0;
	*done = *bad = 0;
	if (b->kind == BODY_LEN) {
		size_t k = b->left < n ? (size_t)b->left : n;
		b->left -= k;
		*done = b->left == 0;
		return k;
	}
	while (i < n) {
		char c = buf[i];
		switch (b->st) {
		case C_SIZE: {
			int h = hexval(c);
			if (h >= 0) {
				if (++b->linelen > 15) {
					*bad = 1;
					return i;
				}
				b->left = b->left * 16 + (uint64_t)h;
				i++;
				break;
			}
			if (b->linelen == 0) {
				*bad = 1;
				return i;
			}
			if (c == ';') {
				b->st = C_EXT;
			} else if (c == ' ' || c == '\t') {
				b->st = C_BWS;
			} else if (c == '\r') {
				b->st = C_SIZE_CR;
			} else {
				*bad = 1;
				return i;
			}
			i++;
			break;
		}
		case C_BWS:
			/* Whitespace after the size only ever leads to ";". */
			if (c == ';') {
				b->st = C_EXT;
			} else if (c != ' ' && c != '\t') {
				*bad = 1;
				return i;
			}
			if (++b->linelen > CHUNK_LINE_MAX) {
				*bad = 1;
				return i;
			}
			i++;
			break;
		case C_EXT: {
			/* Extensions up to the CR: visible bytes, spaces, tabs. */
			size_t k = i;
			while (k < n && ((unsigned char)buf[k] >= 0x20 || buf[k] == '\t') &&
			       buf[k] != 0x7f)
				k++;
			if (b->linelen + (k - i) > CHUNK_LINE_MAX) {
				*bad = 1;
				return i;
			}
			b->linelen = (uint16_t)(b->linelen + (k - i));
			i = k;
			if (i < n) {
				if (buf[i] != '\r') {
					*bad = 1;
					return i;
				}
				b->st = C_SIZE_CR;
				i++;
			}
			break;
		}
		case C_SIZE_CR:
			if (c != '\n') {
				*bad = 1;
				return i;
			}
			i++;
			b->linelen = 0;
			b->st = b->left ? C_DATA : C_TRAILER;
			break;
		case C_DATA: {
			size_t k = b->left < n - i ? (size_t)b->left : n - i;
			b->left -= k;
			i += k;
			if (b->left == 0)
				b->st = C_DATA_END;
			break;
		}
		case C_DATA_END:
			if (c != '\r') {
				*bad = 1;
				return i;
			}
			b->st = C_DATA_CR;
			i++;
			break;
		case C_DATA_CR:
			if (c != '\n') {
				*bad = 1;
				return i;
			}
			i++;
			b->st = C_SIZE;
			b->linelen = 0;
			break;
		case C_TRAILER:
			if (c == '\r') {
				b->st = C_TRAILER_CR;
				i++;
			} else if (http_tchar[(uint8_t)c]) {
				b->st = C_TRAILER_LINE;
				b->linelen = 0;
			} else {
				*bad = 1;     /* a bare LF, a folded or nameless line */
				return i;
			}
			break;
		case C_TRAILER_LINE: {
			size_t k = i;
			while (k < n && buf[k] != '\r' && buf[k] != '\n')
				k++;
			if (b->linelen + (k - i) > CHUNK_LINE_MAX) {
				*bad = 1;
				return i;
			}
			b->linelen = (uint16_t)(b->linelen + (k - i));
			i = k;
			if (i < n) {
				if (buf[i] != '\r') {
					*bad = 1;
					return i;
				}
				b->st = C_TRAILER_LCR;
				i++;
			}
			break;
		}
		case C_TRAILER_LCR:
			if (c != '\n') {
				*bad = 1;
				return i;
			}
			b->st = C_TRAILER;
			i++;
			break;
		case C_TRAILER_CR:
			if (c != '\n') {
				*bad = 1;
				return i;
			}
			*done = 1;
			return i + 1;
		}
	}
	return i;
}

void http_hdr_name_addn(struct http_hdr *h, const char *b, size_t k)
{
	for (size_t i = 0; i < k && h->nlen <= HTTP_NAME_MAX; i++) {
		if (h->nlen < HTTP_NAME_MAX)
			h->name[h->nlen] = (char)http_lower(b[i]);
		h->nlen++;
	}
}

/* A whole "name: value" line at B (which starts with a tchar) within LIM
 * bytes, in one step: its length up to and including the LF, with H set up
 * as the byte-by-byte states would leave it; 0 when the line is not all
 * there or not plain (those take the slow states, with the same result). */
size_t http_hdr_line(struct http_hdr *h, const char *b, size_t lim, const char *idname,
		       size_t idlen)
{
	size_t k = http_tchar_run(b, lim);
	if (k == lim || b[k] != ':')
		return 0;
	const char *lf = memchr(b + k + 1, '\n', lim - k - 1);
	if (!lf)
		return 0;
	h->nlen = h->vlen = 0;
	h->over = 0;
	h->which = W_NONE;
	/* Only a name as long as a wanted one is worth copying. */
	if (k == idlen || k == 11 || k == 14 || k == 17) {
		http_hdr_name_addn(h, b, k);
		http_hdr_classify(h, idname, idlen);
	} else {
		h->nlen = (uint16_t)(k > HTTP_NAME_MAX ? HTTP_NAME_MAX + 1 : k);
	}
	if (h->which) {
		const char *v = b + k + 1;
		size_t vn = (size_t)(lf - v);
		size_t sp = http_ows_run(v, vn);
		http_hdr_val_add(h, v + sp, vn - sp);
	}
	return (size_t)(lf - b) + 1;
}

