/* test_hpack.c: the HPACK decoder against RFC 7541 Appendix C, its errors
 * and caps, and the literal encoder (shim/pure/hpack.c). */
#include "hpack.h"
#include "unit.h"

#include <stdint.h>

#include "hpack_vectors.h"

static struct hpack_dec dec;  /* ~100 KiB: not on the stack */
static char got[4096];
static size_t got_len;

static void collect(void *arg, const char *n, size_t nl, const char *v, size_t vl, int never)
{
	(void)arg;
	got_len += (size_t)snprintf(got + got_len, sizeof got - got_len, "%s%.*s: %.*s\n",
				    never ? "!" : "", (int)nl, n, (int)vl, v);
}

/* hex with spaces, as the RFC prints it */
static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = 0;
	int hi = -1;
	for (; *s; s++) {
		int c = *s, d;
		if (c >= '0' && c <= '9') d = c - '0';
		else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
		else continue;
		if (hi < 0) hi = d;
		else { out[n++] = (uint8_t)(hi << 4 | d); hi = -1; }
	}
	return n;
}

static int run(const char *hex)
{
	static uint8_t blk[8192];
	size_t n = unhex(hex, blk);
	got_len = 0;
	got[0] = '\0';
	return hpack_decode(&dec, blk, n, collect, NULL);
}

#define STEP(hex, want, sz) do { EXPECT(run(hex) == HPACK_OK); EXPECT_STR(got, want); \
	EXPECT(dec.size == (sz)); } while (0)

static const char C3_1[] = ":method: GET\n:scheme: http\n:path: /\n:authority: www.example.com\n";
static const char C3_2[] = ":method: GET\n:scheme: http\n:path: /\n:authority: www.example.com\n"
			   "cache-control: no-cache\n";
static const char C3_3[] = ":method: GET\n:scheme: https\n:path: /index.html\n"
			   ":authority: www.example.com\ncustom-key: custom-value\n";
static const char C5_1[] = ":status: 302\ncache-control: private\n"
			   "date: Mon, 21 Oct 2013 20:13:21 GMT\nlocation: https://www.example.com\n";
static const char C5_2[] = ":status: 307\ncache-control: private\n"
			   "date: Mon, 21 Oct 2013 20:13:21 GMT\nlocation: https://www.example.com\n";
static const char C5_3[] = ":status: 200\ncache-control: private\n"
			   "date: Mon, 21 Oct 2013 20:13:22 GMT\nlocation: https://www.example.com\n"
			   "content-encoding: gzip\n"
			   "set-cookie: foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1\n";

static void appendix_c(void)
{
	/* C.2: one block each, fresh tables */
	hpack_init(&dec, 4096);
	STEP("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
	     "custom-key: custom-header\n", 55);
	hpack_init(&dec, 4096);
	STEP("040c 2f73 616d 706c 652f 7061 7468", ":path: /sample/path\n", 0);
	hpack_init(&dec, 4096);
	STEP("1008 7061 7373 776f 7264 0673 6563 7265 74", "!password: secret\n", 0);
	hpack_init(&dec, 4096);
	STEP("82", ":method: GET\n", 0);

	/* C.3: requests without Huffman, one connection */
	hpack_init(&dec, 4096);
	STEP("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d", C3_1, 57);
	STEP("8286 84be 5808 6e6f 2d63 6163 6865", C3_2, 110);
	EXPECT(dec.count == 2);
	STEP("8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
	     C3_3, 164);
	EXPECT(dec.count == 3);

	/* C.4: the same with Huffman */
	hpack_init(&dec, 4096);
	STEP("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff", C3_1, 57);
	STEP("8286 84be 5886 a8eb 1064 9cbf", C3_2, 110);
	STEP("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf", C3_3, 164);

	/* C.5: responses, 256-byte table, evictions */
	hpack_init(&dec, 256);
	STEP("4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230"
	     "3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65"
	     "7861 6d70 6c65 2e63 6f6d", C5_1, 222);
	EXPECT(dec.count == 4);
	STEP("4803 3330 37c1 c0bf", C5_2, 222);
	EXPECT(dec.count == 4);
	STEP("88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220"
	     "474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157"
	     "454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076"
	     "6572 7369 6f6e 3d31", C5_3, 215);
	EXPECT(dec.count == 3);

	/* C.6: the same with Huffman */
	hpack_init(&dec, 256);
	STEP("4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0"
	     "82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3", C5_1, 222);
	STEP("4883 640e ffc1 c0bf", C5_2, 222);
	STEP("88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b"
	     "d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27"
	     "0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07", C5_3, 215);
	EXPECT(dec.count == 3);
}

