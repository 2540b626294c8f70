/*
 * Benchmark of the rebalance planner on generated fleets.
 *
 *   planner-bench [-dflo] [-s seed] [ACCOUNTS/SLICES ...]
 *
 * Without sizes it runs 10000/20, 100000/200 and 1000000/1000. It plans a
 * balance; -d a drain of the first slice instead, -f a fill of the first
 * slice made new and empty; -o forbids moves inside a pair. Each size
 * runs in a child process of its own so that its peak memory is its own.
 * A fleet has slices of three size classes at fills from 35% to 80%, one
 * in ten over-full (86% to 97%), two slices to a pair; account sizes are
 * log-normal (median 50 MiB, from 4 KiB to 8 GiB), one in five active in
 * the last week, 1% pinned and 0.5% already moving. Prints per size the
 * planning time (CLOCK_MONOTONIC), peak memory (ru_maxrss), moves, bytes
 * moved over the lower bound, the largest |fill - mean| afterwards and
 * whether every slice is in the band.
 *
 * -l adds load, the second dimension: each account serves ops/s drawn
 * log-normal (median 0.02, heavy-tailed, independent of its size, so
 * small busy and big idle mailboxes both occur), three times as much on
 * one slice in eight; a slice's load is its accounts', its ops capacity
 * 1000 ops/s per size class. The plan balances both; the line adds the
 * ops/s moved, the bytes moved over the byte lower bound and over the
 * load one (the fewest bytes that carry the load to move), the largest
 * |load fill - mean| afterwards and whether the load band is reached.
 */
#define _GNU_SOURCE
#include "planner/planner.h"
#include "common/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NOW	INT64_C(1800000000)
#define DAY	(24 * 3600)

/* What to plan. */
struct job {
	enum planner_strategy	 strategy;
	int			 other_pair;
	int			 load;
	uint64_t		 seed;
};

/* A generated fleet. */
struct fleet {
	struct planner_slice	*sl;
	size_t			 ns;
	struct planner_account	*ac;
	size_t			 na;
};

