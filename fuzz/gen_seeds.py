#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the hand-made seed inputs of fuzz/corpus/<target>/.

Each seed is a small program in the target's input format (the comments at
the top of fuzz/<target>_fuzz.c). Seeds name the clause they exercise, so a
fuzzer starts from every documented result instead of rediscovering them.
Run from the repository root: python3 fuzz/gen_seeds.py
"""
import os
import struct

# ---- shmbuf_ops ------------------------------------------------------------
P, C, BAD_ROLE = 0, 1, 6  # role_map indices in shmbuf_ops_fuzz.c


def attach(role, slot):
    return bytes([((slot << 3 | role) << 3) | 0])


def detach(slot):
    return bytes([slot << 3 | 1])


def put(slot, length, seed=7):
    return bytes([slot << 3 | 2, length, seed])


def put_edge(slot, which, seed=9):  # which: 0 -> 0, 1 -> 1, 2 -> max_item, 3 -> max_item + 1
    return bytes([((which << 2 | slot) << 3) | 3, seed])


def get(slot, cap):
    return bytes([slot << 3 | 4, cap])


def get_edge(slot, which):  # 0 exact, 1 one short, 2 zero, 3 max_item, 4 max+1, 5 2max+7, 6 one, 7 exact+1
    return bytes([((which << 2 | slot) << 3) | 5])


def misc(arg):  # 0 unlink, 1 put(NULL h), 2 get(NULL h), 3 create again, 4|v<<3 bad args
    return bytes([arg << 3 | 6])


def burst(slot, k, length, seed=3):  # 1 + 4k puts
    return bytes([((k << 2 | slot) << 3) | 7, length, seed])


def hdr(cap_idx, max_item, limit=0):
    return bytes([cap_idx, max_item, limit])


OPS = {
    # ITEM-1..4, CAP-1, NB-1, ORD-1 on a bounded buffer of 4 items of 16 bytes.
    "bounded_items": hdr(4, 16) + attach(P, 0) + attach(C, 1) + put(0, 0) + put(0, 5)
    + put(0, 16) + put_edge(0, 2) + put_edge(0, 3) + put(0, 3) + get_edge(1, 1)
    + get_edge(1, 0) + get(1, 18) + get(1, 16) + get(1, 16) + get(1, 16),
    # CAP-1/2: fill a capacity-1 buffer, -EAGAIN, take one, room for one more.
    "capacity_one": hdr(1, 8) + attach(P, 0) + attach(C, 1) + put(0, 8) + put(0, 1)
    + get(1, 8) + put(0, 2) + get(1, 2) + get(1, 2),
    # EOS-1/3: -EAGAIN before any producer, IPC_EOD after the last one left.
    "end_of_data": hdr(3, 32) + attach(C, 1) + get(1, 32) + attach(P, 0) + put(0, 4)
    + detach(0) + get(1, 32) + get(1, 32) + get(1, 32),
    # EOS-4: -EPIPE once every consumer detached; ROLE-1: -EBADF both ways.
    "broken_pipe_roles": hdr(2, 8) + attach(P, 0) + attach(C, 1) + get(0, 8) + put(1, 3)
    + detach(1) + put(0, 3) + attach(C, 2) + put(0, 3) + get(2, 8),
    # UNB-1/4: unbounded with a 16 KiB ceiling, bursts until -ENOMEM, drain, again.
    "unbounded_limit": hdr(0, 200, 6) + attach(P, 0) + attach(C, 1) + burst(0, 7, 200)
    + burst(0, 7, 10) + get(1, 200) + get(1, 200) + burst(0, 3, 50) + get_edge(1, 0),
    # UNB-1 without a ceiling, many items of mixed size.
    "unbounded_plain": hdr(0, 100) + attach(P, 0) + attach(C, 1) + burst(0, 7, 100)
    + burst(0, 7, 0) + get(1, 100) + get_edge(1, 1) + get_edge(1, 0),
    # SEG-2/5/8: create again, bad arguments, unlink then attach.
    "names_and_args": hdr(2, 4) + attach(P, 0) + misc(3) + misc(1) + misc(2)
    + misc(4) + misc(4 | 1 << 3) + misc(4 | 2 << 3) + misc(4 | 3 << 3) + attach(BAD_ROLE, 1)
    + misc(0) + attach(C, 2) + misc(0),
    # ITEM-1 with big items (max_item 4096 from the table) across wrap-arounds.
    "big_items": hdr(2, 249) + attach(P, 0) + attach(C, 1) + put_edge(0, 2) + put_edge(0, 3)
    + get_edge(1, 1) + get_edge(1, 0) + put_edge(0, 2) + put_edge(0, 0) + get_edge(1, 3)
    + get_edge(1, 0) + put_edge(0, 1) + get_edge(1, 6),
    # CAP-4 / SEG-8: invalid attributes.
    "bad_capacity": hdr(15, 8),
    "bad_max_item": hdr(1, 0),
}

# ---- shmbuf_corrupt ----------------------------------------------------------
# Offsets in ref-shmbuf's header (impl/shmbuf/ref_shmbuf.c, struct shmbuf_hdr).
MAGIC, GEOM, PROD_LOCK, TAIL, CONS_LOCK, HEAD = 0, 16, 128, 256, 384, 512
EVER_CONS, RECLAIMED, PTAB, RING = 900, 1032, 1152, 4096


def w8(off, val):  # hot byte write: offset within the first 4 KiB
    return bytes([7]) + struct.pack("<HB", off, val)


def w32(off, val):  # hot, explicit value
    return bytes([(1 << 3) | 1]) + struct.pack("<HI", off // 4, val)


def w64(off, val):
    return bytes([(1 << 3) | 2]) + struct.pack("<HQ", off // 8, val)


def w64_far(off, val):  # anywhere: 32-bit offset
    return bytes([(0 << 3) | 2]) + struct.pack("<IQ", off // 8, val)


def cput(length):
    return bytes([3, length])


def cget(cap):
    return bytes([4, cap])


CGET_BIG = bytes([(8 << 3) | 4])  # a 64 KiB buffer: a trusted length runs off the slot


CVALIDATE = bytes([5])


def toggle(slot, consumer=False):
    return bytes([((slot | (8 if consumer else 0)) << 3) | 6])


def setup(cfg, n, take=False, seed=1):
    return bytes([cfg, n | seed << 3 | (0x80 if take else 0)])


CORRUPT = {
    "magic": setup(1, 3) + w8(MAGIC, 0x41) + CVALIDATE + toggle(2) + cput(5) + cget(64),
    "tail_jump": setup(1, 2) + w64(TAIL, 1 << 40) + cget(64) + cput(3) + CVALIDATE,
    "head_ahead": setup(2, 4, True) + w64(HEAD, 9) + cget(100) + cput(1) + CVALIDATE,
    "slot_len": setup(0, 1) + w64_far(RING + 8, 0xFFFFFFFF) + cget(8) + CVALIDATE,
    "slot_len_over": setup(1, 2) + w64_far(RING + 8, 65) + CGET_BIG + CVALIDATE,
    "slot_seq": setup(4, 5) + w64_far(RING, 77) + cget(64) + cget(64),
    "locks": setup(3, 2) + w32(PROD_LOCK, 0x0FFFFFFF) + w32(CONS_LOCK, 0x40000003)
    + cput(10) + cget(200) + CVALIDATE,
    "ptab_full": setup(6, 4) + b"".join(w64(PTAB + 16 * i, 0x12345672) for i in range(2, 12))
    + toggle(3) + toggle(4, True) + CVALIDATE,
    "geometry": setup(5, 6) + w64(GEOM + 8, 5000) + toggle(2, True) + cput(40) + cget(100),
    "reclaimed": setup(7, 3, True) + w64(RECLAIMED, 4096 * 3) + cput(1) + cget(255)
    + CVALIDATE,
    "ever_cons": setup(4, 1) + w32(EVER_CONS, 0) + toggle(1, True) + cput(2) + cget(64),
}


# ---- pipe_diff ---------------------------------------------------------------
# Op byte = kind | arg << 4, arg = side | slot << 1 | flag << 3 (pipe_diff_fuzz.c).
(K_WRITE, K_READ, K_CLOSE, K_DUP, K_NONBLOCK, K_GETCAP, K_SETCAP, K_POLL, K_ZERO, K_WRONG,
 K_RECREATE, K_DRAIN, K_FILL, K_BURST, K_WRITE_EDGE, K_READ_EDGE) = range(16)
RD, WR = 0, 1
LEN_TABLE = [
    0, 1, 2, 3, 7, 255, 256, 257, 511, 512, 513, 1023, 1024, 2048, 4094, 4095,
    4096, 4097, 4098, 6000, 8191, 8192, 8193, 12287, 12288, 12289, 16383, 16384, 16385, 32767,
    32768, 32769, 61440, 61441, 65535, 65536, 65537, 65538, 69632, 69633, 98304, 131071,
    131072, 131073, 196608, 262143, 262144, 262145, 393216, 524287, 524288, 524289, 786432,
    1048575, 1048576, 1048577, 100, 200, 300, 1000, 2000, 3000, 5000, 10000,
]
CAP_TABLE = [
    0, 1, 4095, 4096, 4097, 8191, 8192, 8193, 12288, 16384, 32768, 65535, 65536, 65537,
    131072, 262144, 524288, 1048575, 1048576, 1048577, 4 << 20, (1 << 31), 1 << 40, 2**64 - 1,
]
CREATE_CAP = [0, 0, 0, 4096, 8192, 1, 65537, (1 << 20) + 1]


def plen(n):  # a length operand byte
    if n < 128:
        return bytes([n])
    if n in LEN_TABLE:
        return bytes([192 + LEN_TABLE.index(n)])
    k, odd = divmod(n, 1024)
    if 1 <= k <= 64 and odd == (k + 127) & 1:
        return bytes([k + 127])
    raise ValueError("length %d has no encoding" % n)


def op(kind, side=0, slot=0, flag=0):
    return bytes([kind | (side | slot << 1 | flag << 3) << 4])


def attr(nonblock=True, cap=0, bad_flag=False):
    return bytes([int(nonblock) | CREATE_CAP.index(cap) << 1 | (0xF0 if bad_flag else 0)])


def pw(n, slot=0):
    return op(K_WRITE, slot=slot) + plen(n)


def pr(n, slot=0):
    return op(K_READ, slot=slot) + plen(n)


def pclose(side, slot=0):
    return op(K_CLOSE, side, slot)


def pdup(side, slot=0):
    return op(K_DUP, side, slot)


def nonblock(side, on, slot=0):
    return op(K_NONBLOCK, side, slot, int(on))


def getcap(side=0):
    return op(K_GETCAP, side)


def setcap(n, side=1):
    return op(K_SETCAP, side) + bytes([CAP_TABLE.index(n)])


def setcap_rel(k, side=1):  # 0 Q-1, 1 Q, 2 Q+1, 3 C-1, 4 C/2, 5 2C, 6 Q-4096, 7 Q+4096
    return op(K_SETCAP, side) + bytes([24 + k])


def ppoll(side, ev=3, slot=0):  # ev: 0 none, 1 IN, 2 OUT, 3 both; | 4 also ERR|HUP
    return op(K_POLL, side, slot) + bytes([ev])


def zero(side, write, slot=0):
    return op(K_ZERO, side, slot, int(write))


def wrong(side, big=False):
    return op(K_WRONG, side, 0, int(big))


def recreate(a):
    return op(K_RECREATE) + a


def drain(slot=0):
    return op(K_DRAIN, slot=slot)


def pfill(n, slot=0):
    return op(K_FILL, slot=slot) + plen(n)


def burst(n, count, page=False):  # count writes of n (1..32) bytes (+ PIPE_BUF)
    return op(K_BURST, flag=int(page)) + bytes([(count - 1) << 5 | (n - 1)])


def wedge(k):  # 0 room, 1 room+1, 2 room-1, 3 PB, 4 PB+1, ... (write_edge)
    return op(K_WRITE_EDGE) + bytes([k])


def redge(k):  # 0 Q, 1 Q+1, 2 Q-1, 3 1, 4 PB, ... (read_edge)
    return op(K_READ_EDGE) + bytes([k])


PIPE = {
    # PIPE-EOF-1/2, POLL-4: queued bytes first, then 0, again; HUP (and IN) at the end.
    "eof": attr() + pw(10) + pw(300) + pclose(WR) + ppoll(RD) + pr(5) + pr(1000) + ppoll(RD)
    + pr(1) + pr(1),
    # PIPE-NB-1, POLL-1/2: -EAGAIN on empty; no readiness, OUT; IN after a partial read.
    "nonblock_empty": attr() + pr(10) + ppoll(RD) + ppoll(WR) + pw(7) + pr(3) + ppoll(RD)
    + pr(4) + ppoll(RD, 5) + pr(1),
    # PIPE-SIG-2, POLL-6/7: -EPIPE with and without bytes left; ERR asked or not; zero write.
    "sigpipe": attr() + pw(100) + pclose(RD) + pw(1) + pw(4096) + zero(WR, True)
    + ppoll(WR, 0) + ppoll(WR, 2),
    # PIPE-ATOM-2 on one page: 1094 bytes left in a page partly read; 100 and 3000 fit
    # the byte room (3002) but the kernel has no free page; 3003 never fits.
    "atom2_page": attr(cap=4096) + pw(4094) + pr(3000) + pw(100) + pw(3000) + ppoll(WR)
    + drain() + pw(4096) + pw(1),
    # PIPE-NB-3, POLL-3: fill with 1, PIPE_BUF and larger writes; OUT comes back after a drain.
    "full": attr() + pfill(4096) + ppoll(WR) + pw(1) + pw(4096) + pw(4097) + pr(1) + ppoll(WR)
    + drain() + ppoll(WR) + pfill(1000) + wedge(0) + wedge(1) + drain(),
    # PIPE-ATOM-3, CAP-1: an empty pipe takes exactly C of a larger write, then -EAGAIN.
    "partial_large": attr() + pw(65537) + pw(5000) + pr(65536) + pw(131073) + pr(131073)
    + getcap(RD) + getcap(WR),
    # PIPE-CAP-2/4/6: rounding, -EBUSY below the queued bytes, -EINVAL beyond any limit.
    "capacity": attr() + setcap(0) + getcap(RD) + setcap(4097) + setcap(65537, RD) + getcap(WR)
    + pw(10000) + setcap(4096) + setcap_rel(0) + setcap_rel(1) + setcap(1 << 40)
    + setcap(2**64 - 1) + setcap(1 << 31) + getcap(RD) + drain() + setcap(1),
    # PIPE-CAP-5: above pipe-max-size (root: granted by the kernel; ref-pipe's limit).
    "capacity_limit": attr() + setcap(1048577) + getcap(WR) + pfill(1048577) + drain()
    + setcap(4 << 20) + recreate(attr(cap=(1 << 20) + 1)) + pw(100),
    # PIPE-DUP-1/2: a dup'd writer keeps EOF away; bytes through both writers, in order.
    "dup_writer": attr() + pdup(WR) + pw(5, 0) + pw(6, 1) + pclose(WR, 0) + pr(100) + pr(1)
    + pw(7, 1) + pclose(WR, 1) + pr(100) + pr(100),
    # PIPE-DUP-3: a dup'd reader keeps writes going; -EPIPE once it is closed too.
    "dup_reader": attr() + pdup(RD) + pclose(RD, 0) + pw(50) + pr(20, 1) + pdup(RD, 1)
    + pr(30, 2) + pclose(RD, 1) + pclose(RD, 2) + pw(1),
    # Blocking handles: only calls that cannot block; then PIPE-NB-5 per handle.
    "blocking": attr(nonblock=False) + pw(100) + pr(40) + pr(100) + pw(65536) + pr(65536)
    + nonblock(RD, True) + pr(1) + nonblock(WR, True) + pfill(4096) + nonblock(RD, False)
    + pr(10) + nonblock(WR, False) + pdup(WR) + nonblock(WR, True, 1) + pw(1, 0) + drain(),
    # PIPE-END-5: zero-length calls on empty, full, blocking, writer-less pipes.
    "zero_length": attr(nonblock=False) + zero(RD, False) + zero(WR, True) + zero(RD, True)
    + zero(WR, False) + nonblock(WR, True) + pfill(65536) + nonblock(WR, False)
    + zero(WR, True) + drain() + pclose(WR) + zero(RD, False) + pr(1),
    # PIPE-END-1: wrong direction on both ends leaves the stream intact.
    "wrong_end": attr() + pw(20) + wrong(RD) + wrong(WR) + wrong(RD, True) + wrong(WR, True)
    + pr(100) + pr(1),
    # create(): unknown flag (-EINVAL), capacities 1, 8192, 65537; ops while no pipe.
    "recreate": attr(bad_flag=True) + pw(1) + recreate(attr(cap=1)) + getcap() + pw(4096)
    + pw(1) + recreate(attr(cap=8192)) + getcap() + recreate(attr(False, 65537)) + getcap()
    + pw(131072) + pr(131072),
    # PIPE-READ-3: many small writes merged into pages, read back at edges.
    "bursts": attr() + burst(3, 8) + burst(32, 8) + burst(1, 8, True) + redge(2) + redge(9)
    + redge(1) + burst(17, 8) + redge(6) + redge(0) + redge(3),
    # PIPE-READ-1 after a partial read: the bytes written since are read too
    # (ref-pipe once read by a stale cached tail and returned 5 here, not 15).
    "read_after_partial": attr() + pw(10) + pr(5) + pw(10) + pr(100) + pw(4096) + pr(1)
    + pw(3) + redge(8),
    # Edge lengths: room, room +- 1, page boundaries.
    "edges": attr(cap=8192) + wedge(10) + wedge(3) + wedge(0) + wedge(1) + redge(4) + wedge(14)
    + wedge(2) + ppoll(WR) + redge(9) + ppoll(WR) + drain(),
}

# ---- fifo_diff -----------------------------------------------------------------
# Op byte = kind | arg << 3 (fifo_diff_fuzz.c). Paths a = 0, b = 1.
(F_MKFIFO, F_OPEN, F_WRITE, F_READ, F_CLOSE, F_UNLINK, F_TRUNCATE, F_MISC) = range(8)
O_RD, O_WR, O_RDWR, O_BAD = range(4)


def fmk(p=0):
    return bytes([F_MKFIFO | p << 3])


def fopen_(p=0, acc=O_RD, nb=True, trunc=False):
    return bytes([F_OPEN | (p | acc << 1 | int(nb) << 3 | int(trunc) << 4) << 3])


def fw(slot, n):
    return bytes([F_WRITE | slot << 3]) + plen(n)


def fr(slot, n):
    return bytes([F_READ | slot << 3]) + plen(n)


def fclose_(slot):
    return bytes([F_CLOSE | slot << 3])


def funlink(p=0):
    return bytes([F_UNLINK | p << 3])


def ftrunc(p=0, hundred=False):
    return bytes([F_TRUNCATE | (p | int(hundred) << 1) << 3])


def fstat_(p=0):
    return bytes([F_MISC | (0 | p << 2) << 3])


def fdrain(slot):
    return bytes([F_MISC | (1 | slot << 2) << 3])


def fpoll(slot):
    return bytes([F_MISC | (0 | slot << 2 | 16) << 3])


FCLOSE_ALL = bytes([F_MISC | 2 << 3])


def ffill(slot):
    return bytes([F_MISC | (3 | slot << 2) << 3])


FIFO = {
    # FIFO-MAKE-1/2/5: stat, -EEXIST, -ENOENT in every mode, bad access mode.
    "make": fstat_(0) + fopen_(0, O_RD) + fopen_(0, O_WR, False) + fopen_(0, O_RDWR, False)
    + fmk(0) + fmk(0) + fstat_(0) + fstat_(1) + fopen_(0, O_BAD) + fopen_(1, O_BAD),
    # FIFO-OPEN-4/5, IO-3, IO-2: reader alone reads EOF, -ENXIO, writer, -EAGAIN, EOF again.
    "open_nonblock": fmk(0) + fopen_(1, O_WR) + fopen_(0, O_WR) + fopen_(0, O_RD) + fr(0, 10)
    + fopen_(0, O_WR) + fr(0, 10) + fw(1, 100) + fr(0, 40) + fclose_(1) + fr(0, 100) + fr(0, 1),
    # FIFO-RDWR-1/2: a read-write handle alone; a non-blocking writer then meets it.
    "rdwr": fmk(1) + fopen_(1, O_RDWR, False) + fw(0, 50) + fr(0, 20) + fopen_(1, O_WR)
    + fopen_(1, O_RD) + fw(1, 7) + fr(2, 100) + fr(2, 1) + fclose_(0) + fclose_(1) + fr(2, 1),
    # FIFO-NAME-2: bytes left at the last close are gone at the next open.
    "data_gone": fmk(0) + fopen_(0, O_RD) + fopen_(0, O_WR) + fw(1, 300) + fclose_(0)
    + fclose_(1) + fopen_(0, O_RD) + fr(0, 300) + fopen_(0, O_WR) + fr(0, 300) + fw(1, 5)
    + fr(0, 300),
    # FIFO-NAME-3/4: unlink in use, -ENOENT, bytes still flow; made again: a new pipe.
    "unlink_in_use": fmk(0) + fopen_(0, O_RDWR) + fw(0, 10) + funlink(0) + funlink(0)
    + fopen_(0, O_RD) + fstat_(0) + fmk(0) + fopen_(0, O_RD) + fopen_(0, O_WR) + fw(2, 3)
    + fr(1, 100) + fr(0, 100) + fclose_(0) + fr(1, 1),
    # FIFO-NAME-5: every open reaches the same pipe; blocking opens that cannot wait.
    "same_pipe": fmk(0) + fopen_(0, O_RD) + fopen_(0, O_WR) + fopen_(0, O_WR, False)
    + fopen_(0, O_RD, False) + fw(1, 10) + fw(2, 20) + fr(3, 5) + fopen_(0, O_RD) + fr(4, 100)
    + fclose_(1) + fclose_(2) + fr(3, 1) + fr(0, 1),
    # FIFO-POLL-3 (write half), PIPE-SIG-2: -EPIPE once the last reader closed.
    "epipe": fmk(0) + fopen_(0, O_RD) + fopen_(0, O_WR) + fw(1, 4096) + fclose_(0) + fw(1, 1)
    + fw(1, 0) + fr(1, 5),
    # FIFO-TRUNC-1/2: O_TRUNC ignored, truncate -EINVAL, bytes intact; -ENOENT without.
    "truncate": fmk(0) + fopen_(0, O_RD) + fopen_(0, O_WR) + fw(1, 200) + ftrunc(0)
    + ftrunc(0, True) + fopen_(0, O_RD, True, True) + fopen_(0, O_WR, False, True) + fr(2, 300)
    + ftrunc(1) + funlink(0) + ftrunc(0),
    # PIPE-ATOM-2/3, CAP-1 through a FIFO: fill, -EAGAIN, a partial large write.
    "fill": fmk(1) + fopen_(1, O_RD) + fopen_(1, O_WR) + ffill(1) + fw(1, 1) + fr(0, 4095)
    + fw(1, 4096) + fw(1, 4095) + fdrain(0) + fw(1, 65537) + fw(1, 4097) + fr(0, 1)
    + fw(1, 8192) + fdrain(0),
    # FIFO-POLL-1/2/3: quiet reader before any writer; HUP after one left; cleared by a new one.
    "poll": fmk(0) + fopen_(0, O_RD) + fpoll(0) + fopen_(0, O_WR) + fpoll(0) + fpoll(1)
    + fw(1, 10) + fpoll(0) + fclose_(1) + fpoll(0) + fr(0, 10) + fpoll(0) + fopen_(0, O_WR)
    + fpoll(0) + fopen_(0, O_RD) + fclose_(1) + fpoll(2) + fpoll(0) + fclose_(0) + fclose_(2)
    + fopen_(0, O_RDWR) + fopen_(0, O_WR) + fclose_(0) + fpoll(1),
    # Two FIFOs side by side; close everything; the names stay.
    "two_paths": fmk(0) + fmk(1) + fopen_(0, O_RDWR) + fopen_(1, O_RDWR) + fw(0, 9) + fw(1, 11)
    + fr(0, 100) + fr(1, 100) + FCLOSE_ALL + fstat_(0) + fstat_(1) + fopen_(1, O_RD)
    + fr(0, 1),
}


def write(target, seeds):
    d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, "seed-" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    write("shmbuf_ops", OPS)
    write("shmbuf_corrupt", CORRUPT)
    write("pipe_diff", PIPE)
    write("fifo_diff", FIFO)
