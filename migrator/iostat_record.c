/* Recording the load of slices: see iostat_record.h. */
#define _GNU_SOURCE
#include "migrator/iostat_record.h"
#include "common/util.h"
#include "state/load.h"
#include "state/state.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The slices listed, before the names pick among them. */
struct listed {
	struct iostat_slice	*s;
	char			**source;	/* each one's last io_source */
	size_t			 n;
};

static void
prepare_cb(int64_t id, const char *name, const char *path,
    const char *io_source, void *arg)
{
	struct listed *l = arg;
	struct iostat_slice *s;

	l->s = xrealloc(l->s, (l->n + 1) * sizeof *l->s);
	l->source = xrealloc(l->source, (l->n + 1) * sizeof *l->source);
	s = &l->s[l->n];
	memset(s, 0, sizeof *s);
	s->id = id;
	s->name = xstrdup(name);
	s->path = xstrdup(path);
	l->source[l->n++] = xstrdup(io_source);
}

static int
named(const char *name, char **names, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (strcmp(names[i], name) == 0)
			return 1;
	}
	return 0;
}

/* Is slice i named, or does it share a named slice's counters? */
static int
wanted(const struct listed *l, size_t i, char **names, int n)
{
	size_t j;

	if (n == 0 || named(l->s[i].name, names, n))
		return 1;
	if (*l->source[i] == '\0' || strncmp(l->source[i], "none:", 5) == 0)
		return 0;
	for (j = 0; j < l->n; j++) {
		if (named(l->s[j].name, names, n) &&
		    strcmp(l->source[j], l->source[i]) == 0)
			return 1;
	}
	return 0;
}

int
iostat_round_prepare(struct iostat_round *rd, struct state *st,
    char **names, int n, char **cause)
{
	struct listed l = { NULL, NULL, 0 };
	char *pick;
	size_t i;
	int rc;

	memset(rd, 0, sizeof *rd);
	rc = state_load_slices(st, prepare_cb, &l, cause);
	rd->s = xcalloc(l.n + 1, sizeof *rd->s);
	/* Pick first, take after: the picking reads every slice. */
	pick = xcalloc(l.n + 1, 1);
	for (i = 0; i < l.n; i++)
		pick[i] = rc == 0 && wanted(&l, i, names, n);
	for (i = 0; i < l.n; i++) {
		if (pick[i])
			rd->s[rd->n++] = l.s[i];
		else {
			free(l.s[i].name);
			free(l.s[i].path);
		}
		free(l.source[i]);
	}
	free(pick);
	free(l.s);
	free(l.source);
	if (rc != 0)
		iostat_round_free(rd);
	return rc;
}

void
iostat_round_free(struct iostat_round *rd)
{
	size_t i;

	for (i = 0; i < rd->n; i++) {
		free(rd->s[i].name);
		free(rd->s[i].path);
		free(rd->s[i].error);
		iostat_reading_free(&rd->s[i].r);
	}
	free(rd->s);
	free(rd->error);
	memset(rd, 0, sizeof *rd);
}

void
iostat_round_read(struct iostat_round *rd, const char *proc_root)
{
	struct iostat_proc p;
	struct timespec ts;
	size_t i;

	if (iostat_proc_open(&p, proc_root, &rd->error) != 0) {
		for (i = 0; i < rd->n; i++)
			rd->s[i].error = xstrdup(rd->error);
		return;
	}
	for (i = 0; i < rd->n; i++)
		(void)iostat_read(&p, rd->s[i].path, &rd->s[i].r,
		    &rd->s[i].error);
	/* Every file was read once, just now: one instant for all. */
	clock_gettime(CLOCK_REALTIME, &ts);
	rd->at_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	rd->boot_ms = p.boot_ms;
	iostat_proc_close(&p);
}

/* What the store works out per slice. */
struct slot {
	struct state_io_reading	 last;
	size_t			 group;		/* first slice of its device */
	double			 weight;
	double			 accounts;	/* on the slice, for weigh */
	int			 valid;		/* an interval since last */
	int64_t			 ms;
};

