/*
 * log_line.c: the line engine.  Program bytes go out as segments:
 *
 *   DECOR     a prefix, at the start of a line       (no program byte)
 *   RAW       program bytes as they are               (1:1)
 *   ESC       program bytes escaped (logfmt, json)    (whole escape units)
 *   UNIT      one escape unit for a UTF-8 sequence    (its program bytes)
 *             cut by the end of a write, completed or
 *             not by the next one (json, logfmt)
 *   DECOR_NL  the suffix and the line's newline       (the newline's byte)
 *
 * queued in a small stack array and written with one writev (or one write
 * when they fit the gather buffer), so a decorated line is one system call
 * whenever the program wrote it with one: lines from threads never mix.
 *
 * The line state (of the open file: log.h) says whether a line is open, so
 * that a line written in pieces gets exactly one prefix, and follows what
 * really went out.  In json and logfmt a UTF-8 sequence cut by the end of a
 * write is held back (log_held) and escaped with the bytes that complete
 * it, or as U+FFFD when the next bytes or the line's end show it never
 * will be: every byte out is valid UTF-8.  When the
 * kernel takes only part of what we queued (a short write), the program is
 * told how many of *its* bytes went out; a decoration or escape cut in the
 * middle is finished first, so the program's retry continues a clean line.
 *
 * Everything is on the stack (about 3 KiB): no allocation, no lock (copy
 * mode), safe in a signal handler.
 */
#include "log.h"
#include "log_sink.h"
#include "hooks.h"
#include "io.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>


#define SEGS 32
#define ESC_BUF 512    /* escaped output; also the gather buffer in text style */

enum { SEG_RAW, SEG_ESC, SEG_UNIT, SEG_DECOR, SEG_DECOR_NL };

struct seg {
	const char *in;       /* SEG_ESC: the program bytes it escapes */
	uint32_t nin;         /* program bytes it stands for */
	uint8_t kind;
	uint8_t st_after;     /* line state once all of it is out */
	uint8_t st_cut;       /* RAW: line state when only part of it is */
	uint32_t held_after;  /* held bytes once all of it is out */
};

struct out {
	int fd;
	FILE *f;              /* stdio sink, else NULL */
	struct log_deco deco;
	int have_pre, have_suf, active;
	size_t prelen, suflen;
	struct iovec iov[SEGS];
	struct seg seg[SEGS];
	int n;
	size_t escused;
	size_t done;          /* program bytes surely out */
	unsigned st;          /* line state after the queued segments */
	unsigned st_done;     /* line state after what is out */
	uint32_t held;        /* held bytes (log.h) after the queued segments */
	uint32_t held_done;   /* ... after what is out */
	int err;              /* errno of a failed write, 0 */
	int stopped;          /* a short write or an error ended this call */
	char esc[ESC_BUF];
	char pre[LOG_PREFIX_MAX];
	char suf[LOG_SUFFIX_MAX + 1];
};

static int flush_stream_locked(struct out *o);

/* 1 when a line starting now is decorated (the context has an entry); its
 * prefix (perhaps empty: "{message} ...") is then in o->pre. */
static int decorating(struct out *o)
{
	if (!o->have_pre) {
		o->have_pre = 1;
		const struct lt_fields *f = log_deco_fields(&o->deco);
		o->active = f->ctx != NULL || f->base != NULL;
		o->prelen = o->active ? log_deco_prefix(&o->deco, o->pre, sizeof o->pre) : 0;
	}
	return o->active;
}

static size_t suffix_nl(struct out *o)
{
	if (!o->have_suf) {
		o->have_suf = 1;
		o->suflen = log_deco_suffix(&o->deco, o->suf, LOG_SUFFIX_MAX);
		o->suf[o->suflen++] = '\n';
	}
	return o->suflen;
}

/* ---- writing what is queued ------------------------------------------------ */

/* Write all of P (the rest of a cut decoration or escape): the program does
 * not know these bytes exist, so they must not be left half out.  A full
 * non-blocking fd is waited for, a little. */
void log_finish(int fd, const char *p, size_t n)
{
	int waits = 0;
	while (n) {
		ssize_t r = REAL(write)(fd, p, n);
		if (r > 0) {
			p += r;
			n -= (size_t)r;
		} else if (r < 0 && errno == EINTR) {
			continue;
		} else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && waits++ < 50) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			int was = log_enter();   /* poll may be someone's hook */
			REAL(poll)(&pfd, 1, 100);
			log_leave(was);
		} else {
			return;   /* the fd is broken: nothing more can go out */
		}
	}
}

/* The kernel took R of the queued bytes: count the program's bytes among
 * them and finish a cut decoration or escape unit. */
