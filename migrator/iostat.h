/*
 * The I/O counters a slice's load is read from, where the kernel keeps
 * them (README "Load"):
 *
 *   NFS (fstype nfs, nfs4)  self/mountstats, the block of the mount:
 *                           ops   = the ops field of every line of the
 *                                   per-op statistics, summed (every RPC
 *                                   the client completed, NULL included)
 *                           bytes = serverreadbytes + serverwritebytes of
 *                                   the bytes: line (what went over the
 *                                   wire; reads served from the client's
 *                                   cache are not load on the server)
 *                           source "mountstats:SERVER:/EXPORT"
 *   a block device          diskstats, the line of the mount's
 *                           major:minor (partitions, md and dm devices
 *                           have lines of their own):
 *                           ops   = reads + writes completed (discards
 *                                   and flushes left out: fstrim and
 *                                   barriers are not mail served)
 *                           bytes = (sectors read + written) * 512
 *                           source "diskstats:NAME"
 *   anything else           tmpfs, overlay, FUSE, ... (device major 0):
 *                           no counters, source "none:FSTYPE". A major-0
 *                           mount whose source is a /dev block device
 *                           (btrfs) is read from that device's line.
 *
 * Every file is read below a proc root ([capacity] proc, /proc; tests
 * point it at a fake tree): self/mountinfo, self/mountstats, diskstats
 * and, when there, uptime. The parsers take file contents, so that they
 * are tested on made-up and on real files alike. Counters are
 * cumulative; turning them into intervals is iostat_record.h's part.
 */
#ifndef MAILSHIFT_IOSTAT_H
#define MAILSHIFT_IOSTAT_H

#include <stddef.h>
#include <stdint.h>

/* One line of self/mountinfo; strings unescaped (\040 is a space). */
struct iostat_mount {
	unsigned	 major;		/* of the filesystem (st_dev) */
	unsigned	 minor;
	char		*mountpoint;
	char		*fstype;	/* "ext4", "nfs4", "fuse.sshfs" */
	char		*source;	/* "/dev/sda1", "srv:/export", "tmpfs" */
};

/*
 * Parse the text of self/mountinfo into *out (*n entries, in file order;
 * free with iostat_mounts_free). Returns 0, or -1 with a cause naming
 * the line that is not a mountinfo line.
 */
int iostat_mountinfo_parse(const char *text, struct iostat_mount **out,
    size_t *n, char **cause);
void iostat_mounts_free(struct iostat_mount *, size_t n);

/*
 * The mount that holds path (absolute, canonical), whose device is
 * major:minor (the path's st_dev): the longest mount point that is path
 * or a parent of it among the mounts of that device, the last one when
 * mounts are stacked. When no mount has that device (btrfs subvolumes
 * report a device of their own), the longest mount point by path alone.
 * NULL when no mount point holds path.
 */
const struct iostat_mount *iostat_mount_find(const struct iostat_mount *,
    size_t n, const char *path, unsigned major, unsigned minor);

/* The counters of one NFS mount in self/mountstats. */
struct iostat_nfs {
	char		*device;	/* "srv:/export", unescaped */
	char		*mountpoint;
	char		*fstype;
	uint64_t	 age;		/* seconds since it was mounted */
	uint64_t	 ops;		/* see the top of this file */
	uint64_t	 bytes;
	uint64_t	 rtt_ms;	/* summed round trips of those ops */
	int		 has_bytes;	/* a bytes: line was there */
};

/*
 * Parse the text of self/mountstats: one entry per mount of fstype nfs
 * or nfs4 (other mounts have no counters), in file order; *n is 0 when
 * there is no NFS mount. Returns 0, or -1 with a cause for a device line
 * or a counter that does not parse.
 */
int iostat_mountstats_parse(const char *text, struct iostat_nfs **out,
    size_t *n, char **cause);
void iostat_nfs_free(struct iostat_nfs *, size_t n);

/* One line of diskstats. */
struct iostat_disk {
	unsigned	 major;
	unsigned	 minor;
	char		*name;		/* "sda1", "dm-0", "nvme0n1p2" */
	uint64_t	 ops;		/* see the top of this file */
	uint64_t	 bytes;
};

/*
 * Parse the text of diskstats (the 14-, 18- and 20-field formats).
 * Returns 0, or -1 with a cause naming the line that does not parse.
 */
int iostat_diskstats_parse(const char *text, struct iostat_disk **out,
    size_t *n, char **cause);
void iostat_disks_free(struct iostat_disk *, size_t n);

/* The kernel's view, read once for a round of slices. */
struct iostat_proc {
	char			*root;		/* the proc root */
	struct iostat_mount	*mounts;
	size_t			 nmounts;
	/* Read when a slice first needs them. */
	int			 nfs_read;	/* 0 not yet, 1 ok, -1 failed */
	struct iostat_nfs	*nfs;
	size_t			 nnfs;
	char			*nfs_error;
	int			 disks_read;
	struct iostat_disk	*disks;
	size_t			 ndisks;
	char			*disks_error;
	int64_t			 boot_ms;	/* Unix ms, 0 = unknown */
};

/*
 * Read root/self/mountinfo (and root/uptime when it is there) into p.
 * Returns 0, or -1 with a cause naming the file and what to do.
 */
int iostat_proc_open(struct iostat_proc *p, const char *root, char **cause);
void iostat_proc_close(struct iostat_proc *);

/* Where a slice's counters are and what they read. */
enum iostat_kind {
	IOSTAT_NONE,			/* no counters (tmpfs, overlay, ...) */
	IOSTAT_DISK,			/* diskstats */
	IOSTAT_NFS			/* mountstats */
};

struct iostat_reading {
	enum iostat_kind kind;
	char		*source;	/* "diskstats:sda1", "none:tmpfs" */
	unsigned	 major;		/* of the counters: a block device, */
	unsigned	 minor;		/* or the NFS mount's superblock */
	uint64_t	 ops;		/* cumulative */
	uint64_t	 bytes;
	uint64_t	 rtt_ms;	/* NFS: cumulative round trips */
	uint64_t	 age;		/* NFS: seconds since mounted */
};

/*
 * Find the counters of the slice at path (lstat()ed: a final symlink is
 * not followed) and read them into *r (free with iostat_reading_free).
 * Returns 0, or -1 with a cause: the path cannot be stat()ed, no mount
 * holds it, its NFS mount or its device is missing from mountstats or
 * diskstats, or those files cannot be read.
 */
int iostat_read(struct iostat_proc *, const char *path,
    struct iostat_reading *r, char **cause);
void iostat_reading_free(struct iostat_reading *);

/*
 * Read a whole file of root (rel such as "self/mountinfo"), at most
 * 64 MiB, into a NUL-terminated string. NULL with a cause naming the
 * file and the [capacity] proc setting.
 */
char *iostat_file(const char *root, const char *rel, char **cause);

#endif
