# mailshift with a real Dovecot 2.3: each test starts its own Dovecot on
# loopback (own base_dir, free high ports) configured with the files in
# examples/dovecot/, reading the test's catalog, and stops it at the end.
. "$(dirname "$0")/lib.sh"

EXAMPLES="$TESTLIB/../../examples/dovecot"
CLIENT="python3 $TESTLIB/mailclient.py"
PASS=secret

if ! command -v dovecot >/dev/null 2>&1 ||
    ! command -v doveadm >/dev/null 2>&1 ||
    ! ls /usr/lib/dovecot/modules/auth/libdriver_sqlite.so >/dev/null 2>&1
then
	echo "ok 1 # SKIP Dovecot is not installed and could not be: run" \
	    "scripts/install-deps as root (dovecot-imapd dovecot-lmtpd" \
	    "dovecot-sqlite)"
	echo "1..1"
	exit 0
fi

# Every Dovecot a test started is stopped, whatever happens.
STARTED="$TESTROOT/dovecots"
: >"$STARTED"
# So is every client a test left running when it failed.
CLIENTS="$TESTROOT/clients"
: >"$CLIENTS"
trap 'while read -r c; do doveadm -c "$c" stop >/dev/null 2>&1; done \
    <"$STARTED"; while read -r p; do kill "$p" 2>/dev/null; done \
    <"$CLIENTS"; chmod -R u+rwx "$TESTROOT" 2>/dev/null; rm -rf "$TESTROOT"' \
    EXIT

# Start Dovecot for the catalog $MAILSHIFT_DB with the example files (by
# way of examples/dovecot/local-dovecot.sh): $IMAP, $LMTP, $CONF, $DV.
dovecot_start() {
	DV="$D/dovecot"
	mkdir -p "$DV"
	echo "$DV/dovecot.conf" >>"$STARTED"
	eval "$("$EXAMPLES/local-dovecot.sh" start ${LOGINS:+"$LOGINS"} "$DV" \
	    "$MAILSHIFT_DB" "$PASS" $USERS)" || fail "dovecot did not start: $(cat \
	    "$DV/dovecot.log" 2>/dev/null)"
	# Dovecot's processes run as nobody/dovenull: let them through.
	chmod 755 "$TESTROOT" "$D"
}

dovecot_stop() {
	doveadm -c "$CONF" stop >/dev/null 2>&1
}

# A fleet with one account of $1 messages on s1 owned by nobody (Dovecot
# refuses root), plus a mailshift config; $U, $SRC, $DST.
mail_fleet() {
	fleet
	"$GEN" --accounts 1 --messages "$1" --max-size 6000 --seed 9 \
	    "$D/s1" >/dev/null || fail "generator failed"
	shift
	U=user0001@example.net
	USERS=$U
	SRC="$D/s1/example.net/user0001"
	DST="$D/s2/example.net/user0001"
	chown -R nobody:nogroup "$SRC"
	chmod 755 "$D/s1/example.net"
	ok discover
	dovecot_start
	move_conf "hooks.after_lock=doveadm -c $CONF kick -- %u || [ \$? -eq 68 ]" "$@"
}

imap_list() {
	$CLIENT list "$IMAP" "$U" "$PASS" >"$1" 2>"$D/client.err" ||
	    fail "IMAP listing failed: $(cat "$D/client.err")"
}

