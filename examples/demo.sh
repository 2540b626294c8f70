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
# Moves in the demo skip the lock grace a live mail server would need.
printf '[move]\nlock_grace = 0s\n' >"$demo/mailshift.conf"
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

printf '\nThe catalog is %s; try: MAILSHIFT_DB=%s %s slice show s1\n' \
    "$MAILSHIFT_DB" "$MAILSHIFT_DB" "$ms"
