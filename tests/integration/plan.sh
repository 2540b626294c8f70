# mailshift plan: previews, stored plans, apply, and what is refused.
. "$(dirname "$0")/lib.sh"

# s1 crowded, s2 light, s3 empty; 40 accounts of modest size.
unbalanced() {
	fleet
	move_conf
	ok slice set s1 --capacity 12M
	ok slice set s2 --capacity 12M
	ok slice set s3 --capacity 12M
	"$GEN" --accounts 30 --messages 40 --min-size 2000 --max-size 12000 \
	    --seed 61 --prefix a "$D/s1" >/dev/null || fail "generator failed"
	"$GEN" --accounts 10 --messages 30 --min-size 2000 --max-size 12000 \
	    --seed 62 --prefix b "$D/s2" >/dev/null || fail "generator failed"
	ok discover
}

t_preview_and_apply() {
	unbalanced
	ok plan balance
	expect_out "plan 1 stored (a preview)"
	expect_out "FILL BEFORE"
	[ "$(q "SELECT count(*) FROM moves")" -eq 0 ] || fail "a preview queued moves"
	ok --json plan balance
	json_check 'j["plan"] == 2 and len(j["moves"]) == j["summary"]["moves"] > 0 and j["summary"]["lower_bound"] > 0'
	json_check 'j["summary"]["max_after"] < j["summary"]["max_before"] and j["summary"]["stddev_after"] < j["summary"]["stddev_before"]'
	json_check 'all(m["from"] != m["to"] for m in j["moves"])'
	n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["moves"]))' "$D/out")
	ok plan apply 2
	expect_out "plan 2 applied: $n moves queued"
	[ "$(q "SELECT count(*) FROM moves WHERE plan_id = 2 AND state = 'queued'")" -eq "$n" ] ||
	    fail "not every move queued"
	ms plan apply 2
	expect_rc 1
	expect_err "plan 2 is applied already"
	ok plan list --json
	json_check '[p["state"] for p in j] == ["applied", "proposed"]'
	# Run them here; every slice ends near the mean and no mail is lost.
	files_before=$(q "SELECT sum(files) FROM accounts")
	ok moves run
	expect_out "$n moves run, 0 failed"
	ok discover --count
	[ "$(q "SELECT sum(files) FROM accounts")" -eq "$files_before" ] ||
	    fail "files changed"
	ok --json slice list
	json_check 'max(s["fill"] for s in j) - min(s["fill"] for s in j) < 0.15'
}

t_drain_and_fill() {
	unbalanced
	ok plan drain s2 --apply
	expect_out "slice s2 is draining"
	ok slice show s2
	expect_out "draining"
	ok moves run
	ok --json slice list
	json_check '[s["accounts"] for s in j if s["name"] == "s2"] == [0]'
	# A new empty slice is filled from the fullest.
	mkdir -p "$D/s4"
	ok slice add s4 --pair p2 --server mx4 --path "$D/s4" --capacity 12M
	ok --json plan fill s4
	json_check 'len(j["moves"]) > 0 and all(m["to"] == "s4" for m in j["moves"])'
}

t_stale_plan_refused() {
	unbalanced
	ok --json plan balance
	user=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["moves"][0]["user"])' "$D/out")
	ok move "$user" --to s2 --wait
	before=$(catalog_sum)
	ms plan apply 1
	expect_rc 1
	expect_one_error
	expect_err "the fleet changed since plan 1 was made"
	[ "$(q "SELECT count(*) FROM moves WHERE plan_id = 1")" -eq 0 ] ||
	    fail "a stale plan queued moves"
}

t_bad_input() {
	fleet
	move_conf
	before=$(catalog_sum)
	ms plan drain s9
	expect_rc 1
	expect_err "slice 's9' not found"
	ms plan balance --target-fill 95 --hard-limit 90
	expect_rc 2
	expect_err "--target-fill is above --hard-limit"
	ms plan balance --band lots
	expect_rc 2
	ms plan balance s1
	expect_rc 2
	ms plan apply 99
	expect_rc 1
	expect_err "plan 99 not found"
	# Draining when nothing else can receive.
	ok slice set s2 --state readonly
	ok slice set s3 --state readonly
	mkbox "$D/s1/example.com/alice" 3
	ok discover
	ms plan drain s1
	expect_rc 1
	expect_err "no plan:"
	ok slice set s2 --state active
	ok slice set s2 --capacity 1
	ms plan drain s1
	expect_rc 1
	expect_err "no plan:"
	[ "$(q "SELECT count(*) FROM plans")" -eq 0 ] || fail "a refused plan was stored"
	[ "$(q "SELECT count(*) FROM moves")" -eq 0 ] || fail "moves were queued"
}

t_empty_fleet() {
	ok init
	ms plan balance
	expect_rc 1
	expect_err "no plan:"
	[ "$(q "SELECT count(*) FROM plans")" -eq 0 ] || fail "a plan was stored"
}

t_pinned_stay() {
	unbalanced
	for u in $(q "SELECT \"user\" FROM accounts a JOIN slices s ON s.id = a.slice_id WHERE s.name = 's1'"); do
		ok account pin "$u"
	done
	ok --json plan balance
	json_check 'all(m["from"] != "s1" for m in j["moves"])'
	ms account pin nobody@example.com
	expect_rc 1
	expect_err "account 'nobody@example.com' not found"
	ok account unpin "$(q "SELECT \"user\" FROM accounts a JOIN slices s ON s.id = a.slice_id WHERE s.name = 's1' LIMIT 1")"
	ok account show --json "$(q "SELECT \"user\" FROM accounts a JOIN slices s ON s.id = a.slice_id WHERE s.name = 's1' LIMIT 1")"
	json_check 'j["pinned"] is False'
}

