/* test_map.c: the immutable map (shim/map.c). */
#include "map.h"
#include "unit.h"

#include <errno.h>

static const char *get(const struct cmap *m, const char *k)
{
	const struct cmap_entry *e = cmap_find(m, k, strlen(k));
	return e ? (e->tomb ? "<tomb>" : e->val) : NULL;
}

static struct cmap *with(struct cmap *m, const char *k, const char *v)
{
	struct cmap *n = NULL;
	EXPECT(cmap_with(m, k, strlen(k), v, strlen(v), 0, &n) == 0);
	cmap_unref(m);
	return n;
}

int main(void)
{
	struct cmap *m = NULL, *old, *n;

	EXPECT(cmap_key_valid("request_id", 10));
	EXPECT(cmap_key_valid("a.b-c_D9", 8));
	EXPECT(!cmap_key_valid("", 0));
	EXPECT(!cmap_key_valid("a b", 3));
	EXPECT(!cmap_key_valid("a=b", 3));
	EXPECT(!cmap_key_valid("\xc3\xa9", 2));
	EXPECT(cmap_key_valid("kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", 64));
	EXPECT(!cmap_key_valid("kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", 65));

	/* The empty map is NULL; lookups on it are fine. */
	EXPECT(get(NULL, "x") == NULL);

	m = with(m, "b", "2");
	m = with(m, "a", "1");
	m = with(m, "c", "3");
	EXPECT(m->n == 3);
	EXPECT_STR(m->e[0].key, "a");   /* sorted */
	EXPECT_STR(m->e[2].key, "c");
	EXPECT_STR(get(m, "b"), "2");

	/* A write makes a new map; the old one is unchanged (snapshots). */
	old = cmap_ref(m);
	m = with(m, "b", "two");
	EXPECT_STR(get(m, "b"), "two");
	EXPECT_STR(get(old, "b"), "2");
	EXPECT(m->n == 3);
	cmap_unref(old);

	/* Values may hold any byte but NUL, and may be empty. */
	m = with(m, "empty", "");
	EXPECT_STR(get(m, "empty"), "");
	EXPECT(cmap_find(m, "empty", 5)->vlen == 0);

	/* Keys of different lengths sharing a prefix. */
	m = with(m, "ab", "x");
	EXPECT_STR(get(m, "a"), "1");
	EXPECT_STR(get(m, "ab"), "x");

	/* Removal. */
	EXPECT(cmap_without(m, "a", 1, &n) == 0);
	EXPECT(get(n, "a") == NULL && get(n, "ab") != NULL);
	cmap_unref(n);
	EXPECT(cmap_without(m, "zz", 2, &n) == 0 && n == m);   /* absent: same map */
	cmap_unref(n);

	/* Tombstones. */
	EXPECT(cmap_with(m, "c", 1, "ignored", 7, 1, &n) == 0);
	EXPECT_STR(get(n, "c"), "<tomb>");
	cmap_unref(n);

	/* Removing the last key gives the empty map. */
	struct cmap *one = with(NULL, "k", "v");
	EXPECT(cmap_without(one, "k", 1, &n) == 0 && n == NULL);
	cmap_unref(one);

	/* The entry limit. */
	cmap_unref(m);
	m = NULL;
	char k[16];
	for (int i = 0; i < CMAP_MAX_ENTRIES; i++) {
		snprintf(k, sizeof k, "k%03d", i);
		m = with(m, k, "v");
	}
	errno = 0;
	EXPECT(cmap_with(m, "zzz", 3, "v", 1, 0, &n) == -1 && errno == ENOSPC);
	EXPECT(cmap_with(m, "aaa", 3, "v", 1, 0, &n) == -1 && errno == ENOSPC);
	EXPECT(cmap_with(m, "k010", 4, "new", 3, 0, &n) == 0);   /* replace is fine */
	EXPECT_STR(get(n, "k010"), "new");
	EXPECT(n->n == CMAP_MAX_ENTRIES);
	cmap_unref(n);

	/* cmap_build sorts and copies. */
	struct cmap_entry v[3] = {
		{ .key = "zeta", .val = "1", .klen = 4, .vlen = 1 },
		{ .key = "alpha", .val = "2", .klen = 5, .vlen = 1 },
		{ .key = "mid", .val = "3", .klen = 3, .vlen = 1 },
	};
	EXPECT(cmap_build(v, 3, &n) == 0);
	EXPECT_STR(n->e[0].key, "alpha");
	EXPECT_STR(n->e[1].key, "mid");
	EXPECT_STR(get(n, "zeta"), "1");
	cmap_unref(n);
	EXPECT(cmap_build(v, 0, &n) == 0 && n == NULL);

	/* A 4096-byte value. */
	char big[CMAP_MAX_VALUE + 1];
	memset(big, 'x', CMAP_MAX_VALUE);
	big[CMAP_MAX_VALUE] = 0;
	struct cmap *b = with(NULL, "big", big);
	EXPECT(cmap_find(b, "big", 3)->vlen == CMAP_MAX_VALUE);
	cmap_unref(b);

	cmap_unref(m);
	UNIT_DONE("map");
}
