/*
 * core_view.c: reading contexts.  A thread's view is its own map (copy
 * mode) or its box chain (share/chain), over the process-wide layer; these
 * functions look keys up, walk and flatten views, peek at other threads, and
 * encode a view as Baggage.  Box locks are held only while a view is read.
 */
#include "core_int.h"

#include "baggage.h"

#include <errno.h>
#include <linux/membarrier.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>


/* The process-wide layer; see core.h. */
struct cmap *_Atomic ctx_global;

static struct cmap *global_map(void)
{
	return atomic_load_explicit(&ctx_global, memory_order_acquire);
}

ssize_t ctx_lookup(const char *key, size_t klen, char *buf, size_t size)
{
	const struct cmap_entry *e = NULL;
	ssize_t r = -1;

	if (ctx_cfg.mode == CTX_COPY) {
		e = cmap_find(ctx_self.map, key, klen);
		if (e)
			return ctx_copy_out(e, buf, size);
	} else {
		if (view_blocked())
			return -1;
		for (struct ctx_box *b = ctx_self.box; b; b = b->parent) {
			box_lock(b);
			e = cmap_find(b->own, key, klen);
			if (e && !e->tomb)
				r = ctx_copy_out(e, buf, size);
			box_unlock(b);
			if (e || ctx_cfg.mode == CTX_SHARE)
				break;
		}
		if (e)
			return r;
	}
	if (!atomic_load_explicit(&ctx_global, memory_order_relaxed))
		return -1;
	e = cmap_find(ctx_global_enter(), key, klen);
	r = e ? ctx_copy_out(e, buf, size) : -1;
	ctx_global_leave();
	return r;
}

void chain_lock(struct ctx_box *b)
{
	for (; b; b = b->parent) {
		box_lock(b);
		if (ctx_cfg.mode == CTX_SHARE)
			break;
	}
}

void chain_unlock(struct ctx_box *b)
{
	for (; b; b = b->parent) {
		box_unlock(b);
		if (ctx_cfg.mode == CTX_SHARE)
			break;
	}
}


static void walk_one(struct walk *w, const struct cmap_entry *e)
{
	if (w->stop)
		return;
	w->n++;
	w->stop = w->fn(e, w->arg);
}

/* 1 if KEY has an entry (or a tombstone) in the thread view M or B. */
static int view_has(const struct cmap *m, struct ctx_box *b, const struct cmap_entry *key)
{
	if (cmap_find(m, key->key, key->klen))
		return 1;
	for (; b; b = b->parent) {
		if (cmap_find(b->own, key->key, key->klen))
			return 1;
		if (ctx_cfg.mode == CTX_SHARE)
			break;
	}
	return 0;
}

void view_visit(const struct cmap *m, struct ctx_box *b, struct walk *w, int global)
{
	for (uint32_t i = 0; m && i < m->n; i++)
		walk_one(w, &m->e[i]);
	for (struct ctx_box *layer = b; layer; layer = layer->parent) {
		struct cmap *own = layer->own;
		for (uint32_t i = 0; own && i < own->n; i++) {
			const struct cmap_entry *e = &own->e[i];
			int hidden = e->tomb;
			for (struct ctx_box *near = b; near != layer && !hidden; near = near->parent)
				hidden = cmap_find(near->own, e->key, e->klen) != NULL;
			if (!hidden)
				walk_one(w, e);
		}
		if (ctx_cfg.mode == CTX_SHARE)
			break;
	}
	const struct cmap *g = global ? global_map() : NULL;
	for (uint32_t i = 0; g && i < g->n; i++)
		if (!view_has(m, b, &g->e[i]))
			walk_one(w, &g->e[i]);
}

/* A read of the process-wide layer around a walk and what is done with the
 * entries it collected (they point into the layer): 1 when one was opened
 * (there is a layer); pass that to view_visit as GLOBAL.  A layer set after
 * the check is not seen by this walk, as if set a moment later. */
static int global_open(void)
{
	if (!atomic_load_explicit(&ctx_global, memory_order_relaxed))
		return 0;
	ctx_global_enter();
	return 1;
}

