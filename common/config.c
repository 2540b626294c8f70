/* The configuration file: see config.h. */
#define _GNU_SOURCE
#include "common/config.h"
#include "common/command.h"
#include "common/layout.h"
#include "common/util.h"

#include <errno.h>
#include <stddef.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

struct parse {
	const char	*file;
	FILE		*f;
	int		 line;		/* line the reader returned last */
	struct config	*c;
	char		*errors;	/* accumulated "file:line: ..." lines */
	int		 grace_line;	/* where lock_grace was set, or 0 */
	int		 timeout_line;	/* where lock_timeout was set, or 0 */
};

void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof *c);
	c->catalog = xstrdup(CONFIG_DEFAULT_CATALOG);
	c->layout = xstrdup(CONFIG_DEFAULT_LAYOUT);
	c->trust_maildirsize = 1;
	c->lock_grace = 5;
	c->lock_timeout = 30;
	c->max_passes = 8;
	c->small_pass_files = 200;
	c->small_pass_bytes = 16 << 20;
	c->retention_keep = 30 * 86400;
	c->listen = xstrdup("127.0.0.1:8025");
	c->max_moves = 4;
	c->per_source = 1;
	c->per_target = 1;
	c->max_retries = 5;
	c->retry_base = 30;
	c->ready_pass = 300;
	c->health_interval_ms = 1000;
	c->health_timeout_ms = 5000;
	c->health_window = 10;
	c->health_degraded_after = 4;
	c->health_history = 6;
	c->health_recover_after = 6;
	c->health_factor = 2.5;
	c->health_floor_ms = 20;
	c->health_peers = 3;
	c->health_baseline = 3600;
	c->health_pause_after = 60;
	c->presence_sources = PRESENCE_CATALOG | PRESENCE_MAILBOX;
	c->presence_idle = 900;
	c->presence_interval = 60;
	c->presence_timeout = 10;
	c->settle = 30;
	c->quiet_ms = 500;
	c->late_dovecot = 1;
	c->hook_timeout = 10;
	c->ops_capacity = 1000;
	c->load_target = 75;
	c->load_hard_limit = 90;
	c->restore_rate = UINT64_C(100) << 20;
	c->max_restore = 4 * 3600;
	c->load_interval = 60;
	c->load_window = 86400;
	c->proc_root = xstrdup("/proc");
	c->failover_after = 10;
	c->failover_hold_down = 600;
	c->failover_quiesce = 30;
	c->failover_timeout = 60;
}

void
config_free(struct config *c)
{
	free(c->file);
	free(c->catalog);
	free(c->layout);
	free(c->listen);
	free(c->presence_command);
	free(c->hook_after_lock);
	free(c->hook_after_switch);
	free(c->hook_on_health);
	free(c->proc_root);
	free(c->failover_fence);
	free(c->failover_promote);
	free(c->failover_after_hook);
	memset(c, 0, sizeof *c);
}

int
config_is_url(const char *s)
{
	const char *p = s;

	if (strncmp(s, "postgresql://", 13) == 0 ||
	    strncmp(s, "postgres://", 11) == 0)
		return 1;
	while ((*p >= 'a' && *p <= 'z') || *p == '_')
		p++;
	return p > s && *p == '=';
}

static void
parse_error(struct parse *p, const char *fmt, const char *a, const char *b)
{
	char *msg = xasprintf(fmt, a, b), *all;

	all = xasprintf("%s%s%s:%d: %s", p->errors ? p->errors : "",
	    p->errors ? "\n" : "", p->file, p->line, msg);
	free(p->errors);
	free(msg);
	p->errors = all;
}

/* inih reader that counts lines, so the handler knows where it is. */
static char *
reader(char *buf, int size, void *arg)
{
	struct parse *p = arg;

	if (fgets(buf, size, p->f) == NULL)
		return NULL;
	p->line++;
	return buf;
}

static void
set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

enum key_type { K_PATH, K_URL, K_LAYOUT, K_CHOICE, K_DURATION, K_MILLIS, K_SIZE,
    K_COUNT, K_LISTEN, K_SOURCES, K_COMMAND, K_FACTOR };

