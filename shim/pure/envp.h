/*
 * envp.h: building a child's environment (pure functions over arrays).
 *
 * The parent's environ is never modified: the child gets a new array that
 * holds the caller's strings, minus a stale BAGGAGE, plus the current
 * context's BAGGAGE, an LD_PRELOAD that still names the shim, and the
 * CTXSHIM_* settings the caller's array lacks.  No allocation: the exec hooks
 * may run in a vforked child.
 */
#ifndef CTX_ENVP_H
#define CTX_ENVP_H

#include <stddef.h>
#include <sys/types.h>

/* Number of strings in ENVP (NULL counts as empty). */
size_t envp_count(char *const envp[]);

/* The value of NAME in ENVP, or NULL. */
const char *envp_get(char *const envp[], const char *name);

/* 1 if the LD_PRELOAD value LIST (space or colon separated) names a file
 * whose base name equals SELF's. */
int envp_preload_has(const char *list, const char *self);

/* Write "LD_PRELOAD=<cur>:<self>" (or "LD_PRELOAD=<self>") into BUF.
 * Returns BUF, or NULL when it does not fit. */
char *envp_preload_kv(char *buf, size_t cap, const char *cur, const char *self);

/* Fill OUT (CAP slots, including the final NULL) with ENVP's strings, where
 * BAGGAGE= is dropped when DROP_BAG and LD_PRELOAD= when PRELOAD_KV is given,
 * then BAG_KV and PRELOAD_KV (when not NULL), then each CARRY string whose
 * name ENVP lacks.  Returns the number of strings, or -1 when CAP is too
 * small. */
ssize_t envp_build(char **out, size_t cap, char *const envp[], const char *bag_kv,
		   int drop_bag, const char *preload_kv, const char *const carry[]);

#endif
