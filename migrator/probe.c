/* The health watch's probes, one thread per slice: see probe.h. */
#define _GNU_SOURCE
#include "migrator/probe.h"
#include "common/util.h"
#include "migrator/throttle.h"
#include "migrator/tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PROBE_DIR ".mailshift-health"
#define PROBE_SIZE 4096
#define REPORTS 16		/* ended probes kept until collected */

/* One slice's probing, shared by its thread and the set. */
struct prober {
	pthread_mutex_t		 mu;	/* everything below */
	int			 refs;	/* the set and the thread */
	int			 quit;
	int64_t			 slice;
	char			*root;
	char			*account;
	double			 interval;
	double			 started;	/* in flight since, 0 none */
	struct probe_report	 r[REPORTS];
	int			 nr;
	unsigned		 serial;
};

struct probe_set {
	struct prober	**p;
	size_t		  n;
	double		  interval;
};

static void
prober_release(struct prober *p)
{
	int last;

	pthread_mutex_lock(&p->mu);
	last = --p->refs == 0;
	pthread_mutex_unlock(&p->mu);
	if (!last)
		return;
	pthread_mutex_destroy(&p->mu);
	free(p->root);
	free(p->account);
	free(p);
}

/* Note a failed operation in r, unless one was noted already. */
static void
probe_fail(struct probe_report *r, const char *what, int err)
{
	if (r->failed)
		return;
	r->failed = 1;
	snprintf(r->error, sizeof r->error, "%s: %s", what, strerror(err));
}

