/*
 * Unit tests of the load counters (migrator/iostat.c) and their
 * recording (migrator/iostat_record.c, state/load.c): the parsers on
 * made-up mountinfo, mountstats and diskstats and on this machine's own;
 * a fake proc tree with an NFS slice, local partitions, a shared device,
 * a tmpfs, an escaped path and a btrfs-like mount; rounds on a real
 * temporary catalog (either engine): shares by activity and equal ones
 * that add up, counters that start over, a second writer, the slices
 * that are not read.
 */
#define _GNU_SOURCE
#include "common/util.h"
#include "testutil.h"

#include "migrator/iostat.h"
#include "migrator/iostat_record.h"
#include "state/account.h"
#include "state/load.h"
#include "state/slice.h"
#include "state/state.h"

#include "catalogfix.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

/* The parsers' cause, checked and freed. */
#define assert_cause(call, text) assert_fails(call, text)

static const char MOUNTINFO[] =
    "22 27 0:21 / /proc rw,relatime shared:5 - proc proc rw\n"
    "27 1 8:1 / / rw,relatime shared:1 master:2 - ext4 /dev/sda1 rw\n"
    "\n"
    "30 27 8:2 / /srv/mail rw - xfs /dev/sda2 rw\n"
    "31 30 0:50 / /srv/mail/nfs rw - nfs4 srv:/export rw,vers=4.2\n"
    "32 27 8:3 /sub /srv/mail\\040two rw - ext4 /dev/sda3 rw\n"
    "33 30 8:4 / /srv/mail rw - ext4 /dev/sdb rw\n"
    "34 27 0:51 / /srv/tmp rw - tmpfs tmpfs rw\n";

static void
test_mountinfo(void **state)
{
	struct iostat_mount *m;
	const struct iostat_mount *f;
	size_t n;

	(void)state;
	assert_ok(iostat_mountinfo_parse(MOUNTINFO, &m, &n, &cause));
	assert_int_equal(n, 7);
	assert_int_equal(m[1].major, 8);
	assert_int_equal(m[1].minor, 1);
	assert_string_equal(m[1].mountpoint, "/");
	assert_string_equal(m[1].fstype, "ext4");
	assert_string_equal(m[1].source, "/dev/sda1");
	assert_string_equal(m[3].fstype, "nfs4");
	assert_string_equal(m[3].source, "srv:/export");
	assert_string_equal(m[4].mountpoint, "/srv/mail two");
	/* By device and longest mount point. */
	f = iostat_mount_find(m, n, "/srv/mail/nfs/s1", 0, 50);
	assert_string_equal(f->mountpoint, "/srv/mail/nfs");
	f = iostat_mount_find(m, n, "/srv/mail two/s1", 8, 3);
	assert_int_equal(f->minor, 3);
	/* Stacked on /srv/mail: the device says which; the top one when
	 * the device is neither's. */
	f = iostat_mount_find(m, n, "/srv/mail/s1", 8, 2);
	assert_int_equal(f->minor, 2);
	f = iostat_mount_find(m, n, "/srv/mail/s1", 8, 4);
	assert_int_equal(f->minor, 4);
	f = iostat_mount_find(m, n, "/srv/mail/s1", 0, 99);
	assert_int_equal(f->minor, 4);
	/* A name that only starts like a mount point is not below it. */
	f = iostat_mount_find(m, n, "/srv/mailx", 8, 1);
	assert_string_equal(f->mountpoint, "/");
	f = iostat_mount_find(m, n, "/srv/mail", 8, 4);
	assert_int_equal(f->minor, 4);
	/* A device below no mount of its own: by path alone. */
	f = iostat_mount_find(m, n, "/srv/tmp/x", 0, 77);
	assert_string_equal(f->fstype, "tmpfs");
	assert_null(iostat_mount_find(m, 1, "/srv/x", 8, 1));
	iostat_mounts_free(m, n);

	assert_cause(iostat_mountinfo_parse("27 1 8:1 / / rw - ext4 /dev/a "
	    "rw\n28 27 8:1 / /x rw ext4\n", &m, &n, &cause), "line 2");
	assert_cause(iostat_mountinfo_parse("27 1 8-1 / / rw - ext4 x rw\n",
	    &m, &n, &cause), "line 1");
}