/* One configuration key: where it lives and how to read it. */
struct key {
	const char	*section;
	const char	*name;
	enum key_type	 type;
	size_t		 off;		/* offset in struct config */
	const char	*choices[4];	/* K_CHOICE: value 0, 1 (, 2) */
};

#define OFF(f) offsetof(struct config, f)
static const struct key keys[] = {
	{ "catalog", "path", K_PATH, OFF(catalog), { NULL } },
	{ "catalog", "url", K_URL, OFF(catalog), { NULL } },
	{ "layout", "template", K_LAYOUT, OFF(layout), { NULL } },
	{ "discover", "maildirsize", K_CHOICE, OFF(trust_maildirsize),
	    { "ignore", "trust", NULL } },
	{ "move", "lock_grace", K_DURATION, OFF(lock_grace), { NULL } },
	{ "move", "lock_timeout", K_DURATION, OFF(lock_timeout), { NULL } },
	{ "move", "max_passes", K_COUNT, OFF(max_passes), { NULL } },
	{ "move", "small_pass_files", K_COUNT, OFF(small_pass_files),
	    { NULL } },
	{ "move", "small_pass_bytes", K_SIZE, OFF(small_pass_bytes),
	    { NULL } },
	{ "move", "durability", K_CHOICE, OFF(durability_fsync),
	    { "syncfs", "fsync", NULL } },
	{ "move", "verify", K_CHOICE, OFF(verify_content),
	    { "listing", "content", NULL } },
	{ "move", "settle", K_DURATION, OFF(settle), { NULL } },
	{ "move", "quiet", K_MILLIS, OFF(quiet_ms), { NULL } },
	{ "move", "late_mail", K_CHOICE, OFF(late_dovecot),
	    { "all", "dovecot", NULL } },
	{ "hooks", "after_lock", K_COMMAND, OFF(hook_after_lock), { NULL } },
	{ "hooks", "after_switch", K_COMMAND, OFF(hook_after_switch),
	    { NULL } },
	{ "hooks", "on_health", K_COMMAND, OFF(hook_on_health), { NULL } },
	{ "hooks", "timeout", K_DURATION, OFF(hook_timeout), { NULL } },
	{ "throttle", "bytes_per_second", K_SIZE, OFF(bytes_per_second),
	    { NULL } },
	{ "throttle", "files_per_second", K_COUNT, OFF(files_per_second),
	    { NULL } },
	{ "retention", "archive", K_CHOICE, OFF(archive_zstd),
	    { "none", "zstd", NULL } },
	{ "retention", "keep", K_DURATION, OFF(retention_keep), { NULL } },
	{ "daemon", "listen", K_LISTEN, OFF(listen), { NULL } },
	{ "daemon", "log", K_CHOICE, OFF(log_syslog), { "stderr", "syslog",
	    NULL } },
	{ "daemon", "log_level", K_CHOICE, OFF(log_debug), { "info", "debug",
	    NULL } },
	{ "daemon", "max_moves", K_COUNT, OFF(max_moves), { NULL } },
	{ "daemon", "per_source", K_COUNT, OFF(per_source), { NULL } },
	{ "daemon", "per_target", K_COUNT, OFF(per_target), { NULL } },
	{ "daemon", "max_retries", K_COUNT, OFF(max_retries), { NULL } },
	{ "daemon", "retry_base", K_DURATION, OFF(retry_base), { NULL } },
	{ "daemon", "ready_pass", K_DURATION, OFF(ready_pass), { NULL } },
	{ "daemon", "health_window", K_DURATION, OFF(health_pause_after),
	    { NULL } },
	{ "health", "interval", K_MILLIS, OFF(health_interval_ms), { NULL } },
	{ "health", "timeout", K_MILLIS, OFF(health_timeout_ms), { NULL } },
	{ "health", "window", K_DURATION, OFF(health_window), { NULL } },
	{ "health", "degraded_after", K_COUNT, OFF(health_degraded_after),
	    { NULL } },
	{ "health", "history", K_COUNT, OFF(health_history), { NULL } },
	{ "health", "recover_after", K_COUNT, OFF(health_recover_after),
	    { NULL } },
	{ "health", "factor", K_FACTOR, OFF(health_factor), { NULL } },
	{ "health", "floor", K_MILLIS, OFF(health_floor_ms), { NULL } },
	{ "health", "peers", K_COUNT, OFF(health_peers), { NULL } },
	{ "health", "baseline", K_DURATION, OFF(health_baseline), { NULL } },
	{ "health", "pause_after", K_DURATION, OFF(health_pause_after),
	    { NULL } },
	{ "failover", "fence", K_COMMAND, OFF(failover_fence), { NULL } },
	{ "failover", "promote", K_COMMAND, OFF(failover_promote), { NULL } },
	{ "failover", "after_failover", K_COMMAND, OFF(failover_after_hook),
	    { NULL } },
	{ "failover", "auto", K_CHOICE, OFF(failover_auto), { "no", "yes",
	    "slow", NULL } },
	{ "failover", "after", K_DURATION, OFF(failover_after), { NULL } },
	{ "failover", "hold_down", K_DURATION, OFF(failover_hold_down),
	    { NULL } },
	{ "failover", "quiesce", K_DURATION, OFF(failover_quiesce), { NULL } },
	{ "failover", "timeout", K_DURATION, OFF(failover_timeout), { NULL } },
	{ "capacity", "ops_capacity", K_COUNT, OFF(ops_capacity), { NULL } },
	{ "capacity", "load_target", K_COUNT, OFF(load_target), { NULL } },
	{ "capacity", "load_hard_limit", K_COUNT, OFF(load_hard_limit),
	    { NULL } },
	{ "capacity", "restore_rate", K_SIZE, OFF(restore_rate), { NULL } },
	{ "capacity", "max_restore", K_DURATION, OFF(max_restore), { NULL } },
	{ "capacity", "load_interval", K_DURATION, OFF(load_interval),
	    { NULL } },
	{ "capacity", "load_window", K_DURATION, OFF(load_window), { NULL } },
	{ "capacity", "proc", K_PATH, OFF(proc_root), { NULL } },
	{ "presence", "sources", K_SOURCES, OFF(presence_sources), { NULL } },
	{ "presence", "idle", K_DURATION, OFF(presence_idle), { NULL } },
	{ "presence", "command", K_COMMAND, OFF(presence_command), { NULL } },
	{ "presence", "command_interval", K_DURATION, OFF(presence_interval),
	    { NULL } },
	{ "presence", "command_timeout", K_DURATION, OFF(presence_timeout),
	    { NULL } },
};

