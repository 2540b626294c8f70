# Load per slice, measured, through the real binary: a fake proc tree
# ([capacity] proc) whose diskstats counters the tests advance, read by
# discover and by the daemon; the delta of a device that two slices
# share split by their users' activity; a tmpfs slice without counters;
# ops capacity set and shown; bad input refused.
. "$(dirname "$0")/lib.sh"

# The st_dev of $1 as major:minor.
devnum() {
	python3 -c 'import os,sys
s = os.lstat(sys.argv[1])
print("%d:%d" % (os.major(s.st_dev), os.minor(s.st_dev)))' "$1"
}

# Write the fake proc tree: mountinfo once, diskstats from $READS $WRITES
# $RSECT $WSECT (fakedisk: s1 and s2) and $SOLO (reads of fakesolo: s3),
# renamed into place so that a reader never sees half a file.
write_proc() {
	mkdir -p "$D/proc/self"
	if [ ! -f "$D/proc/self/mountinfo" ]; then
		dev=$(devnum "$D/local")
		# "/" is another device, so that "so lo" (no mount of the
		# real device holds it) is found by its mount point alone.
		printf '%s\n' "1 0 259:240 / / rw - ext4 /dev/fakeroot rw" \
		    "2 1 $dev / $D/local rw,relatime shared:7 - ext4 /dev/fakedisk rw" \
		    "3 1 259:241 / $D/so\\040lo rw - xfs /dev/fakesolo rw" \
		    "4 1 0:99 / $D/tmp rw - tmpfs tmpfs rw,size=64k" \
		    >"$D/proc/self/mountinfo"
		echo "device tmpfs mounted on $D/tmp with fstype tmpfs" \
		    >"$D/proc/self/mountstats"
	fi
	dev=$(devnum "$D/local")
	{
		echo " 259 240 fakeroot 1 0 8 0 1 0 8 0 0 0 0"
		echo " ${dev%%:*} ${dev#*:} fakedisk $READS 0 $RSECT 10 $WRITES 0 $WSECT 20 0 30 30 4 0 64 1 9 2"
		[ "$SOLO" = gone ] ||
		    echo " 259 241 fakesolo $SOLO 0 $SOLO 0 0 0 0 0 0 0 0"
	} >"$D/proc/diskstats.new"
	mv "$D/proc/diskstats.new" "$D/proc/diskstats"
}

# Slices s1, s2 on fakedisk ($D/local), s3 on fakesolo ("$D/so lo"), s4
# on a tmpfs; alice and bob on s1, carol on s2, with old mail (nothing
# delivered lately) and logins set per user: s1 30 a day, s2 10.
load_fleet() {
	mkdir -p "$D/local/s1" "$D/local/s2" "$D/so lo/s3" "$D/tmp/s4"
	READS=1000 WRITES=500 RSECT=8000 WSECT=4000 SOLO=70
	write_proc
	move_conf "capacity.proc=$D/proc" "$@"
	ok init
	ok server add mx1 --address 10.0.0.1
	ok server add mx2 --address 10.0.0.2
	ok pair add p1 mx1 mx2
	ok slice add s1 --pair p1 --server mx1 --path "$D/local/s1" --capacity 10G
	ok slice add s2 --pair p1 --server mx1 --path "$D/local/s2" --capacity 10G
	ok slice add s3 --pair p1 --server mx2 --path "$D/so lo/s3" --capacity 10G
	ok slice add s4 --pair p1 --server mx2 --path "$D/tmp/s4" --capacity 1G
	mkbox "$D/local/s1/example.com/alice" 3
	mkbox "$D/local/s1/example.com/bob" 2
	mkbox "$D/local/s2/example.com/carol" 2
	find "$D/local" -exec touch -d 2020-01-01 {} +
	ok discover
	since=$(($(date +%s) - 86400))
	for ul in alice:20 bob:10 carol:10; do
		q "UPDATE accounts SET logins = ${ul#*:}, logins_prev = 0, logins_since = $since WHERE \"user\" = '${ul%%:*}@example.com'"
	done
}

# The loads rows: "slice ops bytes source", one a line, by slice and time.
loads() {
	q "SELECT s.name, l.ops, l.bytes, l.source FROM loads l JOIN slices s ON s.id = l.slice_id ORDER BY s.name, l.ts, l.id" |
	    tr '|' ' '
}

