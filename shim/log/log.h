/*
 * log.h: the logging family's internal interface.
 *
 *   log_init.c     settings (CTXSHIM_LOG*, CTXSHIM_SERVICE), read once
 *   log_deco.c     the calling thread's view of the context and the per-line
 *                  fields ({time}, {caller}, ...) for the renderer
 *   log_line.c     the line engine: one decoration at the start of each
 *                  line, whatever pieces the line is written in; write(2)
 *                  and writev(2) on log fds (io.h)
 *   log_stdio.c, log_err.c, log_syslog.c, log_open.c
 *                  the hooks
 *
 * Every fd has a line state, shared by the write(2) path and the stdio
 * hooks, so that a line started by one and ended by the other still gets one
 * decoration.  glibc's stdio writes through an internal write that never
 * reaches our write hook, so the two paths never decorate the same bytes.
 */
#ifndef CTX_LOG_H
#define CTX_LOG_H

#include "core.h"
#include "fdtab.h"
#include "logfmt.h"
#include "logtpl.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/uio.h>

enum { LOG_SINK_SYSLOG = 1, LOG_SINK_STDERR = 2, LOG_SINK_STDOUT = 4, LOG_SINK_FILE = 8,
       LOG_SINK_JOURNAL = 16 };

#define LOG_MAX_GLOBS 8
#define LOG_PREFIX_MAX 1024    /* a longer decoration leaves fields out */
#define LOG_SUFFIX_MAX 256
#define LOG_DEFAULT_FORMAT "[{context}] {message}"

/* Write all of P to FD (the rest of a cut decoration or escape, which the
 * program does not know exists); a full non-blocking fd is waited for, a
 * little (log_line.c). */
void log_finish(int fd, const char *p, size_t n);

/* FD is no longer a log (fdtab_forget): its line state is dropped. */
void log_fd_closed(int fd);

/* FMT and AP formatted as the real call would (FLAG >= 0: the fortified
 * form, with that flag; ERR: the caller's errno, for %m), into BUF of CAP
 * bytes or, when longer, a malloc'ed buffer.  The text is in *OUT (free it
 * when it is not BUF); its length, or -1 (a format error, or no memory: the
 * caller then leaves the call to the real function). */
int log_vformat(char *buf, size_t cap, char **out, int flag, const char *fmt, va_list ap, int err);

struct log_config {
	int sinks;              /* LOG_SINK_* */
	int style;              /* LF_TEXT, LF_LOGFMT, LF_JSON, LF_OTEL */
	int syslog_max;         /* syslog messages above this level are dropped */
	int line_level;         /* {level} of lines that carry none (stderr, files) */
	int rfc5424;            /* syslog: RFC 5424 packets with structured data */
	int has_suffix;         /* the style puts something after the message */
	unsigned uses;          /* LT_USES_*: per-line fields to compute */
	int fast_lines;         /* text style, nothing after the message */
	struct lt_tpl tpl;
	const char *service;
	size_t service_len;
	int nglobs;
	const char *globs[LOG_MAX_GLOBS];
};
extern struct log_config log_cfg;

/* ---- what is a log (log_fdkind.c) ----------------------------------------- */

/* The list of pipes and sockets from outside, and the marker children get. */
void log_fdkind_init(void);
/* Judge FD (marked FD_LOGQ): FD_LOG when it is a log, else nothing; 1 for
 * a log.  A few system calls, once per fd until it is dup2'ed over. */
int log_fd_decide(int fd);

/* 1 when lines written to FD are decorated (the fd bits; judged once). */
static inline int log_fd_is_log(int fd)
{
	unsigned k = fdtab_get(fd);
	if (likely(!(k & FD_LOGQ)))
		return (k & FD_LOG) != 0;
	return log_fd_decide(fd);
}

/* ---- line state, per open file ------------------------------------------ */

/* A line's state belongs to the open file, not to the fd number: after
 * dup2(2, 1) a line begun on fd 1 is ended on fd 2 (a shell's `printf a >&2;
 * echo b >&2` writes each piece through a fresh copy of fd 2 on fd 1).  So
 * each fd names a slot, its own number unless it was made a copy of another
 * log fd by dup2/dup3 (log_fd_dup); log_fd_closed hands a slot on to a copy
 * still open. */
