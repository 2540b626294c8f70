# Retiring the source after a committed switch, when the source slice
# cannot take it: the move is done and says so, and the retirement is
# finished later.
. "$(dirname "$0")/lib.sh"

# The source slice out of inodes at retire (a tiny tmpfs, filled up), or,
# where no tmpfs can be mounted, a file where .mailshift-retired goes.
t_retire_source_full() {
	mkdir -p "$D/s1"
	full=tmpfs
	if [ "$(id -u)" -ne 0 ] ||
	    ! mount -t tmpfs -o size=4m,nr_inodes=400 tmpfs "$D/s1" 2>/dev/null; then
		echo "no tmpfs (needs root): a file blocks the retired directory"
		full=file
	fi
	trap 'mountpoint -q "$D/s1" && umount "$D/s1"' EXIT
	fleet
	move_conf
	B="$D/s1/example.com/bob"
	mkbox "$B" 200
	# Directory times older than the messages' ctimes, as a restore or
	# cp -a leaves them.
	touch -d 2020-01-01 "$B/cur"
	ok discover
	cp -a "$B" "$D/original"
	if [ "$full" = tmpfs ]; then
		mkdir "$D/s1/filler"
		i=0
		while touch "$D/s1/filler/$i" 2>/dev/null; do i=$((i + 1)); done
	else
		: >"$D/s1/.mailshift-retired"
	fi
	ms move bob@example.com --to s2 --wait
	expect_rc 1
	expect_one_error
	expect_err "move 1 is done: 'bob@example.com' is served from slice 's2' ($D/s2/example.com/bob)"
	expect_err "retiring the source failed: "
	expect_err "the source is untouched at $B, and this is tried again by 'mailshift moves run', the daemon, or 'mailshift move bob@example.com --to s2 --wait'"
	ok route bob@example.com --json
	json_check 'j["slice"] == "s2" and j["locked"] is False'
	same_tree "$D/original" "$B"
	same_tree "$D/original" "$D/s2/example.com/bob"
	# moves run takes it up, and says the same while the slice is full.
	ms moves run
	expect_rc 1
	expect_err "move 1 is done"
	ok moves show 1
	expect_out "move.retire-failed"
	# Room again: moves run finishes the retirement and the settle check,
	# which finds nothing late (nothing reached the source).
	if [ "$full" = tmpfs ]; then
		rm -f "$D/s1/filler/0" "$D/s1/filler/1" "$D/s1/filler/2"
	else
		rm "$D/s1/.mailshift-retired"
	fi
	ok moves run
	expect_out "source retired to $D/s1/.mailshift-retired/1-bob@example.com"
	expect_out "settle check: 0 late messages carried"
	same_tree "$D/original" "$D/s1/.mailshift-retired/1-bob@example.com"
	[ ! -d "$B" ] || fail "source still in place"
	ok moves show 1
	expect_out "0 late message(s) carried to the target, 0 late change(s)"
	ok moves run
	expect_out "0 moves run"
}

t "source slice full at retire: the move says it is done, moves run finishes it, no phantom late changes" t_retire_source_full
done_testing
