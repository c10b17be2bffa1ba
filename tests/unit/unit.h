/* unit.h: a tiny harness for the C unit tests of the pure modules. */
#ifndef UNIT_H
#define UNIT_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_failed, unit_run;

#define EXPECT(cond)                                                          \
	do {                                                                  \
		unit_run++;                                                   \
		if (!(cond)) {                                                \
			unit_failed++;                                        \
			fprintf(stderr, "%s:%d: FAIL %s\n", __FILE__, __LINE__, #cond); \
		}                                                             \
	} while (0)

#define EXPECT_STR(a, b)                                                      \
	do {                                                                  \
		const char *a_ = (a), *b_ = (b);                              \
		unit_run++;                                                   \
		if (!a_ || !b_ || strcmp(a_, b_)) {                           \
			unit_failed++;                                        \
			fprintf(stderr, "%s:%d: FAIL %s: \"%s\" != \"%s\"\n", __FILE__, \
				__LINE__, #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
		}                                                             \
	} while (0)

/* The plain closing line CI reads: "N passed, N failed". */
#define UNIT_DONE(name)                                                       \
	do {                                                                  \
		printf("%s: %d passed, %d failed\n", name, unit_run - unit_failed, \
		       unit_failed);                                          \
		return unit_failed != 0;                                      \
	} while (0)
#endif