static void global_close(int opened)
{
	if (opened)
		ctx_global_leave();
}

int ctx_visit(ctx_entry_fn fn, void *arg)
{
	struct walk w = { fn, arg, 0, 0 };
	if (view_blocked())
		return 0;
	struct ctx_box *b = ctx_cfg.mode == CTX_COPY ? NULL : ctx_self.box;
	int g = global_open();
	chain_lock(b);
	view_visit(ctx_cfg.mode == CTX_COPY ? ctx_self.map : NULL, b, &w, g);
	chain_unlock(b);
	global_close(g);
	return w.n;
}

struct collect {
	struct cmap_entry v[CMAP_MAX_ENTRIES];
	size_t n;
};

static int collect_one(const struct cmap_entry *e, void *arg)
{
	struct collect *c = arg;
	if (c->n == CMAP_MAX_ENTRIES)
		return 1;
	c->v[c->n++] = *e;
	return 0;
}

/* The view of M or B flattened into one new map (see ctx_snapshot). */
static int view_snapshot(struct cmap *m, struct ctx_box *b, struct cmap **out)
{
	if (!b && !global_map()) {
		*out = cmap_ref(m);    /* copy mode: the map is the snapshot */
		return 0;
	}
	struct collect c;
	struct walk w = { collect_one, &c, 0, 0 };
	c.n = 0;
	int g = global_open();
	chain_lock(b);
	view_visit(m, b, &w, g);
	int r = cmap_build(c.v, c.n, out);  /* copies the strings while locked */
	chain_unlock(b);
	global_close(g);
	return r;
}

int ctx_snapshot_into(void *buf, size_t cap, struct cmap **out)
{
	struct ctx_box *b = ctx_cfg.mode == CTX_COPY ? NULL : ctx_self.box;
	struct collect c;
	struct walk w = { collect_one, &c, 0, 0 };
	if (ctx_self.in_core) {
		errno = EDEADLK;
		return -1;
	}
	c.n = 0;
	int g = global_open();
	chain_lock(b);
	view_visit(ctx_cfg.mode == CTX_COPY ? ctx_self.map : NULL, b, &w, g);
	int r = cmap_build_into(c.v, c.n, buf, cap, out);
	chain_unlock(b);
	global_close(g);
	return r;
}

int ctx_snapshot(struct cmap **out)
{
	if (view_blocked()) {
		*out = NULL;
		errno = EDEADLK;
		return -1;
	}
	if (ctx_cfg.mode == CTX_COPY)
		return view_snapshot(ctx_self.map, NULL, out);
	return view_snapshot(NULL, ctx_self.box, out);
}

int ctx_peek(struct ctx_thread *t, struct cmap **out)
{
	peek_lock(t);
	struct cmap *m = cmap_ref(t->map);
	struct ctx_box *b = box_ref(t->box);
	peek_unlock(t);
	int r = view_snapshot(m, b, out);
	cmap_unref(m);
	box_unref(b);
	return r;
}

ctxshim_ctx_t *ctx_ref(ctxshim_ctx_t *h)
{
	if (!h)
		return NULL;
	if (ctx_cfg.mode == CTX_COPY)
		cmap_ref(as_map(h));
	else
		box_ref((struct ctx_box *)h);
	return h;
}

int ctx_view(ctxshim_ctx_t *h, struct cmap **out)
{
	if (ctx_cfg.mode == CTX_COPY)
		return view_snapshot(h ? as_map(h) : NULL, NULL, out);
	return view_snapshot(NULL, (struct ctx_box *)h, out);
}

