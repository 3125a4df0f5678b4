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


def write(target, seeds):
    d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, "seed-" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    write("shmbuf_ops", OPS)
    write("shmbuf_corrupt", CORRUPT)
