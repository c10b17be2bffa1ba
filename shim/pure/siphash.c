/*
 * siphash.c: SipHash-2-4, written from the paper's description: four
 * 64-bit words of state initialised from the key and the constants
 * "somepseudorandomlygeneratedbytes", two SipRounds per 8-byte block, the
 * length in the top byte of the last block, four SipRounds to finish.
 */
#include "siphash.h"

#include <string.h>

#define ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

struct sip {
	uint64_t v0, v1, v2, v3;
};

static inline void round1(struct sip *s)
{
	s->v0 += s->v1;
	s->v1 = ROTL(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = ROTL(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = ROTL(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = ROTL(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = ROTL(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = ROTL(s->v2, 32);
}

static inline void init(struct sip *s, const uint64_t k[2])
{
	s->v0 = k[0] ^ 0x736f6d6570736575ull;
	s->v1 = k[1] ^ 0x646f72616e646f6dull;
	s->v2 = k[0] ^ 0x6c7967656e657261ull;
	s->v3 = k[1] ^ 0x7465646279746573ull;
}

static inline void block(struct sip *s, uint64_t m)
{
	s->v3 ^= m;
	round1(s);
	round1(s);
	s->v0 ^= m;
}

static inline uint64_t finish(struct sip *s)
{
	s->v2 ^= 0xff;
	round1(s);
	round1(s);
	round1(s);
	round1(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

static inline uint64_t le64(const unsigned char *p)
{
	uint64_t x = 0;
	for (int i = 7; i >= 0; i--)
		x = x << 8 | p[i];
	return x;
}

uint64_t sip24(const uint64_t k[2], const void *msg, size_t n)
{
	const unsigned char *p = msg;
	struct sip s;
	size_t i;
	init(&s, k);
	for (i = 0; i + 8 <= n; i += 8)
		block(&s, le64(p + i));
	unsigned char last[8] = { 0 };
	if (n > i)
		memcpy(last, p + i, n - i);
	last[7] = (unsigned char)n;
	block(&s, le64(last));
	return finish(&s);
}

uint64_t sip24_2w(const uint64_t k[2], uint64_t a, uint64_t b)
{
	struct sip s;
	init(&s, k);
	block(&s, a);
	block(&s, b);
	block(&s, (uint64_t)16 << 56);
	return finish(&s);
}
