/*
 * ptrtab.h: a concurrent hash table keyed by pointer, for what the event-loop
 * family keeps beside objects that belong to the program (a libuv handle, a
 * libevent event, a GLib thread pool): the program's struct stays untouched.
 *
 * Intrusive: the caller's record starts with a struct ptrtab_node, so an
 * insert allocates nothing but, now and then, a bigger bucket array.  The
 * table is split into shards, each with its own lock and its own bucket
 * array that doubles as it fills, so threads working on different objects
 * rarely meet and a lookup stays O(1) however many objects are live.
 *
 * Pure: no hooks, no globals.  A table is a plain value (PTRTAB_INIT).
 */
#ifndef CTX_PTRTAB_H
#define CTX_PTRTAB_H

#include <pthread.h>
#include <stddef.h>

struct ptrtab_node {
	struct ptrtab_node *next;
	const void *key;
};

#define PTRTAB_SHARDS 32

struct ptrtab_shard {
	pthread_mutex_t lock;
	struct ptrtab_node **b;   /* NULL until the first insert */
	size_t nb;                /* buckets, a power of two */
	size_t n;                 /* nodes */
};

struct ptrtab {
	struct ptrtab_shard s[PTRTAB_SHARDS];
};

#define PTRTAB_INIT { .s = { [0 ... PTRTAB_SHARDS - 1] = { .lock = PTHREAD_MUTEX_INITIALIZER } } }

/* The shard that holds KEY; lock it (shard->lock) around the _locked calls. */
struct ptrtab_shard *ptrtab_shard(struct ptrtab *t, const void *key);

/* With the shard locked: the node for KEY, or NULL. */
struct ptrtab_node *ptrtab_find_locked(struct ptrtab_shard *s, const void *key);

/* With the shard locked: add N (N->key set).  A node already there under the
 * same key is unlinked and returned (the caller frees it).  -1 when the first
 * bucket array cannot be allocated (N is not added), else 0. */
int ptrtab_put_locked(struct ptrtab_shard *s, struct ptrtab_node *n, struct ptrtab_node **old);

/* With the shard locked: unlink and return the node for KEY, or NULL. */
struct ptrtab_node *ptrtab_take_locked(struct ptrtab_shard *s, const void *key);

/* The same, each taking the shard's lock itself. */
int ptrtab_put(struct ptrtab *t, struct ptrtab_node *n, struct ptrtab_node **old);
struct ptrtab_node *ptrtab_take(struct ptrtab *t, const void *key);
struct ptrtab_node *ptrtab_get(struct ptrtab *t, const void *key);

/* Unlink every node for which PRED(node, arg) is non-zero and return them
 * chained through ->next (the caller frees them outside any lock). */
struct ptrtab_node *ptrtab_take_if(struct ptrtab *t,
				   int (*pred)(const struct ptrtab_node *, void *), void *arg);

/* Call FN on every node, with its shard locked (FN must not touch the
 * table).  For fork's child: the caller holds every lock already. */
void ptrtab_each_locked(struct ptrtab *t, void (*fn)(struct ptrtab_node *, void *), void *arg);

/* fork(): hold every shard's lock across it, so the child never inherits a
 * table half-changed by another thread. */
void ptrtab_lock_all(struct ptrtab *t);
void ptrtab_unlock_all(struct ptrtab *t);

#endif