static void account_short(struct out *o, size_t r)
{
	for (int i = 0; i < o->n; i++) {
		struct seg *s = &o->seg[i];
		size_t len = o->iov[i].iov_len;
		const char *p = o->iov[i].iov_base;
		if (r >= len) {
			r -= len;
			o->done += s->nin;
			o->st_done = s->st_after;
			o->held_done = s->held_after;
			continue;
		}
		if (s->kind == SEG_RAW) {
			if (r) {
				o->done += r;
				o->st_done = s->st_cut;
			}
		} else if (s->kind == SEG_ESC) {
			/* which whole units fit in r bytes, and the cut one */
			struct lbuf b;
			char unit[8];
			unsigned pend;
			lb_init(&b, (char *)p, r);
			size_t used = lf_escape_msg(log_cfg.style, s->in, s->nin, &pend, &b);
			if (b.len < r) {
				struct lbuf u;
				lb_init(&u, unit, sizeof unit);
				size_t one = lf_escape_msg(log_cfg.style, s->in + used, s->nin - used,
							   &pend, &u);
				log_finish(o->fd, unit + (r - b.len), u.len - (r - b.len));
				used += one;
			}
			if (used) {
				o->done += used;
				o->st_done = LST_MID | LST_DEC;
			}
		} else if (r) {
			log_finish(o->fd, p + r, len - r);
			o->done += s->nin;
			o->st_done = s->st_after;
			o->held_done = s->held_after;
		}
		break;
	}
}

static int flush_stream(struct out *o)
{
	/* glibc's stream code calls no hook; a signal handler landing in it
	 * may decorate its own line */
	int was = ctx_self.in_hook;
	ctx_self.in_hook = 0;
	int rc = flush_stream_locked(o);
	ctx_self.in_hook = was;
	return rc;
}

static int flush_stream_locked(struct out *o)
{
	size_t total = 0;
	for (int i = 0; i < o->n; i++)
		total += o->iov[i].iov_len;
	/* one fwrite: an unbuffered stderr makes it one write(2) */
	char gather[2048];
	if (total <= sizeof gather) {
		size_t at = 0;
		for (int i = 0; i < o->n; i++) {
			memcpy(gather + at, o->iov[i].iov_base, o->iov[i].iov_len);
			at += o->iov[i].iov_len;
		}
		if (REAL(fwrite_unlocked)(gather, 1, total, o->f) != total)
			return -1;
	} else {
		for (int i = 0; i < o->n; i++) {
			size_t l = o->iov[i].iov_len;
			if (l && REAL(fwrite_unlocked)(o->iov[i].iov_base, 1, l, o->f) != l)
				return -1;
		}
	}
	return 0;
}

/* Write the queue.  0: all out, go on; -1: stop here (o->stopped). */
static int flush(struct out *o)
{
	if (o->n == 0)
		return 0;
	size_t total = 0, nin = 0;
	for (int i = 0; i < o->n; i++) {
		total += o->iov[i].iov_len;
		nin += o->seg[i].nin;
	}
	ssize_t r;
	if (total == 0) {
		r = 0;     /* only bytes held back: nothing to write */
	} else if (o->f) {
		r = flush_stream(o) == 0 ? (ssize_t)total : -1;
		if (r < 0) {
			o->err = errno ? errno : EIO;
			o->stopped = 1;
			return -1;
		}
	} else if (o->n == 1) {
		r = REAL(write)(o->fd, o->iov[0].iov_base, total);
	} else if (o->escused == 0 && total <= ESC_BUF) {
		/* one contiguous write is cheaper than writev for a short line */
		size_t at = 0;
		for (int i = 0; i < o->n; i++) {
			memcpy(o->esc + at, o->iov[i].iov_base, o->iov[i].iov_len);
			at += o->iov[i].iov_len;
		}
		r = REAL(write)(o->fd, o->esc, total);
	} else {
		r = REAL(writev)(o->fd, o->iov, o->n);
	}
	if (r == (ssize_t)total) {
		o->done += nin;
		o->st_done = o->seg[o->n - 1].st_after;
		o->held_done = o->seg[o->n - 1].held_after;
		o->n = 0;
		o->escused = 0;
		return 0;
	}
	if (r < 0)
		o->err = errno;
	else
		account_short(o, (size_t)r);
	o->stopped = 1;
	return -1;
}

/* ---- queueing ------------------------------------------------------------------ */

static int room(struct out *o, int segs)
{
	return o->n + segs <= SEGS || flush(o) == 0;
}

static void push(struct out *o, const char *p, size_t len, size_t nin, int kind,
		 unsigned st_after, unsigned st_cut)
{
	struct seg *s = &o->seg[o->n];
	o->iov[o->n].iov_base = (void *)p;
	o->iov[o->n].iov_len = len;
	s->in = p;
	s->nin = (uint32_t)nin;
	s->kind = (uint8_t)kind;
	s->st_after = (uint8_t)st_after;
	s->st_cut = (uint8_t)st_cut;
	s->held_after = o->held;
	o->n++;
	o->st = st_after;
}

