/*
 * keys.c: key handles (ctxshim_key, ctxshim_get_key).
 *
 * A handle is the 1-based index of an interned key name.  Names are only
 * ever appended, so a handle stays valid for the life of the process, and
 * in a forked child (the table is ordinary memory).
 *
 * Each thread keeps a small direct-mapped cache (ctx_self.kslot): handle ->
 * (the value's pointer and length) tagged with the thread's version it was
 * read under (ctx_self.ver and ctx_epoch, core.h).  Copy mode only: there the pointer is
 * into the thread's own map, which the thread holds a reference on and only
 * this thread can replace, and a replacement bumps the version before the
 * old map is released; or into the process-wide layer, whose maps are never
 * freed.  In share/chain modes another thread may free the box's map at any
 * time, so reads there take the locked path (ctx_lookup) without a cache.
 *
 * Signal handlers: a read may interrupt a fill and a fill may interrupt a
 * read.  A fill clears the slot's tag first and writes it last, and kbusy
 * keeps a handler from filling while the thread is mid-fill; a hit reads
 * the slot's pointer and length and then its tag: a handler that ran in
 * between either left the tag changed (then the read misses) or wrote the
 * same tag, which always means the same pointer and length.
 */
#include "core_int.h"

#include <errno.h>
#include <string.h>

#define KEYS_MAX 1024

struct kname {
	uint32_t klen;
	char name[CMAP_MAX_KEY + 1];
};

static struct kname names[KEYS_MAX];
static _Atomic uint32_t nkeys;
static pthread_mutex_t keys_lock = PTHREAD_MUTEX_INITIALIZER;

#define KC_SLOTS 16   /* sizeof ctx_self.kslot / sizeof *ctx_self.kslot */

/* Both counters only grow, so their sum changes whenever either does: one
 * word stamps a reading with the whole version. */
static inline uint64_t tag_of(uint64_t ver, uint64_t gen, uint32_t key)
{
	return (ver + gen) << 16 | key;
}

static uint32_t find_name(const char *key, size_t len, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (names[i].klen == len && memcmp(names[i].name, key, len) == 0)
			return i + 1;
	return 0;
}

uint32_t ctx_key_intern(const char *key, size_t len)
{
	if (!cmap_key_valid(key, len)) {
		errno = EINVAL;
		return 0;
	}
	uint32_t h = find_name(key, len, atomic_load_explicit(&nkeys, memory_order_acquire));
	if (h)
		return h;
	ctx_self.in_core++;
	pthread_mutex_lock(&keys_lock);
	uint32_t n = atomic_load_explicit(&nkeys, memory_order_relaxed);
	h = find_name(key, len, n);   /* another thread may have added it */
	if (!h && n < KEYS_MAX) {
		memcpy(names[n].name, key, len);
		names[n].name[len] = '\0';
		names[n].klen = (uint32_t)len;
		atomic_store_explicit(&nkeys, n + 1, memory_order_release);
		h = n + 1;
	}
	pthread_mutex_unlock(&keys_lock);
	ctx_self.in_core--;
	if (!h)
		errno = ENOSPC;
	return h;
}

void ctx_keys_fork_child(void)
{
	pthread_mutex_init(&keys_lock, NULL);   /* another thread may have held it */
}

/* N+1 bytes (the value and its NUL, which the map stores) from S to D, with
 * fixed-size moves for short values instead of a call to memcpy; ids (33
 * bytes with the NUL) first. */
static inline void copy_nul(char *d, const char *s, size_t n)
{
	size_t m = n + 1;
	if (likely(m - 17 < 32)) {   /* 17..48: two or three overlapping moves */
		__builtin_memcpy(d, s, 16);
		if (m > 32)
			__builtin_memcpy(d + 16, s + 16, 16);
		__builtin_memcpy(d + m - 16, s + m - 16, 16);
	} else if (m <= 8) {
		if (m >= 4) {
			__builtin_memcpy(d, s, 4);
			__builtin_memcpy(d + m - 4, s + m - 4, 4);
		} else {
			for (size_t i = 0; i < m; i++)
				d[i] = s[i];
		}
	} else if (m <= 16) {
		__builtin_memcpy(d, s, 8);
		__builtin_memcpy(d + m - 8, s + m - 8, 8);
	} else if (m <= 64) {
		__builtin_memcpy(d, s, 32);
		__builtin_memcpy(d + m - 32, s + m - 32, 32);
	} else {
		__builtin_memcpy(d, s, m);
	}
}