t_discover_apportions() {
	load_fleet
	[ -z "$(loads)" ] || fail "the first reading made loads rows: $(loads)"
	[ "$(q "SELECT name || '=' || io_source FROM slices ORDER BY name" | tr '\n' ' ')" = \
	    "s1=diskstats:fakedisk s2=diskstats:fakedisk s3=diskstats:fakesolo s4=none:tmpfs " ] ||
	    fail "sources: $(q 'SELECT name, io_source FROM slices')"
	# 400 ops and 8000 sectors on the shared disk, 30 reads on s3's.
	READS=1300 WRITES=600 RSECT=14000 WSECT=6000 SOLO=100
	write_proc
	ok discover
	loads >"$D/loads"
	printf '%s\n' "s1 300 3072000 diskstats:fakedisk" \
	    "s2 100 1024000 diskstats:fakedisk" \
	    "s3 30 15360 diskstats:fakesolo" >"$D/expected"
	diff "$D/expected" "$D/loads" >"$D/diff" ||
	    fail "loads are not apportioned 3:1: $(cat "$D/diff")"
	ok --json slice show s1
	json_check 'j["load_source"] == "diskstats:fakedisk" and j["load_samples"] == 1 and j["load_ops_per_second"] > 0 and j["load_bytes_per_second"] > 0 and j["ops_capacity"] == 1000 and j["ops_capacity_default"] and abs(j["load_percent"] - j["load_ops_per_second"] / 10) < 1e-4 * j["load_percent"]'
	ok --json slice show s4
	json_check 'j["load_source"] == "none:tmpfs" and j["load_samples"] == 0 and j["load_ops_per_second"] is None and j["load_percent"] is None'
	ok slice show s4
	expect_out "none:tmpfs (a tmpfs filesystem has no I/O counters: no load is measured)"
	expect_out "not measured in the last 1d"
	ok slice show s1
	expect_out "diskstats:fakedisk"
	expect_out "(over the last 1d, 1 interval)"
	expect_out "1000 ops/s ([capacity] ops_capacity"
}

t_reset_starts_over() {
	load_fleet
	# Lower than the last reading: the device is new; no interval.
	READS=10 WRITES=0 RSECT=0 WSECT=0 SOLO=70
	write_proc
	ok discover
	[ "$(loads | grep -c '^s[12] ')" -eq 0 ] || fail "an interval across a reset: $(loads)"
	[ "$(q "SELECT io_ops FROM slices WHERE name = 's1'")" -eq 10 ] ||
	    fail "the new reading was not stored"
	READS=50
	write_proc
	ok discover
	[ "$(loads | grep '^s[12] ' | awk '{ n += $2 } END { print n }')" -eq 40 ] ||
	    fail "not counted from the new reading: $(loads)"
}

t_daemon_records() {
	load_fleet daemon.listen=127.0.0.1:$(free_port) presence.idle=0s \
	    capacity.load_interval=1s
	start_daemon
	grep -q "load: every slice's I/O counters read every 1s from $D/proc" \
	    "$D/daemon.log" || fail "no load line: $(cat "$D/daemon.log")"
	READS=1400 WRITES=600
	write_proc
	wait_for "[ \"\$($CATQ \"SELECT coalesce(sum(l.ops), 0) FROM loads l JOIN slices s ON s.id = l.slice_id WHERE s.name IN ('s1', 's2')\")\" = 500 ]" 10 ||
	    fail "the daemon did not record 500 ops: $(loads)"
	READS=1440
	write_proc
	wait_for "[ \"\$($CATQ \"SELECT coalesce(sum(l.ops), 0) FROM loads l JOIN slices s ON s.id = l.slice_id WHERE s.name = 's1'\")\" = 405 ]" 10 ||
	    fail "not 3/4 of 540 ops on s1: $(loads)"
	[ "$(q "SELECT coalesce(sum(l.ops), 0) FROM loads l JOIN slices s ON s.id = l.slice_id WHERE s.name = 's2'")" -eq 135 ] ||
	    fail "not 1/4 of 540 ops on s2: $(loads)"
	# A round every second, each an interval of about a second (but
	# the first, from discover's reading).
	sleep 2
	n=$(q "SELECT count(*) FROM loads l JOIN slices s ON s.id = l.slice_id WHERE s.name = 's3'")
	[ "$n" -ge 3 ] || fail "only $n rounds recorded for s3"
	[ "$(q "SELECT count(*) FROM loads WHERE (ms < 500 OR ms > 3000) AND id NOT IN (SELECT min(id) FROM loads GROUP BY slice_id)")" -eq 0 ] ||
	    fail "intervals not about 1 s: $(q 'SELECT ms FROM loads')"
	[ "$(q "SELECT count(*) FROM loads l JOIN slices s ON s.id = l.slice_id WHERE s.name = 's4'")" -eq 0 ] ||
	    fail "a tmpfs slice got loads rows"
	stop_daemon
	! grep -q 'not measured' "$D/daemon.log" ||
	    fail "a slice was not measured: $(cat "$D/daemon.log")"
}

t_daemon_warns_once() {
	load_fleet daemon.listen=127.0.0.1:$(free_port) presence.idle=0s \
	    capacity.load_interval=1s
	start_daemon
	# s3's device is gone from diskstats for a few rounds.
	SOLO=gone
	write_proc
	sleep 3
	[ "$(grep -c 'load of slice s3 not measured: device 259:241 (xfs /dev/fakesolo on '"$D"'/so lo) is not in '"$D"'/proc/diskstats' "$D/daemon.log")" -eq 1 ] ||
	    fail "not warned once: $(cat "$D/daemon.log")"
	SOLO=200
	write_proc
	wait_for "grep -q 'load of slice s3 measured again (diskstats:fakesolo)' '$D/daemon.log'" 5 ||
	    fail "no word of s3 being measured again: $(cat "$D/daemon.log")"
	stop_daemon
	! grep -q 'load of slice s[124]' "$D/daemon.log" ||
	    fail "other slices were said not to be measured"
}

