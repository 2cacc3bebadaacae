#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the hand-made seeds of the fuzz corpus, deterministically.

corpus/wire/seed-*: inputs of fuzz_wire.c: [k][k chunk sizes - 1][stream of
  messages] (k = first byte % 16; 0 feeds the stream in one piece).
corpus/engine/seed-*: inputs of fuzz_engine.c: records [flags][type][len lo]
  [len hi][payload]; flags bit 0 = unprivileged connection, bit 1 = flush
  after, bits 2..7 = transaction selector (1 = the first id received).
corpus/objects/seed-*: inputs of fuzz_objects.c: [kind][object content];
  kind bit 0 = "git" format (else "vs"), bit 1 = commit (else tree).

Only seed-* files are written; entries the fuzzers found (named by their
SHA-1) are left alone. Usage: make_seeds.py [CORPUS_DIR]
"""
import os
import struct
import sys

XS = dict(CONTROL=0, DIRECTORY=1, READ=2, GET_PERMS=3, WATCH=4, UNWATCH=5,
          TRANSACTION_START=6, TRANSACTION_END=7, INTRODUCE=8, RELEASE=9,
          GET_DOMAIN_PATH=10, WRITE=11, MKDIR=12, RM=13, SET_PERMS=14,
          WATCH_EVENT=15, ERROR=16, IS_DOMAIN_INTRODUCED=17, RESUME=18,
          SET_TARGET=19, RESTRICT=20, RESET_WATCHES=21, DIRECTORY_PART=22,
          GET_FEATURE=23, SET_FEATURE=24, GET_QUOTA=25, SET_QUOTA=26)
INVALID = 0xFFFF
ERRORS = ["EINVAL", "EACCES", "EEXIST", "EISDIR", "ENOENT", "ENOMEM", "ENOSPC",
          "EIO", "ENOTEMPTY", "ENOSYS", "EROFS", "EBUSY", "EAGAIN", "EISCONN",
          "E2BIG", "EPERM"]
HOME = b"/local/domain/1"


def z(*parts):
    """NUL-terminated strings, concatenated."""
    return b"".join(p + b"\0" for p in parts)


# One plausible request payload per message type.
REQUESTS = {
    "CONTROL": z(b"print", b"hello"),
    "DIRECTORY": z(b"/local/domain"),
    "READ": z(HOME + b"/name"),
    "GET_PERMS": z(b"/tool"),
    "WATCH": z(HOME, b"tok1"),
    "UNWATCH": z(HOME, b"tok1"),
    "TRANSACTION_START": z(b""),
    "TRANSACTION_END": z(b"T"),
    "INTRODUCE": z(b"1", b"1234", b"5"),
    "RELEASE": z(b"1"),
    "GET_DOMAIN_PATH": z(b"1"),
    "WRITE": z(HOME + b"/name") + b"guest-one",
    "MKDIR": z(HOME + b"/device"),
    "RM": z(HOME + b"/device"),
    "SET_PERMS": z(HOME, b"b1", b"r0"),
    "WATCH_EVENT": z(HOME + b"/name", b"tok1"),
    "ERROR": z(b"ENOENT"),
    "IS_DOMAIN_INTRODUCED": z(b"1"),
    "RESUME": z(b"1"),
    "SET_TARGET": z(b"2", b"1"),
    "RESTRICT": z(b"1"),
    "RESET_WATCHES": z(b""),
    "DIRECTORY_PART": z(b"/local/domain", b"0"),
    "GET_FEATURE": z(b"1"),
    "SET_FEATURE": z(b"1", b"4"),
    "GET_QUOTA": z(b"1", b"nodes"),
    "SET_QUOTA": z(b"nodes", b"2000"),
}


def msg(typ, payload=b"", req=1, tx=0, length=None):
    """A wire message; @length overrides the header's len."""
    n = len(payload) if length is None else length
    return struct.pack("<IIII", typ, req, tx, n) + payload


def wire(stream, chunks=()):
    """A fuzz_wire input feeding @stream in chunks of the given sizes."""
    assert len(chunks) < 16 and all(1 <= c <= 256 for c in chunks)
    return bytes([len(chunks)]) + bytes(c - 1 for c in chunks) + stream


def rec(typ, payload=b"", unpriv=False, flush=True, txsel=0):
    """One fuzz_engine record."""
    flags = (1 if unpriv else 0) | (2 if flush else 0) | (txsel << 2)
    assert len(payload) <= 0xFFFF and txsel < 64
    t = 0xFF if typ == INVALID else typ
    return bytes([flags, t]) + struct.pack("<H", len(payload)) + payload


def r(name, *parts, **kw):
    return rec(XS[name], z(*parts) if parts else REQUESTS[name], **kw)


