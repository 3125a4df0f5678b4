/* SPDX-License-Identifier: MIT */
/*
 * Verify that names are handled safely: a segment is private whatever the umask, creation
 * never goes through a symlink, bad arguments and overlong names are refused with no effect.
 * Clauses: SHMBUF-SEG-6, SHMBUF-SEG-7, SHMBUF-SEG-8. Fixture and timeout: the shmbuf suite,
 * declared once in shmbuf_capacity.c.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipct.h"

#define CAP4 (ipct_has(IPC_SHMBUF_CAP_BOUNDED) ? 4u : 0u) /* unbounded-only: no limit */

Test(shmbuf, SHMBUF_SEG_6__segment_mode_is_0600_whatever_the_umask)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_SYSTEM_NAME);
	static const mode_t masks[] = { 0, 022, 0277 };
	struct ipc_shmbuf_attr a = { CAP4, 8, 0 };
	for (size_t k = 0; k < sizeof masks / sizeof *masks; k++) {
		const char *name = ipct_name();
		char path[IPC_NAME_MAX + 16], t[48];
		struct stat st = { 0 };
		snprintf(path, sizeof path, "/dev/shm%s", name);
		mode_t old = umask(masks[k]);
		int rc = ipct_shmbuf()->create(name, &a);
		umask(old);
		cr_assert(rc == 0, "umask %03o: create %s", masks[k], ipct_rc_text(rc, t, 48));
		cr_assert(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600,
			  "umask %03o: %s has mode %04o", masks[k], path, st.st_mode & 07777);
	}
}

/* Create a segment while its path is a symlink to target; the link is then removed. */
static int create_through_symlink(const char *target)
{
	const char *name = ipct_name();
	char link[IPC_NAME_MAX + 16];
	struct ipc_shmbuf_attr a = { CAP4, 8, 0 };
	snprintf(link, sizeof link, "/dev/shm%s", name);
	if (symlink(target, link) != 0)
		cr_assert_fail("BROKEN: setup symlink %s -> %s failed", link, target);
	int rc = ipct_shmbuf()->create(name, &a);
	unlink(link);
	return rc;
}

Test(shmbuf, SHMBUF_SEG_7__create_through_a_symlink_fails_and_leaves_the_target_alone)
{
	IPCT_REQUIRE(IPC_SHMBUF_CAP_SYSTEM_NAME);
	static const char content[] = "precious\n";
	char dir[] = "/tmp/ipcspec-seg7-XXXXXX", absent[64], file[64], got[32];
	struct stat st = { 0 };
	int made_dir = mkdtemp(dir) != NULL;
	snprintf(absent, sizeof absent, "%s/absent", dir);
	snprintf(file, sizeof file, "%s/file", dir);
	int fd = made_dir ? open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644) : -1;
	if (fd < 0 || write(fd, content, sizeof content) != sizeof content || close(fd) != 0)
		cr_assert_fail("BROKEN: setup of %s failed", dir);
	/* Calls first, expectations after, so that the files are always removed. */
	int create_via_dangling_link = create_through_symlink(absent);
	int create_via_link_to_file = create_through_symlink(file);
	int made = lstat(absent, &st) == 0;
	fd = open(file, O_RDONLY | O_CLOEXEC);
	ssize_t n = read(fd, got, sizeof got);
	fstat(fd, &st);
	close(fd);
	unlink(absent);
	unlink(file);
	rmdir(dir);
	EXPECT_ERR(create_via_dangling_link, IPC_EEXIST); /* the name exists */
	EXPECT_ERR(create_via_link_to_file, IPC_EEXIST);
	cr_assert(!made, "create through a dangling symlink made its target %s", absent);
	cr_assert(n == sizeof content && !memcmp(got, content, n) && (st.st_mode & 07777) == 0644,
		  "create changed the link's target (%zd bytes, mode %04o)", n, st.st_mode & 07777);
}

