/*
 * The messages of maildir-gen: drawn per account (time, size, folder,
 * flags), named as Dovecot names them, with a header and a body of
 * printable lines taken from a corpus of words.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "tests/gen/gen.h"

#define MIN_BODY	32		/* shortest body of a message */
#define LINE_MAX_LEN	76		/* longest body line, without LF */
#define CORPUS_SIZE	(64 * 1024)
#define HDR_MAX		2048

#define LN2		0.69314718055994530942

static const char *flag_sets[] = { "", "S", "RS", "FS", "S", "ST", "DS" };
#define NFLAG_SETS ((int)(sizeof flag_sets / sizeof flag_sets[0]))

static const char *first_names[] = {
	"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
	"ivan", "judy", "mallory", "niaj", "olivia", "peggy", "rupert",
	"sybil", "trent", "victor", "walter", "yolanda"
};
static const char *last_names[] = {
	"anderson", "baker", "clark", "davis", "evans", "fischer", "garcia",
	"hughes", "ito", "jensen", "kowalski", "lopez", "muller", "nakamura",
	"olsen", "petrov", "quinn", "rossi", "schmidt", "tanaka"
};
static const char *sender_domains[] = {
	"example.com", "example.net", "example.org", "mail.example",
	"lists.example.org", "shop.example", "news.example.com", "corp.test"
};
static const char *words[] = {
	"the", "of", "and", "to", "in", "is", "for", "on", "with", "as",
	"meeting", "report", "invoice", "order", "shipment", "project",
	"update", "review", "schedule", "budget", "quarter", "server",
	"mailbox", "migration", "storage", "account", "customer", "support",
	"please", "thanks", "regards", "attached", "document", "question",
	"tomorrow", "yesterday", "morning", "afternoon", "weekend", "holiday",
	"team", "office", "release", "version", "feedback", "draft", "final",
	"payment", "receipt", "ticket", "issue", "change", "request",
	"summary", "details", "notes", "agenda", "minutes", "reminder",
	"deadline", "proposal", "contract", "delivery", "travel", "hotel",
	"flight", "lunch", "dinner", "coffee", "photos", "newsletter",
	"subscription", "password", "security", "backup", "network", "quota"
};

