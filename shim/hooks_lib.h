/*
 * hooks_lib.h: the real_NAME pointers of one optional library's hooks, from
 * hooks.def.  A family includes it after its library's headers, naming its
 * library (no include guard: one inclusion per library):
 *
 *   #define HOOKS_LIB_uv ~, 1
 *   #include "hooks_lib.h"
 *
 * declares real_NAME for every HOOK_LIB(NAME, uv, ...) line and nothing for
 * the other libraries, whose types this file never sees.  Exactly one file of
 * the family also defines HOOKS_LIB_DEFINE first: there the pointers are
 * defined rather than declared.
 *
 * How the choice is made: HOOKS_LIB_<lib> expands to "~, 1" only for the
 * library named; for any other, the name stays as it is, so the second
 * argument of HOOKS_SECOND_ is the 0 that follows.
 */
#define HOOKS_SECOND_(a, b, ...) b
#define HOOKS_PICK_(probe, decl) HOOKS_PICK__(HOOKS_SECOND_(probe, 0, ~), decl)
#define HOOKS_PICK__(yes, decl) HOOKS_PICK___(yes, decl)
#define HOOKS_PICK___(yes, decl) HOOKS_PICK_##yes(decl)
#define HOOKS_PICK_0(decl)
#define HOOKS_PICK_1(decl) decl

#ifdef HOOKS_LIB_DEFINE
#define HOOKS_STORAGE_
#else
#define HOOKS_STORAGE_ extern
#endif

#define HOOK(name, ret, params)
#define HOOK_VA(name)
#define LIBRARY(lib, ...)
#define HOOK_LIB(name, lib, ret, params) \
	HOOKS_PICK_(HOOKS_LIB_##lib, HOOKS_STORAGE_ ret(*real_##name) params;)
#include "hooks.def"
#undef HOOK
#undef HOOK_VA
#undef LIBRARY
#undef HOOK_LIB
#undef HOOKS_STORAGE_
#undef HOOKS_LIB_DEFINE