# 1. UIDs, UIDVALIDITY and Message-IDs are the same after the move, and
# Dovecot reads from slice s2.
t_listing_survives_move() {
	mail_fleet 120
	# Folders Dovecot makes itself: a UTF-8 name (Entwürfe, stored in
	# modified UTF-7) and one with a space.
	$CLIENT create "$IMAP" "$U" "$PASS" 'Entw&APw-rfe' ||
	    fail "cannot create a folder"
	$CLIENT create "$IMAP" "$U" "$PASS" 'Sent Items' ||
	    fail "cannot create a folder"
	imap_list "$D/before"
	grep -q '^Entw&APw-rfe ' "$D/before" || fail "no UTF-8 folder: $(cat \
	    "$D/before")"
	[ "$(wc -l <"$D/before")" -ge 120 ] || fail "listing: $(cat "$D/before")"
	[ "$(doveadm -c "$CONF" user -f home "$U")" = "$SRC" ] ||
	    fail "userdb home: $(doveadm -c "$CONF" user "$U" 2>&1)"
	ok move "$U" --to s2 --wait
	imap_list "$D/after"
	cmp "$D/before" "$D/after" || fail "listing changed: $(diff \
	    "$D/before" "$D/after" | head)"
	[ "$(doveadm -c "$CONF" user -f home "$U")" = "$DST" ] ||
	    fail "userdb home after: $(doveadm -c "$CONF" user "$U" 2>&1)"
	# The source is gone from its old place: the listing came from s2.
	[ ! -d "$SRC" ] || fail "source still in place"
	grep -q '^mailshift-moved move=1 ' "$SRC" || fail "no placeholder at \
the old path: $(cat "$SRC" 2>&1)"
	[ -e "$DST/dovecot-uidlist" ] || fail "no uidlist on the target"
	dovecot_stop
}

# 2. IMAP APPENDs and LMTP deliveries keep coming during the move; during
# the lock both get temporary failures and retry; every acknowledged
# message ends up in the target exactly once.
t_no_mail_lost_at_cutover() {
	mail_fleet 300 move.lock_grace=2s move.settle=1s
	STOP="$D/stop"
	$CLIENT append-loop "$IMAP" "$U" "$PASS" "$STOP" "$D/imap.log" \
	    2>"$D/imap.err" &
	A=$!
	$CLIENT lmtp-loop "$LMTP" "$U" "$STOP" "$D/lmtp.log" 2>"$D/lmtp.err" &
	L=$!
	echo "$A $L" | tr ' ' '\n' >>"$CLIENTS"
	n=0
	until [ "$(cat "$D/imap.log" 2>/dev/null | grep -c '^ack')" -ge 5 ] &&
	    [ "$(cat "$D/lmtp.log" 2>/dev/null | grep -c '^ack')" -ge 5 ]; do
		n=$((n + 1))
		[ $n -lt 200 ] || { touch "$STOP"; fail "clients do not \
deliver: $(cat "$D/imap.err" "$D/lmtp.err" "$DV/dovecot.log" | tail)"; }
		sleep 0.1
	done
	ms move "$U" --to s2 --wait
	sleep 1
	touch "$STOP"
	wait $A || fail "IMAP client failed: $(tail "$D/imap.err")"
	wait $L || fail "LMTP client failed: $(tail "$D/lmtp.err" \
	    "$D/lmtp.log")"
	expect_rc 0
	grep -q "^tempfail" "$D/imap.log" ||
	    fail "IMAP never saw the lock: $(cat "$D/imap.log")"
	grep -q "^tempfail .* 451 4.3.0" "$D/lmtp.log" ||
	    fail "LMTP never deferred: $(cat "$D/lmtp.log")"
	! grep -q "^permfail" "$D/lmtp.log" || fail "a bounce"
	imap_list "$D/after"
	grep -h '^ack' "$D/imap.log" "$D/lmtp.log" | cut -d' ' -f2 |
	    sort >"$D/acked"
	[ -s "$D/acked" ] || fail "nothing acknowledged"
	while read -r mid; do
		c=$(grep -c " <$mid>\$" "$D/after")
		[ "$c" -eq 1 ] || fail "$mid is in the target $c times"
	done <"$D/acked"
	echo "acked: $(wc -l <"$D/acked"); imap tempfails: $(grep -c \
	    '^tempfail' "$D/imap.log"); lmtp tempfails: $(grep -c \
	    '^tempfail' "$D/lmtp.log")"
	[ "$(q "SELECT slice FROM access")" = s2 ] || fail "not switched"
	dovecot_stop
}

