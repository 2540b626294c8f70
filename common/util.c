/* Small shared helpers: see util.h. */
#define _GNU_SOURCE
#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	fputs("mailshift: fatal: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		fatalx("out of memory (%zu bytes)", n);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		fatalx("out of memory (%zu x %zu bytes)", n, size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		fatalx("out of memory (%zu bytes)", n);
	return q;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		fatalx("out of memory");
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		fatalx("out of memory");
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		fatalx("out of memory");
	va_end(ap);
	return s;
}

int
fail(char **cause, const char *fmt, ...)
{
	va_list ap;

	if (cause == NULL)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) < 0)
		fatalx("out of memory");
	va_end(ap);
	return -1;
}

static int
too_large(const char *s, char **cause)
{
	return fail(cause, "size '%s' is too large: at most 8P (%llu bytes)",
	    s, (unsigned long long)MS_SIZE_MAX);
}

int
size_parse(const char *s, uint64_t *out, char **cause)
{
	const char *p = s;
	uint64_t whole = 0, mult = 1, frac_num = 0, frac_den = 1, v;
	int shift = 0;

	if (*s == '\0')
		return fail(cause, "empty size; use a number with an optional "
		    "unit, e.g. 512M or 10G");
	if (!isdigit((unsigned char)*p))
		return fail(cause, "bad size '%s': must be a positive number "
		    "with an optional unit K, M, G, T (e.g. 10G)", s);
	for (; isdigit((unsigned char)*p); p++) {
		if (whole > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return too_large(s, cause);
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return fail(cause, "bad size '%s': digits must follow "
			    "the '.'", s);
		for (; isdigit((unsigned char)*p); p++) {
			if (frac_den < 1000000000000ULL) {
				frac_num = frac_num * 10 +
				    (uint64_t)(*p - '0');
				frac_den *= 10;
			}
		}
	}
	switch (toupper((unsigned char)*p)) {
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	case 'P':
		shift = 50;
		break;
	case 'E':
		shift = 60;
		break;
	}
	if (shift > 0) {
		p++;
		if (*p == 'i' || *p == 'I')
			p++;
		mult = 1ULL << shift;
	}
	if (*p == 'B' || *p == 'b')
		p++;
	if (*p != '\0')
		return fail(cause, "bad size '%s': unknown unit '%s'; use K, "
		    "M, G, T, P or E (e.g. 512M or 10G)", s, p);
	if (frac_den > 1 && shift == 0)
		return fail(cause, "bad size '%s': a size in bytes must be a "
		    "whole number", s);
	if (whole > UINT64_MAX / mult)
		return too_large(s, cause);
	v = whole * mult;
	/* The fraction of a unit, rounded down to whole bytes. */
	if (frac_num > 0) {
		uint64_t add = (uint64_t)((double)frac_num / (double)frac_den *
		    (double)mult);

		if (v > UINT64_MAX - add)
			return too_large(s, cause);
		v += add;
	}
	if (v > MS_SIZE_MAX)
		return too_large(s, cause);
	*out = v;
	return 0;
}

uint64_t
size_add(uint64_t a, uint64_t b)
{
	if (a > (uint64_t)INT64_MAX || b > (uint64_t)INT64_MAX - a)
		return (uint64_t)INT64_MAX;
	return a + b;
}

const char *
size_format(uint64_t n, char *buf, size_t len)
{
	static const char *unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)n;
	int i = -1;

	if (n < 1024) {
		snprintf(buf, len, "%llu B", (unsigned long long)n);
		return buf;
	}
	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(buf, len, "%.1f %s", v, unit[i]);
	return buf;
}

