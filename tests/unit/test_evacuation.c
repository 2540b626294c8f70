/*
 * Unit tests of the evacuation and restore model (migrator/evacuation.c):
 * each estimate against a computation by hand, from a configuration with
 * known throttles, windows and caps, at a known time of day.
 *
 * Sizes are in MiB so that the sums stay readable: at 10 MiB/s, 36,000
 * MiB take 3,600 s.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include "common/config.h"
#include "migrator/evacuation.h"

#define MIB (UINT64_C(1) << 20)
#define T0 1767225600		/* 2026-01-01T00:00:00Z, a Thursday */
#define HOUR 3600
#define DAY 86400

/* The built-in defaults with [throttle] rates and no window. */
static void
conf(struct config *c, uint64_t bytes_per_second, uint64_t files_per_second)
{
	config_defaults(c);
	c->bytes_per_second = bytes_per_second;
	c->files_per_second = files_per_second;
}

/* Add a window from HH:00 to HH:00 (UTC) with its rates. */
static void
window(struct config *c, const char *name, int from, int to,
    uint64_t bytes_per_second, uint64_t files_per_second, int cutover)
{
	struct config_window *w = &c->windows[c->nwindows++];

	memset(w, 0, sizeof *w);
	snprintf(w->name, sizeof w->name, "%s", name);
	w->from = from * 60;
	w->to = to * 60;
	w->bytes_per_second = bytes_per_second;
	w->files_per_second = files_per_second;
	w->cutover = cutover;
}

static void
estimate(const struct config *c, int64_t now, uint64_t bytes,
    uint64_t files, int64_t accounts, struct evacuation *e)
{
	struct evacuation_schedule s;

	evacuation_schedule_init(&s, c);
	evacuation_estimate(&s, now, bytes, files, accounts, e);
}

/* No window, a [throttle] rate: bytes over the rate, times the moves
 * that may leave a slice at once (per_source, max_moves, accounts). */
static void
test_global_rate(void **arg)
{
	struct config c;
	struct evacuation e;

	(void)arg;
	conf(&c, 10 * MIB, 0);
	/* 36,000 MiB at 10 MiB/s, one move at a time (per_source 1). */
	estimate(&c, T0 + 13 * HOUR, 36000 * MIB, 1000, 10, &e);
	assert_int_equal(e.status, EVACUATION_OK);
	assert_int_equal(e.streams, 1);
	assert_int_equal(e.seconds, 3600);
	/* The same at any time of the day: nothing changes the rate. */
	estimate(&c, T0 + 23 * HOUR + 1800, 36000 * MIB, 1000, 10, &e);
	assert_int_equal(e.seconds, 3600);
	/* Two moves out of one slice at once: each has its own buckets. */
	c.per_source = 2;
	estimate(&c, T0, 36000 * MIB, 1000, 10, &e);
	assert_int_equal(e.streams, 2);
	assert_int_equal(e.seconds, 1800);
	/* ... but not more than max_moves, nor than it has accounts. */
	c.per_source = 3;
	c.max_moves = 2;
	estimate(&c, T0, 36000 * MIB, 1000, 10, &e);
	assert_int_equal(e.streams, 2);
	assert_int_equal(e.seconds, 1800);
	estimate(&c, T0, 36000 * MIB, 1000, 1, &e);
	assert_int_equal(e.streams, 1);
	assert_int_equal(e.seconds, 3600);
	/* A fraction of a second counts as a second. */
	c.per_source = c.max_moves = 1;
	estimate(&c, T0, 36001 * MIB, 1000, 1, &e);
	assert_int_equal(e.seconds, 3601);
	/* Nothing to move. */
	estimate(&c, T0, 0, 0, 0, &e);
	assert_int_equal(e.status, EVACUATION_EMPTY);
	assert_int_equal(e.seconds, 0);
	assert_int_equal(e.restore, 0);
	assert_int_equal(e.flagged, 0);
	config_free(&c);
}

