/*
 * core.c: each thread's current context and the three inheritance modes.
 *
 * copy  (default): a thread holds an immutable map.  A child gets a reference
 *        to it (the snapshot is one atomic increment); a write replaces the
 *        writer's map, so nobody else sees it.  Reads take no lock.
 * share: threads hold a reference to one mutable box; writes swap the box's
 *        map under its lock, so every holder sees them.
 * chain: each thread has its own box (its layer) linked to its parent's box.
 *        A read looks in the layer, then up the chain, live; unset writes a
 *        tombstone into the layer; clear empties the layer.
 *
 * The mode is fixed at start-up, so a handle's type follows from it: a map in
 * copy mode, a box otherwise.
 */
#include "core_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

__thread struct ctx_thread ctx_self CTX_TLS;

static pthread_key_t exit_key;

int ctx_observed;

/* Around every change of the calling thread's map or box pointer.  The
 * functions that change it also raise `changing` over their whole run
 * (reading the old value included): a signal handler that interrupts them
 * then leaves the thread's context alone (ctx_interrupted). */
static inline int self_lock(void)
{
	int held = ctx_observed;   /* read once: the unlock must match */
	if (unlikely(held))
		peek_lock(&ctx_self);
	return held;
}

static inline void self_unlock(int held)
{
	if (unlikely(held))
		peek_unlock(&ctx_self);
}

#define CHANGING_BEGIN (ctx_self.changing++)
#define CHANGING_END (ctx_self.changing--)


struct cmap ctx_empty_map = { .refs = 1u << 30, .n = 0 };

static struct ctx_box *box_new(struct cmap *own, struct ctx_box *parent)
{
	struct ctx_box *b = malloc(sizeof *b);
	if (!b)
		return NULL;
	atomic_init(&b->refs, 1);
	pthread_mutex_init(&b->lock, NULL);
	b->own = own;
	b->parent = parent;
	return b;
}

struct ctx_box *box_ref(struct ctx_box *b)
{
	if (b)
		atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
	return b;
}

void box_unref(struct ctx_box *b)
{
	/* A loop, not recursion: a chain can be as deep as threads nest. */
	while (b && atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1) {
		struct ctx_box *up = b->parent;
		cmap_unref(b->own);
		pthread_mutex_destroy(&b->lock);
		free(b);
		b = up;
	}
}

/* Release this thread's context when it exits, however it exits. */
static void on_thread_exit(void *unused)
{
	(void)unused;
	ctx_defer_flush();
	CHANGING_BEGIN;
	int held_ = self_lock();
	struct cmap *m = ctx_self.map;
	struct ctx_box *b = ctx_self.box;
	ctx_self.map = NULL;
	ctx_self.box = NULL;
	ctx_self.keyed = 0;
	self_unlock(held_);
	CHANGING_END;
	cmap_unref(m);
	box_unref(b);
}

void ctx_arm_exit(void)
{
	if (!ctx_self.keyed && pthread_setspecific(exit_key, (void *)1) == 0)
		ctx_self.keyed = 1;
}

/* Called once by ctx_init with the map decoded from BAGGAGE. */
void ctx_core_init(struct cmap *initial)
{
	pthread_key_create(&exit_key, on_thread_exit);
	ctx_pid_init();
	if (ctx_cfg.mode == CTX_COPY) {
		ctx_self.map = initial;
	} else {
		ctx_self.box = box_new(initial, NULL);
		if (!ctx_self.box)
			cmap_unref(initial);
	}
}

/* The calling thread's box, made on first use (share/chain modes). */
static struct ctx_box *self_box(void)
{
	if (!ctx_self.box) {
		struct ctx_box *b = box_new(NULL, NULL);
		int held_ = self_lock();
		ctx_self.box = b;
		self_unlock(held_);
		if (ctx_self.box)
			ctx_arm_exit();
	}
	return ctx_self.box;
}

/* ---- handles ---------------------------------------------------------- */

ctxshim_ctx_t *ctx_capture(void)
{
	if (ctx_cfg.mode == CTX_COPY) {
		struct cmap *m = ctx_self.map;
		return m ? (ctxshim_ctx_t *)cmap_ref(m) : EMPTY_HANDLE;
	}
	return (ctxshim_ctx_t *)box_ref(self_box());
}

