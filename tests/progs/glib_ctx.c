/*
 * glib_ctx: a GLib program that registers callbacks from four "requests"
 * (request_id req-0..req-3) and prints, from inside every callback, the
 * request it was registered for (reg=, carried in the program's user_data)
 * and the request_id it sees (ctx=, "-" when unset).  Under ctxshim the two
 * agree; without it ctx is always "-" and everything else is the same.
 *
 * Covered: repeating timeouts (every run) with destroy notifies, idle
 * siblings dispatched in one iteration, the *_once variants, a source given
 * its callback with g_source_set_callback, g_main_context_invoke to another
 * thread's context, g_source_remove_by_user_data and find_source_by_user_data,
 * a thread pool whose threads predate the requests, its sort function and
 * move_to_front, items dropped by g_thread_pool_free, GTask's thread
 * function and completion callback; then the loop thread's own context.
 */
#include <ctxshim.h>
#include "keycheck.h"
#include <errno.h>
#include <gio/gio.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *req[4] = { "req-0", "req-1", "req-2", "req-3" };
static GMainLoop *loop;
static int outstanding;
static GMutex out_lock;

static void say(const char *what, const char *reg)
{
	char cur[80], line[256];
	if (kc_get("request_id", cur, sizeof cur) < 0)
		strcpy(cur, "-");
	int n = snprintf(line, sizeof line, "%s reg=%s ctx=%s\n", what, reg, cur);
	if (write(1, line, (size_t)n) < 0)
		exit(1);
}

static void check(const char *what, int ok)
{
	char line[128];
	int n = snprintf(line, sizeof line, "%s %s\n", what, ok ? "ok" : "WRONG");
	if (write(1, line, (size_t)n) < 0)
		exit(1);
}

static void enter(const char *id)
{
	if (id)
		ctxshim_set("request_id", id);
	else
		ctxshim_unset("request_id");
}

static void expect(int n)
{
	g_mutex_lock(&out_lock);
	outstanding += n;
	g_mutex_unlock(&out_lock);
}

/* One awaited callback is done; the last one ends the loop. */
static void done(void)
{
	g_mutex_lock(&out_lock);
	int left = --outstanding;
	g_mutex_unlock(&out_lock);
	if (left == 0)
		g_main_loop_quit(loop);
}

/* ---- sources on the default context ------------------------------------ */

static int runs[4];

