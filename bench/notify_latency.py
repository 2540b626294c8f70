"""How soon the daemon takes up a move the CLI queued.

notify_latency.py MAILSHIFT CATALOG N USER...: queue a move of each user to
slice s2 in turn, and time from the moment 'mailshift move' returns until
the move has left 'queued' (the daemon noticed it and started it); each
move is let finish before the next. Prints p50, p90 and max in ms.
On SQLite the daemon looks at PRAGMA data_version once a second; on
PostgreSQL it is woken by NOTIFY.
"""
import statistics
import sqlite3
import subprocess
import sys
import time
ms, db, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
users = sys.argv[4:4+n]
pg = "=" in db
if pg:
    p = subprocess.Popen(["psql", "-XqAt", db], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    def state(i):
        p.stdin.write("SELECT state FROM moves WHERE id = %d;\n\\echo END\n" % i); p.stdin.flush()
        rows = []
        while True:
            l = p.stdout.readline().strip()
            if l == "END": break
            rows.append(l)
        return rows[0] if rows else None
else:
    c = sqlite3.connect(db, timeout=10)
    def state(i):
        r = c.execute("SELECT state FROM moves WHERE id = ?", (i,)).fetchone()
        return r[0] if r else None
lat = []
for k, u in enumerate(users, 1):
    subprocess.run([ms, "move", u, "--to", "s2"], check=True, stdout=subprocess.DEVNULL)
    t0 = time.monotonic()
    while state(k) == "queued":
        time.sleep(0.002)
    lat.append((time.monotonic() - t0) * 1000)
    while state(k) not in ("done", "failed"):
        time.sleep(0.05)
    time.sleep(0.3 + (k % 7) * 0.13)
lat.sort()
print("n=%d p50=%.0f ms p90=%.0f ms max=%.0f ms" % (len(lat), statistics.median(lat), lat[int(len(lat)*0.9)-1], lat[-1]))