#define HELD_N(h) ((h) >> 24)

static uint32_t held_pack(const unsigned char *p, size_t n)
{
	uint32_t h = (uint32_t)n << 24;
	for (size_t i = 0; i < n; i++)
		h |= (uint32_t)p[i] << (8 * i);
	return h;
}

/* Queue one SEG_UNIT: J[0..K) escaped as a whole string (a complete
 * sequence, or U+FFFD for each byte of one that never will be), standing
 * for NIN program bytes; then HELD is what stays held. */
static int push_unit(struct out *o, const unsigned char *j, size_t k, size_t nin, uint32_t held)
{
	if (!room(o, 1))
		return -1;
	if (ESC_BUF - o->escused < 24 && flush(o) < 0)
		return -1;
	struct lbuf b;
	lb_init(&b, o->esc + o->escused, 24);
	lf_json_string(&b, (const char *)j, k);
	o->held = held;
	push(o, o->esc + o->escused, b.len, nin, SEG_UNIT, LST_MID | LST_DEC, LST_MID | LST_DEC);
	o->escused += b.len;
	return 0;
}

/* A sequence cut by the previous write is held: complete it with the
 * continuation bytes at P (MLEN message bytes; LINE_ENDS: a newline follows
 * them).  Returns the bytes of P used, or -1. */
static ssize_t join_held(struct out *o, const char *p, size_t mlen, int line_ends)
{
	unsigned char j[4];
	size_t k = HELD_N(o->held), take = 0;
	int t;
	for (size_t i = 0; i < k; i++)
		j[i] = (unsigned char)(o->held >> (8 * i));
	for (;;) {
		if (take == mlen) {
			if (line_ends)
				break;     /* never completed: U+FFFD each */
			/* still cut: hold what we have, nothing goes out */
			return push_unit(o, j, 0, take, held_pack(j, k)) < 0 ? -1 : (ssize_t)take;
		}
		j[k] = (unsigned char)p[take];
		if (lf_utf8_seq(j, k + 1, &t)) {
			k++, take++;   /* complete */
			break;
		}
		if (!t)
			break;         /* P does not continue it: U+FFFD each */
		k++, take++;
	}
	return push_unit(o, j, k, take, 0) < 0 ? -1 : (ssize_t)take;
}

/* Queue the message bytes P[0..LEN) of a decorated line, escaped.
 * LINE_ENDS: a newline follows, so a sequence cut at the end is invalid. */
static int push_escaped(struct out *o, const char *p, size_t len, int line_ends)
{
	if (HELD_N(o->held)) {
		ssize_t took = join_held(o, p, len, line_ends);
		if (took < 0)
			return -1;
		p += took;
		len -= (size_t)took;
	}
	while (len) {
		if (!room(o, 2))
			return -1;
		if (ESC_BUF - o->escused < 8 && (flush(o) < 0))
			return -1;
		struct lbuf b;
		unsigned pend;
		lb_init(&b, o->esc + o->escused, ESC_BUF - o->escused);
		size_t used = lf_escape_msg(log_cfg.style, p, len, &pend, &b);
		size_t take = used;
		if (pend && !line_ends) {
			/* the write ends inside a sequence: held, and counted as
			 * the program's bytes going out with this segment */
			o->held = held_pack((const unsigned char *)p + used, pend);
			take = len;
		}
		if (take == 0 && !pend) {
			if (flush(o) < 0)
				return -1;
			continue;
		}
		if (take) {
			push(o, o->esc + o->escused, b.len, take, SEG_ESC, LST_MID | LST_DEC,
			     LST_MID | LST_DEC);
			o->seg[o->n - 1].in = p;
			o->escused += b.len;
			p += take;
			len -= take;
		}
		if (len && len == pend) {
			/* the line ends inside a sequence */
			if (push_unit(o, (const unsigned char *)p, len, len, 0) < 0)
				return -1;
			len = 0;
		}
	}
	return 0;
}

