/*
 * ctl.h: the control family: a per-process endpoint that ctxctl
 * talks to, and the registry of live threads it reports on.
 *
 *   ctl_threads.c   the thread registry (filled from thread.c), the
 *                   "threads" answer
 *   ctl_spawn.c     spawn backtraces (libunwind, loaded on first use)
 *   ctl_endpoint.c  the private directory, the socket (created atomically),
 *                   stale sockets, unlinking at exit
 *   ctl_server.c    settings, the listener thread (poll, per-client
 *                   deadlines, SO_PEERCRED), its life: started at start-up
 *                   or at a forked child's first wait, stopped and joined
 *                   at exit and before the process sandboxes itself
 *   ctl_hooks.c     the hooks that start the listener (first wait, a
 *                   forked child's uid change) or stop it for good
 *                   (seccomp, unshare...)
 *   ctl_alone.c     the main thread gone: end as the process would have
 *   ctl_answer.c    the requests: info, get, set, unset
 *   ctl_conns.c     the "conns" answer, from the sockets family's table
 *   ctljson.c, ctlreq.c: the JSON writer and the request parser
 *
 * Everything here is off unless CTXSHIM_CONTROL=1: then ctl_on is 1 and
 * every thread made by pthread_create goes through the shim's trampoline so
 * it can be registered.
 */
#ifndef CTX_CTL_H
#define CTX_CTL_H

#include "core.h"
#include "ctljson.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

/* Fixed by ctl_init (CTXSHIM_CONTROL, CTXSHIM_TRACE_SPAWN). */
extern int ctl_on;
extern int ctl_trace_spawn;

/* Called at the end of ctx_init: reads the settings and, with control on,
 * registers the calling thread, makes the endpoint and starts the
 * listener. */
void ctl_init(void);

/* ---- the listener's life (ctl_server.c), for ctl_hooks.c -------------- */

/* 1 in a forked child that has made no endpoint yet: the wait hooks then
 * call ctl_lazy_start.  Read without a lock on their fast path. */
#define ctl_pending ctx_wait_pending   /* core.h: the first wait's flag */
/* Make this process's endpoint and start its listener now (a forked
 * child's first wait, or just before it gives up its uid). */
void ctl_lazy_start(void);
/* The process is about to sandbox itself (seccomp, no_new_privs, unshare,
 * setns, chroot): stop and join the listener, remove the endpoint, and
 * start none again in this process or its forked children. */
void ctl_seal(void);

/* System calls made directly: another preloaded library may interpose the
 * libc functions (libfaketime wraps fstat, lstat, poll, getpid and the
 * clocks) and may already be torn down while the listener still runs. */
