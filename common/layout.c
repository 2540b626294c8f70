/* Account layout templates: see layout.h. */
#define _GNU_SOURCE
#include "common/layout.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum tok_kind { TOK_LIT, TOK_VAR };

/* Bytes taken by the first n UTF-8 characters of s (all of s if shorter). */
static size_t
utf8_prefix(const char *s, int n)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != '\0' && n > 0) {
		p++;
		while ((*p & 0xc0) == 0x80)
			p++;
		n--;
	}
	return (size_t)(p - (const unsigned char *)s);
}

struct tok {
	enum tok_kind	 kind;
	char		*lit;		/* TOK_LIT: the literal text */
	char		 var;		/* TOK_VAR: 'u', 'n' or 'd' */
	int		 width;		/* TOK_VAR: 0 = whole value, else N */
};

struct comp {
	struct tok	*toks;
	int		 ntoks;
};

struct layout {
	char		*text;
	unsigned	 whole;		/* variables used whole (LAYOUT_*) */
	struct comp	*comps;
	int		 ncomps;
};

static void
comp_add(struct comp *c, struct tok t)
{
	c->toks = xrealloc(c->toks, (size_t)(c->ntoks + 1) * sizeof *c->toks);
	c->toks[c->ntoks++] = t;
}

/* Append literal text to component c, merging with a preceding literal. */
static void
comp_lit(struct comp *c, const char *s, size_t n)
{
	struct tok t = { .kind = TOK_LIT };
	struct tok *last = c->ntoks ? &c->toks[c->ntoks - 1] : NULL;
	size_t old;

	if (last != NULL && last->kind == TOK_LIT) {
		old = strlen(last->lit);
		last->lit = xrealloc(last->lit, old + n + 1);
		memcpy(last->lit + old, s, n);
		last->lit[old + n] = '\0';
		return;
	}
	t.lit = xstrndup(s, n);
	comp_add(c, t);
}

void
layout_free(struct layout *l)
{
	int i, j;

	if (l == NULL)
		return;
	for (i = 0; i < l->ncomps; i++) {
		for (j = 0; j < l->comps[i].ntoks; j++)
			free(l->comps[i].toks[j].lit);
		free(l->comps[i].toks);
	}
	free(l->comps);
	free(l->text);
	free(l);
}

struct layout *
layout_parse(const char *tmpl, char **cause)
{
	struct layout *l;
	struct comp *c = NULL;
	const char *p;
	int full = 0, width;
	unsigned whole = 0, part = 0;	/* variables used whole, by prefix */
	char tmp[MS_PATH_MAX];

	if (*tmpl == '\0') {
		fail(cause, "empty layout template; use e.g. %%d/%%n");
		return NULL;
	}
	if (*tmpl == '/') {
		fail(cause, "layout template '%s' must be relative to the "
		    "slice root (no leading '/')", tmpl);
		return NULL;
	}
	l = xcalloc(1, sizeof *l);
	l->text = xstrdup(tmpl);
	for (p = tmpl; ; p++) {
		if (c == NULL) {
			l->comps = xrealloc(l->comps,
			    (size_t)(l->ncomps + 1) * sizeof *l->comps);
			c = &l->comps[l->ncomps++];
			memset(c, 0, sizeof *c);
		}
		if (*p == '\0' || *p == '/') {
			if (c->ntoks == 0) {
				fail(cause, "layout template '%s' has an empty "
				    "path component", tmpl);
				goto bad;
			}
			if (c->ntoks == 1 && c->toks[0].kind == TOK_LIT &&
			    !name_is_component(c->toks[0].lit)) {
				fail(cause, "layout template '%s' has a bad "
				    "component '%s'", tmpl, c->toks[0].lit);
				goto bad;
			}
			if (*p == '\0')
				break;
			c = NULL;
			continue;
		}
		if (*p != '%') {
			if ((unsigned char)*p < 0x20) {
				fail(cause, "layout template has a control "
				    "character");
				goto bad;
			}
			comp_lit(c, p, 1);
			continue;
		}
		p++;
		if (*p == '%') {
			comp_lit(c, "%", 1);
			continue;
		}
		width = 0;
		if (*p >= '1' && *p <= '9')
			width = *p++ - '0';
		if (*p != 'u' && *p != 'n' && *p != 'd') {
			fail(cause, "layout template '%s': unknown variable "
			    "'%%%.1s'; use %%u, %%n, %%d, %%Nn (first N "
			    "letters) or %%%%", tmpl, *p ? p : "");
			goto bad;
		}
		if (width == 0 && (*p == 'u' || *p == 'n'))
			full = 1;
		if (width == 0)
			whole |= *p == 'u' ? LAYOUT_U : *p == 'n' ? LAYOUT_N :
			    LAYOUT_D;
		else
			part |= *p == 'u' ? LAYOUT_U : *p == 'n' ? LAYOUT_N :
			    LAYOUT_D;
		comp_add(c, (struct tok){ .kind = TOK_VAR, .var = *p,
		    .width = width });
	}
	if (!full) {
		fail(cause, "layout template '%s' does not name the user: it "
		    "needs %%u or %%n", tmpl);
		goto bad;
	}
	if ((part & LAYOUT_D) && !(whole & (LAYOUT_D | LAYOUT_U))) {
		fail(cause, "layout template '%s' uses a prefix of the domain "
		    "but neither %%d nor %%u, so a directory cannot be mapped "
		    "back to its user", tmpl);
		goto bad;
	}
	if ((part & LAYOUT_U) && !(whole & LAYOUT_U) &&
	    (whole & (LAYOUT_N | LAYOUT_D)) != (LAYOUT_N | LAYOUT_D)) {
		fail(cause, "layout template '%s' uses a prefix of %%u but "
		    "neither %%u nor both %%n and %%d", tmpl);
		goto bad;
	}
	l->whole = whole;
	/* The template must expand to a clean path for a typical user. */
	if (layout_expand(l, (whole & (LAYOUT_U | LAYOUT_D)) ?
	    "user@example.com" : "user", tmp, sizeof tmp, cause) != 0)
		goto bad;
	return l;
bad:
	layout_free(l);
	return NULL;
}

