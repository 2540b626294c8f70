/*
 * Account layout templates: where a user's Maildir lives below a slice root.
 *
 *   %u   full user ("alice@example.com")
 *   %n   local part ("alice")
 *   %d   domain ("example.com"; empty for users without a domain)
 *   %Nu, %Nn, %Nd   the first N characters (1-9, UTF-8 aware), e.g.
 *                   "%1n/%n" -> "a/alice"
 *   %%   a literal '%'
 *
 * A template is a relative path of one or more components; it must name the
 * user fully (contain %u or %n, and %d or %u wherever a prefix of the
 * domain or of the full user is used) so that a directory found on disk
 * maps back to exactly one user.
 */
#ifndef MAILSHIFT_LAYOUT_H
#define MAILSHIFT_LAYOUT_H

#include <stddef.h>

struct layout;

/* What matching components of a path found on disk has bound so far. */
struct layout_match {
	char	 u[256];		/* %u, when bound */
	char	 n[256];		/* %n, when bound */
	char	 d[256];		/* %d, when bound */
	unsigned bound;			/* LAYOUT_U | LAYOUT_N | LAYOUT_D */
	struct {
		char	 var;		/* 'u', 'n' or 'd' */
		int	 width;		/* N */
		char	 prefix[40];	/* the matched first characters */
	}	 pre[16];		/* prefix (%Nx) bindings, checked last */
	int	 npre;
};
#define LAYOUT_U 1u
#define LAYOUT_N 2u
#define LAYOUT_D 4u

/* Parse a template; returns NULL and sets *cause when it is not valid. */
struct layout *layout_parse(const char *tmpl, char **cause);
void layout_free(struct layout *);
/* The template text as given. */
const char *layout_text(const struct layout *);
/* Number of path components ("%d/%n" has 2). */
int layout_depth(const struct layout *);

/*
 * Expand the template for user into buf. Returns 0, or -1 with a cause when
 * the user does not fit (e.g. "%d" for a user without a domain, or a result
 * that is not a clean relative path).
 */
int layout_expand(const struct layout *, const char *user, char *buf,
    size_t len, char **cause);

/* Start a match of a path found on disk. */
void layout_match_init(struct layout_match *);
/*
 * Match directory entry name against component i, adding its bindings to m.
 * Returns 1 if it matches (consistently with earlier components), else 0;
 * m is unchanged when it does not match.
 */
int layout_match_component(const struct layout *, int i, const char *name,
    struct layout_match *m);
/*
 * After all components matched, derive the user into buf and check every
 * binding agrees with it. Returns 0, or -1 when the path is not a user's.
 */
int layout_match_user(const struct layout_match *, char *buf, size_t len);

#endif
