/*
 * ctl_server.c: the control listener of a process (CTXSHIM_CONTROL=1).
 *
 * One thread per process, started by ctl_init (and, in a forked child, by
 * the fork handler) and never otherwise: a thread the shim starts is
 * visible to the program (PITFALLS.md), so with control off nothing is
 * started, created or listened on.  The thread blocks every signal (the
 * program's signals go to the program's threads), sets its recursion guard
 * for good (every hook it calls passes straight through) and serves all
 * clients with non-blocking sockets and one poll(): a client that is slow,
 * silent or hostile costs it a slot until its deadline, nothing more, and
 * never holds up a thread of the program.
 *
 * Every connection is checked with SO_PEERCRED: the process's effective uid
 * or root may talk to it, anyone else gets one error line and is closed
 * (the directory and socket modes already keep others out; this holds even
 * if they are loosened).
 *
 * The fds it owns sit at high numbers (ctl_fd_high) and are re-checked
 * (fstat identity) before each use, because a program may close every fd it
 * does not know of (closefrom) or dup2 over one: then the fd is no longer
 * ours, is left alone, and the endpoint is made anew.
 */
#include "ctl.h"

#include "hooks.h"
#include "ctlreq.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 64
#define READ_MS 2000          /* to send a whole request after connecting */
#define WRITE_MS 5000         /* to take the whole answer */
#define CHECK_MS 2000         /* how often an idle listener checks its endpoint */
#define ANSWER_MAX (16u << 20)

int ctl_on;
int ctl_trace_spawn;

struct client {
	int fd;                   /* -1: free slot */
	dev_t dev;
	ino_t ino;
	uint64_t deadline;
	int writing;
	char *in;
	size_t in_len, in_cap;
	struct jbuf out;
	size_t out_off;
};

/* Held around every change to the set of fds the listener owns (accept,
 * close, a new endpoint), and by the fork prepare handler: a forked child
 * knows exactly which fds to close. */
static pthread_mutex_t fd_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ctl_ep ep = { .fd = -1 };
static struct client clients[MAX_CLIENTS];
static int nclients;
static uint64_t last_check_ns;
/* At exit: the listener is asked to stop, and joined (briefly). */
static atomic_int stopping;
static pthread_t listener_th;
static int listener_up;

static int on(const char *name)
{
	return ctx_flag(ctx_getenv(name));
}

/* ---- clients -------------------------------------------------------------- */

