/*
 * ucontext_ctx: coroutines on makecontext/swapcontext/setcontext.  Prints,
 * at each step, the request it expects (reg=) and the request_id it sees
 * (ctx=, "-" when unset); under ctxshim they agree, without it ctx is "-"
 * and everything else is the same.
 *
 * 1. A scheduler (request "sched") runs four coroutines made from req-0..3,
 *    round robin.  Each starts in its maker's request, sets a request of its
 *    own, and keeps it across its later runs; the scheduler keeps "sched".
 *    Coroutines end by returning to uc_link, one by setcontext.
 * 2. A pooled fibre, as OpenSSL's async jobs use: made once, then entered
 *    for job after job, each from another request, and paused and resumed
 *    within a job: each job runs in the request that started it.
 */
#include <ctxshim.h>
#include "keycheck.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

static const char *req[4] = { "req-0", "req-1", "req-2", "req-3" };
static const char *own[4] = { "own-0", "own-1", "own-2", "own-3" };

static void say(const char *what, const char *reg)
{
	char cur[80], line[256];
	if (kc_get("request_id", cur, sizeof cur) < 0)
		strcpy(cur, "-");
	int n = snprintf(line, sizeof line, "%s reg=%s ctx=%s\n", what, reg, cur);
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

/* ---- 1. a scheduler and its coroutines --------------------------------- */

static ucontext_t sched, co[4];
static char stacks[4][64 * 1024];

static void coroutine(int i, int magic)
{
	if (magic != 4242)
		say("bad-argument", req[i]);
	say("coro-run1", req[i]);
	enter(own[i]);
	swapcontext(&co[i], &sched);
	say("coro-run2", own[i]);
	swapcontext(&co[i], &sched);
	say("coro-run3", own[i]);
	if (i == 3)
		setcontext(&sched);      /* leaves without returning */
}

/* ---- 2. a pooled fibre ------------------------------------------------------ */

static ucontext_t dispatcher, fibre;
static char fibre_stack[64 * 1024];
static const char *job;

static void fibre_main(void)
{
	for (;;) {
		say("job-start", job);
		swapcontext(&fibre, &dispatcher);    /* pause */
		say("job-resume", job);
		swapcontext(&fibre, &dispatcher);    /* done; wait for the next job */
	}
}

int main(void)
{
	for (int i = 0; i < 4; i++) {
		enter(req[i]);
		getcontext(&co[i]);
		co[i].uc_stack.ss_sp = stacks[i];
		co[i].uc_stack.ss_size = sizeof stacks[i];
		co[i].uc_link = &sched;
		makecontext(&co[i], (void (*)(void))coroutine, 2, i, 4242);
	}
	enter("sched");
	for (volatile int round = 0; round < 3; round++)
		for (volatile int i = 0; i < 4; i++) {
			swapcontext(&sched, &co[i]);
			say("sched-back", "sched");
		}

	for (volatile int j = 0; j < 4; j++) {
		enter(req[j]);
		job = req[j];
		if (j == 0) {
			getcontext(&fibre);
			fibre.uc_stack.ss_sp = fibre_stack;
			fibre.uc_stack.ss_size = sizeof fibre_stack;
			fibre.uc_link = NULL;
			makecontext(&fibre, fibre_main, 0);
		}
		swapcontext(&dispatcher, &fibre);    /* start the job */
		say("job-paused", req[j]);
		swapcontext(&dispatcher, &fibre);    /* resume it */
		say("job-done", req[j]);
	}
	enter("sched");
	say("after", "sched");
	return 0;
}
