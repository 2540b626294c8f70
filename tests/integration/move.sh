# mailshift move --wait on real directories: the whole lifecycle, what it
# refuses, and what it leaves behind.
. "$(dirname "$0")/lib.sh"

# A fleet with one generated account on s1; $U is the user, $SRC its
# mailbox and $DST where it goes on s2.
one_account() {
	fleet
	move_conf "$@"
	"$GEN" --accounts 1 --messages "${MESSAGES:-300}" --max-size 20000 \
	    --seed 21 "$D/s1" >/dev/null || fail "generator failed"
	ok discover
	U=user0001@example.net
	SRC="$D/s1/example.net/user0001"
	DST="$D/s2/example.net/user0001"
	cp -a "$SRC" "$D/original"
}

t_move_basic() {
	one_account
	ok move "$U" --to s2 --wait
	expect_out "move 1 done: $U s1 -> s2"
	expect_out "lock "
	same_tree "$D/original" "$DST"
	# The source was only renamed aside, never changed.
	same_tree "$D/original" "$D/s1/.mailshift-retired/1-$U"
	[ ! -d "$SRC" ] || fail "source still in place"
	grep -q '^mailshift-moved move=1 ' "$SRC" || fail "no placeholder at \
the old path: $(cat "$SRC" 2>&1)"
	ok route "$U" --json
	json_check 'j["slice"] == "s2" and j["host"] == "10.0.0.2" and j["generation"] == 2 and j["locked"] is False'
	ok moves list --json
	json_check 'j[0]["state"] == "done" and j[0]["passes"] >= 3 and j[0]["lock_ms"] >= 0 and j[0]["error"] is None'
	ok moves show 1
	expect_out "move.done"
	expect_out "move.retired"
	# Discovery afterwards sees the account on s2 only, no conflict.
	ok discover
	ok account show "$U" --json
	json_check 'j["slice"] == "s2"'
}

t_move_json_and_queue() {
	one_account
	ok move "$U" --to s2
	expect_out "move 1 queued"
	[ ! -e "$DST" ] || fail "queueing copied something"
	ok moves list --json
	json_check 'j[0]["state"] == "queued"'
	ms move "$U" --to s3
	expect_rc 1
	expect_err "already moving to slice 's2'"
	ok --json move "$U" --to s2 --wait
	json_check 'j["state"] == "done" and j["files"] > 300 and j["lock_ms"] is not None'
	same_tree "$D/original" "$DST"
}

t_refusals() {
	one_account
	before=$(catalog_sum)
	ms move "$U" --to s1 --wait
	expect_rc 1
	expect_err "already on slice 's1'"
	ok slice set s3 --state readonly
	ms move "$U" --to s3 --wait
	expect_rc 1
	expect_err "slice 's3' is readonly and receives no accounts"
	ok slice set s3 --state draining
	ms move "$U" --to s3 --wait
	expect_rc 1
	expect_err "is draining"
	ok slice set s3 --state active
	ok slice set s2 --capacity 1M
	ms move "$U" --to s2 --wait
	expect_rc 1
	expect_err "slice 's2' has no room for account"
	ms move nobody@example.com --to s2 --wait
	expect_rc 1
	expect_err "account 'nobody@example.com' not found"
	ms move "$U" --to s9 --wait
	expect_rc 1
	expect_err "slice 's9' not found"
	ms move "$U" --wait
	expect_rc 2
	ms move "$U" --to s2 --bwlimit 10X
	expect_rc 2
	[ ! -e "$D/s2/example.net" ] && [ ! -e "$D/s3/example.net" ] ||
	    fail "a refused move copied something"
	ok slice set s2 --capacity 10G
	# A stray directory where the account would go is not ours to use.
	mkdir -p "$DST"
	ms move "$U" --to s2 --wait
	expect_rc 1
	expect_err "already exists on slice 's2'"
	same_tree "$D/original" "$SRC"
}

