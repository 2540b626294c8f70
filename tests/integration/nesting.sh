# No two accounts' directories on one slice may nest: import, discover,
# move and restore refuse it, naming both accounts, and change nothing.
# A copy a cancelled or failed move left is taken up by a later move.
. "$(dirname "$0")/lib.sh"

# Run a command that must fail with status 1 and error text $1, and check
# that the catalog did not change.
refused() {
	text=$1
	shift
	before=$(catalog_sum)
	ms "$@"
	expect_rc 1
	expect_one_error
	expect_err "$text"
	[ "$(catalog_sum)" = "$before" ] || fail "catalog changed by: $*"
}

# A CSV file $1 with the rows given as further arguments.
csv() {
	f=$1
	shift
	echo "user,slice,path,bytes,files" >"$f"
	for row in "$@"; do
		echo "$row" >>"$f"
	done
}

# alice and bob in example.com on s1, from discover.
two_boxes() {
	fleet
	move_conf
	mkbox "$D/s1/example.com/alice" 3
	mkbox "$D/s1/example.com/alice/.Real" 1
	touch "$D/s1/example.com/alice/.Real/maildirfolder"
	mkbox "$D/s1/example.com/bob" 2
	ok discover
}

t_import_parent_after_child() {
	two_boxes
	csv dom.csv "dom@example.com,s1,example.com,0,0"
	refused "line 2: 'example.com' for account 'dom@example.com' on slice 's1' contains the mailbox of account 'alice@example.com' ('example.com/alice')" \
	    account import dom.csv
	expect_err "nothing was imported"
	refused "contains the mailbox of account 'alice@example.com'" \
	    account import --replace dom.csv
	# Not even with --no-check, when the directories are not looked at.
	refused "contains the mailbox" account import --no-check dom.csv
}

t_import_child_after_parent() {
	fleet
	mkbox "$D/s2/example.com" 1
	csv dom.csv "dom@example.com,s2,example.com,0,0"
	ok account import dom.csv
	csv sub.csv "sub@example.com,s2,example.com/alice/.Real,0,0"
	refused "line 2: 'example.com/alice/.Real' for account 'sub@example.com' on slice 's2' lies inside the mailbox of account 'dom@example.com' ('example.com')" \
	    account import sub.csv
	refused "lies inside the mailbox of account 'dom@example.com'" \
	    account import --no-check sub.csv
	# The same directory under another slice's root is fine.
	ok account import --no-check - <<-CSV
	user,slice,path,bytes,files
	sub@example.com,s1,example.com/alice/.Real,0,0
	CSV
}

t_import_nesting_in_one_file() {
	fleet
	csv a.csv "alice@example.com,s1,example.com/alice,0,0" \
	    "carol@example.com,s2,example.com,0,0" \
	    "dom@example.com,s1,example.com,0,0"
	refused "line 4: 'example.com' for account 'dom@example.com' on slice 's1' contains 'example.com/alice' for account 'alice@example.com' (line 2)" \
	    account import --no-check a.csv
	csv b.csv "dom@example.com,s1,example.com,0,0" \
	    "bob@example.com,s1,example.com/bob/x,0,0"
	refused "line 3: 'example.com/bob/x' for account 'bob@example.com' on slice 's1' lies inside 'example.com' for account 'dom@example.com' (line 2)" \
	    account import --no-check b.csv
	# Paths are compared as bytes, never as patterns: '_' and '%' are
	# plain characters, and a shared name prefix is not nesting.
	ok account import --no-check - <<-CSV
	user,slice,path,bytes,files
	a@x.com,s1,x_com,0,0
	b@x.com,s1,xycom/b,0,0
	c@x.com,s1,a%,0,0
	d@x.com,s1,ab/d,0,0
	e@x.com,s1,xycom/bb,0,0
	f@x.com,s1,xycom/b_,0,0
	CSV
	[ "$(q 'SELECT count(*) FROM accounts')" = 6 ] || fail "not all imported"
}

t_import_replace() {
	two_boxes
	csv r.csv "bob@example.com,s1,example.com/alice/.Real,0,0"
	refused "'example.com/alice/.Real' for account 'bob@example.com' on slice 's1' lies inside the mailbox of account 'alice@example.com' ('example.com/alice')" \
	    account import --replace r.csv
	csv r2.csv "alice@example.com,s1,example.com,0,0"
	refused "'example.com' for account 'alice@example.com' on slice 's1' contains the mailbox of account 'bob@example.com' ('example.com/bob')" \
	    account import --replace --no-check r2.csv
	# An account the same file places elsewhere no longer counts where
	# the catalog has it now.
	mkbox "$D/s2/example.com" 1
	ok account import --replace - <<-CSV
	user,slice,path,bytes,files
	alice@example.com,s2,example.com,0,0
	bob@example.com,s1,example.com,0,0
	CSV
	[ "$(q "SELECT path FROM accounts WHERE \"user\" = 'bob@example.com'")" = example.com ] ||
	    fail "bob not re-placed"
}