static void huffman_table(void)
{
	hpack_init(&dec, 4096);
	unsigned bits;
	/* a few rows of Appendix B, as printed there */
	EXPECT(hpack_huff_code(&dec, 0, &bits) == 0x1ff8 && bits == 13);
	EXPECT(hpack_huff_code(&dec, '0', &bits) == 0x0 && bits == 5);
	EXPECT(hpack_huff_code(&dec, 'a', &bits) == 0x3 && bits == 5);
	EXPECT(hpack_huff_code(&dec, ' ', &bits) == 0x14 && bits == 6);
	EXPECT(hpack_huff_code(&dec, 'X', &bits) == 0xfc && bits == 8);
	EXPECT(hpack_huff_code(&dec, '\\', &bits) == 0x7fff0 && bits == 19);
	EXPECT(hpack_huff_code(&dec, 127, &bits) == 0xffffffc && bits == 28);
	EXPECT(hpack_huff_code(&dec, 200, &bits) == 0x3ffffe2 && bits == 26);
	EXPECT(hpack_huff_code(&dec, 255, &bits) == 0x3ffffee && bits == 26);
	EXPECT(hpack_huff_code(&dec, 256, &bits) == 0x3fffffff && bits == 30);
	/* the lengths fill the code space exactly (Kraft sum 1) */
	uint64_t sum = 0;
	for (unsigned s = 0; s <= 256; s++) {
		hpack_huff_code(&dec, s, &bits);
		sum += 1ull << (30 - bits);
	}
	EXPECT(sum == 1ull << 30);
}

static void errors(void)
{
	hpack_init(&dec, 4096);
	EXPECT(run("80") == HPACK_E_INDEX);                 /* index 0 */
	EXPECT(run("82") == HPACK_E_INDEX);                 /* sticky */
	hpack_init(&dec, 4096);
	EXPECT(run("be") == HPACK_E_INDEX);                 /* 62: empty dynamic table */
	hpack_init(&dec, 4096);
	EXPECT(run("7e") == HPACK_E_INDEX);                 /* literal, name index 62 */
	hpack_init(&dec, 4096);
	EXPECT(run("ff ff ff ff ff 0f") == HPACK_E_INT);    /* > 32 bits */
	hpack_init(&dec, 4096);
	EXPECT(run("ff 80 80 80 80 80 00") == HPACK_E_INT); /* zero padding, no end */
	hpack_init(&dec, 4096);
	EXPECT(run("ff 80") == HPACK_E_TRUNC);
	hpack_init(&dec, 4096);
	EXPECT(run("04 05 61 62") == HPACK_E_TRUNC);        /* string longer than block */
	hpack_init(&dec, 4096);
	EXPECT(run("00") == HPACK_E_TRUNC);
	/* Huffman: EOS inside, padding of 8 bits, padding with a zero */
	hpack_init(&dec, 4096);
	EXPECT(run("04 84 ff ff ff ff") == HPACK_E_HUFFMAN);
	hpack_init(&dec, 4096);
	EXPECT(run("04 82 1f ff") == HPACK_E_HUFFMAN);      /* 'a' = 00011, then 11 bits of 1 */
	hpack_init(&dec, 4096);
	EXPECT(run("04 81 1e") == HPACK_E_HUFFMAN);         /* 'a', padding 110 */
	hpack_init(&dec, 4096);
	EXPECT(run("04 81 1f") == HPACK_OK && !strcmp(got, ":path: a\n"));
	/* size updates: above the setting, after a field; two at the start are fine */
	hpack_init(&dec, 4096);
	EXPECT(run("3f e2 1f") == HPACK_E_SIZE_UPDATE);     /* 4097 */
	hpack_init(&dec, 4096);
	EXPECT(run("3f e1 1f 20 82") == HPACK_OK && dec.limit == 0);
	hpack_init(&dec, 4096);
	EXPECT(run("82 20") == HPACK_E_SIZE_UPDATE);
	/* more than the shim can mirror */
	EXPECT(hpack_init(&dec, HPACK_TABLE_CAP + 1) == HPACK_E_CAP);
	hpack_init(&dec, 4096);
	EXPECT(hpack_set_max(&dec, HPACK_TABLE_CAP + 1) == HPACK_E_CAP);
}

