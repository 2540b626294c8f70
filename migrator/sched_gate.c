/* The cutover gate and moves waiting at ready, judged on the loop
 * thread from the catalog: see scheduler.h. */
#define _GNU_SOURCE
#include "migrator/scheduler.h"
#include "common/log.h"
#include "common/util.h"
#include "migrator/health.h"
#include "migrator/presence.h"
#include "state/state.h"
#include "state/move.h"
#include "state/queue.h"
#include "state/failover.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
sched_gate(const struct config *cfg, struct presence *presence,
    struct state *st, const struct state_move *m, int64_t now, char *why,
    size_t len)
{
	const struct config_window *win;
	struct presence_query q = { .st = st, .user = m->user, .move = m,
	    .now = now, .idle = (int64_t)cfg->presence_idle };
	char when[32];

	if (m->hold) {
		snprintf(why, len, "the move is held ('mailshift moves "
		    "complete %lld' releases it)", (long long)m->id);
		return 0;
	}
	if (m->complete_after > now) {
		snprintf(why, len, "held until %s (complete-after)",
		    time_format(m->complete_after, when, sizeof when));
		return 0;
	}
	win = config_window_at(cfg, now);
	if (win != NULL && !win->cutover) {
		snprintf(why, len, "window '%s' allows no cutovers",
		    win->name);
		return 0;
	}
	return !presence_online(presence, cfg->presence_sources, &q, why,
	    len);
}

int
sched_slice_paused(const struct sched *s, int64_t slice)
{
	size_t i;

	for (i = 0; i < s->nfailing; i++) {
		if (s->failing[i] == slice)
			return 1;
	}
	return s->health != NULL && health_paused(s->health, slice);
}

void
sched_refresh_failover(struct sched *s)
{
	int64_t *ids;
	size_t n, i, j;
	char *cause = NULL;

	if (state_failover_marked(s->st, &ids, &n, &cause) != 0) {
		/* Keep what was known: a catalog that does not answer
		 * runs no moves anyway. */
		free(cause);
		return;
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < s->nfailing && s->failing[j] != ids[i]; j++)
			;
		if (j == s->nfailing)
			log_info("slice #%lld: a failover is under way; moves "
			    "touching it pause", (long long)ids[i]);
	}
	for (j = 0; j < s->nfailing; j++) {
		for (i = 0; i < n && ids[i] != s->failing[j]; i++)
			;
		if (i == n)
			log_info("slice #%lld: failover over; its moves may "
			    "run", (long long)s->failing[j]);
	}
	free(s->failing);
	s->failing = ids;
	s->nfailing = n;
}

struct sched_seen *
sched_ready_seen(struct sched *s, int64_t id)
{
	size_t i;

	for (i = 0; i < s->nready; i++) {
		if (s->ready[i].id == id)
			return &s->ready[i];
	}
	s->ready = xrealloc(s->ready, (s->nready + 1) * sizeof *s->ready);
	memset(&s->ready[s->nready], 0, sizeof *s->ready);
	s->ready[s->nready].id = id;
	return &s->ready[s->nready++];
}

/* The gate for ready move r as the catalog has it now, a slice paused
 * for its health included: 1 open, 0 shut (why says why), -1 when the
 * move cannot be read. */
static int
ready_gate(struct sched *s, const struct state_runnable *r, int64_t now,
    char *why, size_t len)
{
	struct state_move m;
	int open;

	if (state_move_get(s->st, r->id, &m, NULL) != 0)
		return -1;
	if (sched_slice_paused(s, r->source_slice) ||
	    sched_slice_paused(s, r->target_slice)) {
		snprintf(why, len, "slice '%s' is paused (its health, or a "
		    "failover)",
		    sched_slice_paused(s, r->source_slice) ? m.source :
		    m.target);
		open = 0;
	} else
		open = sched_gate(s->cfg, s->presence, s->st, &m, now, why,
		    len);
	state_move_free(&m);
	return open;
}

int
sched_ready_judge(struct sched *s, const struct state_runnable *r,
    int64_t now, char *why, size_t len)
{
	struct sched_seen *seen = sched_ready_seen(s, r->id);
	int open;

	*why = '\0';
	if ((open = ready_gate(s, r, now, why, len)) < 0)
		return SCHED_READY_WAIT;
	if (open) {
		/* Its last cutover worker found the gate shut (a pass saw the
		 * mailbox change, a window began): not again at once. */
		if (seen->refused != 0 && now - seen->refused <
		    SCHED_READY_LOOK)
			return SCHED_READY_WAIT;
		return SCHED_READY_CUTOVER;
	}
	/* Shut: a delta pass every ready_pass, one at once when the move
	 * had none since the daemon started. */
	if (seen->when != 0 && now - seen->when < (int64_t)s->cfg->ready_pass)
		return SCHED_READY_WAIT;
	return SCHED_READY_PASS;
}

void
sched_log_waiting(struct sched *s, int64_t id, const char *why)
{
	char *line = xasprintf("%lld %s", (long long)id, why);
	size_t i, n = strlen(line) - strlen(why);

	for (i = 0; i < s->nwaits; i++) {
		if (strncmp(s->waits[i], line, n) == 0) {
			if (strcmp(s->waits[i], line) == 0) {
				free(line);
				return;
			}
			free(s->waits[i]);
			s->waits[i] = line;
			goto log;
		}
	}
	s->waits = xrealloc(s->waits, (s->nwaits + 1) * sizeof *s->waits);
	s->waits[s->nwaits++] = line;
log:
	log_info("move %lld: ready, cutover waits: %s", (long long)id, why);
	if (state_event(s->st, "move.waiting", NULL, NULL, "move %lld: "
	    "cutover waits: %s", (long long)id, why) != 0) {
		/* best effort */
	}
}

void
sched_forget_waiting(struct sched *s, int64_t id)
{
	char prefix[32];
	size_t i, n;

	n = (size_t)snprintf(prefix, sizeof prefix, "%lld ", (long long)id);
	for (i = 0; i < s->nwaits; i++) {
		if (strncmp(s->waits[i], prefix, n) == 0) {
			free(s->waits[i]);
			s->waits[i] = s->waits[--s->nwaits];
			return;
		}
	}
}
