/*
 * ids.c: unique ids without a system call per id.
 *
 * A 128-bit seed from getrandom, read once, is mixed (splitmix64) with a
 * process-wide counter and the pid, so ids differ across threads, across
 * processes and across fork without reseeding.
 */
#include "core.h"

#include <stdatomic.h>
#include <stdint.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static uint64_t seed[2];
static atomic_int seeded;
static atomic_uint_fast64_t counter;
static uint64_t pid_tag;

static uint64_t mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void seed_once(void)
{
	int expected = 0;
	if (atomic_load_explicit(&seeded, memory_order_acquire) == 2)
		return;
	if (atomic_compare_exchange_strong(&seeded, &expected, 1)) {
		uint64_t s[2];
		if (getrandom(s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			s[0] = mix((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32));
			s[1] = mix(s[0] ^ (uint64_t)(uintptr_t)&ts);
		}
		seed[0] = s[0];
		seed[1] = s[1];
		pid_tag = mix((uint64_t)getpid());
		atomic_store_explicit(&seeded, 2, memory_order_release);
	}
	while (atomic_load_explicit(&seeded, memory_order_acquire) != 2)
		;
}

void ctx_ids_fork_child(void)
{
	if (atomic_load(&seeded) == 2)
		pid_tag = mix((uint64_t)getpid());
}

void ctx_new_id(char out[33])
{
	static const char hex[] = "0123456789abcdef";
	seed_once();
	uint64_t c = atomic_fetch_add_explicit(&counter, 1, memory_order_relaxed);
	uint64_t w[2] = { mix(seed[0] ^ pid_tag ^ mix(c)), mix(seed[1] + c) ^ pid_tag };
	for (int i = 0; i < 32; i++)
		out[i] = hex[(w[i / 16] >> (4 * (i % 16))) & 15];
	out[32] = '\0';
}
