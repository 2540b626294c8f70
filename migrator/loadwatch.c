/* The daemon's load recorder: see loadwatch.h. */
#define _GNU_SOURCE
#include "migrator/loadwatch.h"
#include "common/config.h"
#include "common/log.h"
#include "common/util.h"
#include "migrator/iostat_record.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define HUNG_AFTER 3		/* intervals a round may read before a warning */

/* What was said of a slice that could not be read. */
struct said {
	int64_t	 id;
	char	*error;
	int	 seen;			/* still failing in this round */
};

/* A round on its thread, with what it needs. */
struct job {
	struct loadwatch	*lw;
	struct iostat_round	 rd;
	char			*proc_root;
};

struct loadwatch {
	pthread_mutex_t	 mu;		/* the three below */
	int		 reading;	/* a job's thread runs */
	struct job	*done;		/* read, to be stored */
	int		 orphaned;	/* freed while reading */
	int64_t		 started;	/* Unix time of the last round */
	int		 warned_hung;
	struct said	*said;
	size_t		 nsaid;
};

struct loadwatch *
loadwatch_new(void)
{
	struct loadwatch *lw = xcalloc(1, sizeof *lw);

	pthread_mutex_init(&lw->mu, NULL);
	return lw;
}

static void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	iostat_round_free(&j->rd);
	free(j->proc_root);
	free(j);
}

static void
said_free(struct loadwatch *lw)
{
	size_t i;

	for (i = 0; i < lw->nsaid; i++)
		free(lw->said[i].error);
	free(lw->said);
	lw->said = NULL;
	lw->nsaid = 0;
}

static void *
job_main(void *arg)
{
	struct job *j = arg;
	struct loadwatch *lw = j->lw;

	iostat_round_read(&j->rd, j->proc_root);
	pthread_mutex_lock(&lw->mu);
	lw->reading = 0;
	if (lw->orphaned) {
		pthread_mutex_unlock(&lw->mu);
		pthread_mutex_destroy(&lw->mu);
		free(lw);
		job_free(j);
		return NULL;
	}
	lw->done = j;
	pthread_mutex_unlock(&lw->mu);
	return NULL;
}

/* Log a slice's failure when it starts or changes, and its end. */
static void
tell(struct loadwatch *lw, const struct iostat_round *rd)
{
	struct said *s;
	size_t i, k;

	for (k = 0; k < lw->nsaid; k++)
		lw->said[k].seen = 0;
	for (i = 0; i < rd->n; i++) {
		if (rd->s[i].error == NULL)
			continue;
		for (k = 0; k < lw->nsaid && lw->said[k].id != rd->s[i].id;
		    k++)
			;
		if (k == lw->nsaid) {
			lw->said = xrealloc(lw->said, (lw->nsaid + 1) *
			    sizeof *lw->said);
			s = &lw->said[lw->nsaid++];
			s->id = rd->s[i].id;
			s->error = NULL;
		} else
			s = &lw->said[k];
		s->seen = 1;
		if (s->error == NULL || strcmp(s->error, rd->s[i].error) != 0)
			log_warnx("load of slice %s not measured: %s",
			    rd->s[i].name, rd->s[i].error);
		free(s->error);
		s->error = xstrdup(rd->s[i].error);
	}
	for (k = 0; k < lw->nsaid;) {
		if (lw->said[k].seen) {
			k++;
			continue;
		}
		for (i = 0; i < rd->n && rd->s[i].id != lw->said[k].id; i++)
			;
		if (i < rd->n)
			log_info("load of slice %s measured again (%s)",
			    rd->s[i].name, rd->s[i].r.source);
		free(lw->said[k].error);
		lw->said[k] = lw->said[--lw->nsaid];
	}
}

/* Store a round that was read. */
static void
store(struct loadwatch *lw, struct state *st, struct job *j, int64_t now)
{
	struct iostat_outcome o;
	char *cause = NULL;

	tell(lw, &j->rd);
	if (iostat_round_store(&j->rd, st, now, &o, &cause) != 0) {
		log_warnx("load: cannot record the slices' counters: %s",
		    cause);
		free(cause);
		return;
	}
	log_debug("load: %zu intervals, %zu readings started, %zu slices "
	    "without counters, %zu not read, %zu stored meanwhile by another "
	    "writer", o.intervals, o.started, o.none, o.failed, o.stale);
}

/* Start a round on a thread of its own. */
static void
start(struct loadwatch *lw, struct state *st, const struct config *cfg)
{
	struct job *j = xcalloc(1, sizeof *j);
	pthread_attr_t attr;
	pthread_t th;
	char *cause = NULL;

	j->lw = lw;
	if (iostat_round_prepare(&j->rd, st, NULL, 0, &cause) != 0) {
		log_warnx("load: cannot read the slices: %s", cause);
		free(cause);
		free(j);
		return;
	}
	if (j->rd.n == 0) {
		job_free(j);
		return;
	}
	j->proc_root = xstrdup(cfg->proc_root);
	lw->reading = 1;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, job_main, j) != 0) {
		log_warnx("load: cannot start a thread to read the counters");
		lw->reading = 0;
		job_free(j);
	}
	pthread_attr_destroy(&attr);
}

void
loadwatch_tick(struct loadwatch *lw, struct state *st,
    const struct config *cfg, int64_t now)
{
	struct job *done;
	int reading;

	pthread_mutex_lock(&lw->mu);
	done = lw->done;
	lw->done = NULL;
	reading = lw->reading;
	pthread_mutex_unlock(&lw->mu);
	if (done != NULL) {
		store(lw, st, done, now);
		job_free(done);
		lw->warned_hung = 0;
	}
	if (cfg->load_interval == 0 ||
	    now - lw->started < (int64_t)cfg->load_interval)
		return;
	if (reading) {
		if (!lw->warned_hung && now - lw->started >=
		    HUNG_AFTER * (int64_t)cfg->load_interval) {
			log_warnx("load: the counters read %llds ago are not "
			    "in yet (a slice's root may hang in lstat); no "
			    "new reading until they are",
			    (long long)(now - lw->started));
			lw->warned_hung = 1;
		}
		return;
	}
	lw->started = now;
	start(lw, st, cfg);
}

void
loadwatch_free(struct loadwatch *lw)
{
	int reading;

	if (lw == NULL)
		return;
	said_free(lw);
	pthread_mutex_lock(&lw->mu);
	job_free(lw->done);
	lw->done = NULL;
	reading = lw->reading;
	lw->orphaned = reading;
	pthread_mutex_unlock(&lw->mu);
	if (!reading) {
		pthread_mutex_destroy(&lw->mu);
		free(lw);
	}
}
