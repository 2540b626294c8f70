/*
 * Token buckets for bytes per second and files per second. A caller asks
 * for what it is about to use; the bucket sleeps as long as needed so the
 * long-run rate stays at the limit, with a burst of a fifth of a second.
 */
#ifndef MAILSHIFT_THROTTLE_H
#define MAILSHIFT_THROTTLE_H

#include <stdint.h>

struct throttle {
	double	 bytes_rate;		/* bytes/s, 0 = unlimited */
	double	 files_rate;		/* files/s, 0 = unlimited */
	double	 bytes_tokens;
	double	 files_tokens;
	double	 last;			/* monotonic seconds of last refill */
	double	 waited;		/* seconds spent sleeping in total */
};

void throttle_init(struct throttle *, uint64_t bytes_rate,
    uint64_t files_rate);
/* Take bytes and files from the buckets, sleeping while they are empty. */
void throttle_take(struct throttle *, uint64_t bytes, uint64_t files);
/* A read/write chunk size that keeps the throttle smooth. */
uint64_t throttle_chunk(const struct throttle *);
/* Monotonic clock in seconds. */
double monotonic_now(void);

#endif