int
duration_parse(const char *s, uint64_t *out, char **cause)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1;

	if (!isdigit((unsigned char)*s))
		return fail(cause, "bad duration '%s': use e.g. 30s, 15m, "
		    "2h or 7d", s);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return fail(cause, "duration '%s' is too large", s);
	switch (*end) {
	case '\0':
	case 's':
		break;
	case 'm':
		mult = 60;
		break;
	case 'h':
		mult = 3600;
		break;
	case 'd':
		mult = 86400;
		break;
	case 'w':
		mult = 7 * 86400;
		break;
	default:
		return fail(cause, "bad duration '%s': unknown unit '%s'; use "
		    "s, m, h, d or w", s, end);
	}
	if (*end != '\0' && end[1] != '\0')
		return fail(cause, "bad duration '%s': use e.g. 30s, 15m, "
		    "2h or 7d", s);
	if (v > UINT64_MAX / mult)
		return fail(cause, "duration '%s' is too large", s);
	*out = v * mult;
	return 0;
}

int
millis_parse(const char *s, uint64_t *out, char **cause)
{
	size_t n = strlen(s);
	char *end;
	unsigned long long v;
	uint64_t secs;

	if (n > 2 && strcmp(s + n - 2, "ms") == 0 &&
	    isdigit((unsigned char)*s)) {
		errno = 0;
		v = strtoull(s, &end, 10);
		if (errno != 0 || end != s + n - 2)
			return fail(cause, "bad duration '%s': use e.g. 500ms "
			    "or 2s", s);
		*out = v;
		return 0;
	}
	if (duration_parse(s, &secs, cause) != 0)
		return -1;
	if (secs > UINT64_MAX / 1000)
		return fail(cause, "duration '%s' is too large", s);
	*out = secs * 1000;
	return 0;
}

int
percent_parse(const char *s, double *fraction)
{
	size_t n = strlen(s), digits = strspn(s, "0123456789");
	char *end;
	double v;

	if (n > 0 && s[n - 1] == '%')
		n--;
	if (digits < n && s[digits] == '.')
		digits += 1 + strspn(s + digits + 1, "0123456789");
	if (digits != n || strcspn(s, "0123456789") >= n)
		return -1;
	/* The text is digits and a '.' now: strtod reads all of it. */
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || (size_t)(end - s) != n || !(v >= 0 && v <= 100))
		return -1;
	*fraction = v / 100;
	return 0;
}

/* Read exactly n digits at *p into *v and step over them; 0 or -1. */
static int
fixed_digits(const char **p, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return 0;
}

/* Step over the character c at *p if it is there; 1 if it was. */
static int
skip_char(const char **p, char c)
{
	if (**p != c || c == '\0')
		return 0;
	(*p)++;
	return 1;
}

static int
month_days(int year, int month)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

int
time_parse(const char *s, int64_t now, int flags, int64_t *out)
{
	const char *p = s;
	size_t n = strlen(s);
	int y, mo, d, h = 0, mi = 0, sec = 0, has_time = 0;
	uint64_t secs;
	struct tm tm;
	time_t t;

	/* A relative time: a number and one unit letter. */
	if (n >= 2 && isalpha((unsigned char)s[n - 1]) &&
	    strspn(s, "0123456789") == n - 1) {
		if (duration_parse(s, &secs, NULL) != 0 ||
		    secs > (uint64_t)INT64_MAX / 4 ||
		    now < -(INT64_MAX / 4) || now > INT64_MAX / 4)
			return -1;
		*out = flags & TIME_AHEAD ? now + (int64_t)secs :
		    now - (int64_t)secs;
		return 0;
	}
	if (fixed_digits(&p, 4, &y) != 0 || !skip_char(&p, '-') ||
	    fixed_digits(&p, 2, &mo) != 0 || !skip_char(&p, '-') ||
	    fixed_digits(&p, 2, &d) != 0)
		return -1;
	if (skip_char(&p, 'T') || skip_char(&p, ' ')) {
		has_time = 1;
		if (fixed_digits(&p, 2, &h) != 0 || !skip_char(&p, ':') ||
		    fixed_digits(&p, 2, &mi) != 0)
			return -1;
		if (skip_char(&p, ':') && fixed_digits(&p, 2, &sec) != 0)
			return -1;
		(void)skip_char(&p, 'Z');
	}
	if (*p != '\0' || y < 1970 || mo < 1 || mo > 12 || d < 1 ||
	    d > month_days(y, mo) || h > 23 || mi > 59 || sec > 59)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	*out = (int64_t)t + (!has_time && (flags & TIME_DAY_END) ?
	    86400 - 1 : 0);
	return 0;
}

