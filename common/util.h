/*
 * Small shared helpers: allocation that never returns NULL, error strings,
 * size and duration parsing, time formatting, path and name checks.
 * Depends on nothing but libc.
 */
#ifndef MAILSHIFT_UTIL_H
#define MAILSHIFT_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define MS_PATH_MAX 4096
#define MS_USER_MAX 255

/* Exit codes of the mailshift command. */
#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xrealloc(void *, size_t);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
/* Allocate and format; aborts on out of memory. */
char *xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

/* Report an invariant failure or out-of-memory and abort. */
void fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Set *cause (if cause is not NULL) to a heap string and return -1.
 * Recoverable failures hand their reason back this way; the caller prints it.
 */
int fail(char **cause, const char *, ...) __attribute__((format(printf, 2, 3)));

/*
 * The largest size mailshift takes: 2^53 bytes (8 PiB). The catalog holds
 * sizes as signed 64-bit integers; at this limit a fleet of 1,024 slices
 * still sums without overflow, and every size is exact as a double (JSON).
 */
#define MS_SIZE_MAX	(UINT64_C(1) << 53)

/*
 * Parse a size such as "512", "10K", "512M", "10G", "1.5T" (binary units
 * K M G T P E, optional trailing "B" or "iB"). Returns 0 and stores bytes,
 * or -1 with a cause for anything else (negative, unknown unit, above
 * MS_SIZE_MAX, empty).
 */
int size_parse(const char *, uint64_t *, char **cause);
/* a + b, held at INT64_MAX instead of overflowing (sums of sizes). */
uint64_t size_add(uint64_t a, uint64_t b);
/* Format bytes for people: "0 B", "1.5 KiB", "12.0 GiB" into buf. */
const char *size_format(uint64_t, char *buf, size_t len);

/* Parse a duration such as "30s", "15m", "2h", "7d" or plain seconds. */
int duration_parse(const char *, uint64_t *seconds, char **cause);
/* A duration in milliseconds: "250ms", or anything duration_parse reads. */
int millis_parse(const char *, uint64_t *ms, char **cause);

/*
 * Parse a percentage: a number from 0 to 100, digits with at most one '.',
 * and an optional '%': "75", "75%", "12.5", "0.5" (half a percent). No
 * sign, exponent, hex or spaces. Returns 0 and stores the fraction (0.75
 * for "75"), or -1 with *fraction unchanged. 0 is accepted: a caller that
 * needs a value above 0 (or below some bound) checks that itself.
 */
int percent_parse(const char *s, double *fraction);

/* How time_parse reads a relative time and a date without a time. */
#define TIME_AHEAD	0x01	/* "2h" is 2 hours after now, not before */
#define TIME_DAY_END	0x02	/* "2026-11-01" is its last second, not
				   its first */

/*
 * Parse a time given by a person, always in UTC:
 *   "2026-11-01T02:00:00Z", also without the "Z", without the seconds
 *   ("2026-11-01T02:00"), or with a space for the "T" ("2026-11-01 02:00");
 *   "2026-11-01", a whole UTC day: its first second (its last with
 *   TIME_DAY_END);
 *   a whole number with a unit s, m, h, d or w ("30d", "12h", "2w"): that
 *   long before now (after now with TIME_AHEAD).
 * Years 1970 to 9999, two-digit months, days, hours, minutes, seconds; a
 * time that does not exist (2026-02-31, 25:00, :60) is refused, not rolled
 * over. Returns 0 and stores the Unix time in *out, or -1 with *out
 * unchanged.
 */
int time_parse(const char *s, int64_t now, int flags, int64_t *out);

/* ISO 8601 UTC ("2026-11-23T21:52:16Z") of a Unix time into buf; "-" for
 * 0 and earlier (unknown). */
const char *time_format(int64_t, char *buf, size_t len);
/* Wall-clock Unix time in seconds. */
int64_t now_unix(void);

/*
 * True if name is one plain path component: not empty, not "." or "..",
 * no '/', no control characters, at most 255 bytes.
 */
int name_is_component(const char *name);

/*
 * Check a path relative to a slice root: not empty, not absolute, every
 * component passes name_is_component. Returns 0, or -1 with a cause.
 */
int relpath_check(const char *path, char **cause);

/*
 * Check a user name: "local" or "local@domain", at most 255 bytes, no
 * whitespace, control characters, quotes, '/' or '\', parts not empty and
 * not starting with '.'. Returns 0, or -1 with a cause.
 */
int user_check(const char *user, char **cause);

/*
 * Who process pid is, beyond its number: "boot-id:start-time" from /proc,
 * so that a pid reused after a reboot or a restart is not taken for the
 * process that once had it. NULL when there is no such process.
 */
char *proc_identity(long pid);

#endif
