/* SPDX-License-Identifier: MIT */
/*
 * Verify that mkfifo makes a FIFO with the asked permission bits less the
 * umask, refuses a path that exists with -EEXIST and leaves it untouched, is
 * refused (creating nothing) by a file system that cannot hold FIFOs, and
 * that opening a path where nothing exists fails -ENOENT and creates nothing.
 * Clauses: FIFO-MAKE-1 … FIFO-MAKE-5.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "ipct.h"

IPCT_SUITE(fifo, 30);

#define SYSFS_MAGIC_ 0x62656572

static uint32_t mode_of(const char *path)
{
	uint32_t mode = 0;
	SAFE_RC(FIFO->stat_mode(path, &mode));
	return mode;
}

Test(fifo, FIFO_MAKE_1__mkfifo_makes_a_fifo_that_carries_bytes)
{
	IPCT_REQUIRE(IPC_FIFO_CAP_NONBLOCK);
	struct ipc_pipe *rd, *wr;
	char buf[8];
	const char *path = ipct_fifo_make(0600);
	uint32_t mode = mode_of(path);
	cr_assert(S_ISFIFO(mode), "stat_mode reports 0%o, not a FIFO", mode);
	ipct_fifo_pair(path, &rd, &wr);
	EXPECT_RC(FIFO_IO->write(wr, "fifo", 4), 4);
	EXPECT_RC(FIFO_IO->read(rd, buf, sizeof buf), 4);
	cr_assert(memcmp(buf, "fifo", 4) == 0, "read back %.4s", buf);
}

Test(fifo, FIFO_MAKE_2__mkfifo_on_an_existing_path_is_eexist_and_changes_nothing)
{
	IPCT_REQUIRE(IPC_FIFO_CAP_NONBLOCK);
	struct ipc_pipe *rd, *wr;
	char buf[8];
	const char *path = ipct_fifo_make(0600);
	ipct_fifo_pair(path, &rd, &wr);
	SAFE_RC(FIFO_IO->write(wr, "kept", 4));
	EXPECT_ERR(FIFO->mkfifo(path, 0600), IPC_EEXIST);
	cr_assert(S_ISFIFO(mode_of(path)), "the FIFO is no longer a FIFO");
	EXPECT_RC(FIFO_IO->read(rd, buf, sizeof buf), 4);
	cr_assert(memcmp(buf, "kept", 4) == 0, "queued bytes changed: %.4s", buf);

	const char *file = ipct_fifo_path();
	int fd = SAFE_RC(open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
	close(fd);
	EXPECT_ERR(FIFO->mkfifo(file, 0600), IPC_EEXIST);
	cr_assert(S_ISREG(mode_of(file)), "the regular file became 0%o", mode_of(file));
}

/* mkfifo under umask: the permission bits it leaves. */
static uint32_t perms_under(mode_t mask, uint32_t mode)
{
	const char *path = ipct_fifo_path();
	mode_t old = umask(mask);
	int rc = FIFO->mkfifo(path, mode);
	umask(old);
	SAFE_RC(rc);
	return mode_of(path) & 07777;
}

Test(fifo, FIFO_MAKE_3__permission_bits_are_the_mode_less_the_umask)
{
	IPCT_REQUIRE(IPC_FIFO_CAP_MODE_BITS);
	ipct_fifo_make(0600); /* UNSUPPORTED here if the file system refuses */
	uint32_t got;
	cr_assert((got = perms_under(022, 0666)) == 0644, "0666 under 022 gave 0%o", got);
	cr_assert((got = perms_under(0, 0666)) == 0666, "0666 under 0 gave 0%o", got);
	cr_assert((got = perms_under(077, 0600)) == 0600, "0600 under 077 gave 0%o", got);
	cr_assert((got = perms_under(027, 0640)) == 0640, "0640 under 027 gave 0%o", got);
}

Test(fifo, FIFO_MAKE_4__a_file_system_without_fifos_refuses_and_creates_nothing)
{
	struct statfs sfs;
	if (statfs("/sys", &sfs) != 0 || sfs.f_type != SYSFS_MAGIC_)
		cr_skip("UNSUPPORTED: no sysfs at /sys to stand for a file system without FIFOs");
	char path[IPC_NAME_MAX + 8];
	snprintf(path, sizeof path, "/sys%s", ipct_name());
	uint32_t mode;
	int rc = FIFO->mkfifo(path, 0600);
	if (rc == 0)
		FIFO->unlink(path);
	cr_assert(rc == IPC_EPERM || rc == IPC_EOPNOTSUPP || rc == -EACCES || rc == -EROFS,
		  "mkfifo(%s) returned %d, expected a refusal (EPERM, EOPNOTSUPP, EACCES, EROFS)",
		  path, rc);
	EXPECT_ERR(FIFO->stat_mode(path, &mode), IPC_ENOENT);
}

Test(fifo, FIFO_MAKE_5__opening_a_missing_path_is_enoent_and_creates_nothing)
{
	static const uint32_t modes[] = {
		IPC_FIFO_RDONLY, IPC_FIFO_WRONLY, IPC_FIFO_RDONLY | IPC_FIFO_NONBLOCK,
		IPC_FIFO_WRONLY | IPC_FIFO_NONBLOCK, IPC_FIFO_RDWR, IPC_FIFO_RDWR | IPC_FIFO_NONBLOCK,
	};
	const char *path = ipct_fifo_path();
	struct ipc_pipe *h;
	uint32_t mode;
	for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
		if ((modes[i] & IPC_FIFO_ACCMODE) == IPC_FIFO_RDWR && !ipct_has(IPC_FIFO_CAP_RDWR_OPEN))
			continue;
		if ((modes[i] & IPC_FIFO_NONBLOCK) && !ipct_has(IPC_FIFO_CAP_NONBLOCK))
			continue;
		EXPECT_ERR(ipct_fifo_open(path, modes[i], &h), IPC_ENOENT);
		EXPECT_ERR(FIFO->stat_mode(path, &mode), IPC_ENOENT);
	}
}
