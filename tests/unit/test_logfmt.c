/* Unit tests of logfmt.c: escapers, UTF-8, time stamps, levels, globs. */
#include "logfmt.h"

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond) EXPECT(cond)

typedef void (*esc_fn)(struct lbuf *, const char *, size_t);

/* Render S (N bytes) with FN and compare with WANT. */
static void expect(esc_fn fn, const char *s, size_t n, const char *want, int line)
{
	char out[512];
	struct lbuf b;
	lb_init(&b, out, sizeof out);
	fn(&b, s, n);
	if (!lb_ok(&b) || b.len != strlen(want) || memcmp(out, want, b.len)) {
		fprintf(stderr, "line %d: got [%.*s] want [%s]\n", line,
			(int)(b.len < sizeof out ? b.len : sizeof out), out, want);
		unit_failed++;
	}
	unit_run++;
}
#define ESC(fn, lit, want) expect(fn, lit, sizeof(lit) - 1, want, __LINE__)

static void test_utf8(void)
{
	int t;
	CHECK(lf_utf8_seq((const unsigned char *)"a", 1, &t) == 1);
	CHECK(lf_utf8_seq((const unsigned char *)"\xc3\xa9", 2, &t) == 2);
	CHECK(lf_utf8_seq((const unsigned char *)"\xe2\x82\xac", 3, &t) == 3);
	CHECK(lf_utf8_seq((const unsigned char *)"\xf0\x9f\x98\x80", 4, &t) == 4);
	CHECK(lf_utf8_seq((const unsigned char *)"\xc0\x80", 2, &t) == 0);      /* overlong */
	CHECK(lf_utf8_seq((const unsigned char *)"\xe0\x80\x80", 3, &t) == 0);  /* overlong */
	CHECK(lf_utf8_seq((const unsigned char *)"\xed\xa0\x80", 3, &t) == 0);  /* surrogate */
	CHECK(lf_utf8_seq((const unsigned char *)"\xf4\x90\x80\x80", 4, &t) == 0);
	CHECK(lf_utf8_seq((const unsigned char *)"\x80", 1, &t) == 0 && !t);
	CHECK(lf_utf8_seq((const unsigned char *)"\xe2\x82", 2, &t) == 0 && t);
	CHECK(lf_utf8_seq((const unsigned char *)"\xe2\x41", 2, &t) == 0 && !t);
}

static void test_text(void)
{
	ESC(lf_text_value, "abc", "abc");
	ESC(lf_text_value, "a\nb", "a\\nb");
	ESC(lf_text_value, "a\r\n\t\x1b[31m", "a\\r\\n\\t\\x1b[31m");
	ESC(lf_text_value, "back\\slash", "back\\\\slash");
	ESC(lf_text_value, "del\x7f", "del\\x7f");
	ESC(lf_text_value, "caf\xc3\xa9", "caf\xc3\xa9");
	ESC(lf_text_value, "ls\xe2\x80\xa8x", "ls\\u2028x");
	ESC(lf_text_value, "nel\xc2\x85x", "nel\\u0085x");
	/* C1 controls as code points, bytes that are not UTF-8 as bytes */
	ESC(lf_text_value, "csi\xc2\x9b[31m", "csi\\u009b[31m");
	ESC(lf_text_value, "\xc2\x80\xc2\x9f\xc2\xa0", "\\u0080\\u009f\xc2\xa0");
	ESC(lf_text_value, "bad\xff", "bad\\xff");
	ESC(lf_text_value, "\x9b[2J", "\\x9b[2J");
	ESC(lf_text_value, "cut\xe2\x82", "cut\\xe2\\x82");
	ESC(lf_text_value, "\xc0\x80", "\\xc0\\x80");   /* overlong NUL */
	ESC(lf_text_value, "", "");
}

