# What access servers see and what the cutover tells them: the access view,
# cutover hooks, and the settle check that carries late deliveries from a
# retired source to the target. (The same with a real Dovecot: dovecot.sh.)
. "$(dirname "$0")/lib.sh"

one_account() {
	fleet
	move_conf "$@"
	"$GEN" --accounts 1 --messages 40 --max-size 4000 --seed 5 \
	    "$D/s1" >/dev/null || fail "generator failed"
	U=user0001@example.net
	SRC="$D/s1/example.net/user0001"
	DST="$D/s2/example.net/user0001"
	chown -R 4321:4322 "$SRC"
	ok discover
}

t_access_view() {
	one_account
	q "SELECT \"user\", home, mail, uid, gid, host, slice, locked, unavailable
	    FROM access" >"$D/view"
	grep -qxF "$U|$SRC|maildir:$SRC|4321|4322|10.0.0.1|s1|0|0" "$D/view" ||
	    fail "access view: $(cat "$D/view")"
	ok move "$U" --to s2 --wait
	[ "$(q "SELECT home, uid, host, locked FROM access")" = \
	    "$DST|4321|10.0.0.2|0" ] || fail "after the move: $(q \
	    "SELECT * FROM access")"
	# A missing mailbox is unavailable (deliveries wait), not unknown.
	mv "$DST" "$D/away"
	ms discover
	expect_err "marked missing"
	[ "$(q "SELECT unavailable, locked FROM access")" = "1|0" ] ||
	    fail "missing account: $(q "SELECT * FROM access")"
}

# The after_lock hook runs with the account locked, the user as one word.
t_hooks_run_in_order() {
	one_account "hooks.after_lock=$CATQ 'SELECT locked FROM access' >$D/at-lock; echo %u >$D/lock-user" \
	    "hooks.after_switch=$CATQ 'SELECT slice, locked FROM access' >$D/at-switch"
	ok move "$U" --to s2 --wait
	[ "$(cat "$D/at-lock")" = 1 ] || fail "not locked in after_lock"
	[ "$(cat "$D/lock-user")" = "$U" ] || fail "user: $(cat "$D/lock-user")"
	[ "$(cat "$D/at-switch")" = "s2|0" ] ||
	    fail "after_switch saw $(cat "$D/at-switch")"
	ok moves show 1
	expect_out "after_lock hook"
	expect_out "exited 0"
}

# A failing after_lock hook (a kick that did not work) abandons the
# cutover: unlocked on the source, nothing switched, retried later.
t_failing_kick_retries() {
	one_account "hooks.after_lock=echo cannot kick >&2; exit 75"
	ms move "$U" --to s2 --wait
	expect_rc 1
	expect_err "after_lock hook"
	expect_err "exited 75: cannot kick"
	expect_err "retried later"
	[ "$(q "SELECT slice, locked FROM access")" = "s1|0" ] ||
	    fail "switched or still locked: $(q "SELECT * FROM access")"
	ok moves show 1
	expect_out "hook-failed"
	# Once the hook works, the same move finishes.
	move_conf "hooks.after_lock=true"
	ok move "$U" --to s2 --wait
	[ "$(q "SELECT slice FROM access")" = s2 ] || fail "not switched"
}

# A hook that hangs is killed at its timeout and counts as failed.
t_hook_timeout() {
	one_account "hooks.after_lock=sleep 30" hooks.timeout=1s
	start=$(date +%s)
	ms move "$U" --to s2 --wait
	expect_rc 1
	expect_err "killed after"
	[ $(($(date +%s) - start)) -lt 20 ] || fail "the hook was not killed"
	[ "$(q "SELECT slice, locked FROM access")" = "s1|0" ] ||
	    fail "switched: $(q "SELECT * FROM access")"
}

