/* hook_types.h: the system headers every hook signature in hooks.def needs. */
#ifndef CTX_HOOK_TYPES_H
#define CTX_HOOK_TYPES_H
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <ucontext.h>
/* Optional libraries' headers (libuv, libevent, GLib) are included only by
 * their families, in loop/ (hooks_lib.h). */
#endif
