# The OCF resource agent examples/pacemaker/mailshift-slice, driven as
# Pacemaker drives it: an action as its argument, parameters as
# OCF_RESKEY_* variables. Two nodes of one pair are two values of the
# server parameter here; each keeps its own "started here" file in the
# test's HA_RSCTMP.
. "$(dirname "$0")/lib.sh"

AGENT="$TESTLIB/../../examples/pacemaker/mailshift-slice"

# Run the agent: action $1 on server $2 for slice $3, further settings as
# VAR=value arguments; the catalog goes as the catalog parameter.
# Status in $RC, stdout in $D/ra.out, stderr in $D/ra.err.
ra() {
	action=$1
	server=$2
	slice=$3
	shift 3
	RC=0
	(
		db=$MAILSHIFT_DB
		unset MAILSHIFT_DB
		export HA_RSCTMP="$D/rsc" OCF_RESOURCE_INSTANCE="follow_$slice" \
		    OCF_RESKEY_slice="$slice" OCF_RESKEY_server="$server" \
		    OCF_RESKEY_binary="$MS" OCF_RESKEY_catalog="$db" \
		    OCF_RESKEY_CRM_meta_interval=30000 \
		    OCF_RESKEY_CRM_meta_timeout=20000
		for kv in "$@"; do
			export "${kv?}"
		done
		exec sh "$AGENT" "$action"
	) >"$D/ra.out" 2>"$D/ra.err" || RC=$?
	echo "\$ mailshift-slice $action server=$server slice=$slice $* -> $RC"
}

ra_rc() {
	[ "$RC" -eq "$1" ] || fail "agent exited $RC, expected $1: $(cat "$D/ra.err")"
}

# The server the catalog has serving slice $1.
serving() {
	q "SELECT sv.name FROM slices s JOIN servers sv ON sv.id = s.server_id
	    WHERE s.name = '$1'"
}

# Every account as "user|generation", by user.
generations() {
	q "SELECT \"user\" || '|' || generation FROM accounts ORDER BY \"user\""
}

# The test's catalog reached through directory $1, which holds the SQLite
# file or the PostgreSQL server's socket once it is a link to
# $(catalog_dir); a catalog that cannot be read while $1 does not exist.
catalog_at() {
	if [ "$ENGINE" = pgsql ]; then
		echo "$MAILSHIFT_DB host=$1"
	else
		echo "$1/catalog.db"
	fi
}
catalog_dir() {
	if [ "$ENGINE" = pgsql ]; then
		printf '%s\n' "$MAILSHIFT_TEST_PG" |
		    sed -n 's/.*host=\(\/[^ ]*\).*/\1/p'
	else
		echo "$D"
	fi
}

# Milliseconds since the epoch.
now_ms() {
	n=$(date +%s%N)
	case "$n" in
	*[!0-9]*) echo $(($(date +%s) * 1000)) ;;
	*) echo $((n / 1000000)) ;;
	esac
}

t_meta_data() {
	# Nothing needed: no slice, no mailshift, no catalog.
	RC=0
	env -i PATH=/usr/bin:/bin sh "$AGENT" meta-data >"$D/meta.xml" || RC=$?
	[ "$RC" -eq 0 ] || fail "meta-data exited $RC"
	python3 - "$D/meta.xml" <<'EOF' || fail "meta-data: $(cat "$D/meta.xml")"
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "resource-agent" and root.get("name") == "mailshift-slice"
assert root.find("version") is not None
assert root.find("shortdesc").text and root.find("longdesc").text
params = {p.get("name"): p for p in root.iter("parameter")}
assert set(params) == {"slice", "server", "config", "binary", "catalog"}, params
assert params["slice"].get("required") == "1"
for p in params.values():
    assert p.find("content").get("type") == "string"
    assert p.find("shortdesc").text and p.find("longdesc").text
assert params["binary"].find("content").get("default") == "mailshift"
actions = {a.get("name"): a for a in root.iter("action")}
assert set(actions) == {"start", "stop", "monitor", "validate-all", "meta-data"}, actions
assert all(a.get("timeout") for a in actions.values())
assert actions["monitor"].get("interval")
EOF
	head -n 2 "$D/meta.xml" | grep -q '^<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">$' ||
	    fail "no ra-api-1.dtd DOCTYPE"
	ra promote mx1 s1
	ra_rc 3
	ra reload mx1 s1
	ra_rc 3
}

