#!/usr/bin/python3
"""
slowfs: a passthrough FUSE filesystem with an adjustable delay, to make a
slice slow or hang from outside mailshift, the way a half-failed disk or
a dead NFS server does.

    slowfs.py ROOT MOUNTPOINT CONTROL

Every operation on MOUNTPOINT is done on ROOT after sleeping for the
delay CONTROL holds: a number of milliseconds ("0", "2", "10.5"), or
"hang" (every operation blocks until CONTROL says otherwise). CONTROL is
read again at most every 50 ms, so a change takes effect at once.
Runs in the foreground, multithreaded; unmount with fusermount -u.
Needs Debian's python3-fusepy, for /usr/bin/python3.
"""
import errno
import os
import sys
import threading
import time

from fusepy import FUSE, FuseOSError, Operations


class Control:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.read_at = 0.0
        self.value = 0.0          # seconds, or None for a hang

    def current(self):
        now = time.monotonic()
        with self.lock:
            if now - self.read_at >= 0.05:
                self.read_at = now
                try:
                    with open(self.path) as f:
                        text = f.read().strip()
                except OSError:
                    text = "0"
                if text == "hang":
                    self.value = None
                else:
                    try:
                        self.value = max(0.0, float(text or "0")) / 1000
                    except ValueError:
                        self.value = 0.0
            return self.value

    def wait(self):
        while True:
            d = self.current()
            if d is not None:
                if d > 0:
                    time.sleep(d)
                return
            time.sleep(0.05)


# What utimensat(2) takes for "now" and "leave as it is" in tv_nsec; the
# high-level FUSE library passes them on with tv_sec 0.
UTIME_NOW = (1 << 30) - 1
UTIME_OMIT = (1 << 30) - 2


class SlowFS(Operations):
    # Times in nanoseconds both ways: float seconds lose the last digits,
    # and a copy's mtime would no longer match its source's.
    use_ns = True

    def __init__(self, root, control):
        self.root = os.path.realpath(root)
        self.ctl = control

    def _p(self, path):
        self.ctl.wait()
        return os.path.join(self.root, path.lstrip("/"))

    def _call(self, fn, *a, **kw):
        try:
            return fn(*a, **kw)
        except OSError as e:
            raise FuseOSError(e.errno or errno.EIO)

    def access(self, path, mode):
        if not os.access(self._p(path), mode):
            raise FuseOSError(errno.EACCES)

    def chmod(self, path, mode):
        return self._call(os.chmod, self._p(path), mode)

    def chown(self, path, uid, gid):
        return self._call(os.lchown, self._p(path), uid, gid)

    def getattr(self, path, fh=None):
        st = self._call(os.lstat, self._p(path))
        attrs = {k: getattr(st, k) for k in (
            "st_gid", "st_mode", "st_nlink", "st_size", "st_uid", "st_ino")}
        for k in ("st_atime", "st_mtime", "st_ctime"):
            attrs[k] = getattr(st, k + "_ns")
        return attrs

    def readdir(self, path, fh):
        names = self._call(os.listdir, self._p(path))
        return [".", ".."] + names

    def readlink(self, path):
        return self._call(os.readlink, self._p(path))

    def mknod(self, path, mode, dev):
        return self._call(os.mknod, self._p(path), mode, dev)

    def rmdir(self, path):
        return self._call(os.rmdir, self._p(path))

    def mkdir(self, path, mode):
        return self._call(os.mkdir, self._p(path), mode)

    def statfs(self, path):
        st = self._call(os.statvfs, self._p(path))
        return {k: getattr(st, k) for k in (
            "f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail",
            "f_ffree", "f_files", "f_flag", "f_frsize", "f_namemax")}

    def unlink(self, path):
        return self._call(os.unlink, self._p(path))

    def symlink(self, name, target):
        return self._call(os.symlink, target, self._p(name))

    def rename(self, old, new):
        return self._call(os.rename, self._p(old), self._p(new))

    def link(self, target, name):
        return self._call(os.link, self._p(name), self._p(target))

    def utimens(self, path, times=None):
        p = self._p(path)
        if times is None:
            return self._call(os.utime, p, None, follow_symlinks=False)
        st = self._call(os.lstat, p)
        now = time.time_ns()
        a, m = times
        a = now if a == UTIME_NOW else st.st_atime_ns if a == UTIME_OMIT else a
        m = now if m == UTIME_NOW else st.st_mtime_ns if m == UTIME_OMIT else m
        return self._call(os.utime, p, None, ns=(a, m), follow_symlinks=False)

    def open(self, path, flags):
        return self._call(os.open, self._p(path), flags | os.O_NOFOLLOW)

    def create(self, path, mode, fi=None):
        return self._call(os.open, self._p(path),
                          os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)

    def read(self, path, length, offset, fh):
        self.ctl.wait()
        return self._call(os.pread, fh, length, offset)

    def write(self, path, buf, offset, fh):
        self.ctl.wait()
        return self._call(os.pwrite, fh, buf, offset)

    def truncate(self, path, length, fh=None):
        if fh is not None:
            self.ctl.wait()
            return self._call(os.ftruncate, fh, length)
        with open(self._p(path), "r+") as f:
            f.truncate(length)

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        return self._call(os.close, fh)

    def fsync(self, path, datasync, fh):
        self.ctl.wait()
        return self._call(os.fdatasync if datasync else os.fsync, fh)


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: slowfs.py ROOT MOUNTPOINT CONTROL")
    root, mnt, ctl = sys.argv[1:]
    FUSE(SlowFS(root, Control(ctl)), mnt, foreground=True, nothreads=False,
         allow_other=False, default_permissions=False, attr_timeout=0,
         entry_timeout=0)


if __name__ == "__main__":
    main()
