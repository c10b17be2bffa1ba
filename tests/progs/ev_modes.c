/*
 * ev_modes: what a callback's own writes do, by CTXSHIM_MODE.  The main
 * thread (request "main") schedules a callback that reads request_id and
 * then sets key "cb"; after the loop, main reports whether it sees "cb".
 * copy: the callback sees main's request, main never sees "cb".
 * share: one shared map: main sees "cb".  chain: the callback reads main's
 * layer live, writes its own: main does not see "cb".
 */
#include <ctxshim.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>

static void on_once(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	char v[64] = "-";
	ctxshim_get("request_id", v, sizeof v);
	printf("callback sees request_id=%s\n", v);
	ctxshim_set("cb", "written");
}

int main(void)
{
	struct event_base *base = event_base_new();
	ctxshim_set("request_id", "main");
	event_base_once(base, -1, EV_TIMEOUT, on_once, NULL, NULL);
	event_base_dispatch(base);
	char v[64] = "-";
	ctxshim_get("cb", v, sizeof v);
	printf("main sees cb=%s\n", v);
	ctxshim_get("request_id", v, sizeof v);
	printf("main sees request_id=%s\n", v);
	event_base_free(base);
	return 0;
}