/* ---- the process-wide layer ------------------------------------------------
 *
 * Written by one thread at a time (global_lock), the control listener;
 * read by any thread at any time, signal handlers included.  A replaced
 * layer is retired with the epoch that follows its replacement, and freed
 * once every read still open began in that epoch or later (such a read
 * loaded ctx_global after the replacement, so it holds a newer layer):
 * epoch-based reclamation.  A reader publishes its open count and epoch in
 * its own TLS with plain stores (ctx_global_enter); the reclaimer first
 * makes every thread of the process pass a full memory barrier
 * (membarrier(2), private expedited) so that those stores are visible, then
 * reads them through the control registry (ctx_global_scan).  Threads the
 * registry does not know count their open reads in one shared counter;
 * while any is open nothing is freed.  Without membarrier (an old kernel, a
 * seccomp filter) nothing is freed either.  The retired layers' size is
 * capped (GRAVE_MAX): a replacement beyond it waits for readers a little,
 * then is refused (EBUSY). */

_Atomic uint64_t ctx_global_epoch = 2;
atomic_uint ctx_global_strays;
uint64_t (*ctx_global_scan)(void);

static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;

/* Replaced layers not yet freed (listed, so leak checkers see them as
 * reachable). */
struct retired {
	struct cmap *m;
	uint64_t epoch;      /* reads that began at this epoch or later are not in it */
	size_t bytes;
	struct retired *next;
};
static struct retired *graveyard;
static size_t grave_bytes;
#define GRAVE_MAX (1u << 20)

static size_t layer_bytes(const struct cmap *m)
{
	return sizeof *m + m->n * sizeof m->e[0] + (m->mask + 1) + m->bytes + 2 * m->n;
}

static void global_replace(struct cmap *nm)
{
	struct cmap *old = global_map();
	struct retired *r = old ? malloc(sizeof *r) : NULL;
	uint64_t e = atomic_load_explicit(&ctx_global_epoch, memory_order_relaxed);
	/* Odd while it changes (log.h's prefix cache reads it as a version). */
	atomic_store_explicit(&ctx_global_epoch, e + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&ctx_global, nm, memory_order_release);
	atomic_store_explicit(&ctx_global_epoch, e + 2, memory_order_release);
	if (r) {
		r->m = old;
		r->epoch = e + 2;
		r->bytes = layer_bytes(old);
		r->next = graveyard;
		graveyard = r;
		grave_bytes += r->bytes;
	}
	/* else out of memory: the old layer is never freed */
}

/* Every running thread of the process has executed a full memory barrier
 * by the time this returns 0. */
static int barrier_all(void)
{
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0)
		return 0;
	/* Registered once per process (a forked child or an exec'd image
	 * starts unregistered). */
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0 &&
	    syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0)
		return 0;
	return syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0 ? 0 : -1;
}

/* Free the retired layers no open read can hold (global_lock held). */
static void reclaim(void)
{
	if (!graveyard || !ctx_global_scan || barrier_all() < 0)
		return;
	uint64_t safe = atomic_load_explicit(&ctx_global_strays, memory_order_acquire) ?
				0 : ctx_global_scan();
	for (struct retired **p = &graveyard, *r; (r = *p);) {
		if (r->epoch > safe) {
			p = &r->next;
			continue;
		}
		*p = r->next;
		grave_bytes -= r->bytes;
		cmap_unref(r->m);
		free(r);
	}
}

/* Before a replacement: room in the graveyard, or EBUSY.  A thread that
 * was descheduled in the middle of a read holds back every layer replaced
 * since: waited for a little (up to ~2 s, 1 ms at a time; the caller is the
 * control listener, and readers never take global_lock). */
static int grave_room(void)
{
	struct timespec ms = { 0, 1000000 };
	for (int i = 0; grave_bytes > GRAVE_MAX; i++) {
		reclaim();
		if (grave_bytes <= GRAVE_MAX)
			break;
		if (i == 2000) {
			errno = EBUSY;
			return -1;
		}
		syscall(SYS_nanosleep, &ms, NULL);   /* not our hook, nor another preload's */
	}
	return 0;
}

