/*
 * keycheck.h: kc_get(KEY, BUF, SIZE) reads KEY with ctxshim_get and with
 * ctxshim_get_key (a handle made on first use) and exits with status 99,
 * naming the key on stderr, when the two disagree in result, errno or
 * bytes.  Test programs read through it so that every context change they
 * go through (connection switches, callbacks, threads) also proves that
 * the key-handle path sees it.
 */
#ifndef KEYCHECK_H
#define KEYCHECK_H

#include <ctxshim.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ssize_t kc_get(const char *key, char *buf, size_t size)
{
	static __thread struct { char name[65]; ctxshim_key_t h; } known[16];
	ctxshim_key_t h = 0;
	for (int i = 0; i < 16 && known[i].name[0]; i++)
		if (!strcmp(known[i].name, key))
			h = known[i].h;
	if (!h) {
		h = ctxshim_key(key);
		for (int i = 0; i < 16; i++)
			if (!known[i].name[0]) {
				snprintf(known[i].name, sizeof known[i].name, "%s", key);
				known[i].h = h;
				break;
			}
	}
	char other[4097];
	size_t osize = size < sizeof other ? size : sizeof other;
	errno = 0;
	ssize_t a = ctxshim_get(key, buf, size);
	int ea = errno;
	errno = 0;
	ssize_t b = ctxshim_get_key(h, osize ? other : NULL, osize);
	int eb = errno;
	if (a != b || (a < 0 && ea != eb) || (a >= 0 && size && strcmp(buf, other))) {
		/* In share mode another thread sharing the box may have set the
		 * key between the two reads: read it again after get_key; only a
		 * disagreement that stays is one. */
		errno = 0;
		a = ctxshim_get(key, buf, size);
		ea = errno;
	}
	if (a != b || (a < 0 && ea != eb) || (a >= 0 && size && strcmp(buf, other))) {
		fprintf(stderr, "KEY MISMATCH %s: get %zd (%s) errno %d, get_key %zd (%s) errno %d\n",
			key, a, a >= 0 && size ? buf : "-", ea, b, b >= 0 && osize ? other : "-", eb);
		exit(99);
	}
	errno = ea;
	return a;
}

#endif
