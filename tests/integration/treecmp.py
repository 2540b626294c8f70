#!/usr/bin/env python3
"""Compare two directory trees exactly, as a move must leave them.

treecmp.py A B [--no-owner] [--no-root-times]

Names, types, sizes, permission bits, nanosecond mtimes, owners and
symlink targets of every entry, and the contents of every file (SHA-256).
Symlinks are never followed. Exits 0 when equal, 1 with the first
difference on stderr.
"""
import hashlib
import os
import stat
import sys


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def describe(root, rel, owner, times):
    path = os.path.join(root, rel) if rel else root
    st = os.lstat(path)
    d = {"type": stat.S_IFMT(st.st_mode)}
    if not stat.S_ISLNK(st.st_mode):
        d["mode"] = stat.S_IMODE(st.st_mode)
    if times:
        d["mtime_ns"] = st.st_mtime_ns
    if owner:
        d["owner"] = (st.st_uid, st.st_gid)
    if stat.S_ISREG(st.st_mode):
        d["size"] = st.st_size
        d["sha256"] = digest(path)
    elif stat.S_ISLNK(st.st_mode):
        d["target"] = os.readlink(path)
    return d


def walk(root, owner, root_times):
    out = {"": describe(root, "", owner, root_times)}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            out[rel] = describe(root, rel, owner, True)
    return out


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    owner = "--no-owner" not in sys.argv
    root_times = "--no-root-times" not in sys.argv
    a, b = walk(args[0], owner, root_times), walk(args[1], owner, root_times)
    for rel in sorted(set(a) | set(b)):
        if rel not in b:
            sys.exit("only in %s: %r" % (args[0], rel))
        if rel not in a:
            sys.exit("only in %s: %r" % (args[1], rel))
        if a[rel] != b[rel]:
            sys.exit("%r differs: %s vs %s" % (rel or ".", a[rel], b[rel]))
    print("%d entries identical" % len(a))


main()
