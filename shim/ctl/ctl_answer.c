/*
 * ctl_answer.c: what the control endpoint answers (ctlreq.h lists the
 * requests).  Runs on the listener thread only; every answer is one JSON
 * object and a newline, {"ok":false,"error":...} when refused.
 *
 * set and unset change the process-wide layer (ctx_global_set/unset): every
 * thread reads through it for keys its own context lacks, so the entries
 * show up in later log lines and in the Baggage of processes started later.
 */
#include "ctl.h"

#include "baggage.h"
#include "hooks.h"
#include "ctlreq.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void ctl_answer_error(struct jbuf *b, const char *msg)
{
	jb_lit(b, "{\"ok\":false,\"error\":");
	jb_cstr(b, msg);
	jb_lit(b, "}\n");
}

/* Up to CAP-1 bytes of a /proc file into BUF (NUL-terminated); the length. */
static size_t read_small(const char *path, char *buf, size_t cap)
{
	size_t n = 0;
	int fd = REAL(open)(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t k;
		while (n < cap - 1 && (k = REAL(read)(fd, buf + n, cap - 1 - n)) > 0)
			n += (size_t)k;
		REAL(close)(fd);
	}
	buf[n] = '\0';
	return n;
}

/* Milliseconds since this process started (forked or exec'ed). */
static uint64_t uptime_ms(void)
{
	char st[1024];
	read_small("/proc/self/stat", st, sizeof st);
	const char *p = strrchr(st, ')');
	if (!p)
		return 0;
	/* Field 22 (starttime) counted from field 3, just after the name. */
	for (int field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return 0;
	unsigned long long ticks = strtoull(p + 1, NULL, 10);
	long hz = sysconf(_SC_CLK_TCK);
	struct timespec now;
	clock_gettime(CLOCK_BOOTTIME, &now);
	uint64_t now_ms = (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
	uint64_t start_ms = hz > 0 ? ticks * 1000u / (uint64_t)hz : 0;
	return now_ms > start_ms ? now_ms - start_ms : 0;
}

static int count_threads(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void answer_info(struct jbuf *b)
{
	static const char *const modes[] = { "copy", "share", "chain" };
	char comm[64], cmd[512];
	read_small("/proc/self/comm", comm, sizeof comm);
	size_t n = strcspn(comm, "\n");
	size_t cl = read_small("/proc/self/cmdline", cmd, sizeof cmd);
	while (cl && cmd[cl - 1] == '\0')
		cl--;
	for (size_t i = 0; i < cl; i++)
		if (cmd[i] == '\0')
			cmd[i] = ' ';
	jb_lit(b, "{\"ok\":true,\"protocol\":1");
	jb_key(b, "pid");
	jb_int(b, getpid());
	jb_key(b, "ppid");
	jb_int(b, getppid());
	jb_key(b, "uid");
	jb_uint(b, geteuid());
	jb_key(b, "program");
	jb_str(b, comm, n);
	jb_key(b, "cmdline");
	jb_str(b, cmd, cl);
	jb_key(b, "uptime_ms");
	jb_uint(b, uptime_ms());
	jb_key(b, "threads");
	jb_int(b, count_threads());
	jb_key(b, "mode");
	jb_cstr(b, modes[ctx_cfg.mode]);
	jb_key(b, "trace_spawn");
	jb_lit(b, ctl_trace_spawn ? "true" : "false");
	jb_lit(b, "}\n");
}

/* {"ok":true,"pid":N,"global":{...}} with the layer as it is now. */
static void answer_global(struct jbuf *b)
{
	/* Kept from being freed while it is written out (core.h). */
	const struct cmap *g = ctx_global_enter();
	jb_lit(b, "{\"ok\":true");
	jb_key(b, "pid");
	jb_int(b, getpid());
	jb_key(b, "global");
	jb_raw(b, "{", 1);
	for (uint32_t i = 0; g && i < g->n; i++) {
		jb_comma(b);
		jb_str(b, g->e[i].key, g->e[i].klen);
		jb_raw(b, ":", 1);
		jb_str(b, g->e[i].val, g->e[i].vlen);
	}
	ctx_global_leave();
	jb_lit(b, "}}\n");
}

struct setting {
	int done;
	int err;
};

static int set_one(const char *k, size_t kl, const char *v, size_t vl, void *arg)
{
	struct setting *s = arg;
	if (ctx_global_set(k, kl, v, vl) < 0) {
		s->err = errno;
		return 1;
	}
	s->done++;
	return 0;
}

static void answer_set(struct jbuf *b, const struct ctl_req *r)
{
	struct setting s = { 0, 0 };
	bag_decode(r->arg, set_one, &s);
	if (!s.err) {
		answer_global(b);
		return;
	}
	char why[160];
	snprintf(why, sizeof why, "%d of %d set; then: %s", s.done, r->count,
		 s.err == ENOSPC ? "the process-wide layer is full (64 entries)" :
		 s.err == EBUSY ? "replaced layers are still being read; try again later" :
				  strerror(s.err));
	jb_lit(b, "{\"ok\":false");
	jb_key(b, "error");
	jb_cstr(b, why);
	jb_lit(b, "}\n");
}

static void answer_unset(struct jbuf *b, const struct ctl_req *r)
{
	const char *p = r->arg, *w;
	size_t wl;
	while (ctlreq_word(&p, &w, &wl)) {
		if (ctx_global_unset(w, wl) < 0) {
			ctl_answer_error(b, errno == EBUSY ? "replaced layers are still being read; "
							     "try again later" : "out of memory");
			return;
		}
	}
	answer_global(b);
}

void ctl_answer(const char *line, size_t len, struct jbuf *b)
{
	struct ctl_req r;
	if (ctlreq_parse(line, len, &r) < 0) {
		ctl_answer_error(b, r.err);
		return;
	}
	switch (r.verb) {
	case CTL_INFO:
		answer_info(b);
		break;
	case CTL_THREADS:
		ctl_threads_answer(b, r.symbols);
		break;
	case CTL_CONNS:
		ctl_conns_answer(b);
		break;
	case CTL_GET:
		answer_global(b);
		break;
	case CTL_SET:
		answer_set(b, &r);
		break;
	case CTL_UNSET:
		answer_unset(b, &r);
		break;
	default:
		ctl_answer_error(b, "unknown request");
	}
}
