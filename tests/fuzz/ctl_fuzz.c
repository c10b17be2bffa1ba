/*
 * ctl_fuzz.c: libFuzzer target for what the control endpoint does with
 * bytes a client sends: the request parser (ctlreq.c) and the JSON
 * writer (ctljson.c), which echoes untrusted text in error answers and
 * context values.
 *
 * The parser gets the input as one request line (copied to a buffer of
 * exactly its size plus the NUL); the writer's output must be a valid JSON
 * string: quoted, no raw control byte, every backslash escape well formed,
 * and every non-ASCII byte part of valid UTF-8.
 */
#include "ctljson.h"
#include "ctlreq.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_json_string(const char *p, size_t n)
{
	if (n < 2 || p[0] != '"' || p[n - 1] != '"')
		abort();
	for (size_t i = 1; i < n - 1;) {
		unsigned char c = (unsigned char)p[i];
		if (c < 0x20 || c == 0x7f || c == '"')
			abort();
		if (c == '\\') {
			char e = p[i + 1];
			if (e == 'u') {
				if (i + 6 > n - 1)
					abort();
				for (int k = 2; k < 6; k++)
					if (!strchr("0123456789abcdef", p[i + k]))
						abort();
				i += 6;
			} else if (e == '"' || e == '\\' || e == 'n' || e == 't') {
				i += 2;
			} else {
				abort();
			}
		} else if (c >= 0x80) {
			size_t l = jb_utf8_len((const unsigned char *)p + i, n - 1 - i);
			if (!l)
				abort();
			i += l;
		} else {
			i++;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1);
	memcpy(line, data, size);
	line[size] = '\0';
	struct ctl_req r;
	if (ctlreq_parse(line, size, &r) == 0) {
		if (!r.verb)
			abort();
		if ((r.verb == CTL_SET || r.verb == CTL_UNSET) && (!r.arg || r.count <= 0))
			abort();
		const char *p = r.arg ? r.arg : "", *w;
		size_t wl;
		while (ctlreq_word(&p, &w, &wl))
			if (!wl || w < line || w + wl > line + size)
				abort();
	} else if (!r.err) {
		abort();
	}
	free(line);

	struct jbuf b;
	jb_init(&b, 1 << 20);
	jb_str(&b, (const char *)data, size);
	if (!b.bad)
		check_json_string(b.p, b.len);
	jb_free(&b);
	return 0;
}
