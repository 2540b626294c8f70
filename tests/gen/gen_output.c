/* The output buffer of maildir-gen: one file written at a time. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tests/gen/gen.h"

struct outbuf out;

/* Write out the buffered bytes of the file being written. */
void
out_flush(void)
{
	size_t off = 0;
	ssize_t n;

	while (off < out.len) {
		n = write(out.fd, out.buf + off, out.len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("write %s/%s", out.dir, out.name);
		}
		off += (size_t)n;
	}
	out.len = 0;
}

/* Start writing file name (mode 0600) in directory dirfd, named dir. */
void
out_open(int dirfd, const char *dir, const char *name)
{
	out.dir = dir;
	out.name = name;
	out.len = 0;
	out.fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (out.fd < 0)
		die("%s/%s", dir, name);
}

/* Append n bytes to the file being written. */
void
out_put(const void *p, size_t n)
{
	const char *s = p;
	size_t k;

	while (n > 0) {
		if (out.len == IOBUF_SIZE)
			out_flush();
		k = IOBUF_SIZE - out.len;
		if (k > n)
			k = n;
		memcpy(out.buf + out.len, s, k);
		out.len += k;
		s += k;
		n -= k;
	}
}

/* Append a formatted string to the file being written. */
void
out_printf(const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp)
		diex("internal error: line too long for %s", out.name);
	out_put(tmp, (size_t)n);
}

/* Finish the file being written; set its times to *ts unless NULL. */
void
out_close(const struct timespec *ts)
{
	struct timespec tv[2];

	out_flush();
	if (ts != NULL) {
		tv[0] = tv[1] = *ts;
		if (futimens(out.fd, tv) != 0)
			die("set times of %s/%s", out.dir, out.name);
	}
	if (close(out.fd) != 0)
		die("close %s/%s", out.dir, out.name);
	out.fd = -1;
}

/* Write a whole small file at once. */
void
write_file(int dirfd, const char *dir, const char *name, const void *p,
    size_t n, const struct timespec *ts)
{
	out_open(dirfd, dir, name);
	out_put(p, n);
	out_close(ts);
}

/* Set the times of the directory open at fd. */
void
set_dir_time(int fd, const char *path, const struct timespec *ts)
{
	struct timespec tv[2];

	tv[0] = tv[1] = *ts;
	if (futimens(fd, tv) != 0)
		die("set times of %s", path);
}