# 2b. Slow MTAs across cutovers: deliveries that pause between an accepted
# RCPT and DATA for less than, as long as and longer than lock_grace, and
# longer than settle, while the account moves s1 -> s2 -> s3 -> s1 (back
# onto the placeholder of the first move). Every message answered 250 is
# in the mailbox exactly once (the senders retry every 4xx until a 250, as
# MTAs do); no old home comes back as a directory.
t_slow_senders_across_cutovers() {
	mail_fleet 200 move.lock_grace=1s move.settle=2s move.quiet=500ms
	SLOW="python3 $TESTLIB/slowlmtp.py"
	STOP="$D/stop"
	pids=""
	for pause in 0.5 1 1.5 3; do
		$SLOW "$LMTP" "$U" $pause "$STOP" "$D/slow-$pause.log" \
		    "p$pause" 2>"$D/slow-$pause.err" &
		pids="$pids $!"
	done
	$CLIENT lmtp-loop "$LMTP" "$U" "$STOP" "$D/lmtp.log" \
	    2>"$D/lmtp.err" &
	pids="$pids $!"
	echo $pids | tr ' ' '\n' >>"$CLIENTS"
	sleep 2
	for to in s2 s3 s1 s2; do
		ok move "$U" --to $to --wait
	done
	# The longest transaction in flight at the last switch ends, and its
	# retry (if it got a 4xx) reaches the new home.
	sleep 4
	touch "$STOP"
	for p in $pids; do
		wait $p || fail "a sender failed: $(cat "$D"/slow-*.err \
		    "$D/lmtp.err" | tail)"
	done
	! grep -q "permfail" "$D"/slow-*.log "$D/lmtp.log" || fail "a bounce"
	imap_list "$D/after"
	cat "$D"/slow-*.log | awk '$2 == "ack" { print $3 }' >"$D/acked"
	grep -h '^ack' "$D/lmtp.log" | cut -d' ' -f2 >>"$D/acked"
	[ "$(wc -l <"$D/acked")" -ge 10 ] || fail "too few deliveries: $(cat \
	    "$D"/slow-*.log)"
	while read -r mid; do
		c=$(grep -c " <$mid>\$" "$D/after")
		[ "$c" -eq 1 ] || fail "$mid is in the mailbox $c times: $(grep \
		    -h "$mid" "$D"/slow-*.log "$D/lmtp.log")"
	done <"$D/acked"
	# A 4xx after DATA was a refusal, retried: it is there once, from
	# the retry, never also from the refused try.
	data451=$(cat "$D"/slow-*.log | grep -c "tempfail .* data 4" || true)
	for s in s1 s3; do
		[ ! -d "$D/$s/example.net/user0001" ] ||
		    fail "old home on $s is a directory again: $(ls -la \
		    "$D/$s/example.net/user0001")"
	done
	[ "$(q "SELECT slice FROM access")" = s2 ] || fail "not on s2"
	echo "acked: $(wc -l <"$D/acked"); 4xx after DATA: $data451;" \
	    "4xx at RCPT: $(cat "$D"/slow-*.log | grep -c "tempfail .* rcpt" \
	    || true); unsaved left in retired sources: $(q "SELECT count(*) \
	    FROM events WHERE kind = 'move.late-unsaved'"); locks (ms): $(q \
	    "SELECT group_concat(lock_ms, ' ') FROM moves")" \
	    >>"${MAILSHIFT_TEST_STATS:-/dev/null}"
	dovecot_stop
}