int ctx_global_set(const char *key, size_t klen, const char *val, size_t vlen)
{
	struct cmap *nm;
	if (!cmap_key_valid(key, klen) || !val || vlen > CMAP_MAX_VALUE ||
	    memchr(val, '\0', vlen)) {
		errno = EINVAL;
		return -1;
	}
	ctx_self.in_core++;
	pthread_mutex_lock(&global_lock);
	int r = grave_room();
	if (r == 0)
		r = cmap_with(global_map(), key, klen, val, vlen, 0, &nm);
	if (r == 0) {
		global_replace(nm);
		reclaim();
	}
	pthread_mutex_unlock(&global_lock);
	ctx_self.in_core--;
	return r;
}

int ctx_global_unset(const char *key, size_t klen)
{
	struct cmap *nm;
	if (!cmap_key_valid(key, klen)) {
		errno = EINVAL;
		return -1;
	}
	ctx_self.in_core++;
	pthread_mutex_lock(&global_lock);
	struct cmap *old = global_map();
	int r = grave_room();
	if (r == 0)
		r = cmap_without(old, key, klen, &nm);
	if (r == 0 && nm != old) {
		global_replace(nm);
		reclaim();
	} else if (r == 0) {
		cmap_unref(nm);
	}
	pthread_mutex_unlock(&global_lock);
	ctx_self.in_core--;
	return r;
}

void ctx_global_reader(int reg)
{
	if (ctx_self.greg == reg)
		return;
	unsigned open = atomic_load_explicit(&ctx_self.gnest, memory_order_relaxed);
	if (reg) {
		/* Reads open as a stray: seen as begun at the oldest epoch,
		 * counted twice for a moment rather than not at all. */
		atomic_store_explicit(&ctx_self.gepoch, 0, memory_order_release);
		ctx_self.greg = 1;
		atomic_signal_fence(memory_order_seq_cst);
		if (open)
			atomic_fetch_sub_explicit(&ctx_global_strays, open, memory_order_release);
	} else {
		if (open)
			atomic_fetch_add_explicit(&ctx_global_strays, open, memory_order_seq_cst);
		atomic_signal_fence(memory_order_seq_cst);
		ctx_self.greg = 0;
	}
}

struct bag_pass {
	struct bag_writer *w;
	int ids;        /* this pass adds request_id only, else all the others */
	size_t need;    /* measuring: the bytes the members would take */
};

static int is_request_id(const struct cmap_entry *e)
{
	return e->klen == 10 && memcmp(e->key, "request_id", 10) == 0;
}

static int bag_one(const struct cmap_entry *e, void *arg)
{
	struct bag_pass *p = arg;
	if (is_request_id(e) != p->ids)
		return 0;
	if (p->w)
		bag_writer_add(p->w, e->key, e->klen, e->val, e->vlen);
	else
		p->need += bag_encode_member(NULL, 0, e->key, e->klen, e->val, e->vlen) + 1;
	return p->ids;   /* there is one request_id */
}

ssize_t ctx_baggage_size(void)
{
	struct bag_pass p = { NULL, 1, 0 };
	if (view_blocked()) {
		errno = EDEADLK;
		return -1;
	}
	ctx_visit(bag_one, &p);
	p.ids = 0;
	ctx_visit(bag_one, &p);
	return (ssize_t)(p.need < BAG_MAX_BYTES ? p.need : BAG_MAX_BYTES);
}

ssize_t ctx_baggage(char *buf, size_t cap)
{
	struct bag_writer w;
	struct bag_pass p = { &w, 1, 0 };
	if (view_blocked()) {
		errno = EDEADLK;
		return -1;
	}
	bag_writer_init(&w, buf, cap);
	/* request_id first: if anything must be dropped, it is not the id. */
	ctx_visit(bag_one, &p);
	p.ids = 0;
	ctx_visit(bag_one, &p);
	return (ssize_t)w.len;
}

void ctx_view_fork_child(void)
{
	pthread_mutex_init(&global_lock, NULL);   /* another thread may have held it */
	/* Only this thread's open reads exist here. */
	atomic_store_explicit(&ctx_global_strays,
			      ctx_self.greg ? 0 : atomic_load_explicit(&ctx_self.gnest,
									memory_order_relaxed),
			      memory_order_relaxed);
}
