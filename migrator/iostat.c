/* The kernel's I/O counters of slices: see iostat.h. */
#define _GNU_SOURCE
#include "migrator/iostat.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define FILE_MAX (64u << 20)	/* the largest proc file read */
#define MAX_FIELDS 64		/* of a line: more are ignored */

char *
iostat_file(const char *root, const char *rel, char **cause)
{
	char *path, *buf = NULL;
	size_t len = 0, cap = 0;
	ssize_t got;
	int fd, saved;

	path = xasprintf("%s/%s", root, rel);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		goto bad;
	for (;;) {
		if (cap - len < 4096) {
			if (cap >= FILE_MAX) {
				errno = EFBIG;
				goto bad;
			}
			cap = cap ? cap * 2 : 16384;
			buf = xrealloc(buf, cap + 1);
		}
		if ((got = read(fd, buf + len, cap - len)) == -1) {
			if (errno == EINTR)
				continue;
			goto bad;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	close(fd);
	buf[len] = '\0';
	free(path);
	return buf;
bad:
	saved = errno;
	if (fd != -1)
		close(fd);
	fail(cause, "cannot read %s: %s; [capacity] proc names the directory "
	    "whose self/mountinfo, self/mountstats and diskstats are read "
	    "(/proc unless a test says otherwise)", path, strerror(saved));
	free(path);
	free(buf);
	return NULL;
}

/* Undo the kernel's octal escapes (\040 space, \011 tab, \012 newline,
 * \134 backslash) of a mountinfo or mountstats field. */
static char *
unescape(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;

	while (*s != '\0') {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
			    (s[3] - '0'));
			s += 4;
		} else
			*o++ = *s++;
	}
	*o = '\0';
	return out;
}

/*
 * Split line (modified) at runs of spaces and tabs into at most
 * MAX_FIELDS fields; returns how many.
 */
static int
split(char *line, char **f)
{
	int n = 0;

	for (;;) {
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '\0' || n == MAX_FIELDS)
			return n;
		f[n++] = line;
		while (*line != '\0' && *line != ' ' && *line != '\t')
			line++;
		if (*line != '\0')
			*line++ = '\0';
	}
}

/* A whole decimal number, nothing else. */
static int
number(const char *s, uint64_t *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return *end != '\0' || errno != 0 ? -1 : 0;
}

/* "major:minor" */
static int
devnum(const char *s, unsigned *major, unsigned *minor)
{
	const char *colon = strchr(s, ':');
	uint64_t a, b;
	char *head;
	int rc;

	if (colon == NULL)
		return -1;
	head = xstrndup(s, (size_t)(colon - s));
	rc = number(head, &a) == 0 && number(colon + 1, &b) == 0 &&
	    a <= 0xfffffffu && b <= 0xfffffffu ? 0 : -1;
	free(head);
	if (rc == 0) {
		*major = (unsigned)a;
		*minor = (unsigned)b;
	}
	return rc;
}

/* The next line of *text (modified, NUL-terminated), or NULL at the end. */
static char *
next_line(char **text)
{
	char *line = *text, *nl;

	if (*line == '\0')
		return NULL;
	if ((nl = strchr(line, '\n')) != NULL) {
		*nl = '\0';
		*text = nl + 1;
	} else
		*text = line + strlen(line);
	return line;
}

void
iostat_mounts_free(struct iostat_mount *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(m[i].mountpoint);
		free(m[i].fstype);
		free(m[i].source);
	}
	free(m);
}

int
iostat_mountinfo_parse(const char *text, struct iostat_mount **out,
    size_t *n, char **cause)
{
	struct iostat_mount *v = NULL, *m;
	char *copy = xstrdup(text), *p = copy, *line, *f[MAX_FIELDS];
	size_t nv = 0, lineno = 0;
	int nf, dash;

	while ((line = next_line(&p)) != NULL) {
		lineno++;
		if ((nf = split(line, f)) == 0)
			continue;
		/* id parent major:minor root mountpoint options [optional
		 * fields] - fstype source superoptions */
		for (dash = 6; dash < nf && strcmp(f[dash], "-") != 0; dash++)
			;
		v = xrealloc(v, (nv + 1) * sizeof *v);
		m = &v[nv];
		memset(m, 0, sizeof *m);
		if (nf < 7 || dash + 1 >= nf ||
		    devnum(f[2], &m->major, &m->minor) != 0) {
			fail(cause, "mountinfo line %zu is not a mount (id, "
			    "parent, major:minor, root, mount point, options, "
			    "-, type, source)", lineno);
			iostat_mounts_free(v, nv);
			free(copy);
			return -1;
		}
		m->mountpoint = unescape(f[4]);
		m->fstype = unescape(f[dash + 1]);
		m->source = unescape(dash + 2 < nf ? f[dash + 2] : "none");
		nv++;
	}
	free(copy);
	*out = v;
	*n = nv;
	return 0;
}

