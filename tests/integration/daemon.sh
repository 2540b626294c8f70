# The daemon, started for real on a temporary catalog and slices and driven
# only through the CLI, signals and its HTTP port.
. "$(dirname "$0")/lib.sh"
SLOWFS_PY="$TESTLIB/../fuse/slowfs.py"
. "$TESTLIB/../fuse/slowfs.sh"

state_of() {
	q "SELECT state FROM moves WHERE id = $1"
}

# Ten accounts on s1 and ten on s2, all queued to move to s3 or s4.
twenty_moves() {
	fleet
	daemon_conf "$@"
	mkdir -p "$D/s4"
	ok slice add s4 --pair p2 --server mx4 --path "$D/s4" --capacity 20G
	"$GEN" --accounts 10 --messages 30 --max-size 8000 --seed 71 \
	    --prefix a "$D/s1" >/dev/null || fail "generator failed"
	"$GEN" --accounts 10 --messages 30 --max-size 8000 --seed 72 \
	    --prefix b "$D/s2" >/dev/null || fail "generator failed"
	ok discover
	cp -a "$D/s1" "$D/orig1"
	cp -a "$D/s2" "$D/orig2"
	i=0
	for u in $(q "SELECT \"user\" FROM accounts ORDER BY \"user\""); do
		i=$((i + 1))
		ok move "$u" --to "s$((i % 2 + 3))"
	done
	[ "$(q "SELECT count(*) FROM moves WHERE state = 'queued'")" -eq 20 ] ||
	    fail "not 20 moves queued"
}

