/*
 * hooks_check.c: every signature in hooks.def checked, at compile time,
 * against the declaration in the system's headers.  `make` compiles it (the
 * object is not linked into the library): a hook whose parameters drift from
 * libc's or a library's fails the build, naming the hook.
 *
 * Not checked:
 *   - HOOK_VA lines: no signature is given; those hooks are written by hand
 *     around a non-variadic real function.
 *   - The exceptions below: GCC folds a noreturn attribute into the
 *     function's type, so glibc's declaration of these is not the plain
 *     pointer type hooks.def gives, although every parameter matches.
 */
#include "hook_types.h"

#include <err.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <error.h>
#include <syslog.h>
#include <uv.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_compat.h>
#include <event2/event.h>
#include <event2/event_compat.h>
#include <event2/http.h>
#include <glib.h>
#include <openssl/ssl.h>
#include <gnutls/gnutls.h>
#define SD_JOURNAL_SUPPRESS_LOCATION /* the functions, not the macros */
#include <systemd/sd-journal.h>

/* The exceptions (noreturn in glibc's headers). */
#define HOOKS_EXCEPT_verr ~, 1
#define HOOKS_EXCEPT_verrx ~, 1

#define SECOND_(a, b, ...) b
#define SECOND_OF_(...) SECOND_(__VA_ARGS__)
#define IS_EXCEPTION_(name) SECOND_OF_(HOOKS_EXCEPT_##name, 0, ~)

#define HOOK(name, ret, params)                                                  \
	_Static_assert(IS_EXCEPTION_(name) ||                                    \
		       __builtin_types_compatible_p(__typeof__(&name), ret(*) params), \
		       "hooks.def: the signature of " #name " differs from the system's");
#define HOOK_VA(name)
#define LIBRARY(lib, ...)
#define HOOK_LIB(name, lib, ret, params) HOOK(name, ret, params)
#include "hooks.def"