/* The length of mount point mp when it is path or a parent of it, else
 * -1. */
static long
holds(const char *mp, const char *path)
{
	size_t l = strlen(mp);

	if (l == 1 && mp[0] == '/')
		return path[0] == '/' ? 1 : -1;
	if (strncmp(path, mp, l) != 0 || (path[l] != '\0' && path[l] != '/'))
		return -1;
	return (long)l;
}

const struct iostat_mount *
iostat_mount_find(const struct iostat_mount *m, size_t n, const char *path,
    unsigned major, unsigned minor)
{
	const struct iostat_mount *dev = NULL, *any = NULL;
	long l, devlen = 0, anylen = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if ((l = holds(m[i].mountpoint, path)) < 0)
			continue;
		/* At equal length the later line is the mount on top. */
		if (l >= anylen) {
			any = &m[i];
			anylen = l;
		}
		if (m[i].major == major && m[i].minor == minor && l >= devlen) {
			dev = &m[i];
			devlen = l;
		}
	}
	return dev != NULL ? dev : any;
}

void
iostat_nfs_free(struct iostat_nfs *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].device);
		free(v[i].mountpoint);
		free(v[i].fstype);
	}
	free(v);
}

static int
is_nfs(const char *fstype)
{
	return strcmp(fstype, "nfs") == 0 || strcmp(fstype, "nfs4") == 0;
}

/* "NAME:" followed by numbers: one line of the per-op statistics. */
static int
op_line(char **f, int nf, uint64_t *ops, uint64_t *rtt)
{
	size_t l = strlen(f[0]);
	uint64_t v[8];
	int i;

	if (nf < 9 || l < 2 || f[0][l - 1] != ':')
		return -1;
	for (i = 0; i < 8; i++) {
		if (number(f[i + 1], &v[i]) != 0)
			return -1;
	}
	/* ops transmissions timeouts bytes_sent bytes_recv queue rtt
	 * execute [errors] */
	*ops = v[0];
	*rtt = v[6];
	return 0;
}

int
iostat_mountstats_parse(const char *text, struct iostat_nfs **out,
    size_t *n, char **cause)
{
	struct iostat_nfs *v = NULL, *cur = NULL;
	char *copy = xstrdup(text), *p = copy, *line, *f[MAX_FIELDS];
	size_t nv = 0, lineno = 0;
	uint64_t a, b;
	int nf, in_ops = 0, indented;

	while ((line = next_line(&p)) != NULL) {
		lineno++;
		indented = *line == ' ' || *line == '\t';
		if ((nf = split(line, f)) == 0)
			continue;
		if (!indented) {
			/* "device DEV mounted on DIR with fstype TYPE ..."
			 * or "no device mounted on DIR with fstype TYPE" */
			cur = NULL;
			in_ops = 0;
			if (nf < 8 || (strcmp(f[0], "device") != 0 &&
			    (strcmp(f[0], "no") != 0 ||
			    strcmp(f[1], "device") != 0)) ||
			    strcmp(f[2], "mounted") != 0 ||
			    strcmp(f[3], "on") != 0 ||
			    strcmp(f[5], "with") != 0 ||
			    strcmp(f[6], "fstype") != 0)
				goto bad;
			if (!is_nfs(f[7]))
				continue;
			v = xrealloc(v, (nv + 1) * sizeof *v);
			cur = &v[nv++];
			memset(cur, 0, sizeof *cur);
			cur->device = unescape(strcmp(f[0], "no") == 0 ?
			    "none" : f[1]);
			cur->mountpoint = unescape(f[4]);
			cur->fstype = xstrdup(f[7]);
			continue;
		}
		if (cur == NULL)
			continue;
		if (strcmp(f[0], "age:") == 0 && nf >= 2) {
			if (number(f[1], &cur->age) != 0)
				goto bad;
		} else if (strcmp(f[0], "bytes:") == 0) {
			/* normalread normalwrite directread directwrite
			 * serverread serverwrite readpages writepages */
			if (nf < 7 || number(f[5], &a) != 0 ||
			    number(f[6], &b) != 0)
				goto bad;
			cur->bytes = a + b;
			cur->has_bytes = 1;
		} else if (nf == 2 && strcmp(f[0], "per-op") == 0 &&
		    strcmp(f[1], "statistics") == 0)
			in_ops = 1;
		else if (in_ops && op_line(f, nf, &a, &b) == 0) {
			cur->ops += a;
			cur->rtt_ms += b;
		}
	}
	free(copy);
	*out = v;
	*n = nv;
	return 0;
bad:
	fail(cause, "mountstats line %zu does not parse (expected 'device "
	    "DEV mounted on DIR with fstype TYPE' or an NFS mount's "
	    "counters)", lineno);
	iostat_nfs_free(v, nv);
	free(copy);
	return -1;
}

