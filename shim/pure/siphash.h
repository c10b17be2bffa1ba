/*
 * siphash.h: SipHash-2-4 (Aumasson and Bernstein, 2012), the keyed
 * pseudo-random function the id generator draws from (ids.c).  Pure: no
 * globals, no allocation, safe anywhere.
 */
#ifndef CTX_SIPHASH_H
#define CTX_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* SipHash-2-4 of M[0..N) under the 128-bit key K (k[0]: key bytes 0-7,
 * k[1]: bytes 8-15, both little-endian): the 64-bit output. */
uint64_t sip24(const uint64_t k[2], const void *m, size_t n);

/* The same for the 16-byte message A,B (little-endian words): what the id
 * generator hashes, without a byte loop. */
uint64_t sip24_2w(const uint64_t k[2], uint64_t a, uint64_t b);

#endif