static void sizes(void)
{
	static uint8_t blk[80000];
	/* a smaller setting shrinks the table at once */
	hpack_init(&dec, 4096);
	EXPECT(run("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d") == HPACK_OK);
	EXPECT(hpack_set_max(&dec, 40) == HPACK_OK && dec.count == 0 && dec.size == 0);
	EXPECT(run("3f 0a") == HPACK_E_SIZE_UPDATE);                /* 41 > 40 */
	hpack_init(&dec, 4096);
	EXPECT(hpack_set_max(&dec, 40) == HPACK_OK && run("3f 09") == HPACK_OK && dec.limit == 40);
	/* a larger setting only allows a size update up to it */
	hpack_init(&dec, 4096);
	EXPECT(hpack_set_max(&dec, 8192) == HPACK_OK && dec.limit == 4096 && dec.max == 8192);
	EXPECT(run("3f e1 3f") == HPACK_OK && dec.limit == 8192);   /* 31 + 97 + 63 * 128 */
	EXPECT(run("3f e2 3f") == HPACK_E_SIZE_UPDATE);              /* 8193 */
	hpack_init(&dec, 4096);
	EXPECT(hpack_set_max(&dec, 40) == HPACK_OK);
	/* an entry larger than the table empties it and is not added */
	EXPECT(hpack_set_max(&dec, 4096) == HPACK_OK);
	EXPECT(run("3f e1 1f 40 01 61 01 62") == HPACK_OK && dec.count == 1);
	size_t n = 0;
	blk[n++] = 0x3f, blk[n++] = 0x11;                           /* limit 48 */
	blk[n++] = 0x40, blk[n++] = 0x01, blk[n++] = 'x', blk[n++] = 0x10;
	memset(blk + n, 'y', 16);
	n += 16;
	got_len = 0;
	EXPECT(hpack_decode(&dec, blk, n, collect, NULL) == HPACK_OK && dec.count == 0 && dec.size == 0);

	/* a field longer than HPACK_FIELD_MAX */
	hpack_init(&dec, 4096);
	n = 0;
	blk[n++] = 0x00, blk[n++] = 0x01, blk[n++] = 'x';
	blk[n++] = 0x7f, blk[n++] = 0x81, blk[n++] = 0x80, blk[n++] = 0x01;  /* 127+16385 */
	memset(blk + n, 'v', 16512);
	n += 16512;
	EXPECT(hpack_decode(&dec, blk, n, NULL, NULL) == HPACK_E_FIELD);

	/* a bomb: one 4000-byte entry indexed over and over */
	hpack_init(&dec, 4096);
	n = 0;
	blk[n++] = 0x40, blk[n++] = 0x01, blk[n++] = 'b';
	blk[n++] = 0x7f, blk[n++] = 0xa1, blk[n++] = 0x1e;                  /* 127+3873 */
	memset(blk + n, 'B', 4000);
	n += 4000;
	for (int i = 0; i < 15; i++)        /* 16 fields of 4033: just under 64 KiB */
		blk[n++] = 0xbe;
	EXPECT(hpack_decode(&dec, blk, n, NULL, NULL) == HPACK_OK);
	hpack_init(&dec, 4096);
	blk[n++] = 0xbe;
	EXPECT(hpack_decode(&dec, blk, n, NULL, NULL) == HPACK_E_BOMB);

	/* a wrapping ring: many entries through a 64 KiB table keep their bytes */
	hpack_init(&dec, HPACK_TABLE_CAP);
	char val[1000];
	for (int round = 0; round < 300; round++) {
		n = 0;
		memset(val, 'a' + round % 26, sizeof val);
		int vl = 900 + round % 97;
		blk[n++] = 0x40, blk[n++] = 0x02, blk[n++] = 'k', blk[n++] = (uint8_t)('a' + round % 26);
		blk[n++] = 0x7f;
		unsigned rest = (unsigned)vl - 127;
		blk[n++] = (uint8_t)(0x80 | (rest & 0x7f)), blk[n++] = (uint8_t)(rest >> 7);
		memcpy(blk + n, val, (size_t)vl);
		n += (size_t)vl;
		blk[n++] = 0xbe;                                            /* read it back */
		got_len = 0;
		EXPECT(hpack_decode(&dec, blk, n, collect, NULL) == HPACK_OK);
		EXPECT(got_len == 2 * (size_t)(2 + 2 + vl + 1));
		EXPECT(!memcmp(got, got + got_len / 2, got_len / 2));
		EXPECT(dec.size <= HPACK_TABLE_CAP);
	}
}