def wire_seeds():
    s = {}
    for i, (name, payload) in enumerate(REQUESTS.items()):
        s["req-" + name.lower()] = wire(msg(XS[name], payload, req=i + 1))
    s["req-invalid"] = wire(msg(INVALID, b""))
    s["req-type-200"] = wire(msg(200, z(b"x")))
    write = msg(XS["WRITE"], REQUESTS["WRITE"], req=7, tx=3)
    s["split-bytewise"] = wire(write, [1])
    s["split-3-7"] = wire(write * 3, [3, 7])
    s["split-header-edge"] = wire(write + msg(XS["READ"], REQUESTS["READ"]), [16, 1, 15])
    s["trunc-header"] = wire(write[:10])
    s["trunc-payload"] = wire(write[:16 + 5], [4])
    s["zero-length"] = wire(msg(XS["RESET_WATCHES"]) + msg(XS["TRANSACTION_START"]))
    big = z(HOME + b"/data/big") + b"v" * (4096 - len(HOME) - 10)
    s["len-4096"] = wire(msg(XS["WRITE"], big[:4096]))
    s["len-4096-chunked"] = wire(msg(XS["WRITE"], big[:4096]), [200, 256, 31])
    s["len-4097"] = wire(msg(XS["WRITE"], b"x" * 16, length=4097))
    s["len-max"] = wire(msg(XS["READ"], b"", length=0xFFFFFFFF), [2])
    s["len-4097-after-good"] = wire(write + msg(XS["WRITE"], b"", length=4097))
    s["args-unterminated"] = wire(msg(XS["READ"], HOME))
    s["args-many"] = wire(msg(XS["SET_PERMS"], z(HOME, *[b"r%d" % i for i in range(40)])))
    s["args-empty-strings"] = wire(msg(XS["WRITE"], b"\0\0\0\0"))
    txn = (msg(XS["TRANSACTION_START"], z(b""), req=1) +
           msg(XS["WRITE"], z(HOME + b"/a") + b"1", req=2, tx=5) +
           msg(XS["READ"], z(HOME + b"/a"), req=3, tx=5) +
           msg(XS["TRANSACTION_END"], z(b"T"), req=4, tx=5))
    s["seq-transaction"] = wire(txn)
    s["seq-transaction-chunked"] = wire(txn, [5, 17, 2])
    watch = (msg(XS["WATCH"], z(HOME, b"tok"), req=1) +
             msg(XS["WATCH_EVENT"], z(HOME, b"tok"), req=0) +
             msg(XS["WRITE"], z(HOME + b"/x") + b"y", req=2) +
             msg(XS["WATCH_EVENT"], z(HOME + b"/x", b"tok"), req=0) +
             msg(XS["UNWATCH"], z(HOME, b"tok"), req=3) +
             msg(XS["RESET_WATCHES"], z(b""), req=4))
    s["seq-watch"] = wire(watch)
    s["seq-watch-bytewise"] = wire(watch, [1])
    s["replies-errors"] = wire(b"".join(msg(XS["ERROR"], z(e.encode()), req=i)
                                        for i, e in enumerate(ERRORS)))
    s["replies-bad-error"] = wire(msg(XS["ERROR"], z(b"EQUOTA")) + msg(XS["ERROR"], b"EIO"))
    return s