t_move_target_nests() {
	two_boxes
	mkbox "$D/s2/example.com" 1
	csv dom.csv "dom@example.com,s2,example.com,0,0"
	ok account import dom.csv
	refused "the target mailbox of 'alice@example.com' on slice 's2' ('example.com/alice') lies inside the mailbox of account 'dom@example.com' ('example.com'); choose another slice" \
	    move alice@example.com --to s2 --wait
	[ ! -e "$D/s2/example.com/alice" ] || fail "something was copied"
	[ -z "$(q 'SELECT id FROM moves')" ] || fail "a move was queued"
}

t_move_source_not_maildir() {
	fleet
	move_conf
	mkdir -p "$D/s1/example.com/dom/sub"
	csv dom.csv "dom@example.com,s1,example.com/dom,0,0"
	ok account import dom.csv
	refused "the source mailbox of 'dom@example.com' ($D/s1/example.com/dom) is not a Maildir (no cur/ and new/)" \
	    move dom@example.com --to s2 --wait
	[ ! -e "$D/s2/example.com" ] || fail "something was copied"
}

t_move_source_checked_at_start() {
	two_boxes
	cp -a "$D/s1/example.com" "$D/orig"
	ok move alice@example.com --to s2
	# A catalog from before the checks: an account inside alice's.
	now=$(date +%s)
	q "INSERT INTO accounts (\"user\", slice_id, path, created, updated)
	    SELECT 'sub@example.com', id, 'example.com/alice/.Real', $now,
	    $now FROM slices WHERE name = 's1'"
	ms moves run
	expect_rc 1
	expect_err "the source mailbox of 'alice@example.com' on slice 's1' ('example.com/alice') contains the mailbox of account 'sub@example.com' ('example.com/alice/.Real')"
	[ "$(q 'SELECT state FROM moves WHERE id = 1')" = failed ] ||
	    fail "move not failed"
	same_tree "$D/orig" "$D/s1/example.com"
	# A source that stopped being a Maildir after it was queued.
	q "DELETE FROM accounts WHERE \"user\" = 'sub@example.com'"
	ok move bob@example.com --to s2
	rm -r "$D/s1/example.com/bob/cur"
	ms moves run
	expect_rc 1
	expect_err "the source mailbox of 'bob@example.com' ($D/s1/example.com/bob) is not a Maildir"
	[ ! -e "$D/s1/.mailshift-retired" ] || fail "a source was retired"
}

t_restore_into_a_mailbox() {
	fleet
	move_conf retention.archive=zstd
	mkbox "$D/s1/example.com/alice" 3
	mkbox "$D/s1/example.com/bob" 2
	ok discover
	ok move alice@example.com --to s2 --wait
	A="$D/s1/.mailshift-retired/1-alice@example.com.tar.zst"
	[ -f "$A" ] || fail "no archive"
	refused "--to $D/s1/example.com/bob: $D/s1/example.com/bob/alice@example.com would lie inside the mailbox of account 'bob@example.com' (slice 's1', 'example.com/bob'); restore into a directory outside every mailbox" \
	    account restore alice@example.com --from-archive "$A" --to "$D/s1/example.com/bob"
	[ ! -e "$D/s1/example.com/bob/alice@example.com" ] || fail "restored into bob"
	# Also through a symlink to it, and into alice's own new home.
	ln -s "$D/s1/example.com/bob" "$D/link"
	refused "mailbox of account 'bob@example.com'" \
	    account restore alice@example.com --from-archive "$A" --to "$D/link"
	refused "mailbox of account 'alice@example.com'" \
	    account restore alice@example.com --from-archive "$A" --to "$D/s2/example.com/alice"
	# Beside the mailboxes is fine.
	ok account restore alice@example.com --from-archive "$A" --to "$D/s1/example.com"
	[ -d "$D/s1/example.com/alice@example.com/cur" ] || fail "not restored"
}

t_discover_nesting() {
	fleet
	mkbox "$D/s1/example.com/alice" 1
	mkbox "$D/s1/example.com" 1
	csv dom.csv "dom@example.com,s1,example.com,0,0"
	ok account import dom.csv
	ms discover s1
	expect_rc 1
	expect_err "conflict: slice s1: example.com/alice: account alice@example.com not recorded: its mailbox lies inside the mailbox of account dom@example.com ('example.com')"
	[ -z "$(q "SELECT id FROM accounts WHERE \"user\" = 'alice@example.com'")" ] ||
	    fail "alice recorded"
}

