/*
 * The daemon's load recorder: every [capacity] load_interval seconds a
 * round of iostat_record.h reads every slice's counters on a thread of
 * its own (an lstat() of a slice root may block on a failing NFS
 * server; the loop never waits for it), and the loop stores what it
 * read at its next tick, in one catalog transaction. One round at a
 * time: while one is still reading, no other starts. A slice that
 * cannot be read is logged when that starts and when it ends, not at
 * every round.
 */
#ifndef MAILSHIFT_LOADWATCH_H
#define MAILSHIFT_LOADWATCH_H

#include <stdint.h>

struct config;
struct loadwatch;
struct state;

struct loadwatch *loadwatch_new(void);
/*
 * Once a second on the loop, while the catalog answers: store a round
 * that has been read, and start the next one when cfg's load_interval
 * (0: never) has passed since the last started, at now (Unix seconds).
 */
void loadwatch_tick(struct loadwatch *, struct state *,
    const struct config *cfg, int64_t now);
/* Stop; a round still reading frees itself when it ends. */
void loadwatch_free(struct loadwatch *);

#endif