# move without --wait keeps --bwlimit and --files-per-second with the
# move; numbers out of range are usage errors that change nothing.
t_queued_rates() {
	one_account
	before=$(catalog_sum)
	for bad in "--files-per-second 99999999999999999999" \
	    "--files-per-second 1000000001" "--bwlimit 2P" \
	    "--bwlimit 99999999999999999999"; do
		# shellcheck disable=SC2086
		ms move "$U" --to s2 $bad
		expect_rc 2
	done
	expect_err "--bwlimit"
	[ "$(catalog_sum)" = "$before" ] || fail "a refused move changed the catalog"
	ok move "$U" --to s2 --bwlimit 1K --files-per-second 1
	expect_out "queued"
	[ "$(q 'SELECT bytes_per_second, files_per_second FROM moves')" = \
	    "1024|1" ] || fail "rates not kept: $(q 'SELECT * FROM moves')"
}

t_second_move_refused() {
	one_account
	ok move "$U" --to s2 --wait --hold
	expect_out "held"
	ok route "$U" --json
	json_check 'j["slice"] == "s1" and j["locked"] is False'
	ms move "$U" --to s3 --wait
	expect_rc 1
	expect_err "already moving to slice 's2'"
	[ "$(q "SELECT count(*) FROM moves")" -eq 1 ] || fail "second move queued"
	# Released, it finishes.
	ok moves complete 1
	ok move "$U" --to s2 --wait
	expect_out "done"
	same_tree "$D/original" "$DST"
}

t_symlink_and_names() {
	fleet
	move_conf
	B="$D/s1/example.com/alice"
	mkbox "$B" 5
	ln -s /etc "$B/cur/evil:2,S"
	ln -s ../../../../etc "$B/.Sent"
	printf 'x\n' >"$B/cur/back\\slash:2,S"
	printf 'y\n' >"$B/cur/div$(printf '\342\210\225')slash:2,S"
	ok discover
	cp -a "$B" "$D/original"
	ok move alice@example.com --to s2 --wait
	same_tree "$D/original" "$D/s2/example.com/alice"
	[ "$(readlink "$D/s2/example.com/alice/cur/evil:2,S")" = /etc ] ||
	    fail "symlink not copied as a symlink"
	[ ! -e "$D/s2/example.com/alice/cur/evil:2,S/passwd" ] ||
	    [ -L "$D/s2/example.com/alice/cur/evil:2,S" ] ||
	    fail "followed a symlink"
	[ -z "$(find "$D/s2" -name passwd)" ] || fail "copied /etc"
}

t_control_name_refused() {
	fleet
	move_conf
	B="$D/s1/example.com/bob"
	mkbox "$B" 3
	ok discover
	printf 'z\n' >"$B/cur/bad
name:2,S"
	before_src=$(cd "$B" && ls -laR | md5sum)
	ms move bob@example.com --to s2 --wait
	expect_rc 1
	expect_one_error
	expect_err "control characters"
	expect_err 'bad\x0aname'
	ok route bob@example.com --json
	json_check 'j["slice"] == "s1" and j["locked"] is False'
	ok moves list --json
	json_check 'j[0]["state"] == "failed" and "control characters" in j[0]["error"]'
	[ "$(cd "$B" && ls -laR | md5sum)" = "$before_src" ] ||
	    fail "source changed"
}

t_enospc() {
	[ "$(id -u)" -eq 0 ] || { echo "skip: needs root for tmpfs"; return 0; }
	fleet
	move_conf
	mkdir -p "$D/small"
	mount -t tmpfs -o size=2m tmpfs "$D/small" ||
	    { echo "skip: cannot mount a tmpfs"; return 0; }
	"$GEN" --accounts 1 --messages 200 --min-size 20000 --max-size 40000 \
	    --seed 5 "$D/s1" >/dev/null || fail "generator failed"
	# The catalog believes the account is small (stale sizes), so only
	# the copy itself finds out that the target is full.
	printf 'user,slice,path,bytes,files\nuser0001@example.net,s1,example.net/user0001,1000,1\n' >"$D/a.csv"
	ok account import "$D/a.csv"
	ok slice add small --pair p2 --server mx4 --path "$D/small" \
	    --capacity 1G
	cp -a "$D/s1/example.net/user0001" "$D/original"
	ms move user0001@example.net --to small --wait
	rc=$RC
	left=$(find "$D/small" -mindepth 1 ! -name .mailshift-slice | wc -l)
	umount "$D/small"
	RC=$rc
	expect_rc 1
	expect_one_error
	expect_err "slice 'small' is full"
	expect_err "No space left on device"
	expect_err "partial copy was removed"
	[ "$left" -le 1 ] || fail "partial target left behind ($left entries)"
	same_tree "$D/original" "$D/s1/example.net/user0001"
	ok route user0001@example.net --json
	json_check 'j["slice"] == "s1" and j["locked"] is False and j["generation"] == 1'
}

