/* SPDX-License-Identifier: MIT */
/*
 * Verify that a frame of another protocol version (right magic, valid
 * checks) is reported as -EPROTO as soon as its version byte is in, finally,
 * by the decoder and over the transport; and that bytes with a wrong magic
 * are refused with -EBADMSG by the third byte, without waiting for a header.
 * Clauses: FRAMING-VER-1, FRAMING-VER-2.
 */
#include "ipct.h"

#define OPS ipct_framing()
#define HDR IPC_FRAMING_HDR_LEN

static unsigned char buf[2 * (HDR + 10)];

/* A valid frame of 10 bytes, then the same frame claiming version v. */
static void frames_of_version(unsigned char v)
{
	ipct_framing_encode(1, 0, 10, 1, buf, HDR + 10);
	memcpy(buf + HDR + 10, buf, HDR + 10);
	buf[2] = v;
	uint32_t hc = ipct_crc32c(buf, 16);
	for (int i = 0; i < 4; i++)
		buf[16 + i] = (unsigned char)(hc >> (24 - 8 * i));
}

Test(framing, FRAMING_VER_1__another_version_is_eproto_at_once_and_finally)
{
	const unsigned char versions[] = {0, 2, 0x81, 0xFF};
	struct ipc_framing_frame f;
	size_t used;
	for (size_t i = 0; i < sizeof versions; i++) {
		struct ipc_framing_decoder *d = ipct_framing_decoder(100, NULL);
		frames_of_version(versions[i]);
		EXPECT_RC(OPS->decode(d, buf, 2, &used, &f), IPC_FRAMING_MORE);
		cr_assert_eq(OPS->decode(d, buf + 2, 1, &used, &f), IPC_EPROTO,
			     "version %u not refused at its byte", versions[i]);
		EXPECT_RC(OPS->decode(d, buf + HDR + 10, HDR + 10, &used, &f), IPC_EPROTO);
		EXPECT_RC(OPS->decode_end(d), IPC_EPROTO);
	}
	IPCT_REQUIRE(IPC_FRAMING_CAP_BLOCKING);
	int wr, rd;
	ipct_framing_pair(0, &wr, &rd);
	struct ipc_framing_rx *rx = ipct_framing_rx(rd, 100);
	frames_of_version(2);
	ipct_framing_raw(wr, buf, sizeof buf);
	ipct_framing_close(wr);
	EXPECT_ERR(OPS->recv(rx, &f, -1), IPC_EPROTO);
	EXPECT_ERR(OPS->recv(rx, &f, -1), IPC_EPROTO);
}

Test(framing, FRAMING_VER_2__a_wrong_magic_is_refused_by_the_third_byte)
{
	const char *const inputs[] = {"GET / HTTP/1.1\r\n\r\n", "IX\x01", "xF\x01", "\x46\x49\x01"};
	struct ipc_framing_frame f;
	for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++) {
		struct ipc_framing_decoder *d = ipct_framing_decoder(100, NULL);
		size_t used, at = 0;
		int rc = IPC_FRAMING_MORE;
		while (rc == IPC_FRAMING_MORE && at < 3)
			rc = OPS->decode(d, inputs[i] + at, 1, &used, &f), at += used;
		cr_assert_eq(rc, IPC_EBADMSG, "input %zu: %d after %zu bytes", i, rc, at);
		EXPECT_RC(OPS->decode_end(d), IPC_EBADMSG);
	}
}