#define LST_MID 1u        /* a line is open (its start is out) */
#define LST_DEC 2u        /* ... and was decorated: its suffix is owed */

extern _Atomic uint8_t log_line_state[FDTAB_MAX];
extern _Atomic uint16_t log_alias[FDTAB_MAX];    /* fd ^ its slot (0: its own) */
/* json/logfmt: the start of a UTF-8 sequence cut by the end of a write,
 * kept until the next write says whether it is completed (escaped with it,
 * or as U+FFFD): up to 3 bytes, their count in the top byte.  Meaningful
 * only while the slot's line is decorated. */
extern _Atomic uint32_t log_held[FDTAB_MAX];

static inline int log_slot(int fd)
{
	return fd ^ atomic_load_explicit(&log_alias[fd], memory_order_relaxed);
}

static inline unsigned log_state(int fd)
{
	return (unsigned)fd < FDTAB_MAX ?
	       atomic_load_explicit(&log_line_state[log_slot(fd)], memory_order_relaxed) : 0;
}

/* The line state and the held bytes of FD's slot. */
static inline void log_set_line(int fd, unsigned st, uint32_t held)
{
	if ((unsigned)fd < FDTAB_MAX) {
		int s = log_slot(fd);
		atomic_store_explicit(&log_held[s], held, memory_order_relaxed);
		atomic_store_explicit(&log_line_state[s], (uint8_t)st, memory_order_relaxed);
	}
}

static inline void log_set_state(int fd, unsigned st)
{
	log_set_line(fd, st, 0);
}

/* NEW was made a copy of the log fd OLD (after dup2/dup3; NEW forgotten). */
void log_fd_dup(int old, int new);
/* FD's line is left open and decorated by this process (log_slot.c);
 * STREAM: its last bytes went into a stdio stream's buffer. */
void log_line_left_open(int fd, int stream);
void log_slots_init(void);

/* After undecorated bytes ending with LAST went out: the line is open or
 * closed (a decorated line never gets here). */
static inline void log_note_plain(int fd, char last)
{
	unsigned st = last == '\n' ? 0 : LST_MID;
	if (log_state(fd) != st)
		log_set_state(fd, st);
}

/* 1 when the calling thread's context has a visible entry: what decides
 * whether a new line is decorated (no lock in copy mode). */
int log_has_context_boxed(void);
static inline int log_has_context(void)
{
	if (likely(ctx_cfg.mode == CTX_COPY) || ctx_is_empty())
		return !ctx_is_empty();
	return log_has_context_boxed();
}

/* The process-wide layer under every thread's context (core.h) into *G, and
 * its version: the epoch it was installed at, or 0 when a replacement was
 * under way (then G names no version).  Layers are freed once replaced and
 * unread, so an address may come back for another layer: the prefix cache
 * compares versions, never addresses.  *G may only be dereferenced inside
 * ctx_global_enter/leave. */
static inline uint64_t log_global(const struct cmap **g)
{
	uint64_t v = atomic_load_explicit(&ctx_global_epoch, memory_order_acquire);
	*g = atomic_load_explicit(&ctx_global, memory_order_acquire);
	/* the acquire load above keeps this one after it */
	return v == atomic_load_explicit(&ctx_global_epoch, memory_order_relaxed) && !(v & 1) ? v
												 : 0;
}

/* ---- the decoration of one call ------------------------------------------ */

struct log_deco {
	int level;
	void *caller;           /* a return address in the code that logged */
	int safe;               /* not possibly in a signal handler (stdio, syslog) */
	int viewed;
	int gsec;               /* copy mode: a read of the global layer is open */
	uint64_t gver;          /* the version of f.base (log_global); 0 unknown */
	struct cmap *owned;     /* share/chain modes: the snapshot to release */
	/* share/chain modes: where the snapshot is built without allocating */
	char snap[2048] __attribute__((aligned(16)));
	struct lt_fields f;
	char caller_buf[96];    /* {caller} when the cache is full */
};

void log_deco_begin(struct log_deco *d, int level, void *caller, int safe);
void log_deco_end(struct log_deco *d);
/* The fields, with the context viewed on first use (f.ctx NULL: empty). */
const struct lt_fields *log_deco_fields(struct log_deco *d);
/* Prefix of a new line; 0 when the context is empty. */
size_t log_deco_prefix(struct log_deco *d, char *out, size_t cap);
/* ---- the prefix cache (log_deco.c) ------------------------------------- */