t_unreadable_file() {
	command -v setpriv >/dev/null || { echo "skip: no setpriv"; return 0; }
	[ "$(id -u)" -eq 0 ] || { echo "skip: needs root to drop privileges"; return 0; }
	fleet
	move_conf
	mkbox "$D/s1/example.com/carol" 4
	ok discover
	chmod 0711 "$TESTROOT"
	chown -R 65534:65534 "$D"
	chmod 000 "$D/s1/example.com/carol/cur/2.M1P1.host:2,S"
	RC=0
	setpriv --reuid=65534 --regid=65534 --clear-groups "$MS" move \
	    carol@example.com --to s2 --wait >"$D/out" 2>"$D/err" || RC=$?
	expect_rc 1
	expect_one_error
	expect_err "cannot read cur/2.M1P1.host:2,S: Permission denied"
	ok route carol@example.com --json
	json_check 'j["slice"] == "s1" and j["locked"] is False'
	[ "$(stat -c %a "$D/s1/example.com/carol/cur/2.M1P1.host:2,S")" = 0 ] ||
	    fail "source file changed"
}

t_vanishing_folder() {
	one_account
	# Slow the copy down so that a folder disappears while it runs.
	( sleep 1; rm -rf "$SRC/.Trash" "$SRC/.Drafts" "$SRC/.Junk" ) &
	ok move "$U" --to s2 --wait --files-per-second 150
	wait
	same_tree "$D/s1/.mailshift-retired/1-$U" "$DST"
	[ ! -e "$DST/.Trash" ] && [ ! -e "$DST/.Drafts" ] ||
	    fail "a vanished folder is on the target"
}

t_archive_restore_purge() {
	one_account retention.archive=zstd
	ok move "$U" --to s2 --wait
	A="$D/s1/.mailshift-retired/1-$U.tar.zst"
	expect_out "source retired to $A"
	[ -f "$A" ] || fail "no archive"
	[ ! -e "$D/s1/.mailshift-retired/1-$U" ] || fail "retired tree kept"
	mkdir "$D/restored"
	ok account restore "$U" --from-archive "$A" --to "$D/restored"
	same_tree "$D/original" "$D/restored/$U"
	ms account restore "$U" --from-archive "$A"
	expect_rc 1
	expect_err "exists; restore into another directory"
	# A lost mailbox comes back into its empty home.
	rm -rf "$DST"
	ok account restore "$U" --from-archive "$A"
	same_tree "$D/original" "$DST"
	ok moves purge
	expect_out "purged 0 retired sources"
	ok moves purge --older-than 0s
	expect_out "purged 1 retired source"
	[ ! -e "$A" ] || fail "archive not purged"
	ok moves show 1 --json
	json_check 'any(e["kind"] == "move.purged" for e in j["events"])'
}

t_lock_timeout() {
	one_account move.lock_timeout=1s 'hooks.after_lock=sleep 1.2'
	ms move "$U" --to s2 --wait
	expect_rc 1
	expect_one_error
	expect_err "cutover of '$U' abandoned: the lock lasted"
	expect_err "over lock_timeout"
	ok route "$U" --json
	json_check 'j["slice"] == "s1" and j["locked"] is False and j["generation"] == 1'
	ok moves show 1 --json
	json_check 'j["state"] == "syncing" and "lock_timeout" in j["error"] and j["attempts"] == 1'
	same_tree "$D/original" "$SRC"
	# With room for the lock, running it again finishes.
	move_conf
	ok move "$U" --to s2 --wait
	same_tree "$D/original" "$DST"
}

