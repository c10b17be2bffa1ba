/*
 * ctxshim.h: the public API of ctxshim, a task-local context for C programs.
 *
 * Every thread has a current context: a small map of string keys to string
 * values (request_id, request_path, ...).  Threads, processes and event-loop
 * callbacks inherit it.  libctxshim.so exports exactly the functions below.
 *
 * The header also works when the shim is absent: a program built with a plain
 * `cc -I include prog.c` declares these functions weak, and every call goes
 * through a macro that checks the function is there.  Without the shim
 * ctxshim_set() fails with ENOSYS, ctxshim_get() reports ENOENT (unset),
 * ctxshim_capture() returns NULL, and nothing crashes.  Link with -lctxshim
 * (or define CTXSHIM_STRONG before including) to make the dependency hard.
 *
 * Keys: 1-64 characters of [A-Za-z0-9_.-].  Values: any bytes but NUL, at
 * most CTXSHIM_MAX_VALUE bytes.  A context holds at most CTXSHIM_MAX_ENTRIES.
 */
#ifndef CTXSHIM_H
#define CTXSHIM_H

#include <errno.h>
#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CTXSHIM_MAX_KEY 64
#define CTXSHIM_MAX_VALUE 4096
#define CTXSHIM_MAX_ENTRIES 64

/* An opaque, reference-counted handle on a context (see ctxshim_capture). */
typedef struct ctxshim_ctx ctxshim_ctx_t;

/* An interned key name (see ctxshim_key); 0 is no key. */
typedef unsigned int ctxshim_key_t;

/* Called by ctxshim_foreach for each entry; return non-zero to stop. */
typedef int (*ctxshim_visit_fn)(const char *key, const char *value, void *arg);

#if defined(CTXSHIM_STRONG) || defined(CTXSHIM_BUILDING)
#define CTXSHIM__DECL
#else
#define CTXSHIM__DECL __attribute__((weak))
#endif

/* Set KEY to VALUE in the calling thread's context.  0, or -1 with errno
 * EINVAL (NULL or invalid key, NULL value, value over CTXSHIM_MAX_VALUE),
 * ENOSPC (context already holds CTXSHIM_MAX_ENTRIES keys) or ENOMEM.
 * Nothing is stored on failure. */
CTXSHIM__DECL int ctxshim_set(const char *key, const char *value);

/* Copy KEY's value into BUF (NUL-terminated, truncated like snprintf) and
 * return its full length; -1 with errno ENOENT when unset, EINVAL for a bad
 * key.  BUF may be NULL when SIZE is 0 (to learn the length). */
CTXSHIM__DECL ssize_t ctxshim_get(const char *key, char *buf, size_t size);

/* The handle of key NAME, for ctxshim_get_key: the same for every thread and
 * stable for the life of the process (a forked child keeps it).  0 with
 * errno EINVAL for an invalid name, ENOSPC when the process already made
 * 1024 different handles, ENOSYS without the shim.  Takes a lock: make
 * handles at start-up, not in a signal handler. */
CTXSHIM__DECL ctxshim_key_t ctxshim_key(const char *name);

/* ctxshim_get for a handle: the same contract (EINVAL for 0 or a handle
 * ctxshim_key did not return).  The fastest read: no strlen or hash when
 * the thread read the key since its context last changed. */
CTXSHIM__DECL ssize_t ctxshim_get_key(ctxshim_key_t key, char *buf, size_t size);

/* Remove KEY (in chain mode: hide it from this thread only).  0, or -1 with
 * errno EINVAL for a bad key. */
CTXSHIM__DECL int ctxshim_unset(const char *key);

/* Remove every entry (in chain mode: drop this thread's own layer). */
CTXSHIM__DECL void ctxshim_clear(void);

/* Call FN for each entry of the current context, in key order.  The strings
 * belong to a snapshot that stays valid during the call, so FN may call
 * ctxshim_set.
 * Returns the number of entries visited, or -1 with errno ENOMEM. */
CTXSHIM__DECL int ctxshim_foreach(ctxshim_visit_fn fn, void *arg);

/* Take a reference on the calling thread's context, as a child thread would
 * inherit it (a snapshot in copy mode, the shared map in share mode, a live
 * parent in chain mode).  Never NULL when the shim is present. */
CTXSHIM__DECL ctxshim_ctx_t *ctxshim_capture(void);

/* Make CTX the calling thread's context, as if this thread were a child
 * started where CTX was captured (NULL: an empty context).  CTX stays owned
 * by the caller.  Returns a token holding the previous context (NULL when it
 * was empty): pass it to ctxshim_detach. */
CTXSHIM__DECL ctxshim_ctx_t *ctxshim_attach(ctxshim_ctx_t *ctx);

/* Restore the context saved in TOKEN (from ctxshim_attach) and free it. */
CTXSHIM__DECL void ctxshim_detach(ctxshim_ctx_t *token);

/* Drop a reference taken by ctxshim_capture.  NULL is ignored. */
CTXSHIM__DECL void ctxshim_release(ctxshim_ctx_t *ctx);

/* Start a job (aiolocals' job_context): request_id becomes a new unique id
 * starting with "JOB" and request_path becomes NAME.  0 or -1 with errno. */
CTXSHIM__DECL int ctxshim_job_begin(const char *name);

#if !defined(CTXSHIM_BUILDING) && !defined(CTXSHIM_STRONG)
/* Each call checks that the shim is there.  A function-like macro does not
 * expand inside itself, so (ctxshim_set) below names the real function. */
#define ctxshim_set(k, v) \
	((ctxshim_set) ? (ctxshim_set)(k, v) : (errno = ENOSYS, -1))
#define ctxshim_get(k, b, n) \
	((ctxshim_get) ? (ctxshim_get)(k, b, n) : (errno = ENOENT, (ssize_t)-1))
#define ctxshim_key(k) \
	((ctxshim_key) ? (ctxshim_key)(k) : (errno = ENOSYS, (ctxshim_key_t)0))
#define ctxshim_get_key(k, b, n) \
	((ctxshim_get_key) ? (ctxshim_get_key)(k, b, n) : (errno = ENOENT, (ssize_t)-1))
#define ctxshim_unset(k) \
	((ctxshim_unset) ? (ctxshim_unset)(k) : (errno = ENOSYS, -1))
#define ctxshim_clear() \
	((ctxshim_clear) ? (ctxshim_clear)() : (void)0)
#define ctxshim_foreach(f, a) \
	((ctxshim_foreach) ? (ctxshim_foreach)(f, a) : 0)
#define ctxshim_capture() \
	((ctxshim_capture) ? (ctxshim_capture)() : (ctxshim_ctx_t *)0)
#define ctxshim_attach(c) \
	((ctxshim_attach) ? (ctxshim_attach)(c) : (ctxshim_ctx_t *)0)
#define ctxshim_detach(t) \
	((ctxshim_detach) ? (ctxshim_detach)(t) : (void)0)
#define ctxshim_release(c) \
	((ctxshim_release) ? (ctxshim_release)(c) : (void)0)
#define ctxshim_job_begin(n) \
	((ctxshim_job_begin) ? (ctxshim_job_begin)(n) : (errno = ENOSYS, -1))
#endif

#ifdef __cplusplus
}
#endif
#endif /* CTXSHIM_H */
