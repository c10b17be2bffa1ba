/*
 * thread.c: pthread_create.  The child inherits the creating thread's
 * context, captured here, in the parent, before the child exists: in copy
 * mode a write the parent makes right after pthread_create returns is not
 * seen by the child.
 */
#include "core.h"
#include "ctl.h"
#include "hooks.h"

#include <errno.h>
#include <stdlib.h>

struct start {
	void *(*fn)(void *);
	void *arg;
	ctxshim_ctx_t *ctx;
	struct ctl_thread *reg;   /* control on: the registry record (S lives in it) */
};
_Static_assert(sizeof(struct start) <= CTL_PAYLOAD, "struct start fits a ctl record");

static void *start_thread(void *p)
{
	struct start s = *(struct start *)p;
	void *ret;
	if (!s.reg)
		free(p);
	ctx_adopt(s.ctx);
	/* The thread's context is released by the core's exit destructor,
	 * however the thread ends (return, pthread_exit, cancellation). */
	if (!s.reg)
		return s.fn(s.arg);
	/* Control on: the registry record, which held S, follows the thread
	 * until it ends, however it ends. */
	ctl_thread_begin(s.reg);
	pthread_cleanup_push(ctl_thread_end, s.reg);
	ret = s.fn(s.arg);
	pthread_cleanup_pop(1);
	return ret;
}

CTX_EXPORT int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
			      void *(*fn)(void *), void *arg)
{
	/* An empty copy-mode context has nothing to pass on: no wrapper,
	 * unless control is on (every thread is registered). */
	if (!ctx_should_act() || (ctx_cfg.mode == CTX_COPY && ctx_is_empty() && !ctl_on))
		return REAL(pthread_create)(thread, attr, fn, arg);

	KEEP_ERRNO;
	struct ctl_thread *reg = ctl_on ? ctl_thread_new() : NULL;
	struct start *s = reg ? ctl_thread_payload(reg) : malloc(sizeof *s);
	if (!s) {
		RESTORE_ERRNO;
		return REAL(pthread_create)(thread, attr, fn, arg);
	}
	s->fn = fn;
	s->arg = arg;
	s->ctx = ctx_capture();
	s->reg = reg;
	int rc = REAL(pthread_create)(thread, attr, start_thread, s);
	if (rc != 0) {
		ctx_release(s->ctx);
		if (reg)
			ctl_thread_drop(reg);
		else
			free(s);
	}
	RESTORE_ERRNO;
	return rc;
}
