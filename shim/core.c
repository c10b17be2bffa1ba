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
#include "core.h"

#include "baggage.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct ctx_box {
	atomic_uint refs;
	pthread_mutex_t lock;
	struct cmap *own;        /* guarded by lock */
	struct ctx_box *parent;  /* chain mode; fixed at creation */
};

__thread struct ctx_thread ctx_self CTX_TLS;

static pthread_key_t exit_key;

/* capture() must not return NULL for an empty copy-mode context: this
 * immortal stand-in is never freed and never stored in a thread. */
static struct cmap empty_map = { .refs = 1u << 30, .n = 0 };
#define EMPTY_HANDLE ((ctxshim_ctx_t *)&empty_map)

static struct cmap *as_map(ctxshim_ctx_t *h)
{
	return (struct cmap *)h == &empty_map ? NULL : (struct cmap *)h;
}

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

static struct ctx_box *box_ref(struct ctx_box *b)
{
	if (b)
		atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
	return b;
}

static void box_unref(struct ctx_box *b)
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
	struct cmap *m = ctx_self.map;
	struct ctx_box *b = ctx_self.box;
	ctx_self.map = NULL;
	ctx_self.box = NULL;
	ctx_self.keyed = 0;
	cmap_unref(m);
	box_unref(b);
}

static void arm_exit(void)
{
	if (!ctx_self.keyed && pthread_setspecific(exit_key, (void *)1) == 0)
		ctx_self.keyed = 1;
}

