/* test_ctljson.c: the control endpoint's JSON writer (shim/ctljson.c). */
#include "ctljson.h"
#include "unit.h"

/* The buffer as a C string (kept for the next EXPECT). */
static const char *text(struct jbuf *b)
{
	static char s[4096];
	snprintf(s, sizeof s, "%.*s", (int)b->len, b->p ? b->p : "");
	return s;
}

static const char *str(const char *in, size_t n)
{
	static struct jbuf b;
	jb_free(&b);
	jb_init(&b, 1 << 20);
	jb_str(&b, in, n);
	return text(&b);
}

int main(void)
{
	struct jbuf b;

	/* Plain, quotes, backslash, control bytes, DEL. */
	EXPECT_STR(str("abc", 3), "\"abc\"");
	EXPECT_STR(str("a\"b\\c", 5), "\"a\\\"b\\\\c\"");
	EXPECT_STR(str("l1\nl2\tx\001\x1f\x7f", 10), "\"l1\\nl2\\tx\\u0001\\u001f\\u007f\"");
	EXPECT_STR(str("", 0), "\"\"");
	/* Valid UTF-8 passes as is: 2, 3 and 4-byte sequences. */
	EXPECT_STR(str("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9),
		   "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
	/* Invalid bytes become \udcXX, one per byte: a lone continuation, a
	 * truncated sequence, an overlong form, a surrogate, 0xff. */
	EXPECT_STR(str("\x80", 1), "\"\\udc80\"");
	EXPECT_STR(str("a\xc3", 2), "\"a\\udcc3\"");
	EXPECT_STR(str("\xc0\xaf", 2), "\"\\udcc0\\udcaf\"");
	EXPECT_STR(str("\xed\xa0\x80", 3), "\"\\udced\\udca0\\udc80\"");
	EXPECT_STR(str("\xff" "z", 2), "\"\\udcffz\"");
	EXPECT_STR(str("\xf4\x90\x80\x80", 4), "\"\\udcf4\\udc90\\udc80\\udc80\"");
	EXPECT(jb_utf8_len((const unsigned char *)"\xe2\x82", 2) == 0);
	EXPECT(jb_utf8_len((const unsigned char *)"\xf4\x8f\xbf\xbf", 4) == 4);

	/* Members and commas. */
	jb_init(&b, 1 << 20);
	jb_lit(&b, "{");
	jb_key(&b, "a");
	jb_int(&b, -42);
	jb_key(&b, "b");
	jb_raw(&b, "[", 1);
	jb_comma(&b);
	jb_uint(&b, 18446744073709551615ull);
	jb_comma(&b);
	jb_int(&b, 0);
	jb_raw(&b, "]", 1);
	jb_key(&b, "c");
	jb_cstr(&b, NULL);
	jb_lit(&b, "}");
	EXPECT(!b.bad);
	EXPECT_STR(text(&b), "{\"a\":-42,\"b\":[18446744073709551615,0],\"c\":null}");
	jb_reset(&b);
	EXPECT(b.len == 0 && !b.bad);
	jb_int(&b, -9223372036854775807ll - 1);
	EXPECT_STR(text(&b), "-9223372036854775808");
	jb_free(&b);

	/* The limit: writing past it sets bad and stops; nothing half-written. */
	jb_init(&b, 8);
	jb_lit(&b, "12345");
	jb_lit(&b, "6789");
	EXPECT(b.bad);
	EXPECT(b.len == 5);
	jb_lit(&b, "x");
	EXPECT(b.len == 5);
	jb_free(&b);

	/* Growing well past the first allocation. */
	jb_init(&b, 1 << 20);
	for (int i = 0; i < 10000; i++)
		jb_lit(&b, "0123456789");
	EXPECT(!b.bad && b.len == 100000);
	jb_free(&b);

	UNIT_DONE("test_ctljson");
}