static inline pid_t ctl_getpid(void)
{
	return (pid_t)syscall(SYS_getpid);
}
static inline int ctl_sys_fstat(int fd, struct stat *st)
{
	return (int)syscall(SYS_fstat, fd, st);
}
static inline int ctl_sys_lstat(const char *path, struct stat *st)
{
	return (int)syscall(SYS_newfstatat, AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}

/* What a forked child writes at fork sits together (each page written is
 * copied, and the parent's next write to it faults too). */
#define CTL_FORK_DATA __attribute__((section(".data.ctxshim_fork")))

/* ---- thread registry (ctl_threads.c), used by thread.c ---------- */

struct ctl_thread;

/* In pthread_create, in the parent: a record for the thread about to be
 * made (spawn backtrace taken here), or NULL when out of memory. */
struct ctl_thread *ctl_thread_new(void);
/* CTL_PAYLOAD bytes in REC for the trampoline's own start data, valid until
 * ctl_thread_begin, so the new thread has nothing to free. */
#define CTL_PAYLOAD 64
void *ctl_thread_payload(struct ctl_thread *rec);
/* First thing in the new thread: REC describes it from now on. */
void ctl_thread_begin(struct ctl_thread *rec);
/* The thread is ending (a cleanup handler: return, pthread_exit or
 * cancellation): REC goes back.  Its argument is REC. */
void ctl_thread_end(void *rec);
/* pthread_create failed: REC goes back. */
void ctl_thread_drop(struct ctl_thread *rec);

/* ctl_init: the registry's key, the calling (main) thread registered. */
void ctl_threads_init(void);
/* Around fork (ctl_server.c's handlers): the registry stays consistent;
 * in the child only the forking thread remains. */
void ctl_threads_fork_prepare(void);
void ctl_threads_fork_parent(void);
/* LOCKED: fork_prepare took the registry's lock (the process had other
 * threads); the forking thread's record is brought up to date by
 * ctl_threads_child_start, when the child starts its listener. */
void ctl_threads_fork_child(int locked, pid_t pid);
void ctl_threads_child_start(void);
/* The "threads" answer; SYMBOLS: name the spawn frames (dladdr). */
void ctl_threads_answer(struct jbuf *out, int symbols);

/* ---- spawn sites (ctl_spawn.c) ---------------------------------------- */

#define CTL_SPAWN_FRAMES 24
/* The calling thread's stack into FRAMES (innermost first); how many. */
int ctl_spawn_capture(void **frames, int max);
/* FRAMES as a JSON array without the shim's own: addresses, or with
 * SYMBOLS objects naming module, offset and symbol (dladdr). */
void ctl_spawn_put(struct jbuf *out, void *const *frames, int n, int symbols);

/* ---- endpoint (ctl_endpoint.c) ----------------------------------------- */

/* What a created endpoint is: the listening fd and how to recognise it,
 * and its path. */
struct ctl_ep {
	int fd;             /* -1: none */
	dev_t fd_dev;       /* fstat of fd: it is still ours */
	ino_t fd_ino;
	ino_t path_ino;     /* lstat of path: the file is still ours */
	pid_t owner;        /* the process that made it (unlinks it at exit) */
	char path[108];     /* sun_path */
};

/* Read where endpoints go (once, at start-up). */
void ctl_ep_settings(void);
/* Create the endpoint of this process (directory checked or made, socket
 * bound under a temporary name, chmod 0600, listening, renamed into place).
 * 0, or -1 with a reason in WHY. */
int ctl_ep_create(struct ctl_ep *ep, const char **why);
/* Remove sockets and temporary files of dead processes from the directory
 * EP lives in (at most a few thousand entries). */
void ctl_ep_sweep(const struct ctl_ep *ep);
/* 1 while FD is still the socket EP made (the program may have closed or
 * reused the number); 1 unless the path is known to name it no more. */
int ctl_ep_fd_ok(const struct ctl_ep *ep);
int ctl_ep_path_ok(const struct ctl_ep *ep);
/* At exit, by its owner only: unlink the path if it is still ours. */
void ctl_ep_unlink(const struct ctl_ep *ep);
/* Move FD to a number far from the ones programs use (close-on-exec);
 * returns the new fd (FD itself when it cannot be moved). */
int ctl_fd_high(int fd);

/* ---- the main thread gone (ctl_alone.c) --------------------------------- */

/* 1 when the main thread is gone and the caller is the only other thread
 * left; *CODE: the main thread's wait status (0: it called pthread_exit).
 * 0 whenever it cannot tell (/proc unreadable). */
int ctl_left_alone(long *code);
/* The main thread was killed (CODE != 0): end the process with the same
 * status.  Does not return. */
void ctl_end_like_main(long code) __attribute__((noreturn));

/* ---- requests (ctl_answer.c) ------------------------------------------- */

/* Answer the request LINE (LEN bytes, no newline) into OUT: one JSON object
 * and a newline. */
void ctl_answer(const char *line, size_t len, struct jbuf *out);
/* The "conns" answer (ctl_conns.c). */
void ctl_conns_answer(struct jbuf *out);
/* An error answer: {"ok":false,"error":MSG}. */
void ctl_answer_error(struct jbuf *out, const char *msg);

/* The calling thread's tid, cached (a system call only the first time). */
pid_t ctl_tid(void);
#define ctl_now_ns ctx_now_ns
/* Bounded waits for the exit path, on the system call's clock (ctl_alone.c):
 * 1 when M was locked before UNTIL_NS; a join given up at UNTIL_NS. */
int ctl_lock_until(pthread_mutex_t *m, uint64_t until_ns);
void ctl_join_until(pthread_t th, uint64_t until_ns);   /* the coarse clock is core's (core/clock.c) */
/* CLOCK_MONOTONIC in ns, by the system call itself: for the deadlines of
 * the exit path. */
uint64_t ctl_raw_now_ns(void);

#endif
