# A mail server keeps writing to the mailbox during the bulk copy and the
# delta passes, and stops when the account is locked. After the cutover
# the target equals the source's final state exactly.
. "$(dirname "$0")/lib.sh"

t_concurrent_writer() {
	fleet
	# A grace long enough for the writer's operation in flight to end.
	move_conf move.lock_grace=1s move.small_pass_files=20
	"$GEN" --accounts 1 --messages 600 --max-size 20000 --seed 41 \
	    "$D/s1" >/dev/null || fail "generator failed"
	ok discover
	U=user0001@example.net
	python3 "$TESTLIB/mailwriter.py" "$D/s1/example.net/user0001" \
	    "$MAILSHIFT_DB" "$U" 120 >"$D/writer" 2>&1 &
	writer=$!
	sleep 0.5
	# Throttled, so that the copy takes a few seconds of writing.
	ok --json move "$U" --to s2 --wait --files-per-second 250
	wait "$writer" || fail "writer failed: $(cat "$D/writer")"
	cat "$D/writer"
	grep -q "stopped=locked" "$D/writer" || fail "writer was not stopped by the lock"
	python3 -c 'import sys
c = dict(kv.split("=") for kv in open(sys.argv[1]).read().split())
assert sum(int(v) for k, v in c.items() if k != "stopped") >= 100, c
assert int(c["flag"]) > 0 and int(c["expunge"]) > 0 and int(c["deliver"]) > 0, c' "$D/writer" ||
	    fail "the writer did too little: $(cat "$D/writer")"
	json_check 'j["state"] == "done" and j["passes"] >= 3'
	same_tree "$D/s1/.mailshift-retired/1-$U" "$D/s2/example.net/user0001"
	# The delta passes saw the writer's deliveries arrive (some came
	# during the bulk copy; one marked seen, new/ to cur/, while a pass
	# read the two is new twice); the new home's activity is the
	# writer's messages still there (the generator's are years old).
	delivered=$(sed 's/.*deliver=\([0-9]*\).*/\1/' "$D/writer")
	seen=$(sed 's/.* seen=\([0-9]*\).*/\1/' "$D/writer")
	arrived=$(q "SELECT message FROM events WHERE kind = 'move.activity'" |
	    sed -n 's/^\([0-9]*\) messages .* arrived during the move.*/\1/p')
	[ -n "$arrived" ] && [ "$arrived" -ge 1 ] &&
	    [ "$arrived" -le $((delivered + seen)) ] || fail "arrivals: \
'$arrived' of $delivered delivered, $seen seen: $(q "SELECT message \
FROM events WHERE kind = 'move.activity'")"
	kept=$(find "$D/s2/example.net/user0001" -type f \( -path '*/cur/*' \
	    -o -path '*/new/*' \) -name '*.writer*' | wc -l)
	[ "$(q "SELECT added_files FROM accounts")" -eq "$kept" ] ||
	    fail "activity $(q "SELECT added_files FROM accounts"), expected $kept"
}

t "a concurrent writer until the lock; target equals the final source" t_concurrent_writer
done_testing
