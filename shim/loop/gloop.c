/*
 * gloop.c: GLib main-loop sources.  A source's callback runs in the
 * context that was current when the callback was set: g_idle_add*,
 * g_timeout_add*, g_io_add_watch*, g_child_watch_add*, the idle source of
 * g_main_context_invoke*, and g_source_set_callback on any source (GIO's
 * own calls included: GTask's completion callbacks are set this way, from
 * the thread that returns the task).  Thread pools: gloop_pool.c.
 *
 * GLib keeps a source's callback as a refcounted object behind three
 * functions (GSourceCallbackFuncs: ref, unref, get), and lets anyone supply
 * their own with g_source_set_callback_indirect.  We do: our object holds
 * the program's function, data and destroy notify, and `get` answers with
 * exactly those, so the source's dispatch calls the program's function with
 * the program's data, whatever its signature (an idle's GSourceFunc, an IO
 * watch's GIOFunc), its return value (G_SOURCE_CONTINUE / REMOVE) goes back
 * untouched, and g_main_context_find_source_by_user_data,
 * g_source_remove_by_user_data and g_idle_remove_by_data still find it.
 *
 * When to switch contexts: g_main_dispatch is the only caller of `ref`, and
 * calls it just before the dispatch, with the matching `unref` just after,
 * both at the same g_main_depth() (the depth is one more inside the
 * dispatch).  So `ref` attaches the callback's context and `unref` at that
 * depth detaches it; other unrefs (g_source_destroy from inside the
 * callback) happen deeper or on other threads and only count.  The program's
 * destroy notify runs, in the callback's context, when the last reference
 * goes, exactly when GLib's own callback object would call it.
 *
 * The *_add functions do what GLib's do (the same source, priority, name and
 * attach), with our callback object in place of GLib's.  The *_once ones
 * (2.74) take a GSourceOnceFunc, which returns nothing: for the dispatch
 * only (the `get` that follows our `ref`), `get` hands GLib a small function
 * that calls it and answers G_SOURCE_REMOVE.
 */
#define HOOKS_LIB_DEFINE /* this file defines the real_g_* pointers */
#include "gloop.h"

#include <pthread.h>

struct gl_api gl;

static void resolve(void)
{
#define R(field, name) gl.field = (__typeof__(gl.field))hooks_lib_sym(hooks_libs_glib, name)
	R(set_callback_indirect, "g_source_set_callback_indirect");
	R(idle_source_new, "g_idle_source_new");
	R(timeout_source_new, "g_timeout_source_new");
	R(timeout_source_new_seconds, "g_timeout_source_new_seconds");
	R(child_watch_source_new, "g_child_watch_source_new");
	R(io_create_watch, "g_io_create_watch");
	R(set_priority, "g_source_set_priority");
	R(attach, "g_source_attach");
	R(unref, "g_source_unref");
	R(main_depth, "g_main_depth");
	R(context_default, "g_main_context_default");
	R(is_owner, "g_main_context_is_owner");
	R(thread_default, "g_main_context_get_thread_default");
	R(acquire, "g_main_context_acquire");
	R(release, "g_main_context_release");
	R(pool_new_full, "g_thread_pool_new_full");
#undef R
	gl.ok = gl.set_callback_indirect && gl.idle_source_new && gl.timeout_source_new &&
		gl.timeout_source_new_seconds && gl.child_watch_source_new && gl.io_create_watch &&
		gl.set_priority && gl.attach && gl.unref && gl.main_depth && gl.context_default &&
		gl.is_owner && gl.thread_default && gl.acquire && gl.release;
}

int gl_ready(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	static atomic_int resolved;
	if (unlikely(!ctx_should_act()))
		return 0;
	if (unlikely(!atomic_load_explicit(&resolved, memory_order_acquire))) {
		pthread_once(&once, resolve);
		atomic_store_explicit(&resolved, 1, memory_order_release);
	}
	return gl.ok;
}

/* ---- our callback object --------------------------------------------- */

struct gw {
	atomic_int refs;
	int once;                /* func is a GSourceOnceFunc */
	GSourceFunc func;
	gpointer data;
	GDestroyNotify notify;
	ctxshim_ctx_t *ctx;
};

/* The runs under way on this thread, innermost last (nested main loops). */
#define FRAMES 16
struct frame {
	struct gw *w;
	ctxshim_ctx_t *token;
	int depth;
	int entered;
	int got;                 /* the dispatch's `get` has happened */
};
static __thread struct frame frames[FRAMES] CTX_TLS;
static __thread int nframes CTX_TLS;
/* Past FRAMES nested runs: no context switch, but a once-function must
 * still be called as one. */
static __thread struct gw *unframed CTX_TLS;

