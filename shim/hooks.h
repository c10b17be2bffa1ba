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

#define HOOK(name, ret, params) extern ret(*real_##name) params;
#define HOOK_VA(name)
#define HOOK_LIB(name, lib, ret, params) extern ret(*real_##name) params;
#include "hooks.def"
#undef HOOK
#undef HOOK_VA
#undef HOOK_LIB

void hooks_resolve(void);

/* Find NAME in the already loaded library LIB (RTLD_NOLOAD), NULL if absent. */
void *hooks_find_in(const char *lib, const char *name);

#define REAL(name) \
	(__builtin_expect(real_##name != NULL, 1) ? real_##name : (hooks_resolve(), real_##name))

/* For HOOK_LIB functions: the library may have been dlopen'ed after start. */
#define REAL_LIB(name, lib) \
	(__builtin_expect(real_##name != NULL, 1) ? real_##name : \
	 (real_##name = (__typeof__(real_##name))hooks_find_in(lib, #name)))

/* Save errno on entry, restore it on every exit path we add work to. */
#define KEEP_ERRNO int saved_errno_ = errno
#define RESTORE_ERRNO (errno = saved_errno_)

#endif
