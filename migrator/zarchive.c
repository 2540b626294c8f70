/* Archives of retired mailboxes with libarchive and zstd: see archive.h. */
#define _GNU_SOURCE
#include "migrator/zarchive.h"
#include "migrator/tree.h"
#include "common/util.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct writer {
	struct archive		*a;
	struct archive_entry	*e;
	uint64_t		 files;
	uint64_t		 bytes;
	char			 buf[65536];
};

static int
cmp_names(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static void
names_free(char **names, size_t n)
{
	while (n > 0)
		free(names[--n]);
	free(names);
}

/* Sorted entry names of a directory (stable archives). */
static int
names_of(int fd, char ***names, size_t *n)
{
	struct dirent *de;
	DIR *d;
	int dfd = openat(fd, ".", TREE_DIR_FLAGS);

	*names = NULL;
	*n = 0;
	if (dfd < 0 || (d = fdopendir(dfd)) == NULL) {
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		*names = xrealloc(*names, (*n + 1) * sizeof **names);
		(*names)[(*n)++] = xstrdup(de->d_name);
	}
	if (errno != 0) {
		closedir(d);
		names_free(*names, *n);
		*names = NULL;
		*n = 0;
		return -1;
	}
	closedir(d);
	if (*n > 1)
		qsort(*names, *n, sizeof **names, cmp_names);
	return 0;
}


/* Add parent/name (as path) and, for a directory, everything below it. */
static int
add_entry(struct writer *w, int parent, const char *name, const char *path,
    char **cause)
{
	struct stat st;
	char link[4096], *sub, **names;
	size_t n, i;
	ssize_t r;
	int fd, rc = 0;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return fail(cause, "archive: %s: %s", path, strerror(errno));
	archive_entry_clear(w->e);
	archive_entry_copy_pathname(w->e, path);
	archive_entry_copy_stat(w->e, &st);
	if (S_ISLNK(st.st_mode)) {
		if ((r = readlinkat(parent, name, link, sizeof link - 1)) < 0)
			return fail(cause, "archive: %s: %s", path,
			    strerror(errno));
		link[r] = '\0';
		archive_entry_copy_symlink(w->e, link);
	} else if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return fail(cause, "archive: %s: not a file, directory or "
		    "symlink", path);
	if (archive_write_header(w->a, w->e) != ARCHIVE_OK)
		return fail(cause, "archive: %s: %s", path,
		    archive_error_string(w->a));
	if (S_ISREG(st.st_mode)) {
		if ((fd = openat(parent, name, O_RDONLY | O_NOFOLLOW |
		    O_CLOEXEC)) < 0)
			return fail(cause, "archive: %s: %s", path,
			    strerror(errno));
		while ((r = read(fd, w->buf, sizeof w->buf)) > 0) {
			if (archive_write_data(w->a, w->buf, (size_t)r) != r) {
				close(fd);
				return fail(cause, "archive: %s: %s", path,
				    archive_error_string(w->a));
			}
		}
		close(fd);
		if (r < 0)
			return fail(cause, "archive: %s: %s", path,
			    strerror(errno));
		w->files++;
		w->bytes += (uint64_t)st.st_size;
	}
	if (!S_ISDIR(st.st_mode))
		return 0;
	if ((fd = openat(parent, name, TREE_DIR_FLAGS)) < 0)
		return fail(cause, "archive: %s: %s", path, strerror(errno));
	if (names_of(fd, &names, &n) != 0) {
		close(fd);
		return fail(cause, "archive: cannot list %s", path);
	}
	for (i = 0; i < n && rc == 0; i++) {
		sub = xasprintf("%s/%s", path, names[i]);
		rc = add_entry(w, fd, names[i], sub, cause);
		free(sub);
	}
	names_free(names, n);
	close(fd);
	return rc;
}

int
zarchive_tree(int parent, const char *name, const char *out,
    uint64_t *files, uint64_t *bytes, char **cause)
{
	struct writer *w = xcalloc(1, sizeof *w);
	char *tmp = xasprintf("%s.tmp", out);
	int rc = -1, fd;

	w->a = archive_write_new();
	w->e = archive_entry_new();
	/* Names are bytes (Dovecot writes UTF-8 folder names): no
	 * conversion through the locale's character set. */
	if (archive_write_set_format_pax(w->a) != ARCHIVE_OK ||
	    archive_write_set_format_option(w->a, "pax", "hdrcharset",
	    "BINARY") != ARCHIVE_OK ||
	    archive_write_add_filter_zstd(w->a) != ARCHIVE_OK) {
		fail(cause, "archive: zstd or pax not available: %s",
		    archive_error_string(w->a));
		goto out;
	}
	if (archive_write_open_filename(w->a, tmp) != ARCHIVE_OK) {
		fail(cause, "archive: cannot write %s: %s", tmp,
		    archive_error_string(w->a));
		goto out;
	}
	if (add_entry(w, parent, name, name, cause) != 0) {
		archive_write_close(w->a);
		unlink(tmp);
		goto out;
	}
	if (archive_write_close(w->a) != ARCHIVE_OK) {
		fail(cause, "archive: %s: %s", tmp,
		    archive_error_string(w->a));
		unlink(tmp);
		goto out;
	}
	if ((fd = open(tmp, O_RDONLY | O_CLOEXEC)) < 0 || fsync(fd) != 0 ||
	    rename(tmp, out) != 0) {
		fail(cause, "archive: cannot finish %s: %s", out,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (files != NULL)
		*files = w->files;
	if (bytes != NULL)
		*bytes = w->bytes;
	rc = 0;
out:
	archive_entry_free(w->e);
	archive_write_free(w->a);
	free(tmp);
	free(w);
	return rc;
}

/* Compare an archived file's data with the file on disk. */
static int
same_data(struct archive *a, int fd)
{
	char x[65536], y[65536];
	la_ssize_t n;
	ssize_t m, got;

	while ((n = archive_read_data(a, x, sizeof x)) > 0) {
		for (got = 0; got < n; got += m) {
			if ((m = read(fd, y + got, (size_t)(n - got))) <= 0)
				return 0;
		}
		if (memcmp(x, y, (size_t)n) != 0)
			return 0;
	}
	return n == 0 && read(fd, y, 1) == 0;
}

/* Count every entry (the tree itself included) below parent/name. */
static uint64_t
count_entries(int parent, const char *name)
{
	struct stat st;
	char **names;
	size_t n, i;
	uint64_t c = 1;
	int fd;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return 0;
	if (!S_ISDIR(st.st_mode))
		return 1;
	if ((fd = openat(parent, name, TREE_DIR_FLAGS)) < 0)
		return 0;
	if (names_of(fd, &names, &n) == 0) {
		for (i = 0; i < n; i++)
			c += count_entries(fd, names[i]);
		names_free(names, n);
	}
	close(fd);
	return c;
}

int
zarchive_verify(const char *path, int parent, const char *name, char **cause)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	const char *p;
	char *dir, *base;
	struct stat st;
	size_t nlen = strlen(name);
	uint64_t seen = 0, want;
	int rc = -1, r, fd, pfd;

	archive_read_support_filter_zstd(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
		fail(cause, "archive: cannot read %s: %s", path,
		    archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		p = archive_entry_pathname(e);
		if (strncmp(p, name, nlen) != 0 || (p[nlen] != '\0' &&
		    p[nlen] != '/')) {
			fail(cause, "archive %s: unexpected entry %s", path, p);
			goto out;
		}
		/* Stat the original through its parent, never following. */
		dir = xstrdup(p);
		while (strlen(dir) > 1 && dir[strlen(dir) - 1] == '/')
			dir[strlen(dir) - 1] = '\0';
		base = strrchr(dir, '/');
		if (base == NULL) {
			pfd = dup(parent);
			base = dir;
		} else {
			*base++ = '\0';
			pfd = tree_open_below(parent, dir, NULL);
		}
		if (pfd < 0 || fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) !=
		    0) {
			fail(cause, "archive %s: %s is not on disk", path, p);
			if (pfd >= 0)
				close(pfd);
			free(dir);
			goto out;
		}
		if ((st.st_mode & S_IFMT) != archive_entry_filetype(e) ||
		    st.st_mtim.tv_sec != archive_entry_mtime(e) ||
		    st.st_mtim.tv_nsec != archive_entry_mtime_nsec(e) ||
		    (S_ISREG(st.st_mode) && st.st_size !=
		    archive_entry_size(e)) || (!S_ISLNK(st.st_mode) &&
		    (st.st_mode & 07777) != (archive_entry_perm(e) & 07777))) {
			fail(cause, "archive %s: %s differs from the mailbox",
			    path, p);
			close(pfd);
			free(dir);
			goto out;
		}
		if (S_ISLNK(st.st_mode)) {
			char target[4096];
			const char *want = archive_entry_symlink(e);
			ssize_t n = readlinkat(pfd, base, target,
			    sizeof target - 1);

			if (n >= 0)
				target[n] = '\0';
			if (n < 0 || want == NULL || strcmp(target, want) != 0) {
				fail(cause, "archive %s: link %s differs "
				    "(points elsewhere)", path, p);
				close(pfd);
				free(dir);
				goto out;
			}
		}
		if (S_ISREG(st.st_mode)) {
			fd = openat(pfd, base, O_RDONLY | O_NOFOLLOW |
			    O_CLOEXEC);
			if (fd < 0 || !same_data(a, fd)) {
				fail(cause, "archive %s: content of %s differs",
				    path, p);
				if (fd >= 0)
					close(fd);
				close(pfd);
				free(dir);
				goto out;
			}
			close(fd);
		}
		close(pfd);
		free(dir);
		seen++;
	}
	if (r != ARCHIVE_EOF) {
		fail(cause, "archive %s: %s", path, archive_error_string(a));
		goto out;
	}
	/* Every entry of the tree must be in the archive. */
	if ((want = count_entries(parent, name)) != seen) {
		fail(cause, "archive %s holds %llu entries, the mailbox %llu",
		    path, (unsigned long long)seen, (unsigned long long)want);
		goto out;
	}
	rc = 0;
out:
	archive_read_free(a);
	return rc;
}

int
zarchive_extract(const char *path, const char *dest, const char *as_name,
    char **cause)
{
	struct archive *a = archive_read_new();
	struct archive *w = archive_write_disk_new();
	struct archive_entry *e;
	const char *p, *slash;
	char *out;
	int rc = -1, r, cwd = -1, flags = ARCHIVE_EXTRACT_TIME |
	    ARCHIVE_EXTRACT_PERM |
	    ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
	    ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;

	if (geteuid() == 0)
		flags |= ARCHIVE_EXTRACT_OWNER;
	archive_write_disk_set_options(w, flags);
	archive_read_support_filter_zstd(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
		fail(cause, "cannot read archive %s: %s", path,
		    archive_error_string(a));
		goto out;
	}
	/* Entries are written relative to dest, never as absolute paths. */
	if ((cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    chdir(dest) != 0) {
		fail(cause, "cannot enter %s: %s", dest, strerror(errno));
		goto out;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		p = archive_entry_pathname(e);
		slash = strchr(p, '/');
		out = xasprintf("%s%s", as_name, slash ? slash : "");
		archive_entry_copy_pathname(e, out);
		free(out);
		if (archive_write_header(w, e) != ARCHIVE_OK) {
			fail(cause, "cannot restore %s: %s", p,
			    archive_error_string(w));
			goto out;
		}
		if (archive_entry_size(e) > 0) {
			const void *buf;
			size_t size;
			la_int64_t off;

			while ((r = archive_read_data_block(a, &buf, &size,
			    &off)) == ARCHIVE_OK) {
				if (archive_write_data_block(w, buf, size, off)
				    != ARCHIVE_OK) {
					fail(cause, "cannot restore %s: %s", p,
					    archive_error_string(w));
					goto out;
				}
			}
			if (r != ARCHIVE_EOF) {
				fail(cause, "archive %s: %s", path,
				    archive_error_string(a));
				goto out;
			}
		}
		if (archive_write_finish_entry(w) != ARCHIVE_OK) {
			fail(cause, "cannot restore %s: %s", p,
			    archive_error_string(w));
			goto out;
		}
	}
	if (r != ARCHIVE_EOF) {
		fail(cause, "archive %s: %s", path, archive_error_string(a));
		goto out;
	}
	if (archive_write_close(w) != ARCHIVE_OK) {
		fail(cause, "cannot finish restoring: %s",
		    archive_error_string(w));
		goto out;
	}
	rc = 0;
out:
	archive_read_free(a);
	archive_write_free(w);
	if (cwd >= 0) {
		if (fchdir(cwd) != 0 && rc == 0)
			rc = fail(cause, "cannot return to the working "
			    "directory: %s", strerror(errno));
		close(cwd);
	}
	return rc;
}