/* The write half: a small file made durable, renamed and removed. */
static void
probe_write(int dir, unsigned serial, struct probe_report *r)
{
	static const char block[PROBE_SIZE];
	char name[64], done[80];
	int fd;

	snprintf(name, sizeof name, "probe.%ld.%u", (long)getpid(), serial);
	snprintf(done, sizeof done, "%s.done", name);
	if ((fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0) {
		if (errno == ENOSPC || errno == EDQUOT)
			r->full = 1;
		else
			probe_fail(r, "create " PROBE_DIR "/probe file", errno);
		return;
	}
	if (write(fd, block, sizeof block) != (ssize_t)sizeof block ||
	    fsync(fd) != 0) {
		if (errno == ENOSPC || errno == EDQUOT)
			r->full = 1;
		else
			probe_fail(r, "write and fsync " PROBE_DIR
			    "/probe file", errno);
	}
	if (close(fd) != 0 && !r->full && errno != EINTR)
		probe_fail(r, "close " PROBE_DIR "/probe file", errno);
	if (renameat(dir, name, dir, done) != 0) {
		probe_fail(r, "rename in " PROBE_DIR, errno);
		unlinkat(dir, name, 0);
		return;
	}
	if (unlinkat(dir, done, 0) != 0)
		probe_fail(r, "unlink in " PROBE_DIR, errno);
}

/* The read half: an account's directory, as a login sees it. */
static void
probe_read(int root, const char *account, struct probe_report *r)
{
	struct stat sb;
	char *cause = NULL;
	DIR *d;
	int fd;

	if (account == NULL) {
		/* No account on the slice: the root itself. */
		if ((fd = openat(root, ".", O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) < 0) {
			probe_fail(r, "read the slice root", errno);
			return;
		}
	} else if ((fd = tree_open_below(root, account, &cause)) < 0) {
		/* An account moved or removed meanwhile is no failure of the
		 * slice; the next list names another. */
		if (errno != ENOENT && errno != EINVAL && errno != ELOOP &&
		    errno != ENOTDIR) {
			if (!r->failed) {
				r->failed = 1;
				snprintf(r->error, sizeof r->error,
				    "open account %s", cause);
			}
		}
		free(cause);
		return;
	}
	if (fstat(fd, &sb) != 0) {
		probe_fail(r, "stat an account", errno);
		close(fd);
		return;
	}
	if ((d = fdopendir(fd)) == NULL) {
		probe_fail(r, "read an account", errno);
		close(fd);
		return;
	}
	errno = 0;
	while (readdir(d) != NULL)
		;
	if (errno != 0)
		probe_fail(r, "read an account", errno);
	closedir(d);
}

void
probe_once(const char *root, const char *account, unsigned serial,
    struct probe_report *r)
{
	double t0 = monotonic_now();
	int rfd, dfd;

	memset(r, 0, sizeof *r);
	r->started = t0;
	if ((rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		probe_fail(r, "open the slice root", errno);
		goto out;
	}
	if (mkdirat(rfd, PROBE_DIR, 0700) != 0 && errno != EEXIST) {
		if (errno == ENOSPC || errno == EDQUOT)
			r->full = 1;
		else
			probe_fail(r, "make " PROBE_DIR, errno);
	}
	if ((dfd = openat(rfd, PROBE_DIR, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		probe_write(dfd, serial, r);
		close(dfd);
	} else if (!r->full)
		probe_fail(r, "open " PROBE_DIR " (not a directory, or a "
		    "symlink?)", errno);
	probe_read(rfd, account, r);
	close(rfd);
out:
	r->seconds = monotonic_now() - t0;
}

/* Sleep until monotonic time t, or until asked to quit; 1 to go on. */
static int
nap_until(struct prober *p, double t)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int quit;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		quit = p->quit;
		pthread_mutex_unlock(&p->mu);
		if (quit)
			return 0;
		if (monotonic_now() >= t)
			return 1;
		nanosleep(&ts, NULL);
	}
}

static void *
prober_main(void *arg)
{
	struct prober *p = arg;
	struct probe_report r;
	char *root, *account;
	double next = monotonic_now();
	unsigned serial;

	while (nap_until(p, next)) {
		pthread_mutex_lock(&p->mu);
		root = xstrdup(p->root);
		account = p->account ? xstrdup(p->account) : NULL;
		serial = p->serial++;
		p->started = monotonic_now();
		pthread_mutex_unlock(&p->mu);
		probe_once(root, account, serial, &r);
		free(root);
		free(account);
		r.slice = p->slice;
		pthread_mutex_lock(&p->mu);
		p->started = 0;
		if (p->nr < REPORTS)
			p->r[p->nr++] = r;
		next = r.started + p->interval;
		pthread_mutex_unlock(&p->mu);
	}
	prober_release(p);
	return NULL;
}

struct probe_set *
probe_new(double interval)
{
	struct probe_set *s = xcalloc(1, sizeof *s);

	s->interval = interval;
	return s;
}

void
probe_interval(struct probe_set *s, double interval)
{
	size_t i;

	s->interval = interval;
	for (i = 0; i < s->n; i++) {
		pthread_mutex_lock(&s->p[i]->mu);
		s->p[i]->interval = interval;
		pthread_mutex_unlock(&s->p[i]->mu);
	}
}

/* Start probing a slice; NULL when no thread can be started. */
static struct prober *
prober_start(struct probe_set *s, const struct probe_target *t)
{
	struct prober *p = xcalloc(1, sizeof *p);
	pthread_attr_t attr;
	pthread_t th;
	int rc;

	pthread_mutex_init(&p->mu, NULL);
	p->refs = 2;
	p->slice = t->slice;
	p->root = xstrdup(t->root);
	p->account = t->account ? xstrdup(t->account) : NULL;
	p->interval = s->interval;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	rc = pthread_create(&th, &attr, prober_main, p);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		p->refs = 1;
		prober_release(p);
		return NULL;
	}
	return p;
}

static void
prober_stop(struct prober *p)
{
	pthread_mutex_lock(&p->mu);
	p->quit = 1;
	pthread_mutex_unlock(&p->mu);
	prober_release(p);
}

void
probe_sync(struct probe_set *s, const struct probe_target *t, size_t n)
{
	struct prober *p;
	size_t i, j;

	/* Stop those not named; update the others. */
	for (i = 0; i < s->n;) {
		for (j = 0; j < n && t[j].slice != s->p[i]->slice; j++)
			;
		if (j == n) {
			prober_stop(s->p[i]);
			s->p[i] = s->p[--s->n];
			continue;
		}
		p = s->p[i++];
		pthread_mutex_lock(&p->mu);
		if (strcmp(p->root, t[j].root) != 0) {
			free(p->root);
			p->root = xstrdup(t[j].root);
		}
		if ((p->account == NULL) != (t[j].account == NULL) ||
		    (p->account && strcmp(p->account, t[j].account) != 0)) {
			free(p->account);
			p->account = t[j].account ? xstrdup(t[j].account) :
			    NULL;
		}
		pthread_mutex_unlock(&p->mu);
	}
	for (j = 0; j < n; j++) {
		for (i = 0; i < s->n && s->p[i]->slice != t[j].slice; i++)
			;
		if (i < s->n || (p = prober_start(s, &t[j])) == NULL)
			continue;
		s->p = xrealloc(s->p, (s->n + 1) * sizeof *s->p);
		s->p[s->n++] = p;
	}
}

void
probe_collect(struct probe_set *s,
    void (*done)(void *, const struct probe_report *),
    void (*busy)(void *, int64_t, double), void *arg)
{
	struct probe_report r[REPORTS];
	struct prober *p;
	double started;
	size_t i;
	int k, nr;

	for (i = 0; i < s->n; i++) {
		p = s->p[i];
		pthread_mutex_lock(&p->mu);
		nr = p->nr;
		memcpy(r, p->r, (size_t)nr * sizeof *r);
		p->nr = 0;
		started = p->started;
		pthread_mutex_unlock(&p->mu);
		for (k = 0; k < nr; k++)
			done(arg, &r[k]);
		busy(arg, p->slice, started);
	}
}

void
probe_free(struct probe_set *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		prober_stop(s->p[i]);
	free(s->p);
	free(s);
}
