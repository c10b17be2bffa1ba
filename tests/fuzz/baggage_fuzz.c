/*
 * baggage_fuzz.c: libFuzzer target for the W3C Baggage codec (baggage.c),
 * which decodes BAGGAGE from the environment of every process the shim
 * starts in: untrusted text.
 *
 * Properties: every member handed out has a valid key and a value of at most
 * CMAP_MAX_VALUE bytes without NUL; encoding the members again (bag_writer,
 * into a buffer of exactly its size) gives text of baggage octets only that
 * decodes, with nothing malformed, to the same members in the same order;
 * and any value (the input's bytes, NULs left out) round-trips through
 * bag_encode_member, which never writes past its capacity.
 */
#include "baggage.h"
#include "fuzz_check.h"
#include "map.h"

#include <stdlib.h>

#define MAXM 256

struct member {
	const char *k, *v;   /* into the list's storage */
	size_t kl, vl;
};

struct list {
	struct member m[MAXM];
	int n, more;         /* more: members past MAXM */
	char *store;
	size_t used, cap;
};

static int collect(const char *k, size_t kl, const char *v, size_t vl, void *arg)
{
	struct list *l = arg;
	CHECK(cmap_key_valid(k, kl));
	CHECK(vl <= CMAP_MAX_VALUE && v[vl] == '\0' && strlen(v) == vl);
	if (l->n == MAXM) {
		l->more++;
		return 0;
	}
	CHECK(l->used + kl + vl <= l->cap);
	struct member *m = &l->m[l->n++];
	m->k = memcpy(l->store + l->used, k, kl);
	m->kl = kl;
	l->used += kl;
	m->v = memcpy(l->store + l->used, v, vl);
	m->vl = vl;
	l->used += vl;
	return 0;
}

static int decode(const char *s, struct list *l, size_t cap)
{
	memset(l, 0, sizeof *l);
	l->store = malloc(cap ? cap : 1);
	l->cap = cap;
	return bag_decode(s, collect, l);
}

static int is_octet_or_sep(unsigned char c)
{
	/* baggage-octet (W3C Baggage section 3.3.1), '=' and ',' */
	return c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) ||
	       (c >= 0x3C && c <= 0x5B) || (c >= 0x5D && c <= 0x7E) || c == ',';
}

static void encode_round_trip(const struct list *l)
{
	/* what bag_writer keeps: whole members, within Baggage's limits */
	size_t cap = BAG_MAX_BYTES + 1;
	char *buf = malloc(cap);
	struct bag_writer w;
	int kept[MAXM];
	bag_writer_init(&w, buf, cap);
	for (int i = 0; i < l->n; i++) {
		kept[i] = bag_writer_add(&w, l->m[i].k, l->m[i].kl, l->m[i].v, l->m[i].vl) == 0;
		CHECK(w.len < cap && buf[w.len] == '\0' && strlen(buf) == w.len);
	}
	CHECK(w.members <= BAG_MAX_MEMBERS && w.len <= BAG_MAX_BYTES);
	for (size_t i = 0; i < w.len; i++)
		CHECK(is_octet_or_sep((unsigned char)buf[i]));

	/* into a buffer of exactly its size, so a write past it is seen */
	char *exact = malloc(w.len + 1);
	memcpy(exact, buf, w.len + 1);
	struct list again;
	CHECK(decode(exact, &again, w.len + 1) == 0);
	int j = 0;
	for (int i = 0; i < l->n; i++) {
		if (!kept[i])
			continue;
		CHECK(j < again.n);
		CHECK(again.m[j].kl == l->m[i].kl && !memcmp(again.m[j].k, l->m[i].k, l->m[i].kl));
		CHECK(again.m[j].vl == l->m[i].vl && !memcmp(again.m[j].v, l->m[i].v, l->m[i].vl));
		j++;
	}
	CHECK(j == again.n && again.more == 0);
	free(again.store);
	free(exact);
	free(buf);
}

/* Any bytes but NUL as a value: encode, decode, compare. */
static void value_round_trip(const uint8_t *data, size_t size)
{
	char *v = malloc(size ? size : 1);
	size_t vl = 0;
	for (size_t i = 0; i < size && vl < CMAP_MAX_VALUE; i++)
		if (data[i])
			v[vl++] = (char)data[i];
	size_t need = bag_encode_member(NULL, 0, "k_1", 3, v, vl);
	CHECK(need >= 4 + vl && need <= 4 + 3 * vl);
	/* short by one: nothing written (ASan watches the exact buffer) */
	char *out = malloc(need + 1);
	char *small = malloc(need - 1);
	CHECK(bag_encode_member(small, need - 1, "k_1", 3, v, vl) == need);
	free(small);
	CHECK(bag_encode_member(out, need, "k_1", 3, v, vl) == need);
	out[need] = '\0';
	for (size_t i = 0; i < need; i++)
		CHECK(is_octet_or_sep((unsigned char)out[i]) && out[i] != ',');
	struct list l;
	CHECK(decode(out, &l, need) == 0);
	CHECK(l.n == 1 && l.m[0].kl == 3 && !memcmp(l.m[0].k, "k_1", 3));
	CHECK(l.m[0].vl == vl && !memcmp(l.m[0].v, v, vl));
	free(l.store);
	free(out);
	free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the environment's text: up to the first NUL */
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	size_t len = strlen(s);
	char *exact = malloc(len + 1);
	memcpy(exact, s, len + 1);

	struct list l;
	decode(exact, &l, len);
	/* decoding never makes text longer */
	CHECK(l.used <= len);
	encode_round_trip(&l);
	free(l.store);
	value_round_trip(data, size);
	free(exact);
	free(s);
	return 0;
}