static const char MOUNTSTATS[] =
    "device proc mounted on /proc with fstype proc\n"
    "device srv:/export mounted on /srv/mail/nfs with fstype nfs4 "
    "statvers=1.1\n"
    "\topts:\trw,vers=4.2,rsize=1048576,wsize=1048576\n"
    "\tage:\t3600\n"
    "\tcaps:\tcaps=0x3ffdf,wtmult=512,dtsize=32768,bsize=0,namlen=255\n"
    "\tevents:\t1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 "
    "23 24 25 26 27\n"
    "\tbytes:\t1000 2000 30 40 5000 6000 7 8\n"
    "\tRPC iostats version: 1.1  p/v: 100003/4 (nfs)\n"
    "\txprt:\ttcp 0 1 2 0 11 12345 12345 0 12345 0 2 0 0\n"
    "\tper-op statistics\n"
    "\t        NULL: 1 1 0 44 24 0 1 1 0\n"
    "\t        READ: 10 10 0 1600 41000 2 30 35 0\n"
    "\t       WRITE: 20 20 0 62000 2400 5 70 80 0\n"
    "\t      GETATTR: 100 100 0 19000 26000 0 50 60 0\n"
    "\t      LOOKUP: 0 0 0 0 0 0 0 0 0\n"
    "\n"
    "no device mounted on /mnt/x with fstype tmpfs\n"
    "device old\\040srv:/a\\040b mounted on /srv/old\\040nfs with fstype nfs "
    "statvers=1.0\n"
    "\tage:\t12\n"
    "\tper-op statistics\n"
    "\t        READ: 3 3 0 0 0 0 9 9\n";

static void
test_mountstats(void **state)
{
	struct iostat_nfs *v;
	size_t n;

	(void)state;
	assert_ok(iostat_mountstats_parse(MOUNTSTATS, &v, &n, &cause));
	assert_int_equal(n, 2);
	assert_string_equal(v[0].device, "srv:/export");
	assert_string_equal(v[0].mountpoint, "/srv/mail/nfs");
	assert_string_equal(v[0].fstype, "nfs4");
	assert_int_equal(v[0].age, 3600);
	assert_int_equal(v[0].ops, 131);
	assert_int_equal(v[0].rtt_ms, 151);
	assert_int_equal(v[0].bytes, 11000);	/* server read + written */
	assert_true(v[0].has_bytes);
	assert_string_equal(v[1].device, "old srv:/a b");
	assert_string_equal(v[1].mountpoint, "/srv/old nfs");
	assert_int_equal(v[1].ops, 3);
	assert_int_equal(v[1].bytes, 0);
	assert_false(v[1].has_bytes);
	iostat_nfs_free(v, n);

	/* No NFS at all: nothing, and no error. */
	assert_ok(iostat_mountstats_parse("device proc mounted on /proc with "
	    "fstype proc\n", &v, &n, &cause));
	assert_int_equal(n, 0);
	assert_null(v);
	assert_cause(iostat_mountstats_parse("device a mounted at /x\n", &v,
	    &n, &cause), "line 1");
	assert_cause(iostat_mountstats_parse("device a mounted on /x with "
	    "fstype nfs\n\tbytes:\t1 2 3\n", &v, &n, &cause), "line 2");
}

static void
test_diskstats(void **state)
{
	struct iostat_disk *d;
	size_t n;

	(void)state;
	assert_ok(iostat_diskstats_parse(
	    "   8       0 sda 100 5 2000 50 40 3 800 30 0 70 80\n"
	    "   8       1 sda1 10 0 200 5 4 0 80 3 0 7 8 9 0 72 1\n"
	    " 253       0 dm-0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n",
	    &d, &n, &cause));
	assert_int_equal(n, 3);
	assert_string_equal(d[0].name, "sda");
	assert_int_equal(d[0].ops, 140);
	assert_int_equal(d[0].bytes, 2800 * 512);
	/* Discards (field 12 on) and flushes are not counted. */
	assert_int_equal(d[1].minor, 1);
	assert_int_equal(d[1].ops, 14);
	assert_int_equal(d[1].bytes, 280 * 512);
	assert_int_equal(d[2].major, 253);
	assert_int_equal(d[2].ops, 6);
	assert_int_equal(d[2].bytes, 10 * 512);
	iostat_disks_free(d, n);
	assert_cause(iostat_diskstats_parse("8 0 sda 1 2 3\n", &d, &n,
	    &cause), "line 1");
	assert_cause(iostat_diskstats_parse("8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n"
	    "8 1 sda1 1 2 x 4 5 6 7 8 9 10 11\n", &d, &n, &cause), "line 2");
}