const char *
time_format(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL) {
		snprintf(buf, len, "-");
		return buf;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

int64_t
now_unix(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec;
}

int
name_is_component(const char *name)
{
	size_t n = strlen(name);
	const unsigned char *p;

	if (n == 0 || n > 255)
		return 0;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		if (*p == '/' || *p < 0x20 || *p == 0x7f)
			return 0;
	}
	return 1;
}

int
relpath_check(const char *path, char **cause)
{
	const char *p = path, *slash;
	char part[256];
	size_t n;

	if (*path == '\0')
		return fail(cause, "empty account path");
	if (*path == '/')
		return fail(cause, "account path '%s' is absolute; give it "
		    "relative to the slice root", path);
	if (strlen(path) >= MS_PATH_MAX)
		return fail(cause, "account path is too long");
	for (;;) {
		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0)
			return fail(cause, "account path '%s' has an empty "
			    "component", path);
		if (n >= sizeof part)
			return fail(cause, "account path '%s' has a component "
			    "longer than 255 bytes", path);
		memcpy(part, p, n);
		part[n] = '\0';
		if (strcmp(part, "..") == 0)
			return fail(cause, "account path '%s' escapes its "
			    "slice ('..')", path);
		if (!name_is_component(part))
			return fail(cause, "account path '%s' has a bad "
			    "component '%s'", path, part);
		if (slash == NULL)
			break;
		p = slash + 1;
	}
	return 0;
}

int
user_check(const char *user, char **cause)
{
	const unsigned char *p;
	const char *at;
	size_t n = strlen(user);

	if (n == 0)
		return fail(cause, "empty user name");
	if (n > MS_USER_MAX)
		return fail(cause, "user name is longer than %d bytes",
		    MS_USER_MAX);
	for (p = (const unsigned char *)user; *p != '\0'; p++) {
		if (*p <= 0x20 || *p == 0x7f || *p == '/' || *p == '"' ||
		    *p == '\\')
			return fail(cause, "bad user name '%s': no spaces, "
			    "control characters, quotes, '/' or '\\'", user);
	}
	at = strchr(user, '@');
	if (at != NULL && strchr(at + 1, '@') != NULL)
		return fail(cause, "bad user name '%s': more than one '@'",
		    user);
	if (at == user || (at != NULL && at[1] == '\0'))
		return fail(cause, "bad user name '%s': empty local part or "
		    "domain", user);
	if (*user == '.' || (at != NULL && at[1] == '.'))
		return fail(cause, "bad user name '%s': a part may not start "
		    "with '.'", user);
	return 0;
}

char *
proc_identity(long pid)
{
	char path[64], buf[1024], boot[64] = "", *p;
	unsigned long long start = 0;
	FILE *f;
	int i;

	if ((f = fopen("/proc/sys/kernel/random/boot_id", "r")) != NULL) {
		if (fgets(boot, sizeof boot, f) == NULL)
			boot[0] = '\0';
		fclose(f);
		boot[strcspn(boot, "\n")] = '\0';
	}
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	if (fgets(buf, sizeof buf, f) == NULL) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	/* Field 22 (starttime) counts from after the ")" ending field 2. */
	if ((p = strrchr(buf, ')')) == NULL)
		return NULL;
	for (i = 2; i < 22 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%llu", &start) != 1)
		return NULL;
	return xasprintf("%s:%llu", boot, start);
}
