/*
 * ids.c: unique, unpredictable ids without a system call per id.
 *
 * Each id is SipHash-2-4 (siphash.h), a keyed pseudo-random function, of a
 * process-wide counter and the pid, under a 128-bit key read once from
 * getrandom.  Without the key, an id says nothing about any other id: a
 * client that sees its own ids cannot compute the counter, the pid or the
 * ids other clients get (the splitmix64 mixer used before is invertible:
 * two echoed ids gave both away).
 *
 * A forked child takes a key of its own, derived under the parent's key
 * from its pid, the counter and the clock at the fork (no system call but
 * the getpid the fork hook already made): it never repeats the parent's
 * sequence nor a sibling's, and the parent's key is not recoverable from
 * it.  A child made without our fork hook (clone, _Fork) still has another
 * pid in every hashed block.
 */
#include "core.h"
#include "siphash.h"

#include <stdatomic.h>
#include <stdint.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static uint64_t key[2];
static atomic_int keyed;             /* 0 no key yet, 1 being made, 2 ready */
static atomic_uint_fast64_t counter;
static uint64_t pid_tag;             /* the pid, in the second hashed word */

/* Domain tags (top byte of the second word): two halves of an id, and the
 * derivation of a child's key, never hash the same block. */
#define TAG_LO 0x01ull
#define TAG_HI 0x02ull
#define TAG_CHILD0 0x03ull
#define TAG_CHILD1 0x04ull
#define TAG(t) ((t) << 56)

static uint64_t clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);   /* vDSO: no system call */
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void key_once(void)
{
	int expected = 0;
	if (atomic_load_explicit(&keyed, memory_order_acquire) == 2)
		return;
	if (atomic_compare_exchange_strong(&keyed, &expected, 1)) {
		uint64_t k[2];
		if (getrandom(k, sizeof k, GRND_NONBLOCK) != (ssize_t)sizeof k) {
			/* no entropy yet (early boot) or no getrandom: the best
			 * we have; documented as guessable */
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			uint64_t weak[2] = { (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30),
					     (uint64_t)(uintptr_t)&ts ^ clock_ns() };
			k[0] = sip24_2w(weak, (uint64_t)getpid(), TAG(TAG_CHILD0));
			k[1] = sip24_2w(weak, (uint64_t)getpid(), TAG(TAG_CHILD1));
		}
		key[0] = k[0];
		key[1] = k[1];
		pid_tag = (uint64_t)(uint32_t)getpid();
		atomic_store_explicit(&keyed, 2, memory_order_release);
	}
	while (atomic_load_explicit(&keyed, memory_order_acquire) != 2)
		;
}

/* In the child of fork (single-threaded here). */
void ctx_ids_fork_child(void)
{
	if (atomic_load(&keyed) != 2) {
		/* the child reads its own key when it needs one; a thread that
		 * was reading the parent's does not exist here */
		atomic_store(&keyed, 0);
		return;
	}
	uint64_t pid = (uint64_t)(uint32_t)getpid();
	uint64_t c = atomic_load_explicit(&counter, memory_order_relaxed);
	uint64_t t = clock_ns();
	uint64_t k0 = sip24_2w(key, c ^ t, TAG(TAG_CHILD0) | pid);
	uint64_t k1 = sip24_2w(key, c ^ t, TAG(TAG_CHILD1) | pid);
	key[0] = k0;
	key[1] = k1;
	pid_tag = pid;
}

void ctx_new_id(char out[33])
{
	static const char hex[] = "0123456789abcdef";
	key_once();
	uint64_t c = atomic_fetch_add_explicit(&counter, 1, memory_order_relaxed);
	uint64_t w[2] = { sip24_2w(key, c, TAG(TAG_LO) | pid_tag),
			  sip24_2w(key, c, TAG(TAG_HI) | pid_tag) };
	for (int i = 0; i < 32; i++)
		out[i] = hex[(w[i / 16] >> (60 - 4 * (i % 16))) & 15];
	out[32] = '\0';
}