/* The counters of this machine: the parsers take them whole. */
static void
test_real_proc(void **state)
{
	struct iostat_mount *m;
	struct iostat_nfs *v;
	struct iostat_disk *d;
	struct iostat_proc p;
	struct iostat_reading r;
	const struct iostat_mount *mt;
	struct stat sb;
	size_t n, nv, nd, i, nfs = 0;
	char *text, *dir = test_tmpdir();

	(void)state;
	assert_ok((text = iostat_file("/proc", "self/mountinfo", &cause)) ==
	    NULL);
	assert_ok(iostat_mountinfo_parse(text, &m, &n, &cause));
	free(text);
	assert_true(n > 0);
	assert_int_equal(lstat("/", &sb), 0);
	assert_non_null(iostat_mount_find(m, n, "/", major(sb.st_dev),
	    minor(sb.st_dev)));
	for (i = 0; i < n; i++)
		nfs += strcmp(m[i].fstype, "nfs") == 0 ||
		    strcmp(m[i].fstype, "nfs4") == 0;
	/* Every NFS mount of mountinfo has its block; none: zero. */
	assert_ok((text = iostat_file("/proc", "self/mountstats", &cause)) ==
	    NULL);
	assert_ok(iostat_mountstats_parse(text, &v, &nv, &cause));
	free(text);
	assert_int_equal(nv, nfs);
	iostat_nfs_free(v, nv);
	assert_ok((text = iostat_file("/proc", "diskstats", &cause)) == NULL);
	assert_ok(iostat_diskstats_parse(text, &d, &nd, &cause));
	free(text);
	iostat_disks_free(d, nd);

	/* The temp dir's own mount: a block device is found in
	 * diskstats; a filesystem without one is said to be none. */
	assert_int_equal(lstat(dir, &sb), 0);
	mt = iostat_mount_find(m, n, dir, major(sb.st_dev), minor(sb.st_dev));
	assert_non_null(mt);
	assert_ok(iostat_proc_open(&p, "/proc", &cause));
	assert_ok(iostat_read(&p, dir, &r, &cause));
	if (mt->major != 0) {
		assert_int_equal(r.kind, IOSTAT_DISK);
		assert_int_equal(r.major, mt->major);
		assert_int_equal(r.minor, mt->minor);
		assert_true(strncmp(r.source, "diskstats:", 10) == 0);
	} else if (strcmp(mt->fstype, "nfs") == 0 ||
	    strcmp(mt->fstype, "nfs4") == 0)
		assert_int_equal(r.kind, IOSTAT_NFS);
	else if (r.kind == IOSTAT_NONE) {
		assert_string_equal(r.source + 5, mt->fstype);
		fprintf(stderr, "# %s is on %s (%s), no block device: the "
		    "diskstats reading of a real slice is not tested here\n",
		    dir, mt->fstype, mt->source);
		iostat_reading_free(&r);
		iostat_proc_close(&p);
		iostat_mounts_free(m, n);
		test_rm_rf(dir);
		skip();
	}
	iostat_reading_free(&r);
	iostat_proc_close(&p);
	iostat_mounts_free(m, n);
	test_rm_rf(dir);
}

/*
 * A fake proc tree below dir/proc for slices below dir: dir/local holds
 * two slices on one device (the real device of dir, so that it is found
 * by device), dir/nfs an NFS mount, dir/tmp a tmpfs, "dir/sp ace" an
 * escaped mount point, dir/btr a btrfs-like mount (device 0:x, source
 * /dev/fakebtr), dir/gone a device missing from diskstats, dir/nfsgone an
 * NFS mount missing from mountstats.
 */
struct tree {
	char		*dir;
	char		*proc;
	unsigned	 maj, min;	/* dir's own device */
	/* Counters, advanced by the tests. */
	uint64_t	 reads, writes, rsect, wsect;	/* fakedisk */
	uint64_t	 nfs_ops, nfs_bytes, nfs_age;
};

static char *
sub(const struct tree *t, const char *rel)
{
	char *p;

	if (asprintf(&p, "%s/%s", t->dir, rel) < 0)
		abort();
	return p;
}