# Parent and child imported in both orders, one after the other and two
# processes at once: never both in the catalog.
t_nesting_race() {
	fleet
	csv p.csv "dom@example.com,s1,example.com,0,0"
	csv c.csv "alice@example.com,s1,example.com/alice,0,0"
	i=0
	while [ "$i" -lt 30 ]; do
		q "DELETE FROM accounts"
		if [ $((i % 3)) = 0 ]; then
			"$MS" account import --no-check p.csv >/dev/null 2>&1
			"$MS" account import --no-check c.csv >/dev/null 2>&1
		elif [ $((i % 3)) = 1 ]; then
			"$MS" account import --no-check c.csv >/dev/null 2>&1
			"$MS" account import --no-check p.csv >/dev/null 2>&1
		else
			"$MS" account import --no-check p.csv >/dev/null 2>&1 &
			"$MS" account import --no-check c.csv >/dev/null 2>&1 &
			wait
		fi
		n=$(q "SELECT count(*) FROM accounts")
		[ "$n" = 1 ] || fail "round $i: $n accounts: $(q 'SELECT "user", path FROM accounts')"
		i=$((i + 1))
	done
	i=0
	while [ "$i" -lt 30 ]; do
		q "DELETE FROM accounts"
		"$MS" account import --no-check p.csv >/dev/null 2>&1 &
		"$MS" account import --no-check c.csv >/dev/null 2>&1 &
		wait
		n=$(q "SELECT count(*) FROM accounts")
		[ "$n" = 1 ] || fail "concurrent round $i: $n accounts"
		i=$((i + 1))
	done
}

# Held moves of alice, cancelled: one to s2, then one to s3.
cancelled_copies() {
	fleet
	move_conf
	mkbox "$D/s1/example.com/alice" 5
	ok discover
	ok move alice@example.com --to s2 --wait --hold
	ok moves cancel 1
	expect_out "move 1 cancelled; the copy on slice s2 ($D/s2/example.com/alice) is kept: 'mailshift move alice@example.com --to s2' takes it up, or remove it"
}

t_cancelled_copy_taken_up() {
	cancelled_copies
	ok move alice@example.com --to s3 --wait --hold
	ok moves cancel 2
	ms discover
	expect_rc 1
	expect_err "leftover: slice s2: example.com/alice: the copy of account alice@example.com that move 1 (cancelled) left; the account lives on slice 's1'. Resume with 'mailshift move alice@example.com --to s2'"
	expect_err "or remove it with rm -rf '$D/s2/example.com/alice'"
	expect_err "leftover: slice s3: example.com/alice: the copy of account alice@example.com that move 2 (cancelled) left"
	if grep -q -- "--replace" "$D/err"; then
		fail "discover suggests import --replace: $(cat "$D/err")"
	fi
	ms --json discover s2
	expect_rc 1
	json_check 'j["slices"][0]["leftover"] == 1 and j["slices"][0]["conflicts"] == 0 and j["problems"] == 1'
	# Not the last move of alice, still hers: a move to s2 takes it up.
	echo late >"$D/s1/example.com/alice/new/late.M2P2.host"
	ok move alice@example.com --to s2 --wait
	expect_out "move 3 done"
	[ -f "$D/s2/example.com/alice/new/late.M2P2.host" ] || fail "copy not brought up to date"
	ok account show alice@example.com --json
	json_check 'j["slice"] == "s2"'
}

t_failed_copy_taken_up() {
	fleet
	move_conf
	mkbox "$D/s1/example.com/alice" 5
	ok discover
	ok move alice@example.com --to s2 --wait --hold
	ms moves cancel 1
	q "UPDATE moves SET state = 'failed', error = 'test' WHERE id = 1"
	ms discover s2
	expect_err "the copy of account alice@example.com that move 1 (failed) left"
	ok move alice@example.com --to s2 --wait
	expect_out "move 2 done"
}

t_stray_copy_not_taken_up() {
	# A directory where a move of alice once had its source, and was
	# retired from, is not a copy of hers: it is still refused.
	fleet
	move_conf
	mkbox "$D/s1/example.com/alice" 5
	ok discover
	ok move alice@example.com --to s2 --wait
	# The placeholder the move left, replaced by hand with a mailbox.
	grep -q '^mailshift-moved move=1 ' "$D/s1/example.com/alice" ||
	    fail "no placeholder at the old path"
	rm "$D/s1/example.com/alice"
	mkbox "$D/s1/example.com/alice" 1
	refused "already exists on slice 's1' and is not a copy of an earlier move" \
	    move alice@example.com --to s1 --wait
	ms discover s1
	expect_err "conflict: slice s1: example.com/alice: account alice@example.com is also here"
}

t "import: a parent of a catalog account is refused" t_import_parent_after_child
t "import: a child of a catalog account is refused" t_import_child_after_parent
t "import: nesting rows in one file, no pattern matching" t_import_nesting_in_one_file
t "import --replace: nesting refused, re-placed accounts do not count" t_import_replace
t "move: a target inside another account is refused" t_move_target_nests
t "move: a source that is not a Maildir is refused" t_move_source_not_maildir
t "move: the source is checked again when the move starts" t_move_source_checked_at_start
t "restore --to: never into an account's mailbox" t_restore_into_a_mailbox
t "discover: an account inside another is not recorded" t_discover_nesting
t "nested imports in both orders and at once: never both" t_nesting_race
t "a cancelled move's copy: discover names it, a later move takes it up" t_cancelled_copy_taken_up
t "a failed move's copy is taken up" t_failed_copy_taken_up
t "a directory that was a source is not taken up" t_stray_copy_not_taken_up
done_testing