static void encoder(void)
{
	uint8_t out[600];
	size_t n = hpack_encode_literal(out, sizeof out, "x-request-id", 12, "abc", 3);
	EXPECT(n == 1 + 1 + 12 + 1 + 3 && out[0] == 0x00 && out[1] == 12 && out[14] == 3);
	hpack_init(&dec, 4096);
	got_len = 0;
	EXPECT(hpack_decode(&dec, out, n, collect, NULL) == HPACK_OK);
	EXPECT_STR(got, "x-request-id: abc\n");
	EXPECT(dec.count == 0);
	/* a value of 300 bytes: the integer takes 3 bytes */
	char v[300];
	memset(v, 'z', sizeof v);
	n = hpack_encode_literal(out, sizeof out, "k", 1, v, sizeof v);
	EXPECT(n == 1 + 1 + 1 + 3 + 300 && out[3] == 0x7f && out[4] == 0x80 + (173 & 0x7f) && out[5] == 1);
	EXPECT(hpack_decode(&dec, out, n, NULL, NULL) == HPACK_OK);
	for (size_t cap = 0; cap < n; cap++)
		EXPECT(hpack_encode_literal(out, cap, "k", 1, v, sizeof v) == 0);
}

/* binary-safe: values from the other encoder hold every byte */
static void collect_bin(void *arg, const char *n, size_t nl, const char *v, size_t vl, int never)
{
	(void)arg;
	if (got_len + nl + vl + 4 > sizeof got)
		return;
	if (never)
		got[got_len++] = '!';
	memcpy(got + got_len, n, nl), got_len += nl;
	memcpy(got + got_len, ": ", 2), got_len += 2;
	memcpy(got + got_len, v, vl), got_len += vl;
	got[got_len++] = '\n';
}

/* blocks from python3-hpack's encoder, one connection (gen_hpack_vectors.py) */
static void other_encoder(void)
{
	hpack_init(&dec, 4096);
	size_t n = sizeof hpack_vectors / sizeof hpack_vectors[0];
	for (size_t i = 0; i < n; i++) {
		got_len = 0;
		int rc = hpack_decode(&dec, (const uint8_t *)hpack_vectors[i].blk,
				      hpack_vectors[i].blen, collect_bin, NULL);
		EXPECT(rc == HPACK_OK);
		EXPECT(got_len == hpack_vectors[i].wlen &&
		       !memcmp(got, hpack_vectors[i].want, got_len));
		EXPECT(dec.size == hpack_vectors[i].size);
		if (rc || got_len != hpack_vectors[i].wlen)
			fprintf(stderr, "vector %zu: rc %d\n", i, rc);
	}
}

int main(void)
{
	other_encoder();
	appendix_c();
	huffman_table();
	errors();
	sizes();
	encoder();
	UNIT_DONE("hpack");
}
