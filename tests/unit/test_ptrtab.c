/* test_ptrtab.c: the pointer-keyed side table (shim/ptrtab.c): insert,
 * replace, lookup, removal, growth, filtered removal, walking, and use from
 * several threads at once. */
#include "ptrtab.h"
#include "unit.h"

#include <pthread.h>

struct rec {
	struct ptrtab_node node;
	int val;
};

static struct rec *mk(const void *key, int val)
{
	struct rec *r = calloc(1, sizeof *r);
	if (!r)
		abort();
	r->node.key = key;
	r->val = val;
	return r;
}

static int odd(const struct ptrtab_node *n, void *arg)
{
	(void)arg;
	return ((const struct rec *)n)->val % 2;
}

static void count(struct ptrtab_node *n, void *arg)
{
	(void)n;
	(*(int *)arg)++;
}

static void free_buckets(struct ptrtab *t)
{
	for (int i = 0; i < PTRTAB_SHARDS; i++)
		free(t->s[i].b);
}

static void test_basic(void)
{
	struct ptrtab t = PTRTAB_INIT;
	static char keys[5000];
	struct ptrtab_node *old;
	int puts_ok = 1, found_all = 1;

	EXPECT(ptrtab_get(&t, keys) == NULL);
	EXPECT(ptrtab_take(&t, keys) == NULL);
	for (int i = 0; i < 5000; i++)
		puts_ok &= ptrtab_put(&t, &mk(keys + i, i)->node, &old) == 0 && old == NULL;
	EXPECT(puts_ok);
	/* Growth kept every node reachable. */
	for (int i = 0; i < 5000; i++) {
		struct rec *r = (struct rec *)ptrtab_get(&t, keys + i);
		found_all &= r && r->val == i;
	}
	EXPECT(found_all);
	int n = 0;
	ptrtab_lock_all(&t);
	ptrtab_each_locked(&t, count, &n);
	ptrtab_unlock_all(&t);
	EXPECT(n == 5000);

	/* Same key: the old node comes back, the new one is found. */
	struct rec *nr = mk(keys + 7, 70007);
	EXPECT(ptrtab_put(&t, &nr->node, &old) == 0);
	EXPECT(old && ((struct rec *)old)->val == 7);
	free(old);
	EXPECT(ptrtab_get(&t, keys + 7) == &nr->node);

	/* Remove the odd values, keep the even. */
	n = 0;
	for (struct ptrtab_node *p = ptrtab_take_if(&t, odd, NULL), *next; p; p = next) {
		next = p->next;
		n++;
		free(p);
	}
	EXPECT(n == 2500);
	int kept_even = 1;
	for (int i = 0; i < 5000; i++) {
		struct ptrtab_node *p = ptrtab_take(&t, keys + i);
		kept_even &= (p != NULL) == (i % 2 == 0);
		free(p);
	}
	EXPECT(kept_even);
	for (int i = 0; i < PTRTAB_SHARDS; i++)
		EXPECT(t.s[i].n == 0);
	free_buckets(&t);
}

static struct ptrtab shared = PTRTAB_INIT;

static void *worker(void *arg)
{
	char *base = arg;
	struct ptrtab_node *old;
	long bad = 0;
	for (int round = 0; round < 200; round++) {
		for (int i = 0; i < 100; i++)
			bad += ptrtab_put(&shared, &mk(base + i, i)->node, &old) != 0 || old;
		for (int i = 0; i < 100; i++) {
			struct rec *r = (struct rec *)ptrtab_take(&shared, base + i);
			bad += !r || r->val != i;
			free(r);
		}
	}
	return (void *)bad;
}

static void test_threads(void)
{
	static char keys[4][100];
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, worker, keys[i]);
	for (int i = 0; i < 4; i++) {
		void *bad;
		pthread_join(th[i], &bad);
		EXPECT(bad == NULL);
	}
	for (int i = 0; i < PTRTAB_SHARDS; i++)
		EXPECT(shared.s[i].n == 0);
	free_buckets(&shared);
}

int main(void)
{
	test_basic();
	test_threads();
	UNIT_DONE("ptrtab");
}