/* What a thread holds when it runs under handle H. */
static void install(ctxshim_ctx_t *h)
{
	CHANGING_BEGIN;
	int held_ = self_lock();
	if (ctx_cfg.mode == CTX_COPY) {
		ctx_self.map = cmap_ref(as_map(h));
	} else if (ctx_cfg.mode == CTX_SHARE) {
		ctx_self.box = box_ref((struct ctx_box *)h);
	} else {
		struct ctx_box *parent = box_ref((struct ctx_box *)h);
		ctx_self.box = box_new(NULL, parent);
		if (!ctx_self.box)
			ctx_self.box = parent;  /* out of memory: share rather than lose */
	}
	self_unlock(held_);
	CHANGING_END;
	if (ctx_self.map || ctx_self.box)
		ctx_arm_exit();
}

void ctx_adopt(ctxshim_ctx_t *h)
{
	install(h);
	ctx_release(h);
}

ctxshim_ctx_t *ctx_attach(ctxshim_ctx_t *h)
{
	ctxshim_ctx_t *token;
	CHANGING_BEGIN;
	int held_ = self_lock();
	if (ctx_cfg.mode == CTX_COPY) {
		token = (ctxshim_ctx_t *)ctx_self.map;
		ctx_self.map = NULL;
	} else {
		token = (ctxshim_ctx_t *)ctx_self.box;
		ctx_self.box = NULL;
	}
	self_unlock(held_);
	install(h);
	CHANGING_END;
	return token;
}

void ctx_detach(ctxshim_ctx_t *token)
{
	CHANGING_BEGIN;
	struct cmap *cur_map = ctx_self.map;
	struct ctx_box *cur_box = ctx_self.box;
	int held_ = self_lock();
	if (ctx_cfg.mode == CTX_COPY)
		ctx_self.map = (struct cmap *)token;
	else
		ctx_self.box = (struct ctx_box *)token;
	self_unlock(held_);
	CHANGING_END;
	cmap_unref(cur_map);
	box_unref(cur_box);
	if (token)
		ctx_arm_exit();
}

void ctx_switch(ctxshim_ctx_t *h)
{
	CHANGING_BEGIN;
	struct cmap *old_map = ctx_self.map;
	struct ctx_box *old_box = ctx_self.box;
	int held_ = self_lock();
	if (ctx_cfg.mode == CTX_COPY)
		ctx_self.map = cmap_ref(as_map(h));
	else
		ctx_self.box = box_ref((struct ctx_box *)h);
	self_unlock(held_);
	CHANGING_END;
	if (ctx_self.map || ctx_self.box)
		ctx_arm_exit();
	cmap_unref(old_map);
	box_unref(old_box);
}

ctxshim_ctx_t *ctx_capture_held(void)
{
	if (ctx_cfg.mode == CTX_COPY)
		return ctx_capture();
	return (ctxshim_ctx_t *)box_ref(ctx_self.box);
}

int ctx_switch_later(ctxshim_ctx_t *h)
{
	if (ctx_interrupted() || ctx_defer_room() == 0)
		return -1;
	CHANGING_BEGIN;
	ctxshim_ctx_t *old;
	int held_ = self_lock();
	if (ctx_cfg.mode == CTX_COPY) {
		old = (ctxshim_ctx_t *)ctx_self.map;
		ctx_self.map = cmap_ref(as_map(h));
	} else {
		old = (ctxshim_ctx_t *)ctx_self.box;
		ctx_self.box = box_ref((struct ctx_box *)h);
	}
	self_unlock(held_);
	CHANGING_END;
	if (ctx_self.map || ctx_self.box)
		ctx_arm_exit();
	/* The room was there; a handler that filled it since leaves no choice. */
	if (ctx_release_later(old) < 0)
		ctx_release(old);
	return 0;
}

static int ent_cmp(const struct cmap_entry *a, const struct cmap_entry *b)
{
	int c = memcmp(a->key, b->key, a->klen < b->klen ? a->klen : b->klen);
	return c ? c : (a->klen > b->klen) - (a->klen < b->klen);
}

