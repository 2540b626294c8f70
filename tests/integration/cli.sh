# The commands of the foundation, run as a user would, with their output.
. "$(dirname "$0")/lib.sh"

t_init() {
	ok init
	if [ "$ENGINE" = pgsql ]; then
		expect_out "created catalog "
		expect_out "search_path=$PG_SCHEMA (schema version"
		[ "$(q 'SELECT application_id, schema_version FROM
		    mailshift_catalog')" = "1297303622|11" ] ||
		    fail "no catalog mark: $(q 'TABLE mailshift_catalog')"
	else
		expect_out "created catalog $D/catalog.db"
		[ -f "$D/catalog.db" ] || fail "no catalog file"
	fi
	ok init
	expect_out "is ready"
	ok --json init
	json_check 'j["created"] is False and j["schema_version"] >= 1'
	[ "$ENGINE" = pgsql ] ||
	    [ "$(sqlite3 "$D/catalog.db" 'PRAGMA journal_mode')" = wal ] ||
	    fail "catalog is not in WAL mode"
}

t_topology() {
	fleet
	ok server list
	expect_out "mx3   10.0.0.3  p2"
	ok pair list
	expect_out "p1    mx1       mx2"
	ok slice list
	expect_out "s3    p2    mx3     active"
	expect_out "20.0 GiB"
	ok slice list --json
	json_check 'len(j) == 3 and j[2]["capacity"] == 20 * 2**30 and j[0]["state"] == "active"'
	ok --json server list
	json_check '[s["name"] for s in j] == ["mx1", "mx2", "mx3", "mx4"]'
	ok slice show s2
	expect_out "server         mx2 (10.0.0.2)"
	expect_out "filesystem"
	ok slice show s2 --json
	json_check 'j["path"] == "'"$D"'/s2" and "fs_free" in j'
}

t_slice_set() {
	fleet
	ok slice set s1 --state draining
	ok slice show s1
	expect_out "draining"
	ok slice set s1 --capacity 2T
	ok slice list --json
	json_check 'j[0]["capacity"] == 2 * 2**40 and j[0]["state"] == "draining"'
	ok slice set s1 --state active
	mkbox "$D/s1/example.com/alice" 1
	ok discover s1
	ms slice set s1 --state retired
	expect_rc 1
	expect_err "still holds 1 accounts"
	ok slice set s2 --state retired
}

t_discover_route_account() {
	fleet
	mkbox "$D/s1/example.com/alice" 3
	mkbox "$D/s2/example.org/bob" 2
	mkbox "$D/s3/example.net/carol" 1
	ok discover
	expect_out "s1            1    1"
	ok discover --json
	json_check 'sorted(s["slice"] for s in j["slices"]) == ["s1","s2","s3"] and all(s["added"] == 0 and s["updated"] == 1 for s in j["slices"])'
	ok account list
	expect_out "alice@example.com"
	expect_out "counted"
	ok account list --slice s2 --json
	json_check 'len(j) == 1 and j[0]["user"] == "bob@example.org" and j[0]["files"] == 2'
	ok account show carol@example.net
	expect_out "home           $D/s3/example.net/carol"
	ok route alice@example.com
	expect_out "host           10.0.0.1"
	expect_out "home           $D/s1/example.com/alice"
	expect_out "locked         no"
	ok route bob@example.org --json
	json_check 'j["host"] == "10.0.0.2" and j["locked"] is False and j["home"].endswith("/s2/example.org/bob")'
	# The view the access layer reads says the same.
	[ "$(q "SELECT host || ' ' || locked FROM route WHERE \"user\" = 'bob@example.org'")" = "10.0.0.2 0" ] ||
	    fail "route view disagrees"
}

t_discover_verbose_says_source() {
	fleet
	mkbox "$D/s1/example.com/alice" 2
	mkbox "$D/s1/example.com/dora" 2
	printf '0S\n999 9\n' >"$D/s1/example.com/dora/maildirsize"
	ok discover -v s1
	expect_out "maildirsize"
	grep 'dora@example.com' "$D/out" | grep -q maildirsize ||
	    fail "dora's sizes should come from maildirsize"
	grep 'alice@example.com' "$D/out" | grep -q 'no maildirsize' ||
	    fail "alice should say why she was counted"
	ok account show dora@example.com
	expect_out "999 bytes, sizes from maildirsize"
	ok discover --count s1
	ok account show dora@example.com
	expect_out "sizes from counted"
}

t_config_file() {
	mkdir -p "$D/s1/a/alice/cur" "$D/s1/a/alice/new" "$D/etc"
	cat >"$D/etc/mailshift.conf" <<EOC
[catalog]
path = $D/other.db

[layout]
template = %1n/%n
EOC
	unset MAILSHIFT_DB
	ok --config "$D/etc/mailshift.conf" init
	expect_out "$D/other.db"
	MAILSHIFT_CONFIG="$D/etc/mailshift.conf"
	export MAILSHIFT_CONFIG
	ok server add a --address h1
	ok server add b --address h2
	ok pair add p a b
	ok slice add s1 --pair p --server a --path "$D/s1" --capacity 1G
	ok discover
	ok route alice
	expect_out "home           $D/s1/a/alice"
	# --db wins over the config.
	ms --db "$D/nothing.db" slice list
	expect_rc 1
	expect_err "no catalog at $D/nothing.db"
}

t_config_errors() {
	printf '[catalog]\npath = relative.db\n[layout]\ntemplate = %%x\nbogus = 1\n[nope]\na = b\n' >"$D/bad.conf"
	ok init
	ms --config "$D/bad.conf" slice list
	expect_rc 1
	expect_err "$D/bad.conf:2: catalog path 'relative.db' must be absolute"
	expect_err "$D/bad.conf:4:"
	expect_err "$D/bad.conf:5: unknown key 'bogus' in [layout]"
	expect_err "$D/bad.conf:7: unknown section [nope]"
	ms --config "$D/missing.conf" slice list
	expect_rc 1
	expect_err "cannot read config"
}

t_help_and_usage() {
	ms --help
	expect_rc 0
	expect_out "slice add"
	ms
	expect_rc 2
	ms frobnicate
	expect_rc 2
	expect_err "unknown command 'frobnicate'"
	ms slice
	expect_rc 2
	expect_err "usage: mailshift slice add"
	ms slice add --help
	expect_rc 0
	expect_out "usage: mailshift slice add NAME"
	ms --version
	expect_rc 0
	expect_out "mailshift "
	ms route
	expect_rc 2
	ms slice list --bogus
	expect_rc 2
}

t_install() {
	top=$(cd "$(dirname "$MS")/.." && pwd)
	make -s -C "$top" install DESTDIR="$D/root" PREFIX=/usr >/dev/null ||
	    fail "make install failed"
	[ -x "$D/root/usr/bin/mailshift" ] || fail "binary not installed"
	[ -f "$D/root/usr/share/mailshift/examples/mailshift.conf" ] ||
	    fail "example config not installed"
	"$D/root/usr/bin/mailshift" --version | grep -q mailshift ||
	    fail "installed binary does not run"
}

# A user name that starts with '-' is an operand after "--" for every
# command that takes a user; without "--" it is one usage error that names
# it and says where it goes.
t_dash_users() {
	fleet
	mkbox "$D/s1/example.com/-dash" 1
	ok discover
	U=-dash@example.com
	for cmd in "move $U --to s2" "route $U" "account show $U" \
	    "account pin $U" "account unpin $U" "presence $U online" \
	    "account restore $U --from-archive $D/a.tar.zst"; do
		before=$(catalog_sum)
		# shellcheck disable=SC2086
		ms $cmd
		expect_rc 2
		expect_one_error
		expect_err "unknown option '$U'; an argument that starts with '-' goes after '--'"
		expect_err " -- $U)"
		[ "$(catalog_sum)" = "$before" ] || fail "catalog changed by: $cmd"
	done
	ok route -- "$U"
	expect_out "home           $D/s1/example.com/-dash"
	ok --json route -- "$U"
	json_check 'j["user"] == "-dash@example.com"'
	ok account show -- "$U"
	expect_out "path           example.com/-dash"
	ok account pin -- "$U"
	ok account show --json -- "$U"
	json_check 'j["pinned"] is True'
	ok account unpin -- "$U"
	ok presence -- "$U" online
	ms move -- "$U" --to s2
	expect_rc 2
	expect_one_error
	expect_err "'--to' comes after '--', which ends the options: put the options first"
	ok move --to s2 --hold -- "$U"
	expect_out "queued: -dash@example.com to slice s2"
	ok moves cancel -- 1
	# restore reads the user: its error is about the archive, not the line.
	mkdir "$D/r"
	ms account restore --from-archive "$D/a.tar.zst" --to "$D/r" -- "$U"
	expect_rc 1
	expect_one_error
	expect_err "a.tar.zst"
	ms slice list -v
	expect_rc 2
	expect_one_error
	expect_err "unknown option '-v'"
	ms slice add s4 --pair
	expect_rc 2
	expect_one_error
	expect_err "option --pair needs a value"
}

# Health is written by the daemon's watch; here straight into the catalog,
# as the watch would. The admin's state stays apart.
t_health() {
	fleet
	ok slice list
	expect_out "STATE   HEALTH"
	expect_out "s1    p1    mx1     active  ok"
	ok status
	expect_out "health         all slices ok"
	ok slice show s1
	expect_out "health         ok"
	expect_out "health since   never changed"
	expect_out "no daemon watches this catalog (none ever ran): the health shown may be stale"
	grep -q '^advice' "$D/out" && fail "advice for a healthy slice"
	q "UPDATE slices SET health = 'degraded', health_reason = 'probe took 2.5 s',
	    health_since = 1700000000 WHERE name = 's1'"
	q "UPDATE slices SET health = 'unresponsive', health_reason = 'probe timed out',
	    health_since = 1700000100, state = 'degraded' WHERE name = 's3'"
	q "UPDATE servers SET health = 'unresponsive', health_reason = 'every slice hangs',
	    health_since = 1700000200 WHERE name = 'mx3'"
	ok slice list
	expect_out "s1    p1    mx1     active    degraded"
	expect_out "s2    p1    mx2     active    ok"
	expect_out "s3    p2    mx3     degraded  unresponsive"
	ok --json slice list
	json_check '[(s["state"], s["health"], s["health_reason"], s["health_since"]) for s in j] == [("active", "degraded", "probe took 2.5 s", "2023-11-14T22:13:20Z"), ("active", "ok", "", None), ("degraded", "unresponsive", "probe timed out", "2023-11-14T22:15:00Z")]'
	ok slice show s1
	expect_out "state          active"
	expect_out "health         degraded"
	expect_out "health since   2023-11-14T22:13:20Z"
	expect_out "health reason  probe took 2.5 s"
	expect_out "advice         move it to the pair's other server mx2, or drain it with 'mailshift plan drain s1'"
	expect_out "the health shown may be stale"
	ok slice show s3 --json
	json_check 'j["health"] == "unresponsive" and j["state"] == "degraded" and j["health_stale"] is True'
	ok status
	expect_out "health         slice s1 degraded since 2023-11-14T22:13:20Z: probe took 2.5 s"
	expect_out "health         slice s3 unresponsive since 2023-11-14T22:15:00Z: probe timed out"
	expect_out "health         server mx3 unresponsive since 2023-11-14T22:16:40Z: every slice hangs"
	grep -q "all slices ok" "$D/out" && fail "all ok while s1 is not"
	ok --json status
	json_check '[s["name"] for s in j["health"]["slices"]] == ["s1", "s3"] and j["health"]["servers"] == [{"name": "mx3", "health": "unresponsive", "reason": "every slice hangs", "since": "2023-11-14T22:16:40Z"}]'
	ok server list
	expect_out "NAME  ADDRESS   PAIR  HEALTH"
	expect_out "mx3   10.0.0.3  p2    unresponsive"
	ok --json server list
	json_check '[s["health"] for s in j] == ["ok", "ok", "unresponsive", "ok"]'
	ok server show mx3
	expect_out "health         unresponsive"
	expect_out "health reason  every slice hangs"
	ms server show mx9
	expect_rc 1
	expect_one_error
	expect_err "server 'mx9' not found; see 'mailshift server list'"
	# A daemon that beat a moment ago watches: no note.
	now=$(date +%s)
	q "INSERT INTO daemon (id, pid, started, heartbeat) VALUES (1, 1, $now, $now)"
	ok slice show s1
	grep -q "may be stale" "$D/out" && fail "stale note with a fresh heartbeat"
	ok --json slice show s1
	json_check 'j["health_stale"] is False'
	q "UPDATE daemon SET heartbeat = $((now - 120))"
	ok slice show s1
	expect_out "no daemon watches this catalog (last seen "
	# Back to ok: status says so again.
	q "UPDATE slices SET health = 'ok', health_reason = ''"
	q "UPDATE servers SET health = 'ok', health_reason = ''"
	ok status
	expect_out "health         all slices ok"
}

t "init creates a WAL catalog, twice is fine" t_init
t "servers, pairs, slices: add, list, show, JSON" t_topology
t "slice set --state/--capacity; no retiring a slice with accounts" t_slice_set
t "discover, account list/show, route and the route view" t_discover_route_account
t "discover -v says where sizes came from" t_discover_verbose_says_source
t "config file: catalog path, layout template, env and --db" t_config_file
t "config errors are all reported with file:line" t_config_errors
t "help, usage errors and exit codes" t_help_and_usage
t "make install honours DESTDIR and PREFIX" t_install
t "a user starting with - goes after --, for every command" t_dash_users
t "health: slice list/show, server list/show and status show it" t_health
done_testing