t_twenty_moves_caps() {
	twenty_moves
	start_daemon
	wait_for "[ \$($CATQ \"SELECT count(*) FROM moves WHERE state = 'done'\") -eq 20 ]" 120 ||
	    fail "not all done: $(tail -5 "$D/daemon.log")"
	stop_daemon
	# Caps as observed in the daemon's own log, in order.
	q "SELECT id, source_slice, target_slice FROM moves" >"$D/slices"
	python3 - "$D/daemon.log" "$D/slices" <<'PY' || fail "caps exceeded"
import re, sys
slices = {}
for line in open(sys.argv[2]):
    i, s, t = (int(x) for x in line.split("|"))
    slices[i] = (s, t)
running, peak, src, dst = set(), 0, {}, {}
for line in open(sys.argv[1]):
    m = re.search(r"move (\d+): (started|done|failed|stopped)", line)
    if not m:
        continue
    mid, what = int(m.group(1)), m.group(2)
    if what == "started":
        running.add(mid)
    else:
        running.discard(mid)
    peak = max(peak, len(running))
    s = {}
    d = {}
    for r in running:
        s[slices[r][0]] = s.get(slices[r][0], 0) + 1
        d[slices[r][1]] = d.get(slices[r][1], 0) + 1
    assert len(running) <= 4, line
    assert max(s.values(), default=0) <= 1, ("per source", line)
    assert max(d.values(), default=0) <= 1, ("per target", line)
assert peak >= 2, "never ran two moves at once"
print("peak in flight", peak)
PY
	for u in $(q "SELECT a.\"user\" || ':' || s.path || '/' || a.path FROM accounts a JOIN slices s ON s.id = a.slice_id"); do
		user=${u%%:*}
		home=${u#*:}
		local_part=${user%@*}
		domain=${user#*@}
		if [ -d "$D/orig1/$domain/$local_part" ]; then
			same_tree "$D/orig1/$domain/$local_part" "$home"
		else
			same_tree "$D/orig2/$domain/$local_part" "$home"
		fi
	done
}

t_hold_waits() {
	fleet
	daemon_conf daemon.ready_pass=1s
	mkbox "$D/s1/example.com/alice" 20
	ok discover
	ok move alice@example.com --to s2 --hold
	start_daemon
	wait_for "[ \"\$($CATQ 'SELECT state FROM moves WHERE id = 1')\" = ready ]" 20 ||
	    fail "never got ready"
	sleep 3
	[ "$(state_of 1)" = ready ] || fail "a held move went on: $(state_of 1)"
	ok route alice@example.com --json
	json_check 'j["slice"] == "s1"'
	ok moves complete 1
	wait_for "[ \"\$($CATQ 'SELECT state FROM moves WHERE id = 1')\" = done ]" 10 ||
	    fail "released move not done: $(tail -3 "$D/daemon.log")"
	stop_daemon
}

# move --files-per-second without --wait: the daemon runs the move no
# faster than that.
t_queued_move_rates() {
	fleet
	daemon_conf
	mkbox "$D/s1/example.com/alice" 12
	ok discover
	ok move alice@example.com --to s2 --files-per-second 2
	expect_out "within its --bwlimit / --files-per-second"
	start_daemon
	sleep 3
	[ "$(state_of 1)" != done ] ||
	    fail "12 files at 2 files/s took under 3 s"
	wait_for "[ \"\$($CATQ 'SELECT state FROM moves WHERE id = 1')\" = done ]" 30 ||
	    fail "the move did not finish: $(tail -3 "$D/daemon.log")"
	stop_daemon
}

# A held move has its delta pass every ready_pass, not at every catalog
# change; a release is still seen at once.
t_hold_ignores_churn() {
	fleet
	daemon_conf daemon.ready_pass=1h
	mkbox "$D/s1/example.com/alice" 20
	mkbox "$D/s1/example.com/bob" 5
	ok discover
	ok move alice@example.com --to s2 --hold
	start_daemon
	wait_for "[ \"\$($CATQ 'SELECT state FROM moves WHERE id = 1')\" = ready ]" 20 ||
	    fail "never got ready"
	sleep 1
	passes=$(q "SELECT passes FROM moves WHERE id = 1")
	for i in 1 2 3 4 5 6; do
		ok presence bob@example.com online
		sleep 0.3
		ok presence bob@example.com offline
		sleep 0.3
	done
	[ "$(q "SELECT passes FROM moves WHERE id = 1")" = "$passes" ] ||
	    fail "catalog changes ran delta passes: $passes -> $(q \
	    "SELECT passes FROM moves WHERE id = 1")"
	ok moves complete 1
	wait_for "[ \"\$($CATQ 'SELECT state FROM moves WHERE id = 1')\" = done ]" 10 ||
	    fail "released move not done: $(tail -3 "$D/daemon.log")"
	stop_daemon
}

t_pause_resume_cancel() {
	fleet
	daemon_conf throttle.files_per_second=40
	"$GEN" --accounts 1 --messages 300 --max-size 4000 --seed 73 "$D/s1" \
	    >/dev/null || fail "generator failed"
	"$GEN" --accounts 1 --messages 300 --max-size 4000 --seed 74 \
	    --start 2 "$D/s2" >/dev/null || fail "generator failed"
	ok discover
	ok move user0001@example.net --to s2
	ok move user0002@example.org --to s3
	start_daemon
	wait_for "[ \"\$($CATQ 'SELECT state FROM moves WHERE id = 1')\" = copying ]" 10 ||
	    fail "not copying"
	sleep 1
	ok moves pause 1
	wait_for "grep -q 'move 1: stopped at a safe point' '$D/daemon.log'" 2 ||
	    fail "pause took more than 2 s: $(tail -3 "$D/daemon.log")"
	done1=$(q "SELECT files_done FROM moves WHERE id = 1")
	sleep 1.5
	[ "$(state_of 1)" = copying ] || [ "$(state_of 1)" = syncing ] ||
	    fail "a paused move changed state: $(state_of 1)"
	ok moves resume 1
	wait_for "[ \$(grep -c 'move 1: started' '$D/daemon.log') -ge 2 ]" 2 ||
	    fail "resume took more than 2 s"
	ok moves cancel 2
	expect_out "cancellation requested"
	wait_for "[ \"\$($CATQ 'SELECT state FROM moves WHERE id = 2')\" = cancelled ]" 2 ||
	    fail "cancel took more than 2 s: $(state_of 2)"
	wait_for "[ \"\$($CATQ 'SELECT state FROM moves WHERE id = 1')\" = done ]" 60 ||
	    fail "resumed move not done"
	stop_daemon
	ok route user0002@example.org --json
	json_check 'j["slice"] == "s2" and j["locked"] is False'
	[ -n "$done1" ] || fail "no progress recorded"
}

t_kill9_restart() {
	twenty_moves move.lock_grace=0s throttle.files_per_second=400
	start_daemon
	wait_for "[ \$($CATQ \"SELECT count(*) FROM moves WHERE state = 'done'\") -ge 3 ]" 60 ||
	    fail "no progress"
	kill -9 "$DPID"
	wait "$DPID" 2>/dev/null
	open=$(q "SELECT count(*) FROM moves WHERE state NOT IN ('done','queued')")
	echo "killed with $open moves under way"
	start_daemon
	wait_for "[ \$($CATQ \"SELECT count(*) FROM moves WHERE state = 'done'\") -eq 20 ]" 120 ||
	    fail "not all done after restart: $(tail -5 "$D/daemon.log")"
	stop_daemon
	[ "$(q "SELECT count(*) FROM accounts WHERE state <> 'active'")" -eq 0 ] ||
	    fail "an account was left locked"
	for u in $(q "SELECT a.\"user\" || ':' || s.path || '/' || a.path FROM accounts a JOIN slices s ON s.id = a.slice_id"); do
		user=${u%%:*}
		home=${u#*:}
		l=${user%@*}
		dom=${user#*@}
		if [ -d "$D/orig1/$dom/$l" ]; then
			same_tree "$D/orig1/$dom/$l" "$home"
		else
			same_tree "$D/orig2/$dom/$l" "$home"
		fi
	done
}

t_sighup_and_http() {
	fleet
	daemon_conf
	start_daemon
	ms daemon
	expect_rc 1
	expect_err "another daemon (pid $DPID) runs on catalog"
	curl -sf "http://127.0.0.1:$PORT/status" >"$D/out" || fail "no /status"
	json_check 'j["state"] == "running" and j["pid"] == '"$DPID"' and "done" in j["moves"]'
	curl -sf "http://127.0.0.1:$PORT/metrics" >"$D/metrics" || fail "no /metrics"
	python3 - "$D/metrics" <<'PY' || fail "metrics do not parse"
import re, sys
sample = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? -?([0-9.e+-]+|\+Inf)$')
names = set()
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("# HELP ") or line.startswith("# TYPE "):
        continue
    assert sample.match(line), line
    names.add(line.split("{")[0].split(" ")[0])
for n in ("mailshift_moves", "mailshift_moves_running", "mailshift_copied_bytes_total",
          "mailshift_cutover_lock_seconds_bucket", "mailshift_cutover_lock_seconds_count"):
    assert n in names, n
PY
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/nope")
	[ "$code" = 404 ] || fail "unknown path gave $code"
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d x "http://127.0.0.1:$PORT/status")
	[ "$code" != 200 ] || fail "POST accepted"
	# A broken config is refused with file:line and the old one stays.
	printf '[daemon]\nmax_moves = many\n[nonsense]\nx = 1\n' >>"$MAILSHIFT_CONFIG"
	kill -HUP "$DPID"
	wait_for "grep -q 'keeping the old one' '$D/daemon.log'" 5 ||
	    fail "SIGHUP with a broken config not refused"
	grep -q "$MAILSHIFT_CONFIG:[0-9]*: max_moves = 'many'" "$D/daemon.log" ||
	    fail "no file:line in the log: $(cat "$D/daemon.log")"
	curl -sf "http://127.0.0.1:$PORT/status" >/dev/null || fail "daemon gone"
	daemon_conf_keep=$PORT
	move_conf "daemon.listen=127.0.0.1:$daemon_conf_keep" daemon.max_moves=2
	kill -HUP "$DPID"
	wait_for "grep -q 'configuration reloaded' '$D/daemon.log'" 5 ||
	    fail "a good config was not reloaded"
	ok status
	expect_out "running, pid $DPID"
	stop_daemon
	ok status --json
	json_check 'j["daemon"] == "not running"'
}

# SIGHUP with a new [daemon] listen rebinds /status there, keeps the old
# address when the new one cannot be bound; a new [catalog] path is said
# to need a restart, and the catalog in use stays.
t_sighup_listen_and_catalog() {
	fleet
	daemon_conf
	old=$PORT
	start_daemon
	curl -sf "http://127.0.0.1:$old/status" >/dev/null || fail "no /status"
	new=$(free_port)
	move_conf "daemon.listen=127.0.0.1:$new" presence.idle=0s
	kill -HUP "$DPID"
	wait_for "grep -q 'status now on 127.0.0.1:$new (was 127.0.0.1:$old)' '$D/daemon.log'" 5 ||
	    fail "no rebind logged: $(cat "$D/daemon.log")"
	curl -sf "http://127.0.0.1:$new/status" >"$D/out" ||
	    fail "nothing on the new port"
	json_check 'j["state"] == "running"'
	! curl -sf "http://127.0.0.1:$old/status" >/dev/null 2>&1 ||
	    fail "the old port is still served"
	# An address that is not this host's cannot be bound: the old stays.
	move_conf "daemon.listen=192.0.2.1:$new" presence.idle=0s
	kill -HUP "$DPID"
	wait_for "grep -q 'still serving on 127.0.0.1:$new' '$D/daemon.log'" 5 ||
	    fail "a failed bind not logged: $(cat "$D/daemon.log")"
	curl -sf "http://127.0.0.1:$new/status" >/dev/null ||
	    fail "the old address went away"
	# Another catalog: logged as needing a restart, this one stays.
	move_conf "daemon.listen=127.0.0.1:$new" presence.idle=0s \
	    "catalog.path=$D/other.db"
	kill -HUP "$DPID"
	wait_for "grep -q 'restart it to use the new one' '$D/daemon.log'" 5 ||
	    fail "the catalog change not logged: $(cat "$D/daemon.log")"
	grep -q "keeps running on catalog $MAILSHIFT_DB" "$D/daemon.log" ||
	    fail "the catalog in use not named"
	grep -q 'catalog\] path waits for a restart' "$D/daemon.log" ||
	    fail "the reload line does not say what waits"
	mkbox "$D/s1/example.com/alice" 3
	ok discover
	ok move alice@example.com --to s2
	wait_for "[ \"\$($CATQ 'SELECT state FROM moves WHERE id = 1')\" = done ]" 20 ||
	    fail "the daemon left its catalog: $(tail -3 "$D/daemon.log")"
	stop_daemon
}

t_retries() {
	fleet
	daemon_conf daemon.retry_base=1s daemon.max_retries=2
	B="$D/s1/example.com/bob"
	mkbox "$B" 3
	ok discover
	printf 'z\n' >"$B/cur/bad
name:2,S"
	ok move bob@example.com --to s2
	start_daemon
	wait_for "grep -q 'move 1: failed for good after 2 attempts' '$D/daemon.log'" 30 ||
	    fail "no retries: $(cat "$D/daemon.log")"
	grep -q "move 1: retry 1 of 2 in 1 s" "$D/daemon.log" || fail "no first retry"
	grep -q "move 1: retry 2 of 2 in 4 s" "$D/daemon.log" || fail "no back-off"
	[ "$(state_of 1)" = failed ] || fail "not failed: $(state_of 1)"
	rm "$B/cur/bad
name:2,S"
	ok moves resume 1
	wait_for "[ \"\$($CATQ 'SELECT state FROM moves WHERE id = 1')\" = done ]" 10 ||
	    fail "resume did not retry: $(tail -3 "$D/daemon.log")"
	stop_daemon
}

t_presence_catalog() {
	fleet
	daemon_conf presence.idle=2s
	mkbox "$D/s1/example.com/alice" 10
	touch -d '2020-01-01' "$D/s1/example.com/alice/cur" "$D/s1/example.com/alice/new"
	ok discover
	ok presence alice@example.com online
	ok move alice@example.com --to s2
	start_daemon
	wait_for "grep -q 'cutover waits: the user is online (catalog)' '$D/daemon.log'" 20 ||
	    fail "no wait for an online user: $(tail -3 "$D/daemon.log")"
	sleep 2
	[ "$(state_of 1)" = ready ] || fail "cut over an online user"
	ok presence alice@example.com offline
	wait_for "grep -q 'the user was active' '$D/daemon.log'" 10 ||
	    fail "idle time not honoured: $(tail -3 "$D/daemon.log")"
	wait_for "[ \"\$($CATQ 'SELECT state FROM moves WHERE id = 1')\" = done ]" 20 ||
	    fail "not done after the user went offline: $(tail -3 "$D/daemon.log")"
	stop_daemon
	ms presence alice@example.com away
	expect_rc 2
	ms presence bob@example.com online
	expect_rc 1
	expect_err "account 'bob@example.com' not found"
}

t_presence_command_and_window() {
	fleet
	printf 'username proto pid ip\nalice@example.com imap 1 ::1\n' >"$D/who"
	daemon_conf presence.sources=command "presence.command=cat $D/who" \
	    presence.command_interval=1s
	mkbox "$D/s1/example.com/alice" 10
	ok discover
	ok move alice@example.com --to s2
	start_daemon
	wait_for "grep -q 'the user is online (presence command)' '$D/daemon.log'" 20 ||
	    fail "the command source was not asked: $(tail -3 "$D/daemon.log")"
	# Offline now, but a window forbids cutovers: still waiting.
	printf 'username proto pid ip\n' >"$D/who"
	printf '[window allday]\nfrom = 00:00\nto = 24:00\ncutover = no\n' >>"$MAILSHIFT_CONFIG"
	kill -HUP "$DPID"
	wait_for "grep -q \"window 'allday' allows no cutovers\" '$D/daemon.log'" 20 ||
	    fail "the window was not honoured: $(tail -3 "$D/daemon.log")"
	[ "$(state_of 1)" = ready ] || fail "cut over in a no-cutover window"
	sed -i 's/cutover = no/cutover = yes/' "$MAILSHIFT_CONFIG"
	kill -HUP "$DPID"
	wait_for "[ \"\$($CATQ 'SELECT state FROM moves WHERE id = 1')\" = done ]" 20 ||
	    fail "not done once allowed: $(tail -3 "$D/daemon.log")"
	grep -q "window: allday" "$D/daemon.log" || fail "window not logged"
	stop_daemon
}

# A slice under a move turns slow from outside (a slowfs mount, 2 ms a
# filesystem operation, then 10 ms): the health watch calls it degraded,
# the move slows down, then stops at a safe point; once the slice is fast
# again the move starts again by itself and ends with the same tree. The
# slow slice is the source: libfuse 2, under slowfs, drops a change of
# mtime alone (UTIME_OMIT for atime, as the copier sets it), so a move
# into a slowfs mount would never verify.
t_health_backoff() {
	slowfs_usable || skip "$SLOWFS_WHY"
	SLOWFS_LIST="$D/slowfs.list"
	trap 'echo 0 >"$D/ctl1"; [ -n "${DPID:-}" ] && stop_daemon; slowfs_cleanup' EXIT
	slowfs_mount "$D/real1" "$D/s1" "$D/ctl1" 0 || fail "slowfs did not mount"
	fleet
	# Three slices: s1 has too few peers, its own past judges it (six
	# clean windows make a baseline).
	daemon_conf throttle.files_per_second=100 health.window=1s \
	    health.interval=100ms health.degraded_after=2 health.history=3 \
	    health.recover_after=2 health.pause_after=2s
	"$GEN" --accounts 1 --messages 1500 --max-size 2000 --seed 75 \
	    "$D/real1" >/dev/null || fail "generator failed"
	ok discover
	cp -a "$D/real1/example.net/user0001" "$D/original"
	ok move user0001@example.net --to s2
	slowfs_set "$D/ctl1" 2
	start_daemon
	wait_for "[ \"\$($CATQ 'SELECT state FROM moves WHERE id = 1')\" = copying ]" 10 ||
	    fail "not copying: $(tail -5 "$D/daemon.log")"
	sleep 8
	[ "$(state_of 1)" = copying ] || fail "the move is $(state_of 1) already"
	slowfs_set "$D/ctl1" 10
	wait_for "grep -q 'slice s1 health: ok -> degraded' '$D/daemon.log'" 15 ||
	    fail "not degraded: $(tail -5 "$D/daemon.log")"
	curl -sf "http://127.0.0.1:$PORT/metrics" | grep -q '^mailshift_slice_health{slice="s1"} 1$' ||
	    fail "metrics do not say degraded"
	curl -sf "http://127.0.0.1:$PORT/status" >"$D/out"
	json_check 'any(x["name"] == "s1" for x in j["degraded"])'
	# A safe point: the next file, or 64 entries of a listing through
	# the slow mount.
	wait_for "grep -q 'move 1: stopped at a safe point' '$D/daemon.log'" 20 ||
	    fail "the move was not stopped: $(tail -5 "$D/daemon.log")"
	[ "$(state_of 1)" != done ] || fail "the move ended while s1 was slow"
	slowfs_set "$D/ctl1" 2
	wait_for "grep -q 'slice s1 health: degraded -> ok' '$D/daemon.log'" 20 ||
	    fail "no recovery: $(tail -5 "$D/daemon.log")"
	wait_for "[ \"\$($CATQ 'SELECT state FROM moves WHERE id = 1')\" = done ]" 60 ||
	    fail "not done after recovery: $(tail -5 "$D/daemon.log")"
	stop_daemon
	DPID=
	same_tree "$D/original" "$D/s2/example.net/user0001"
}

# log = syslog: the daemon's lines go to /dev/log, facility mail. The test
# listens on a socket of its own, bound over /dev/log in a private mount
# namespace (or at /dev/log itself when the machine has none).
t_syslog() {
	fleet
	daemon_conf daemon.log=syslog
	mkbox "$D/s1/example.com/alice" 5
	ok discover
	ok move alice@example.com --to s2
	python3 "$TESTLIB/syslog_sink.py" "$D/log.sock" "$D/syslog" &
	SINK=$!
	wait_for "grep -q ready '$D/syslog'" 5 || fail "no syslog sink"
	if [ -e /dev/log ]; then
		unshare -m sh -c "mount --bind '$D/log.sock' /dev/log &&
		    exec '$MS' daemon" >"$D/daemon.log" 2>&1 &
	else
		ln -s "$D/log.sock" /dev/log || fail "cannot create /dev/log"
		"$MS" daemon >"$D/daemon.log" 2>&1 &
	fi
	DPID=$!
	wait_for "grep -q 'move 1: done' '$D/syslog'" 20
	found=$?
	kill -TERM $DPID
	wait $DPID
	[ -L /dev/log ] && rm -f /dev/log
	kill $SINK
	[ $found -eq 0 ] || fail "nothing in syslog: $(cat "$D/syslog") \
stderr: $(cat "$D/daemon.log")"
	# <22> is facility mail (2 * 8) + info (6).
	grep -q '^<22>.*mailshift\[[0-9]*\]: daemon started' "$D/syslog" ||
	    fail "syslog lines: $(cat "$D/syslog")"
	[ ! -s "$D/daemon.log" ] || fail "stderr not empty: $(cat \
	    "$D/daemon.log")"
}

# Eight moves waiting at ready for their users (online, idle long) cost
# a delta pass every ready_pass each and no more, whatever changes in the
# catalog meanwhile; why they wait is logged once. A counter test: passes
# and log lines per move over 60 s of catalog churn.
t_waiting_moves_bounded() {
	fleet
	daemon_conf presence.idle=1h daemon.ready_pass=20s
	for u in 1 2 3 4 5 6 7 8; do
		mkbox "$D/s1/example.com/u$u" 5
	done
	mkbox "$D/s1/example.com/churn" 1
	ok discover
	for u in 1 2 3 4 5 6 7 8; do
		ok presence "u$u@example.com" online
		ok move "u$u@example.com" --to s2
	done
	start_daemon
	wait_for "[ \$($CATQ \"SELECT count(*) FROM moves WHERE state = 'ready'\") -eq 8 ]" 60 ||
	    fail "not all ready: $(tail -5 "$D/daemon.log")"
	# Every worker that brought a move to ready has ended (and said why
	# it waits); then count.
	wait_for "[ \$(grep -c 'ready, cutover waits' '$D/daemon.log') -ge 8 ]" 10 ||
	    fail "not every wait logged: $(tail -5 "$D/daemon.log")"
	sleep 1
	q "SELECT id, passes FROM moves ORDER BY id" >"$D/passes0"
	lines0=$(wc -l <"$D/daemon.log")
	# A minute of churn: presence pushed for the waiting users and for
	# one that moves nowhere, every second.
	end=$(($(date +%s) + 60))
	n=0
	while [ "$(date +%s)" -lt "$end" ]; do
		n=$((n + 1))
		ok presence "u$((n % 8 + 1))@example.com" online
		if [ $((n % 2)) -eq 0 ]; then
			ok presence churn@example.com online
		else
			ok presence churn@example.com offline
		fi
		sleep 1
	done
	q "SELECT id, passes FROM moves ORDER BY id" >"$D/passes1"
	tail -n +"$((lines0 + 1))" "$D/daemon.log" >"$D/minute.log"
	python3 - "$D" <<'PY' || fail "waiting moves cost more than their ready_pass"
import re, sys
d = sys.argv[1]
def passes(f):
    return dict(map(int, l.split("|")) for l in open(f"{d}/{f}"))
p0, p1 = passes("passes0"), passes("passes1")
log, minute = open(f"{d}/daemon.log").read(), open(f"{d}/minute.log").read()
for m in sorted(p0):
    pat = re.compile(rf"move {m}:")
    total, during = len(pat.findall(log)), len(pat.findall(minute))
    print(f"move {m}: passes {p0[m]} at ready, {p1[m] - p0[m]} in 60 s; "
          f"log lines {total}, {during} in 60 s")
    assert p1[m] - p0[m] <= 60 // 20 + 1, ("passes", m)
    assert during <= 2, ("log lines in the minute", m)
    assert total <= 4 + p1[m], ("log lines", m)
PY
	cat "$D/minute.log"
	# Idle asked for no more: every move cuts over and is done.
	for u in 1 2 3 4 5 6 7 8; do
		ok presence "u$u@example.com" offline
	done
	sed -i 's/^idle=1h$/idle=0s/' "$MAILSHIFT_CONFIG"
	kill -HUP "$DPID"
	wait_for "[ \$($CATQ \"SELECT count(*) FROM moves WHERE state = 'done'\") -eq 8 ]" 60 ||
	    fail "not all done once idle: $(tail -5 "$D/daemon.log")"
	stop_daemon
}

t_catalog_removed() {
	sqlite_only "a catalog file removed or replaced"
	fleet
	daemon_conf
	start_daemon
	mv "$MAILSHIFT_DB" "$D/moved.db"
	wait_for "! kill -0 $DPID" 5 || fail "daemon still runs without its catalog"
	grep -q "was removed or replaced; stopping" "$D/daemon.log" ||
	    fail "no reason logged: $(tail -3 "$D/daemon.log")"
}

t "20 moves over 4 slices: every one done, caps 4/1/1 held" t_twenty_moves_caps
t "a held move waits at ready until released" t_hold_waits
t "a held move ignores catalog churn, sees its release at once" \
    t_hold_ignores_churn
t "a queued move's own --files-per-second holds in the daemon" \
    t_queued_move_rates
t "pause, resume and cancel take effect within 2 s" t_pause_resume_cancel
t "kill -9 mid-moves, restart: every move done, mailboxes identical" t_kill9_restart
t "one daemon per catalog; /status, /metrics, 404; SIGHUP keeps a good config" t_sighup_and_http
t "SIGHUP: a new listen address is bound (the old kept if it cannot be), a \
new catalog path waits for a restart" t_sighup_listen_and_catalog
t "failed moves retry with back-off, then stay failed; resume retries" t_retries
t "presence from the catalog: online waits, offline plus idle cuts over" t_presence_catalog
t "presence from a command, and a window without cutovers" t_presence_command_and_window
t "a slow slice: slow down, pause, recover by itself" t_health_backoff
t "the daemon stops when its catalog is removed or replaced" t_catalog_removed
t "8 waiting moves: passes and log lines per move stay bounded over 60 s" \
    t_waiting_moves_bounded
t "log = syslog: lines go to syslog, facility mail" t_syslog
done_testing