def engine_seeds():
    s = {}
    for name in REQUESTS:
        s["req-" + name.lower()] = r(name)
        s["unpriv-" + name.lower()] = r(name, unpriv=True)
    s["req-invalid"] = rec(INVALID) + rec(200, z(b"x")) + rec(XS["RESTRICT"], z(b"0"))
    s["txn-commit"] = (r("TRANSACTION_START") + r("WRITE", txsel=1) +
                       rec(XS["READ"], z(HOME + b"/name"), txsel=1) +
                       rec(XS["DIRECTORY"], z(HOME), txsel=1) +
                       r("TRANSACTION_END", txsel=1) + r("READ"))
    s["txn-abort"] = (r("TRANSACTION_START") + r("MKDIR", txsel=1) +
                      rec(XS["TRANSACTION_END"], z(b"F"), txsel=1) + r("DIRECTORY"))
    s["txn-conflict"] = (r("TRANSACTION_START") +
                         rec(XS["READ"], z(b"/a"), txsel=1) +
                         rec(XS["WRITE"], z(b"/a") + b"in", txsel=1) +
                         rec(XS["WRITE"], z(b"/a") + b"out") +
                         r("TRANSACTION_END", txsel=1))
    s["txn-two-open"] = (r("TRANSACTION_START") + r("TRANSACTION_START") +
                         rec(XS["WRITE"], z(b"/t1") + b"1", txsel=1) +
                         rec(XS["WRITE"], z(b"/t2") + b"2", txsel=2) +
                         r("TRANSACTION_END", txsel=2) + r("TRANSACTION_END", txsel=1))
    s["txn-unknown-id"] = rec(XS["READ"], z(b"/tool"), txsel=9)
    s["txn-nested-start"] = r("TRANSACTION_START") + r("TRANSACTION_START", txsel=1)
    s["txn-unpriv"] = (r("INTRODUCE") + r("TRANSACTION_START", unpriv=True) +
                       rec(XS["WRITE"], z(b"data/x") + b"1", unpriv=True, txsel=1) +
                       r("TRANSACTION_END", unpriv=True, txsel=1))
    s["watch-seq"] = (rec(XS["WATCH"], z(b"/a", b"tok")) +
                      rec(XS["WRITE"], z(b"/a/b") + b"1", flush=False) +
                      rec(XS["WRITE"], z(b"/a/b/c") + b"2") +
                      rec(XS["RM"], z(b"/a")) +
                      rec(XS["UNWATCH"], z(b"/a", b"tok")) +
                      rec(XS["UNWATCH"], z(b"/a", b"tok")))
    s["watch-duplicate"] = rec(XS["WATCH"], z(b"/", b"t")) * 2 + r("RESET_WATCHES")
    s["watch-depth"] = (rec(XS["WATCH"], z(b"/a", b"d", b"1")) +
                        rec(XS["WRITE"], z(b"/a/b/c") + b"x"))
    s["watch-special"] = (rec(XS["WATCH"], z(b"@introduceDomain", b"i")) +
                          rec(XS["WATCH"], z(b"@releaseDomain", b"r")) +
                          r("INTRODUCE") + r("RELEASE"))
    s["watch-unpriv"] = (r("INTRODUCE") +
                         rec(XS["WATCH"], z(b"data", b"rel"), unpriv=True) +
                         rec(XS["WRITE"], z(HOME + b"/data/x") + b"1"))
    s["domain-life"] = (r("INTRODUCE") + r("IS_DOMAIN_INTRODUCED") + r("GET_DOMAIN_PATH") +
                        rec(XS["MKDIR"], z(HOME + b"/data")) +
                        rec(XS["SET_PERMS"], z(HOME + b"/data", b"b1")) +
                        rec(XS["WRITE"], z(b"data/x") + b"1", unpriv=True) +
                        rec(XS["READ"], z(HOME + b"/data/x"), unpriv=True) +
                        r("SET_TARGET") + r("RESUME") + r("RELEASE") +
                        r("IS_DOMAIN_INTRODUCED"))
    s["perms-hidden"] = (rec(XS["WRITE"], z(b"/secret/k") + b"v") +
                         rec(XS["SET_PERMS"], z(b"/secret", b"n0")) +
                         rec(XS["READ"], z(b"/secret/k"), unpriv=True) +
                         rec(XS["READ"], z(b"/secret/none"), unpriv=True) +
                         rec(XS["SET_PERMS"], z(b"/secret", b"b1"), unpriv=True))
    s["perms-domid-any"] = (rec(XS["WRITE"], z(b"/pub") + b"v") +
                            rec(XS["SET_PERMS"], z(b"/pub", b"n0", b"r32757")) +
                            rec(XS["READ"], z(b"/pub"), unpriv=True))
    s["quota"] = (r("GET_QUOTA", b"") + rec(XS["GET_QUOTA"], b"") +
                  r("SET_QUOTA", b"1", b"nodes", b"2") + r("INTRODUCE") +
                  b"".join(rec(XS["WRITE"], z(b"data/n%d" % i) + b"v", unpriv=True)
                           for i in range(4)) +
                  r("GET_QUOTA", b"nodes"))
    s["features"] = (r("INTRODUCE") + rec(XS["GET_FEATURE"], b"") +
                     r("SET_FEATURE") + rec(XS["GET_FEATURE"], b"", unpriv=True))
    s["directory-part"] = (b"".join(rec(XS["MKDIR"], z(b"/d/c%03d" % i), flush=False)
                                    for i in range(30)) +
                           r("DIRECTORY_PART", b"/d", b"0") + r("DIRECTORY_PART", b"/d", b"40"))
    s["paths-bad"] = b"".join(rec(XS["READ"], z(p)) for p in
                              [b"", b"//", b"/a/", b"/a b", b"@x", b"/" + b"p" * 3100])
    s["write-4096"] = rec(XS["WRITE"], (z(b"/big") + b"v" * 4096)[:4096])
    s["write-unterminated"] = rec(XS["WRITE"], b"/no-nul-at-all") + rec(XS["READ"], b"/tool")
    s["rm-root"] = rec(XS["RM"], z(b"/")) + rec(XS["RM"], z(b"/no/parent"))
    s["control"] = b"".join(rec(XS["CONTROL"], z(*c)) for c in
                            [(b"help",), (b"check",), (b"quota",), (b"log", b"on"), (b"bogus",)])
    s["no-flush"] = b"".join(rec(XS["WRITE"], z(b"/f/%d" % i) + b"x", flush=False)
                             for i in range(10))
    return s


