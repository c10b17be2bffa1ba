/*
 * gloop_pool.c: GLib thread pools.  Each pushed item runs in the context
 * of the thread that pushed it, whichever pool thread runs it and however
 * long before the request that thread was started.  GTask's thread pool is
 * one of these (GIO creates it and pushes to it through the same calls), so
 * g_task_run_in_thread's function runs in the context of its caller.
 *
 * A pool made through our hook runs our function, which unwraps each item:
 * what is queued is our record (struct gitem: the program's data and the
 * pusher's context).  The pool's user_data stays the program's.  What could
 * see the records instead of the program's data is hooked: the sort
 * function is given the program's items (g_thread_pool_set_sort_function),
 * g_thread_pool_move_to_front finds the program's item.  Items a pool drops
 * unrun (g_thread_pool_free with immediate) come back to us through the
 * queue's free function (g_thread_pool_new_full, GLib 2.70), which releases
 * them and calls the program's item_free_func, if it gave one (in the
 * pusher's context too).
 *
 * struct gpool lives as long as the pool or any of its items: the pool
 * holds one reference, each queued item one.
 */
#include "gloop.h"

#include <pthread.h>

static struct ptrtab pools = PTRTAB_INIT;

struct gitem {
	struct gitem *prev, *next;     /* queued: pushed, not started */
	struct gpool *gp;
	gpointer data;
	ctxshim_ctx_t *ctx;
};

struct gpool {
	struct ptrtab_node node;       /* key: the GThreadPool */
	atomic_int refs;
	GFunc func;
	GDestroyNotify item_free;
	GCompareDataFunc sort;         /* read under GLib's queue lock */
	gpointer sort_data;
	pthread_mutex_t lock;          /* guards the queued list */
	struct gitem queued;
};

static void gpool_unref(struct gpool *gp)
{
	if (atomic_fetch_sub_explicit(&gp->refs, 1, memory_order_acq_rel) == 1) {
		pthread_mutex_destroy(&gp->lock);
		free(gp);
	}
}

static void unlink_item(struct gitem *it)
{
	struct gpool *gp = it->gp;
	pthread_mutex_lock(&gp->lock);
	it->prev->next = it->next;
	it->next->prev = it->prev;
	pthread_mutex_unlock(&gp->lock);
}

/* The pool's function: the item's own function, in its pusher's context. */
static void item_run(gpointer p, gpointer user_data)
{
	struct gitem *it = p;
	struct gpool *gp = it->gp;
	gpointer data = it->data;
	ctxshim_ctx_t *h = it->ctx;
	int e;
	unlink_item(it);
	free(it);
	ctxshim_ctx_t *t = loop_enter(h, &e);
	gp->func(data, user_data);
	loop_leave(t, e);
	ctx_release(h);
	gpool_unref(gp);
}

/* The queue's free function: an item the pool dropped without running. */
static void item_dropped(gpointer p)
{
	struct gitem *it = p;
	/* GLib's wake-up marker, should one reach the queue's end. */
	if (p == GUINT_TO_POINTER(1))
		return;
	struct gpool *gp = it->gp;
	unlink_item(it);
	if (gp->item_free) {
		int e;
		ctxshim_ctx_t *t = loop_enter(it->ctx, &e);
		gp->item_free(it->data);
		loop_leave(t, e);
	}
	ctx_release(it->ctx);
	free(it);
	gpool_unref(gp);
}

static gint sort_run(gconstpointer a, gconstpointer b, gpointer p)
{
	struct gpool *gp = p;
	return gp->sort(((const struct gitem *)a)->data, ((const struct gitem *)b)->data,
			gp->sort_data);
}

static GThreadPool *pool_new(GFunc func, gpointer user_data, GDestroyNotify item_free,
			     gint max_threads, gboolean exclusive, GError **error, int *done)
{
	static atomic_int watched;
	*done = 0;
	if (!func || !gl_ready() || !gl.pool_new_full)
		return NULL;
	KEEP_ERRNO;
	struct gpool *gp = calloc(1, sizeof *gp);
	RESTORE_ERRNO;
	if (!gp)
		return NULL;
	atomic_init(&gp->refs, 1);
	gp->func = func;
	gp->item_free = item_free;
	pthread_mutex_init(&gp->lock, NULL);
	gp->queued.prev = gp->queued.next = &gp->queued;
	*done = 1;
	GThreadPool *pool = gl.pool_new_full(item_run, user_data, item_dropped, max_threads,
					     exclusive, error);
	if (!pool) {
		gpool_unref(gp);
		return NULL;
	}
	saved_errno_ = errno;
	struct ptrtab_node *stale = NULL;
	gp->node.key = pool;
	if (!atomic_exchange(&watched, 1))
		ctx_fork_watch(&pools);
	if (ptrtab_put(&pools, &gp->node, &stale) < 0) {
		/* Out of memory: untracked, its items would be pushed bare.  Make
		 * the program's own pool instead (nothing was pushed yet). */
		__typeof__(real_g_thread_pool_free) pfree = GL_REAL(g_thread_pool_free);
		if (pfree)
			pfree(pool, TRUE, TRUE);
		gpool_unref(gp);
		RESTORE_ERRNO;
		*done = 0;
		return NULL;
	}
	if (stale)
		gpool_unref((struct gpool *)stale);
	RESTORE_ERRNO;
	return pool;
}