static void
tree_write(const struct tree *t)
{
	char *p, *text;

	p = sub(t, "proc/self/mountinfo");
	if (asprintf(&text,
	    "1 0 259:250 / / rw - ext4 /dev/fakeroot rw\n"
	    "2 1 %u:%u / %s/local rw - ext4 /dev/fakedisk rw\n"
	    "3 1 0:77 / %s/nfs rw - nfs4 srv:/export rw\n"
	    "4 1 0:78 / %s/tmp rw - tmpfs tmpfs rw\n"
	    "5 1 259:251 / %s/sp\\040ace rw - xfs /dev/fakesp rw\n"
	    "6 1 0:79 / %s/btr rw - btrfs /dev/fakebtr rw\n"
	    "7 1 259:252 / %s/gone rw - xfs /dev/fakegone rw\n"
	    "8 1 0:80 / %s/nfsgone rw - nfs srv:/gone rw\n", t->maj, t->min,
	    t->dir, t->dir, t->dir, t->dir, t->dir, t->dir, t->dir) < 0)
		abort();
	test_write(p, text);
	free(p);
	free(text);
	p = sub(t, "proc/self/mountstats");
	if (asprintf(&text,
	    "device /dev/fakeroot mounted on / with fstype ext4\n"
	    "device srv:/export mounted on %s/nfs with fstype nfs4 "
	    "statvers=1.1\n"
	    "\tage:\t%llu\n"
	    "\tbytes:\t1 2 3 4 %llu 0 0 0\n"
	    "\tper-op statistics\n"
	    "\t        READ: %llu 1 0 0 0 0 5 5 0\n", t->dir,
	    (unsigned long long)t->nfs_age, (unsigned long long)t->nfs_bytes,
	    (unsigned long long)t->nfs_ops) < 0)
		abort();
	test_write(p, text);
	free(p);
	free(text);
	p = sub(t, "proc/diskstats");
	if (asprintf(&text,
	    " 259 250 fakeroot 1 0 8 0 1 0 8 0 0 0 0\n"
	    " %u %u fakedisk %llu 0 %llu 0 %llu 0 %llu 0 0 0 0\n"
	    " 259 251 fakesp 7 0 16 0 3 0 8 0 0 0 0 0 0 0 0\n"
	    " 8 17 fakebtr 2 0 4 0 2 0 4 0 0 0 0\n", t->maj, t->min,
	    (unsigned long long)t->reads, (unsigned long long)t->rsect,
	    (unsigned long long)t->writes, (unsigned long long)t->wsect) < 0)
		abort();
	test_write(p, text);
	free(p);
	free(text);
}

static void
tree_make(struct tree *t)
{
	static const char *dirs[] = { "proc", "proc/self", "local",
	    "local/s1", "local/s2", "local/s5", "nfs", "nfs/s3", "tmp",
	    "tmp/s4", "sp ace", "sp ace/s6", "btr", "gone", "nfsgone" };
	struct stat sb;
	size_t i;
	char *p;

	memset(t, 0, sizeof *t);
	t->dir = test_tmpdir();
	assert_int_equal(stat(t->dir, &sb), 0);
	t->maj = major(sb.st_dev);
	t->min = minor(sb.st_dev);
	for (i = 0; i < sizeof dirs / sizeof *dirs; i++) {
		p = sub(t, dirs[i]);
		assert_int_equal(mkdir(p, 0755), 0);
		free(p);
	}
	t->proc = sub(t, "proc");
	t->reads = 100;
	t->writes = 50;
	t->rsect = 1000;
	t->wsect = 500;
	t->nfs_ops = 1000;
	t->nfs_bytes = 1 << 20;
	t->nfs_age = 86400;
	tree_write(t);
}

static void
tree_free(struct tree *t)
{
	free(t->proc);
	test_rm_rf(t->dir);
}

/* Read rel below the tree: 0 and *r, or -1 with the cause in *why. */
static int
tree_read(const struct tree *t, const char *rel, struct iostat_reading *r,
    char **why)
{
	struct iostat_proc p;
	char *path = sub(t, rel);
	int rc;

	if (iostat_proc_open(&p, t->proc, why) != 0)
		abort();
	rc = iostat_read(&p, path, r, why);
	iostat_proc_close(&p);
	free(path);
	return rc;
}