t_validate() {
	fleet
	before=$(catalog_sum)
	ra validate-all mx2 s1
	ra_rc 0
	# No slice: the resource is misconfigured everywhere.
	ra validate-all mx2 ""
	ra_rc 6
	grep -q "^ocf-exit-reason:.*slice" "$D/ra.err" || fail "no exit reason"
	ra validate-all mx2 nope
	ra_rc 6
	grep -q "slice 'nope' not found" "$D/ra.err" || fail "$(cat "$D/ra.err")"
	ra validate-all mx2 'a/b'
	ra_rc 6
	# A server outside the slice's pair, or unknown: wrong on this node.
	ra validate-all mx3 s1
	ra_rc 2
	grep -q "server 'mx3' is not in pair 'p1' of slice 's1'" "$D/ra.err" ||
	    fail "$(cat "$D/ra.err")"
	ra validate-all mx9 s1
	ra_rc 2
	# The server defaults to the node's name.
	ra validate-all "" s1
	ra_rc 2
	grep -q "server '$(uname -n)'" "$D/ra.err" || fail "$(cat "$D/ra.err")"
	ra validate-all mx1 s1 OCF_RESKEY_binary=/nonexistent/mailshift
	ra_rc 5
	ra validate-all mx1 s1 OCF_RESKEY_config="$D/none.conf"
	ra_rc 5
	# A catalog that cannot be read is not a configuration error.
	ra validate-all mx1 s1 OCF_RESKEY_catalog="$(catalog_at "$D/nowhere")"
	ra_rc 1
	grep -q "cannot read the catalog" "$D/ra.err" || fail "$(cat "$D/ra.err")"
	[ "$(catalog_sum)" = "$before" ] || fail "validate-all wrote"
	# mailshift from PATH, with a config file.
	printf '[move]\nsettle = 0s\n' >"$D/ms.conf"
	mkdir -p "$D/bin"
	ln -s "$MS" "$D/bin/mailshift"
	ra validate-all mx2 s3 OCF_RESKEY_binary=mailshift PATH="$D/bin:$PATH" \
	    OCF_RESKEY_config="$D/ms.conf"
	ra_rc 2
	ra validate-all mx4 s3 OCF_RESKEY_binary=mailshift PATH="$D/bin:$PATH" \
	    OCF_RESKEY_config="$D/ms.conf"
	ra_rc 0
}

t_start_monitor_stop() {
	fleet
	"$GEN" --accounts 3 --messages 2 "$D/s1" >/dev/null || fail "generator failed"
	"$GEN" --accounts 2 --messages 2 --prefix other "$D/s3" >/dev/null ||
	    fail "generator failed"
	ok discover
	[ "$(q "SELECT count(*) FROM accounts")" -eq 5 ] || fail "not 5 accounts"
	gens=$(generations)
	# Nothing started: stopped on both nodes, whatever the catalog says.
	ra monitor mx2 s1
	ra_rc 7
	ra monitor mx1 s1
	ra_rc 7
	ra monitor mx2 s1 OCF_RESKEY_CRM_meta_interval=0
	ra_rc 7
	t0=$(now_ms)
	ra start mx2 s1
	t1=$(now_ms)
	ra_rc 0
	echo "$((t1 - t0))" >"$TESTROOT/start_ms"
	[ "$(serving s1)" = mx2 ] || fail "catalog says $(serving s1) serves s1"
	[ "$(serving s2)" = mx2 ] || fail "s2 moved"
	[ "$(serving s3)" = mx3 ] || fail "s3 moved"
	# s1's three accounts one generation on, the others as they were.
	expect=$(printf '%s\n' "$gens" | awk -F '|' \
	    '{ print $1 "|" ($1 ~ /^other/ ? $2 : $2 + 1) }')
	[ "$(generations)" = "$expect" ] ||
	    fail "generations: $(generations), expected $expect"
	[ "$(q "SELECT count(*) FROM events WHERE kind = 'slice.failover'")" -eq 1 ] ||
	    fail "not one switch event"
	ra monitor mx2 s1
	ra_rc 0
	ra monitor mx2 s1 OCF_RESKEY_CRM_meta_interval=0
	ra_rc 0
	ra monitor mx1 s1
	ra_rc 7
	# stop records nothing, and the resource is stopped here.
	before=$(catalog_sum)
	ra stop mx2 s1
	ra_rc 0
	[ "$(catalog_sum)" = "$before" ] || fail "stop wrote to the catalog"
	ra monitor mx2 s1
	ra_rc 7
	ra stop mx2 s1
	ra_rc 0
	# Starting again where the catalog says so already records nothing.
	ra start mx2 s1
	ra_rc 0
	grep -q "served by mx2 already" "$D/ra.err" || fail "$(cat "$D/ra.err")"
	[ "$(catalog_sum)" = "$before" ] || fail "a second start wrote"
	ra monitor mx2 s1
	ra_rc 0
}

