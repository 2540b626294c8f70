"""A syslog receiver for the tests: binds a Unix datagram socket at PATH
and appends every message to OUT, one per line, until killed."""
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
if os.path.exists(path):
    os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
with open(out, "a") as f:
    f.write("ready\n")
    f.flush()
    while True:
        data = s.recv(65536)
        f.write(data.decode(errors="replace").rstrip("\n\0") + "\n")
        f.flush()
