/*
 * ctljson.h: a small JSON writer into a growing buffer, for the
 * control endpoint's answers.
 *
 * Strings may hold any bytes but NUL.  Valid UTF-8 is written as is; each
 * byte that is not part of valid UTF-8 becomes \udcXX (XX its value), the
 * "surrogateescape" convention Python decodes back to the same byte, so no
 * value is lost or changed in transit.
 *
 * Pure: no globals, no hooks.  Allocation failure or growing past the
 * buffer's limit sets `bad` and stops writing; check it once at the end.
 */
#ifndef CTX_PURE_CTLJSON_H
#define CTX_PURE_CTLJSON_H

#include <stddef.h>
#include <stdint.h>

struct jbuf {
	char *p;
	size_t len, cap;
	size_t limit;     /* never grow past this many bytes */
	int bad;          /* out of memory or over the limit */
};

void jb_init(struct jbuf *b, size_t limit);
void jb_free(struct jbuf *b);
/* Forget the contents (and any failure), keeping the memory. */
void jb_reset(struct jbuf *b);

void jb_raw(struct jbuf *b, const char *s, size_t n);
void jb_lit(struct jbuf *b, const char *s);          /* jb_raw of a C string */
/* A comma, unless the last byte written opens an object or array or ends a
 * key: lets a writer emit members without tracking which is first. */
void jb_comma(struct jbuf *b);
void jb_str(struct jbuf *b, const char *s, size_t n);  /* "escaped" */
void jb_cstr(struct jbuf *b, const char *s);           /* NULL: null */
void jb_int(struct jbuf *b, int64_t v);
void jb_uint(struct jbuf *b, uint64_t v);
/* ,"key": (comma as jb_comma) */
void jb_key(struct jbuf *b, const char *key);

/* The length of the longest valid UTF-8 sequence at S (N bytes left), 0
 * when S[0] does not start one (overlong forms and surrogates rejected). */
size_t jb_utf8_len(const unsigned char *s, size_t n);

#endif