static void gw_ref(gpointer p)
{
	struct gw *w = p;
	atomic_fetch_add_explicit(&w->refs, 1, memory_order_relaxed);
	/* Only g_main_dispatch takes a reference: a run starts on this thread. */
	if (nframes < FRAMES) {
		struct frame *f = &frames[nframes++];
		f->w = w;
		f->depth = gl.main_depth();
		f->got = 0;
		f->token = loop_enter(w->ctx, &f->entered);
	} else {
		unframed = w;
	}
}

static gboolean once_run(gpointer p)
{
	struct gw *w = p;
	((GSourceOnceFunc)(void (*)(void))w->func)(w->data);
	return G_SOURCE_REMOVE;
}

static void gw_get(gpointer p, GSource *src, GSourceFunc *func, gpointer *data)
{
	struct gw *w = p;
	(void)src;
	*func = w->func;
	*data = w->data;
	if (!w->once)
		return;
	if (unframed == w) {
		unframed = NULL;
	} else if (nframes && frames[nframes - 1].w == w && !frames[nframes - 1].got) {
		frames[nframes - 1].got = 1;
	} else {
		return;       /* a lookup by user_data: the program's own pair */
	}
	*func = once_run;
	*data = w;
}

static void gw_unref(gpointer p)
{
	struct gw *w = p;
	if (nframes && frames[nframes - 1].w == w && frames[nframes - 1].depth == gl.main_depth()) {
		struct frame *f = &frames[--nframes];
		loop_leave(f->token, f->entered);
	}
	if (atomic_fetch_sub_explicit(&w->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (w->notify) {
		int e;
		ctxshim_ctx_t *t = loop_enter(w->ctx, &e);
		w->notify(w->data);
		loop_leave(t, e);
	}
	ctx_release(w->ctx);
	free(w);
}

static GSourceCallbackFuncs gw_funcs = { gw_ref, gw_unref, gw_get };

static struct gw *gw_new(GSourceFunc func, gpointer data, GDestroyNotify notify, int once)
{
	KEEP_ERRNO;
	struct gw *w = malloc(sizeof *w);
	if (w) {
		atomic_init(&w->refs, 1);
		w->once = once;
		w->func = func;
		w->data = data;
		w->notify = notify;
		w->ctx = ctx_capture();
	}
	RESTORE_ERRNO;
	return w;
}

/* What GLib's *_add functions do, with our callback object. */
static guint add(GSource *src, gint prio, gint default_prio, struct gw *w, GMainContext *mc)
{
	if (prio != default_prio)
		gl.set_priority(src, prio);
	gl.set_callback_indirect(src, w, &gw_funcs);
	guint id = gl.attach(src, mc);
	gl.unref(src);
	return id;
}

/* ---- hooks ------------------------------------------------------------- */

CTX_EXPORT void g_source_set_callback(GSource *src, GSourceFunc func, gpointer data,
				      GDestroyNotify notify)
{
	__typeof__(real_g_source_set_callback) real = GL_REAL(g_source_set_callback);
	struct gw *w;
	if (unlikely(!real))
		return;
	if (!src || !gl_ready() || !(w = gw_new(func, data, notify, 0))) {
		real(src, func, data, notify);
		return;
	}
	gl.set_callback_indirect(src, w, &gw_funcs);
}

/* The *_add hooks: GLib's checks first (a NULL function is the program's
 * error, answered by GLib itself), then the same source as GLib builds. */
#define ADD(name, fallback, func, data, notify, once, make, prio, default_prio) do { \
	__typeof__(real_##name) real_ = GL_REAL(name); \
	struct gw *w_; \
	if (unlikely(!real_)) \
		return 0; \
	if (!func || !gl_ready() || \
	    !(w_ = gw_new((GSourceFunc)(void (*)(void))func, data, notify, once))) \
		return real_ fallback; \
	return add(make, prio, default_prio, w_, NULL); \
} while (0)

CTX_EXPORT guint g_idle_add_full(gint prio, GSourceFunc func, gpointer data, GDestroyNotify notify)
{
	ADD(g_idle_add_full, (prio, func, data, notify), func, data, notify, 0,
	    gl.idle_source_new(), prio, G_PRIORITY_DEFAULT_IDLE);
}

CTX_EXPORT guint g_idle_add(GSourceFunc func, gpointer data)
{
	ADD(g_idle_add, (func, data), func, data, NULL, 0,
	    gl.idle_source_new(), G_PRIORITY_DEFAULT_IDLE, G_PRIORITY_DEFAULT_IDLE);
}

CTX_EXPORT guint g_idle_add_once(GSourceOnceFunc func, gpointer data)
{
	ADD(g_idle_add_once, (func, data), func, data, NULL, 1,
	    gl.idle_source_new(), G_PRIORITY_DEFAULT_IDLE, G_PRIORITY_DEFAULT_IDLE);
}

CTX_EXPORT guint g_timeout_add_full(gint prio, guint interval, GSourceFunc func, gpointer data,
				    GDestroyNotify notify)
{
	ADD(g_timeout_add_full, (prio, interval, func, data, notify), func, data, notify, 0,
	    gl.timeout_source_new(interval), prio, G_PRIORITY_DEFAULT);
}

CTX_EXPORT guint g_timeout_add(guint interval, GSourceFunc func, gpointer data)
{
	ADD(g_timeout_add, (interval, func, data), func, data, NULL, 0,
	    gl.timeout_source_new(interval), G_PRIORITY_DEFAULT, G_PRIORITY_DEFAULT);
}

CTX_EXPORT guint g_timeout_add_once(guint interval, GSourceOnceFunc func, gpointer data)
{
	ADD(g_timeout_add_once, (interval, func, data), func, data, NULL, 1,
	    gl.timeout_source_new(interval), G_PRIORITY_DEFAULT, G_PRIORITY_DEFAULT);
}

CTX_EXPORT guint g_timeout_add_seconds_full(gint prio, guint interval, GSourceFunc func,
					    gpointer data, GDestroyNotify notify)
{
	ADD(g_timeout_add_seconds_full, (prio, interval, func, data, notify), func, data, notify,
	    0, gl.timeout_source_new_seconds(interval), prio, G_PRIORITY_DEFAULT);
}

CTX_EXPORT guint g_timeout_add_seconds(guint interval, GSourceFunc func, gpointer data)
{
	ADD(g_timeout_add_seconds, (interval, func, data), func, data, NULL, 0,
	    gl.timeout_source_new_seconds(interval), G_PRIORITY_DEFAULT, G_PRIORITY_DEFAULT);
}

CTX_EXPORT guint g_child_watch_add_full(gint prio, GPid pid, GChildWatchFunc func, gpointer data,
					GDestroyNotify notify)
{
	GChildWatchFunc f = pid > 0 ? func : NULL;   /* GLib's own check and warning */
	ADD(g_child_watch_add_full, (prio, pid, func, data, notify), f, data, notify, 0,
	    gl.child_watch_source_new(pid), prio, G_PRIORITY_DEFAULT);
}

CTX_EXPORT guint g_child_watch_add(GPid pid, GChildWatchFunc func, gpointer data)
{
	GChildWatchFunc f = pid > 0 ? func : NULL;
	ADD(g_child_watch_add, (pid, func, data), f, data, NULL, 0,
	    gl.child_watch_source_new(pid), G_PRIORITY_DEFAULT, G_PRIORITY_DEFAULT);
}

CTX_EXPORT guint g_io_add_watch_full(GIOChannel *ch, gint prio, GIOCondition cond, GIOFunc func,
				     gpointer data, GDestroyNotify notify)
{
	/* GLib's version checks the channel, not the function. */
	GIOFunc f = ch ? func : NULL;
	ADD(g_io_add_watch_full, (ch, prio, cond, func, data, notify), f, data, notify, 0,
	    gl.io_create_watch(ch, cond), prio, G_PRIORITY_DEFAULT);
}

CTX_EXPORT guint g_io_add_watch(GIOChannel *ch, GIOCondition cond, GIOFunc func, gpointer data)
{
	GIOFunc f = ch ? func : NULL;
	ADD(g_io_add_watch, (ch, cond, func, data), f, data, NULL, 0,
	    gl.io_create_watch(ch, cond), G_PRIORITY_DEFAULT, G_PRIORITY_DEFAULT);
}

/* GLib's own logic, all public calls: when the context can be had here, the
 * function runs at once, in the caller's context (the one it would be
 * given); else from an idle source on that context, with ours. */
CTX_EXPORT void g_main_context_invoke_full(GMainContext *mc, gint prio, GSourceFunc func,
					   gpointer data, GDestroyNotify notify)
{
	__typeof__(real_g_main_context_invoke_full) real = GL_REAL(g_main_context_invoke_full);
	struct gw *w;
	if (unlikely(!real))
		return;
	if (!func || !gl_ready()) {
		real(mc, prio, func, data, notify);
		return;
	}
	if (!mc)
		mc = gl.context_default();
	if (gl.is_owner(mc)) {
		while (func(data))
			;
		if (notify)
			notify(data);
		return;
	}
	GMainContext *td = gl.thread_default();
	if (!td)
		td = gl.context_default();
	if (td == mc && gl.acquire(mc)) {
		while (func(data))
			;
		gl.release(mc);
		if (notify)
			notify(data);
		return;
	}
	if (!(w = gw_new(func, data, notify, 0))) {
		real(mc, prio, func, data, notify);
		return;
	}
	GSource *src = gl.idle_source_new();
	gl.set_priority(src, prio);
	add(src, prio, prio, w, mc);
}

CTX_EXPORT void g_main_context_invoke(GMainContext *mc, GSourceFunc func, gpointer data)
{
	g_main_context_invoke_full(mc, G_PRIORITY_DEFAULT, func, data, NULL);
}