/* Queue one slice of the program's bytes. */
static int push_slice(struct out *o, const char *p, size_t len)
{
	int style = log_cfg.style;
	while (len) {
		if (!(o->st & LST_MID) && *p == '\n') {
			/* an empty line carries no message: left as it is */
			if (!room(o, 1))
				return -1;
			push(o, p, 1, 1, SEG_RAW, 0, 0);
			p++;
			len--;
			continue;
		}
		if (!(o->st & LST_MID)) {
			if (!decorating(o)) {
				o->st = LST_MID;
			} else if (o->prelen) {
				if (!room(o, 1))
					return -1;
				push(o, o->pre, o->prelen, 0, SEG_DECOR, LST_MID | LST_DEC, 0);
			} else {
				o->st = LST_MID | LST_DEC;   /* the template starts with {message} */
			}
		}
		const char *nl = memchr(p, '\n', len);
		size_t mlen = nl ? (size_t)(nl - p) : len;
		int dec = (o->st & LST_DEC) != 0;
		if (dec && style != LF_TEXT) {
			if (push_escaped(o, p, mlen, nl != NULL) < 0)
				return -1;
		} else if (dec && log_cfg.has_suffix) {
			if (mlen) {
				if (!room(o, 1))
					return -1;
				push(o, p, mlen, mlen, SEG_RAW, LST_MID | LST_DEC, LST_MID | LST_DEC);
			}
		} else {
			size_t take = mlen + (nl ? 1 : 0);
			unsigned cur = o->st & (LST_MID | LST_DEC);
			if (!room(o, 1))
				return -1;
			push(o, p, take, take, SEG_RAW, nl ? 0 : cur, cur);
			p += take;
			len -= take;
			continue;
		}
		p += mlen;
		len -= mlen;
		if (nl) {
			size_t sl = suffix_nl(o);
			if (!room(o, 1))
				return -1;
			push(o, o->suf, sl, 1, SEG_DECOR_NL, 0, 0);
			p++;
			len--;
		}
	}
	return 0;
}

/* Run the engine over IN; o->done and o->st_done say what went out. */
static void run(struct out *o, const struct iovec *in, int cnt)
{
	for (;;) {
		unsigned st_round = o->st_done;
		o->n = 0;
		o->escused = 0;
		o->stopped = 0;
		o->st = o->st_done;
		o->held = o->held_done;
		int ok = 1;
		size_t skip = o->done;
		for (int i = 0; i < cnt && ok; i++) {
			const char *p = in[i].iov_base;
			size_t len = in[i].iov_len;
			if (skip >= len) {
				skip -= len;
				continue;
			}
			ok = push_slice(o, p + skip, len - skip) == 0;
			skip = 0;
		}
		if (ok)
			flush(o);
		/* A short write that only finished a decoration put out none of
		 * the program's bytes: go on from the new state rather than
		 * answer 0.  Each such round moved the state, so this ends. */
		if (!o->stopped || o->done || o->err || o->st_done == st_round)
			break;
	}
}

static void out_init(struct out *o, int fd, FILE *f, int level, void *caller)
{
	o->fd = fd;
	o->f = f;
	o->have_pre = o->have_suf = 0;
	o->done = 0;
	o->err = 0;
	o->st_done = log_state(fd);
	o->held_done = 0;
	if ((unsigned)fd < FDTAB_MAX && (o->st_done & LST_DEC))
		o->held_done = atomic_exchange_explicit(&log_held[log_slot(fd)], 0,
							memory_order_relaxed);
	log_deco_begin(&o->deco, level, caller, f != NULL);
}

ssize_t log_out_fd(int fd, const struct iovec *in, int cnt, size_t total, int level,
		   void *caller)
{
	struct out o;
	if (unlikely(fdtab_get(fd) & FD_JOURNAL))
		return log_journal_write(fd, in, cnt, total, level, caller);
	out_init(&o, fd, NULL, level, caller);
	run(&o, in, cnt);
	log_deco_end(&o.deco);
	log_set_line(fd, o.st_done, o.held_done);
	if (o.st_done & LST_DEC)
		log_line_left_open(fd, 0);
	if (o.done == 0 && o.err) {
		errno = o.err;
		return -1;
	}
	return (ssize_t)o.done;
}

int log_out_stream(FILE *f, int fd, const struct iovec *in, int cnt, int level, void *caller)
{
	struct out o;
	if (unlikely(fdtab_get(fd) & FD_JOURNAL) && log_has_context()) {
		/* What the stream holds (from calls we do not see, putc) goes
		 * first, into the same entries: taken from glibc's buffer. */
		struct iovec v[SEGS + 1];
		size_t total = 0;
		int k = 0;
		if (f->_IO_write_ptr > f->_IO_write_base) {
			v[k].iov_base = f->_IO_write_base;
			v[k++].iov_len = (size_t)(f->_IO_write_ptr - f->_IO_write_base);
		}
		for (int i = 0; i < cnt && k <= SEGS; i++)
			v[k++] = in[i];
		for (int i = 0; i < k; i++)
			total += v[i].iov_len;
		log_journal_write(fd, v, k, total, level, caller);
		f->_IO_write_ptr = f->_IO_write_base;
		return 0;
	}
	out_init(&o, fd, f, level, caller);
	run(&o, in, cnt);
	log_deco_end(&o.deco);
	log_set_line(fd, o.st_done, o.held_done);
	if (o.st_done & LST_DEC)
		log_line_left_open(fd, 1);
	if (o.err) {
		errno = o.err;
		return -1;
	}
	return 0;
}
