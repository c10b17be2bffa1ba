/*
 * ctxrun_helper.c: the part of ctxrun that runs under the shim.
 *
 * scripts/ctxrun parses the command line and execs this helper with the
 * shim preloaded; the helper sets the initial entries through the public API
 * (on top of whatever BAGGAGE it inherited) and execs the command, so the
 * shim's exec hook encodes the context.  One codec, one set of rules.
 *
 *   ctxrun-helper [-s KEY=VALUE]... [--job NAME] -- COMMAND [ARG]...
 *   ctxrun-helper --get KEY
 */
#include "../../include/ctxshim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void die(int code, const char *what, const char *arg, int err)
{
	ctxshim_clear();   /* our own message: no context decoration on it */
	fprintf(stderr, "ctxrun: %s '%.200s'%s%s\n", what, arg, err ? ": " : "",
		err ? strerror(err) : "");
	exit(code);
}

static int get(const char *key)
{
	char buf[CTXSHIM_MAX_VALUE + 1];
	ssize_t n = ctxshim_get(key, buf, sizeof buf);
	if (n < 0) {
		if (errno == EINVAL)
			die(2, "invalid key", key, 0);
		return 1;
	}
	fwrite(buf, 1, (size_t)n, stdout);
	putchar('\n');
	return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	int i = 1;
	if (argc == 3 && !strcmp(argv[1], "--get"))
		return get(argv[2]);
	for (; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "-s") && i + 1 < argc) {
			char *kv = argv[++i];
			char *eq = strchr(kv, '=');
			if (!eq)
				die(2, "expected KEY=VALUE, got", kv, 0);
			*eq = '\0';
			if (ctxshim_set(kv, eq + 1) < 0 && errno != ENOSYS) {
				if (errno == EINVAL)
					die(2, "invalid entry (keys are 1-64 of [A-Za-z0-9_.-], "
					       "values at most 4096 bytes)", kv, 0);
				die(2, "cannot set", kv, errno);
			}
		} else if (!strcmp(argv[i], "--job") && i + 1 < argc) {
			if (ctxshim_job_begin(argv[++i]) < 0 && errno != ENOSYS)
				die(2, "cannot start job", argv[i], errno);
		} else {
			die(2, "unexpected argument", argv[i], 0);
		}
	}
	if (i + 1 >= argc)
		die(2, "no command given after", "--", 0);
	execvp(argv[i + 1], argv + i + 1);
	die(errno == ENOENT ? 127 : 126, "cannot run", argv[i + 1], errno);
	return 127;
}