/* Numbers that must not be 0, with what 0 would do. */
static const struct {
	size_t		 off;
	const char	*why;
} nonzero[] = {
	{ OFF(lock_timeout), "every cutover would be abandoned" },
	{ OFF(max_moves), "the daemon would never start a move" },
	{ OFF(per_source), "no move out of any slice would ever start" },
	{ OFF(per_target), "no move into any slice would ever start" },
	{ OFF(health_interval_ms), "the slices would be probed without "
	    "pause" },
	{ OFF(health_timeout_ms), "every probe would count as hung" },
	{ OFF(health_window), "no window would ever be judged" },
	{ OFF(health_degraded_after), "every window would make a slice "
	    "degraded" },
	{ OFF(health_history), "no window would ever be judged" },
	{ OFF(health_recover_after), "a slice would be ok again with no "
	    "clean window" },
};

/* Parse "HH:MM" into minutes of the day. */
static int
parse_hhmm(const char *v, int *out)
{
	int h, m;
	char end;

	if (sscanf(v, "%d:%d%c", &h, &m, &end) != 2 || h < 0 || h > 24 ||
	    m < 0 || m > 59 || (h == 24 && m != 0))
		return -1;
	*out = h * 60 + m;
	return 0;
}

/* A key of a [window NAME] section. */
static void
window_key(struct parse *p, const char *section, const char *name,
    const char *value)
{
	struct config_window *w = NULL;
	char *why = NULL;
	uint64_t v;
	int i;

	for (i = 0; i < p->c->nwindows; i++) {
		if (strcmp(p->c->windows[i].name, section + 7) == 0)
			w = &p->c->windows[i];
	}
	if (w == NULL) {
		if (p->c->nwindows == CONFIG_MAX_WINDOWS) {
			parse_error(p, "too many windows (at most %d)%s",
			    "16", "");
			return;
		}
		w = &p->c->windows[p->c->nwindows++];
		memset(w, 0, sizeof *w);
		snprintf(w->name, sizeof w->name, "%s", section + 7);
		w->from = w->to = -1;
		w->cutover = 1;
	}
	if (strcmp(name, "from") == 0 || strcmp(name, "to") == 0) {
		if (parse_hhmm(value, strcmp(name, "from") == 0 ? &w->from :
		    &w->to) != 0)
			parse_error(p, "%s = '%s': give a UTC time as HH:MM",
			    name, value);
	} else if (strcmp(name, "bytes_per_second") == 0) {
		if (size_parse(value, &v, &why) != 0) {
			parse_error(p, "%s: %s", name, why);
			free(why);
		} else
			w->bytes_per_second = v;
	} else if (strcmp(name, "files_per_second") == 0) {
		char *end;

		errno = 0;
		v = strtoull(value, &end, 10);
		if (*value < '0' || *value > '9' || *end != '\0' || errno)
			parse_error(p, "%s = '%s': give a whole number", name,
			    value);
		else
			w->files_per_second = v;
	} else if (strcmp(name, "cutover") == 0) {
		if (strcasecmp(value, "yes") == 0)
			w->cutover = 1;
		else if (strcasecmp(value, "no") == 0)
			w->cutover = 0;
		else
			parse_error(p, "cutover = '%s': use yes or no%s",
			    value, "");
	} else
		parse_error(p, "unknown key '%s' in [%s]", name, section);
}

