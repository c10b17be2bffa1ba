/*
 * loop.c: helpers shared by the event-loop hooks (see loop.h).
 */
#include "loop.h"
#include "hooks.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

/* ---- which library a code address belongs to -------------------------- */

/* Executable ranges seen so far, each with the library it belongs to (0 for
 * any other object).  Appended under range_lock, read without it: an entry is
 * complete before the count that covers it is published. */
#define MAX_RANGES 64
static struct loop_range ranges[MAX_RANGES];
__thread struct loop_range loop_last[2] CTX_TLS;

static void remember(const struct loop_range *r)
{
	loop_last[1] = loop_last[0];
	loop_last[0] = *r;
}
static atomic_int nranges;
static pthread_mutex_t range_lock = PTHREAD_MUTEX_INITIALIZER;

/* The libraries whose calls to their own public functions are told apart
 * from the program's (loop_internal): a loaded object belongs to one when
 * its file name starts with the prefix (libevent's parts and add-ons:
 * libevent_core, libevent_pthreads... all call into each other). */
static const struct {
	enum loop_lib lib;
	const char *prefix;
} families[] = {
	{ LOOP_UV, "libuv." },
	{ LOOP_EVENT, "libevent" },
};

static int classify(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
		if (strncmp(base, families[i].prefix, strlen(families[i].prefix)) == 0)
			return families[i].lib;
	return 0;
}

struct search {
	uintptr_t addr;
	struct loop_range found;
	int ok;
};

static int find_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct search *s = arg;
	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if (s->addr - lo < ph->p_memsz) {
			s->found.lo = lo;
			s->found.hi = lo + ph->p_memsz;
			s->found.lib = classify(info->dlpi_name ? info->dlpi_name : "");
			s->ok = 1;
			return 1;
		}
	}
	return 0;
}

static int slow_lookup(uintptr_t a)
{
	KEEP_ERRNO;
	struct search s = { .addr = a };
	/* Searched without our lock held: dl_iterate_phdr takes the loader's,
	 * and a library constructor running under it may call a hook. */
	dl_iterate_phdr(find_object, &s);
	if (!s.ok) {
		/* Code outside any object (generated at run time): not a library's
		 * own call.  Remember its page so it costs this search once. */
		s.found.lo = a & ~(uintptr_t)4095;
		s.found.hi = s.found.lo + 4096;
		s.found.lib = 0;
	}
	pthread_mutex_lock(&range_lock);
	int n = atomic_load_explicit(&nranges, memory_order_relaxed);
	int known = 0;
	for (int i = 0; i < n && !known; i++)
		known = a - ranges[i].lo < ranges[i].hi - ranges[i].lo;
	if (!known && n < MAX_RANGES) {
		ranges[n] = s.found;
		atomic_store_explicit(&nranges, n + 1, memory_order_release);
	}
	pthread_mutex_unlock(&range_lock);
	remember(&s.found);
	RESTORE_ERRNO;
	return s.found.lib;
}

int loop_internal_slow(enum loop_lib lib, uintptr_t a)
{
	int n = atomic_load_explicit(&nranges, memory_order_acquire);
	for (int i = 0; i < n; i++)
		if (a - ranges[i].lo < ranges[i].hi - ranges[i].lo) {
			remember(&ranges[i]);
			return ranges[i].lib == (int)lib;
		}
	return slow_lookup(a) == (int)lib;
}

/* ---- fork ---------------------------------------------------------------- */

/* range_lock must not be held by a thread that does not exist in the child. */
static void ranges_lock(void) { pthread_mutex_lock(&range_lock); }
static void ranges_unlock(void) { pthread_mutex_unlock(&range_lock); }

__attribute__((constructor)) static void watch_ranges(void)
{
	ctx_at_fork(ranges_lock, ranges_unlock, ranges_unlock);
}