/*
 * [throttle] 10 MiB/s, window nights 22:00-06:00 at 40 MiB/s, from 20:00:
 * two hours at 10 MiB/s move 72,000 MiB; the other 128,000 MiB of 200,000
 * take 3,200 s at 40: 10,400 s in all.
 */
static void
test_throttle_and_window(void **arg)
{
	struct config c;
	struct evacuation e;

	(void)arg;
	conf(&c, 10 * MIB, 0);
	window(&c, "nights", 22, 6, 40 * MIB, 0, 1);
	estimate(&c, T0 + 20 * HOUR, 200000 * MIB, 5000, 20, &e);
	assert_int_equal(e.status, EVACUATION_OK);
	assert_int_equal(e.seconds, 7200 + 3200);
	/* From 23:00, inside the window: 200,000 MiB at 40 take 5,000 s. */
	estimate(&c, T0 + 23 * HOUR, 200000 * MIB, 5000, 20, &e);
	assert_int_equal(e.seconds, 5000);
	/* From 05:00: one hour at 40 (144,000 MiB), the rest at 10. */
	estimate(&c, T0 + 5 * HOUR, 200000 * MIB, 5000, 20, &e);
	assert_int_equal(e.seconds, 3600 + 5600);
	config_free(&c);
}

/*
 * [throttle] 5 MiB/s; window late 22:00-02:00 at 20 MiB/s and early
 * 02:00-06:00 at 50 MiB/s. From 23:00: three hours at 20 (216,000 MiB)
 * across midnight, then 184,000 MiB of 400,000 at 50 (3,680 s). A day
 * moves 288,000 + 720,000 + 288,000 = 1,296,000 MiB: ten days' worth
 * takes exactly ten days from any time, whole days being skipped.
 */
static void
test_two_windows_across_midnight(void **arg)
{
	struct config c;
	struct evacuation e;

	(void)arg;
	conf(&c, 5 * MIB, 0);
	window(&c, "late", 22, 2, 20 * MIB, 0, 1);
	window(&c, "early", 2, 6, 50 * MIB, 0, 1);
	estimate(&c, T0 + 23 * HOUR, 400000 * MIB, 10000, 50, &e);
	assert_int_equal(e.status, EVACUATION_OK);
	assert_int_equal(e.seconds, 3 * HOUR + 3680);
	estimate(&c, T0 + 23 * HOUR, 12960000 * MIB, 10000, 50, &e);
	assert_int_equal(e.seconds, 10 * DAY);
	estimate(&c, T0 + 9 * HOUR + 17, 12960000 * MIB, 10000, 50, &e);
	assert_int_equal(e.seconds, 10 * DAY);
	/* Ten days and then 2 hours at 5 MiB/s from 10:00 (36,000 MiB). */
	estimate(&c, T0 + 10 * HOUR, (12960000 + 36000) * MIB, 10000, 50,
	    &e);
	assert_int_equal(e.seconds, 10 * DAY + 2 * HOUR);
	/* Windows in the other order in the file: the same schedule. */
	c.nwindows = 0;
	window(&c, "early", 2, 6, 50 * MIB, 0, 1);
	window(&c, "late", 22, 2, 20 * MIB, 0, 1);
	estimate(&c, T0 + 23 * HOUR, 400000 * MIB, 10000, 50, &e);
	assert_int_equal(e.seconds, 3 * HOUR + 3680);
	config_free(&c);
}

/*
 * The tighter limit sets the pace: 1,000 MiB in 100,000 files take 10 s
 * at 100 MiB/s but 1,000 s at 100 files/s.
 */
