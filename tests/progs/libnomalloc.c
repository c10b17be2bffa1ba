/*
 * libnomalloc.c: a test library that makes allocation in forbidden places
 * visible.  A program sets nomalloc_armed (found with dlsym) where nothing
 * may allocate or free, e.g. in a vforked child before exec or in a signal
 * handler; any malloc, calloc, realloc, aligned_alloc, posix_memalign or
 * free of a pointer then writes a line to stderr and exits with status 99.
 */
#include <dlfcn.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

volatile int nomalloc_armed;

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static void *(*real_aligned_alloc)(size_t, size_t);
static int (*real_posix_memalign)(void **, size_t, size_t);

static void check(void)
{
	if (nomalloc_armed) {
		static const char msg[] = "libnomalloc: allocation where none is allowed\n";
		write(2, msg, sizeof msg - 1);
		_exit(99);
	}
}

/* dlsym may itself calloc: serve it from a static buffer meanwhile. */
static char early[4096];
static size_t early_used;
static int resolving;

static void *early_alloc(size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (early_used + n > sizeof early)
		return NULL;
	early_used += n;
	return early + early_used - n;
}

static void resolve(void)
{
	resolving = 1;
	real_malloc = dlsym(RTLD_NEXT, "malloc");
	real_calloc = dlsym(RTLD_NEXT, "calloc");
	real_realloc = dlsym(RTLD_NEXT, "realloc");
	real_free = dlsym(RTLD_NEXT, "free");
	real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
	real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
	resolving = 0;
}

void *malloc(size_t n)
{
	check();
	if (!real_malloc) {
		if (resolving)
			return early_alloc(n);
		resolve();
	}
	return real_malloc(n);
}

void *calloc(size_t a, size_t b)
{
	check();
	if (!real_calloc) {
		if (resolving) {
			void *p = early_alloc(a * b);
			if (p)
				memset(p, 0, a * b);
			return p;
		}
		resolve();
	}
	return real_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
	check();
	if (!real_realloc)
		resolve();
	return real_realloc(p, n);
}

void free(void *p)
{
	if (!p)
		return;
	if ((char *)p >= early && (char *)p < early + sizeof early)
		return;       /* served by early_alloc, never the allocator's */
	check();
	if (!real_free)
		resolve();
	real_free(p);
}

void *aligned_alloc(size_t al, size_t n)
{
	check();
	if (!real_aligned_alloc)
		resolve();
	return real_aligned_alloc(al, n);
}

int posix_memalign(void **out, size_t al, size_t n)
{
	check();
	if (!real_posix_memalign)
		resolve();
	return real_posix_memalign(out, al, n);
}