static void
test_read_fake(void **state)
{
	struct iostat_reading r;
	struct iostat_proc p;
	struct tree t;
	char *why;

	(void)state;
	tree_make(&t);
	assert_int_equal(tree_read(&t, "local/s1", &r, &why), 0);
	assert_int_equal(r.kind, IOSTAT_DISK);
	assert_string_equal(r.source, "diskstats:fakedisk");
	assert_int_equal(r.ops, 150);
	assert_int_equal(r.bytes, 1500 * 512);
	iostat_reading_free(&r);
	assert_int_equal(tree_read(&t, "nfs/s3", &r, &why), 0);
	assert_int_equal(r.kind, IOSTAT_NFS);
	assert_string_equal(r.source, "mountstats:srv:/export");
	assert_int_equal(r.ops, 1000);
	assert_int_equal(r.bytes, 1 << 20);
	assert_int_equal(r.rtt_ms, 5);
	assert_int_equal(r.age, 86400);
	assert_int_equal(r.major, 0);
	assert_int_equal(r.minor, 77);
	iostat_reading_free(&r);
	assert_int_equal(tree_read(&t, "tmp/s4", &r, &why), 0);
	assert_int_equal(r.kind, IOSTAT_NONE);
	assert_string_equal(r.source, "none:tmpfs");
	iostat_reading_free(&r);
	assert_int_equal(tree_read(&t, "sp ace/s6", &r, &why), 0);
	assert_string_equal(r.source, "diskstats:fakesp");
	assert_int_equal(r.ops, 10);
	iostat_reading_free(&r);
	assert_int_equal(tree_read(&t, "btr", &r, &why), 0);
	assert_string_equal(r.source, "diskstats:fakebtr");
	assert_int_equal(r.major, 8);
	assert_int_equal(r.minor, 17);
	iostat_reading_free(&r);

	assert_int_equal(tree_read(&t, "gone", &r, &why), -1);
	assert_non_null(strstr(why, "259:252"));
	assert_non_null(strstr(why, "not in"));
	free(why);
	assert_int_equal(tree_read(&t, "nfsgone", &r, &why), -1);
	assert_non_null(strstr(why, "srv:/gone"));
	assert_non_null(strstr(why, "mountstats"));
	free(why);
	assert_int_equal(tree_read(&t, "nowhere", &r, &why), -1);
	assert_non_null(strstr(why, "is the slice mounted?"));
	free(why);

	/* A proc root that is not one: the setting is named. */
	assert_cause(iostat_proc_open(&p, t.dir, &cause), "[capacity] proc");
	tree_free(&t);
}

/* A catalog with servers and pair p1, and a tree to read. */
struct fixture {
	struct tree	 t;
	char		*db;
	struct state	*st;
	int64_t		 id[7];		/* s1..s6 */
};

static int
setup(void **arg)
{
	static const char *rel[7] = { NULL, "local/s1", "local/s2", "nfs/s3",
	    "tmp/s4", "local/s5", "sp ace/s6" };
	struct fixture *f = calloc(1, sizeof *f);
	char name[16], *path;
	int64_t none[1];
	int i;

	tree_make(&f->t);
	if ((f->st = test_catalog_fleet(f->t.dir, &f->db, 0, none)) == NULL)
		return -1;
	for (i = 1; i <= 4; i++) {
		snprintf(name, sizeof name, "s%d", i);
		path = sub(&f->t, rel[i]);
		assert_ok(state_slice_add(f->st, name, "p1", "mx1", path,
		    1 << 30, &cause));
		free(path);
		f->id[i] = test_slice_id(f->st, name);
	}
	*arg = f;
	return 0;
}

static int
teardown(void **arg)
{
	struct fixture *f = *arg;

	state_close(f->st);
	free(f->db);
	tree_free(&f->t);
	free(f);
	return 0;
}

/* One round over the fake tree; its outcome. */
static struct iostat_outcome
round_now(struct fixture *f)
{
	struct iostat_outcome o;

	/* Readings a millisecond apart at least: an interval. */
	usleep(5000);
	assert_ok(iostat_record(f->st, f->t.proc, NULL, 0, &o, NULL, NULL,
	    &cause));
	return o;
}

/* The loads rows of slice id: how many, and the last one's. */
static size_t
loads_of(struct fixture *f, int64_t id, struct state_load_point *last)
{
	struct state_load_series *s;
	const struct state_load_series *x;
	size_t n, got = 0;

	assert_ok(state_load_series(f->st, 0, INT64_MAX / 2, &s, &n, &cause));
	if ((x = state_load_series_find(s, n, id)) != NULL) {
		got = x->n;
		if (last != NULL)
			*last = x->p[x->n - 1];
	}
	state_load_series_free(s, n);
	return got;
}

/* An account on slice with logins over the day before since. */
static void
account(struct fixture *f, const char *user, int slice, int logins,
    int64_t since)
{
	assert_ok(state_account_insert(f->st, user, f->id[slice], user, 1000,
	    10, 0, "counted", &cause));
	test_exec(f->db, "UPDATE accounts SET logins = %d, logins_since = "
	    "%lld WHERE \"user\" = '%s'", logins, (long long)since, user);
}

/* s1 and s2 share fakedisk and split it 3:1 by their users' logins; the
 * NFS slice has its mount's whole delta, the tmpfs none. */
