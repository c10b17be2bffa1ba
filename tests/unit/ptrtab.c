/* Unit tests for ptrtab.c: insert, replace, lookup, removal, growth,
 * filtered removal and concurrent use from several threads. */
#include "ptrtab.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct rec {
	struct ptrtab_node node;
	int val;
};

static struct rec *mk(const void *key, int val)
{
	struct rec *r = calloc(1, sizeof *r);
	assert(r);
	r->node.key = key;
	r->val = val;
	return r;
}

static int odd(const struct ptrtab_node *n, void *arg)
{
	(void)arg;
	return ((const struct rec *)n)->val % 2;
}

static void test_basic(void)
{
	struct ptrtab t = PTRTAB_INIT;
	static char keys[5000];
	struct ptrtab_node *old;

	assert(ptrtab_get(&t, keys) == NULL);
	assert(ptrtab_take(&t, keys) == NULL);
	for (int i = 0; i < 5000; i++) {
		assert(ptrtab_put(&t, &mk(keys + i, i)->node, &old) == 0);
		assert(old == NULL);
	}
	/* Growth kept every node reachable. */
	for (int i = 0; i < 5000; i++) {
		struct rec *r = (struct rec *)ptrtab_get(&t, keys + i);
		assert(r && r->val == i);
	}
	/* Same key: the old node comes back, the new one is found. */
	struct rec *nr = mk(keys + 7, 70007);
	assert(ptrtab_put(&t, &nr->node, &old) == 0);
	assert(old && ((struct rec *)old)->val == 7);
	free(old);
	assert(ptrtab_get(&t, keys + 7) == &nr->node);

	/* Remove the odd values, keep the even. */
	int n = 0;
	for (struct ptrtab_node *p = ptrtab_take_if(&t, odd, NULL), *next; p; p = next) {
		next = p->next;
		n++;
		free(p);
	}
	assert(n == 2500);
	for (int i = 0; i < 5000; i++) {
		struct ptrtab_node *p = ptrtab_take(&t, keys + i);
		assert((p != NULL) == (i % 2 == 0));
		free(p);
	}
	for (int i = 0; i < PTRTAB_SHARDS; i++) {
		assert(t.s[i].n == 0);
		free(t.s[i].b);
	}
}

static struct ptrtab shared = PTRTAB_INIT;

static void *worker(void *arg)
{
	char *base = arg;
	struct ptrtab_node *old;
	for (int round = 0; round < 200; round++) {
		for (int i = 0; i < 100; i++)
			assert(ptrtab_put(&shared, &mk(base + i, i)->node, &old) == 0 && !old);
		for (int i = 0; i < 100; i++) {
			struct rec *r = (struct rec *)ptrtab_take(&shared, base + i);
			assert(r && r->val == i);
			free(r);
		}
	}
	return NULL;
}

static void test_threads(void)
{
	static char keys[4][100];
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, worker, keys[i]);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < PTRTAB_SHARDS; i++) {
		assert(shared.s[i].n == 0);
		free(shared.s[i].b);
	}
}

int main(void)
{
	test_basic();
	test_threads();
	puts("ptrtab: ok");
	return 0;
}
