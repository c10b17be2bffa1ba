/*
 * resolve.c: finds the real function behind each hook, once.
 *
 * This runs only from the constructor, or from the first hook called before
 * it.  The real function is the next definition after ours, as
 * dlsym(RTLD_NEXT) would find it; about 150 dlsym calls cost a process a
 * third of the shim's start-up, so the names are looked up directly in the
 * symbol tables of the objects loaded after ours (their GNU hash tables, the
 * default version of each name).  Whatever that cannot answer (an object
 * without a GNU hash table, an IFUNC, a name not found) goes to dlsym.  A
 * NULL answer, or an answer that is our own hook (possible when the shim is
 * loaded twice), falls back to asking libc by name, as gentoo's sandbox does.
 */
#include "hooks.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdint.h>
#include <stdatomic.h>
#include <string.h>

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

/* ---- the symbol tables of the objects loaded after ours ---------------- */

struct dso {
	uintptr_t base;
	const ElfW(Sym) *sym;
	const char *str;
	const uint32_t *gnu;        /* DT_GNU_HASH */
	const ElfW(Half) *versym;   /* DT_VERSYM, or NULL */
};

#define MAX_DSO 32
static struct dso next_dso[MAX_DSO];
static int n_dso;
static int dso_state;          /* 0 unknown, 1 usable, -1 use dlsym */

static uintptr_t dyn_ptr(const struct dl_phdr_info *info, ElfW(Addr) v)
{
	/* ld.so relocates these in place for loaded objects; a few (the
	 * vDSO on some kernels) keep the unrelocated value. */
	return v < info->dlpi_addr ? info->dlpi_addr + v : v;
}

static int collect(struct dl_phdr_info *info, size_t size, void *arg)
{
	int *after = arg;
	(void)size;
	const ElfW(Dyn) *dyn = NULL;
	uintptr_t me = (uintptr_t)&hooks_resolve;
	int mine = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_DYNAMIC)
			dyn = (const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr);
		if (ph->p_type == PT_LOAD && me - (info->dlpi_addr + ph->p_vaddr) < ph->p_memsz)
			mine = 1;
	}
	if (!*after) {
		*after = mine;
		return 0;
	}
	if (!dyn)
		return 0;
	if (n_dso == MAX_DSO) {
		dso_state = -1;
		return 1;
	}
	struct dso d = { .base = info->dlpi_addr };
	for (; dyn->d_tag != DT_NULL; dyn++) {
		if (dyn->d_tag == DT_SYMTAB)
			d.sym = (const ElfW(Sym) *)dyn_ptr(info, dyn->d_un.d_ptr);
		else if (dyn->d_tag == DT_STRTAB)
			d.str = (const char *)dyn_ptr(info, dyn->d_un.d_ptr);
		else if (dyn->d_tag == DT_GNU_HASH)
			d.gnu = (const uint32_t *)dyn_ptr(info, dyn->d_un.d_ptr);
		else if (dyn->d_tag == DT_VERSYM)
			d.versym = (const ElfW(Half) *)dyn_ptr(info, dyn->d_un.d_ptr);
	}
	if (!d.sym || !d.str)
		return 0;
	if (!d.gnu) {
		dso_state = -1;   /* only a SysV hash: leave it all to dlsym */
		return 1;
	}
	next_dso[n_dso++] = d;
	return 0;
}

static uint32_t gnu_hash(const char *s)
{
	uint32_t h = 5381;
	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

#define IFUNC_FOUND ((void *)-1)

/* NAME's default-version definition in D, NULL, or IFUNC_FOUND. */
static void *dso_lookup(const struct dso *d, const char *name, uint32_t h)
{
	const uint32_t nbuckets = d->gnu[0], symoffset = d->gnu[1];
	const uint32_t bloom_size = d->gnu[2], bloom_shift = d->gnu[3];
	const ElfW(Addr) *bloom = (const ElfW(Addr) *)&d->gnu[4];
	const uint32_t *buckets = (const uint32_t *)&bloom[bloom_size];
	const uint32_t *chain = &buckets[nbuckets];
	const unsigned bits = sizeof(ElfW(Addr)) * 8;
	if (!nbuckets || !bloom_size)
		return NULL;
	ElfW(Addr) word = bloom[(h / bits) % bloom_size];
	ElfW(Addr) mask = ((ElfW(Addr))1 << (h % bits)) | ((ElfW(Addr))1 << ((h >> bloom_shift) % bits));
	if ((word & mask) != mask)
		return NULL;
	uint32_t i = buckets[h % nbuckets];
	if (i < symoffset)
		return NULL;
	for (;; i++) {
		uint32_t h2 = chain[i - symoffset];
		const ElfW(Sym) *s = &d->sym[i];
		if ((h | 1) == (h2 | 1) && !strcmp(name, d->str + s->st_name) &&
		    s->st_shndx != SHN_UNDEF && s->st_value != 0 &&
		    (!d->versym || !(d->versym[i] & 0x8000)) &&
		    (ELF64_ST_BIND(s->st_info) == STB_GLOBAL || ELF64_ST_BIND(s->st_info) == STB_WEAK)) {
			if (ELF64_ST_TYPE(s->st_info) == STT_GNU_IFUNC)
				return IFUNC_FOUND;
			if (ELF64_ST_TYPE(s->st_info) == STT_FUNC)
				return (void *)(d->base + s->st_value);
		}
		if (h2 & 1)
			return NULL;
	}
}

/* The next definition of NAME after ours from the symbol tables, or NULL
 * when dlsym must answer. */
static void *table_next(const char *name)
{
	if (dso_state == 0) {
		int after = 0;
		dso_state = 1;
		dl_iterate_phdr(collect, &after);
		if (!after)
			dso_state = -1;
	}
	if (dso_state < 0)
		return NULL;
	uint32_t h = gnu_hash(name);
	for (int i = 0; i < n_dso; i++) {
		void *p = dso_lookup(&next_dso[i], name, h);
		if (p == IFUNC_FOUND)
			return NULL;
		if (p)
			return p;
	}
	return NULL;
}

static void *find_next(const char *name)
{
	void *p = table_next(name);
	if (p && !is_ours(p))
		return p;
	p = dlsym(RTLD_NEXT, name);
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
	KEEP_ERRNO;     /* a failed dlopen may set it */
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
	RESTORE_ERRNO;
	return p;
}