# The other node takes the slice back; the node that no longer serves it
# says so although it never stopped, so that Pacemaker recovers it.
t_failback() {
	fleet
	"$GEN" --accounts 3 --messages 2 "$D/s1" >/dev/null || fail "generator failed"
	ok discover
	gens=$(q "SELECT sum(generation) FROM accounts")
	ra start mx2 s1
	ra_rc 0
	ra start mx1 s1
	ra_rc 0
	[ "$(serving s1)" = mx1 ] || fail "catalog says $(serving s1) serves s1"
	[ "$(q "SELECT sum(generation) FROM accounts")" -eq $((gens + 6)) ] ||
	    fail "not two generations on"
	ra monitor mx1 s1
	ra_rc 0
	ra monitor mx2 s1
	ra_rc 7
	grep -q "the catalog says mx1 serves slice s1, not mx2" "$D/ra.err" ||
	    fail "$(cat "$D/ra.err")"
	# A failover behind the cluster's back: the node it left notices.
	ok slice failover s1 --to mx2 --follow
	ra monitor mx1 s1
	ra_rc 7
}

t_bad_start() {
	fleet
	before=$(catalog_sum)
	ra start mx3 s1
	ra_rc 2
	grep -q "not in pair 'p1'" "$D/ra.err" || fail "$(cat "$D/ra.err")"
	grep -q "try 1" "$D/ra.err" && fail "a wrong server was tried again"
	ra start mx2 nope
	ra_rc 6
	grep -q "try 1" "$D/ra.err" && fail "a wrong slice was tried again"
	ra start mx2 ""
	ra_rc 6
	[ "$(catalog_sum)" = "$before" ] || fail "a refused start wrote"
	ra monitor mx3 s1
	ra_rc 7
	# No catalog: a few tries, then a generic error; stop still succeeds.
	nowhere=$(catalog_at "$D/nowhere")
	ra start mx2 s1 OCF_RESKEY_catalog="$nowhere" \
	    OCF_RESKEY_CRM_meta_timeout=15000
	ra_rc 1
	grep -q "try 1: " "$D/ra.err" || fail "not tried again: $(cat "$D/ra.err")"
	grep -q "^ocf-exit-reason:slice failover s1 --to mx2 failed" "$D/ra.err" ||
	    fail "$(cat "$D/ra.err")"
	ra stop mx2 s1 OCF_RESKEY_catalog="$nowhere"
	ra_rc 0
	[ "$(serving s1)" = mx2 ] && fail "s1 moved"
	# Started, then the catalog cannot be read: monitor fails.
	ra start mx2 s1
	ra_rc 0
	ra monitor mx2 s1 OCF_RESKEY_catalog="$nowhere"
	ra_rc 1
	grep -q "cannot read the catalog" "$D/ra.err" || fail "$(cat "$D/ra.err")"
}

# A catalog that answers again within start's tries: the start succeeds.
t_catalog_back() {
	fleet
	dir=$(catalog_dir)
	[ -d "$dir" ] || skip "the PostgreSQL server has no socket directory"
	(sleep 1.5; ln -s "$dir" "$D/late") &
	ra start mx2 s1 OCF_RESKEY_catalog="$(catalog_at "$D/late")"
	wait
	ra_rc 0
	grep -q "try 1: " "$D/ra.err" || fail "not tried again: $(cat "$D/ra.err")"
	[ "$(serving s1)" = mx2 ] || fail "catalog says $(serving s1) serves s1"
	ra monitor mx2 s1
	ra_rc 0
}

# ocf-tester (resource-agents) runs every action in the order it checks.
# The catalog is in the environment: a conninfo's spaces and quotes do not
# survive its -o.
t_ocf_tester() {
	fleet
	dir=$(mktemp -d /tmp/mailshift-ra.XXXXXX)
	chmod 755 "$dir"
	cp "$AGENT" "$dir/mailshift-slice"
	RC=0
	HA_RSCTMP="$D/rsc" ocf-tester -n follow_s1 -o slice=s1 -o server=mx2 \
	    -o binary="$MS" "$dir/mailshift-slice" >"$D/ocf-tester.out" 2>&1 ||
	    RC=$?
	rm -rf "$dir"
	cat "$D/ocf-tester.out"
	[ "$RC" -eq 0 ] || fail "ocf-tester exited $RC"
	[ "$(serving s1)" = mx2 ] || fail "catalog says $(serving s1) serves s1"
}

t "meta-data: the OCF XML names the parameters and actions" t_meta_data
t "validate-all: missing or unknown slice, server outside the pair" t_validate
t "start records the server once, monitor follows, stop records nothing" \
    t_start_monitor_stop
[ -f "$TESTROOT/start_ms" ] && echo "# start took $(cat "$TESTROOT/start_ms") ms"
t "failback: the node that lost the slice reports it stopped" t_failback
t "start: a wrong slice or server fails at once, no catalog after tries" \
    t_bad_start
t "start: a catalog back within the tries" t_catalog_back
if command -v ocf-tester >/dev/null 2>&1; then
	t "ocf-tester passes the agent" t_ocf_tester
else
	echo "# ocf-tester not installed"
fi
done_testing
