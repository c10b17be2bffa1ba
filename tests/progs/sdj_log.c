/*
 * sdj_log: logs to journald through libsystemd, as a systemd-aware service
 * does.  Knows nothing of ctxshim.
 *   sdj_log print     sd_journal_print(LOG_NOTICE, "print %d %s", 42, "x")
 *   sdj_log send      sd_journal_send with several fields and printf arguments
 *   sdj_log sendv     sd_journal_sendv with two fields
 *   sdj_log own       sd_journal_send that sets REQUEST_ID itself
 * Prints each call's return value.
 */
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		int r = -1;
		if (!strcmp(argv[i], "print")) {
			r = sd_journal_print(LOG_NOTICE, "print %d %s", 42, "x");
		} else if (!strcmp(argv[i], "send")) {
			r = sd_journal_send("MESSAGE=send %s %d", "y", 7, "PRIORITY=%i", LOG_WARNING,
					    "WIDGET=%ld-%s-%c", 123456789012L, "w", 'z', NULL);
		} else if (!strcmp(argv[i], "sendv")) {
			struct iovec v[2] = { { "MESSAGE=sendv line", 18 }, { "PRIORITY=6", 10 } };
			r = sd_journal_sendv(v, 2);
		} else if (!strcmp(argv[i], "own")) {
			r = sd_journal_send("MESSAGE=own id", "REQUEST_ID=mine", NULL);
		}
		printf("%s=%d\n", argv[i], r);
	}
	return 0;
}
