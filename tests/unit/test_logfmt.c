/* Unit tests of pure_logfmt.c: escapers, UTF-8, time stamps, levels, globs. */
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
	ESC(lf_text_value, "bad\xff", "bad\xff");
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
		pend = 0;
		lb_init(&b, part, sizeof part);
		CHECK(lf_escape_msg(LF_JSON, in, cut, &pend, &b) == cut);
		CHECK(lf_escape_msg(LF_JSON, in + cut, n - cut, &pend, &b) == n - cut);
		if (b.len != wlen || memcmp(part, whole, wlen)) {
			fprintf(stderr, "stream cut at %zu differs\n", cut);
			unit_failed++;
		}
	}
	/* three pieces: a 3- or 4-byte sequence cut twice still comes out
	 * whole (the middle piece holds only continuation bytes) */
	for (size_t c1 = 0; c1 <= n; c1++) {
		for (size_t c2 = c1; c2 <= n; c2++) {
			pend = 0;
			lb_init(&b, part, sizeof part);
			CHECK(lf_escape_msg(LF_JSON, in, c1, &pend, &b) == c1);
			CHECK(lf_escape_msg(LF_JSON, in + c1, c2 - c1, &pend, &b) == c2 - c1);
			CHECK(lf_escape_msg(LF_JSON, in + c2, n - c2, &pend, &b) == n - c2);
			if (b.len != wlen || memcmp(part, whole, wlen)) {
				fprintf(stderr, "stream cut at %zu and %zu differs\n", c1, c2);
				unit_failed++;
			}
		}
	}
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
	test_time();
	test_levels();
	test_glob();
	UNIT_DONE("logfmt");
}