/* Is 0 refused for key k? Then say why and what to do, and return 1. */
static int
refuse_zero(struct parse *p, const struct key *k, const char *value)
{
	char *why;
	size_t i;

	for (i = 0; i < sizeof nonzero / sizeof nonzero[0]; i++) {
		if (nonzero[i].off != k->off)
			continue;
		why = xasprintf("%s = '%s': %s; give at least %s", k->name,
		    value, nonzero[i].why, k->type == K_DURATION ? "1s" :
		    k->type == K_MILLIS ? "1ms" : "1");
		parse_error(p, "%s%s", why, "");
		free(why);
		return 1;
	}
	return 0;
}

static int
handler(void *arg, const char *section, const char *name, const char *value)
{
	struct parse *p = arg;
	const struct key *k = NULL;
	struct layout *l;
	char *why = NULL, *end, *base = (char *)p->c;
	uint64_t v;
	size_t i;
	int known = 0;

	if (strncmp(section, "window ", 7) == 0 && section[7] != '\0') {
		window_key(p, section, name, value);
		return 1;
	}
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if (strcmp(keys[i].section, section) != 0)
			continue;
		known = 1;
		if (strcmp(keys[i].name, name) == 0) {
			k = &keys[i];
			break;
		}
	}
	if (k == NULL) {
		if (!known)
			parse_error(p, "unknown section [%s] (key '%s')",
			    section, name);
		else
			parse_error(p, "unknown key '%s' in [%s]", name,
			    section);
		return 1;
	}
	switch (k->type) {
	case K_URL:
		if (!config_is_url(value))
			parse_error(p, "catalog url '%s' is neither a "
			    "postgresql:// URL nor a libpq conninfo "
			    "(key=value ...)%s", value, "");
		else if (++p->c->catalog_keys > 1)
			parse_error(p, "give [catalog] path or url, not "
			    "both%s%s", "", "");
		else
			set_str((char **)(base + k->off), value);
		break;
	case K_PATH:
		if (k->off == OFF(catalog) && ++p->c->catalog_keys > 1)
			parse_error(p, "give [catalog] path or url, not "
			    "both%s%s", "", "");
		else if (*value != '/')
			parse_error(p, "%s path '%s' must be absolute",
			    section, value);
		else
			set_str((char **)(base + k->off), value);
		break;
	case K_LAYOUT:
		if ((l = layout_parse(value, &why)) == NULL) {
			parse_error(p, "%s%s", why, "");
			free(why);
		} else {
			layout_free(l);
			set_str((char **)(base + k->off), value);
		}
		break;
	case K_CHOICE:
		if (strcasecmp(value, k->choices[0]) == 0)
			*(int *)(base + k->off) = 0;
		else if (strcasecmp(value, k->choices[1]) == 0)
			*(int *)(base + k->off) = 1;
		else if (k->choices[2] != NULL &&
		    strcasecmp(value, k->choices[2]) == 0)
			*(int *)(base + k->off) = 2;
		else {
			why = xasprintf("%s = '%s': use '%s'%s '%s'%s%s%s", name,
			    value, k->choices[0], k->choices[2] ? "," : " or",
			    k->choices[1], k->choices[2] ? " or '" : "",
			    k->choices[2] ? k->choices[2] : "",
			    k->choices[2] ? "'" : "");
			parse_error(p, "%s%s", why, "");
			free(why);
		}
		break;
	case K_DURATION:
		if (duration_parse(value, &v, &why) != 0) {
			parse_error(p, "%s: %s", name, why);
			free(why);
		} else if (v != 0 || !refuse_zero(p, k, value))
			*(uint64_t *)(base + k->off) = v;
		if (k->off == OFF(lock_grace))
			p->grace_line = p->line;
		else if (k->off == OFF(lock_timeout))
			p->timeout_line = p->line;
		break;
	case K_MILLIS:
		if (millis_parse(value, &v, &why) != 0) {
			parse_error(p, "%s: %s", name, why);
			free(why);
		} else if (v != 0 || !refuse_zero(p, k, value))
			*(uint64_t *)(base + k->off) = v;
		break;
	case K_FACTOR:
		{
			double f;

			errno = 0;
			f = strtod(value, &end);
			if (*value < '0' || *value > '9' || *end != '\0' ||
			    errno || f < 1.2 || f > 100)
				parse_error(p, "%s = '%s': give a number from "
				    "1.2 to 100 (e.g. 2.5)", name, value);
			else
				*(double *)(base + k->off) = f;
		}
		break;
	case K_SIZE:
		if (size_parse(value, &v, &why) != 0) {
			parse_error(p, "%s: %s", name, why);
			free(why);
		} else
			*(uint64_t *)(base + k->off) = v;
		break;
	case K_LISTEN:
		{
			const char *colon = strrchr(value, ':');
			unsigned long port = colon ? strtoul(colon + 1, &end,
			    10) : 0;

			if (strcmp(value, "off") != 0 && (colon == NULL ||
			    colon == value || *end != '\0' || port == 0 ||
			    port > 65535))
				parse_error(p, "listen = '%s': give "
				    "ADDRESS:PORT (e.g. 127.0.0.1:8025) or "
				    "off%s", value, "");
			else
				set_str((char **)(base + k->off), value);
		}
		break;
	case K_COMMAND:
		if (*value == '\0') {
			/* "after_switch =": no command. */
			free(*(char **)(base + k->off));
			*(char **)(base + k->off) = NULL;
		} else if (command_check(value, &why) != 0) {
			parse_error(p, "%s: %s", name, why);
			free(why);
		} else
			set_str((char **)(base + k->off), value);
		break;
	case K_SOURCES:
		{
			unsigned bits = 0;
			char *copy = xstrdup(value), *tok, *save = NULL;

			for (tok = strtok_r(copy, ", ", &save); tok != NULL;
			    tok = strtok_r(NULL, ", ", &save)) {
				if (strcmp(tok, "catalog") == 0)
					bits |= PRESENCE_CATALOG;
				else if (strcmp(tok, "command") == 0)
					bits |= PRESENCE_COMMAND;
				else if (strcmp(tok, "mailbox") == 0)
					bits |= PRESENCE_MAILBOX;
				else {
					parse_error(p, "sources: unknown '%s'; "
					    "use catalog, command, mailbox%s",
					    tok, "");
					bits = 0;
					break;
				}
			}
			free(copy);
			if (bits != 0)
				*(unsigned *)(base + k->off) = bits;
			else if (*value == '\0')
				parse_error(p, "sources: name at least one of "
				    "catalog, command, mailbox%s%s", "", "");
		}
		break;
	case K_COUNT:
		errno = 0;
		v = strtoull(value, &end, 10);
		if (*value < '0' || *value > '9' || *end != '\0' || errno)
			parse_error(p, "%s = '%s': give a whole number", name,
			    value);
		else if (v != 0 || !refuse_zero(p, k, value))
			*(uint64_t *)(base + k->off) = v;
		break;
	}
	return 1;
}

