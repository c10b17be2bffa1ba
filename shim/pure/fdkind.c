/*
 * fdkind.c: the pure half of "what is a log, what is data" (fdkind.h):
 * the kind of a file type, the CTXSHIM_LOG_PIPES codec.  No system calls,
 * no allocation: the variable is read at start-up and written into a
 * child's environment from exec hooks that may run in a vforked child.
 */
#include "fdkind.h"

#include <string.h>
#include <sys/stat.h>

int fk_kind(mode_t mode)
{
	if (S_ISREG(mode) || S_ISCHR(mode) || S_ISBLK(mode))
		return FK_LOG;
	if (S_ISFIFO(mode) || S_ISSOCK(mode))
		return FK_STREAM;
	return FK_DATA;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* One hex number of 1-16 digits at *P, advanced. */
static int hexnum(const char **p, unsigned long long *v)
{
	const char *s = *p;
	int n = 0, d;
	*v = 0;
	while ((d = hexval(*s)) >= 0) {
		if (++n > 16)
			return -1;
		*v = *v << 4 | (unsigned)d;
		s++;
	}
	*p = s;
	return n ? 0 : -1;
}

int fk_parse(const char *s, struct fk_id *out, int cap)
{
	int n = 0;
	if (!s)
		return 0;
	while (*s && n < cap) {
		struct fk_id id;
		if (hexnum(&s, &id.dev) < 0 || *s++ != ':' || hexnum(&s, &id.ino) < 0)
			break;
		out[n++] = id;
		if (*s != ',')
			break;
		s++;
	}
	return n;
}

static size_t put_hex(char *p, unsigned long long v)
{
	char tmp[16];
	size_t n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	for (size_t i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

size_t fk_format(char *buf, size_t cap, const struct fk_id *ids, int n)
{
	size_t len = 0;
	if (cap == 0)
		return 0;
	for (int i = 0; i < n; i++) {
		char item[40];   /* ",", 16 digits, ":", 16 digits */
		size_t m = 0;
		if (len)
			item[m++] = ',';
		m += put_hex(item + m, ids[i].dev);
		item[m++] = ':';
		m += put_hex(item + m, ids[i].ino);
		if (len + m + 1 > cap)
			break;
		memcpy(buf + len, item, m);
		len += m;
	}
	buf[len] = '\0';
	return len;
}

int fk_has(const struct fk_id *list, int n, struct fk_id id)
{
	for (int i = 0; i < n; i++)
		if (list[i].dev == id.dev && list[i].ino == id.ino)
			return 1;
	return 0;
}

int fk_is_journald(const char *path, size_t len)
{
	static const char j[] = "/run/systemd/journal/stdout";
	size_t jl = sizeof j - 1;
	if (len < jl || memcmp(path, j, jl) != 0)
		return 0;
	for (size_t i = jl; i < len; i++)
		if (path[i] != '\0')
			return 0;
	return 1;
}