# 3. A locked account: the right password gets [UNAVAILABLE], a wrong one
# the usual failure, and LMTP a 4xx. Checked from the after_lock hook,
# while mailshift really holds the lock.
t_locked_account_answers() {
	mail_fleet 20
	cat >"$D/probe.sh" <<EOF
$CLIENT login $IMAP "\$1" $PASS >$D/right
$CLIENT login $IMAP "\$1" wrong >$D/wrong
$CLIENT lmtp $LMTP "\$1" probe@x >$D/lmtp
EOF
	move_conf "hooks.after_lock=sh $D/probe.sh %u"
	ok move "$U" --to s2 --wait
	grep -q "^NO \[UNAVAILABLE\]" "$D/right" ||
	    fail "right password while locked: $(cat "$D/right")"
	grep -q "^NO \[AUTHENTICATIONFAILED\]" "$D/wrong" ||
	    fail "wrong password while locked: $(cat "$D/wrong")"
	grep -q "^451 4.3.0" "$D/lmtp" || fail "LMTP while locked: $(cat \
	    "$D/lmtp")"
	# Unlocked again: both as usual.
	[ "$($CLIENT login "$IMAP" "$U" "$PASS")" = OK ] || fail "after"
	$CLIENT login "$IMAP" "$U" wrong | grep -q AUTHENTICATIONFAILED ||
	    fail "wrong password after the move"
	# A catalog the gate cannot read fails closed: temporary failures,
	# no login, no delivery.
	# (PostgreSQL binds a view to its tables, not their names: there the
	# view itself goes away.)
	if [ "$ENGINE" = pgsql ]; then
		q "ALTER VIEW access RENAME TO access_away"
	else
		q "ALTER TABLE accounts RENAME TO accounts_away"
	fi
	$CLIENT login "$IMAP" "$U" "$PASS" >"$D/broken"
	grep -q "^NO \[UNAVAILABLE\]" "$D/broken" ||
	    fail "login with an unreadable catalog: $(cat "$D/broken")"
	$CLIENT lmtp "$LMTP" "$U" broken@x >"$D/broken-lmtp"
	grep -q "^4" "$D/broken-lmtp" ||
	    fail "LMTP with an unreadable catalog: $(cat "$D/broken-lmtp")"
	if [ "$ENGINE" = pgsql ]; then
		q "ALTER VIEW access_away RENAME TO access"
	else
		q "ALTER TABLE accounts_away RENAME TO accounts"
	fi
	dovecot_stop
}

# Each "SECS ANSWER" line of $1 has an answer that starts with $2 and
# took less than $3 s: a bound well under Dovecot's failure delay (2 s)
# and auth penalty (2-15 s), which are timers of whole seconds.
answered_within() {
	[ -s "$1" ] || fail "no answer in $1"
	awk -v want="$2" -v max="$3" 'index(substr($0, index($0, " ") + 1),
	    want) != 1 || $1 + 0 >= max + 0 { bad = 1 } END { exit bad }' \
	    "$1" || fail "expected '$2' within $3 s each: $(cat "$1")"
}

# 3b. A locked account's login fails at once and raises no auth penalty
# for the next login from the same IP: the gate answers with nodelay.
# Three refused logins while mailshift holds the lock (from the
# after_lock hook), then one after the switch.
t_locked_login_no_penalty() {
	mail_fleet 10
	cat >"$D/timed.sh" <<EOF
$CLIENT timed-login $IMAP "\$1" $PASS 3 >$D/refused
EOF
	move_conf "hooks.after_lock=sh $D/timed.sh %u"
	ok move "$U" --to s2 --wait
	cat "$D/refused"
	[ "$(wc -l <"$D/refused")" -eq 3 ] || fail "refused: $(cat \
	    "$D/refused")"
	answered_within "$D/refused" "NO [UNAVAILABLE]" 1
	$CLIENT timed-login "$IMAP" "$U" "$PASS" >"$D/after"
	cat "$D/after"
	answered_within "$D/after" OK 1
	dovecot_stop
}

# The lock gate's query of this Dovecot as it was before nodelay.
gate_without_nodelay() {
	sed -i '/^password_query/,$d' "$DV/dovecot-sql-mailshift-passdb.conf.ext"
	if [ "$ENGINE" = pgsql ]; then
		cat >>"$DV/dovecot-sql-mailshift-passdb.conf.ext" <<'EOF'
password_query = SELECT NULL AS password, 'temp_fail' AS code \
  FROM access WHERE "user" = '%u' AND unavailable = 1
EOF
	else
		cat >>"$DV/dovecot-sql-mailshift-passdb.conf.ext" <<'EOF'
password_query = SELECT NULL AS password, 'temp_fail' AS code \
  FROM access WHERE user = '%u' AND unavailable
EOF
	fi
	! grep -v "^#" "$DV/dovecot-sql-mailshift-passdb.conf.ext" |
	    grep -q nodelay ||
	    fail "nodelay still in the gate"
}