/* Called once by ctx_init with the map decoded from BAGGAGE. */
void ctx_core_init(struct cmap *initial)
{
	pthread_key_create(&exit_key, on_thread_exit);
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
		ctx_self.box = box_new(NULL, NULL);
		if (ctx_self.box)
			arm_exit();
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

int ctx_is_current(const ctxshim_ctx_t *h)
{
	if (ctx_cfg.mode == CTX_COPY)
		return h == (ctx_self.map ? (const ctxshim_ctx_t *)ctx_self.map : EMPTY_HANDLE);
	return h && h == (const ctxshim_ctx_t *)ctx_self.box;
}

/* What a thread holds when it runs under handle H. */
static void install(ctxshim_ctx_t *h)
{
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
	if (ctx_self.map || ctx_self.box)
		arm_exit();
}

void ctx_adopt(ctxshim_ctx_t *h)
{
	install(h);
	ctx_release(h);
}

ctxshim_ctx_t *ctx_attach(ctxshim_ctx_t *h)
{
	ctxshim_ctx_t *token;
	if (ctx_cfg.mode == CTX_COPY) {
		token = (ctxshim_ctx_t *)ctx_self.map;
		ctx_self.map = NULL;
	} else {
		token = (ctxshim_ctx_t *)ctx_self.box;
		ctx_self.box = NULL;
	}
	install(h);
	return token;
}

void ctx_detach(ctxshim_ctx_t *token)
{
	if (ctx_cfg.mode == CTX_COPY) {
		struct cmap *cur = ctx_self.map;
		ctx_self.map = (struct cmap *)token;
		cmap_unref(cur);
	} else {
		struct ctx_box *cur = ctx_self.box;
		ctx_self.box = (struct ctx_box *)token;
		box_unref(cur);
	}
	if (token)
		arm_exit();
}

void ctx_switch(ctxshim_ctx_t *h)
{
	struct cmap *old_map = ctx_self.map;
	struct ctx_box *old_box = ctx_self.box;
	if (ctx_cfg.mode == CTX_COPY)
		ctx_self.map = cmap_ref(as_map(h));
	else
		ctx_self.box = box_ref((struct ctx_box *)h);
	if (ctx_self.map || ctx_self.box)
		arm_exit();
	cmap_unref(old_map);
	box_unref(old_box);
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

/* ---- reads ------------------------------------------------------------ */

static ssize_t copy_out(const struct cmap_entry *e, char *buf, size_t size)
{
	if (size) {
		size_t n = e->vlen < size - 1 ? e->vlen : size - 1;
		memcpy(buf, e->val, n);
		buf[n] = '\0';
	}
	return (ssize_t)e->vlen;
}

ssize_t ctx_lookup(const char *key, size_t klen, char *buf, size_t size)
{
	const struct cmap_entry *e;
	ssize_t r = -1;

	if (ctx_cfg.mode == CTX_COPY) {
		e = cmap_find(ctx_self.map, key, klen);
		return e ? copy_out(e, buf, size) : -1;
	}
	for (struct ctx_box *b = ctx_self.box; b; b = b->parent) {
		pthread_mutex_lock(&b->lock);
		e = cmap_find(b->own, key, klen);
		if (e && !e->tomb)
			r = copy_out(e, buf, size);
		pthread_mutex_unlock(&b->lock);
		if (e || ctx_cfg.mode == CTX_SHARE)
			break;
	}
	return r;
}

static void chain_lock(struct ctx_box *b)
{
	for (; b; b = b->parent)
		pthread_mutex_lock(&b->lock);
}

static void chain_unlock(struct ctx_box *b)
{
	for (; b; b = b->parent)
		pthread_mutex_unlock(&b->lock);
}

/* Visible entries of a locked chain starting at B (share mode: one box). */
static int chain_visit(struct ctx_box *b, ctx_entry_fn fn, void *arg)
{
	int n = 0;
	for (struct ctx_box *layer = b; layer; layer = layer->parent) {
		struct cmap *m = layer->own;
		for (uint32_t i = 0; m && i < m->n; i++) {
			const struct cmap_entry *e = &m->e[i];
			int hidden = 0;
			for (struct ctx_box *near = b; near != layer && !hidden; near = near->parent)
				hidden = cmap_find(near->own, e->key, e->klen) != NULL;
			if (hidden || e->tomb)
				continue;
			n++;
			if (fn(e, arg))
				return n;
		}
		if (ctx_cfg.mode == CTX_SHARE)
			break;
	}
	return n;
}

int ctx_visit(ctx_entry_fn fn, void *arg)
{
	if (ctx_cfg.mode == CTX_COPY) {
		struct cmap *m = ctx_self.map;
		int n = 0;
		for (uint32_t i = 0; m && i < m->n; i++) {
			n++;
			if (fn(&m->e[i], arg))
				break;
		}
		return n;
	}
	struct ctx_box *b = ctx_self.box;
	struct ctx_box *last = ctx_cfg.mode == CTX_SHARE ? NULL : b;
	if (!b)
		return 0;
	if (last)
		chain_lock(b);
	else
		pthread_mutex_lock(&b->lock);
	int n = chain_visit(b, fn, arg);
	if (last)
		chain_unlock(b);
	else
		pthread_mutex_unlock(&b->lock);
	return n;
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

int ctx_snapshot(struct cmap **out)
{
	struct ctx_box *b = ctx_self.box;
	if (ctx_cfg.mode == CTX_COPY) {
		*out = cmap_ref(ctx_self.map);
		return 0;
	}
	*out = NULL;
	if (!b)
		return 0;
	if (ctx_cfg.mode == CTX_SHARE) {
		pthread_mutex_lock(&b->lock);
		*out = cmap_ref(b->own);
		pthread_mutex_unlock(&b->lock);
		return 0;
	}
	struct collect c;
	c.n = 0;
	chain_lock(b);
	chain_visit(b, collect_one, &c);
	int r = cmap_build(c.v, c.n, out);  /* copies the strings while locked */
	chain_unlock(b);
	return r;
}

static int bag_one(const struct cmap_entry *e, void *arg)
{
	struct bag_writer *w = arg;
	if (!(e->klen == 10 && memcmp(e->key, "request_id", 10) == 0))
		bag_writer_add(w, e->key, e->klen, e->val, e->vlen);
	return 0;
}

size_t ctx_baggage(char *buf, size_t cap)
{
	struct bag_writer w;
	char id[CMAP_MAX_VALUE + 1];
	bag_writer_init(&w, buf, cap);
	/* request_id first: if anything must be dropped, it is not the id. */
	ssize_t n = ctx_lookup("request_id", 10, id, sizeof id);
	if (n >= 0)
		bag_writer_add(&w, "request_id", 10, id, (size_t)n);
	ctx_visit(bag_one, &w);
	return w.len;
}

/* ---- writes ----------------------------------------------------------- */

/* Replace the map that the current thread writes to with F(map). */
enum op { OP_SET, OP_UNSET, OP_CLEAR };

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
	case OP_CLEAR:
		break;
	}
	*out = NULL;
	return 0;
}

static int write_op(enum op op, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct cmap *old, *nm;
	if (ctx_cfg.mode == CTX_COPY) {
		if (apply(ctx_self.map, op, key, klen, val, vlen, 0, &nm) < 0)
			return -1;
		old = ctx_self.map;
		ctx_self.map = nm;
		if (nm)
			arm_exit();
		cmap_unref(old);
		return 0;
	}
	int chain = ctx_cfg.mode == CTX_CHAIN;
	if (op == OP_UNSET && chain && ctx_lookup(key, klen, NULL, 0) < 0)
		return 0;    /* nothing to hide: keep the layer small */
	struct ctx_box *b = self_box();
	if (!b) {
		errno = ENOMEM;
		return -1;
	}
	pthread_mutex_lock(&b->lock);
	int r = apply(b->own, op, key, klen, val, vlen, chain, &nm);
	if (r == 0) {
		old = b->own;
		b->own = nm;
	}
	pthread_mutex_unlock(&b->lock);
	if (r == 0)
		cmap_unref(old);
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

/* ---- the public API ---------------------------------------------------- */

/* The API works only where the shim is on; otherwise it acts as if absent. */
static int api_ready(void)
{
	if (unlikely(!ctx_cfg.ready))
		ctx_init();
	return ctx_cfg.ready && !ctx_cfg.disabled;
}

CTX_EXPORT int ctxshim_set(const char *key, const char *value)
{
	if (!api_ready()) {
		errno = ENOSYS;
		return -1;
	}
	if (!key || !value) {
		errno = EINVAL;
		return -1;
	}
	size_t vlen = strnlen(value, CMAP_MAX_VALUE + 1);
	return ctx_set_n(key, strnlen(key, CMAP_MAX_KEY + 1), value, vlen);
}

CTX_EXPORT ssize_t ctxshim_get(const char *key, char *buf, size_t size)
{
	size_t klen;
	if (unlikely(!api_ready())) {
		errno = ENOENT;
		return -1;
	}
	if (unlikely(!key || (klen = strnlen(key, CMAP_MAX_KEY + 1)) == 0 ||
		     klen > CMAP_MAX_KEY || (!buf && size))) {
		errno = EINVAL;
		return -1;
	}
	ssize_t r = ctx_lookup(key, klen, buf, size);
	if (r < 0)
		errno = ENOENT;
	return r;
}

CTX_EXPORT int ctxshim_unset(const char *key)
{
	if (!api_ready()) {
		errno = ENOSYS;
		return -1;
	}
	size_t klen = key ? strnlen(key, CMAP_MAX_KEY + 1) : 0;
	if (!cmap_key_valid(key, klen)) {
		errno = EINVAL;
		return -1;
	}
	return write_op(OP_UNSET, key, klen, NULL, 0);
}

CTX_EXPORT void ctxshim_clear(void)
{
	if (api_ready())
		write_op(OP_CLEAR, NULL, 0, NULL, 0);
}

CTX_EXPORT int ctxshim_foreach(ctxshim_visit_fn fn, void *arg)
{
	struct cmap *m;
	if (!api_ready() || !fn)
		return 0;
	if (ctx_snapshot(&m) < 0)
		return -1;
	int n = 0;
	for (uint32_t i = 0; m && i < m->n; i++) {
		n++;
		if (fn(m->e[i].key, m->e[i].val, arg))
			break;
	}
	cmap_unref(m);
	return n;
}

CTX_EXPORT ctxshim_ctx_t *ctxshim_capture(void)
{
	return api_ready() ? ctx_capture() : NULL;
}

CTX_EXPORT ctxshim_ctx_t *ctxshim_attach(ctxshim_ctx_t *ctx)
{
	if (!api_ready() || !ctx)
		return NULL;
	return ctx_attach(ctx);
}

CTX_EXPORT void ctxshim_detach(ctxshim_ctx_t *token)
{
	if (api_ready())
		ctx_detach(token);
}

CTX_EXPORT void ctxshim_release(ctxshim_ctx_t *ctx)
{
	if (api_ready())
		ctx_release(ctx);
}

CTX_EXPORT int ctxshim_job_begin(const char *name)
{
	char id[4 + 33] = "JOB-";
	if (!api_ready()) {
		errno = ENOSYS;
		return -1;
	}
	if (!name) {
		errno = EINVAL;
		return -1;
	}
	ctx_new_id(id + 4);
	if (ctx_set_n("request_path", 12, name, strnlen(name, CMAP_MAX_VALUE + 1)) < 0)
		return -1;
	return ctx_set_n("request_id", 10, id, strlen(id));
}

/* ---- fork --------------------------------------------------------------- */

void ctx_fork_child(struct cmap *snap)
{
	ctx_ids_fork_child();
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
