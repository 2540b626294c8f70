#!/bin/sh
# The mailshift demo: a small fleet of three slices on two pairs, filled
# unevenly with generated Maildir++ mailboxes, discovered into a fresh
# catalog, then listed. Usage: examples/demo.sh [BUILD_DIR]
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
unset MAILSHIFT_CONFIG

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ mailshift %s\n' "$*"; "$ms" "$@"; }

step "Generating mailboxes (s1 crowded, s2 light, s3 new and empty)"
"$gen" --accounts 30 --messages 120 --spread 0.6 --max-size 131072 \
    --seed 1 --prefix alice --maildirsize-mix "$demo/slices/s1"
"$gen" --accounts 10 --messages 80 --spread 0.5 --max-size 131072 \
    --seed 2 --prefix bob "$demo/slices/s2"

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

printf '\nThe catalog is %s; try: MAILSHIFT_DB=%s %s slice show s1\n' \
    "$MAILSHIFT_DB" "$MAILSHIFT_DB" "$ms"
