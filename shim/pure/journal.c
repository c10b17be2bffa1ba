/*
 * journal.c: journald's native protocol (see journal.h).
 */
#include "journal.h"

#include <stdint.h>
#include <string.h>

/* Fields that the program, its logging call or journald set: a context key
 * of the same name goes under CTX_ so that an entry never carries two
 * MESSAGEs or a PRIORITY the program did not give. */
static const char *const reserved[] = {
	"MESSAGE", "MESSAGE_ID", "PRIORITY", "CODE_FILE", "CODE_LINE", "CODE_FUNC",
	"ERRNO", "INVOCATION_ID", "USER_INVOCATION_ID", "SYSLOG_FACILITY",
	"SYSLOG_IDENTIFIER", "SYSLOG_PID", "SYSLOG_TIMESTAMP", "SYSLOG_RAW",
	"DOCUMENTATION", "TID", "UNIT", "USER_UNIT", "OBJECT_PID",
};

static int is_reserved(const char *name, size_t n)
{
	for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
		if (strlen(reserved[i]) == n && !memcmp(reserved[i], name, n))
			return 1;
	return 0;
}

size_t jn_field_name(const char *key, size_t klen, char out[JN_NAME_MAX + 1])
{
	char up[JN_NAME_MAX + 1];
	if (klen == 0 || klen > JN_NAME_MAX)
		return 0;
	for (size_t i = 0; i < klen; i++) {
		unsigned char c = (unsigned char)key[i];
		if (c >= 'a' && c <= 'z')
			c = (unsigned char)(c - 'a' + 'A');
		up[i] = (char)((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c : '_');
	}
	size_t n = 0;
	if ((up[0] >= '0' && up[0] <= '9') || up[0] == '_' || is_reserved(up, klen)) {
		if (klen + 4 > JN_NAME_MAX)
			return 0;
		memcpy(out, "CTX_", 4);
		n = 4;
	}
	memcpy(out + n, up, klen);
	n += klen;
	out[n] = '\0';
	return n;
}

static int name_valid(const char *s, size_t n)
{
	if (n == 0 || n > JN_NAME_MAX || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

void jn_put(struct lbuf *b, const char *name, size_t nlen, const char *val, size_t vlen)
{
	lb_put(b, name, nlen);
	if (!memchr(val, '\n', vlen)) {
		lb_putc(b, '=');
		lb_put(b, val, vlen);
	} else {
		/* binary-safe: the length, little-endian, before the bytes */
		uint64_t l = vlen;
		char le[8];
		for (int i = 0; i < 8; i++)
			le[i] = (char)(l >> (8 * i));
		lb_putc(b, '\n');
		lb_put(b, le, 8);
		lb_put(b, val, vlen);
	}
	lb_putc(b, '\n');
}

int jn_put_assignment(struct lbuf *b, const char *field, size_t len)
{
	const char *eq = memchr(field, '=', len);
	if (!eq || !name_valid(field, (size_t)(eq - field)))
		return -1;
	jn_put(b, field, (size_t)(eq - field), eq + 1, len - (size_t)(eq - field) - 1);
	return 0;
}

struct ctxw {
	char *buf;
	size_t cap, used;
	struct iovec *iov;
	int max, n;
	int (*skip)(const char *, size_t, void *);
	void *arg;
};

static void add(struct ctxw *w, const struct cmap_entry *e)
{
	char name[JN_NAME_MAX + 1];
	size_t nl = jn_field_name(e->key, e->klen, name);
	if (!nl || w->n >= w->max || (w->skip && w->skip(name, nl, w->arg)))
		return;
	size_t need = nl + 1 + e->vlen;
	if (need > w->cap - w->used)
		return;
	char *p = w->buf + w->used;
	memcpy(p, name, nl);
	p[nl] = '=';
	memcpy(p + nl + 1, e->val, e->vlen);
	w->iov[w->n].iov_base = p;
	w->iov[w->n].iov_len = need;
	w->n++;
	w->used += need;
}

static int is_rid(const struct cmap_entry *e)
{
	return e->klen == 10 && !memcmp(e->key, "request_id", 10);
}

int jn_context(const struct cmap *ctx, const struct cmap *base, char *buf, size_t cap,
	       struct iovec *iov, int max, int (*skip)(const char *name, size_t nlen, void *arg),
	       void *skip_arg)
{
	struct ctxw w = { buf, cap, 0, iov, max, 0, skip, skip_arg };
	const struct cmap_entry *rid = ctx ? cmap_find(ctx, "request_id", 10) : NULL;
	if (!rid && base && !(ctx && cmap_find(ctx, "request_id", 10)))
		rid = cmap_find(base, "request_id", 10);
	if (rid && !rid->tomb)
		add(&w, rid);
	for (int layer = 0; layer < 2; layer++) {
		const struct cmap *l = layer ? base : ctx;
		for (uint32_t i = 0; l && i < l->n; i++) {
			const struct cmap_entry *e = &l->e[i];
			if (e->tomb || is_rid(e) || (layer && ctx && cmap_find(ctx, e->key, e->klen)))
				continue;
			add(&w, e);
		}
	}
	return w.n;
}
