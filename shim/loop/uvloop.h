/*
 * uvloop.h: what uvloop.c (handles) and uvloop_req.c (requests) share.
 */
#ifndef CTX_HOOK_UV_H
#define CTX_HOOK_UV_H

#include "hooks.h"
#include "loop.h"

#include <uv.h>
#define HOOKS_LIB_uv ~, 1
#include "hooks_lib.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#define UV_REAL(name) LOOP_REAL(name, hooks_libs_uv)

typedef void (*uvn_fn)(void);

/* What we keep for one handle or request, keyed by its address. */
struct uvn {
	struct ptrtab_node node;
	uvn_fn cb;               /* the program's callback (requests: the first) */
	uvn_fn alloc;            /* alloc_cb; uv_queue_work: after_work_cb */
	uvn_fn conn;             /* uv_listen's connection callback */
	ctxshim_ctx_t *ctx;      /* of the latest registration */
	ctxshim_ctx_t *sent;     /* uv_async_send: the first sender's */
	uv_close_cb close_cb;
	ctxshim_ctx_t *close_ctx;
};

enum uvn_slot { UVN_MAIN, UVN_ALLOC, UVN_CONN };

extern struct ptrtab uvn_tab;

struct ptrtab_shard *uvn_lock(const void *key);
void uvn_unlock(struct ptrtab_shard *s);
void uvn_free(struct uvn *n);
void uvn_watch_fork(void);
int uvn_bind(const void *h, enum uvn_slot slot, uvn_fn cb, uvn_fn alloc);

/* One run of a program callback. */
struct uvn_run {
	uvn_fn fn;
	ctxshim_ctx_t *token;
	int entered;
};

int uvn_begin(const void *h, enum uvn_slot slot, struct uvn_run *r);
int uvn_begin_req(const void *req, struct uvn_run *r);

static inline void uvn_end(struct uvn_run *r)
{
	loop_leave(r->token, r->entered);
}

/* 1 when the hook called from CALLER should wrap: the shim is on and the
 * call is the program's, not libuv's own. */
static inline int uvn_act(const void *caller)
{
	return ctx_should_act() && !loop_internal(LOOP_UV, caller);
}

#endif
