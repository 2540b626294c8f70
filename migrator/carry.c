/* Carrying mail from a stray copy into the account's home: see carry.h. */
#define _GNU_SOURCE
#include "migrator/carry.h"
#include "common/util.h"
#include "migrator/maildir.h"
#include "migrator/settle.h"
#include "migrator/slice.h"
#include "migrator/tree.h"
#include "state/state.h"
#include "state/account.h"
#include "state/move.h"
#include "state/slice.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
carry_from(struct state *st, const char *user, const char *slice,
    const char *path, void (*report)(void *, const char *, const char *),
    void *arg, uint64_t *missing, char **cause)
{
	struct state_account a;
	struct state_slice hs, ts;
	struct state_move m;
	struct settle_result res;
	int hroot = -1, troot = -1, home = -1, tree = -1, rc = -1, open;

	memset(&hs, 0, sizeof hs);
	memset(&ts, 0, sizeof ts);
	*missing = 0;
	if (state_account_get(st, user, &a, cause) != 0)
		return -1;
	if ((open = state_move_find_open(st, user, &m, cause)) < 0)
		goto out;
	if (open == 0) {
		fail(cause, "account '%s' has an open move (%lld, %s): carry "
		    "mail once it is done or cancelled", user, (long long)m.id,
		    state_move_state_name(m.state));
		state_move_free(&m);
		goto out;
	}
	if (state_slice_get(st, a.slice, &hs, cause) != 0 ||
	    state_slice_get(st, slice, &ts, cause) != 0)
		goto out;
	if (hs.id == ts.id && strcmp(a.path, path) == 0) {
		fail(cause, "%s/%s is the home of '%s' itself; give the stray "
		    "copy's path", ts.path, path, user);
		goto out;
	}
	if ((hroot = slice_open(hs.path, hs.name, cause)) < 0 ||
	    (troot = slice_open(ts.path, ts.name, cause)) < 0)
		goto out;
	if ((tree = tree_open_below(troot, path, cause)) < 0) {
		char *why = *cause;

		*cause = xasprintf("%s on slice '%s': %s", path, ts.name, why);
		free(why);
		goto out;
	}
	if (!maildir_is(tree)) {
		fail(cause, "%s/%s is not a Maildir (no cur/ and new/)",
		    ts.path, path);
		goto out;
	}
	if ((home = tree_open_below(hroot, a.path, cause)) < 0) {
		char *why = *cause;

		*cause = xasprintf("the home of '%s' (%s/%s): %s", user,
		    hs.path, a.path, why);
		free(why);
		goto out;
	}
	if (report == NULL)
		rc = settle_missing(tree, home, missing, cause);
	else if ((rc = settle_tree(tree, NULL, -1, NULL, home, geteuid() == 0,
	    0, report, arg, &res, cause)) == 0) {
		*missing = res.carried;
		state_event(st, "account.carry", user, a.slice, "%llu "
		    "message(s) carried from %s/%s into the home %s/%s; the "
		    "tree is left as it is", (unsigned long long)res.carried,
		    ts.path, path, hs.path, a.path);
	}
out:
	if (tree >= 0)
		close(tree);
	if (home >= 0)
		close(home);
	if (troot >= 0)
		close(troot);
	if (hroot >= 0)
		close(hroot);
	state_account_free(&a);
	state_slice_free(&hs);
	state_slice_free(&ts);
	return rc;
}