# Under the lock, after the after_lock hook, the final pass waits until
# the source is quiet: a session still writing (a delivery through tmp/
# into new/ every 0.2 s for 1.6 s) finishes first and all of it is on the
# target; one that never stops makes the cutover give up at lock_timeout,
# unlocked, the source untouched.
t_quiet_wait() {
	cat >"$D/writer.sh" <<'EOF'
i=0
while [ $i -lt "$2" ] && [ ! -e "$1.stop" ]; do
	i=$((i + 1))
	printf 'Message-ID: <w%d@x>\n\nw\n' $i >"$1/tmp/180000000$i.w$i.host"
	mv "$1/tmp/180000000$i.w$i.host" "$1/new/180000000$i.w$i.host"
	sleep 0.2
done
EOF
	one_account move.quiet=500ms move.lock_grace=1s \
	    "hooks.after_lock=setsid sh $D/writer.sh $D/s1/example.net/user0001 8 >/dev/null 2>&1 </dev/null &"
	ok move "$U" --to s2 --wait
	for i in 1 2 3 4 5 6 7 8; do
		[ -f "$DST/new/180000000$i.w$i.host" ] ||
		    fail "w$i not on the target: $(ls "$DST/new")"
	done
	ok moves show 1
	expect_out "the source was quiet after"
	ms_quiet=$(q "SELECT message FROM events WHERE kind = 'move.quiet'" |
	    sed 's/.*after \([0-9]*\) ms.*/\1/')
	[ "$ms_quiet" -ge 1400 ] || fail "quiet after $ms_quiet ms only"
}

t_quiet_never() {
	cat >"$D/writer.sh" <<'EOF'
while [ ! -e "$1.stop" ]; do
	printf 'w\n' >"$1/tmp/1800000000.w.host"
	mv "$1/tmp/1800000000.w.host" "$1/new/1800000000.w.host"
	sleep 0.2
done
EOF
	one_account move.quiet=500ms move.lock_grace=1s move.lock_timeout=3s \
	    "hooks.after_lock=setsid sh $D/writer.sh $D/s1/example.net/user0001 >/dev/null 2>&1 </dev/null &"
	ms move "$U" --to s2 --wait
	touch "$SRC.stop"
	expect_rc 1
	expect_err "did not go quiet"
	ok route "$U" --json
	json_check 'j["slice"] == "s1" and j["locked"] is False'
	[ -d "$SRC/cur" ] || fail "source touched"
}

t_disk_full_refused() {
	[ "$(id -u)" -eq 0 ] || { echo "skip: needs root for tmpfs"; return 0; }
	one_account
	mkdir -p "$D/tiny"
	mount -t tmpfs -o size=1m tmpfs "$D/tiny" ||
	    { echo "skip: cannot mount a tmpfs"; return 0; }
	ok slice add tiny --pair p2 --server mx4 --path "$D/tiny" --capacity 1G
	ms move "$U" --to tiny --wait
	rc=$RC
	left=$(find "$D/tiny" -mindepth 1 ! -name .mailshift-slice | wc -l)
	umount "$D/tiny"
	RC=$rc
	expect_rc 1
	expect_err "slice 'tiny' has"
	expect_err "bytes free on disk, not enough"
	[ "$left" -eq 0 ] || fail "something was copied"
	[ "$(q "SELECT count(*) FROM moves")" -eq 0 ] || fail "a move was queued"
}

t_unmounted_slice() {
	one_account
	# s2 "unmounted": its mount point is an empty directory now.
	mv "$D/s2" "$D/s2.real"
	mkdir "$D/s2"
	ms move "$U" --to s2 --wait
	expect_rc 1
	expect_err "has no .mailshift-slice marker"
	[ -z "$(ls -A "$D/s2")" ] || fail "something was written to the mount point"
	same_tree "$D/original" "$SRC"
	ms discover s2
	expect_rc 1
	expect_err "is the slice mounted?"
	rmdir "$D/s2"
	mv "$D/s2.real" "$D/s2"
	ok move "$U" --to s2 --wait
	same_tree "$D/original" "$DST"
}

t_lock_expires() {
	one_account move.lock_timeout=1s
	RC=0
	MAILSHIFT_CRASH_AT=after-lock "$MS" move "$U" --to s2 --wait \
	    >"$D/out" 2>"$D/err" || RC=$?
	[ "$RC" -eq 137 ] || fail "no crash: $(cat "$D/err")"
	ok route "$U" --json
	json_check 'j["locked"] is True'
	sleep 2.5
	# The run that held the lock is gone: the lock has expired by itself.
	ok route "$U" --json
	json_check 'j["locked"] is False and j["slice"] == "s1"'
	move_conf
	ok move "$U" --to s2 --wait
	same_tree "$D/original" "$DST"
}

