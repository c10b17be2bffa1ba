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
 *                   deadlines, SO_PEERCRED), fork handling
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

#include <stdint.h>
#include <sys/types.h>

/* Fixed by ctl_init (CTXSHIM_CONTROL, CTXSHIM_TRACE_SPAWN). */
extern int ctl_on;
extern int ctl_trace_spawn;

/* Called at the end of ctx_init: reads the settings and, with control on,
 * registers the calling thread, makes the endpoint and starts the
 * listener. */
void ctl_init(void);

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
void ctl_threads_fork_child(void);
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
/* CLOCK_MONOTONIC_COARSE in ns (resolution: a few ms). */
uint64_t ctl_now_ns(void);

#endif