static void test_logfmt(void)
{
	ESC(lf_logfmt_value, "abc-123", "abc-123");
	ESC(lf_logfmt_value, "", "");
	ESC(lf_logfmt_value, "a b", "\"a b\"");
	ESC(lf_logfmt_value, "a=b", "\"a=b\"");
	ESC(lf_logfmt_value, "say \"hi\"", "\"say \\\"hi\\\"\"");
	ESC(lf_logfmt_value, "x\ny", "\"x\\ny\"");
	ESC(lf_logfmt_value, "a\\b", "\"a\\\\b\"");
	ESC(lf_logfmt_value, "\xff", "\"\\ufffd\"");
	ESC(lf_logfmt_value, "caf\xc3\xa9", "\"caf\xc3\xa9\"");
	ESC(lf_logfmt_value, "\xc2\x9b[1m", "\"\\u009b[1m\"");
	ESC(lf_logfmt_value, "\x9b", "\"\\ufffd\"");
}

static void test_json(void)
{
	ESC(lf_json_string, "plain", "plain");
	ESC(lf_json_string, "q\"b\\", "q\\\"b\\\\");
	ESC(lf_json_string, "\b\f\n\r\t", "\\b\\f\\n\\r\\t");
	ESC(lf_json_string, "\x01\x1f\x7f", "\\u0001\\u001f\\u007f");
	ESC(lf_json_string, "\xc3\xa9\xe2\x82\xac", "\xc3\xa9\xe2\x82\xac");
	ESC(lf_json_string, "a\xff\xfe" "b", "a\\ufffd\\ufffdb");
	ESC(lf_json_string, "\xe2\x82", "\\ufffd\\ufffd");         /* cut at the end */
	ESC(lf_json_string, "\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd");
	ESC(lf_json_string, "\xe2\x80\xa9", "\\u2029");
	ESC(lf_json_string, "\xc2\x9b[2J", "\\u009b[2J");
	ESC(lf_json_string, "\xc2\x80\xc2\x85\xc2\x9f\xc2\xa0", "\\u0080\\u0085\\u009f\xc2\xa0");
	ESC(lf_json_string, "\x9b", "\\ufffd");
	/* a NUL inside a counted string */
	expect(lf_json_string, "a\0b", 3, "a\\u0000b", __LINE__);
}

static void test_sd(void)
{
	ESC(lf_sd_value, "abc", "abc");
	ESC(lf_sd_value, "a\"b\\c]d", "a\\\"b\\\\c\\]d");
	ESC(lf_sd_value, "x\ny", "x\\x0ay");
	ESC(lf_sd_value, "bad\xff", "bad\xef\xbf\xbd");
	ESC(lf_sd_value, "[ok]", "[ok\\]");
	ESC(lf_sd_value, "csi\xc2\x9b[31m", "csi\\u009b[31m");
	ESC(lf_sd_value, "\xc2\x85\xe2\x80\xa8", "\\u0085\\u2028");
	ESC(lf_sd_value, "\x9b", "\xef\xbf\xbd");
}

/* 1 when OUT is valid UTF-8 holding no C0, DEL or C1 control: what every
 * escaper must produce from any bytes. */
static int clean(const char *out, size_t n)
{
	const unsigned char *s = (const unsigned char *)out;
	for (size_t i = 0; i < n;) {
		int t;
		size_t len = lf_utf8_seq(s + i, n - i, &t);
		if (!len || s[i] < 0x20 || s[i] == 0x7f || (s[i] == 0xc2 && s[i + 1] <= 0x9f))
			return 0;
		i += len;
	}
	return 1;
}

/* Random bytes, biased towards controls, C1 and cut sequences, through
 * every escaper. */