static void
test_record_shared(void **arg)
{
	struct fixture *f = *arg;
	struct state_load_point pt;
	struct state_io_reading last, before;
	struct iostat_outcome o;
	struct state_slice s;

	int64_t since = now_unix() - 86400;

	account(f, "a@x", 1, 20, since);
	account(f, "b@x", 1, 10, since);
	account(f, "c@x", 2, 10, since);
	o = round_now(f);
	assert_int_equal(o.started, 3);
	assert_int_equal(o.none, 1);
	assert_int_equal(o.intervals, 0);
	assert_int_equal(loads_of(f, f->id[1], NULL), 0);
	assert_ok(state_slice_get(f->st, "s4", &s, &cause));
	assert_string_equal(s.io_source, "none:tmpfs");
	state_slice_free(&s);
	assert_ok(state_load_last(f->st, f->id[4], &before, &cause));

	f->t.reads += 30;
	f->t.writes += 10;
	f->t.rsect += 600;
	f->t.wsect += 200;
	f->t.nfs_ops += 7;
	f->t.nfs_bytes += 4096;
	tree_write(&f->t);
	o = round_now(f);
	assert_int_equal(o.intervals, 3);
	assert_int_equal(o.started, 0);
	assert_int_equal(loads_of(f, f->id[1], &pt), 1);
	assert_int_equal(pt.ops, 30);
	assert_int_equal(pt.bytes, 600 * 512);
	assert_true(pt.ms > 0);
	assert_int_equal(loads_of(f, f->id[2], &pt), 1);
	assert_int_equal(pt.ops, 10);
	assert_int_equal(pt.bytes, 200 * 512);
	assert_int_equal(loads_of(f, f->id[3], &pt), 1);
	assert_int_equal(pt.ops, 7);
	assert_int_equal(pt.bytes, 4096);
	assert_int_equal(loads_of(f, f->id[4], NULL), 0);
	/* The raw reading is the device's, not the share. */
	assert_ok(state_load_last(f->st, f->id[2], &last, &cause));
	assert_string_equal(last.source, "diskstats:fakedisk");
	assert_int_equal(last.ops, 190);
	free(last.source);
	/* A source without counters is not written again. */
	assert_ok(state_load_last(f->st, f->id[4], &last, &cause));
	assert_int_equal(last.at_ms, before.at_ms);
	free(last.source);
	free(before.source);
}

/* Nobody active: three slices of one device take equal parts that add
 * up to the delta exactly. */
static void
test_record_equal(void **arg)
{
	struct fixture *f = *arg;
	struct state_load_point pt[3];
	char *path;
	int i;

	path = sub(&f->t, "local/s5");
	assert_ok(state_slice_add(f->st, "s5", "p1", "mx1", path, 1 << 30,
	    &cause));
	free(path);
	f->id[5] = test_slice_id(f->st, "s5");
	(void)round_now(f);
	f->t.reads += 100;
	f->t.rsect += 1;
	tree_write(&f->t);
	(void)round_now(f);
	assert_int_equal(loads_of(f, f->id[1], &pt[0]), 1);
	assert_int_equal(loads_of(f, f->id[2], &pt[1]), 1);
	assert_int_equal(loads_of(f, f->id[5], &pt[2]), 1);
	assert_int_equal(pt[0].ops + pt[1].ops + pt[2].ops, 100);
	assert_int_equal(pt[0].bytes + pt[1].bytes + pt[2].bytes, 512);
	for (i = 0; i < 3; i++) {
		assert_true(pt[i].ops == 33 || pt[i].ops == 34);
		assert_true(pt[i].bytes == 170 || pt[i].bytes == 171);
	}
}

/* Nobody active but mailboxes on two of the three slices of a device:
 * parts by the number of mailboxes, none for the empty slice. */
static void
test_record_by_mailboxes(void **arg)
{
	struct fixture *f = *arg;
	struct state_load_point pt[3];
	char *path;

	path = sub(&f->t, "local/s5");
	assert_ok(state_slice_add(f->st, "s5", "p1", "mx1", path, 1 << 30,
	    &cause));
	free(path);
	f->id[5] = test_slice_id(f->st, "s5");
	account(f, "a@x", 1, 0, 0);
	account(f, "b@x", 1, 0, 0);
	account(f, "c@x", 1, 0, 0);
	account(f, "d@x", 2, 0, 0);
	(void)round_now(f);
	f->t.reads += 100;
	f->t.rsect += 8;
	tree_write(&f->t);
	(void)round_now(f);
	assert_int_equal(loads_of(f, f->id[1], &pt[0]), 1);
	assert_int_equal(loads_of(f, f->id[2], &pt[1]), 1);
	assert_int_equal(loads_of(f, f->id[5], &pt[2]), 1);
	assert_int_equal(pt[0].ops, 75);
	assert_int_equal(pt[1].ops, 25);
	assert_int_equal(pt[2].ops, 0);
	assert_int_equal(pt[0].bytes, 3 * 1024);
	assert_int_equal(pt[1].bytes, 1024);
	assert_int_equal(pt[2].bytes, 0);
}