t_sigterm_and_stale_owner() {
	MESSAGES=400 one_account
	"$MS" move "$U" --to s2 --wait --files-per-second 100 >"$D/out" \
	    2>"$D/err" &
	pid=$!
	sleep 1.5
	kill -TERM "$pid"
	RC=0
	wait "$pid" || RC=$?
	expect_rc 1
	expect_err "stopped at a safe point"
	ok moves list --json
	json_check 'j[0]["state"] in ("copying", "syncing")'
	ok route "$U" --json
	json_check 'j["locked"] is False'
	# A pid that now belongs to another process does not own the move.
	q "UPDATE moves SET owner_pid = 1, owner_start = 'another-boot:1'"
	ok move "$U" --to s2 --wait
	same_tree "$D/original" "$DST"
}

t_moves_run() {
	fleet
	move_conf
	"$GEN" --accounts 3 --messages 40 --max-size 4000 --seed 8 "$D/s1" \
	    >/dev/null || fail "generator failed"
	ok discover
	cp -a "$D/s1" "$D/orig"
	ok move user0001@example.net --to s2
	ok move user0002@example.org --to s3
	ok move user0003@example.com --to s2 --hold
	ok moves run
	expect_out "3 moves run, 0 failed"
	expect_out "held"
	ok moves list --json
	json_check 'sorted(m["state"] for m in j) == ["done", "done", "ready"]'
	same_tree "$D/orig/example.net/user0001" "$D/s2/example.net/user0001"
	same_tree "$D/orig/example.org/user0002" "$D/s3/example.org/user0002"
	ok moves complete 3
	ok moves run
	expect_out "1 moves run, 0 failed"
	same_tree "$D/orig/example.com/user0003" "$D/s2/example.com/user0003"
	ms moves complete 3
	expect_rc 1
	expect_err "not open"
}

# With a settle delay, moves run runs every move, then each settle check
# when it falls due.
t_moves_run_settle() {
	fleet
	move_conf move.settle=1s
	"$GEN" --accounts 3 --messages 10 --max-size 4000 --seed 8 "$D/s1" \
	    >/dev/null || fail "generator failed"
	ok discover
	ok move user0001@example.net --to s2
	ok move user0002@example.org --to s3
	ok move user0003@example.com --to s2
	ok moves run
	expect_out "3 moves run, 0 failed"
	[ "$(q "SELECT count(*) FROM moves WHERE state = 'done' AND
	    settled_at IS NOT NULL")" = 3 ] || fail "$(q "SELECT id, state,
	    settled_at FROM moves")"
	[ "$(grep -c "settle check: 0 late" "$D/out")" = 3 ] ||
	    fail "$(cat "$D/out")"
}

t "move --wait: byte-identical target, catalog switched, source retired" t_move_basic
t "move without --wait queues; --json result" t_move_json_and_queue
t "refused before copying: same slice, readonly, draining, no room, stray dir" t_refusals
t "move without --wait keeps its rates; out-of-range rates are refused" \
    t_queued_rates
t "a second move of a moving account is refused; held move waits" t_second_move_refused
t "symlinks copied as symlinks, never followed; odd but valid names" t_symlink_and_names
t "a file name with a newline fails the move, nothing changes" t_control_name_refused
t "ENOSPC on a small tmpfs: clear error, partial copy removed" t_enospc
t "an unreadable source file fails the move with its name" t_unreadable_file
t "folders vanishing mid-copy are not an error" t_vanishing_folder
t "zstd archive of the source, restore, purge" t_archive_restore_purge
t "moves run runs queued moves; moves complete releases a hold" t_moves_run
t "moves run with a settle delay: every move, then every settle check" \
    t_moves_run_settle
t "a lock whose run died expires by itself in the route view" t_lock_expires
t "SIGTERM stops a move at a safe point; a reused pid owns nothing" t_sigterm_and_stale_owner
t "an unmounted slice is refused: nothing copied, nothing retired" t_unmounted_slice
t "a lock over lock_timeout is abandoned and unlocked, retry works" t_lock_timeout
t "the final pass waits for a quiet source" t_quiet_wait
t "a source never quiet: the cutover gives up, unlocked" t_quiet_never
t "a target without room on disk is refused before copying" t_disk_full_refused
done_testing
