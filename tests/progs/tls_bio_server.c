/*
 * tls_bio_server: an HTTPS server whose TLS goes through a BIO pair with a
 * tiny buffer (OpenSSL 3), as servers with memory BIOs do: the SSL has no
 * fd, and every SSL_write of more than a few dozen bytes fails with
 * SSL_ERROR_WANT_WRITE until the program drains the pair to the socket and
 * retries with the same buffer, as OpenSSL requires.  Knows nothing of the
 * shim.
 *
 *   tls_bio_server PORT CERT KEY BODY_BYTES [partial|full [CONNS]]
 *
 * Serves one connection at a time (CONNS of them, then exits; 0: forever); every request head gets one SSL_write of
 * a response head and BODY_BYTES of pattern (byte i is (i * 7 + i / 251) &
 * 255).  With "partial", SSL_MODE_ENABLE_PARTIAL_WRITE is on and the rest of
 * a short write is written from where it stopped.  Exits 1 when OpenSSL
 * reports an error (a retry with another buffer is one) or when a write
 * claims more bytes than it was given.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PAIR_BUF 64

static int fd;
static BIO *net;

static int write_all(const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Everything TLS wrote into the pair goes to the socket. */
static int drain(void)
{
	char b[4096];
	int n;
	while ((n = BIO_read(net, b, sizeof b)) > 0)
		if (write_all(b, (size_t)n) < 0)
			return -1;
	return 0;
}

/* After SSL call result R: move bytes as OpenSSL asks; -1 to give up,
 * 1 when the peer closed. */
static int pump(SSL *s, int r)
{
	int e = SSL_get_error(s, r);
	if (e == SSL_ERROR_WANT_WRITE)
		return drain();
	if (e == SSL_ERROR_WANT_READ) {
		char b[4096];
		if (drain() < 0)
			return -1;
		size_t room = BIO_ctrl_get_write_guarantee(net);
		if (room > sizeof b)
			room = sizeof b;
		ssize_t n = read(fd, b, room);
		if (n <= 0)
			return 1;
		return BIO_write(net, b, (int)n) == n ? 0 : -1;
	}
	if (e == SSL_ERROR_ZERO_RETURN)
		return 1;
	ERR_print_errors_fp(stderr);
	return -1;
}

static int serve(SSL *s, const char *resp, size_t len)
{
	char req[65536];
	size_t have = 0;
	int r;
	while ((r = SSL_do_handshake(s)) != 1)
		if (pump(s, r))
			return 0;
	for (;;) {
		char *end;
		while ((end = memmem(req, have, "\r\n\r\n", 4)) != NULL) {
			size_t used = (size_t)(end + 4 - req);
			memmove(req, req + used, have - used);
			have -= used;
			size_t off = 0;
			while (off < len) {
				size_t want = len - off;
				r = SSL_write(s, resp + off, (int)want);
				if (r > 0) {
					if ((size_t)r > want) {
						fprintf(stderr, "SSL_write took %d of %zu bytes\n", r, want);
						return -1;
					}
					off += (size_t)r;
				} else if ((r = pump(s, r)) != 0) {
					return r < 0 ? -1 : 0;
				}
			}
			if (drain() < 0)
				return 0;
		}
		if (have == sizeof req)
			return 0;
		r = SSL_read(s, req + have, (int)(sizeof req - have));
		if (r > 0)
			have += (size_t)r;
		else if ((r = pump(s, r)) != 0)
			return r < 0 ? -1 : 0;
	}
}

int main(int argc, char **argv)
{
	if (argc < 5)
		return 2;
	size_t body = strtoul(argv[4], NULL, 10);
	char head[128];
	int hl = snprintf(head, sizeof head,
			  "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
			  "Content-Length: %zu\r\n\r\n", body);
	char *resp = malloc((size_t)hl + body);
	memcpy(resp, head, (size_t)hl);
	for (size_t i = 0; i < body; i++)
		resp[hl + i] = (char)((i * 7 + i / 251) & 255);

	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx || SSL_CTX_use_certificate_file(ctx, argv[2], SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, argv[3], SSL_FILETYPE_PEM) != 1)
		return 1;
	if (argc > 5 && !strcmp(argv[5], "partial"))
		SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE);
	long conns = argc > 6 ? atol(argv[6]) : 0;

	int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 8) < 0)
		return 1;
	for (long k = 0; !conns || k < conns; k++) {
		fd = accept(ls, NULL, NULL);
		if (fd < 0)
			continue;
		SSL *s = SSL_new(ctx);
		BIO *in;
		BIO_new_bio_pair(&in, PAIR_BUF, &net, PAIR_BUF);
		SSL_set_bio(s, in, in);
		SSL_set_accept_state(s);
		int r = serve(s, resp, (size_t)hl + body);
		SSL_free(s);
		BIO_free(net);
		close(fd);
		if (r < 0)
			return 1;
	}
	close(ls);
	SSL_CTX_free(ctx);
	free(resp);
	return 0;
}