static void test_property(void)
{
	static const esc_fn fns[] = { lf_text_value, lf_logfmt_value, lf_json_string,
				      lf_sd_value };
	static const unsigned char pick[] = { 0x00, 0x1b, '\n', '"', '\\', ']', 0x7f, 0x80,
					      0x9b, 0xbf, 0xc0, 0xc2, 0xc3, 0xe2, 0xed,
					      0xf0, 0xf4, 0xff, 'a', ' ', '=' };
	unsigned long x = 12345;
	int bad = 0;
	for (int round = 0; round < 20000; round++) {
		unsigned char in[24];
		size_t n = (size_t)(round % 24);
		for (size_t i = 0; i < n; i++) {
			x = x * 6364136223846793005ul + 1442695040888963407ul;
			in[i] = (x >> 40) & 1 ? pick[(x >> 48) % sizeof pick] : (unsigned char)(x >> 56);
		}
		for (size_t f = 0; f < sizeof fns / sizeof fns[0]; f++) {
			char out[256];
			struct lbuf b;
			lb_init(&b, out, sizeof out);
			fns[f](&b, (const char *)in, n);
			if (!lb_ok(&b) || !clean(out, b.len))
				bad++;
		}
		/* the streaming escaper: what it consumes comes out clean, and
		 * what it leaves is an incomplete sequence at the very end */
		char out[256];
		struct lbuf b;
		unsigned pend = 9;
		lb_init(&b, out, sizeof out);
		size_t used = lf_escape_msg(LF_JSON, (const char *)in, n, &pend, &b);
		int t;
		if (!clean(out, b.len) || used + pend != n ||
		    (pend && (pend > 3 || lf_utf8_seq(in + used, pend, &t) || !t)))
			bad++;
	}
	CHECK(bad == 0);
}

/* Escape IN in pieces cut at every position: the result must not depend on
 * where the pieces were cut. */
static void test_stream(void)
{
	const char *in = "h\xc3\xa9llo \"w\xe2\x82\xac rld\"\n\x01\xff\xf0\x9f\x98\x80!";
	size_t n = strlen(in);
	char whole[256], part[256];
	struct lbuf b;
	unsigned pend = 0;

	lb_init(&b, whole, sizeof whole);
	CHECK(lf_escape_msg(LF_JSON, in, n, &pend, &b) == n);
	CHECK(pend == 0);
	size_t wlen = b.len;
	CHECK(memcmp(whole, "h\xc3\xa9llo \\\"w\xe2\x82\xac rld\\\"\\n\\u0001\\ufffd\xf0\x9f\x98\x80!",
		     wlen) == 0);
	for (size_t cut = 0; cut <= n; cut++) {
		/* what the first piece leaves (a cut sequence) goes again with
		 * the second, as the line engine does */
		pend = 9;
		lb_init(&b, part, sizeof part);
		size_t used = lf_escape_msg(LF_JSON, in, cut, &pend, &b);
		CHECK(used + pend == cut);
		CHECK(lf_escape_msg(LF_JSON, in + used, n - used, &pend, &b) == n - used);
		CHECK(pend == 0);
		if (b.len != wlen || memcmp(part, whole, wlen)) {
			fprintf(stderr, "stream cut at %zu differs\n", cut);
			unit_failed++;
		}
	}
	/* a cut sequence is never copied: it waits */
	lb_init(&b, part, sizeof part);
	CHECK(lf_escape_msg(LF_JSON, "ab\xe2\x82", 4, &pend, &b) == 2 && pend == 2 && b.len == 2);
	CHECK(lf_escape_msg(LF_JSON, "\xf0", 1, &pend, &b) == 0 && pend == 1);
	CHECK(lf_escape_msg(LF_JSON, "\xe2\x41", 2, &pend, &b) == 2 && pend == 0);
	CHECK(b.len == 9 && !memcmp(part, "ab\\ufffdA", 9));
	/* a small buffer takes whole units only, and the rest follows */
	for (size_t cap = 1; cap < wlen; cap++) {
		char small[256];
		size_t done = 0, total = 0;
		pend = 0;
		while (done < n) {
			lb_init(&b, small, cap);
			size_t used = lf_escape_msg(LF_JSON, in + done, n - done, &pend, &b);
			CHECK(lb_ok(&b));
			if (used == 0 && b.len == 0)
				break;    /* a unit longer than CAP: never here for cap >= 6 */
			CHECK(memcmp(small, whole + total, b.len) == 0);
			total += b.len;
			done += used;
		}
		if (cap >= 6)
			CHECK(done == n && total == wlen);
	}
}