Test(shmbuf, SHMBUF_SEG_8__bad_arguments_are_einval_with_no_effect)
{
	const char *name = ipct_name();
	char nested[IPC_NAME_MAX + 1], b[8] = "item", got[8] = "", t[3][48];
	struct ipc_shmbuf_attr zero = { CAP4, 0, 0 }, a = { CAP4, 8, 0 };
	struct ipc_shmbuf *h = NULL;
	int64_t now = ipct_has(IPC_SHMBUF_CAP_NONBLOCK) ? 0 /* for calls done at once */
		      : ipct_has(IPC_SHMBUF_CAP_TIMED) ? IPCT_MS(1000) : IPC_TIMEOUT_INFINITE;
	snprintf(nested, sizeof nested, "%s/x", name);
	const char *bad[] = { NULL, "", name + 1, nested }; /* no '/' first; another '/' */
	for (size_t k = 0; k < 4; k++) {
		long c = ipct_shmbuf()->create(bad[k], &a);
		long at = ipct_shmbuf()->attach(bad[k], IPC_SHMBUF_CONSUMER, &h);
		long u = ipct_shmbuf()->unlink(bad[k]);
		cr_assert(c == IPC_EINVAL && at == IPC_EINVAL && u == IPC_EINVAL,
			  "name \"%s\": create %s, attach %s, unlink %s; expected IPC_EINVAL",
			  bad[k] ? bad[k] : "(null)", ipct_rc_text(c, t[0], 48),
			  ipct_rc_text(at, t[1], 48), ipct_rc_text(u, t[2], 48));
	}
	EXPECT_ERR(ipct_shmbuf()->create(name, NULL), IPC_EINVAL);
	EXPECT_ERR(ipct_shmbuf()->create(name, &zero), IPC_EINVAL);
	EXPECT_OK(ipct_shmbuf()->create(name, &a)); /* nothing refused made this name */
	EXPECT_ERR(ipct_shmbuf()->attach(name, 0, &h), IPC_EINVAL);
	EXPECT_ERR(ipct_shmbuf()->attach(name, 3, &h), IPC_EINVAL); /* both roles: not a role */
	EXPECT_ERR(ipct_shmbuf()->attach(name, IPC_SHMBUF_PRODUCER, NULL), IPC_EINVAL);
	EXPECT_ERR(ipct_shmbuf()->put(NULL, b, 4, now), IPC_EINVAL);
	EXPECT_ERR(ipct_shmbuf()->get(NULL, b, sizeof b, now), IPC_EINVAL);
	EXPECT_ERR(ipct_shmbuf()->detach(NULL), IPC_EINVAL);
	struct ipc_shmbuf *c = SAFE_CONSUMER(name), *p = SAFE_PRODUCER(name);
	EXPECT_ERR(ipct_shmbuf()->put(p, NULL, 5, now), IPC_EINVAL);
	SAFE_RC(ipct_shmbuf()->put(p, b, 4, now));
	EXPECT_ERR(ipct_shmbuf()->get(c, NULL, sizeof b, now), IPC_EINVAL);
	/* The refused put queued nothing and the refused get took nothing. */
	EXPECT_RC(ipct_shmbuf()->get(c, got, sizeof got, now), 4);
	cr_assert(memcmp(got, "item", 4) == 0, "the item got is not the one put");
}

Test(shmbuf, SHMBUF_SEG_8__names_of_ipc_name_max_bytes_work_longer_ones_are_enametoolong)
{
	/* A fresh name padded with '0's: the test, not the fixture, unlinks these. */
	char max[IPC_NAME_MAX + 1], over[IPC_NAME_MAX + 2], huge[4097];
	const char *base = ipct_name();
	int n = (int)strlen(base);
	snprintf(max, sizeof max, "%s%0*d", base, IPC_NAME_MAX - n, 0);
	snprintf(over, sizeof over, "%s%0*d", base, IPC_NAME_MAX + 1 - n, 0);
	snprintf(huge, sizeof huge, "%s%0*d", base, 4096 - n, 0); /* longer than any Linux path */
	struct ipc_shmbuf_attr a = { CAP4, 8, 0 };
	struct ipc_shmbuf *h = NULL;
	/* Calls first, expectations after, so that nothing is left behind. */
	long create_max = ipct_shmbuf()->create(max, &a);
	long attach_max = ipct_shmbuf()->attach(max, IPC_SHMBUF_CONSUMER, &h);
	long attach_detach_max = attach_max ? attach_max : ipct_shmbuf()->detach(h);
	long unlink_max = ipct_shmbuf()->unlink(max);
	long create_huge = ipct_shmbuf()->create(huge, &a);
	long attach_huge = ipct_shmbuf()->attach(huge, IPC_SHMBUF_CONSUMER, &h);
	/* A subject may support longer names, but not by cutting them short. */
	long create_over = ipct_shmbuf()->create(over, &a);
	long unlink_cut = ipct_shmbuf()->unlink(max);
	long unlink_over = ipct_shmbuf()->unlink(over);
	EXPECT_OK(create_max);
	EXPECT_OK(attach_detach_max);
	EXPECT_OK(unlink_max);
	EXPECT_ERR(create_huge, IPC_ENAMETOOLONG);
	EXPECT_ERR(attach_huge, IPC_ENAMETOOLONG);
	cr_assert(create_over == IPC_ENAMETOOLONG ? unlink_over == IPC_ENAMETOOLONG
		  : create_over == 0 && unlink_cut == IPC_ENOENT && unlink_over == 0,
		  "a name of IPC_NAME_MAX + 1 bytes was neither refused with IPC_ENAMETOOLONG nor "
		  "kept whole: create %ld, unlink %ld, unlink of its IPC_NAME_MAX-byte prefix %ld",
		  create_over, unlink_over, unlink_cut);
}