/* Do readings a and b come from the same counters? */
static int
same_device(const struct iostat_slice *a, const struct iostat_slice *b)
{
	return a->error == NULL && b->error == NULL &&
	    a->r.kind != IOSTAT_NONE && a->r.kind == b->r.kind &&
	    a->r.major == b->r.major && a->r.minor == b->r.minor;
}

/* Was this reading taken before the stored one, by a round that another
 * writer overtook? (A clock that went back is not: its counters are
 * ahead of the stored ones.) */
static int
overtaken(const struct iostat_round *rd, const struct iostat_slice *s,
    const struct state_io_reading *last)
{
	return last->at_ms >= rd->at_ms && strcmp(last->source,
	    s->r.source) == 0 && last->ops >= s->r.ops &&
	    last->bytes >= s->r.bytes;
}

/* Is there an interval from last to this reading? Counters start over
 * when they fell, the source changed, or the device was made anew. */
static int
interval(const struct iostat_round *rd, const struct iostat_slice *s,
    const struct state_io_reading *last, int64_t *ms)
{
	int64_t span = rd->at_ms - last->at_ms;

	if (s->r.kind == IOSTAT_NONE || last->at_ms <= 0 ||
	    strcmp(last->source, s->r.source) != 0 || span <= 0 ||
	    s->r.ops < last->ops || s->r.bytes < last->bytes)
		return 0;
	/* Rebooted, or the NFS mount mounted again, since the last. */
	if (rd->boot_ms > last->at_ms)
		return 0;
	if (s->r.kind == IOSTAT_NFS &&
	    (int64_t)(s->r.age + 1) * 1000 < span)
		return 0;
	*ms = span;
	return 1;
}

/* Of delta, the part of the weights from before to before + w of total
 * (rounded at both ends, so that consecutive parts add up exactly). */
static uint64_t
share(uint64_t delta, double before, double w, double total)
{
	double a = (double)delta * (before / total);
	double b = (double)delta * ((before + w) / total);
	uint64_t ra = (uint64_t)(a + 0.5), rb = (uint64_t)(b + 0.5);

	if (rb > delta)
		rb = delta;
	return rb > ra ? rb - ra : 0;
}

/* Weigh the slices of each device with more than one. */
static int
weigh(struct iostat_round *rd, struct slot *x, struct state *st,
    int64_t now, char **cause)
{
	size_t i, j, members;
	double sum, naccts;
	int64_t n;

	for (i = 0; i < rd->n; i++)
		x[i].weight = 1;
	for (i = 0; i < rd->n; i++) {
		if (rd->s[i].error != NULL || x[i].group != i)
			continue;
		for (j = i, members = 0; j < rd->n; j++)
			members += x[j].group == i && rd->s[j].error == NULL;
		if (members < 2)
			continue;
		sum = naccts = 0;
		for (j = i; j < rd->n; j++) {
			if (x[j].group != i || rd->s[j].error != NULL)
				continue;
			if (state_load_activity(st, rd->s[j].id, now,
			    &x[j].weight, &n, cause) != 0)
				return -1;
			sum += x[j].weight;
			x[j].accounts = (double)n;
			naccts += (double)n;
		}
		/* Nobody active: by the number of mailboxes (a slice without
		 * any serves none of it); none anywhere: equal parts. */
		for (j = i; j < rd->n && sum <= 0; j++) {
			if (x[j].group == i)
				x[j].weight = naccts > 0 ? x[j].accounts : 1;
		}
	}
	return 0;
}

/* The step of slice i: its reading and its part of its device's
 * delta. */
static void
step_of(struct iostat_round *rd, struct slot *x, size_t i,
    struct state_load_step *step)
{
	const struct iostat_slice *s = &rd->s[i];
	const struct state_io_reading *l = &x[i].last;
	double before = 0, total = 0;
	size_t j;

