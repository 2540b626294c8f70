# Discovery on generated Maildir++ trees: exact totals against the
# generator's own manifest, maildirsize trust, incremental runs, import.
. "$(dirname "$0")/lib.sh"

# Sum of files and bytes per account from a manifest, as "user files bytes".
manifest_rows() {
	awk -F '\t' '$1 != "total" { print $1, $3, $4 }' "$1" | sort
}

t_exact_totals() {
	fleet
	"$GEN" --accounts 100 --messages 2000 --min-size 300 --max-size 8192 \
	    --seed 7 --maildirsize-mix --manifest "$D/manifest" "$D/s1" \
	    >/dev/null || fail "generator failed"
	ok discover s1
	ok --json account list --slice s1
	python3 -c 'import json,sys
j = json.load(open(sys.argv[1]))
for a in sorted(j, key=lambda a: a["user"]):
    print(a["user"], a["files"], a["bytes"])' "$D/out" >"$D/found"
	manifest_rows "$D/manifest" >"$D/expected"
	diff "$D/expected" "$D/found" >"$D/diff" ||
	    fail "discover disagrees with the manifest: $(head "$D/diff")"
	[ "$(wc -l <"$D/found")" -eq 100 ] || fail "not 100 accounts"
	total=$(awk -F '\t' '$1 == "total" { print $3, $4 }' "$D/manifest")
	ok --json slice show s1
	json_check '(j["files"], j["used"]) == tuple(int(x) for x in "'"$total"'".split())'
	[ "${total%% *}" -eq 200000 ] || fail "manifest total is not 200000"
	# Only the "good" maildirsize variant (every fifth account) is trusted.
	ok --json account list --slice s1
	json_check 'sum(a["size_source"] == "maildirsize" for a in j) == 20'
}

t_incremental() {
	fleet
	"$GEN" --accounts 12 --messages 20 --seed 3 --max-size 4096 "$D/s1" \
	    >/dev/null || fail "generator failed"
	"$GEN" --accounts 5 --messages 20 --seed 4 --prefix other \
	    --max-size 4096 "$D/s2" >/dev/null || fail "generator failed"
	ok discover
	ok --json discover
	json_check 'sum(s["added"] for s in j["slices"]) == 0 and sum(s["updated"] for s in j["slices"]) == 17'
	ok account list --json
	json_check 'len(j) == 17'
	[ "$(q 'SELECT count(*) FROM snapshots')" -eq 6 ] ||
	    fail "expected one usage snapshot per slice and run"
}

t_conflict_two_slices() {
	fleet
	"$GEN" --accounts 3 --messages 5 --seed 5 --max-size 2048 "$D/s1" \
	    >/dev/null || fail "generator failed"
	"$GEN" --accounts 1 --messages 5 --seed 5 --max-size 2048 "$D/s2" \
	    >/dev/null || fail "generator failed"
	ms discover
	expect_rc 1
	expect_err "conflict: slice s1: example.net/user0001"
	expect_err "conflict: slice s2: example.net/user0001"
	ok account list --json
	json_check 'len(j) == 2 and "user0001@example.net" not in [a["user"] for a in j]'
}

t_import_csv() {
	fleet
	"$GEN" --accounts 50 --messages 3 --seed 9 --max-size 1024 \
	    --manifest "$D/manifest" --csv "$D/s1.csv" --slice s1 "$D/s1" \
	    >/dev/null || fail "generator failed"
	ok account import "$D/s1.csv"
	expect_out "imported 50 rows: 50 added, 0 updated, 0 unchanged"
	ok account import - <"$D/s1.csv"
	expect_out "50 unchanged"
	# Import and discover agree on every account.
	ok --json discover --count s1
	json_check 'j["slices"][0]["updated"] == 50 and j["slices"][0]["added"] == 0'
	ok --json account list
	python3 -c 'import json,sys
for a in sorted(json.load(open(sys.argv[1])), key=lambda a: a["user"]):
    print(a["user"], a["files"], a["bytes"])' "$D/out" >"$D/found"
	manifest_rows "$D/manifest" >"$D/expected"
	diff "$D/expected" "$D/found" >/dev/null || fail "sizes differ"
}

