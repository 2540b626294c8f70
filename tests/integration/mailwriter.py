#!/usr/bin/env python3
"""Act like a mail server on one Maildir until the account is locked.

mailwriter.py MAILDIR CATALOG USER SECONDS

Delivers through tmp/ into new/, moves new/ to cur/, changes flags by
rename, expunges, rewrites dovecot-uidlist through a temporary file,
appends to dovecot.index.log in place, in INBOX and in folders. Before
every operation it asks the catalog's route view whether the account is
locked, and stops when it is (as an access server would), or after
SECONDS. Prints the number of operations of each kind.
"""
import os
import random
import sqlite3
import subprocess
import sys
import time

box, catalog, user, limit = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
rnd = random.Random(7)
counts = {"deliver": 0, "seen": 0, "flag": 0, "expunge": 0, "uidlist": 0,
          "index": 0}
folders = [""] + [f for f in os.listdir(box) if f.startswith(".") and
                  os.path.isdir(os.path.join(box, f, "cur"))]
seq = 0

if "=" in catalog or catalog.startswith("postgres"):
    # PostgreSQL: one psql session for the whole run, asked through a
    # pipe (the user name is quoted as an SQL literal).
    psql = subprocess.Popen(["psql", "-XqAt", catalog], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, bufsize=1)
    literal = "'" + user.replace("'", "''") + "'"

    def locked():
        psql.stdin.write('SELECT locked FROM route WHERE "user" = %s;\n'
                         "\\echo END\n" % literal)
        psql.stdin.flush()
        rows = []
        while True:
            line = psql.stdout.readline().strip()
            if line == "END" or line == "":
                break
            rows.append(line)
        return not rows or rows[0] == "1"
else:
    db = sqlite3.connect(catalog, timeout=10)

    def locked():
        row = db.execute("SELECT locked FROM route WHERE user = ?",
                         (user,)).fetchone()
        return row is None or row[0] == 1


def pick(folder, sub):
    d = os.path.join(box, folder, sub)
    names = [n for n in os.listdir(d) if not n.startswith(".")]
    return (d, rnd.choice(names)) if names else (d, None)


start = time.time()
while time.time() - start < limit and not locked():
    seq += 1
    folder = rnd.choice(folders)
    op = rnd.choice(["deliver", "deliver", "seen", "flag", "flag",
                     "expunge", "uidlist", "index"])
    if op == "deliver":
        name = "%d.M%dP%d.writer" % (int(time.time()), seq, os.getpid())
        tmp = os.path.join(box, folder, "tmp", name)
        with open(tmp, "w") as f:
            f.write("Message-ID: <%d@writer>\n\n%s\n" % (seq, "x" * rnd.randint(10, 5000)))
        os.rename(tmp, os.path.join(box, folder, "new", name))
    elif op == "seen":
        d, n = pick(folder, "new")
        if n is None:
            continue
        os.rename(os.path.join(d, n), os.path.join(box, folder, "cur", n + ":2,S"))
    elif op == "flag":
        d, n = pick(folder, "cur")
        if n is None or ":2," not in n:
            continue
        base, flags = n.split(":2,", 1)
        flags = "".join(sorted(set(flags) ^ {rnd.choice("FRST")}))
        os.rename(os.path.join(d, n), os.path.join(d, base + ":2," + flags))
    elif op == "expunge":
        d, n = pick(folder, "cur")
        if n is None:
            continue
        os.unlink(os.path.join(d, n))
    elif op == "uidlist":
        path = os.path.join(box, folder, "dovecot-uidlist")
        with open(path + ".lock", "w") as f:
            f.write("3 V1 N%d\n" % seq)
        os.rename(path + ".lock", path)
    else:
        with open(os.path.join(box, "dovecot.index.log"), "a") as f:
            f.write("log %d\n" % seq)
    counts[op] += 1
    time.sleep(rnd.uniform(0.002, 0.01))

print(" ".join("%s=%d" % kv for kv in sorted(counts.items())),
      "stopped=%s" % ("locked" if locked() else "timeout"))
