/*
 * gloop.h: what gloop.c (sources) and gloop_pool.c (thread
 * pools) share.
 */
#ifndef CTX_HOOK_GLIB_H
#define CTX_HOOK_GLIB_H

#include "hooks.h"
#include "loop.h"

#include <glib.h>
#define HOOKS_LIB_glib ~, 1
#include "hooks_lib.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#define GL_REAL(name) LOOP_REAL(name, hooks_libs_glib)

/* GLib functions we call but do not interpose, found once. */
struct gl_api {
	int ok;
	void (*set_callback_indirect)(GSource *, gpointer, GSourceCallbackFuncs *);
	GSource *(*idle_source_new)(void);
	GSource *(*timeout_source_new)(guint);
	GSource *(*timeout_source_new_seconds)(guint);
	GSource *(*child_watch_source_new)(GPid);
	GSource *(*io_create_watch)(GIOChannel *, GIOCondition);
	void (*set_priority)(GSource *, gint);
	guint (*attach)(GSource *, GMainContext *);
	void (*unref)(GSource *);
	gint (*main_depth)(void);
	GMainContext *(*context_default)(void);
	gboolean (*is_owner)(GMainContext *);
	GMainContext *(*thread_default)(void);
	gboolean (*acquire)(GMainContext *);
	void (*release)(GMainContext *);
	GThreadPool *(*pool_new_full)(GFunc, gpointer, GDestroyNotify, gint, gboolean, GError **);
};
extern struct gl_api gl;

/* 1 when the shim acts and every function above was found. */
int gl_ready(void);

#endif
