#!/bin/sh
# The mailshift demo: a small fleet of three slices on two pairs, filled
# unevenly with generated Maildir++ mailboxes, discovered into a fresh
# catalog, rebalanced by a plan whose moves run here, and listed before
# and after. Usage: examples/demo.sh [BUILD_DIR]
# The demo lives in $DEMO_DIR (default /tmp/mailshift-demo), made anew.
set -eu

build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
case "$build" in /*) ;; *) build="$top/$build" ;; esac
ms="$build/mailshift"
gen="$build/maildir-gen"
demo=${DEMO_DIR:-/tmp/mailshift-demo}

rm -rf "$demo"
mkdir -p "$demo/slices/s1" "$demo/slices/s2" "$demo/slices/s3"
export MAILSHIFT_DB="$demo/catalog.db"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ mailshift %s\n' "$*"; "$ms" "$@"; }

step "Generating mailboxes (s1 crowded, s2 light, s3 new and empty)"
"$gen" --accounts 60 --messages 80 --spread 0.6 --max-size 65536 \
    --seed 1 --prefix alice --maildirsize-mix "$demo/slices/s1"
"$gen" --accounts 20 --messages 60 --spread 0.5 --max-size 65536 \
    --seed 2 --prefix bob "$demo/slices/s2"
# Moves in the demo skip the lock grace and the settle delay a live mail
# server would need.
printf '[move]\nlock_grace = 0s\nsettle = 0s\n' >"$demo/mailshift.conf"
export MAILSHIFT_CONFIG="$demo/mailshift.conf"

step "Building the catalog"
run init
run server add mx1 --address 10.1.0.11
run server add mx2 --address 10.1.0.12
run server add mx3 --address 10.1.0.13
run server add mx4 --address 10.1.0.14
run pair add p1 mx1 mx2
run pair add p2 mx3 mx4
run slice add s1 --pair p1 --server mx1 --path "$demo/slices/s1" --capacity 80M
run slice add s2 --pair p1 --server mx2 --path "$demo/slices/s2" --capacity 80M
run slice add s3 --pair p2 --server mx3 --path "$demo/slices/s3" --capacity 80M

step "Discovering accounts"
run discover

step "The fleet"
run slice list
run pair list

step "Some accounts"
"$ms" account list --slice s1 | head -n 8

step "What an access server is told"
user=$("$ms" --json account list --slice s1 |
    sed -n 's/^\[{"user":"\([^"]*\)".*/\1/p')
run route "$user"

step "Planning a rebalance (a preview, stored as plan 1)"
run plan balance | tail -n 9

step "Applying it and running the moves here (the daemon would, 24/7)"
run plan apply 1
run moves run | tail -n 4

step "The fleet after the rebalance"
run slice list
run discover >/dev/null
printf '(discover agrees with the catalog: no conflicts, nothing missing)\n'

if [ "${DOVECOT:-0}" = 1 ]; then
	step "Dovecot follows the catalog (examples/dovecot/, DOVECOT=1)"
	user=$("$ms" --json account list --slice s2 |
	    sed -n 's/^\[{"user":"\([^"]*\)".*/\1/p')
	home=$("$ms" --json route "$user" | sed -n 's/.*"home":"\([^"]*\)".*/\1/p')
	# Dovecot does not serve mail as root: the mailbox gets an owner.
	chown -R nobody:nogroup "$home"
	chmod 755 "$demo" "$demo/slices" "$demo"/slices/* "$demo"/slices/*/*.*
	"$ms" discover >/dev/null
	eval "$("$top/examples/dovecot/local-dovecot.sh" start \
	    "$demo/dovecot" "$MAILSHIFT_DB" demo "$user")"
	trap '"$top/examples/dovecot/local-dovecot.sh" stop "$demo/dovecot"' EXIT
	printf '[hooks]\nafter_lock = doveadm -c %s kick %%u || [ $? -eq 68 ]\n' \
	    "$CONF" >>"$demo/mailshift.conf"
	client="python3 $top/tests/integration/mailclient.py"
	printf 'IMAP on 127.0.0.1:%s; doveadm user says home is %s\n' "$IMAP" \
	    "$(doveadm -c "$CONF" user -f home "$user")"
	printf '%s over IMAP (folder, UIDVALIDITY, UID, Message-ID):\n' "$user"
	$client list "$IMAP" "$user" demo >"$demo/imap-before"
	head -n 5 "$demo/imap-before"
	printf '... %s messages\n' "$(wc -l <"$demo/imap-before")"
	run move "$user" --to s3 --wait
	$client list "$IMAP" "$user" demo >"$demo/imap-after"
	printf 'After the move, doveadm user says home is %s\n' \
	    "$(doveadm -c "$CONF" user -f home "$user")"
	head -n 5 "$demo/imap-after"
	if cmp -s "$demo/imap-before" "$demo/imap-after"; then
		printf 'The IMAP listing is identical: %s messages, same UIDs and' \
		    "$(wc -l <"$demo/imap-after")"
		printf ' UIDVALIDITY, now served from slice s3.\n'
	else
		printf 'The IMAP listing CHANGED:\n'
		diff "$demo/imap-before" "$demo/imap-after" | head
		exit 1
	fi
fi

printf '\nThe catalog is %s; try: MAILSHIFT_DB=%s %s slice show s1\n' \
    "$MAILSHIFT_DB" "$MAILSHIFT_DB" "$ms"
