/* log_fortify: log_calls built with _FORTIFY_SOURCE=2, so that fprintf,
 * printf, vfprintf, dprintf, syslog and vsyslog become their _chk forms. */
#define _FORTIFY_SOURCE 2
#include "log_calls.c"
