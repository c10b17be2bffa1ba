/* test_ctlreq.c: the control request parser (shim/ctlreq.c). */
#include "ctlreq.h"
#include "unit.h"

static struct ctl_req r;

static int parse(const char *s)
{
	return ctlreq_parse(s, strlen(s), &r);
}

int main(void)
{
	EXPECT(parse("info") == 0 && r.verb == CTL_INFO);
	EXPECT(parse("get") == 0 && r.verb == CTL_GET);
	EXPECT(parse("conns") == 0 && r.verb == CTL_CONNS);
	EXPECT(parse("threads") == 0 && r.verb == CTL_THREADS && !r.symbols);
	EXPECT(parse("threads symbols") == 0 && r.verb == CTL_THREADS && r.symbols);
	EXPECT(parse("  threads   symbols  ") == 0 && r.symbols);

	EXPECT(parse("set incident=INC-42") == 0 && r.verb == CTL_SET && r.count == 1);
	EXPECT_STR(r.arg, "incident=INC-42");
	EXPECT(parse("set a=1,b=x%20y,c=") == 0 && r.count == 3);
	EXPECT(parse("unset a b.c d-e") == 0 && r.verb == CTL_UNSET && r.count == 3);

	/* Refused, with a reason. */
	EXPECT(parse("") < 0 && r.err);
	EXPECT(parse("   ") < 0);
	EXPECT(parse("bogus") < 0);
	EXPECT(parse("info extra") < 0);
	EXPECT(parse("threads all") < 0);
	EXPECT(parse("threads symbols more") < 0);
	EXPECT(parse("set") < 0);
	EXPECT(parse("set bad key=1") < 0);
	EXPECT(parse("set a=1,b c=2") < 0);
	EXPECT(parse("set a=1,=2") < 0);          /* one bad member: nothing is set */
	EXPECT(parse("set a=%00") < 0);
	EXPECT(parse("set a=%zz") < 0);
	EXPECT(parse("unset") < 0);
	EXPECT(parse("unset a b=c") < 0);
	EXPECT(parse("INFO") < 0);
	EXPECT(parse("info\r") < 0);              /* not printable */
	EXPECT(parse("get\x80") < 0);
	EXPECT(ctlreq_parse("get\0x", 5, &r) < 0); /* a NUL inside */

	/* 65 members are over the limit; 64 fit. */
	char big[65536];
	size_t n = (size_t)snprintf(big, sizeof big, "set ");
	for (int i = 0; i < 65; i++)
		n += (size_t)snprintf(big + n, sizeof big - n, "%sk%d=v", i ? "," : "", i);
	EXPECT(parse(big) < 0);
	*strrchr(big, ',') = '\0';
	EXPECT(parse(big) == 0 && r.count == 64);

	/* A value over 4096 bytes decoded is malformed. */
	n = (size_t)snprintf(big, sizeof big, "set v=");
	memset(big + n, 'x', 4097);
	big[n + 4097] = '\0';
	EXPECT(parse(big) < 0);
	big[n + 4096] = '\0';
	EXPECT(parse(big) == 0);

	/* The length limit. */
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	EXPECT(ctlreq_parse(big, sizeof big - 1, &r) < 0);

	/* Words. */
	const char *p = "  one two  three", *w;
	size_t wl;
	int words = 0;
	while (ctlreq_word(&p, &w, &wl))
		words++;
	EXPECT(words == 3);

	UNIT_DONE("test_ctlreq");
}