t_import_all_or_nothing() {
	fleet
	{
		echo "user,slice,path,bytes,files"
		i=0
		while [ $i -lt 500 ]; do
			echo "u$i@example.com,s$((i % 3 + 1)),example.com/u$i,$i,1"
			i=$((i + 1))
		done
		echo "u7@example.com,s2,example.com/u7b,1,1"
	} >"$D/in.csv"
	before=$(catalog_sum)
	ms account import "$D/in.csv"
	expect_rc 1
	expect_err "line 502: account 'u7@example.com' appears again (first on line 9)"
	[ "$(catalog_sum)" = "$before" ] || fail "catalog changed"
	sed -i '$d' "$D/in.csv"
	ok account import "$D/in.csv"
	expect_out "500 added"
	expect_out "500 mailbox directories do not exist yet"
	printf 'user,slice,path,bytes,files\nu1@example.com,s3,example.com/u1,1,1\n' >"$D/move.csv"
	before=$(catalog_sum)
	ms account import "$D/move.csv"
	expect_rc 1
	expect_err "already placed on slice 's2'"
	[ "$(catalog_sum)" = "$before" ] || fail "catalog changed"
	ok account import --replace "$D/move.csv"
	ok route u1@example.com --json
	json_check 'j["slice"] == "s3" and j["generation"] == 2'
	printf 'user,slice,path\n' >"$D/hdr.csv"
	ms account import "$D/hdr.csv"
	expect_rc 1
	expect_err "line 1: header must be 'user,slice,path,bytes,files'"
}

t_control_char_names() {
	fleet
	mkbox "$D/s1/example.com/alice" 1
	nl=$(printf 'bad\nname')
	tab=$(printf 'tab\there')
	mkbox "$D/s1/example.com/$nl" 1
	mkbox "$D/s1/$tab/bob" 1
	printf 'x' >"$D/s1/example.com/$(printf 'file\tname')"
	ms --json discover s1
	expect_rc 1
	expect_err 'refused: slice s1: example.com/bad\x0aname: name has control characters'
	expect_err 'refused: slice s1: tab\x09here: name has control characters'
	expect_err "2 problems need attention"
	[ "$(grep -c '^mailshift: ' "$D/err")" -eq 3 ] ||
	    fail "expected two refusals and the summing-up: $(cat "$D/err")"
	json_check 'j["slices"][0]["refused"] == 2 and j["slices"][0]["added"] == 1'
	ok account list --json
	json_check '[a["user"] for a in j] == ["alice@example.com"]'
}

t "discover 100 accounts x 2000 messages: exact totals" t_exact_totals
t "a second discover updates, adds nothing" t_incremental
# A stray copy of an account (a mailbox a late delivery made at an old
# path) holding a message its home lacks: discover never advises removing
# it, it names the carry command; that command copies the message into
# the home and leaves the copy as it is; then the advice is the usual one.
t_stray_copy_carried() {
	fleet
	"$GEN" --accounts 1 --messages 5 --seed 5 --max-size 2048 "$D/s1" \
	    >/dev/null || fail "generator failed"
	ok discover
	H="$D/s1/example.net/user0001"
	X="$D/s2/example.net/user0001"
	mkdir -p "$X/cur" "$X/new" "$X/tmp"
	cp -a "$H/cur/." "$X/cur/"
	printf 'Message-ID: <stray@x>\n\nstray\n' >"$X/new/1800000000.M1P1.stray"
	ms discover s2
	expect_err "holds 1 message(s) that home lacks"
	expect_err "mailshift account carry user0001@example.net s2 example.net/user0001"
	! grep -qF "remove the stray copy" "$D/err" || fail "advises removing it: $(cat "$D/err")"
	find "$X" -printf '%P %s %T@\n' | sort >"$D/before"
	ok account carry user0001@example.net s2 example.net/user0001
	expect_out "carried new/1800000000.M1P1.stray as new/1800000000.M1P1.stray"
	expect_out "1 message(s) carried to the home of user0001@example.net"
	grep -q '^stray$' "$H/new/1800000000.M1P1.stray" || fail "not carried"
	find "$X" -printf '%P %s %T@\n' | sort >"$D/after"
	cmp -s "$D/before" "$D/after" || fail "the stray copy changed"
	[ "$(q "SELECT count(*) FROM events WHERE kind = 'account.carry'")" = 1 ] ||
	    fail "no event"
	ms discover s2
	expect_err "it holds no message that home lacks"
	# Wrong input changes nothing.
	ms account carry nobody@example.net s2 example.net/user0001
	expect_rc 1
	ms account carry user0001@example.net s9 example.net/user0001
	expect_rc 1
	ms account carry user0001@example.net s2 ../s1/example.net/user0001
	expect_rc 1
	ms account carry user0001@example.net s1 example.net/user0001
	expect_rc 1
	expect_err "is the home of 'user0001@example.net' itself"
	ms account carry user0001@example.net s2
	expect_rc 2
	[ "$(q "SELECT count(*) FROM events WHERE kind = 'account.carry'")" = 1 ] ||
	    fail "a refused carry recorded something"
}

t "an account on two slices is a conflict, not a guess" t_conflict_two_slices
t "a stray copy with mail the home lacks: discover names the carry; carry copies it" \
    t_stray_copy_carried
t "import the generator's CSV; discover agrees" t_import_csv
t "import is all or nothing and names the line" t_import_all_or_nothing
t "names with control characters are refused and reported" t_control_char_names
done_testing