# A delivery that lands in the old mailbox after the final pass is carried
# to the target's new/ by the settle check; a message the user deleted on
# the target meanwhile is not brought back; both are logged.
t_settle_carries_late_mail() {
	one_account "move.settle=1s" \
	    "hooks.after_switch=sh $D/late.sh"
	victim=$(ls "$SRC/cur" | head -n 1)
	linked=$(ls "$SRC/cur" | sed -n 2p)
	# After the switch: a late delivery on the old path; the user
	# deletes two messages on the new one, one of which had its ctime
	# changed on the old path by a hard link (as Dovecot's COPY does)
	# with its directory unchanged.
	cat >"$D/late.sh" <<EOF
printf 'Message-ID: <late@x>\n\nlate\n' >"$SRC/tmp/1700000000.late.host"
chown 4321:4322 "$SRC/tmp/1700000000.late.host"
mv "$SRC/tmp/1700000000.late.host" "$SRC/new/1700000000.late.host"
echo "99999 :1700000000.late.host" >>"$SRC/dovecot-uidlist"
printf 'Message-ID: <failed@x>\n\nfailed\n' >"$SRC/new/1700000009.failed.host"
ln "$SRC/cur/$linked" "$D/hardlink"
rm "$DST/cur/$victim" "$DST/cur/$linked"
EOF
	ok move "$U" --to s2 --wait
	expect_out "settle check: 1 late message carried"
	[ -f "$DST/new/1700000000.late.host" ] || fail "late mail not carried"
	grep -q '^late$' "$DST/new/1700000000.late.host" || fail "content"
	[ "$(stat -c %u "$DST/new/1700000000.late.host")" = 4321 ] ||
	    fail "owner not kept"
	[ ! -e "$DST/cur/$victim" ] || fail "deleted message came back"
	[ "$(ls "$DST/new" "$DST/cur" | grep -c "^${linked%%:*}")" = 0 ] ||
	    fail "deleted (hard-linked) message came back"
	# The retired source is untouched by the check.
	[ -f "$D/s1/.mailshift-retired/1-$U/new/1700000000.late.host" ] ||
	    fail "retired source changed"
	ok moves show 1
	expect_out "move.late-mail"
	expect_out "new/1700000000.late.host arrived after the final pass"
	expect_out "settle check (by snapshot): 1 late message(s) carried"
	# A file Dovecot's uidlist does not name is a save Dovecot failed
	# (and answered 4xx): left in the retired source, not resurrected.
	[ ! -e "$DST/new/1700000009.failed.host" ] || fail "failed save carried"
	[ -f "$D/s1/.mailshift-retired/1-$U/new/1700000009.failed.host" ] ||
	    fail "failed save not kept in the retired source"
	expect_out "move.late-unsaved"
	expect_out "1 failed save(s) left there"
}

# A late delivery that recreates the old path after the retirement: its
# mail is carried and the recreated mailbox is retired beside the first.
t_settle_recreated_source() {
	one_account "move.settle=3s"
	(
		i=0
		while [ ! -d "$D/s1/.mailshift-retired/1-$U" ] && [ $i -lt 200 ]
		do
			sleep 0.05
			i=$((i + 1))
		done
		# The placeholder at the old path removed by hand: a late
		# delivery can recreate the mailbox.
		grep -q '^mailshift-moved move=1 ' "$SRC" || exit 1
		rm -f "$SRC"
		mkdir -p "$SRC/new" "$SRC/cur" "$SRC/tmp"
		echo recreated >"$SRC/new/1700000001.again.host"
	) &
	ok move "$U" --to s2 --wait
	wait
	expect_out "settle check: 1 late message carried"
	[ -f "$DST/new/1700000001.again.host" ] || fail "not carried"
	[ ! -d "$SRC" ] || fail "recreated mailbox left at the old path"
	grep -q '^mailshift-moved move=1 ' "$SRC" || fail "no placeholder"
	ls -d "$D/s1/.mailshift-retired/1-$U.late-"* >/dev/null ||
	    fail "recreated mailbox not retired"
	ok moves show 1
	expect_out "move.late-mailbox"
}