/* A thread usually logs many lines under one context, and a text prefix
 * without time, pid, tid or caller depends on nothing else: the last one
 * rendered is kept with a copy of the entries it came from and reused when
 * the context holds the same entries.  A map keeps its strings together
 * ("k\0v\0k\0v\0", map.h), so one compare of that range decides; comparing
 * contents, not pointers, stays right when a freed map's address comes
 * back.  busy keeps a signal handler's write away from a half-written one.
 * Inline: it is most of the cost of a decorated write(2). */
#define LOG_PC_KEY 320
#define LOG_PC_PRE 256

struct log_pcache {
	volatile int busy;
	int valid, level;
	uint64_t gver;             /* the global layer it was rendered over */
	uint32_t n;
	uint16_t keylen, prelen;
	char key[LOG_PC_KEY];
	char pre[LOG_PC_PRE];
};
extern __thread struct log_pcache log_pc CTX_TLS;

/* The range of M's strings, or NULL when too long to cache. */
static inline const char *log_pc_strings(const struct cmap *m, size_t *len)
{
	if (m->n == 0)
		return NULL;
	const struct cmap_entry *last = &m->e[m->n - 1];
	const char *a = m->e[0].key, *z = last->val + last->vlen + 1;
	if (z <= a || (size_t)(z - a) > LOG_PC_KEY)
		return NULL;
	*len = (size_t)(z - a);
	return a;
}

static inline int log_pc_match(const struct cmap *m, uint64_t gver, int level)
{
	size_t len;
	const char *s;
	if (!log_pc.valid || !gver || log_pc.gver != gver || log_pc.level != level)
		return 0;
	if (!m)
		return log_pc.n == 0;
	return log_pc.n == m->n && (s = log_pc_strings(m, &len)) && len == log_pc.keylen &&
	       __builtin_memcmp(s, log_pc.key, len) == 0;
}

static inline int log_pc_usable(void)
{
	return log_cfg.style == LF_TEXT && log_cfg.uses == 0;
}

/* The calling thread's prefix when the cache holds it (copy mode, text
 * style, nothing per-line in the template); (size_t)-1 when not: then
 * log_deco_prefix renders it and refills the cache. */
static inline size_t log_cached_prefix(int level, char *out, size_t cap)
{
	const struct cmap *m = ctx_self.map, *g;
	uint64_t gver = log_global(&g);
	size_t n = (size_t)-1;
	if (ctx_cfg.mode != CTX_COPY || (!m && !g) || !log_pc_usable() || log_pc.busy)
		return n;
	log_pc.busy = 1;
	atomic_signal_fence(memory_order_seq_cst);
	if (log_pc_match(m, gver, level) && log_pc.prelen <= cap) {
		n = log_pc.prelen;
		__builtin_memcpy(out, log_pc.pre, n);
	}
	atomic_signal_fence(memory_order_seq_cst);
	log_pc.busy = 0;
	return n;
}
/* Suffix (without the newline). */
size_t log_deco_suffix(struct log_deco *d, char *out, size_t cap);

/* "function+0xoff" for a return address, cached per call site. */
const char *log_caller_name(void *ra, char *tmp, size_t cap, int safe);

/* ---- the line engine ------------------------------------------------------ */

/* The prefix of a line starting now (0 when the context is empty). */
size_t log_line_prefix(int level, void *caller, int safe, char *out, size_t cap);

/* Decorate and write IN to FD with write(2) semantics: the program's byte
 * count, or -1 with errno; never a cut decoration. */
ssize_t log_out_fd(int fd, const struct iovec *in, int cnt, size_t total,
		   int level, void *caller);

/* Decorate IN into stream F (locked by the caller; FD is its fileno).
 * 0 when everything went into the stream, -1 on a stream error. */
int log_out_stream(FILE *f, int fd, const struct iovec *in, int cnt, int level,
		   void *caller);

/* The hooks' recursion guard, set while the family runs (any hooked call we
 * make, or a printf handler the program registered, passes through). */
static inline int log_enter(void)
{
	int was = ctx_self.in_hook;
	ctx_self.in_hook = 1;
	return was;
}

static inline void log_leave(int was)
{
	ctx_self.in_hook = was;
}

#endif