/* Counters lower than the last, another source, a reboot or a new NFS
 * mount since the last reading: the reading is stored, no interval. */
static void
test_record_reset(void **arg)
{
	struct fixture *f = *arg;
	struct iostat_outcome o;
	struct state_io_reading last;
	char *up;

	(void)round_now(f);
	f->t.reads = 10;			/* fell: the device is new */
	f->t.nfs_ops += 5;
	tree_write(&f->t);
	o = round_now(f);
	assert_int_equal(o.intervals, 1);	/* the NFS slice only */
	assert_int_equal(o.started, 2);
	assert_int_equal(loads_of(f, f->id[1], NULL), 0);
	assert_ok(state_load_last(f->st, f->id[1], &last, &cause));
	assert_int_equal(last.ops, 60);
	free(last.source);

	/* The NFS mount is 10 s old, its last reading 60 s: remounted. */
	test_exec(f->db, "UPDATE slices SET io_at = io_at - 60000");
	f->t.nfs_age = 10;
	f->t.nfs_ops += 5;
	tree_write(&f->t);
	o = round_now(f);
	assert_int_equal(loads_of(f, f->id[3], NULL), 1);
	assert_int_equal(o.intervals, 2);	/* s1, s2: 60 s long */

	/* Booted 2 s ago, the last readings from 60 s ago. */
	up = sub(&f->t, "proc/uptime");
	test_write(up, "2.00 1.00\n");
	free(up);
	test_exec(f->db, "UPDATE slices SET io_at = io_at - 60000");
	o = round_now(f);
	assert_int_equal(o.intervals, 0);
	assert_int_equal(o.started, 3);

	/* Another source (the slice was mounted elsewhere): starts over. */
	assert_int_equal(loads_of(f, f->id[1], NULL), 1);
	test_exec(f->db, "UPDATE slices SET io_source = 'diskstats:other' "
	    "WHERE id = %lld", (long long)f->id[1]);
	f->t.reads += 1;
	tree_write(&f->t);
	o = round_now(f);
	assert_int_equal(o.intervals, 2);	/* s2 and s3 */
	assert_int_equal(loads_of(f, f->id[1], NULL), 1);
	assert_int_equal(loads_of(f, f->id[2], NULL), 2);
}

/* Two writers read the same last readings (discover beside the
 * daemon): the one that stores second counts nothing twice. */
static void
test_record_stale(void **arg)
{
	struct fixture *f = *arg;
	struct iostat_round a, b;
	struct iostat_outcome o;
	struct state_io_reading last;
	struct state_load_step step;
	struct state_load_point pt;

	(void)round_now(f);
	f->t.reads += 8;
	tree_write(&f->t);
	usleep(5000);
	assert_ok(iostat_round_prepare(&a, f->st, NULL, 0, &cause));
	iostat_round_read(&a, f->t.proc);
	usleep(5000);
	assert_ok(iostat_round_prepare(&b, f->st, NULL, 0, &cause));
	iostat_round_read(&b, f->t.proc);
	assert_ok(iostat_round_store(&b, f->st, now_unix(), &o, &cause));
	assert_int_equal(o.intervals, 3);
	assert_ok(iostat_round_store(&a, f->st, now_unix(), &o, &cause));
	assert_int_equal(o.intervals, 0);
	assert_int_equal(o.stale, 3);
	assert_int_equal(loads_of(f, f->id[1], NULL), 1);
	/* The newer reading stays. */
	assert_ok(state_load_last(f->st, f->id[1], &last, &cause));
	assert_int_equal(last.at_ms, b.at_ms);
	free(last.source);

	/* The catalog's own guard: a step from a reading that is no longer
	 * the stored one writes nothing. */
	memset(&step, 0, sizeof step);
	step.slice_id = f->id[1];
	step.prev_at_ms = a.at_ms;
	step.raw.source = "diskstats:fakedisk";
	step.raw.ops = 1000;
	step.raw.at_ms = b.at_ms + 10;
	step.ops = 5;
	step.ms = 10;
	assert_ok(state_load_advance(f->st, &step, &cause));
	assert_true(step.stale);
	assert_int_equal(loads_of(f, f->id[1], NULL), 1);
	step.prev_at_ms = b.at_ms;
	assert_ok(state_load_advance(f->st, &step, &cause));
	assert_false(step.stale);
	assert_int_equal(loads_of(f, f->id[1], &pt), 2);
	assert_int_equal(pt.ops, 5);
	assert_int_equal(pt.ms, 10);
	iostat_round_free(&a);
	iostat_round_free(&b);
}

