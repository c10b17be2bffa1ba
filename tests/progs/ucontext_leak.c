/* ucontext_leak: coroutine make/switch cycles, for RSS and valgrind. */
#include "leak_rss.h"

#include <ucontext.h>

static ucontext_t main_uc, co_uc, ping_uc;
static char stack[64 * 1024], ping_stack[64 * 1024];

static void body(void) {}

static void pinger(void)
{
	for (;;)
		swapcontext(&ping_uc, &main_uc);
}

static int cycle(const char *mode, long n)
{
	static int ready;
	if (!ready) {
		getcontext(&ping_uc);
		ping_uc.uc_stack.ss_sp = ping_stack;
		ping_uc.uc_stack.ss_size = sizeof ping_stack;
		makecontext(&ping_uc, pinger, 0);
		ready = 1;
	}
	for (volatile long i = 0; i < n; i++) {
		leak_context(i);
		if (!strcmp(mode, "make")) {           /* made, run to its end */
			getcontext(&co_uc);
			co_uc.uc_stack.ss_sp = stack;
			co_uc.uc_stack.ss_size = sizeof stack;
			co_uc.uc_link = &main_uc;
			makecontext(&co_uc, body, 0);
			swapcontext(&main_uc, &co_uc);
		} else if (!strcmp(mode, "swap")) {    /* one coroutine, switched to and back */
			swapcontext(&main_uc, &ping_uc);
		} else {
			return -1;
		}
	}
	return 0;
}

LEAK_MAIN(cycle)