/* The next number of a splitmix64 generator. */
static uint64_t
rnd(uint64_t *st)
{
	uint64_t z = (*st += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double
unif(uint64_t *st)
{
	return (double)(rnd(st) >> 11) / 9007199254740992.0;
}

/* Standard normal (Box-Muller). */
static double
normal(uint64_t *st)
{
	double a = unif(st), b = unif(st);

	return sqrt(-2 * log(a + 1e-300)) * cos(2 * M_PI * b);
}

/* Generate a fleet of na accounts over ns slices. */
static void
fleet_make(struct fleet *f, size_t na, size_t ns, uint64_t seed)
{
	static const double cls[] = { 1, 2, 4 };
	uint64_t st = seed, b, *used;
	double *w, wsum = 0, fill;
	size_t i, j, k, n, *count, given = 0;
	char name[32];

	f->ns = ns;
	f->na = na;
	f->sl = xcalloc(ns, sizeof *f->sl);
	f->ac = xcalloc(na, sizeof *f->ac);
	w = xcalloc(ns, sizeof *w);
	count = xcalloc(ns, sizeof *count);
	used = xcalloc(ns, sizeof *used);
	for (i = 0; i < ns; i++) {
		w[i] = cls[rnd(&st) % 3] * (0.8 + 0.4 * unif(&st));
		wsum += w[i];
	}
	for (i = 0; i < ns; i++) {
		count[i] = (size_t)((double)na * w[i] / wsum);
		given += count[i];
	}
	for (i = 0; given < na; i = (i + 1) % ns, given++)
		count[i]++;
	for (i = 0, k = 0; i < ns; i++) {
		for (n = 0; n < count[i]; n++, k++) {
			b = (uint64_t)exp(log(50.0 * 1048576) +
			    1.6 * normal(&st));
			if (b < 4096)
				b = 4096;
			if (b > (UINT64_C(8) << 30))
				b = UINT64_C(8) << 30;
			f->ac[k].id = (int64_t)k + 1;
			f->ac[k].slice = i;
			f->ac[k].bytes = b;
			f->ac[k].files = b / 40000 + 1;
			f->ac[k].last_activity = rnd(&st) % 5 == 0 ?
			    NOW - (int64_t)(rnd(&st) % (7 * DAY)) :
			    NOW - 7 * DAY - (int64_t)(rnd(&st) % (300 * DAY));
			f->ac[k].pinned = rnd(&st) % 100 == 0;
			f->ac[k].moving = !f->ac[k].pinned &&
			    rnd(&st) % 200 == 0;
			used[i] += b;
		}
	}
	for (i = 0; i < ns; i++) {
		snprintf(name, sizeof name, "s%zu", i + 1);
		fill = rnd(&st) % 10 == 0 ? 0.86 + 0.11 * unif(&st) :
		    0.35 + 0.45 * unif(&st);
		f->sl[i].id = (int64_t)i + 1;
		f->sl[i].name = xstrdup(name);
		f->sl[i].pair_id = (int64_t)(i / 2) + 1;
		f->sl[i].used = used[i];
		f->sl[i].capacity = (uint64_t)((double)used[i] / fill) + 1;
		f->sl[i].receives = 1;
		f->sl[i].balances = 1;
	}
	/* A moving account is on its way to some other slice. */
	for (k = 0; k < na; k++) {
		if (!f->ac[k].moving)
			continue;
		i = f->ac[k].slice;
		j = (i + 1 + rnd(&st) % (ns > 1 ? ns - 1 : 1)) % ns;
		if (j == i)
			continue;
		f->sl[i].pending_out += f->ac[k].bytes;
		f->sl[j].pending_in += f->ac[k].bytes;
	}
	free(w);
	free(count);
	free(used);
}

/* Give the fleet load: see -l above. */
static void
fleet_load(struct fleet *f, uint64_t seed)
{
	uint64_t st = seed ^ UINT64_C(0x5eed);
	double *hot, l, opsum = 0, loadsum = 0, scale;
	size_t i, k;

	hot = xcalloc(f->ns, sizeof *hot);
	for (i = 0; i < f->ns; i++) {
		hot[i] = rnd(&st) % 8 == 0 ? 3 : 1;
		/* The size class, from the capacity's share. */
		f->sl[i].ops_capacity = 0;
	}
	for (k = 0; k < f->na; k++) {
		l = exp(log(0.02) + 1.5 * normal(&st)) * hot[f->ac[k].slice];
		f->ac[k].load = l;
		f->sl[f->ac[k].slice].load += l;
	}
	for (i = 0; i < f->ns; i++)
		opsum += (double)f->sl[i].capacity;
	for (i = 0; i < f->ns; i++) {
		f->sl[i].ops_capacity = (double)f->sl[i].capacity;
		loadsum += f->sl[i].load;
	}
	/* Ops capacity in proportion to bytes, the fleet at 40% load. */
	scale = loadsum / 0.40 / opsum;
	for (i = 0; i < f->ns; i++)
		f->sl[i].ops_capacity *= scale;
	/* Moving accounts take their load along. */
	for (k = 0; k < f->na; k++) {
		if (f->ac[k].moving)
			f->sl[f->ac[k].slice].load_out += f->ac[k].load;
	}
	free(hot);
}

/* Make slice 0 new and empty, of the average capacity, its accounts
 * moved to slice 1. */
static void
fleet_empty_first(struct fleet *f)
{
	uint64_t cap = 0;
	size_t i;

	if (f->ns < 2)
		return;
	for (i = 0; i < f->ns; i++)
		cap += f->sl[i].capacity / f->ns;
	for (i = 0; i < f->na; i++) {
		if (f->ac[i].slice == 0)
			f->ac[i].slice = 1;
	}
	f->sl[1].used += f->sl[0].used;
	f->sl[1].capacity += f->sl[0].capacity;
	f->sl[1].pending_out += f->sl[0].pending_out;
	f->sl[1].pending_in += f->sl[0].pending_in;
	f->sl[0].used = f->sl[0].pending_out = f->sl[0].pending_in = 0;
	f->sl[0].capacity = cap;
}

/* Free a fleet. */
static void
fleet_free(struct fleet *f)
{
	size_t i;

	for (i = 0; i < f->ns; i++)
		free((char *)f->sl[i].name);
	free(f->sl);
	free(f->ac);
}

/* Seconds of CLOCK_MONOTONIC. */
static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Generate, plan and report one size; returns an exit status. */
static int
bench_one(size_t na, size_t ns, const struct job *jb)
{
	struct planner_options o;
	struct planner_result r;
	struct rusage ru;
	struct fleet f;
	double t0, t1, dev = 0, d;
	char *cause = NULL, b1[32], b2[32];
	size_t i;

	fleet_make(&f, na, ns, jb->seed);
	if (jb->strategy == PLANNER_FILL)
		fleet_empty_first(&f);
	if (jb->load)
		fleet_load(&f, jb->seed);
	planner_options_default(&o);
	o.now = NOW;
	o.strategy = jb->strategy;
	o.other_pair = jb->other_pair;
	o.by_load = jb->load;
	t0 = mono();
	if (planner_run(f.sl, f.ns, f.ac, f.na, &o, &r, &cause) != 0) {
		fprintf(stderr, "planner-bench: %s\n", cause);
		free(cause);
		fleet_free(&f);
		return 1;
	}
	t1 = mono();
	getrusage(RUSAGE_SELF, &ru);
	for (i = 0; i < f.ns; i++) {
		if (o.strategy == PLANNER_DRAIN && i == o.slice)
			continue;
		d = fabs(r.fill_after[i] - r.mean_fill);
		if (d > dev)
			dev = d;
	}
	printf("%8zu/%-5zu %7.3fs %7ld MiB %7zu moves %10s of %10s "
	    "%5.3fx lower bound  max |fill-mean| %5.2f%% (before %5.2f%%)  "
	    "band %s\n", na, ns, t1 - t0, ru.ru_maxrss / 1024, r.nmoves,
	    size_format(r.bytes, b1, sizeof b1),
	    size_format(r.lower_bound, b2, sizeof b2),
	    r.lower_bound ? (double)r.bytes / (double)r.lower_bound : 1.0,
	    100 * dev, 100 * fmax(r.max_before - r.mean_fill,
	    r.mean_fill - r.min_before), r.band_reached ? "reached" :
	    "NOT reached");
	if (jb->load) {
		dev = 0;
		for (i = 0; i < f.ns; i++) {
			if (o.strategy == PLANNER_DRAIN && i == o.slice)
				continue;
			d = fabs(r.load_after[i] - r.load_mean);
			if (d > dev)
				dev = d;
		}
		printf("%8s %-5s load: %9.1f ops/s moved of %9.1f  bytes over "
		    "the load bound %10s %5.3fx, over both %10s %5.3fx  "
		    "max |load-mean| %5.2f%% (before %5.2f%%)  load band %s\n",
		    "", "", r.load, r.load_lower_bound,
		    size_format(r.load_lower_bytes, b1, sizeof b1),
		    r.load_lower_bytes ? (double)r.bytes /
		    (double)r.load_lower_bytes : 1.0,
		    size_format(r.both_lower_bytes, b2, sizeof b2),
		    r.both_lower_bytes ? (double)r.bytes /
		    (double)r.both_lower_bytes : 1.0, 100 * dev,
		    100 * fmax(r.load_max_before - r.load_mean, r.load_mean -
		    r.load_min_before), r.load_band_reached ? "reached" :
		    "NOT reached");
	}
	if (getenv("PLANNER_BENCH_SLICES") != NULL) {
		for (i = 0; i < f.ns; i++)
			printf("  %-6s fill %5.1f%% -> %5.1f%%  load %6.1f%% -> "
			    "%6.1f%%\n", f.sl[i].name, 100 * r.fill_before[i],
			    100 * r.fill_after[i], jb->load ? 100 *
			    r.load_before[i] : 0, jb->load ? 100 *
			    r.load_after[i] : 0);
		printf("  band %.1f%%..%.1f%%  load band %.1f%%..%.1f%%\n",
		    100 * r.band_low, 100 * r.band_high, 100 * r.load_band_low,
		    100 * r.load_band_high);
	}
	planner_result_free(&r);
	fleet_free(&f);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* Run one size in a child process; returns its exit status. */
static int
bench_child(size_t na, size_t ns, const struct job *jb)
{
	pid_t pid;
	int st;

	fflush(stdout);
	if ((pid = fork()) < 0) {
		perror("planner-bench: fork");
		return 1;
	}
	if (pid == 0)
		_exit(bench_one(na, ns, jb));
	if (waitpid(pid, &st, 0) < 0)
		return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

int
main(int argc, char **argv)
{
	static const size_t def[][2] = {
		{ 10000, 20 }, { 100000, 200 }, { 1000000, 1000 }
	};
	unsigned long long na, ns;
	struct job jb = { PLANNER_BALANCE, 0, 0, 42 };
	int c, rc = 0;
	size_t i;

	while ((c = getopt(argc, argv, "dflos:")) != -1) {
		switch (c) {
		case 'd':
			jb.strategy = PLANNER_DRAIN;
			break;
		case 'f':
			jb.strategy = PLANNER_FILL;
			break;
		case 'l':
			jb.load = 1;
			break;
		case 'o':
			jb.other_pair = 1;
			break;
		case 's':
			jb.seed = strtoull(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: planner-bench [-dflo] [-s seed] "
			    "[ACCOUNTS/SLICES ...]\n");
			return 2;
		}
	}
	if (optind == argc) {
		for (i = 0; i < sizeof def / sizeof def[0]; i++)
			rc |= bench_child(def[i][0], def[i][1], &jb);
		return rc;
	}
	for (; optind < argc; optind++) {
		if (sscanf(argv[optind], "%llu/%llu", &na, &ns) != 2 ||
		    ns == 0) {
			fprintf(stderr, "planner-bench: bad size '%s'; use "
			    "ACCOUNTS/SLICES, e.g. 100000/200\n",
			    argv[optind]);
			return 2;
		}
		rc |= bench_child((size_t)na, (size_t)ns, &jb);
	}
	return rc;
}
