/* Token buckets for bytes and files per second: see throttle.h. */
#define _GNU_SOURCE
#include "migrator/throttle.h"

#include <errno.h>
#include <time.h>

#define BURST_SECONDS 0.2

double
monotonic_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
throttle_init(struct throttle *t, uint64_t bytes_rate, uint64_t files_rate)
{
	t->bytes_rate = (double)bytes_rate;
	t->files_rate = (double)files_rate;
	t->bytes_tokens = t->bytes_rate * BURST_SECONDS;
	t->files_tokens = t->files_rate * BURST_SECONDS;
	t->last = monotonic_now();
	t->waited = 0;
}

/* Add what accrued since the last refill, up to the burst. */
static void
refill(struct throttle *t)
{
	double now = monotonic_now(), dt = now - t->last;

	t->last = now;
	t->bytes_tokens += dt * t->bytes_rate;
	if (t->bytes_tokens > t->bytes_rate * BURST_SECONDS)
		t->bytes_tokens = t->bytes_rate * BURST_SECONDS;
	t->files_tokens += dt * t->files_rate;
	if (t->files_tokens > t->files_rate * BURST_SECONDS)
		t->files_tokens = t->files_rate * BURST_SECONDS;
}

static void
sleep_for(double s)
{
	struct timespec ts;

	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void
throttle_take(struct throttle *t, uint64_t bytes, uint64_t files)
{
	double wait = 0, w;

	if (t->bytes_rate <= 0 && t->files_rate <= 0)
		return;
	refill(t);
	/* Go into debt and sleep it off: the average stays at the rate. */
	if (t->bytes_rate > 0) {
		t->bytes_tokens -= (double)bytes;
		if (t->bytes_tokens < 0) {
			w = -t->bytes_tokens / t->bytes_rate;
			if (w > wait)
				wait = w;
		}
	}
	if (t->files_rate > 0) {
		t->files_tokens -= (double)files;
		if (t->files_tokens < 0) {
			w = -t->files_tokens / t->files_rate;
			if (w > wait)
				wait = w;
		}
	}
	if (wait > 0) {
		sleep_for(wait);
		t->waited += wait;
		refill(t);
	}
}

uint64_t
throttle_chunk(const struct throttle *t)
{
	uint64_t c = 1 << 20;

	if (t->bytes_rate > 0 && t->bytes_rate / 20 < (double)c)
		c = (uint64_t)(t->bytes_rate / 20);
	return c < 4096 ? 4096 : c;
}
