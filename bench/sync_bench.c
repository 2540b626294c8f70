/*
 * The copier's parts on one mailbox, timed: bulk copy, a no-change delta
 * pass, and a cutover's work (final pass, durability, verification) after
 * a 1% change, with syncfs and with fsync of every file.
 *
 *   sync-bench SRC DST        DST must not exist
 *
 * Prints "name seconds" lines for bench/move.sh to compare.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "migrator/sync.h"
#include "migrator/throttle.h"
#include "common/util.h"

static void
die(const char *what, char *cause)
{
	fprintf(stderr, "sync-bench: %s: %s\n", what, cause ? cause :
	    strerror(errno));
	exit(1);
}

/* Rename every hundredth message of cur/ (a flag change), like a user. */
static int
touch_one_percent(const char *box)
{
	char path[4096], from[8192], to[8192];
	struct dirent *de;
	DIR *d;
	int n = 0, i = 0;

	snprintf(path, sizeof path, "%s/cur", box);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || i++ % 100 != 0)
			continue;
		snprintf(from, sizeof from, "%s/%s", path, de->d_name);
		snprintf(to, sizeof to, "%s/%sT", path, de->d_name);
		if (rename(from, to) == 0)
			n++;
	}
	closedir(d);
	return n;
}

int
main(int argc, char **argv)
{
	struct sync_stats st;
	struct sync *s;
	char *cause = NULL, *up;
	double t;
	int src, dst, enospc, n;
	uint64_t files, bytes;

	if (argc != 3) {
		fprintf(stderr, "usage: sync-bench SRC DST\n");
		return 2;
	}
	if (mkdir(argv[2], 0700) != 0)
		die(argv[2], NULL);
	if ((src = open(argv[1], O_RDONLY | O_DIRECTORY)) < 0 ||
	    (dst = open(argv[2], O_RDONLY | O_DIRECTORY)) < 0)
		die("open", NULL);
	/* The source's parent stands for its slice root, where a move
	 * reads the slice's clock. */
	up = dirname(xstrdup(argv[1]));
	s = sync_new(src, dst, &(struct sync_config){ .preserve_owner =
	    geteuid() == 0, .workers = getenv("WORKERS") ? atoi(getenv(
	    "WORKERS")) : (int)sysconf(_SC_NPROCESSORS_ONLN),
	    .clock_dir = up });

	t = monotonic_now();
	if (sync_pass(s, 0, &st, &enospc, &cause) != 0)
		die("bulk", cause);
	if (syncfs(dst) != 0)
		die("syncfs", NULL);
	/* Written back to disk, as cp -a && sync -f is timed. */
	printf("bulk %.4f files=%llu bytes=%llu\n", monotonic_now() - t,
	    (unsigned long long)st.files_copied,
	    (unsigned long long)st.bytes_copied);
	/* A first delta pass learns which directories it can trust. */
	if (sync_pass(s, 1, &st, &enospc, &cause) != 0)
		die("delta", cause);
	t = monotonic_now();
	if (sync_pass(s, 1, &st, &enospc, &cause) != 0)
		die("delta", cause);
	printf("delta %.4f changes=%llu skipped=%llu\n", monotonic_now() - t,
	    (unsigned long long)sync_changes(&st),
	    (unsigned long long)st.dirs_skipped);

	n = touch_one_percent(argv[1]);
	t = monotonic_now();
	if (sync_pass(s, 1, &st, &enospc, &cause) != 0)
		die("final", cause);
	printf("final_pass %.4f changes=%llu renamed=%llu touched=%d\n",
	    monotonic_now() - t, (unsigned long long)sync_changes(&st),
	    (unsigned long long)st.renamed, n);
	t = monotonic_now();
	if (syncfs(dst) != 0)
		die("syncfs", NULL);
	printf("syncfs %.4f\n", monotonic_now() - t);
	t = monotonic_now();
	if (tree_fsync(dst, &cause) != 0)
		die("fsync", cause);
	printf("fsync_all %.4f\n", monotonic_now() - t);
	t = monotonic_now();
	if (sync_verify_changed(s, geteuid() == 0, &files, &bytes, &cause)
	    != 0)
		die("verify", cause);
	printf("verify_changed %.4f files=%llu\n", monotonic_now() - t,
	    (unsigned long long)files);
	t = monotonic_now();
	if (sync_verify(src, dst, 0, geteuid() == 0, &files, &bytes, &cause)
	    != 0)
		die("verify", cause);
	printf("verify_full %.4f files=%llu\n", monotonic_now() - t,
	    (unsigned long long)files);
	t = monotonic_now();
	if (sync_verify(src, dst, 1, geteuid() == 0, &files, &bytes, &cause)
	    != 0)
		die("verify", cause);
	printf("verify_content %.4f\n", monotonic_now() - t);
	sync_free(s);
	free(up);
	return 0;
}