def oid(n, size):
    """A made-up raw object id: objects are parsed, never looked up."""
    return bytes((n * 37 + i * 11) & 0xFF for i in range(size))


def tree(size, entries):
    """A tree as git writes it: entries (mode, name, n) in git's order."""
    return b"".join(b"%o %s\0" % (mode, name) + oid(n, size) for mode, name, n in entries)


def commit(hexlen, parents=1, extra=b"", message=b"write /local/domain/3/name\n", blank=True):
    lines = [b"tree " + b"ab" * (hexlen // 2)]
    lines += [b"parent " + (b"%02x" % (i + 1)) * (hexlen // 2) for i in range(parents)]
    lines += [b"author dom3 <dom3@xenstore> 1800000000 +0000",
              b"committer vstore <vstore@localhost> 1800000001 -0130"]
    head = b"\n".join(lines) + b"\n" + extra
    return head + (b"\n" + message if blank else b"")


def object_seeds():
    s = {}
    for fmt, kind, size in (("git", 1, 20), ("vs", 0, 32)):
        s[fmt + "-tree"] = bytes([kind]) + tree(size, [
            (0o100644, b".meta", 1), (0o100644, b".value", 2), (0o40000, b"backend", 3),
            (0o120000, b"link", 4), (0o160000, b"module", 5), (0o100755, b"run", 6)])
        # git's order: a tree sorts as if its name ended in '/'
        s[fmt + "-tree-order"] = bytes([kind]) + tree(size, [
            (0o100644, b"a.b", 7), (0o40000, b"a", 8), (0o100644, b"a0", 9)])
        s[fmt + "-tree-empty"] = bytes([kind])
        s[fmt + "-tree-bad-mode"] = bytes([kind]) + tree(size, [(0o100664, b"x", 1)])
        # old git wrote "040000": accepting it would give the tree a second encoding
        s[fmt + "-tree-zero-padded"] = bytes([kind]) + b"0" + tree(size, [(0o40000, b"d", 1)])
        s[fmt + "-tree-truncated"] = bytes([kind]) + tree(size, [(0o100644, b"x", 1)])[:-3]
        s[fmt + "-commit"] = bytes([kind | 2]) + commit(2 * size)
        s[fmt + "-commit-root"] = bytes([kind | 2]) + commit(2 * size, parents=0)
        s[fmt + "-commit-merge"] = bytes([kind | 2]) + commit(
            2 * size, parents=3, message=b"merge\n\nXs-Domain: 0\nXs-Tx: 4\n")
        s[fmt + "-commit-headers"] = bytes([kind | 2]) + commit(
            2 * size, extra=b"encoding ISO-8859-1\ngpgsig -----BEGIN-----\n line\n -----END-----\n")
        s[fmt + "-commit-no-blank"] = bytes([kind | 2]) + commit(2 * size, blank=False)
        s[fmt + "-commit-bad-ident"] = bytes([kind | 2]) + commit(2 * size).replace(b" <", b"<", 1)
    # vs split nodes: "\0vsi" | depth | count (8, BE) | bitmap (4, BE) | 32-byte ids
    def inode(depth, count, bitmap, nids=None):
        n = bin(bitmap).count("1") if nids is None else nids
        return (b"\0vsi" + bytes([depth]) + count.to_bytes(8, "big") + bitmap.to_bytes(4, "big") +
                b"".join(oid(i + 40, 32) for i in range(n)))
    s["vs-inode"] = b"\0" + inode(0, 1000, 0xFFFFFFFF)
    s["vs-inode-sparse"] = b"\0" + inode(2, 33, 0x80000011)
    s["vs-inode-too-few"] = b"\0" + inode(0, 32, 0x3)
    s["vs-inode-short"] = b"\0" + inode(1, 100, 0x7, nids=2)
    s["vs-inode-deep"] = b"\0" + inode(51, 100, 0x1)
    s["git-inode"] = b"\1" + inode(0, 1000, 0x3)
    return s


def write_all(root):
    for sub, seeds in (("wire", wire_seeds()), ("engine", engine_seeds()),
                       ("objects", object_seeds())):
        d = os.path.join(root, sub)
        os.makedirs(d, exist_ok=True)
        for name, data in sorted(seeds.items()):
            with open(os.path.join(d, "seed-" + name), "wb") as f:
                f.write(data)
        print("%s: %d seeds" % (d, len(seeds)))


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    write_all(sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus"))