/* The entries of M not named in SET, and SET, into V (capacity MAX), in
 * key order when SET is sorted (then cmap_build need not sort).  Returns
 * the count, or -1 when they do not fit. */
static int merge(const struct cmap *m, const struct cmap_entry *set, size_t n,
		 struct cmap_entry *v, size_t max)
{
	struct cmap_entry keep[CMAP_MAX_ENTRIES];
	size_t nk = 0, k = 0, a = 0, b = 0;
	for (uint32_t i = 0; m && i < m->n; i++) {
		size_t j = 0;
		while (j < n && !(set[j].klen == m->e[i].klen &&
				  memcmp(set[j].key, m->e[i].key, set[j].klen) == 0))
			j++;
		if (j == n)
			keep[nk++] = m->e[i];
	}
	if (nk + n > max)
		return -1;
	while (a < nk || b < n)
		v[k++] = b == n || (a < nk && ent_cmp(&keep[a], &set[b]) < 0) ? keep[a++] : set[b++];
	return (int)k;
}

ctxshim_ctx_t *ctx_derive(ctxshim_ctx_t *h, const struct cmap_entry *set, size_t n)
{
	struct cmap_entry v[CMAP_MAX_ENTRIES];
	struct cmap *m = NULL;
	int k;

	if (ctx_cfg.mode == CTX_CHAIN) {
		/* A layer of its own over H: H's later writes show through. */
		if (n > CMAP_MAX_ENTRIES || (n && cmap_build(set, n, &m) < 0))
			return NULL;
		struct ctx_box *b = box_new(m, box_ref((struct ctx_box *)h));
		if (!b) {
			box_unref((struct ctx_box *)h);
			cmap_unref(m);
		}
		return (ctxshim_ctx_t *)b;
	}
	if (ctx_cfg.mode == CTX_COPY) {
		k = merge(as_map(h), set, n, v, CMAP_MAX_ENTRIES);
		if (k < 0 || (k && cmap_build(v, (size_t)k, &m) < 0))
			return NULL;
		return m ? (ctxshim_ctx_t *)m : EMPTY_HANDLE;
	}
	/* share: a box of its own holding a copy of H's entries. */
	struct ctx_box *hb = (struct ctx_box *)h;
	int r = 0;
	if (hb)
		pthread_mutex_lock(&hb->lock);
	k = merge(hb ? hb->own : NULL, set, n, v, CMAP_MAX_ENTRIES);
	if (k > 0)
		r = cmap_build(v, (size_t)k, &m);   /* copies the strings while locked */
	if (hb)
		pthread_mutex_unlock(&hb->lock);
	if (k < 0 || r < 0)
		return NULL;
	struct ctx_box *b = box_new(m, NULL);
	if (!b)
		cmap_unref(m);
	return (ctxshim_ctx_t *)b;
}

int ctx_is_current(ctxshim_ctx_t *h)
{
	if (ctx_cfg.mode == CTX_COPY)
		return ctx_self.map == as_map(h);
	return ctx_self.box == (struct ctx_box *)h;
}

static size_t map_size(const struct cmap *m)
{
	if (!m)
		return 0;
	return sizeof *m + m->n * sizeof m->e[0] + m->mask + 1u + m->bytes + 2u * m->n;
}

size_t ctx_size(ctxshim_ctx_t *h)
{
	if (!h)
		return 0;
	if (ctx_cfg.mode == CTX_COPY)
		return map_size(as_map(h));
	struct ctx_box *b = (struct ctx_box *)h;
	box_lock(b);
	size_t n = sizeof *b + map_size(b->own);
	box_unlock(b);
	return n;
}

void ctx_release(ctxshim_ctx_t *h)
{
	if (!h)
		return;
	if (ctx_cfg.mode == CTX_COPY)
		cmap_unref(as_map(h));
	else
		box_unref((struct ctx_box *)h);
}

/* ---- writes ----------------------------------------------------------- */

/* Replace the map that the current thread writes to with F(map). */
enum op { OP_SET, OP_UNSET, OP_UNSET_OWN, OP_CLEAR };

/* Whether KEY is in a view, and how many entries the view has. */
struct seen {
	const char *key;
	size_t klen;
	int found;
	int count;
};