const char *
layout_text(const struct layout *l)
{
	return l->text;
}

int
layout_depth(const struct layout *l)
{
	return l->ncomps;
}

/* Split user into local part and domain (domain is "" without '@'). */
static void
user_split(const char *user, char *n, char *d)
{
	const char *at = strrchr(user, '@');

	if (at == NULL) {
		snprintf(n, 256, "%s", user);
		d[0] = '\0';
		return;
	}
	snprintf(n, 256, "%.*s", (int)(at - user), user);
	snprintf(d, 256, "%s", at + 1);
}

int
layout_expand(const struct layout *l, const char *user, char *buf,
    size_t len, char **cause)
{
	char n[256], d[256];
	const char *v;
	size_t used = 0, vl;
	int i, j;
	const struct tok *t;

	if (user_check(user, cause) != 0)
		return -1;
	user_split(user, n, d);
	if (*d != '\0' && !(l->whole & (LAYOUT_U | LAYOUT_D)))
		return fail(cause, "user '%s' has a domain but the layout '%s' "
		    "has neither %%d nor %%u, so the domain would be lost",
		    user, l->text);
	for (i = 0; i < l->ncomps; i++) {
		size_t start = used;

		if (i > 0) {
			if (used + 1 >= len)
				goto toolong;
			buf[used++] = '/';
			start = used;
		}
		for (j = 0; j < l->comps[i].ntoks; j++) {
			t = &l->comps[i].toks[j];
			if (t->kind == TOK_LIT) {
				v = t->lit;
				vl = strlen(v);
			} else {
				v = t->var == 'u' ? user :
				    t->var == 'n' ? n : d;
				vl = strlen(v);
				if (t->var == 'd' && vl == 0)
					return fail(cause, "user '%s' has no "
					    "domain but the layout '%s' uses "
					    "%%d", user, l->text);
				if (t->width > 0)
					vl = utf8_prefix(v, t->width);
			}
			if (used + vl >= len)
				goto toolong;
			memcpy(buf + used, v, vl);
			used += vl;
		}
		buf[used] = '\0';
		if (!name_is_component(buf + start))
			return fail(cause, "layout '%s' gives a bad path "
			    "component '%s' for user '%s'", l->text,
			    buf + start, user);
	}
	buf[used] = '\0';
	return 0;
toolong:
	return fail(cause, "layout '%s' gives a path that is too long for "
	    "user '%s'", l->text, user);
}

