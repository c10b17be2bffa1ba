/*
 * fdkind_fuzz.c: libFuzzer target for the CTXSHIM_LOG_PIPES codec
 * (pure_fdkind.c): a child parses whatever its environment holds.  Parsing
 * never reads past the string; what it parsed formats back within the
 * buffer and parses again to the same ids; a shorter buffer keeps a prefix
 * of whole ids.
 */
#include "fdkind.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	struct fk_id ids[FK_MAX], again[FK_MAX];
	int n = fk_parse(s, ids, FK_MAX);
	if (n < 0 || n > FK_MAX)
		abort();
	char buf[FK_MAX * 40];
	size_t len = fk_format(buf, sizeof buf, ids, n);
	if (len >= sizeof buf || strlen(buf) != len)
		abort();
	if (fk_parse(buf, again, FK_MAX) != n || memcmp(ids, again, sizeof ids[0] * (size_t)n))
		abort();
	for (int i = 0; i < n; i++)
		if (!fk_has(again, n, ids[i]))
			abort();
	/* a cap from the input: whole ids only, always NUL-terminated */
	size_t cap = size ? data[0] % sizeof buf + 1 : 1;
	char *small = malloc(cap);
	size_t l2 = fk_format(small, cap, ids, n);
	if (l2 >= cap || strlen(small) != l2 || strncmp(small, buf, l2) ||
	    (l2 && l2 < len && buf[l2] != ','))
		abort();
	int m = fk_parse(small, again, FK_MAX);
	if (m > n || memcmp(ids, again, sizeof ids[0] * (size_t)m))
		abort();
	free(small);
	(void)fk_is_journald(s, size);
	free(s);
	return 0;
}