static void
test_files_bind(void **arg)
{
	struct config c;
	struct evacuation e;

	(void)arg;
	conf(&c, 100 * MIB, 100);
	estimate(&c, T0, 1000 * MIB, 100000, 100, &e);
	assert_int_equal(e.seconds, 1000);
	/* Few big files: the bytes bind. */
	estimate(&c, T0, 1000 * MIB, 100, 100, &e);
	assert_int_equal(e.seconds, 10);
	/* Files only, bytes unlimited; a slice of empty files. */
	config_free(&c);
	conf(&c, 0, 100);
	estimate(&c, T0, 1000 * MIB, 100000, 100, &e);
	assert_int_equal(e.status, EVACUATION_OK);
	assert_int_equal(e.seconds, 1000);
	estimate(&c, T0, 0, 5000, 100, &e);
	assert_int_equal(e.seconds, 50);
	/* A window lifting the bytes limit, keeping 200 files/s, from
	 * 00:00 to 01:00: 100,000 files take 500 s there. */
	config_free(&c);
	conf(&c, 100 * MIB, 100);
	window(&c, "files", 0, 1, 0, 200, 1);
	estimate(&c, T0, 1000 * MIB, 100000, 100, &e);
	assert_int_equal(e.seconds, 500);
	config_free(&c);
}

/* No limit at all: the time cannot be known from the configuration. */
static void
test_unthrottled(void **arg)
{
	struct config c;
	struct evacuation e;

	(void)arg;
	conf(&c, 0, 0);
	estimate(&c, T0, 1000 * MIB, 1000, 10, &e);
	assert_int_equal(e.status, EVACUATION_UNTHROTTLED);
	assert_int_equal(e.seconds, -1);
	assert_string_equal(e.unthrottled, "[throttle]");
	/* A window's 0 lifts [throttle]: 10 MiB/s until 22:00, then none.
	 * What fits before it is known, what does not is not. */
	config_free(&c);
	conf(&c, 10 * MIB, 0);
	window(&c, "nights", 22, 6, 0, 0, 1);
	estimate(&c, T0 + 21 * HOUR, 36000 * MIB, 1000, 10, &e);
	assert_int_equal(e.status, EVACUATION_OK);
	assert_int_equal(e.seconds, 3600);
	estimate(&c, T0 + 21 * HOUR, 36001 * MIB, 1000, 10, &e);
	assert_int_equal(e.status, EVACUATION_UNTHROTTLED);
	assert_string_equal(e.unthrottled, "window 'nights'");
	/* The restore is known all the same. */
	assert_int_equal(e.restore, (int64_t)((36001 * MIB + 100 * MIB - 1) /
	    (100 * MIB)));
	config_free(&c);
}

/*
 * A window without cutovers: the copy goes on, the last cutover waits for
 * its end. [throttle] 10 MiB/s, nights 22:00-06:00 at 40 MiB/s without
 * cutovers, from 20:00: 100,000 MiB are copied at 22:11:40 and cut over
 * at 06:00, ten hours from now.
 */
static void
test_cutover_windows(void **arg)
{
	struct config c;
	struct evacuation e;

	(void)arg;
	conf(&c, 10 * MIB, 0);
	window(&c, "nights", 22, 6, 40 * MIB, 0, 0);
	estimate(&c, T0 + 20 * HOUR, 100000 * MIB, 1000, 10, &e);
	assert_int_equal(e.seconds, 10 * HOUR);
	/* Copied before 22:00: no wait. */
	estimate(&c, T0 + 20 * HOUR, 36000 * MIB, 1000, 10, &e);
	assert_int_equal(e.seconds, 3600);
	/* No time of the day allows one: never. */
	c.nwindows = 0;
	window(&c, "am", 0, 12, 10 * MIB, 0, 0);
	window(&c, "pm", 12, 0, 10 * MIB, 0, 0);
	estimate(&c, T0, 36000 * MIB, 1000, 10, &e);
	assert_int_equal(e.status, EVACUATION_NO_CUTOVER);
	assert_int_equal(e.seconds, -1);
	config_free(&c);
}

/*
 * Restore at [capacity] restore_rate, and the flag: 2,000,000 MiB at the
 * default 100 MiB/s take 20,000 s, over the default 4 hours (14,400 s):
 * split in 2. An evacuation of 50,000 s needs 4 (3.47 rounded up).
 */