void
layout_match_init(struct layout_match *m)
{
	memset(m, 0, sizeof *m);
}

static char *
match_slot(struct layout_match *m, char var, unsigned *bit)
{
	switch (var) {
	case 'u':
		*bit = LAYOUT_U;
		return m->u;
	case 'n':
		*bit = LAYOUT_N;
		return m->n;
	default:
		*bit = LAYOUT_D;
		return m->d;
	}
}

/* Match name[pos..] against tokens[ti..], backtracking over variable widths. */
static int
match_toks(const struct comp *c, int ti, const char *name, size_t pos,
    struct layout_match *m)
{
	const struct tok *t;
	size_t rest, k, lo, hi;
	struct layout_match save;
	unsigned bit;
	char *slot;

	if (ti == c->ntoks)
		return name[pos] == '\0';
	t = &c->toks[ti];
	rest = strlen(name + pos);
	if (t->kind == TOK_LIT) {
		k = strlen(t->lit);
		if (k > rest || strncmp(name + pos, t->lit, k) != 0)
			return 0;
		return match_toks(c, ti + 1, name, pos + k, m);
	}
	slot = match_slot(m, t->var, &bit);
	if (t->width == 0 && (m->bound & bit)) {
		k = strlen(slot);
		if (k > rest || strncmp(name + pos, slot, k) != 0)
			return 0;
		return match_toks(c, ti + 1, name, pos + k, m);
	}
	lo = 1;
	hi = t->width ? (size_t)t->width * 4 : 255;
	if (hi > rest)
		hi = rest;
	for (k = lo; k <= hi; k++) {
		/* Only whole UTF-8 characters, at most width of them. */
		if (t->width > 0 && (((unsigned char)name[pos + k] & 0xc0) ==
		    0x80 || utf8_prefix(name + pos, t->width) < k))
			continue;
		save = *m;
		if (t->width == 0) {
			memcpy(slot, name + pos, k);
			slot[k] = '\0';
			m->bound |= bit;
		} else {
			if (m->npre == (int)(sizeof m->pre / sizeof m->pre[0]))
				return 0;
			m->pre[m->npre].var = t->var;
			m->pre[m->npre].width = t->width;
			memcpy(m->pre[m->npre].prefix, name + pos, k);
			m->pre[m->npre].prefix[k] = '\0';
			m->npre++;
		}
		if (match_toks(c, ti + 1, name, pos + k, m))
			return 1;
		*m = save;
	}
	return 0;
}

int
layout_match_component(const struct layout *l, int i, const char *name,
    struct layout_match *m)
{
	struct layout_match try = *m;

	if (i < 0 || i >= l->ncomps || !name_is_component(name))
		return 0;
	if (!match_toks(&l->comps[i], 0, name, 0, &try))
		return 0;
	*m = try;
	return 1;
}

int
layout_match_user(const struct layout_match *m, char *buf, size_t len)
{
	char n[256], d[256];
	const char *v;
	size_t w;
	int i;

	if (m->bound & LAYOUT_U) {
		if ((size_t)snprintf(buf, len, "%s", m->u) >= len)
			return -1;
	} else if (m->bound & LAYOUT_N) {
		if ((m->bound & LAYOUT_D) && m->d[0] != '\0') {
			if ((size_t)snprintf(buf, len, "%s@%s", m->n, m->d) >=
			    len)
				return -1;
		} else if ((size_t)snprintf(buf, len, "%s", m->n) >= len)
			return -1;
	} else
		return -1;
	if (user_check(buf, NULL) != 0)
		return -1;
	user_split(buf, n, d);
	if ((m->bound & LAYOUT_N) && strcmp(m->n, n) != 0)
		return -1;
	if ((m->bound & LAYOUT_D) && strcmp(m->d, d) != 0)
		return -1;
	for (i = 0; i < m->npre; i++) {
		v = m->pre[i].var == 'u' ? buf : m->pre[i].var == 'n' ? n : d;
		/* %Nx expands to min(N, length) characters of x. */
		w = utf8_prefix(v, m->pre[i].width);
		if (strlen(m->pre[i].prefix) != w ||
		    strncmp(v, m->pre[i].prefix, w) != 0)
			return -1;
	}
	return 0;
}