	memset(step, 0, sizeof *step);
	step->slice_id = s->id;
	step->prev_at_ms = l->at_ms;
	step->raw.source = s->r.source;
	step->raw.ops = s->r.ops;
	step->raw.bytes = s->r.bytes;
	step->raw.at_ms = rd->at_ms;
	if (!x[i].valid)
		return;
	/* The slices of the device read before and this one share its
	 * delta by weight; those from the same last reading take
	 * consecutive parts of it. */
	for (j = x[i].group; j < rd->n; j++) {
		if (x[j].group != x[i].group || rd->s[j].error != NULL)
			continue;
		total += x[j].weight;
		if (j < i && x[j].valid && x[j].last.at_ms == l->at_ms &&
		    x[j].last.ops == l->ops && x[j].last.bytes == l->bytes)
			before += x[j].weight;
	}
	step->ms = x[i].ms;
	step->ops = share(s->r.ops - l->ops, before, x[i].weight, total);
	step->bytes = share(s->r.bytes - l->bytes, before, x[i].weight,
	    total);
}

int
iostat_round_store(struct iostat_round *rd, struct state *st, int64_t now,
    struct iostat_outcome *o, char **cause)
{
	struct iostat_outcome out;
	struct state_load_step step;
	struct slot *x;
	size_t i, j;
	int rc = -1;

	memset(&out, 0, sizeof out);
	x = xcalloc(rd->n + 1, sizeof *x);
	if (state_begin(st, cause) != 0)
		goto done;
	for (i = 0; i < rd->n; i++) {
		for (j = 0; j < i && !same_device(&rd->s[j], &rd->s[i]); j++)
			;
		x[i].group = j;
		if (rd->s[i].error != NULL) {
			out.failed++;
			continue;
		}
		if (state_load_last(st, rd->s[i].id, &x[i].last, cause) != 0)
			goto bad;
		x[i].valid = interval(rd, &rd->s[i], &x[i].last, &x[i].ms);
	}
	if (weigh(rd, x, st, now, cause) != 0)
		goto bad;
	for (i = 0; i < rd->n; i++) {
		if (rd->s[i].error != NULL)
			continue;
		if (overtaken(rd, &rd->s[i], &x[i].last)) {
			out.stale++;
			continue;
		}
		if (rd->s[i].r.kind == IOSTAT_NONE) {
			out.none++;
			/* Said once: the catalog is not written each time. */
			if (strcmp(x[i].last.source, rd->s[i].r.source) == 0)
				continue;
		}
		step_of(rd, x, i, &step);
		if (state_load_advance(st, &step, cause) != 0)
			goto bad;
		if (step.stale)
			out.stale++;
		else if (step.ms > 0)
			out.intervals++;
		else if (rd->s[i].r.kind != IOSTAT_NONE)
			out.started++;
	}
	if (state_commit(st, cause) != 0)
		goto done;
	if (o != NULL)
		*o = out;
	rc = 0;
	goto done;
bad:
	state_rollback(st);
done:
	for (i = 0; i < rd->n; i++)
		free(x[i].last.source);
	free(x);
	return rc;
}

int
iostat_record(struct state *st, const char *proc_root, char **names, int n,
    struct iostat_outcome *o,
    void (*warn)(void *, const char *, const char *), void *arg,
    char **cause)
{
	struct iostat_round rd;
	size_t i;
	int rc;

	if (iostat_round_prepare(&rd, st, names, n, cause) != 0)
		return -1;
	if (rd.n == 0) {
		iostat_round_free(&rd);
		if (o != NULL)
			memset(o, 0, sizeof *o);
		return 0;
	}
	iostat_round_read(&rd, proc_root);
	if (warn != NULL) {
		if (rd.error != NULL)
			warn(arg, NULL, rd.error);
		for (i = 0; i < rd.n && rd.error == NULL; i++) {
			if (rd.s[i].error != NULL)
				warn(arg, rd.s[i].name, rd.s[i].error);
		}
	}
	rc = iostat_round_store(&rd, st, now_unix(), o, cause);
	iostat_round_free(&rd);
	return rc;
}