static const char *wday_names[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char *month_names[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
	"Nov", "Dec"
};
static const struct {
	int		 minutes;
	const char	*text;
} zones[] = {
	{ 0, "+0000" }, { 60, "+0100" }, { 120, "+0200" }, { -300, "-0500" },
	{ -480, "-0800" }, { 330, "+0530" }, { 540, "+0900" }, { 0, "+0000" }
};

static char	*corpus;
static size_t	 corpus_len;

/*
 * Natural logarithm from + - * / only, so that sizes do not depend on the
 * libm at hand.
 */
static double
det_log(double x)
{
	double s, s2, term, sum = 0;
	int e = 0, k;

	while (x >= 2.0) {
		x /= 2;
		e++;
	}
	while (x < 1.0) {
		x *= 2;
		e--;
	}
	if (x > 1.4142135623730951) {
		x /= 2;
		e++;
	}
	s = (x - 1) / (x + 1);
	s2 = s * s;
	term = s;
	for (k = 1; k < 60; k += 2) {
		sum += term / k;
		term *= s2;
	}
	return 2 * sum + e * LN2;
}

/* Exponential from + - * / only (see det_log). */
static double
det_exp(double y)
{
	double r, sum = 1, term = 1;
	long k;
	int i;

	k = (long)(y / LN2 + (y >= 0 ? 0.5 : -0.5));
	r = y - (double)k * LN2;
	for (i = 1; i < 30; i++) {
		term *= r / i;
		sum += term;
	}
	for (; k > 0; k--)
		sum *= 2;
	for (; k < 0; k++)
		sum /= 2;
	return sum;
}

/* Build the body text corpus: sentences of words, printable ASCII. */
void
corpus_init(void)
{
	struct rng r = { 0x6d61696c64697221ULL };
	size_t n = 0, w, k, len;
	const char *word;
	int i, words_in;

	corpus = xmalloc(CORPUS_SIZE + 64);
	while (n < CORPUS_SIZE) {
		words_in = 5 + (int)rng_below(&r, 10);
		for (i = 0; i < words_in && n < CORPUS_SIZE; i++) {
			w = rng_below(&r, NELEM(words));
			word = words[w];
			len = strlen(word);
			for (k = 0; k < len; k++) {
				corpus[n] = word[k];
				if (i == 0 && k == 0)
					corpus[n] -= 'a' - 'A';
				n++;
			}
			if (i == words_in - 1)
				corpus[n++] = '.';
			else if (rng_below(&r, 12) == 0)
				corpus[n++] = ',';
			corpus[n++] = ' ';
		}
	}
	corpus_len = n;
}

void
corpus_free(void)
{
	free(corpus);
	corpus = NULL;
}

/* Order messages by time received, then by their random seed. */
static int
msg_cmp(const void *a, const void *b)
{
	const struct msg *x = a, *y = b;

	if (x->sec != y->sec)
		return x->sec < y->sec ? -1 : 1;
	if (x->nsec != y->nsec)
		return x->nsec < y->nsec ? -1 : 1;
	if (x->rnd != y->rnd)
		return x->rnd < y->rnd ? -1 : 1;
	return 0;
}

/* Format the base name of message m (no ":2," part) into buf. */
void
msg_basename(const struct msg *m, char *buf, size_t len)
{
	int n;

	n = snprintf(buf, len, "%lld.M%ldP%uQ%u.mail%u.example.net,S=%llu,"
	    "W=%llu", (long long)m->sec, m->nsec / 1000, m->pid, m->seq,
	    m->host, (unsigned long long)m->size,
	    (unsigned long long)m->vsize);
	if (n < 0 || (size_t)n >= len)
		diex("internal error: message name too long");
}

/*
 * Build the header of message m of user into h; returns its length. Uses
 * r, which then goes on to make the body.
 */
static size_t
build_header(char *h, size_t len, const char *user, const char *local,
    uint64_t seed, const struct msg *m, struct rng *r)
{
	const char *first, *last, *sdom, *prefix;
	char subject[256], date[64];
	struct tm tm;
	time_t t;
	size_t sl = 0;
	int i, nwords, z, n;

	first = first_names[rng_below(r, NELEM(first_names))];
	last = last_names[rng_below(r, NELEM(last_names))];
	sdom = sender_domains[rng_below(r, NELEM(sender_domains))];
	z = (int)rng_below(r, NELEM(zones));
	switch (rng_below(r, 6)) {
	case 0:
		prefix = "Re: ";
		break;
	case 1:
		prefix = "Fwd: ";
		break;
	default:
		prefix = "";
		break;
	}
	sl = (size_t)snprintf(subject, sizeof subject, "%s", prefix);
	nwords = 2 + (int)rng_below(r, 6);
	for (i = 0; i < nwords; i++) {
		n = snprintf(subject + sl, sizeof subject - sl, "%s%s",
		    i == 0 ? "" : " ", words[rng_below(r, NELEM(words))]);
		if (n < 0 || (size_t)n >= sizeof subject - sl)
			break;
		if (i == 0 && subject[sl] >= 'a' && subject[sl] <= 'z')
			subject[sl] -= 'a' - 'A';
		sl += (size_t)n;
	}

	t = (time_t)(m->sec + zones[z].minutes * 60);
	if (gmtime_r(&t, &tm) == NULL)
		diex("cannot convert time %lld", (long long)m->sec);
	snprintf(date, sizeof date, "%s, %02d %s %04d %02d:%02d:%02d %s",
	    wday_names[tm.tm_wday], tm.tm_mday, month_names[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    zones[z].text);

	n = snprintf(h, len,
	    "Return-Path: <%s.%s@%s>\n"
	    "Delivered-To: %s\n"
	    "Message-ID: <%u.%llu.%s@mail.example.net>\n"
	    "Date: %s\n"
	    "From: %c%s %c%s <%s.%s@%s>\n"
	    "To: %s\n"
	    "Subject: %s\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=us-ascii\n"
	    "\n",
	    first, last, sdom,
	    user,
	    m->seq, (unsigned long long)seed, local,
	    date,
	    first[0] - ('a' - 'A'), first + 1, last[0] - ('a' - 'A'), last + 1,
	    first, last, sdom,
	    user,
	    subject);
	if (n < 0 || (size_t)n >= len)
		diex("internal error: header too long for %s", user);
	return (size_t)n;
}

/*
 * Lay out a body of exactly left bytes in lines of at most LINE_MAX_LEN
 * printable characters and LF; returns the number of lines. Writes it to
 * the open file when emit, taking text from the corpus with tr.
 */
static uint64_t
body_lines(struct rng lr, struct rng *tr, uint64_t left, int emit)
{
	uint64_t lines = 0;
	size_t l, off;
	char *p;

	while (left > 0) {
		if (left <= LINE_MAX_LEN + 1)
			l = (size_t)left - 1;
		else if (rng_below(&lr, 100) < 6)
			l = 0;		/* paragraph break */
		else
			l = 30 + (size_t)rng_below(&lr, LINE_MAX_LEN - 30 + 1);
		if (emit) {
			if (IOBUF_SIZE - out.len < LINE_MAX_LEN + 1)
				out_flush();
			p = out.buf + out.len;
			if (l > 0) {
				/* Start at a word. */
				off = (size_t)rng_below(tr,
				    corpus_len - 2 * LINE_MAX_LEN);
				while (corpus[off] != ' ')
					off++;
				off++;
				memcpy(p, corpus + off, l);
				if (p[l - 1] == ' ')
					p[l - 1] = '.';
			}
			p[l] = '\n';
			out.len += l + 1;
		}
		left -= l + 1;
		lines++;
	}
	return lines;
}

/* Count the LFs in n bytes at p. */
static uint64_t
count_lines(const char *p, size_t n)
{
	const char *end = p + n;
	uint64_t c = 0;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		c++;
		p++;
	}
	return c;
}

/* Draw the account's messages and write them, in the order they came. */
void
acct_messages(struct gen *g, struct acct *a)
{
	struct options *o = g->o;
	struct folder *fo;
	struct rng mr, lr;
	struct timespec ts;
	struct msg *m;
	char name[256], hdr[HDR_MAX];
	uint64_t j, lines, want;
	double lmin, lrange;
	size_t hlen, bl;

	if (a->n > g->msgs_size) {
		g->msgs = xrealloc(g->msgs, (size_t)a->n * sizeof *g->msgs);
		g->msgs_size = (size_t)a->n;
	}
	lmin = det_log((double)o->min_size);
	lrange = det_log((double)o->max_size) - lmin;
	for (j = 0; j < a->n; j++) {
		m = &g->msgs[j];
		m->sec = REF_TIME - SPAN + (int64_t)rng_below(&a->r, SPAN);
		m->nsec = 1 + (long)rng_below(&a->r, 999999999);
		want = (uint64_t)det_exp(lmin + rng_unit(&a->r) * lrange);
		if (want < o->min_size)
			want = o->min_size;
		if (want > o->max_size)
			want = o->max_size;
		m->size = want;
		m->rnd = rng_next(&a->r);
		m->pid = 1000 + (uint32_t)rng_below(&a->r, 64000);
		m->host = 1 + (uint8_t)rng_below(&a->r, 3);
		if (a->nf == 1 || rng_below(&a->r, 2) == 0)
			m->folder = 0;	/* about half in INBOX */
		else
			m->folder = 1 + (uint8_t)rng_below(&a->r,
			    (uint64_t)a->nf - 1);
		m->cur = rng_below(&a->r, 100) < 85;
		m->flags = (uint8_t)rng_below(&a->r, NFLAG_SETS);
	}
	qsort(g->msgs, (size_t)a->n, sizeof *g->msgs, msg_cmp);

	for (j = 0; j < a->n; j++) {
		m = &g->msgs[j];
		m->seq = (uint32_t)j + 1;
		mr.s = m->rnd;
		hlen = build_header(hdr, sizeof hdr, a->user, a->local,
		    o->seed, m, &mr);
		if (m->size < hlen + MIN_BODY)
			m->size = hlen + MIN_BODY;
		/* Lay the body out once to count its lines for W=. */
		lr.s = rng_next(&mr);
		lines = count_lines(hdr, hlen) +
		    body_lines(lr, &mr, m->size - hlen, 0);
		m->vsize = m->size + lines;
		msg_basename(m, name, sizeof name);
		bl = strlen(name);
		if (m->cur)
			snprintf(name + bl, sizeof name - bl, ":2,%s",
			    flag_sets[m->flags]);
		fo = &a->f[m->folder];
		out_open(fo->subfd[m->cur], fo->subpath[m->cur], name);
		out_put(hdr, hlen);
		body_lines(lr, &mr, m->size - hlen, 1);
		ts.tv_sec = m->sec;
		ts.tv_nsec = m->nsec;
		out_close(&ts);
		ts_max(&fo->newest[m->cur], &ts);
		fo->count++;
		a->files++;
		a->bytes += m->size;
	}
}
