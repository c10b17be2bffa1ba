/*
 * resolve.c: finds the real function behind each hook, once.
 *
 * dlsym may allocate and take loader locks, so it runs only here: from the
 * constructor, or from the first hook called before it.  A NULL answer, or an
 * answer that is our own hook (possible when the shim is loaded twice), falls
 * back to asking libc by name, as gentoo's sandbox does.
 */
#include "hooks.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdint.h>
#include <stdatomic.h>

#define HOOK(name, ret, params) ret(*real_##name) params;
#define HOOK_VA(name)
#define LIBRARY(lib, ...) const char *const hooks_libs_##lib[] = { __VA_ARGS__, NULL };
#define HOOK_LIB(name, lib, ret, params)
#include "hooks.def"
#undef HOOK
#undef HOOK_VA
#undef LIBRARY
#undef HOOK_LIB

/* This library's loaded segments, found once: dladdr per hook scans
 * symbol tables and cost about a millisecond per process start. */
static uintptr_t self_lo, self_hi;

static int find_self(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t me = (uintptr_t)arg, lo = UINTPTR_MAX, hi = 0;
	int mine = 0;
	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t a = info->dlpi_addr + ph->p_vaddr, z = a + ph->p_memsz;
		lo = a < lo ? a : lo;
		hi = z > hi ? z : hi;
		mine |= me >= a && me < z;
	}
	if (!mine)
		return 0;
	self_lo = lo;
	self_hi = hi;
	return 1;
}

/* 1 if P lies in this library (our own hook, not the real function). */
static int is_ours(void *p)
{
	if (!self_hi)
		dl_iterate_phdr(find_self, (void *)&hooks_resolve);
	return p && (uintptr_t)p >= self_lo && (uintptr_t)p < self_hi;
}

void *hooks_find_in(const char *lib, const char *name)
{
	void *h = dlopen(lib, RTLD_LAZY | RTLD_NOLOAD);
	void *p = NULL;
	if (h) {
		p = dlsym(h, name);
		dlclose(h);
	}
	return is_ours(p) ? NULL : p;
}

static void *find_next(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);
	if (!p || is_ours(p))
		p = hooks_find_in("libc.so.6", name);
	return p;
}

void hooks_resolve(void)
{
	static atomic_int done;
	static __thread int busy;
	if (atomic_load_explicit(&done, memory_order_acquire) || busy)
		return;
	busy = 1;
#define HOOK(name, ret, params) \
	real_##name = (ret(*) params)find_next(#name);
#define HOOK_VA(name)
/* Not here: a failing dlopen(RTLD_NOLOAD) searches the library path (about
 * 20 us a name), and most programs load none of these libraries.  LOOP_REAL
 * resolves each on first use, when its library is certainly there. */
#define LIBRARY(lib, ...)
#define HOOK_LIB(name, lib, ret, params)
#include "hooks.def"
#undef HOOK
#undef HOOK_VA
#undef LIBRARY
#undef HOOK_LIB
	atomic_store_explicit(&done, 1, memory_order_release);
	busy = 0;
}

void *hooks_lib_sym(const char *const *libs, const char *name)
{
	int saved = errno;     /* a failed dlopen may set it */
	void *p = NULL;
	for (; *libs && !p; libs++)
		p = hooks_find_in(*libs, name);
	if (!p) {
		/* Not under its usual soname (a private build): the definition
		 * the program would have bound to without us. */
		p = dlsym(RTLD_NEXT, name);
		if (is_ours(p))
			p = NULL;
	}
	errno = saved;
	return p;
}