static void
test_restore_flag_split(void **arg)
{
	struct config c;
	struct evacuation e;

	(void)arg;
	conf(&c, 100 * MIB, 0);
	estimate(&c, T0, 1000 * MIB, 100, 10, &e);
	assert_int_equal(e.restore, 10);
	assert_int_equal(e.seconds, 10);
	assert_int_equal(e.flagged, 0);
	assert_int_equal(e.split, 1);
	estimate(&c, T0, 2000000 * MIB, 100, 10, &e);
	assert_int_equal(e.restore, 20000);
	assert_int_equal(e.seconds, 20000);
	assert_int_equal(e.flagged, 1);
	assert_int_equal(e.split, 2);
	/* The evacuation is the longer: 500,000 MiB at 10 MiB/s. */
	config_free(&c);
	conf(&c, 10 * MIB, 0);
	estimate(&c, T0, 500000 * MIB, 100, 10, &e);
	assert_int_equal(e.seconds, 50000);
	assert_int_equal(e.restore, 5000);
	assert_int_equal(e.split, 4);
	/* Exactly max_restore is within it. */
	c.max_restore = 50000;
	estimate(&c, T0, 500000 * MIB, 100, 10, &e);
	assert_int_equal(e.flagged, 0);
	assert_int_equal(e.split, 1);
	/* A faster restore_rate, a shorter max_restore. */
	c.restore_rate = 1000 * MIB;
	c.max_restore = 3600;
	estimate(&c, T0, 500000 * MIB, 100, 10, &e);
	assert_int_equal(e.restore, 500);
	assert_int_equal(e.split, 14);
	/* An evacuation not known does not count; the restore does. */
	assert_int_equal(evacuation_split(-1, 100, 3600), 1);
	assert_int_equal(evacuation_split(-1, 7201, 3600), 3);
	assert_int_equal(evacuation_split(3600, 3600, 3600), 1);
	assert_int_equal(evacuation_split(3601, 0, 3600), 2);
	config_free(&c);
}

/* The day's segments: where windows begin and end, first match wins as
 * in config_window_at, neighbours with the same rates merged. */
static void
test_schedule(void **arg)
{
	struct evacuation_schedule s;
	struct config c;

	(void)arg;
	conf(&c, 10 * MIB, 0);
	evacuation_schedule_init(&s, &c);
	assert_int_equal(s.nseg, 1);
	assert_int_equal(s.seg[0].from, 0);
	assert_int_equal(s.seg[0].to, DAY);
	assert_string_equal(s.seg[0].name, "[throttle]");
	window(&c, "nights", 22, 6, 40 * MIB, 0, 1);
	window(&c, "shadowed", 23, 5, 1 * MIB, 0, 1);
	evacuation_schedule_init(&s, &c);
	assert_int_equal(s.nseg, 3);
	assert_int_equal(s.seg[0].to, 6 * HOUR);
	assert_string_equal(s.seg[0].name, "window 'nights'");
	assert_int_equal(s.seg[1].from, 6 * HOUR);
	assert_int_equal(s.seg[1].to, 22 * HOUR);
	assert_int_equal(s.seg[1].bytes_per_second, 10 * MIB);
	assert_int_equal(s.seg[2].from, 22 * HOUR);
	assert_int_equal(s.seg[2].bytes_per_second, 40 * MIB);
	config_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_global_rate),
		cmocka_unit_test(test_throttle_and_window),
		cmocka_unit_test(test_two_windows_across_midnight),
		cmocka_unit_test(test_files_bind),
		cmocka_unit_test(test_unthrottled),
		cmocka_unit_test(test_cutover_windows),
		cmocka_unit_test(test_restore_flag_split),
		cmocka_unit_test(test_schedule),
	};

	return cmocka_run_group_tests_name("evacuation", tests, NULL, NULL);
}