/* Copy mode: look the name up and remember where the value is. */
static ssize_t lookup_fill(uint32_t key, const struct kname *kn, char *buf, size_t size)
{
	struct ctx_kslot *s = &ctx_self.kslot[key & (KC_SLOTS - 1)];
	uint64_t g = ctx_epoch_now();
	int fill = !ctx_self.kbusy && !(g & 1);
	if (fill)
		ctx_self.kbusy = 1;
	atomic_signal_fence(memory_order_seq_cst);
	uint64_t v = ctx_self.ver;
	atomic_signal_fence(memory_order_seq_cst);
	const struct cmap_entry *e = cmap_find(ctx_self.map, kn->name, kn->klen);
	if (!e) {
		/* The process-wide layer's value is copied inside a read the
		 * reclaimer sees, and never remembered: a replaced layer is
		 * freed once no open read can hold it (core_view.c). */
		ssize_t r = -1;
		const struct cmap_entry *ge = cmap_find(ctx_global_enter(), kn->name, kn->klen);
		if (ge)
			r = ctx_copy_out(ge, buf, size);
		ctx_global_leave();
		if (ge) {
			if (fill)
				ctx_self.kbusy = 0;
			return r;
		}
	}
	atomic_thread_fence(memory_order_acquire);
	/* an epoch that moved: the layer was replaced while we read it;
	 * answer, but do not remember */
	if (fill && g == atomic_load_explicit(&ctx_epoch, memory_order_relaxed)) {
		s->tag = 0;
		atomic_signal_fence(memory_order_seq_cst);
		s->val = e ? e->val : NULL;
		s->vlen = e ? e->vlen : 0;
		atomic_signal_fence(memory_order_seq_cst);
		s->tag = tag_of(v, g, key);
	}
	atomic_signal_fence(memory_order_seq_cst);
	if (fill)
		ctx_self.kbusy = 0;
	return e ? ctx_copy_out(e, buf, size) : -1;
}

static __attribute__((noinline)) ssize_t get_key_slow(ctxshim_key_t key, char *buf, size_t size)
{
	if (unlikely(!ctx_cfg.ready))
		ctx_init();
	if (!ctx_cfg.ready || ctx_cfg.disabled) {
		errno = ENOENT;   /* as if the shim were absent */
		return -1;
	}
	if (key == 0 || key > atomic_load_explicit(&nkeys, memory_order_acquire) ||
	    (!buf && size)) {
		errno = EINVAL;
		return -1;
	}
	const struct kname *kn = &names[key - 1];
	ssize_t r = ctx_cfg.mode == CTX_COPY ? lookup_fill(key, kn, buf, size)
					     : ctx_lookup(kn->name, kn->klen, buf, size);
	if (r < 0)
		errno = ENOENT;
	return r;
}

CTX_EXPORT ssize_t ctxshim_get_key(ctxshim_key_t key, char *buf, size_t size)
{
	/* No test of the mode or of ctx_cfg: slots are filled only in copy
	 * mode with the shim on, and an empty slot (tag 0) matches no key. */
	{
		const struct ctx_kslot *s = &ctx_self.kslot[key & (KC_SLOTS - 1)];
		uint64_t t = tag_of(ctx_self.ver,
				    atomic_load_explicit(&ctx_epoch, memory_order_relaxed), key);
		const char *p = s->val;
		size_t n = s->vlen;
		/* the tag after the fields: a fill clears it first and sets it
		 * last, so a match means P and N are what that tag stands for,
		 * even if a handler refilled the slot between our loads */
		atomic_signal_fence(memory_order_seq_cst);
		if (likely(s->tag == t) && likely(p != NULL) && likely(n < size) && likely(buf != NULL)) {
			copy_nul(buf, p, n);
			return (ssize_t)n;
		}
	}
	return get_key_slow(key, buf, size);
}

/* ---- ctxshim_get ------------------------------------------------------------ */

#define NS_SLOTS 8    /* sizeof ctx_self.nslot / sizeof *ctx_self.nslot */
#define NS_NAME 15    /* the longest name it caches */

static inline struct ctx_nslot *nslot_of(const char *key)
{
	return &ctx_self.nslot[((uintptr_t)key >> 4) & (NS_SLOTS - 1)];
}

/* 16 bytes from KEY do not cross into the next page (which may be unmapped). */
static inline int page_safe(const char *key)
{
	return ((uintptr_t)key & 4095) <= 4096 - 16;
}

