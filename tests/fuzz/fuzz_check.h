/*
 * fuzz_check.h: checks shared by the log fuzz targets, written from the
 * formats' definitions (RFC 3629, RFC 8259, RFC 5424), not from the shim's
 * code, so that a shared mistake cannot hide.  Each returns 0 when the bytes
 * are well formed; a target calls abort() on failure.
 */
#ifndef FUZZ_CHECK_H
#define FUZZ_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FAIL() __builtin_trap()
#define CHECK(c) do { if (!(c)) FAIL(); } while (0)

/* Length of the well-formed UTF-8 sequence at S (RFC 3629 table 3-7), or 0. */
static inline size_t fc_utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t need;
	unsigned lo = 0x80, hi = 0xBF;
	if (c < 0x80)
		return 1;
	if (c < 0xC2 || c > 0xF4)
		return 0;
	need = c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
	if (c == 0xE0) lo = 0xA0;
	if (c == 0xED) hi = 0x9F;
	if (c == 0xF0) lo = 0x90;
	if (c == 0xF4) hi = 0x8F;
	if (n < need + 1)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i <= need; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return need + 1;
}

static inline int fc_utf8_valid(const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	for (size_t i = 0; i < n;) {
		size_t l = fc_utf8_len(s + i, n - i);
		if (!l)
			return 0;
		i += l;
	}
	return 1;
}

/* No raw C0 control byte (0x00-0x1F) and no DEL. */
static inline int fc_no_c0(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] == 0x7f)
			return 0;
	return 1;
}

/* No raw C1 control (U+0080-U+009F, encoded C2 80..C2 9F): a terminal
 * obeys U+009B as CSI, and some readers end a line at U+0085. */
static inline int fc_no_c1(const char *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		if ((unsigned char)p[i] == 0xC2 && (unsigned char)p[i + 1] <= 0x9F &&
		    (unsigned char)p[i + 1] >= 0x80)
			return 0;
	return 1;
}

/* No raw line separator a log reader may split on: U+0085, U+2028, U+2029. */
static inline int fc_no_linesep(const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	for (size_t i = 0; i + 1 < n; i++) {
		if (s[i] == 0xC2 && s[i + 1] == 0x85)
			return 0;
		if (i + 2 < n && s[i] == 0xE2 && s[i + 1] == 0x80 &&
		    (s[i + 2] == 0xA8 || s[i + 2] == 0xA9))
			return 0;
	}
	return 1;
}

static inline int fc_hex(unsigned char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static inline size_t fc_put_cp(char *o, unsigned cp)
{
	if (cp < 0x80) { o[0] = (char)cp; return 1; }
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | cp >> 6); o[1] = (char)(0x80 | (cp & 63));
		return 2;
	}
	o[0] = (char)(0xE0 | cp >> 12); o[1] = (char)(0x80 | ((cp >> 6) & 63));
	o[2] = (char)(0x80 | (cp & 63));
	return 3;
}

/* The inside of a JSON string (RFC 8259 section 7): no raw '"', '\' only
 * in a valid escape, no raw control.  Decodes it into OUT (room for N*3
 * bytes; \uXXXX of a surrogate is refused: the shim never writes one) and
 * returns the decoded length, or (size_t)-1 when malformed. */
static inline size_t fc_json_body(const char *p, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c == '"')
			return (size_t)-1;
		if (c != '\\') {
			out[o++] = (char)c;
			i++;
			continue;
		}
		if (i + 1 >= n)
			return (size_t)-1;
		char e = p[i + 1];
		const char *simple = strchr("\"\\/bfnrt", e);
		if (e && simple) {
			static const char to[] = "\"\\/\b\f\n\r\t";
			out[o++] = to[simple - "\"\\/bfnrt"];
			i += 2;
			continue;
		}
		if (e != 'u' || i + 6 > n)
			return (size_t)-1;
		unsigned cp = 0;
		for (int k = 2; k < 6; k++) {
			int h = fc_hex((unsigned char)p[i + k]);
			if (h < 0)
				return (size_t)-1;
			cp = cp << 4 | (unsigned)h;
		}
		if (cp >= 0xD800 && cp <= 0xDFFF)
			return (size_t)-1;
		o += fc_put_cp(out + o, cp);
		i += 6;
	}
	return o;
}

/* What an escaper that replaces invalid UTF-8 must preserve: IN with each
 * byte that does not start a well-formed sequence replaced by U+FFFD.
 * OUT needs room for N*3 bytes. */
static inline size_t fc_replace_invalid(const char *in, size_t n, char *out)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		size_t l = fc_utf8_len(s + i, n - i);
		if (l) {
			memcpy(out + o, in + i, l);
			o += l;
			i += l;
		} else {
			memcpy(out + o, "\xEF\xBF\xBD", 3);
			o += 3;
			i++;
		}
	}
	return o;
}

#endif