static gboolean on_repeat(gpointer data)
{
	int i = (int)(strrchr(data, '-')[1] - '0');
	char label[32];
	snprintf(label, sizeof label, "timeout-run%d", ++runs[i]);
	say(label, data);
	return runs[i] < 3 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void on_notify(gpointer data)
{
	say("notify", data);
	done();
}

static gboolean on_idle(gpointer data)
{
	say("idle", data);
	done();
	return G_SOURCE_REMOVE;
}

static void on_idle_once(gpointer data) { say("idle-once", data); done(); }
static void on_timeout_once(gpointer data) { say("timeout-once", data); done(); }

static gboolean on_custom(gpointer data)
{
	say("set-callback", data);
	done();
	return G_SOURCE_REMOVE;
}

/* A nested iteration inside a callback: the inner callback sees its own
 * request, the outer one its own again afterwards. */
static gboolean on_inner(gpointer data)
{
	say("nested-inner", data);
	done();
	return G_SOURCE_REMOVE;
}

static gboolean on_outer(gpointer data)
{
	say("nested-outer-before", data);
	while (g_main_context_iteration(NULL, FALSE))
		;
	say("nested-outer-after", data);
	done();
	return G_SOURCE_REMOVE;
}

static gboolean never(gpointer data)
{
	say("never", data);
	return G_SOURCE_REMOVE;
}

/* ---- another thread's context ------------------------------------------- */

static GMainContext *worker_ctx;
static GMainLoop *worker_loop;

static gpointer worker(gpointer unused)
{
	(void)unused;
	g_main_context_push_thread_default(worker_ctx);
	g_main_loop_run(worker_loop);
	g_main_context_pop_thread_default(worker_ctx);
	return NULL;
}

static gboolean on_invoke(gpointer data)
{
	say(g_main_context_is_owner(worker_ctx) ? "invoke-worker" : "invoke-here", data);
	done();
	return G_SOURCE_REMOVE;
}

/* ---- thread pools --------------------------------------------------------- */

static void on_item(gpointer data, gpointer pool_data)
{
	check("pool-user-data", strcmp(pool_data, "pool-data") == 0);
	say("pool-item", data);
	done();
}

static const char *sorted[] = { "sort-a", "sort-b", "sort-c", NULL };
static int sort_saw_program_data = 1;

static gint by_name(gconstpointer a, gconstpointer b, gpointer user_data)
{
	int known_a = 0, known_b = 0;
	for (int i = 0; sorted[i]; i++) {
		known_a |= a == sorted[i];
		known_b |= b == sorted[i];
	}
	if (!known_a || !known_b || strcmp(user_data, "sort-data") != 0)
		sort_saw_program_data = 0;
	return strcmp(known_a ? a : "", known_b ? b : "");
}

static void on_sorted_item(gpointer data, gpointer pool_data)
{
	(void)pool_data;
	say("sorted-item-never", data);
}

/* Everything in the held pool was pushed from req-2. */
static void on_dropped(gpointer data)
{
	char label[32];
	snprintf(label, sizeof label, "dropped-%s", (const char *)data);
	say(label, "req-2");
}

/* ---- GTask ---------------------------------------------------------------- */

static void task_thread(GTask *task, gpointer src, gpointer data, GCancellable *c)
{
	(void)src;
	(void)c;
	say("task-thread", data);
	g_task_return_boolean(task, TRUE);
}

static void task_done(GObject *src, GAsyncResult *res, gpointer data)
{
	(void)src;
	(void)res;
	say("task-done", data);
	done();
}

int main(void)
{
	loop = g_main_loop_new(NULL, FALSE);

	/* Pool threads start before any request, in a context of their own. */
	enter("pool-creator");
	GThreadPool *pool = g_thread_pool_new(on_item, "pool-data", 2, TRUE, NULL);
	worker_ctx = g_main_context_new();
	worker_loop = g_main_loop_new(worker_ctx, FALSE);
	GThread *wt = g_thread_new("worker", worker, NULL);
	enter(NULL);

	for (int i = 0; i < 4; i++) {
		enter(req[i]);
		expect(3);
		g_timeout_add_full(G_PRIORITY_DEFAULT, 5, on_repeat, (gpointer)req[i], on_notify);
		g_idle_add(on_idle, (gpointer)req[i]);
		g_thread_pool_push(pool, (gpointer)req[i], NULL);
	}
	enter(NULL);
	expect(1);
	g_thread_pool_push(pool, "-", NULL);

	enter(req[2]);
	expect(1);
	g_idle_add_once(on_idle_once, (gpointer)req[2]);
	enter(req[3]);
	expect(1);
	g_timeout_add_once(1, on_timeout_once, (gpointer)req[3]);

	enter(req[0]);
	expect(2);
	g_timeout_add_full(G_PRIORITY_HIGH, 0, on_outer, (gpointer)req[0], NULL);
	enter(req[1]);
	g_idle_add(on_inner, (gpointer)req[1]);
	enter(req[0]);
	expect(1);
	GSource *src = g_timeout_source_new(2);
	g_source_set_callback(src, on_custom, (gpointer)req[0], NULL);
	g_source_attach(src, NULL);
	g_source_unref(src);

	/* Registering leaves the program's errno alone. */
	errno = EDOM;
	g_source_remove(g_idle_add(never, "quiet"));
	check("errno-kept", errno == EDOM);

	/* The program's user_data finds its sources. */
	static char mine[] = "find-me";
	guint id = g_idle_add(never, mine);
	check("find-by-user-data", g_main_context_find_source_by_user_data(NULL, mine) ==
	      g_main_context_find_source_by_id(NULL, id));
	check("remove-by-user-data", g_source_remove_by_user_data(mine));
	g_idle_add(never, mine);
	check("idle-remove-by-data", g_idle_remove_by_data(mine));

	enter(req[1]);
	expect(2);
	g_main_context_invoke(worker_ctx, on_invoke, (gpointer)req[1]);
	g_main_context_invoke(NULL, on_invoke, (gpointer)req[1]);   /* runs here, now */

	enter(req[3]);
	expect(1);
	GTask *task = g_task_new(NULL, NULL, task_done, (gpointer)req[3]);
	g_task_set_task_data(task, (gpointer)req[3], NULL);
	g_task_run_in_thread(task, task_thread);
	g_object_unref(task);

	/* A pool stopped while items are queued: sort, move to front, drop. */
	enter(req[2]);
	GThreadPool *held = g_thread_pool_new_full(on_sorted_item, NULL, on_dropped, 0, FALSE, NULL);
	g_thread_pool_push(held, (gpointer)sorted[2], NULL);
	g_thread_pool_push(held, (gpointer)sorted[0], NULL);
	g_thread_pool_set_sort_function(held, by_name, "sort-data");
	g_thread_pool_push(held, (gpointer)sorted[1], NULL);
	check("sort-sees-program-data", sort_saw_program_data);
	check("move-to-front", g_thread_pool_move_to_front(held, (gpointer)sorted[2]));
	check("move-to-front-absent", !g_thread_pool_move_to_front(held, "absent"));
	g_thread_pool_free(held, TRUE, TRUE);

	enter("loop-main");
	say("before", "loop-main");
	g_main_loop_run(loop);
	say("after", "loop-main");

	g_thread_pool_free(pool, FALSE, TRUE);
	g_main_loop_quit(worker_loop);
	g_thread_join(wt);
	g_main_loop_unref(worker_loop);
	g_main_context_unref(worker_ctx);
	g_main_loop_unref(loop);
	return 0;
}