# 3c. The contrast, with the gate's query as it was before nodelay: the
# refusal waits out Dovecot's failure delay, and the login after the
# switch the penalty that refusal raised.
t_gate_without_nodelay_delays() {
	mail_fleet 10
	gate_without_nodelay
	doveadm -c "$CONF" reload || fail "doveadm reload failed"
	sleep 1
	cat >"$D/timed.sh" <<EOF
$CLIENT timed-login $IMAP "\$1" $PASS 1 >$D/refused
EOF
	move_conf "hooks.after_lock=sh $D/timed.sh %u"
	ok move "$U" --to s2 --wait
	$CLIENT timed-login "$IMAP" "$U" "$PASS" >"$D/after"
	cat "$D/refused" "$D/after"
	grep -q "^[0-9.]* NO \[UNAVAILABLE\]" "$D/refused" || fail "not refused"
	grep -q "^[0-9.]* OK" "$D/after" || fail "no login after the move"
	awk '$1 + 0 < 1.5 { bad = 1 } END { exit bad }' "$D/refused" \
	    "$D/after" || fail "no delay without nodelay: $(cat \
	    "$D/refused" "$D/after")"
	dovecot_stop
}

# 4. The doveadm kick hook ends an open IMAP session at the cutover; the
# client logs in again and sees its mail, now on s2.
t_kick_hook() {
	mail_fleet 30
	$CLIENT wait-kick "$IMAP" "$U" "$PASS" "$D/kick.log" \
	    2>"$D/kick.err" &
	K=$!
	echo "$K" >>"$CLIENTS"
	n=0
	until grep -q connected "$D/kick.log" 2>/dev/null; do
		n=$((n + 1))
		[ $n -lt 100 ] || fail "client did not connect"
		sleep 0.1
	done
	inbox=$(ls "$SRC/cur" "$SRC/new" | grep -c '^[0-9]')
	ok move "$U" --to s2 --wait
	wait $K || fail "client: $(cat "$D/kick.log" "$D/kick.err")"
	grep -q "^disconnected" "$D/kick.log" || fail "not kicked"
	grep -q "^reconnected INBOX $inbox\$" "$D/kick.log" ||
	    fail "after reconnecting: $(cat "$D/kick.log"), expected $inbox"
	ok moves show 1
	expect_out "after_lock hook 'doveadm"
	dovecot_stop
}

# 5. doveadm who -1 as the daemon's presence command: a user with an open
# session is not cut over until the session ends.
t_presence_doveadm_who() {
	mail_fleet 20 daemon.listen=off presence.sources=command \
	    presence.idle=0s presence.command_interval=1s
	move_conf "hooks.after_lock=doveadm -c $CONF kick -- %u || [ \$? -eq 68 ]" \
	    daemon.listen=off presence.sources=command presence.idle=0s \
	    presence.command_interval=1s \
	    "presence.command=doveadm -c $CONF who -1"
	$CLIENT wait-kick "$IMAP" "$U" "$PASS" "$D/session.log" \
	    2>/dev/null &
	K=$!
	echo "$K" >>"$CLIENTS"
	until grep -q connected "$D/session.log" 2>/dev/null; do sleep 0.1; done
	ok move "$U" --to s2
	"$MS" daemon >"$D/daemon.log" 2>&1 &
	P=$!
	n=0
	until grep -q "cutover waits: .*online" "$D/daemon.log"; do
		n=$((n + 1))
		[ $n -lt 150 ] || { kill $P; fail "no wait: $(cat \
		    "$D/daemon.log")"; }
		sleep 0.1
	done
	[ "$(q "SELECT state FROM moves")" = ready ] || fail "not waiting"
	# The session ends (as the user logs out): the cutover follows.
	doveadm -c "$CONF" kick "$U" >/dev/null
	n=0
	until [ "$(q "SELECT state FROM moves")" = done ]; do
		n=$((n + 1))
		[ $n -lt 200 ] || { kill $P; fail "never cut over: $(cat \
		    "$D/daemon.log")"; }
		sleep 0.1
	done
	kill -TERM $P
	wait $P
	kill $K 2>/dev/null
	wait $K 2>/dev/null
	dovecot_stop
}

