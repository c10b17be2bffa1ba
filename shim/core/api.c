/*
 * api.c: the public API (include/ctxshim.h), a thin layer over the core.
 * Where the shim is disabled the API acts as if the library were absent.
 */
#include "core.h"

#include <errno.h>
#include <string.h>

/* The API works only where the shim is on; otherwise it acts as if absent. */
static int api_ready(void)
{
	if (unlikely(!ctx_cfg.ready))
		ctx_init();
	return ctx_cfg.ready && !ctx_cfg.disabled;
}

CTX_EXPORT int ctxshim_set(const char *key, const char *value)
{
	if (!api_ready()) {
		errno = ENOSYS;
		return -1;
	}
	if (!key || !value) {
		errno = EINVAL;
		return -1;
	}
	size_t vlen = strnlen(value, CMAP_MAX_VALUE + 1);
	return ctx_set_n(key, strnlen(key, CMAP_MAX_KEY + 1), value, vlen);
}

/* ctxshim_get and ctxshim_get_key are in keys.c, with their caches. */

CTX_EXPORT int ctxshim_unset(const char *key)
{
	if (!api_ready()) {
		errno = ENOSYS;
		return -1;
	}
	size_t klen = key ? strnlen(key, CMAP_MAX_KEY + 1) : 0;
	if (!cmap_key_valid(key, klen)) {
		errno = EINVAL;
		return -1;
	}
	return ctx_unset_n(key, klen);
}

CTX_EXPORT void ctxshim_clear(void)
{
	if (api_ready())
		ctx_unset_n(NULL, 0);
}

CTX_EXPORT int ctxshim_foreach(ctxshim_visit_fn fn, void *arg)
{
	struct cmap *m;
	if (!api_ready() || !fn)
		return 0;
	if (ctx_snapshot(&m) < 0)
		return -1;
	int n = 0;
	for (uint32_t i = 0; m && i < m->n; i++) {
		n++;
		if (fn(m->e[i].key, m->e[i].val, arg))
			break;
	}
	cmap_unref(m);
	return n;
}

CTX_EXPORT ctxshim_ctx_t *ctxshim_capture(void)
{
	return api_ready() ? ctx_capture() : NULL;
}

CTX_EXPORT ctxshim_ctx_t *ctxshim_attach(ctxshim_ctx_t *ctx)
{
	if (!api_ready())
		return NULL;
	return ctx_attach(ctx);   /* NULL: an empty context, with a real token */
}

CTX_EXPORT void ctxshim_detach(ctxshim_ctx_t *token)
{
	if (api_ready())
		ctx_detach(token);
}

CTX_EXPORT void ctxshim_release(ctxshim_ctx_t *ctx)
{
	if (api_ready())
		ctx_release(ctx);
}

CTX_EXPORT int ctxshim_job_begin(const char *name)
{
	char id[4 + 33] = "JOB-";
	if (!api_ready()) {
		errno = ENOSYS;
		return -1;
	}
	if (!name) {
		errno = EINVAL;
		return -1;
	}
	ctx_new_id(id + 4);
	if (ctx_set_n("request_path", 12, name, strnlen(name, CMAP_MAX_VALUE + 1)) < 0)
		return -1;
	return ctx_set_n("request_id", 10, id, strlen(id));
}

