/* test_baggage.c: the W3C Baggage codec (shim/baggage.c). */
#include "baggage.h"
#include "map.h"
#include "unit.h"

struct got {
	char text[16384];
	int n;
};

static int collect(const char *k, size_t kl, const char *v, size_t vl, void *arg)
{
	struct got *g = arg;
	size_t len = strlen(g->text);
	snprintf(g->text + len, sizeof g->text - len, "%s[%.*s=%.*s]", g->n ? " " : "",
		 (int)kl, k, (int)vl, v);
	g->n++;
	return 0;
}

static const char *decode(const char *s, int *bad)
{
	static struct got g;
	memset(&g, 0, sizeof g);
	*bad = bag_decode(s, collect, &g);
	return g.text;
}

static int stop_first(const char *k, size_t kl, const char *v, size_t vl, void *arg)
{
	(void)k, (void)kl, (void)v, (void)vl;
	++*(int *)arg;
	return 1;
}

int main(void)
{
	int bad;

	EXPECT_STR(decode("a=1,b=2", &bad), "[a=1] [b=2]");
	EXPECT(bad == 0);
	EXPECT_STR(decode(NULL, &bad), "");
	EXPECT_STR(decode("", &bad), "");
	EXPECT(bad == 0);
	/* White space around members, keys and values is trimmed. */
	EXPECT_STR(decode("  a = 1 ,\tb=2\t", &bad), "[a=1] [b=2]");
	/* Properties are ignored. */
	EXPECT_STR(decode("a=1;p=2;flag,b=x", &bad), "[a=1] [b=x]");
	EXPECT(bad == 0);
	/* Percent-decoding, including UTF-8 and reserved characters. */
	EXPECT_STR(decode("p=%2Fapi%2Cv1%3B%3D%25%20%C3%A9", &bad), "[p=/api,v1;=% \xc3\xa9]");
	/* Empty members are not errors; an empty value is a value. */
	EXPECT_STR(decode("a=1,,  ,b=", &bad), "[a=1] [b=]");
	EXPECT(bad == 0);
	/* Malformed members are skipped and counted; the rest survive. */
	EXPECT_STR(decode("ok=1,bad key=2,x=%zz,=v,novalue,q=\"x\",n=%00,t=%4,ok2=2", &bad),
		   "[ok=1] [ok2=2]");
	EXPECT(bad == 7);
	/* Raw non-ASCII or spaces inside a value are not baggage octets. */
	EXPECT_STR(decode("a=b c,d=\xc3\xa9", &bad), "");
	EXPECT(bad == 2);
	/* Oversize values are refused. */
	static char big[CMAP_MAX_VALUE + 64];
	strcpy(big, "k=");
	memset(big + 2, 'v', CMAP_MAX_VALUE + 1);
	EXPECT_STR(decode(big, &bad), "");
	EXPECT(bad == 1);
	big[2 + CMAP_MAX_VALUE] = 0;
	decode(big, &bad);
	EXPECT(bad == 0);
	/* The callback can stop the walk. */
	int calls = 0;
	bag_decode("a=1,b=2,c=3", stop_first, &calls);
	EXPECT(calls == 1);

	/* Every byte value but NUL round-trips. */
	char all[256];
	for (int i = 1; i < 256; i++)
		all[i - 1] = (char)i;
	all[255] = 0;
	char enc[2048];
	size_t n = bag_encode_member(enc, sizeof enc, "v", 1, all, 255);
	EXPECT(n < sizeof enc);
	enc[n] = 0;
	struct got g;
	memset(&g, 0, sizeof g);
	EXPECT(bag_decode(enc, collect, &g) == 0);
	EXPECT(g.n == 1);
	EXPECT(memcmp(g.text + 3, all, 255) == 0);
	/* The encoding holds no separator or white space. */
	EXPECT(strpbrk(enc + 2, ",; \t\"\\=") == NULL);

	/* Encoding measures without writing when it does not fit. */
	char small[4] = "xyz";
	EXPECT(bag_encode_member(small, 3, "key", 3, "v", 1) == 5);
	EXPECT_STR(small, "xyz");

	/* The writer drops whole members past the limits. */
	char buf[BAG_MAX_BYTES + 1];
	struct bag_writer w;
	bag_writer_init(&w, buf, sizeof buf);
	EXPECT(bag_writer_add(&w, "a", 1, "1", 1) == 0);
	EXPECT(bag_writer_add(&w, "b", 1, "x y", 3) == 0);
	EXPECT_STR(buf, "a=1,b=x%20y");
	char val[5000];
	memset(val, 'v', sizeof val);
	EXPECT(bag_writer_add(&w, "huge", 4, val, sizeof val) == 0);   /* 5005 bytes fit */
	EXPECT(bag_writer_add(&w, "more", 4, val, 4000) == -1);        /* would pass 8192 */
	EXPECT(bag_writer_add(&w, "c", 1, "3", 1) == 0);               /* a small one still fits */
	EXPECT(w.len <= BAG_MAX_BYTES && strlen(buf) == w.len);
	EXPECT(w.dropped == 1);
	bag_writer_init(&w, buf, sizeof buf);
	char k[16];
	for (int i = 0; i < 70; i++) {
		snprintf(k, sizeof k, "k%d", i);
		bag_writer_add(&w, k, strlen(k), "v", 1);
	}
	EXPECT(w.members == BAG_MAX_MEMBERS && w.dropped == 6);
	/* A small buffer: members that do not fit are dropped, never cut. */
	char tiny[8];
	bag_writer_init(&w, tiny, sizeof tiny);
	EXPECT(bag_writer_add(&w, "a", 1, "12345", 5) == 0);
	EXPECT(bag_writer_add(&w, "b", 1, "1", 1) == -1);
	EXPECT_STR(tiny, "a=12345");

	UNIT_DONE("baggage");
}
