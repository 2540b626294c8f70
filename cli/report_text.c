/*
 * Text shared by the writers of the reports (report_write.h): sizes,
 * rates, durations, days and dates, trends, load and evacuation cells.
 * See report.h.
 */
#define _GNU_SOURCE
#include "cli/report.h"
#include "common/stats.h"
#include "common/util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Text shared by the writers. */

/* Bytes with a sign for growth: "+1.5 GiB", "-200 B", "0 B". */
const char *
report_signed_size(double v, char *buf, size_t len)
{
	char s[32];
	uint64_t a = (uint64_t)llround(fabs(v));

	if (a == 0)
		snprintf(buf, len, "0 B");
	else
		snprintf(buf, len, "%c%s", v < 0 ? '-' : '+',
		    size_format(a, s, sizeof s));
	return buf;
}

const char *
report_trend(const struct report_row *row)
{
	if (!row->growth.ok)
		return "not enough history";
	if (row->growth.per_day > 0)
		return "growing";
	if (row->growth.per_day < 0)
		return "shrinking";
	return "flat";
}

/* Days as "now", "55d", "2.5d", ">100y"; never for -1. */
static const char *
days_text(double days, const char *never, char *buf, size_t len)
{
	if (days == 0)
		return "now";
	if (days < 0)
		return never;
	if (days > REPORT_FAR_DAYS)
		return ">100y";
	if (days < 10)
		snprintf(buf, len, "%.1fd", floor(days * 10 + 1e-6) / 10);
	else
		snprintf(buf, len, "%.0fd", floor(days + 1e-6));
	return buf;
}

const char *
report_load_days_text(const struct report_row *row, double days, char *buf,
    size_t len)
{
	return days_text(days, row->load_growth.ok && row->load_slices > 0 &&
	    row->load_capacity > 0 && !(row->retired && row->slices == 1) ?
	    "never" : "-", buf, len);
}

const char *
report_load_trend(const struct report_row *row)
{
	if (row->load_slices == 0)
		return "not measured";
	if (!row->load_growth.ok)
		return "not enough history";
	if (row->load_growth.per_day > 0)
		return "growing";
	if (row->load_growth.per_day < 0)
		return "shrinking";
	return "flat";
}

const char *
report_ops_text(const struct report_row *row, double ops, char *buf,
    size_t len)
{
	if (row->load_slices == 0 || !(ops >= 0))
		return "-";
	if (ops >= 9999.5)
		snprintf(buf, len, "%.1fk", ops / 1000);
	else if (ops >= 9.95 || ops == 0)
		snprintf(buf, len, "%.0f", ops);
	else
		snprintf(buf, len, "%.1f", ops);
	return buf;
}

double
report_load_fill(const struct report_row *row)
{
	if (row->load_slices == 0 || row->load_capacity == 0)
		return NAN;
	return row->ops / (double)row->load_capacity;
}

const char *
report_load_fill_text(const struct report_row *row, char *buf, size_t len)
{
	double x = report_load_fill(row);

	if (isnan(x))
		return "-";
	snprintf(buf, len, "%.1f%%", 100 * x);
	return buf;
}

const char *
report_signed_ops(double v, char *buf, size_t len)
{
	double a = fabs(v);

	if (a < 0.05)
		snprintf(buf, len, "0/s");
	else if (a >= 9.95)
		snprintf(buf, len, "%c%.0f/s", v < 0 ? '-' : '+', a);
	else
		snprintf(buf, len, "%c%.1f/s", v < 0 ? '-' : '+', a);
	return buf;
}

const char *
report_evac_text(const struct report_row *row, char *buf, size_t len)
{
	switch (row->evac.status) {
	case EVACUATION_UNTHROTTLED:
		return "unthrottled";
	case EVACUATION_NO_CUTOVER:
		return "never";
	case EVACUATION_EMPTY:
		if (row->retired && row->slices == 1)
			return "-";
		break;
	case EVACUATION_OK:
		break;
	}
	return report_duration_text(row->evac.seconds, buf, len);
}

const char *
report_evac_why(const struct report_row *row, char *buf, size_t len)
{
	if (row->evac.status == EVACUATION_UNTHROTTLED)
		snprintf(buf, len, "%s sets no rate, so the time depends on "
		    "the disks alone; give it bytes_per_second (or "
		    "files_per_second) to plan with", row->evac.unthrottled);
	else if (row->evac.status == EVACUATION_NO_CUTOVER)
		snprintf(buf, len, "no time of the day allows a cutover: "
		    "allow one in a window");
	else
		return NULL;
	return buf;
}

/* When a row reaches a fill: "now", "55d", "never", "-" (unknown). */
const char *
report_days_text(const struct report_row *row, double days, char *buf,
    size_t len)
{
	return days_text(days, row->growth.ok && row->capacity > 0 &&
	    !(row->retired && row->slices == 1) ? "never" : "-", buf, len);
}

/* The UTC time days from now, or NULL for never or too far. */
const char *
report_days_time(const struct report *r, double days, char *buf, size_t len)
{
	if (days < 0 || days > REPORT_FAR_DAYS)
		return NULL;
	return time_format(r->now + (int64_t)llround(days * STATS_DAY), buf,
	    len);
}

/* The date part of report_days_time, or "-". */
const char *
report_days_date(const struct report *r, double days, char *buf, size_t len)
{
	if (report_days_time(r, days, buf, len) == NULL)
		return "-";
	if (strlen(buf) > 10)
		buf[10] = '\0';
	return buf;
}

/* A description of the range for notes: "since ... until ...". */
const char *
report_range_text(const struct report *r, char *buf, size_t len)
{
	char a[32], b[32];

	if (r->since == INT64_MIN && r->until == INT64_MAX)
		snprintf(buf, len, "over all history");
	else if (r->until == INT64_MAX)
		snprintf(buf, len, "since %s", time_format(r->since, a,
		    sizeof a));
	else if (r->since == INT64_MIN)
		snprintf(buf, len, "until %s", time_format(r->until, b,
		    sizeof b));
	else
		snprintf(buf, len, "between %s and %s", time_format(r->since,
		    a, sizeof a), time_format(r->until, b, sizeof b));
	return buf;
}

const char *
report_duration_text(int64_t s, char *buf, size_t len)
{
	if (s < 0)
		snprintf(buf, len, "-");
	else if (s < 60)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm %02llds", (long long)(s / 60),
		    (long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%lldh %02lldm", (long long)(s / 3600),
		    (long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%lldd %02lldh", (long long)(s / 86400),
		    (long long)(s % 86400 / 3600));
	return buf;
}

const char *
report_rate_text(double rate, char *buf, size_t len)
{
	char s[32];

	if (rate < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%s/s", size_format((uint64_t)llround(rate),
		    s, sizeof s));
	return buf;
}