# 6. mailshift dovecot check: this setup passes; an auth cache longer
# than the grace, LMTP without the gate, a passdb that stops the chain and
# a gate without nodelay are each named.
t_dovecot_check() {
	mail_fleet 5
	ms dovecot check --doveconf "doveconf -c $CONF"
	[ "$RC" -eq 0 ] || fail "dovecot check: $(cat "$D/out" "$D/err")"
	expect_out "ok       lock gate"
	expect_out "ok       userdb"
	expect_out "0 problems"
	dovecot_stop
	sed -i 's/result_success = continue-ok/result_success = return-ok/' \
	    "$CONF"
	sed -i 's/^lmtp_proxy = yes/lmtp_proxy = no/' "$DV/95-mailshift.conf"
	printf 'auth_cache_size = 1M\nauth_cache_ttl = 1 hour\n' >>"$CONF"
	gate_without_nodelay
	ms dovecot check --doveconf "doveconf -c $CONF"
	expect_rc 1
	expect_out "PROBLEM  passdb order: passdb 1 (passwd-file"
	expect_out "PROBLEM  lmtp: lmtp_proxy is not yes"
	expect_out "PROBLEM  auth cache: auth_cache_ttl = 1 hour"
	expect_out "PROBLEM  lock gate: the lock gate's password_query in"
	expect_out "has no nodelay"
	expect_out "4 problems"
	if [ "$ENGINE" = pgsql ]; then
		# What only PostgreSQL gets wrong: user unquoted is the role.
		sed -i 's/"user" = /user = /' \
		    "$DV/dovecot-sql-mailshift-passdb.conf.ext"
		ms dovecot check --doveconf "doveconf -c $CONF"
		expect_rc 1
		expect_out "compares user unquoted: PostgreSQL reads it as the"
	fi
	ms dovecot check --doveconf "doveconf -c $D/nonexistent.conf"
	expect_rc 1
	expect_err "--doveconf"
}

# 7. Dovecot's last_login plugin (conf.d/96-mailshift-logins.conf) counts
# IMAP logins in the catalog: each login is one, a refused login and an
# LMTP delivery none; account show gives them per day. On PostgreSQL the
# dict connects as a role that may write dovecot_logins and nothing else.
t_last_login_counts() {
	fleet
	"$GEN" --accounts 1 --messages 3 --seed 9 "$D/s1" >/dev/null ||
	    fail "generator failed"
	U=user0001@example.net
	USERS=$U
	chown -R nobody:nogroup "$D/s1/example.net/user0001"
	chmod 755 "$D/s1/example.net"
	ok discover
	LOGINS=--logins
	if [ "$ENGINE" = pgsql ]; then
		role="ms_logins_$$_$tap_n"
		q "CREATE ROLE $role LOGIN; GRANT USAGE ON SCHEMA $PG_SCHEMA TO \
$role; GRANT SELECT, INSERT, UPDATE ON dovecot_logins TO $role"
		LOGINS="--logins=$(echo "$MAILSHIFT_TEST_PG" | sed \
		    "s/user=[^ ]*/user=$role/") options='-c search_path=$PG_SCHEMA'"
		# That role cannot write anything else.
		! psql -XqAt "${LOGINS#--logins=}" -c "UPDATE accounts SET \
logins = 99" 2>/dev/null || fail "the dict's role may write accounts"
	fi
	dovecot_start
	[ "$(q "SELECT logins FROM accounts")" = 0 ] || fail "logins before"
	for n in 1 2; do
		[ "$($CLIENT login "$IMAP" "$U" "$PASS")" = OK ] ||
		    fail "login $n refused"
		wait_for "[ \"\$($CATQ 'SELECT logins FROM accounts')\" = $n ]" \
		    10 || fail "login $n not counted: $(q "SELECT logins FROM \
accounts") $(grep -i 'last_login\|dict' "$DV/dovecot.log" | tail -3)"
	done
	$CLIENT login "$IMAP" "$U" wrong | grep -q AUTHENTICATIONFAILED ||
	    fail "a wrong password was let in"
	$CLIENT lmtp "$LMTP" "$U" login-test@x | grep -q '^250' ||
	    fail "delivery failed"
	sleep 1
	[ "$(q "SELECT logins, logins_prev FROM accounts")" = "2|0" ] ||
	    fail "a refused login or a delivery counted: $(q "SELECT logins \
FROM accounts")"
	[ "$(q "SELECT count(*) FROM dovecot_logins WHERE username = '$U'")" \
	    = 1 ] || fail "no dovecot_logins row"
	ok account show "$U" --json
	json_check 'j["logins"] == 2 and j["logins_per_day"] == 2 and j["logins_since"] is not None'
	ok account show "$U"
	expect_out "2.00 (2 since"
	! grep -q "last_login_dict: Failed" "$DV/dovecot.log" ||
	    fail "Dovecot could not write: $(grep last_login "$DV/dovecot.log")"
	dovecot_stop
	if [ "$ENGINE" = pgsql ]; then
		q "DROP OWNED BY $role; DROP ROLE $role" >/dev/null
	fi
}