# A slice the health watch finds degraded or unresponsive is never a
# target, however empty; it may still give. Health is set here straight
# in the catalog, as the daemon's watch would.
t_unhealthy_never_target() {
	unbalanced
	for h in degraded unresponsive; do
		q "UPDATE slices SET health = '$h', health_reason = 'test' WHERE name = 's3'"
		ok --json plan balance
		json_check 'len(j["moves"]) > 0 and all(m["to"] == "s2" for m in j["moves"])'
		ms plan fill s3
		expect_rc 1
		expect_one_error
		expect_err "cannot fill s3: its health is not ok"
		ok --json plan drain s2
		json_check 'len(j["moves"]) > 0 and all(m["to"] == "s1" for m in j["moves"])'
	done
	# The admin's state is untouched by health; back to ok, s3 receives.
	[ "$(q "SELECT state FROM slices WHERE name = 's3'")" = active ] ||
	    fail "health changed the admin's state"
	q "UPDATE slices SET health = 'ok', health_reason = '' WHERE name = 's3'"
	ok --json plan balance
	json_check 'any(m["to"] == "s3" for m in j["moves"])'
	# An unhealthy crowded slice still gives.
	q "UPDATE slices SET health = 'degraded' WHERE name = 's1'"
	ok --json plan balance
	json_check 'any(m["from"] == "s1" for m in j["moves"]) and all(m["to"] != "s1" for m in j["moves"])'
	# Nowhere healthy to drain to.
	q "UPDATE slices SET health = 'unresponsive' WHERE name IN ('s2', 's3')"
	ms plan drain s1
	expect_rc 1
	expect_err "no other slice can receive: none is active with health ok"
	[ "$(q "SELECT count(*) FROM moves")" -eq 0 ] || fail "moves were queued"
}

# Equal bytes on three equal slices, but s1 serves 600 ops/s of the
# fleet's 800 (its even accounts busy): by bytes nothing moves; by both,
# busy accounts leave s1, idle ones refill it, and both bands are met.
t_load_balance() {
	fleet
	move_conf
	for s in s1 s2 s3; do
		ok slice set $s --capacity 12M
		"$GEN" --accounts 40 --messages 10 --min-size 2000 \
		    --max-size 12000 --seed 71 --prefix "$s" "$D/$s" \
		    >/dev/null || fail "generator failed"
	done
	ok discover
	now=$(date +%s)
	q "UPDATE accounts SET added_files = 7"
	q "UPDATE accounts SET added_files = 700 WHERE id % 2 = 0 AND
	    slice_id = (SELECT id FROM slices WHERE name = 's1')"
	for s in s1:600 s2:100 s3:100; do
		q "INSERT INTO loads (ts, slice_id, source, ops, bytes, ms)
		    SELECT $now - 600, id, 'diskstats:test', ${s#*:} * 3600,
		    0, 3600000 FROM slices WHERE name = '${s%%:*}'"
	done
	ok --json plan balance --by bytes
	json_check 'j["summary"]["moves"] == 0 and j["summary"]["by"] == "bytes"'
	ok --json plan balance
	json_check 'j["summary"]["by"] == "both" and j["summary"]["slices_measured"] == 3'
	json_check 'abs(j["summary"]["load_mean"] - 800 / 3000) < 1e-3'
	json_check 'j["summary"]["load_band_reached"] and j["summary"]["band_reached"]'
	json_check 'j["summary"]["load_max_after"] <= j["summary"]["load_band_high"] + 1e-3'
	json_check 'j["summary"]["bytes"] >= j["summary"]["both_lower_bytes"] > 0'
	# Out of s1 only busy accounts (29.7 ops/s each, of its 600); into
	# it only accounts of s2 and s3, 2.5 ops/s each (100 over 40).
	json_check 'all(m["load"] > 29 for m in j["moves"] if m["from"] == "s1")'
	json_check 'all(m["load"] < 3 for m in j["moves"] if m["to"] == "s1")'
	json_check '[s["load_before"] for s in j["slices"] if s["slice"] == "s1"] == [0.6]'
	ok plan balance
	expect_out "LOAD BEFORE"
	expect_out "load before: min 10.0% max 60.0%"
	ms plan balance --by ops
	expect_rc 2
	expect_err "--by 'ops': use bytes"
	ms plan balance --load-band 70
	expect_rc 2
	ms plan balance --load-target 95 --load-hard-limit 90
	expect_rc 2
	expect_err "--load-target is above --load-hard-limit"
}

t "balance: preview stores a plan, apply queues it, moves run balances" t_preview_and_apply
t "drain sets the slice draining and empties it; fill feeds a new slice" t_drain_and_fill
t "a plan the fleet outgrew is refused at apply, nothing queued" t_stale_plan_refused
t "unknown slice, nowhere to drain, contradictory options: no plan" t_bad_input
t "an empty fleet gets an error, not a plan" t_empty_fleet
t "pinned accounts stay where they are" t_pinned_stay
t "a slice whose health is not ok is never a target" t_unhealthy_never_target
t "balance by load: busy accounts leave the hot slice, both bands met" t_load_balance
done_testing
