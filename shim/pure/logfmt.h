/*
 * logfmt.h: the byte-level pieces of a decorated log line, as pure functions
 * (no globals, no allocation, no locks: the write path may run in a signal
 * handler).  Escapers for each output style, UTF-8 checking, ISO 8601 time,
 * syslog level names and the glob matcher of the file: sink.
 */
#ifndef CTX_LOGFMT_H
#define CTX_LOGFMT_H

#include <stddef.h>
#include <stdint.h>

/* A bounded output buffer.  Bytes past CAP are counted in LEN but not
 * stored, so LEN > CAP means "did not fit" and a caller can roll back by
 * restoring an earlier LEN. */
struct lbuf {
	char *p;
	size_t cap;
	size_t len;
};

static inline void lb_init(struct lbuf *b, char *p, size_t cap)
{
	b->p = p;
	b->cap = cap;
	b->len = 0;
}

static inline void lb_put(struct lbuf *b, const char *s, size_t n)
{
	if (b->len < b->cap) {
		size_t room = b->cap - b->len;
		__builtin_memcpy(b->p + b->len, s, n < room ? n : room);
	}
	b->len += n;
}

static inline void lb_putc(struct lbuf *b, char c)
{
	if (b->len < b->cap)
		b->p[b->len] = c;
	b->len++;
}

static inline int lb_ok(const struct lbuf *b)
{
	return b->len <= b->cap;
}

/* Output styles.  LF_OTEL: one OpenTelemetry OTLP/JSON LogRecord per line
 * (logtpl.c); its message is escaped as LF_JSON's. */
enum { LF_TEXT = 0, LF_LOGFMT = 1, LF_JSON = 2, LF_OTEL = 3 };

/* Length of the valid UTF-8 sequence at S (1-4), or 0 if S[0..N) does not
 * start with one.  *TRUNC is set when the bytes are a valid but incomplete
 * start of a sequence cut by the end of the buffer. */
size_t lf_utf8_seq(const unsigned char *s, size_t n, int *trunc);

/* A context value in text style: C0 controls and DEL become \n, \r, \t or
 * \xNN, backslash \\, the C1 controls U+0080-U+009F and the line
 * separators U+2028/U+2029 \u0080 .. \u2029, and each byte that is not
 * valid UTF-8 \xNN (its value, 80-ff); everything else is copied.  A value
 * can never end a line nor reach a terminal as a control. */
void lf_text_value(struct lbuf *b, const char *s, size_t n);

/* A logfmt value: bare when it can be, else double-quoted with JSON's
 * escapes (lf_json_string).  Empty: nothing. */
void lf_logfmt_value(struct lbuf *b, const char *s, size_t n);

/* The inside of a JSON string: \" \\ \b \f \n \r \t, \u00XX for other C0
 * controls, DEL and the C1 controls U+0080-U+009F, \u2028/\u2029, and
 * \ufffd for each byte that is not valid UTF-8.  The output is ASCII and
 * valid UTF-8 whatever the input. */
void lf_json_string(struct lbuf *b, const char *s, size_t n);

/* An RFC 5424 PARAM-VALUE: '"', '\' and ']' backslash-escaped, C0 controls
 * and DEL as \xNN, C1 controls and U+2028/U+2029 as \u00XX/\u20XX, each
 * byte that is not valid UTF-8 as U+FFFD. */
void lf_sd_value(struct lbuf *b, const char *s, size_t n);

/* Escape message bytes for STYLE (LF_JSON or LF_LOGFMT, the inside of a
 * quoted string), streaming: whole escape units only, as many as fit in B,
 * the same escapes as lf_json_string.  A valid but incomplete UTF-8
 * sequence at the very end (1-3 bytes) is not consumed: *PEND is set to its
 * length (else 0) and the caller keeps it, to be escaped with what the next
 * piece brings (or as \ufffd if that does not complete it).  Never copies a
 * byte that is not part of a valid sequence.  Returns input bytes consumed. */
size_t lf_escape_msg(int style, const char *in, size_t n, unsigned *pend, struct lbuf *b);

/* "YYYY-MM-DDTHH:MM:SS.mmm" and "Z" (UTC) or "+hh:mm" for OFF_MIN minutes
 * east of UTC.  Writes at most 29 bytes plus a NUL; returns the length. */
size_t lf_iso8601(char *out, int64_t ms, int off_min, int utc);

/* Syslog levels 0 (emerg) .. 7 (debug). */
const char *lf_level_name(int level);
/* A level name (emerg alert crit error warning notice info debug, and the
 * aliases panic err warn critical) or digit, any case; -1 if not one. */
int lf_level_parse(const char *s);

/* 1 if S matches the shell glob PAT: '*' any bytes ('/' included), '?' one
 * byte, [abc] [a-z] [!a] classes, '\' quotes the next byte. */
int lf_glob(const char *pat, const char *s);

#endif