static void
warn_count(void *arg, const char *slice, const char *message)
{
	int *n = arg;

	(void)message;
	*n += slice != NULL ? 1 : 100;
}

/* Retired and unresponsive slices are not read; an unreadable slice is
 * a warning; an unreadable proc root one warning for all. */
static void
test_record_skips(void **arg)
{
	struct fixture *f = *arg;
	struct iostat_outcome o;
	struct iostat_round rd;
	char *path;
	int changed, warned = 0;

	assert_ok(state_slice_set_health(f->st, f->id[3], "unresponsive",
	    "probes time out", now_unix(), &changed, &cause));
	assert_ok(state_slice_set_state(f->st, "s4", "retired", &cause));
	path = sub(&f->t, "sp ace/s6");
	assert_ok(state_slice_add(f->st, "s6", "p1", "mx1", path, 1 << 30,
	    &cause));
	free(path);
	assert_ok(iostat_round_prepare(&rd, f->st, NULL, 0, &cause));
	assert_int_equal(rd.n, 3);
	assert_int_equal(rd.s[0].id, f->id[1]);
	assert_int_equal(rd.s[1].id, f->id[2]);
	assert_string_equal(rd.s[2].name, "s6");
	iostat_round_free(&rd);

	path = sub(&f->t, "local/s2");
	assert_int_equal(rmdir(path), 0);
	free(path);
	assert_ok(iostat_record(f->st, f->t.proc, NULL, 0, &o, warn_count,
	    &warned, &cause));
	assert_int_equal(warned, 1);
	assert_int_equal(o.failed, 1);
	assert_int_equal(o.started, 2);
	warned = 0;
	assert_ok(iostat_record(f->st, f->t.dir, NULL, 0, &o, warn_count,
	    &warned, &cause));
	assert_int_equal(warned, 100);
	assert_int_equal(o.failed, 3);
}

/* The slices of a round for names: "s1 s2". */
static char *
prepared(struct fixture *f, char **names, int n)
{
	struct iostat_round rd;
	char *list = xstrdup(""), *more;
	size_t i;

	assert_ok(iostat_round_prepare(&rd, f->st, names, n, &cause));
	for (i = 0; i < rd.n; i++) {
		more = xasprintf("%s%s%s", list, i ? " " : "", rd.s[i].name);
		free(list);
		list = more;
	}
	iostat_round_free(&rd);
	return list;
}

/* discover SLICE reads the slices named and those that shared their
 * counters at the last reading, nothing else. */
static void
test_record_named(void **arg)
{
	struct fixture *f = *arg;
	char *s1[] = { "s1" }, *s3[] = { "s3" }, *s4[] = { "s4" };
	char *both[] = { "s4", "s2" }, *list;

	/* Never read: only the name. */
	list = prepared(f, s1, 1);
	assert_string_equal(list, "s1");
	free(list);
	(void)round_now(f);
	list = prepared(f, s1, 1);
	assert_string_equal(list, "s1 s2");
	free(list);
	list = prepared(f, s3, 1);
	assert_string_equal(list, "s3");
	free(list);
	/* A tmpfs shares nothing with another tmpfs. */
	list = prepared(f, s4, 1);
	assert_string_equal(list, "s4");
	free(list);
	list = prepared(f, both, 2);
	assert_string_equal(list, "s1 s2 s4");
	free(list);
	list = prepared(f, NULL, 0);
	assert_string_equal(list, "s1 s2 s3 s4");
	free(list);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mountinfo),
		cmocka_unit_test(test_mountstats),
		cmocka_unit_test(test_diskstats),
		cmocka_unit_test(test_real_proc),
		cmocka_unit_test(test_read_fake),
		cmocka_unit_test_setup_teardown(test_record_shared, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_record_by_mailboxes,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_equal, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_record_reset, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_record_stale, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_record_skips, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_record_named, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("iostat", tests, NULL, NULL);
}
