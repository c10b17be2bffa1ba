/*
 * map.c: building immutable maps.  Every write copies the map: contexts are
 * small (at most CMAP_MAX_ENTRIES short strings) and written far less often
 * than they are read or handed to children, which is the trade PEP 567 made.
 */
#include "map.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int cmap_key_valid(const char *key, size_t len)
{
	if (!key || len == 0 || len > CMAP_MAX_KEY)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)key[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

/* One entry to place into a map being built. */
struct src {
	const char *key, *val;
	size_t klen, vlen;
	int tomb;
};

/* Build a map from N sorted entries; NULL map for N == 0.  Into BUF (CAP
 * bytes, never freed through cmap_unref) when BUF is given, else malloc'ed. */
static int build_in(const struct src *s, size_t n, void *buf, size_t cap, struct cmap **out)
{
	size_t bytes = 0;
	for (size_t i = 0; i < n; i++)
		bytes += s[i].klen + s[i].vlen;
	if (n == 0) {
		*out = NULL;
		return 0;
	}
	uint32_t nslots = 8;
	while (nslots < 2 * n)
		nslots *= 2;
	size_t head = sizeof(struct cmap) + n * sizeof(struct cmap_entry) + nslots;
	size_t total = head + bytes + 2 * n;
	struct cmap *m;
	if (buf) {
		if (total > cap || ((uintptr_t)buf & 15)) {
			errno = ENOSPC;
			return -1;
		}
		m = buf;
		atomic_init(&m->refs, 1u << 30);   /* lives as long as BUF */
	} else {
		m = malloc(total);
		if (!m) {
			errno = ENOMEM;
			return -1;
		}
		atomic_init(&m->refs, 1);
	}
	m->n = (uint32_t)n;
	m->bytes = bytes;
	m->mask = nslots - 1;
	m->slots = (uint8_t *)&m->e[n];
	memset(m->slots, 0, nslots);
	char *p = (char *)m + head;
	for (size_t i = 0; i < n; i++) {
		struct cmap_entry *e = &m->e[i];
		memcpy(p, s[i].key, s[i].klen);
		p[s[i].klen] = '\0';
		e->key = p;
		e->klen = (uint32_t)s[i].klen;
		/* From the source: reading back the bytes just copied to P would
		 * stall on store forwarding. */
		e->fp = cmap_fp(s[i].key, s[i].klen);
		uint32_t h = cmap_hash(e->fp, e->klen);
		while (m->slots[h & m->mask])
			h++;
		m->slots[h & m->mask] = (uint8_t)(i + 1);
		p += s[i].klen + 1;
		memcpy(p, s[i].val, s[i].vlen);
		p[s[i].vlen] = '\0';
		e->val = p;
		e->vlen = (uint32_t)s[i].vlen;
		e->tomb = (uint32_t)s[i].tomb;
		p += s[i].vlen + 1;
	}
	*out = m;
	return 0;
}

static int build(const struct src *s, size_t n, struct cmap **out)
{
	return build_in(s, n, NULL, 0, out);
}

static int keycmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	if (c)
		return c;
	return (alen > blen) - (alen < blen);
}

static struct src from_entry(const struct cmap_entry *e)
{
	return (struct src){ e->key, e->val, e->klen, e->vlen, (int)e->tomb };
}

int cmap_with(const struct cmap *m, const char *key, size_t klen,
	      const char *val, size_t vlen, int tomb, struct cmap **out)
{
	struct src s[CMAP_MAX_ENTRIES + 1];
	size_t n = 0, have = m ? m->n : 0, i = 0;
	int placed = 0;
	struct src mine = { key, tomb ? "" : val, klen, tomb ? 0 : vlen, tomb };

	for (; i < have; i++) {
		int c = keycmp(m->e[i].key, m->e[i].klen, key, klen);
		if (c < 0) {
			s[n++] = from_entry(&m->e[i]);
			continue;
		}
		s[n++] = mine;
		placed = 1;
		if (c == 0)
			i++;    /* replaced */
		break;
	}
	if (!placed) {
		if (n >= CMAP_MAX_ENTRIES) {
			errno = ENOSPC;
			return -1;
		}
		s[n++] = mine;
	}
	for (; i < have; i++) {
		if (n >= CMAP_MAX_ENTRIES) {
			errno = ENOSPC;
			return -1;
		}
		s[n++] = from_entry(&m->e[i]);
	}
	return build(s, n, out);
}

int cmap_without(const struct cmap *m, const char *key, size_t klen,
		 struct cmap **out)
{
	if (!cmap_find(m, key, klen)) {
		*out = cmap_ref((struct cmap *)m);
		return 0;
	}
	struct src s[CMAP_MAX_ENTRIES];
	size_t n = 0;
	for (uint32_t i = 0; i < m->n; i++)
		if (!(m->e[i].klen == klen && memcmp(m->e[i].key, key, klen) == 0))
			s[n++] = from_entry(&m->e[i]);
	return build(s, n, out);
}

static int entcmp(const void *a, const void *b)
{
	const struct src *x = a, *y = b;
	return keycmp(x->key, x->klen, y->key, y->klen);
}

int cmap_build_into(const struct cmap_entry *v, size_t n, void *buf, size_t cap,
		    struct cmap **out)
{
	struct src s[CMAP_MAX_ENTRIES];
	if (n > CMAP_MAX_ENTRIES)
		n = CMAP_MAX_ENTRIES;
	for (size_t i = 0; i < n; i++)
		s[i] = from_entry(&v[i]);
	/* insertion sort: no allocation, n is small (qsort may allocate) */
	for (size_t i = 1; i < n; i++) {
		struct src t = s[i];
		size_t j = i;
		for (; j > 0 && entcmp(&s[j - 1], &t) > 0; j--)
			s[j] = s[j - 1];
		s[j] = t;
	}
	return build_in(s, n, buf, cap, out);
}

int cmap_build(const struct cmap_entry *v, size_t n, struct cmap **out)
{
	return cmap_build_into(v, n, NULL, 0, out);
}

void cmap_unref(struct cmap *m)
{
	if (m && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
		free(m);
}