CTX_EXPORT GThreadPool *g_thread_pool_new(GFunc func, gpointer user_data, gint max_threads,
					  gboolean exclusive, GError **error)
{
	__typeof__(real_g_thread_pool_new) real = GL_REAL(g_thread_pool_new);
	int done;
	if (unlikely(!real))
		return NULL;
	GThreadPool *pool = pool_new(func, user_data, NULL, max_threads, exclusive, error, &done);
	return done ? pool : real(func, user_data, max_threads, exclusive, error);
}

CTX_EXPORT GThreadPool *g_thread_pool_new_full(GFunc func, gpointer user_data,
					       GDestroyNotify item_free, gint max_threads,
					       gboolean exclusive, GError **error)
{
	__typeof__(real_g_thread_pool_new_full) real = GL_REAL(g_thread_pool_new_full);
	int done;
	if (unlikely(!real))
		return NULL;
	GThreadPool *pool = pool_new(func, user_data, item_free, max_threads, exclusive, error,
				     &done);
	return done ? pool : real(func, user_data, item_free, max_threads, exclusive, error);
}

static struct gpool *pool_of(GThreadPool *pool)
{
	return pool ? (struct gpool *)ptrtab_get(&pools, pool) : NULL;
}

CTX_EXPORT gboolean g_thread_pool_push(GThreadPool *pool, gpointer data, GError **error)
{
	__typeof__(real_g_thread_pool_push) real = GL_REAL(g_thread_pool_push);
	if (unlikely(!real))
		return FALSE;
	struct gpool *gp = pool_of(pool);
	if (!gp)
		return real(pool, data, error);
	/* A pool of ours runs item_run, so every item must be wrapped. */
	KEEP_ERRNO;
	struct gitem *it = malloc(sizeof *it);
	if (!it) {
		RESTORE_ERRNO;
		return FALSE;
	}
	it->gp = gp;
	it->data = data;
	it->ctx = ctx_should_act() ? ctx_capture() : NULL;
	atomic_fetch_add_explicit(&gp->refs, 1, memory_order_relaxed);
	pthread_mutex_lock(&gp->lock);
	it->next = gp->queued.next;
	it->prev = &gp->queued;
	gp->queued.next->prev = it;
	gp->queued.next = it;
	pthread_mutex_unlock(&gp->lock);
	RESTORE_ERRNO;
	/* FALSE means no new thread could start; the item is queued all the same. */
	return real(pool, it, error);
}

CTX_EXPORT void g_thread_pool_set_sort_function(GThreadPool *pool, GCompareDataFunc func,
						gpointer user_data)
{
	__typeof__(real_g_thread_pool_set_sort_function) real =
		GL_REAL(g_thread_pool_set_sort_function);
	if (unlikely(!real))
		return;
	struct gpool *gp = pool_of(pool);
	if (!gp) {
		real(pool, func, user_data);
		return;
	}
	gp->sort = func;
	gp->sort_data = user_data;
	real(pool, func ? sort_run : NULL, gp);
}

CTX_EXPORT gboolean g_thread_pool_move_to_front(GThreadPool *pool, gpointer data)
{
	__typeof__(real_g_thread_pool_move_to_front) real = GL_REAL(g_thread_pool_move_to_front);
	if (unlikely(!real))
		return FALSE;
	struct gpool *gp = pool_of(pool);
	if (!gp)
		return real(pool, data);
	/* Our lock, then GLib's queue lock: item_run takes ours with GLib's
	 * released, and the sort function takes none. */
	gboolean found = FALSE;
	pthread_mutex_lock(&gp->lock);
	for (struct gitem *it = gp->queued.prev; it != &gp->queued; it = it->prev)
		if (it->data == data) {
			found = real(pool, it);
			break;
		}
	pthread_mutex_unlock(&gp->lock);
	return found;
}

CTX_EXPORT void g_thread_pool_free(GThreadPool *pool, gboolean immediate, gboolean wait_)
{
	__typeof__(real_g_thread_pool_free) real = GL_REAL(g_thread_pool_free);
	if (unlikely(!real))
		return;
	struct gpool *gp = pool ? (struct gpool *)ptrtab_take(&pools, pool) : NULL;
	real(pool, immediate, wait_);
	if (gp)
		gpool_unref(gp);
}