int
config_load(const char *file, int required, struct config *c, char **cause)
{
	struct parse p = { .file = file };
	struct config n;
	struct stat sb;
	int rc;

	if ((p.f = fopen(file, "r")) == NULL) {
		if (errno == ENOENT && !required)
			return 0;
		return fail(cause, "%s: cannot read config: %s", file,
		    strerror(errno));
	}
	if (fstat(fileno(p.f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
		fclose(p.f);
		return fail(cause, "%s: cannot read config: not a regular "
		    "file", file);
	}
	config_defaults(&n);
	p.c = &n;
	rc = ini_parse_stream(reader, &p, handler, &p);
	if (ferror(p.f)) {
		int e = errno;

		fclose(p.f);
		config_free(&n);
		free(p.errors);
		return fail(cause, "%s: cannot read config: %s", file,
		    strerror(e));
	}
	fclose(p.f);
	if (rc > 0) {
		/* inih reports only the first line it could not parse. */
		p.line = rc;
		parse_error(&p, "syntax error: expected '[section]' or "
		    "'key = value'%s%s", "", "");
	} else if (rc < 0)
		parse_error(&p, "cannot parse: out of memory%s%s", "", "");
	for (int i = 0; i < n.nwindows; i++) {
		if (n.windows[i].from < 0 || n.windows[i].to < 0) {
			p.line = 0;
			parse_error(&p, "window '%s' needs both from and to%s",
			    n.windows[i].name, "");
		}
	}
	/* The grace is waited under the lock: as long as the timeout, every
	 * cutover would be abandoned after it. */
	if (n.lock_timeout > 0 && n.lock_grace >= n.lock_timeout) {
		char *why = xasprintf("lock_grace (%llus) must be shorter than "
		    "lock_timeout (%llus), which it counts against; shorten "
		    "lock_grace or raise lock_timeout",
		    (unsigned long long)n.lock_grace,
		    (unsigned long long)n.lock_timeout);

		p.line = p.grace_line > p.timeout_line ? p.grace_line :
		    p.timeout_line;
		parse_error(&p, "%s%s", why, "");
		free(why);
	}
	/* The quiet wait is under the lock too. */
	if (n.lock_timeout > 0 && n.quiet_ms >= n.lock_timeout * 1000) {
		char *why = xasprintf("quiet (%llums) must be shorter than "
		    "lock_timeout (%llus); shorten quiet or raise "
		    "lock_timeout", (unsigned long long)n.quiet_ms,
		    (unsigned long long)n.lock_timeout);

		p.line = 0;
		parse_error(&p, "%s%s", why, "");
		free(why);
	}
	if (n.hook_on_health != NULL && strstr(n.hook_on_health, "%u") !=
	    NULL && strstr(n.hook_on_health, "%%u") == NULL) {
		p.line = 0;
		parse_error(&p, "[hooks] on_health: %%u (the user) has no user "
		    "here; the slice is in $MAILSHIFT_SLICE%s%s", "", "");
	}
	if (n.health_degraded_after > n.health_history) {
		char *why = xasprintf("[health] degraded_after (%llu) is more "
		    "than history (%llu), the windows it counts in; lower "
		    "degraded_after or raise history",
		    (unsigned long long)n.health_degraded_after,
		    (unsigned long long)n.health_history);

		p.line = 0;
		parse_error(&p, "%s%s", why, "");
		free(why);
	}
	if (n.health_history > 64 || n.health_recover_after > 64) {
		p.line = 0;
		parse_error(&p, "[health] history and recover_after count at "
		    "most 64 windows%s%s", "", "");
	}
	if ((n.failover_fence && strstr(n.failover_fence, "%u")) ||
	    (n.failover_promote && strstr(n.failover_promote, "%u")) ||
	    (n.failover_after_hook && strstr(n.failover_after_hook, "%u"))) {
		p.line = 0;
		parse_error(&p, "[failover] hooks have no user (%%u); the "
		    "slice, the old and the new server and the path are $1, "
		    "$2, $3 and $4%s%s", "", "");
	}
	if (n.failover_auto != 0 && n.failover_fence == NULL) {
		p.line = 0;
		parse_error(&p, "[failover] auto needs a fence hook: an "
		    "automatic failover fences the old server first; set "
		    "[failover] fence%s%s", "", "");
	}
	if (n.failover_auto != 0 && n.failover_after == 0) {
		p.line = 0;
		parse_error(&p, "[failover] after must be at least 1s when "
		    "auto is on%s%s", "", "");
	}
	if (n.load_target < 1 || n.load_target > 100 ||
	    n.load_hard_limit < 1 || n.load_hard_limit > 100 ||
	    n.load_target > n.load_hard_limit) {
		p.line = 0;
		parse_error(&p, "[capacity] load_target and load_hard_limit "
		    "are percentages of a slice's ops capacity, 1 to 100, the "
		    "target at most the hard limit (e.g. 75 and 90)%s%s", "",
		    "");
	}
	if (n.restore_rate == 0 || n.max_restore == 0 ||
	    n.load_window == 0) {
		p.line = 0;
		parse_error(&p, "[capacity] restore_rate, max_restore and "
		    "load_window must be above 0 (e.g. 100MiB, 4h, 1d)%s%s",
		    "", "");
	}
	if ((n.presence_sources & PRESENCE_COMMAND) &&
	    n.presence_command == NULL) {
		p.line = 0;
		parse_error(&p, "presence source 'command' needs [presence] "
		    "command (e.g. doveadm who -1)%s%s", "", "");
	}
	if (p.errors != NULL) {
		config_free(&n);
		if (cause != NULL)
			*cause = p.errors;
		else
			free(p.errors);
		return -1;
	}
	n.file = xstrdup(file);
	config_free(c);
	*c = n;
	return 0;
}

const struct config_window *
config_window_at(const struct config *c, int64_t t)
{
	int minute = (int)((t % 86400 + 86400) % 86400 / 60), i;
	const struct config_window *w;

	for (i = 0; i < c->nwindows; i++) {
		w = &c->windows[i];
		if (w->from <= w->to ? minute >= w->from && minute < w->to :
		    minute >= w->from || minute < w->to)
			return w;
	}
	return NULL;
}

void
config_print(FILE *f, const struct config *c)
{
	fprintf(f, "# %s\n", c->file ? c->file : "built-in defaults");
	fprintf(f, "[catalog]\n%s = %s\n\n", config_is_url(c->catalog) ?
	    "url" : "path", c->catalog);
	fprintf(f, "[layout]\ntemplate = %s\n\n", c->layout);
	fprintf(f, "[discover]\nmaildirsize = %s\n\n",
	    c->trust_maildirsize ? "trust" : "ignore");
	fprintf(f, "[move]\nlock_grace = %llus\nlock_timeout = %llus\n"
	    "max_passes = %llu\nsmall_pass_files = %llu\n"
	    "small_pass_bytes = %llu\ndurability = %s\nverify = %s\n"
	    "settle = %llus\nquiet = %llums\nlate_mail = %s\n\n",
	    (unsigned long long)c->lock_grace,
	    (unsigned long long)c->lock_timeout,
	    (unsigned long long)c->max_passes,
	    (unsigned long long)c->small_pass_files,
	    (unsigned long long)c->small_pass_bytes,
	    c->durability_fsync ? "fsync" : "syncfs",
	    c->verify_content ? "content" : "listing",
	    (unsigned long long)c->settle,
	    (unsigned long long)c->quiet_ms,
	    c->late_dovecot ? "dovecot" : "all");
	fprintf(f, "[throttle]\nbytes_per_second = %llu\n"
	    "files_per_second = %llu\n\n",
	    (unsigned long long)c->bytes_per_second,
	    (unsigned long long)c->files_per_second);
	fprintf(f, "[daemon]\nlog = %s\nlog_level = %s\nlisten = %s\n"
	    "max_moves = %llu\nper_source = %llu\nper_target = %llu\n"
	    "max_retries = %llu\nretry_base = %llus\nready_pass = %llus\n\n",
	    c->log_syslog ? "syslog" : "stderr",
	    c->log_debug ? "debug" : "info", c->listen,
	    (unsigned long long)c->max_moves,
	    (unsigned long long)c->per_source,
	    (unsigned long long)c->per_target,
	    (unsigned long long)c->max_retries,
	    (unsigned long long)c->retry_base,
	    (unsigned long long)c->ready_pass);
	fprintf(f, "[health]\ninterval = %llums\ntimeout = %llums\n"
	    "window = %llus\ndegraded_after = %llu\nhistory = %llu\n"
	    "recover_after = %llu\nfactor = %g\nfloor = %llums\n"
	    "peers = %llu\nbaseline = %llus\npause_after = %llus\n\n",
	    (unsigned long long)c->health_interval_ms,
	    (unsigned long long)c->health_timeout_ms,
	    (unsigned long long)c->health_window,
	    (unsigned long long)c->health_degraded_after,
	    (unsigned long long)c->health_history,
	    (unsigned long long)c->health_recover_after, c->health_factor,
	    (unsigned long long)c->health_floor_ms,
	    (unsigned long long)c->health_peers,
	    (unsigned long long)c->health_baseline,
	    (unsigned long long)c->health_pause_after);
	fprintf(f, "[hooks]\nafter_lock = %s\nafter_switch = %s\n"
	    "on_health = %s\ntimeout = %llus\n\n",
	    c->hook_after_lock ? c->hook_after_lock : "",
	    c->hook_after_switch ? c->hook_after_switch : "",
	    c->hook_on_health ? c->hook_on_health : "",
	    (unsigned long long)c->hook_timeout);
	fprintf(f, "[failover]\nfence = %s\npromote = %s\n"
	    "after_failover = %s\nauto = %s\nafter = %llus\n"
	    "hold_down = %llus\nquiesce = %llus\ntimeout = %llus\n\n",
	    c->failover_fence ? c->failover_fence : "",
	    c->failover_promote ? c->failover_promote : "",
	    c->failover_after_hook ? c->failover_after_hook : "",
	    c->failover_auto == 2 ? "slow" : c->failover_auto ? "yes" : "no",
	    (unsigned long long)c->failover_after,
	    (unsigned long long)c->failover_hold_down,
	    (unsigned long long)c->failover_quiesce,
	    (unsigned long long)c->failover_timeout);
	fprintf(f, "[capacity]\nops_capacity = %llu\nload_target = %llu\n"
	    "load_hard_limit = %llu\nrestore_rate = %llu\n"
	    "max_restore = %llus\nload_interval = %llus\n"
	    "load_window = %llus\nproc = %s\n\n",
	    (unsigned long long)c->ops_capacity,
	    (unsigned long long)c->load_target,
	    (unsigned long long)c->load_hard_limit,
	    (unsigned long long)c->restore_rate,
	    (unsigned long long)c->max_restore,
	    (unsigned long long)c->load_interval,
	    (unsigned long long)c->load_window, c->proc_root);
	fprintf(f, "[retention]\narchive = %s\nkeep = %llus\n",
	    c->archive_zstd ? "zstd" : "none",
	    (unsigned long long)c->retention_keep);
}