t_ops_capacity() {
	load_fleet
	READS=1300 WRITES=600 RSECT=14000 WSECT=6000 SOLO=100
	write_proc
	ok discover
	ok slice set s1 --ops-capacity 500
	ok --json slice show s1
	json_check 'j["ops_capacity"] == 500 and not j["ops_capacity_default"] and abs(j["load_percent"] - j["load_ops_per_second"] / 5) < 1e-4 * j["load_percent"]'
	ok slice show s1
	expect_out "500 ops/s"
	expect_out "% of the ops capacity"
	[ "$(q "SELECT count(*) FROM events WHERE kind = 'slice.ops_capacity'")" -eq 1 ] ||
	    fail "no event"
	ok slice set s1 --ops-capacity 0
	ok --json slice show s1
	json_check 'j["ops_capacity"] == 1000 and j["ops_capacity_default"]'
	# Bad input: a usage error that changes nothing.
	before=$(catalog_sum)
	for bad in abc 12x -5 "" 1.5 99999999999999999999999; do
		ms slice set s1 --ops-capacity "$bad"
		expect_rc 2
		expect_err "bad --ops-capacity '$bad': give the operations per second"
	done
	ms slice set s1 --state draining --ops-capacity lots
	expect_rc 2
	expect_one_error
	[ "$(catalog_sum)" = "$before" ] || fail "a refused set changed the catalog"
	ms slice set s9 --ops-capacity 10
	expect_rc 1
	expect_err "s9"
	ms slice set s1
	expect_rc 2
	expect_err "--ops-capacity N"
}

t_list_aligned() {
	load_fleet
	READS=1300 WRITES=600 RSECT=14000 WSECT=6000 SOLO=100
	write_proc
	ok discover
	ok slice list
	python3 - "$D/out" <<'PY' || fail "slice list is not aligned: $(cat "$D/out")"
import sys
lines = open(sys.argv[1]).read().splitlines()
head = lines[0]
assert head.split() == ["NAME", "PAIR", "SERVER", "STATE", "HEALTH",
    "ACCOUNTS", "USED", "CAPACITY", "FILL", "LOAD", "PATH"], head
path_at = head.index("PATH")
load_end = head.index("LOAD") + len("LOAD")
rows = {l.split()[0]: l for l in lines[1:]}
assert len(rows) == 4, rows
for name, row in rows.items():
    assert row[path_at - 1] == " " and row[path_at] == "/", (name, row)
    # LOAD is right-aligned under its header.
    assert row[load_end - 1] in "%-", (name, row)
assert rows["s4"][:load_end].split()[-1] == "-", rows["s4"]
assert rows["s1"][:load_end].split()[-1].endswith("%"), rows["s1"]
PY
	ok --json slice list
	json_check 'sorted(s["name"] for s in j if s["load_samples"] == 1) == ["s1", "s2", "s3"] and [s["load_source"] for s in j if s["name"] == "s4"] == ["none:tmpfs"]'
}

t_no_proc_is_a_warning() {
	load_fleet
	move_conf "capacity.proc=$D/nowhere"
	READS=1300
	write_proc
	ms discover
	expect_rc 0
	expect_err "mailshift: warning: load not measured: cannot read $D/nowhere/self/mountinfo"
	expect_err "[capacity] proc"
	[ "$(q 'SELECT count(*) FROM accounts')" -eq 3 ] || fail "accounts lost"
	[ -z "$(loads)" ] || fail "loads recorded without counters: $(loads)"
	# A slice gone from its mount: a warning naming it, the others read.
	move_conf "capacity.proc=$D/proc"
	mv "$D/local/s2" "$D/local/s2.away"
	ms discover s1
	expect_rc 0
	expect_err "warning: load of slice s2 not measured: $D/local/s2: No such file or directory; is the slice mounted?"
	[ "$(loads | grep -c '^s1 ')" -eq 1 ] || fail "s1 not measured: $(loads)"
}

t "two discovers: the shared device's delta split 3:1 by activity, a tmpfs has none" \
    t_discover_apportions
t "counters lower than the last reading start over" t_reset_starts_over
t "the daemon records load every load_interval, split like discover's" \
    t_daemon_records
t "the daemon warns once about a slice it cannot read, and says when it can" \
    t_daemon_warns_once
t "slice set --ops-capacity: shown, back to the default with 0, bad input refused" \
    t_ops_capacity
t "slice list: a LOAD column, still aligned" t_list_aligned
t "no counters to read is a warning; discover still records the accounts" \
    t_no_proc_is_a_warning
done_testing