void
iostat_disks_free(struct iostat_disk *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

int
iostat_diskstats_parse(const char *text, struct iostat_disk **out,
    size_t *n, char **cause)
{
	struct iostat_disk *v = NULL, *d;
	char *copy = xstrdup(text), *p = copy, *line, *f[MAX_FIELDS];
	size_t nv = 0, lineno = 0;
	uint64_t x[7], maj, min;
	int nf, i;

	while ((line = next_line(&p)) != NULL) {
		lineno++;
		if ((nf = split(line, f)) == 0)
			continue;
		/* major minor name, then reads, reads merged, sectors
		 * read, ms reading, writes, writes merged, sectors
		 * written, and more (14, 18 or 20 fields) */
		if (nf < 14 || number(f[0], &maj) != 0 ||
		    number(f[1], &min) != 0 || maj > 0xfffffffu ||
		    min > 0xfffffffu)
			goto bad;
		for (i = 0; i < 7; i++) {
			if (number(f[3 + i], &x[i]) != 0)
				goto bad;
		}
		v = xrealloc(v, (nv + 1) * sizeof *v);
		d = &v[nv++];
		d->major = (unsigned)maj;
		d->minor = (unsigned)min;
		d->name = xstrdup(f[2]);
		d->ops = x[0] + x[4];
		d->bytes = (x[2] + x[6]) * 512;
	}
	free(copy);
	*out = v;
	*n = nv;
	return 0;
bad:
	fail(cause, "diskstats line %zu does not parse (expected major, "
	    "minor, name and at least 11 counters)", lineno);
	iostat_disks_free(v, nv);
	free(copy);
	return -1;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
iostat_proc_open(struct iostat_proc *p, const char *root, char **cause)
{
	char *text, *end;
	double up;

	memset(p, 0, sizeof *p);
	p->root = xstrdup(root);
	if ((text = iostat_file(root, "self/mountinfo", cause)) == NULL)
		goto bad;
	if (iostat_mountinfo_parse(text, &p->mounts, &p->nmounts,
	    cause) != 0) {
		free(text);
		goto bad;
	}
	free(text);
	/* Seconds since boot: a reading from before it starts over. */
	if ((text = iostat_file(root, "uptime", NULL)) != NULL) {
		errno = 0;
		up = strtod(text, &end);
		if (end != text && errno == 0 && up > 0)
			p->boot_ms = now_ms() - (int64_t)(up * 1000);
		free(text);
	}
	return 0;
bad:
	free(p->root);
	p->root = NULL;
	return -1;
}

void
iostat_proc_close(struct iostat_proc *p)
{
	free(p->root);
	iostat_mounts_free(p->mounts, p->nmounts);
	iostat_nfs_free(p->nfs, p->nnfs);
	iostat_disks_free(p->disks, p->ndisks);
	free(p->nfs_error);
	free(p->disks_error);
	memset(p, 0, sizeof *p);
}

/* Read mountstats or diskstats the first time a slice needs it. */
static int
need_nfs(struct iostat_proc *p, char **cause)
{
	char *text;

	if (p->nfs_read == 0) {
		p->nfs_read = -1;
		if ((text = iostat_file(p->root, "self/mountstats",
		    &p->nfs_error)) != NULL) {
			if (iostat_mountstats_parse(text, &p->nfs, &p->nnfs,
			    &p->nfs_error) == 0)
				p->nfs_read = 1;
			free(text);
		}
	}
	if (p->nfs_read < 0)
		return fail(cause, "%s", p->nfs_error);
	return 0;
}

static int
need_disks(struct iostat_proc *p, char **cause)
{
	char *text;

	if (p->disks_read == 0) {
		p->disks_read = -1;
		if ((text = iostat_file(p->root, "diskstats",
		    &p->disks_error)) != NULL) {
			if (iostat_diskstats_parse(text, &p->disks, &p->ndisks,
			    &p->disks_error) == 0)
				p->disks_read = 1;
			free(text);
		}
	}
	if (p->disks_read < 0)
		return fail(cause, "%s", p->disks_error);
	return 0;
}

/* The diskstats line of major:minor, or (name != NULL) of name. */
static const struct iostat_disk *
disk_find(const struct iostat_proc *p, unsigned major, unsigned minor,
    const char *name)
{
	size_t i;

	for (i = 0; i < p->ndisks; i++) {
		if (name != NULL ? strcmp(p->disks[i].name, name) == 0 :
		    p->disks[i].major == major && p->disks[i].minor == minor)
			return &p->disks[i];
	}
	return NULL;
}

/* The block device a major-0 mount names as its source (btrfs:
 * "/dev/sda2"), or NULL. */
static const struct iostat_disk *
source_disk(struct iostat_proc *p, const char *source)
{
	const char *base;
	struct stat sb;

	if (strncmp(source, "/dev/", 5) != 0 || strstr(source, "/..") != NULL)
		return NULL;
	if (need_disks(p, NULL) != 0)
		return NULL;
	if (stat(source, &sb) == 0 && S_ISBLK(sb.st_mode))
		return disk_find(p, major(sb.st_rdev), minor(sb.st_rdev),
		    NULL);
	base = strrchr(source, '/') + 1;
	return *base != '\0' ? disk_find(p, 0, 0, base) : NULL;
}

void
iostat_reading_free(struct iostat_reading *r)
{
	free(r->source);
	memset(r, 0, sizeof *r);
}

int
iostat_read(struct iostat_proc *p, const char *path,
    struct iostat_reading *r, char **cause)
{
	const struct iostat_mount *m;
	const struct iostat_disk *d = NULL;
	struct stat sb;
	size_t i;

	memset(r, 0, sizeof *r);
	if (lstat(path, &sb) != 0)
		return fail(cause, "%s: %s; is the slice mounted?", path,
		    strerror(errno));
	if ((m = iostat_mount_find(p->mounts, p->nmounts, path,
	    major(sb.st_dev), minor(sb.st_dev))) == NULL)
		return fail(cause, "no mount in %s/self/mountinfo holds %s",
		    p->root, path);
	if (is_nfs(m->fstype)) {
		if (need_nfs(p, cause) != 0)
			return -1;
		for (i = 0; i < p->nnfs; i++) {
			if (strcmp(p->nfs[i].mountpoint, m->mountpoint) == 0)
				break;
		}
		if (i == p->nnfs)
			return fail(cause, "the %s mount of %s on %s is not in "
			    "%s/self/mountstats", m->fstype, m->source,
			    m->mountpoint, p->root);
		r->kind = IOSTAT_NFS;
		r->source = xasprintf("mountstats:%s", p->nfs[i].device);
		r->major = m->major;
		r->minor = m->minor;
		r->ops = p->nfs[i].ops;
		r->bytes = p->nfs[i].bytes;
		r->rtt_ms = p->nfs[i].rtt_ms;
		r->age = p->nfs[i].age;
		return 0;
	}
	if (m->major != 0) {
		if (need_disks(p, cause) != 0)
			return -1;
		if ((d = disk_find(p, m->major, m->minor, NULL)) == NULL)
			return fail(cause, "device %u:%u (%s %s on %s) is not "
			    "in %s/diskstats", m->major, m->minor, m->fstype,
			    m->source, m->mountpoint, p->root);
	} else
		d = source_disk(p, m->source);
	if (d == NULL) {
		r->kind = IOSTAT_NONE;
		r->source = xasprintf("none:%s", m->fstype);
		return 0;
	}
	r->kind = IOSTAT_DISK;
	r->source = xasprintf("diskstats:%s", d->name);
	r->major = d->major;
	r->minor = d->minor;
	r->ops = d->ops;
	r->bytes = d->bytes;
	return 0;
}
