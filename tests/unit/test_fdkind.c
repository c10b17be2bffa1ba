/* test_fdkind.c: what is a log, what is data (shim/pure_fdkind.c). */
#include "fdkind.h"
#include "unit.h"

#include <sys/stat.h>

int main(void)
{
	struct fk_id ids[FK_MAX];
	char buf[FK_TEXT];

	EXPECT(fk_kind(S_IFREG | 0644) == FK_LOG);
	EXPECT(fk_kind(S_IFCHR | 0620) == FK_LOG);
	EXPECT(fk_kind(S_IFBLK) == FK_LOG);
	EXPECT(fk_kind(S_IFIFO | 0600) == FK_STREAM);
	EXPECT(fk_kind(S_IFSOCK | 0777) == FK_STREAM);
	EXPECT(fk_kind(S_IFDIR | 0755) == FK_DATA);
	EXPECT(fk_kind(S_IFLNK) == FK_DATA);

	/* round trip, the largest values too */
	struct fk_id in[3] = { { 0xd, 0x1f2e3 }, { 0, 0 }, { ~0ull, ~0ull } };
	size_t n = fk_format(buf, sizeof buf, in, 3);
	EXPECT_STR(buf, "d:1f2e3,0:0,ffffffffffffffff:ffffffffffffffff");
	EXPECT(n == strlen(buf));
	EXPECT(fk_parse(buf, ids, FK_MAX) == 3);
	EXPECT(fk_has(ids, 3, in[0]) && fk_has(ids, 3, in[1]) && fk_has(ids, 3, in[2]));
	EXPECT(!fk_has(ids, 3, (struct fk_id){ 0xd, 0x1f2e4 }));

	/* what does not fit is left out whole */
	EXPECT(fk_format(buf, 12, in, 3) == 11);
	EXPECT_STR(buf, "d:1f2e3,0:0");
	EXPECT(fk_format(buf, 11, in, 3) == 7);
	EXPECT_STR(buf, "d:1f2e3");
	EXPECT(fk_format(buf, 8, in, 3) == 7);
	EXPECT_STR(buf, "d:1f2e3");
	EXPECT(fk_format(buf, 3, in, 3) == 0);
	EXPECT_STR(buf, "");
	EXPECT(fk_format(buf, sizeof buf, in, 0) == 0);

	/* the empty list (a child of a process whose stdout and stderr were
	 * files or terminals), malformed items end the list */
	EXPECT(fk_parse("", ids, FK_MAX) == 0);
	EXPECT(fk_parse(NULL, ids, FK_MAX) == 0);
	EXPECT(fk_parse("d:1,e:2", ids, FK_MAX) == 2);
	EXPECT(ids[1].dev == 0xe && ids[1].ino == 2);
	EXPECT(fk_parse("d:1,zz:2", ids, FK_MAX) == 1);
	EXPECT(fk_parse("d:", ids, FK_MAX) == 0);
	EXPECT(fk_parse(":1", ids, FK_MAX) == 0);
	EXPECT(fk_parse("D:1", ids, FK_MAX) == 0);
	EXPECT(fk_parse("d:1 ", ids, FK_MAX) == 1);
	EXPECT(fk_parse("11112222333344445:1", ids, FK_MAX) == 0);   /* 17 digits */
	EXPECT(fk_parse("1:1,2:2,3:3,4:4,5:5", ids, FK_MAX) == FK_MAX);
	EXPECT(fk_parse("1:1,2:2", ids, 1) == 1);

	EXPECT(fk_is_journald("/run/systemd/journal/stdout", 27));
	EXPECT(fk_is_journald("/run/systemd/journal/stdout\0\0\0", 30));
	EXPECT(!fk_is_journald("/run/systemd/journal/stdout2", 28));
	EXPECT(!fk_is_journald("/run/systemd/journal/stdou", 26));
	EXPECT(!fk_is_journald("/run/systemd/journal/socket", 27));
	EXPECT(!fk_is_journald("", 0));

	UNIT_DONE("fdkind");
}
