/*
 * libev_plugin: a plugin that uses libevent, for dl_plugin.  The program links
 * neither: it dlopen's this (RTLD_LOCAL), which brings libevent in after
 * the shim has started.  run() schedules four once-callbacks from
 * req-0..req-3 and prints what each sees.
 */
#include <ctxshim.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>

static void on_once(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	char v[64] = "-";
	ctxshim_get("request_id", v, sizeof v);
	printf("plugin-once reg=%s ctx=%s\n", (const char *)arg, v);
}

int run(void)
{
	static const char *req[4] = { "req-0", "req-1", "req-2", "req-3" };
	struct event_base *base = event_base_new();
	if (!base)
		return 1;
	for (int i = 0; i < 4; i++) {
		ctxshim_set("request_id", req[i]);
		event_base_once(base, -1, EV_TIMEOUT, on_once, (void *)req[i], NULL);
	}
	ctxshim_set("request_id", "plugin-main");
	event_base_dispatch(base);
	event_base_free(base);
	return 0;
}