/* Remember that the name at KEY (KLEN bytes) had E's value at STAMP. */
static void nfill(const char *key, size_t klen, uint64_t stamp, const struct cmap_entry *e)
{
	if (klen > NS_NAME || !page_safe(key) || ctx_self.kbusy)
		return;
	struct ctx_nslot *s = nslot_of(key);
	union { char c[16]; uint64_t w[2]; } name = { { 0 } }, mask = { { 0 } };
	memcpy(name.c, key, klen);
	memset(mask.c, 0xff, klen + 1);   /* the NUL too: "ab" is not "abc" */
	ctx_self.kbusy = 1;
	atomic_signal_fence(memory_order_seq_cst);
	s->seq++;
	atomic_signal_fence(memory_order_seq_cst);
	s->kp = key;
	s->w[0] = name.w[0];
	s->w[1] = name.w[1];
	s->m[0] = mask.w[0];
	s->m[1] = mask.w[1];
	s->stamp = stamp;
	s->val = e->val;
	s->vlen = e->vlen;
	atomic_signal_fence(memory_order_seq_cst);
	s->seq++;
	atomic_signal_fence(memory_order_seq_cst);
	ctx_self.kbusy = 0;
}

static __attribute__((noinline)) ssize_t get_named_slow(const char *key, char *buf, size_t size)
{
	size_t klen;
	if (likely(ctx_cfg.ready & !ctx_cfg.disabled) && likely(key != NULL) &&
	    likely((klen = strlen(key)) - 1 < CMAP_MAX_KEY) && likely(buf || !size)) {
		if (likely(ctx_cfg.mode == CTX_COPY)) {
			uint64_t stamp = ctx_self.ver + ctx_epoch_now() + 1;
			atomic_signal_fence(memory_order_seq_cst);
			const struct cmap_entry *e = cmap_find(ctx_self.map, key, klen);
			if (likely(e != NULL)) {
				nfill(key, klen, stamp, e);
				return ctx_copy_out(e, buf, size);
			}
		}
		ssize_t r = ctx_lookup(key, klen, buf, size);
		if (r < 0)
			errno = cmap_key_valid(key, klen) ? ENOENT : EINVAL;
		return r;
	}
	if (!ctx_cfg.ready && key) {
		ctx_init();   /* first call, before our constructor */
		if (ctx_cfg.ready && !ctx_cfg.disabled)
			return get_named_slow(key, buf, size);
	}
	errno = ctx_cfg.ready && !ctx_cfg.disabled ? EINVAL : ENOENT;
	return -1;
}

/* The hot read.  A hit needs the same address as the last read of this
 * slot, the same name there (16 bytes read at once: PAGE_SAFE), and the
 * same version; a slot is filled only in copy mode with the shim on (an
 * empty one has no value and matches nothing).  The slot's seq, even and
 * unchanged around the reads, says no fill (a signal handler's) was under
 * way or happened meanwhile. */
CTX_EXPORT ssize_t ctxshim_get(const char *key, char *buf, size_t size)
{
	const struct ctx_nslot *s = nslot_of(key);
	uint32_t q = s->seq;
	atomic_signal_fence(memory_order_seq_cst);
	if (likely(s->kp == key) && likely(key != NULL) && likely(page_safe(key))) {
		uint64_t a[2];
		__builtin_memcpy(a, key, 16);
		uint64_t stamp = ctx_self.ver +
				 atomic_load_explicit(&ctx_epoch, memory_order_relaxed) + 1;
		int same = !(((a[0] ^ s->w[0]) & s->m[0]) | ((a[1] ^ s->w[1]) & s->m[1])) &
			   (s->stamp == stamp);
		const char *p = s->val;
		size_t n = s->vlen;
		atomic_signal_fence(memory_order_seq_cst);
		if (likely(same) && likely(s->seq == q) && likely(!(q & 1)) && likely(p != NULL) &&
		    likely(n < size) && likely(buf != NULL)) {
			copy_nul(buf, p, n);
			return (ssize_t)n;
		}
	}
	return get_named_slow(key, buf, size);
}

CTX_EXPORT ctxshim_key_t ctxshim_key(const char *name)
{
	if (unlikely(!ctx_cfg.ready))
		ctx_init();
	if (!ctx_cfg.ready || ctx_cfg.disabled) {
		errno = ENOSYS;
		return 0;
	}
	if (!name) {
		errno = EINVAL;
		return 0;
	}
	return ctx_key_intern(name, strnlen(name, CMAP_MAX_KEY + 1));
}