static int client_fd_ok(const struct client *c)
{
	struct stat st;
	return fstat(c->fd, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino;
}

/* Drop C; its fd is closed only while it is still ours. */
static void client_drop(struct client *c)
{
	pthread_mutex_lock(&fd_lock);
	if (client_fd_ok(c))
		REAL(close)(c->fd);
	c->fd = -1;
	nclients--;
	pthread_mutex_unlock(&fd_lock);
	free(c->in);
	c->in = NULL;
	c->in_len = c->in_cap = 0;
	jb_free(&c->out);
}

static void client_answer(struct client *c, const char *line, size_t len)
{
	jb_reset(&c->out);
	ctl_answer(line, len, &c->out);
	if (c->out.bad) {
		jb_reset(&c->out);
		ctl_answer_error(&c->out, "answer too large or out of memory");
	}
	c->writing = 1;
	c->out_off = 0;
	c->deadline = ctl_now_ns() + (uint64_t)WRITE_MS * 1000000u;
}

static void client_error(struct client *c, const char *msg)
{
	jb_reset(&c->out);
	ctl_answer_error(&c->out, msg);
	c->writing = 1;
	c->out_off = 0;
	c->deadline = ctl_now_ns() + (uint64_t)WRITE_MS * 1000000u;
}

/* C is readable: gather the request line; answer it when complete. */
static void client_read(struct client *c)
{
	if (c->in_len == c->in_cap) {
		size_t cap = c->in_cap ? c->in_cap * 4 : 1024;
		if (cap > CTL_REQ_MAX)
			cap = CTL_REQ_MAX;
		char *p = realloc(c->in, cap + 1);
		if (!p) {
			client_drop(c);
			return;
		}
		c->in = p;
		c->in_cap = cap;
	}
	ssize_t k = REAL(recv)(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
	if (k < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			client_drop(c);
		return;
	}
	if (k == 0) {
		/* The client closed its side: what it sent is the request. */
		if (c->in_len == 0) {
			client_drop(c);
			return;
		}
		c->in[c->in_len] = '\0';
		client_answer(c, c->in, c->in_len);
		return;
	}
	char *nl = memchr(c->in + c->in_len, '\n', (size_t)k);
	c->in_len += (size_t)k;
	if (nl) {
		*nl = '\0';
		client_answer(c, c->in, (size_t)(nl - c->in));
	} else if (c->in_len >= CTL_REQ_MAX) {
		client_error(c, "request too large (at most 65536 bytes with its newline)");
	}
}

static void client_write(struct client *c)
{
	ssize_t k = REAL(send)(c->fd, c->out.p + c->out_off, c->out.len - c->out_off,
			       MSG_DONTWAIT | MSG_NOSIGNAL);
	if (k < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			client_drop(c);
		return;
	}
	c->out_off += (size_t)k;
	if (c->out_off == c->out.len)
		client_drop(c);   /* one request per connection */
}

/* Not the process's user nor root: one line, then closed. */
static int peer_allowed(int fd, char *why, size_t cap)
{
	struct ucred cr;
	socklen_t len = sizeof cr;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
		snprintf(why, cap, "cannot check the peer's credentials");
		return 0;
	}
	uid_t me = geteuid();
	if (cr.uid == me || cr.uid == 0)
		return 1;
	snprintf(why, cap, "permission denied: uid %u may not control process %d (owned by uid %u)",
		 (unsigned)cr.uid, (int)getpid(), (unsigned)me);
	return 0;
}

static void accept_clients(void)
{
	while (nclients < MAX_CLIENTS) {
		struct client *c = NULL;
		for (int i = 0; i < MAX_CLIENTS && !c; i++)
			if (clients[i].fd < 0)
				c = &clients[i];
		pthread_mutex_lock(&fd_lock);
		int fd = REAL(accept4)(ep.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			struct stat st;
			fd = ctl_fd_high(fd);
			fstat(fd, &st);
			c->fd = fd;
			c->dev = st.st_dev;
			c->ino = st.st_ino;
			nclients++;
		}
		pthread_mutex_unlock(&fd_lock);
		if (fd < 0)
			return;
		char why[160];
		c->writing = 0;
		c->in_len = 0;
		c->deadline = ctl_now_ns() + (uint64_t)READ_MS * 1000000u;
		jb_init(&c->out, ANSWER_MAX);
		if (!peer_allowed(fd, why, sizeof why)) {
			jb_reset(&c->out);
			ctl_answer_error(&c->out, why);
			if (!c->out.bad)
				REAL(send)(fd, c->out.p, c->out.len, MSG_DONTWAIT | MSG_NOSIGNAL);
			client_drop(c);
		}
	}
}

/* ---- the endpoint ---------------------------------------------------------- */

/* The endpoint is gone or no longer ours: make a new one.  OLD_OURS says
 * whether the old fd is still ours (closed once the new one is there; kept
 * if none can be made, e.g. after the process dropped privileges). */
static void endpoint_renew(int old_ours)
{
	struct ctl_ep fresh;
	const char *why;
	pthread_mutex_lock(&fd_lock);
	if (ctl_ep_create(&fresh, &why) == 0) {
		if (old_ours && ep.fd >= 0)
			REAL(close)(ep.fd);
		ep = fresh;
	} else if (!old_ours) {
		ep.fd = -1;
	}
	pthread_mutex_unlock(&fd_lock);
}

static void endpoint_check(uint64_t now)
{
	if (now - last_check_ns < (uint64_t)CHECK_MS * 1000000u)
		return;
	last_check_ns = now;
	if (ep.fd < 0)
		endpoint_renew(0);
	else if (!ctl_ep_fd_ok(&ep))
		endpoint_renew(0);
	else if (!ctl_ep_path_ok(&ep))
		endpoint_renew(1);
}

static void *listener(void *unused)
{
	(void)unused;
	ctx_self.in_hook = 1;      /* for good: every hook passes through */
	prctl(PR_SET_NAME, "ctxshim-ctl");
	while (!atomic_load(&stopping)) {
		struct pollfd pf[MAX_CLIENTS + 1];
		struct client *who[MAX_CLIENTS + 1];
		int n = 0, listen_at = -1;
		uint64_t now = ctl_now_ns();
		uint64_t wait_ns = (uint64_t)CHECK_MS * 1000000u;

		if (ep.fd >= 0 && nclients < MAX_CLIENTS) {
			listen_at = n;
			pf[n].fd = ep.fd;
			pf[n].events = POLLIN;
			who[n++] = NULL;
		}
		for (int i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &clients[i];
			if (c->fd < 0)
				continue;
			if (c->deadline <= now) {
				client_drop(c);
				continue;
			}
			if (c->deadline - now < wait_ns)
				wait_ns = c->deadline - now;
			pf[n].fd = c->fd;
			pf[n].events = c->writing ? POLLOUT : POLLIN;
			who[n++] = c;
		}
		int r = REAL(poll)(pf, (nfds_t)n, (int)(wait_ns / 1000000u) + 1);
		now = ctl_now_ns();
		if (r < 0) {
			struct timespec pause = { 0, 10000000 };
			nanosleep(&pause, NULL);
			continue;
		}
		for (int i = 0; i < n; i++) {
			struct client *c = who[i];
			if (!c || !pf[i].revents || c->fd < 0)
				continue;
			if (!client_fd_ok(c))
				client_drop(c);
			else if (c->writing)
				client_write(c);
			else
				client_read(c);
		}
		if (listen_at >= 0 && pf[listen_at].revents) {
			if (!ctl_ep_fd_ok(&ep))
				last_check_ns = 0;    /* closed or reused by the program */
			else if (pf[listen_at].revents & POLLIN)
				accept_clients();
		}
		endpoint_check(now);
	}
	return NULL;
}

/* Make this process's endpoint and start its listener.  SWEEP: also clear
 * the sockets dead processes left. */
static void start(int sweep)
{
	const char *why;
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t th;

	for (int i = 0; i < MAX_CLIENTS; i++)
		clients[i].fd = -1;
	nclients = 0;
	listener_up = 0;    /* in a forked child: the parent's is not here */
	if (ctl_ep_create(&ep, &why) < 0) {
		ctx_warn("CTXSHIM_CONTROL: no control endpoint: %s", why);
		return;
	}
	if (sweep)
		ctl_ep_sweep(&ep);
	last_check_ns = ctl_now_ns();
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = REAL(pthread_create)(&th, &attr, listener, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	listener_th = th;
	listener_up = rc == 0;
	if (rc != 0) {
		ctx_warn("CTXSHIM_CONTROL: cannot start the control thread");
		ctl_ep_unlink(&ep);
		REAL(close)(ep.fd);
		ep.fd = -1;
	}
}

/* ---- fork ------------------------------------------------------------------ */

static void fork_prepare(void)
{
	pthread_mutex_lock(&fd_lock);
	ctl_threads_fork_prepare();
}

static void fork_parent(void)
{
	ctl_threads_fork_parent();
	pthread_mutex_unlock(&fd_lock);
}

/* The child: the listener thread does not exist here, and its fds are the
 * parent's endpoint and the parent's clients: close them, then open this
 * process's own endpoint (nginx's workers are reachable by their pid).
 * Client buffers are left, not freed: the listener may have been changing
 * them when the fork happened. */
static void fork_child(void)
{
	int saved = errno;
	pthread_mutex_init(&fd_lock, NULL);
	if (ep.fd >= 0 && ctl_ep_fd_ok(&ep))
		REAL(close)(ep.fd);
	ep.fd = -1;
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &clients[i];
		if (c->fd >= 0 && client_fd_ok(c))
			REAL(close)(c->fd);
		memset(c, 0, sizeof *c);
		c->fd = -1;
	}
	ctl_threads_fork_child();
	start(0);
	errno = saved;
}

/* ---- start-up and exit ------------------------------------------------------ */

void ctl_init(void)
{
	if (!on("CTXSHIM_CONTROL"))
		return;
	ctl_on = 1;
	ctl_trace_spawn = on("CTXSHIM_TRACE_SPAWN");
	/* Before any thread of ours exists: from now on a thread changing its
	 * context holds its peek flag meanwhile. */
	ctx_observed = 1;
	ctl_ep_settings();
	ctl_threads_init();
	pthread_atfork(fork_prepare, fork_parent, fork_child);
	start(1);
}

/* At exit: only the process that made the socket removes it, and only
 * while the name is still its socket.  Then the listener is stopped (it
 * leaves nothing behind for leak checkers); the wait for it is bounded
 * (50 ms), so an exit from a signal handler that interrupted a lock holder
 * cannot hang on it. */
__attribute__((destructor)) static void ctl_fini(void)
{
	if (!ctl_on)
		return;
	int locked = pthread_mutex_trylock(&fd_lock) == 0;
	ctl_ep_unlink(&ep);
	atomic_store(&stopping, 1);
	if (ep.fd >= 0 && ctl_ep_fd_ok(&ep))
		REAL(shutdown)(ep.fd, SHUT_RDWR);    /* wakes its poll() */
	if (locked)
		pthread_mutex_unlock(&fd_lock);
	if (listener_up) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 50000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		if (pthread_timedjoin_np(listener_th, NULL, &until) == 0)
			listener_up = 0;
	}
}
