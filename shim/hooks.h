/*
 * hooks.h: the real functions behind every hook (see hooks.def).
 *
 * real_NAME points at the next definition of NAME (libc's, usually).  It is
 * filled once, by hooks_resolve() from the constructor or from the first hook
 * that runs before it; REAL(NAME) never calls dlsym after that.
 */
#ifndef CTX_HOOKS_H
#define CTX_HOOKS_H

#include "hook_types.h"
#include "core.h"

/* libc's functions only: an optional library's real_NAME pointers are
 * declared in its family, through hooks_lib.h, so that its headers stay
 * there. */
#define HOOK(name, ret, params) extern ret(*real_##name) params;
#define HOOK_VA(name)
#define LIBRARY(lib, ...) extern const char *const hooks_libs_##lib[];
#define HOOK_LIB(name, lib, ret, params)
#include "hooks.def"
#undef HOOK
#undef HOOK_VA
#undef LIBRARY
#undef HOOK_LIB

void hooks_resolve(void);

/* Find NAME in the already loaded library LIB (RTLD_NOLOAD), NULL if absent. */
void *hooks_find_in(const char *lib, const char *name);

/* Find NAME in the first loaded library of LIBS (a NULL-ended list of
 * sonames, looked up with RTLD_NOLOAD), else the next definition after ours.
 * NULL when none is loaded.  For the first call of each hook only. */
void *hooks_lib_sym(const char *const *libs, const char *name);

/* For HOOK_LIB functions: resolved on first use, since the library may be
 * dlopen'ed at any time (and a failing RTLD_NOLOAD lookup is slow). */
#define REAL_LIB(name, libs) ({ \
	if (__builtin_expect(real_##name == NULL, 0)) \
		real_##name = (__typeof__(real_##name))hooks_lib_sym(libs, #name); \
	real_##name; })

#define REAL(name) \
	(__builtin_expect(real_##name != NULL, 1) ? real_##name : (hooks_resolve(), real_##name))

/* KEEP_ERRNO and RESTORE_ERRNO: core.h. */

#endif
