/* envp.c: see envp.h. */
#include "envp.h"

#include <string.h>

size_t envp_count(char *const envp[])
{
	size_t n = 0;
	while (envp && envp[n])
		n++;
	return n;
}

/* 1 if S is "NAME=..." for the NAME of length LEN. */
static int is_var(const char *s, const char *name, size_t len)
{
	return strncmp(s, name, len) == 0 && s[len] == '=';
}

const char *envp_get(char *const envp[], const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; envp && envp[i]; i++)
		if (is_var(envp[i], name, len))
			return envp[i] + len + 1;
	return NULL;
}

static const char *base_name(const char *p, size_t len, size_t *blen)
{
	size_t i = len;
	while (i > 0 && p[i - 1] != '/')
		i--;
	*blen = len - i;
	return p + i;
}

int envp_preload_has(const char *list, const char *self)
{
	size_t sb;
	if (!list || !self)
		return 0;
	const char *sbase = base_name(self, strlen(self), &sb);
	while (*list) {
		size_t len = strcspn(list, ": ");
		size_t b;
		const char *base = base_name(list, len, &b);
		if (len && b == sb && memcmp(base, sbase, sb) == 0)
			return 1;
		list += len;
		if (*list)
			list++;
	}
	return 0;
}

char *envp_preload_kv(char *buf, size_t cap, const char *cur, const char *self)
{
	size_t clen = cur ? strlen(cur) : 0, slen = strlen(self);
	size_t need = 11 + clen + (clen ? 1 : 0) + slen + 1;
	if (need > cap)
		return NULL;
	char *p = buf;
	memcpy(p, "LD_PRELOAD=", 11);
	p += 11;
	if (clen) {
		memcpy(p, cur, clen);
		p += clen;
		*p++ = ':';
	}
	memcpy(p, self, slen + 1);
	return buf;
}

ssize_t envp_build(char **out, size_t cap, char *const envp[], const char *bag_kv,
		   int drop_bag, const char *preload_kv, const char *const carry[])
{
	size_t n = 0;
#define PUT(s) do { if (n + 1 >= cap) return -1; out[n++] = (char *)(s); } while (0)
	for (size_t i = 0; envp && envp[i]; i++) {
		if ((drop_bag || bag_kv) && is_var(envp[i], "BAGGAGE", 7))
			continue;
		if (preload_kv && is_var(envp[i], "LD_PRELOAD", 10))
			continue;
		PUT(envp[i]);
	}
	if (bag_kv)
		PUT(bag_kv);
	if (preload_kv)
		PUT(preload_kv);
	for (size_t i = 0; carry && carry[i]; i++) {
		size_t len = strcspn(carry[i], "=");
		char name[64];
		if (len >= sizeof name)
			continue;
		memcpy(name, carry[i], len);
		name[len] = '\0';
		if (!envp_get(envp, name))
			PUT(carry[i]);
	}
#undef PUT
	out[n] = NULL;
	return (ssize_t)n;
}
