/* log_sink PATH: bind a datagram socket at PATH and discard what arrives,
 * fast (a syslog daemon that keeps up).  Runs until killed. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char buf[65536];
	if (argc < 2 || strlen(argv[1]) >= sizeof a.sun_path)
		return 64;
	strcpy(a.sun_path, argv[1]);
	unlink(argv[1]);
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);
	int big = 4 << 20;
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("log_sink: bind");
		return 1;
	}
	for (;;)
		if (recv(s, buf, sizeof buf, 0) < 0)
			return 0;
}
