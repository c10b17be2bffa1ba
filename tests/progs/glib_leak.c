/* glib_leak: GLib register/fire cycles, for RSS and valgrind (leak_rss.h). */
#include "leak_rss.h"

#include <glib.h>

static long done;
static GMutex lock;
static GCond cond;

static gboolean once(gpointer d) { (void)d; done++; return G_SOURCE_REMOVE; }
static void notify(gpointer d) { (void)d; }
static void item(gpointer d, gpointer u)
{
	(void)d;
	(void)u;
	g_mutex_lock(&lock);
	done++;
	g_cond_signal(&cond);
	g_mutex_unlock(&lock);
}

static int cycle(const char *mode, long n)
{
	static GThreadPool *pool;
	static GMainContext *other;
	if (!pool) {
		pool = g_thread_pool_new(item, NULL, 2, TRUE, NULL);
		other = g_main_context_new();
	}
	for (long i = 0; i < n; i++) {
		leak_context(i);
		if (!strcmp(mode, "idle")) {
			g_idle_add(once, NULL);
		} else if (!strcmp(mode, "timeout")) {
			g_timeout_add_full(G_PRIORITY_DEFAULT, 0, once, NULL, notify);
		} else if (!strcmp(mode, "setcb")) {
			GSource *s = g_idle_source_new();
			g_source_set_callback(s, once, NULL, notify);
			g_source_set_callback(s, once, NULL, notify);   /* replaced */
			g_source_attach(s, NULL);
			g_source_unref(s);
		} else if (!strcmp(mode, "remove")) {          /* destroyed unrun */
			g_source_remove(g_idle_add_full(G_PRIORITY_DEFAULT, once, NULL, notify));
			continue;
		} else if (!strcmp(mode, "invoke")) {          /* via an idle on another context */
			g_main_context_invoke(other, once, NULL);
			g_main_context_iteration(other, FALSE);
			continue;
		} else if (!strcmp(mode, "pool")) {
			static long pushed;
			pushed++;
			g_thread_pool_push(pool, GINT_TO_POINTER(1), NULL);
			if (i % 256 == 255 || i == n - 1) {   /* the whole batch, run */
				g_mutex_lock(&lock);
				while (done < pushed)
					g_cond_wait(&cond, &lock);
				g_mutex_unlock(&lock);
			}
			continue;
		} else {
			return -1;
		}
		g_main_context_iteration(NULL, FALSE);
	}
	return 0;
}

LEAK_MAIN(cycle)