# The daemon comes back for the settle check when it falls due; purge
# waits for it.
t_daemon_settles_later() {
	one_account "move.settle=2s" "daemon.listen=off" presence.idle=0s
	ok move "$U" --to s2
	"$MS" daemon >"$D/daemon.log" 2>&1 &
	pid=$!
	i=0
	until [ "$(q "SELECT CAST(settled_at IS NOT NULL AS INTEGER) FROM moves")" = 1 ] ||
	    [ $i -ge 150 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -TERM $pid
	wait $pid
	[ "$(q "SELECT CAST(settled_at IS NOT NULL AS INTEGER) FROM moves")" = 1 ] ||
	    fail "never settled: $(cat "$D/daemon.log")"
	grep -q "done, settle check of the retired source: 0 late" "$D/daemon.log" ||
	    fail "no settle log line: $(cat "$D/daemon.log")"
	ok moves purge --older-than 0s
	[ ! -e "$D/s1/.mailshift-retired/1-$U" ] || fail "not purged"
}

# Mail that reaches a retired source after its settle check is never
# purged unseen: the tree is kept and the event says why.
t_purge_keeps_late_mail() {
	one_account
	ok move "$U" --to s2 --wait
	R="$D/s1/.mailshift-retired/1-$U"
	sleep 1
	echo late >"$R/new/1700000002.later.host"
	ok moves purge --older-than 0s
	[ -f "$R/new/1700000002.later.host" ] || fail "purged with late mail"
	ok moves show 1
	q "SELECT message FROM events WHERE kind = 'move.purge-held'" \
	    >"$D/held"
	grep -q "changed after its settle check" "$D/held" ||
	    fail "no event: $(cat "$D/held")"
}

# A settle check that falls due after the account moved on (here: back)
# stands aside: the old path is the live mailbox again.
t_settle_after_moving_back() {
	one_account
	cp -a "$SRC" "$D/original"
	MAILSHIFT_CRASH_AT=after-retire "$MS" move "$U" --to s2 --wait \
	    >/dev/null 2>&1
	[ "$(q "SELECT state, CAST(settled_at IS NULL AS INTEGER) FROM moves")" = "done|1" ] ||
	    fail "$(q "SELECT * FROM moves")"
	ok move "$U" --to s1 --wait
	# A late delivery recreates the path of move 1's target.
	mkdir -p "$DST/new" "$DST/cur" "$DST/tmp"
	echo stray >"$DST/new/1700000003.stray.host"
	move_conf daemon.listen=off presence.idle=0s
	"$MS" daemon >"$D/daemon.log" 2>&1 &
	pid=$!
	i=0
	until [ "$(q "SELECT CAST(settled_at IS NOT NULL AS INTEGER) FROM moves WHERE id = 1")" \
	    = 1 ] || [ $i -ge 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -TERM $pid
	wait $pid
	ok moves show 1
	expect_out "settle check skipped: the account has moved again"
	[ "$(q "SELECT slice FROM access")" = s1 ] || fail "placement"
	same_tree "$D/original" "$SRC"
}

# With archive = zstd, a crash between the settle check and the archive
# leaves a tree the daemon archives later.
t_archive_after_settle_crash() {
	one_account retention.archive=zstd
	MAILSHIFT_CRASH_AT=after-settle "$MS" move "$U" --to s2 --wait \
	    >/dev/null 2>&1
	[ "$(q "SELECT CAST(settled_at IS NOT NULL AS INTEGER),
	    CAST(retired_path LIKE '%.tar.zst' AS INTEGER) FROM moves")" = "1|0" ] || fail "$(q "SELECT * FROM moves")"
	move_conf retention.archive=zstd daemon.listen=off presence.idle=0s
	"$MS" daemon >"$D/daemon.log" 2>&1 &
	pid=$!
	i=0
	until [ "$(q "SELECT CAST(retired_path LIKE '%.tar.zst' AS INTEGER) FROM moves")" = 1 ] ||
	    [ $i -ge 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -TERM $pid
	wait $pid
	[ "$(q "SELECT CAST(retired_path LIKE '%.tar.zst' AS INTEGER) FROM moves")" = 1 ] ||
	    fail "not archived: $(cat "$D/daemon.log")"
	grep -q "retired source archived" "$D/daemon.log" ||
	    fail "$(cat "$D/daemon.log")"
	[ ! -e "$D/s1/.mailshift-retired/1-$U" ] || fail "tree left"
}

# A run that died between renaming the source aside and recording it,
# then a late delivery that recreated the old path: the rerun records the
# retirement, and the settle check carries the late mail.
t_retire_crash_then_recreated() {
	one_account
	MAILSHIFT_CRASH_AT=retire-renamed "$MS" move "$U" --to s2 --wait \
	    >/dev/null 2>&1
	[ -d "$D/s1/.mailshift-retired/1-$U" ] || fail "not renamed"
	rm -f "$SRC"
	mkdir -p "$SRC/new" "$SRC/cur" "$SRC/tmp"
	echo late >"$SRC/new/1700000004.late.host"
	ok move "$U" --to s2 --wait
	expect_out "settle check: 1 late message carried"
	[ -f "$DST/new/1700000004.late.host" ] || fail "not carried"
	[ ! -d "$SRC" ] || fail "recreated path left"
	grep -q '^mailshift-moved move=1 ' "$SRC" || fail "no placeholder"
}

# Bad hook templates are refused with file:line.
t_bad_hook_config() {
	fleet
	printf '[hooks]\nafter_lock = doveadm kick %%n\n' >"$D/bad.conf"
	ms --config "$D/bad.conf" move nobody --to s2
	expect_rc 1
	expect_err "bad.conf:2: after_lock: '%n'"
}

t "access view: home, mail, uid/gid, host, lock, missing" t_access_view
t "after_lock runs locked, after_switch switched" t_hooks_run_in_order
t "a failing after_lock hook abandons the cutover; retry works" \
    t_failing_kick_retries
t "a hanging hook is killed at its timeout" t_hook_timeout
t "settle check carries late mail, never resurrects" \
    t_settle_carries_late_mail
t "settle check: a recreated old mailbox is carried and retired" \
    t_settle_recreated_source
t "the daemon settles when due; purge waits for it" t_daemon_settles_later
t "a settle check due after the account moved back stands aside" \
    t_settle_after_moving_back
t "late mail after the settle check is never purged unseen" \
    t_purge_keeps_late_mail
t "archive = zstd: the daemon archives after a crash past the settle" \
    t_archive_after_settle_crash
t "a crash mid-retirement, then a recreated old path: all carried" \
    t_retire_crash_then_recreated
t "bad hook templates are refused with file:line" t_bad_hook_config
done_testing
