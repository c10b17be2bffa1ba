/*
 * ptrtab.c: see ptrtab.h.
 */
#include "ptrtab.h"

#include <stdint.h>
#include <stdlib.h>

#define FIRST_BUCKETS 8

/* Fibonacci hashing of the address: its low bits are alignment, its high
 * bits shared by everything in one arena; the multiply mixes them all. */
static inline uint64_t mix(const void *key)
{
	return ((uint64_t)(uintptr_t)key >> 3) * 0x9e3779b97f4a7c15ull;
}

struct ptrtab_shard *ptrtab_shard(struct ptrtab *t, const void *key)
{
	return &t->s[mix(key) >> 59 & (PTRTAB_SHARDS - 1)];
}

static inline size_t slot(const struct ptrtab_shard *s, const void *key)
{
	return (size_t)(mix(key) >> 20) & (s->nb - 1);
}

struct ptrtab_node *ptrtab_find_locked(struct ptrtab_shard *s, const void *key)
{
	if (!s->b)
		return NULL;
	for (struct ptrtab_node *n = s->b[slot(s, key)]; n; n = n->next)
		if (n->key == key)
			return n;
	return NULL;
}

/* Double the bucket array; on failure keep the longer chains. */
static void grow(struct ptrtab_shard *s)
{
	size_t nb = s->nb * 2;
	struct ptrtab_node **b = calloc(nb, sizeof *b);
	if (!b)
		return;
	struct ptrtab_node **old = s->b;
	size_t onb = s->nb;
	s->b = b;
	s->nb = nb;
	for (size_t i = 0; i < onb; i++) {
		struct ptrtab_node *n = old[i], *next;
		for (; n; n = next) {
			next = n->next;
			size_t k = slot(s, n->key);
			n->next = b[k];
			b[k] = n;
		}
	}
	free(old);
}

struct ptrtab_node *ptrtab_take_locked(struct ptrtab_shard *s, const void *key)
{
	if (!s->b)
		return NULL;
	for (struct ptrtab_node **p = &s->b[slot(s, key)]; *p; p = &(*p)->next) {
		struct ptrtab_node *n = *p;
		if (n->key == key) {
			*p = n->next;
			n->next = NULL;
			s->n--;
			return n;
		}
	}
	return NULL;
}

int ptrtab_put_locked(struct ptrtab_shard *s, struct ptrtab_node *n, struct ptrtab_node **old)
{
	*old = NULL;
	if (!s->b) {
		s->b = calloc(FIRST_BUCKETS, sizeof *s->b);
		if (!s->b)
			return -1;
		s->nb = FIRST_BUCKETS;
	}
	*old = ptrtab_take_locked(s, n->key);
	if (s->n >= s->nb)
		grow(s);
	size_t k = slot(s, n->key);
	n->next = s->b[k];
	s->b[k] = n;
	s->n++;
	return 0;
}

int ptrtab_put(struct ptrtab *t, struct ptrtab_node *n, struct ptrtab_node **old)
{
	struct ptrtab_shard *s = ptrtab_shard(t, n->key);
	pthread_mutex_lock(&s->lock);
	int r = ptrtab_put_locked(s, n, old);
	pthread_mutex_unlock(&s->lock);
	return r;
}

struct ptrtab_node *ptrtab_take(struct ptrtab *t, const void *key)
{
	struct ptrtab_shard *s = ptrtab_shard(t, key);
	pthread_mutex_lock(&s->lock);
	struct ptrtab_node *n = ptrtab_take_locked(s, key);
	pthread_mutex_unlock(&s->lock);
	return n;
}

struct ptrtab_node *ptrtab_get(struct ptrtab *t, const void *key)
{
	struct ptrtab_shard *s = ptrtab_shard(t, key);
	pthread_mutex_lock(&s->lock);
	struct ptrtab_node *n = ptrtab_find_locked(s, key);
	pthread_mutex_unlock(&s->lock);
	return n;
}

struct ptrtab_node *ptrtab_take_if(struct ptrtab *t,
				   int (*pred)(const struct ptrtab_node *, void *), void *arg)
{
	struct ptrtab_node *out = NULL;
	for (int i = 0; i < PTRTAB_SHARDS; i++) {
		struct ptrtab_shard *s = &t->s[i];
		pthread_mutex_lock(&s->lock);
		for (size_t k = 0; s->b && k < s->nb; k++) {
			struct ptrtab_node **p = &s->b[k];
			while (*p) {
				struct ptrtab_node *n = *p;
				if (pred(n, arg)) {
					*p = n->next;
					n->next = out;
					out = n;
					s->n--;
				} else {
					p = &n->next;
				}
			}
		}
		pthread_mutex_unlock(&s->lock);
	}
	return out;
}

void ptrtab_each_locked(struct ptrtab *t, void (*fn)(struct ptrtab_node *, void *), void *arg)
{
	for (int i = 0; i < PTRTAB_SHARDS; i++)
		for (size_t k = 0; t->s[i].b && k < t->s[i].nb; k++)
			for (struct ptrtab_node *n = t->s[i].b[k]; n; n = n->next)
				fn(n, arg);
}

void ptrtab_lock_all(struct ptrtab *t)
{
	for (int i = 0; i < PTRTAB_SHARDS; i++)
		pthread_mutex_lock(&t->s[i].lock);
}

void ptrtab_unlock_all(struct ptrtab *t)
{
	for (int i = PTRTAB_SHARDS - 1; i >= 0; i--)
		pthread_mutex_unlock(&t->s[i].lock);
}