# A failover of s1 from mx1 to mx2 (the two servers' views of the slice
# are bind mounts switched by the test's hooks): the access view names
# mx2 in the same switch that bumps the generation, Dovecot reading the
# catalog lists the same mailbox, and new mail lands in mx2's view.
t_failover_finds_mailbox() {
	mail_fleet 40
	imap_list "$D/before"
	mkdir -p "$D/va" "$D/vb"
	cp -a "$D/s1/." "$D/va/"
	mount --bind "$D/va" "$D/s1" 2>/dev/null || skip "bind mounts need root"
	chmod 755 "$D/va" "$D/vb"
	printf 'rsync -a --delete "%s/va/" "%s/vb/"\n' "$D" "$D" >"$D/fence.sh"
	printf 'umount "$4" && mount --bind "%s/vb" "$4"\n' "$D" >"$D/promote.sh"
	move_conf "failover.fence=sh $D/fence.sh" \
	    "failover.promote=sh $D/promote.sh \"\$@\""
	g=$(q "SELECT generation FROM access WHERE \"user\" = '$U'")
	ms slice failover s1
	rc=$?
	[ "$rc" -eq 0 ] || { umount -l "$D/s1"; fail "failover: $(cat "$D/err")"; }
	[ "$(q "SELECT host || ' ' || generation FROM access WHERE \"user\" =
	    '$U'")" = "10.0.0.2 $((g + 1))" ] ||
	    { umount -l "$D/s1"; fail "access: $(q "SELECT * FROM access")"; }
	imap_list "$D/after"
	cmp "$D/before" "$D/after" || { umount -l "$D/s1"; fail "listing \
changed: $(diff "$D/before" "$D/after" | head)"; }
	$CLIENT lmtp "$LMTP" "$U" after-failover@x | grep -q '^250' ||
	    { umount -l "$D/s1"; fail "no delivery after the failover"; }
	n_b=$(grep -l "after-failover@x" "$D"/vb/example.net/user0001/new/* \
	    "$D"/vb/example.net/user0001/cur/* 2>/dev/null | wc -l)
	n_a=$(grep -l "after-failover@x" "$D"/va/example.net/user0001/new/* \
	    "$D"/va/example.net/user0001/cur/* 2>/dev/null | wc -l)
	dovecot_stop
	umount -l "$D/s1"
	[ "$n_b" -eq 1 ] && [ "$n_a" -eq 0 ] ||
	    fail "the new message is in mx2's view $n_b times, mx1's $n_a"
}

t "IMAP listing (UIDs, UIDVALIDITY) identical after the move" \
    t_listing_survives_move
t "APPEND and LMTP during the move: 4xx at the lock, nothing lost" \
    t_no_mail_lost_at_cutover
t "slow MTAs (RCPT, pause, DATA) across four cutovers: each 250 once" \
    t_slow_senders_across_cutovers
t "locked: right password [UNAVAILABLE], wrong one fails, LMTP 451" \
    t_locked_account_answers
t "a locked account's login fails at once, no penalty for the next login" \
    t_locked_login_no_penalty
t "without nodelay the refusal and the next login wait seconds" \
    t_gate_without_nodelay_delays
t "the doveadm kick hook ends a session; the client comes back" \
    t_kick_hook
t "presence from doveadm who -1 holds the cutover" t_presence_doveadm_who
t "mailshift dovecot check passes this setup, names what is wrong" \
    t_dovecot_check
t "after a failover Dovecot reads the mailbox from the new server's view" \
    t_failover_finds_mailbox
t "last_login through dict-sql counts each IMAP login in the catalog" \
    t_last_login_counts
done_testing