static void test_time(void)
{
	char t[32];
	lf_iso8601(t, 0, 0, 1);
	CHECK(!strcmp(t, "1970-01-01T00:00:00.000Z"));
	lf_iso8601(t, 1709210096789LL, 0, 1);       /* a leap day */
	CHECK(!strcmp(t, "2024-02-29T12:34:56.789Z"));
	lf_iso8601(t, 1709210096789LL, 120, 0);
	CHECK(!strcmp(t, "2024-02-29T14:34:56.789+02:00"));
	lf_iso8601(t, 1709210096789LL, -330, 0);
	CHECK(!strcmp(t, "2024-02-29T07:04:56.789-05:30"));
	lf_iso8601(t, -1, 0, 1);
	CHECK(!strcmp(t, "1969-12-31T23:59:59.999Z"));
	lf_iso8601(t, 4102444800000LL, 0, 1);
	CHECK(!strcmp(t, "2100-01-01T00:00:00.000Z"));
	CHECK(lf_iso8601(t, 951782400000LL, 0, 1) == 24);  /* 2000-02-29 */
	CHECK(!strcmp(t, "2000-02-29T00:00:00.000Z"));
}

static void test_levels(void)
{
	CHECK(!strcmp(lf_level_name(0), "emerg"));
	CHECK(!strcmp(lf_level_name(3), "error"));
	CHECK(!strcmp(lf_level_name(7), "debug"));
	CHECK(lf_level_parse("info") == 6);
	CHECK(lf_level_parse("WARNING") == 4);
	CHECK(lf_level_parse("warn") == 4);
	CHECK(lf_level_parse("err") == 3);
	CHECK(lf_level_parse("5") == 5);
	CHECK(lf_level_parse("8") == -1);
	CHECK(lf_level_parse("loud") == -1);
	CHECK(lf_level_parse("") == -1);
	CHECK(lf_level_parse(NULL) == -1);
}

static void test_glob(void)
{
	CHECK(lf_glob("/var/log/*.log", "/var/log/access.log"));
	CHECK(lf_glob("/var/log/*.log", "/var/log/nginx/access.log"));  /* '*' takes '/' */
	CHECK(!lf_glob("/var/log/*.log", "/var/log/access.log.1"));
	CHECK(lf_glob("*", ""));
	CHECK(!lf_glob("?", ""));
	CHECK(lf_glob("a?c", "abc"));
	CHECK(lf_glob("*a*b*c*", "xxaxxbxxcxx"));
	CHECK(!lf_glob("*a*b*c*", "xxaxxcxxbxx"));
	CHECK(lf_glob("[ab]x", "bx"));
	CHECK(!lf_glob("[!ab]x", "bx"));
	CHECK(lf_glob("[a-c]", "b"));
	CHECK(!lf_glob("[a-c]", "d"));
	CHECK(lf_glob("[]]", "]"));
	CHECK(lf_glob("\\*", "*"));
	CHECK(!lf_glob("\\*", "x"));
	CHECK(lf_glob("[", "["));
	CHECK(lf_glob("/tmp/x/**/e.log", "/tmp/x/a/b/e.log"));
	CHECK(!lf_glob(NULL, "x"));
	CHECK(lf_glob("*.log", "error.log"));
	CHECK(!lf_glob("*.log", "error.txt"));
}

int main(void)
{
	test_utf8();
	test_text();
	test_logfmt();
	test_json();
	test_sd();
	test_stream();
	test_property();
	test_time();
	test_levels();
	test_glob();
	UNIT_DONE("logfmt");
}
