/*
 * Carrying mail from a stray copy of an account into its home: a tree an
 * old mailbox left (a late delivery recreated it, a crash, a hand copy)
 * that holds messages the home the catalog gives lacks. Messages are
 * matched by unique name (the part before ':') folder by folder, and
 * copied into the home folder's new/ (the mail server gives them new
 * UIDs). The stray tree is only read, never changed or removed.
 */
#ifndef MAILSHIFT_MIGRATOR_CARRY_H
#define MAILSHIFT_MIGRATOR_CARRY_H

#include <stdint.h>

struct state;

/*
 * The messages of the tree at path below slice's root that the home of
 * user lacks: *missing. With report non-NULL they are copied into the
 * home, report(arg, from, to) called for each (paths relative to the
 * trees). Refused (-1 with a cause) while the account has an open move,
 * when the tree is the home itself, lies outside the slice or is not a
 * Maildir.
 */
int carry_from(struct state *, const char *user, const char *slice,
    const char *path, void (*report)(void *, const char *, const char *),
    void *arg, uint64_t *missing, char **cause);

#endif
