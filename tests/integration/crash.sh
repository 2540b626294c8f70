# Crash safety: kill -9 the move at every step in turn, run the same
# command again, and check that nothing is lost, nothing is recopied
# that was complete, and the catalog never points at an incomplete copy.
. "$(dirname "$0")/lib.sh"

STEPS="file:1 file:150 mid-file:200 after-pass:1 after-pass:2 after-lock \
after-final-pass after-sync after-verify after-commit retire-renamed \
after-retire after-settle"

# Before the commit the account must be on s1 (unlocked once resumed);
# from the commit on, on s2.
committed() {
	case "$1" in after-commit|retire-renamed|after-retire|after-settle)
		return 0 ;;
	esac
	return 1
}

crash_at() {
	step=$1
	fleet
	move_conf
	"$GEN" --accounts 1 --messages 400 --max-size 30000 --seed 31 \
	    "$D/s1" >/dev/null || fail "generator failed"
	ok discover
	U=user0001@example.net
	cp -a "$D/s1/example.net/user0001" "$D/original"
	RC=0
	MAILSHIFT_CRASH_AT=$step "$MS" move "$U" --to s2 --wait \
	    >"$D/out" 2>"$D/err" || RC=$?
	[ "$RC" -eq 137 ] || fail "no crash at $step (status $RC): $(cat "$D/err")"
	expect_err "crashing at $step"
	slice=$(q "SELECT s.name FROM accounts a JOIN slices s ON s.id = a.slice_id WHERE a.\"user\" = '$U'")
	if committed "$step"; then
		[ "$slice" = s2 ] || fail "after $step the catalog says $slice"
		same_tree "$D/original" "$D/s2/example.net/user0001"
	else
		[ "$slice" = s1 ] || fail "before the commit the catalog says $slice"
		same_tree "$D/original" "$D/s1/example.net/user0001"
	fi
	case "$step" in
	after-lock|after-final-pass|after-sync|after-verify)
		ok route "$U" --json
		json_check 'j["locked"] is True and j["slice"] == "s1"' ;;
	esac
	# The same command again finishes the job.
	ok --json move "$U" --to s2 --wait
	json_check 'j["state"] == "done"'
	case "$step" in
	file:150|mid-file:200|after-pass:*)
		# What was complete on the target is not copied again.
		json_check 'j["files_copied"] < j["files"] - 100' ;;
	esac
	same_tree "$D/original" "$D/s2/example.net/user0001"
	same_tree "$D/original" "$D/s1/.mailshift-retired/1-$U"
	ok route "$U" --json
	json_check 'j["slice"] == "s2" and j["locked"] is False and j["generation"] == 2'
	[ -z "$(find "$D/s2" -name '.mailshift-tmp.*')" ] ||
	    fail "temporary files left on the target"
	[ "$(q "SELECT count(*) FROM moves")" -eq 1 ] || fail "extra moves"
}

# The switch commits but its answer is lost (a catalog server gone between
# committing and answering): the move reads itself back, finds it done,
# and goes on; it neither unlocks the source nor retries the cutover.
t_answer_lost() {
	fleet
	move_conf
	"$GEN" --accounts 1 --messages 50 --seed 32 "$D/s1" >/dev/null ||
	    fail "generator failed"
	ok discover
	U=user0001@example.net
	cp -a "$D/s1/example.net/user0001" "$D/original"
	RC=0
	MAILSHIFT_FAULT=switch-answer-lost "$MS" move "$U" --to s2 --wait \
	    >"$D/out" 2>"$D/err" || RC=$?
	[ "$RC" -eq 0 ] || fail "status $RC: $(cat "$D/err")"
	expect_out "move 1 done"
	[ "$(q "SELECT count(*) FROM events WHERE kind = 'move.commit-resolved'")" = 1 ] ||
	    fail "no resolution event: $(q 'SELECT kind, message FROM events')"
	[ "$(q "SELECT count(*) FROM events WHERE kind = 'move.unlock'")" = 0 ] ||
	    fail "the cutover was abandoned after it committed"
	ok route "$U" --json
	json_check 'j["slice"] == "s2" and j["locked"] is False and j["generation"] == 2'
	same_tree "$D/original" "$D/s2/example.net/user0001"
	same_tree "$D/original" "$D/s1/.mailshift-retired/1-$U"
}

t "the switch's commit answer lost: resolved from the catalog" t_answer_lost

for step in $STEPS; do
	eval "t_$(echo "$step" | tr ':-' '__')() { crash_at $step; }"
	t "kill -9 at $step, then resume" "t_$(echo "$step" | tr ':-' '__')"
done
done_testing
