/*
 * map.h: the immutable, reference-counted string map behind every context.
 *
 * A map never changes once built: a write makes a new map and the old one is
 * dropped when its last holder lets go.  That is what makes handing a context
 * to a child O(1) (one atomic increment) and lets a thread read its own map
 * without a lock, even from a signal handler.  The empty map is NULL.
 *
 * Pure: no hooks, no globals, no thread state.
 */
#ifndef CTX_MAP_H
#define CTX_MAP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define CMAP_MAX_KEY 64
#define CMAP_MAX_VALUE 4096
#define CMAP_MAX_ENTRIES 64

struct cmap_entry {
	uint64_t fp;       /* the key's first 8 bytes, zero-padded (cmap_fp) */
	const char *key;   /* NUL-terminated, points into the map's own storage */
	const char *val;   /* NUL-terminated; "" for a tombstone */
	uint32_t klen;
	uint32_t vlen;
	uint32_t tomb;     /* chain mode: the key is hidden, not set */
};

struct cmap {
	atomic_uint refs;
	uint32_t n;        /* entries, sorted by key (strcmp order) */
	size_t bytes;      /* sum of key and value lengths */
	uint8_t *slots;    /* open-addressing index: entry number + 1, 0 = free */
	uint32_t mask;     /* number of slots - 1 (a power of two, >= 2n) */
	struct cmap_entry e[];
	/* followed by the slots, then the strings */
};

/* 1 if KEY (LEN bytes) is 1-64 characters of [A-Za-z0-9_.-]. */
int cmap_key_valid(const char *key, size_t len);

/* A key's fingerprint: its first 8 bytes, zero-padded.  Comparing one word
 * per entry rejects almost every non-matching key; keys of at most 8 bytes
 * are settled by it alone. */
static inline uint64_t cmap_fp(const char *key, size_t klen)
{
	uint64_t w = 0;
	if (klen >= 8) {
		__builtin_memcpy(&w, key, 8);
	} else {
		/* Built in a register: byte stores into W and then a load of W
		 * stall on store forwarding.  Same value as the bytes in memory
		 * on a little-endian machine; build and lookup agree either way. */
		for (size_t i = 0; i < klen; i++)
			w |= (uint64_t)(unsigned char)key[i] << (8 * i);
	}
	return w;
}

static inline uint32_t cmap_hash(uint64_t fp, size_t klen)
{
	uint64_t h = (fp ^ klen) * 0x9e3779b97f4a7c15ull;
	return (uint32_t)(h >> 40);
}

/* The entry for KEY, or NULL.  Tombstones are returned too.  One hash, one
 * probe or two, one word compare: this is ctxshim_get's whole cost. */
static inline const struct cmap_entry *
cmap_find(const struct cmap *m, const char *key, size_t klen)
{
	if (!m)
		return NULL;
	uint64_t fp = cmap_fp(key, klen);
	for (uint32_t h = cmap_hash(fp, klen);; h++) {
		uint8_t s = m->slots[h & m->mask];
		if (!s)
			return NULL;
		const struct cmap_entry *e = &m->e[s - 1];
		if (e->fp != fp || e->klen != klen)
			continue;
		size_t i = 8;
		while (i < klen && e->key[i] == key[i])
			i++;
		if (i >= klen)
			return e;
	}
}

/* Set KEY to VAL (or a tombstone when TOMB) in a new map built from M.
 * Returns 0 and the new map in *OUT, or -1 with errno ENOSPC (too many
 * entries) or ENOMEM.  M is not consumed.  Lengths are not checked here. */
int cmap_with(const struct cmap *m, const char *key, size_t klen,
	      const char *val, size_t vlen, int tomb, struct cmap **out);

/* A new map without KEY (NULL when that leaves it empty); *OUT is M itself,
 * with a new reference, when KEY is absent.  -1 with errno ENOMEM. */
int cmap_without(const struct cmap *m, const char *key, size_t klen,
		 struct cmap **out);

/* A map holding the N entries of V (any order, distinct keys, N at most
 * CMAP_MAX_ENTRIES; tombstones kept).  -1 with errno ENOMEM. */
int cmap_build(const struct cmap_entry *v, size_t n, struct cmap **out);
/* The same, built in BUF (CAP bytes, 16-aligned) without allocating: -1 with
 * errno ENOSPC when it does not fit.  The map lives as long as BUF; do not
 * cmap_unref it. */
int cmap_build_into(const struct cmap_entry *v, size_t n, void *buf, size_t cap,
		    struct cmap **out);

static inline struct cmap *cmap_ref(struct cmap *m)
{
	if (m)
		atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
	return m;
}

void cmap_unref(struct cmap *m);

#endif