static int seen_one(const struct cmap_entry *e, void *arg)
{
	struct seen *s = arg;
	s->count++;
	if (e->klen == s->klen && memcmp(e->key, s->key, s->klen) == 0)
		s->found = 1;
	return 0;
}

static int apply(struct cmap *cur, enum op op, const char *key, size_t klen,
		 const char *val, size_t vlen, int chain, struct cmap **out)
{
	switch (op) {
	case OP_SET:
		return cmap_with(cur, key, klen, val, vlen, 0, out);
	case OP_UNSET:
		if (chain)
			return cmap_with(cur, key, klen, "", 0, 1, out);
		return cmap_without(cur, key, klen, out);
	case OP_UNSET_OWN:
		return cmap_without(cur, key, klen, out);
	case OP_CLEAR:
		break;
	}
	*out = NULL;
	return 0;
}

static int write_op_in(enum op op, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct cmap *old, *nm;
	if (ctx_cfg.mode == CTX_COPY) {
		if (apply(ctx_self.map, op, key, klen, val, vlen, 0, &nm) < 0)
			return -1;
		old = ctx_self.map;
		int held_ = self_lock();
		ctx_self.map = nm;
		self_unlock(held_);
		if (nm)
			ctx_arm_exit();
		cmap_unref(old);
		return 0;
	}
	int chain = ctx_cfg.mode == CTX_CHAIN;
	struct ctx_box *b = self_box();
	if (!b) {
		errno = ENOMEM;
		return -1;
	}
	if (chain && op != OP_CLEAR) {
		/* INHERITED: what the thread sees through its ancestors; VIEW:
		 * everything it sees (neither counts the process-wide layer,
		 * which a program's unset does not touch in any mode). */
		struct seen inherited = { key, klen, 0, 0 }, view = { key, klen, 0, 0 };
		struct walk wi = { seen_one, &inherited, 0, 0 }, wv = { seen_one, &view, 0, 0 };
		chain_lock(b);
		view_visit(NULL, b->parent, &wi, 0);
		view_visit(NULL, b, &wv, 0);
		chain_unlock(b);
		if (op == OP_UNSET && !inherited.found)
			op = OP_UNSET_OWN;    /* not inherited: no tombstone needed */
		else if (op == OP_SET && !view.found && view.count >= CMAP_MAX_ENTRIES) {
			errno = ENOSPC;       /* the view would hold more than 64 */
			return -1;
		}
	}
	box_lock(b);
	int r = apply(b->own, op, key, klen, val, vlen, chain, &nm);
	if (r == 0) {
		old = b->own;
		b->own = nm;
	}
	box_unlock(b);
	if (r == 0)
		cmap_unref(old);
	return r;
}

static int write_op(enum op op, const char *key, size_t klen, const char *val, size_t vlen)
{
	/* The program's own write allocates anyway: a safe point. */
	ctx_defer_drain();
	CHANGING_BEGIN;
	int r = write_op_in(op, key, klen, val, vlen);
	CHANGING_END;
	return r;
}

int ctx_set_n(const char *key, size_t klen, const char *val, size_t vlen)
{
	if (!cmap_key_valid(key, klen) || !val || vlen > CMAP_MAX_VALUE ||
	    memchr(val, '\0', vlen)) {
		errno = EINVAL;
		return -1;
	}
	return write_op(OP_SET, key, klen, val, vlen);
}

int ctx_unset_n(const char *key, size_t klen)
{
	if (!key)
		return write_op(OP_CLEAR, NULL, 0, NULL, 0);
	if (!cmap_key_valid(key, klen)) {
		errno = EINVAL;
		return -1;
	}
	return write_op(OP_UNSET, key, klen, NULL, 0);
}

/* ---- fork --------------------------------------------------------------- */

void ctx_fork_child(struct cmap *snap)
{
	ctx_ids_fork_child();
	ctx_view_fork_child();
	atomic_flag_clear(&ctx_self.peek);
	if (ctx_cfg.mode == CTX_COPY) {
		cmap_unref(snap);
		return;
	}
	/* Other threads' boxes may be locked forever in this process: leave them
	 * and start a private root box with the forking thread's view. */
	ctx_self.box = box_new(snap, NULL);
	if (!ctx_self.box)
		cmap_unref(snap);
}
