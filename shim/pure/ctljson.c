/*
 * ctljson.c: the JSON writer (see ctljson.h).
 */
#include "ctljson.h"

#include <stdlib.h>
#include <string.h>

void jb_init(struct jbuf *b, size_t limit)
{
	b->p = NULL;
	b->len = b->cap = 0;
	b->limit = limit;
	b->bad = 0;
}

void jb_free(struct jbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void jb_reset(struct jbuf *b)
{
	b->len = 0;
	b->bad = 0;
}

/* Room for N more bytes; 0 when there is none to be had. */
static int room(struct jbuf *b, size_t n)
{
	if (b->bad)
		return 0;
	if (n > b->limit || b->len > b->limit - n) {
		b->bad = 1;
		return 0;
	}
	if (n <= b->cap - b->len)
		return 1;
	size_t cap = b->cap ? b->cap : (b->limit < 256 ? b->limit : 256);
	while (cap - b->len < n)
		cap = cap > b->limit / 2 ? b->limit : cap * 2;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->bad = 1;
		return 0;
	}
	b->p = p;
	b->cap = cap;
	return 1;
}

void jb_raw(struct jbuf *b, const char *s, size_t n)
{
	if (n && room(b, n)) {
		memcpy(b->p + b->len, s, n);
		b->len += n;
	}
}

void jb_lit(struct jbuf *b, const char *s)
{
	jb_raw(b, s, strlen(s));
}

void jb_comma(struct jbuf *b)
{
	if (b->len && !b->bad) {
		char c = b->p[b->len - 1];
		if (c != '{' && c != '[' && c != ':')
			jb_raw(b, ",", 1);
	}
}

size_t jb_utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned min;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	unsigned cp = c & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static const char hex[] = "0123456789abcdef";

void jb_str(struct jbuf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	char esc[6] = { '\\', 'u', '0', '0', 0, 0 };
	jb_raw(b, "\"", 1);
	size_t i = 0;
	while (i < n && !b->bad) {
		size_t run = i;
		/* A run of bytes written as they are. */
		while (run < n && u[run] >= 0x20 && u[run] < 0x7f && u[run] != '"' &&
		       u[run] != '\\')
			run++;
		jb_raw(b, s + i, run - i);
		i = run;
		if (i == n)
			break;
		unsigned c = u[i];
		if (c == '"' || c == '\\') {
			char two[2] = { '\\', (char)c };
			jb_raw(b, two, 2);
			i++;
		} else if (c == '\n') {
			jb_raw(b, "\\n", 2);
			i++;
		} else if (c == '\t') {
			jb_raw(b, "\\t", 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			jb_raw(b, esc, 6);
			i++;
		} else {
			size_t l = jb_utf8_len(u + i, n - i);
			if (l) {
				jb_raw(b, s + i, l);
				i += l;
			} else {
				char sur[6] = { '\\', 'u', 'd', 'c', hex[c >> 4], hex[c & 15] };
				jb_raw(b, sur, 6);
				i++;
			}
		}
	}
	jb_raw(b, "\"", 1);
}

void jb_cstr(struct jbuf *b, const char *s)
{
	if (s)
		jb_str(b, s, strlen(s));
	else
		jb_raw(b, "null", 4);
}

void jb_uint(struct jbuf *b, uint64_t v)
{
	char d[24];
	size_t i = sizeof d;
	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	jb_raw(b, d + i, sizeof d - i);
}

void jb_int(struct jbuf *b, int64_t v)
{
	if (v < 0) {
		jb_raw(b, "-", 1);
		jb_uint(b, (uint64_t)0 - (uint64_t)v);
	} else {
		jb_uint(b, (uint64_t)v);
	}
}

void jb_key(struct jbuf *b, const char *key)
{
	jb_comma(b);
	jb_cstr(b, key);
	jb_raw(b, ":", 1);
}
