# Activity per account: the messages discover finds arriving in the last
# 7 days (by the time a message's name begins with, else its mtime),
# logins from `mailshift presence`, and a move that records the activity
# of the new home. (Logins from Dovecot's last_login: dovecot.sh.)
. "$(dirname "$0")/lib.sh"

DAY=86400
NOW=$(date +%s)
U=user0001@example.net

# A message of $2 bytes at $1, with mtime $3 (a date touch -d takes) if
# given.
put() {
	head -c "$2" /dev/zero >"$1" || fail "cannot write $1"
	[ $# -lt 3 ] || touch -d "$3" "$1" || fail "cannot touch $1"
}

# A generated account (its messages years old) and, in $BOX, messages
# of known arrival: five in the last 7 days, 23064 bytes.
aged_account() {
	"$GEN" --accounts 1 --messages 40 --seed 21 --max-size 4096 "$D/$1" \
	    >/dev/null || fail "generator failed"
	BOX="$D/$1/example.net/user0001"
	mkdir -p "$BOX/.Recent/cur" "$BOX/.Recent/new" "$BOX/.Recent/tmp"
	touch "$BOX/.Recent/maildirfolder"
	# By name: 1, 2 and 3 days ago, whatever the mtime says (an IMAP
	# APPEND sets the message's date as its mtime); 9 days: too old.
	put "$BOX/new/$((NOW - DAY)).M1P1.mx1.example.net,S=1000" 1000
	put "$BOX/new/$((NOW - 2 * DAY)).M1P2.mx1.example.net,S=2000" 2000
	put "$BOX/cur/$((NOW - 3 * DAY)).M1P3.mx1.example.net,S=4000:2,S" \
	    4000 2019-06-01
	put "$BOX/cur/$((NOW - 9 * DAY)).M1P4.mx1.example.net,S=8000:2,S" \
	    8000
	# No time in the name: the mtime decides.
	put "$BOX/cur/imported-1:2,S" 16000 "@$((NOW - 2 * DAY))"
	put "$BOX/cur/imported-2:2,S" 32000 "@$((NOW - 20 * DAY))"
	put "$BOX/.Recent/cur/$((NOW - 5 * DAY)).M1P5.mx1.example.net:2,S" 64
}

# discover counts what arrived in the last 7 days, with --count and
# with a trusted maildirsize alike; a second run replaces the numbers.
t_discover_arrivals() {
	fleet
	aged_account s1
	ok --json discover --count
	json_check 'j["slices"][0]["added_files"] == 5 and j["slices"][0]["added_bytes"] == 23064'
	ok --json account show "$U"
	json_check 'j["added_files"] == 5 and j["added_bytes"] == 23064 and j["added_at"] is not None'
	json_check 'abs(j["messages_per_day"] - 5 / 7) < 1e-3 and abs(j["bytes_per_day"] - 23064 / 7) < 0.01'
	ok account show "$U"
	expect_out "messages/day   0.7 (5 arrived in the 7 days to"
	expect_out "bytes/day      3.2 KiB (22.5 KiB in those days)"
	# A maildirsize that is trusted: sizes from it, arrivals the same.
	printf '0S\n%s %s\n' 1 1 >"$BOX/maildirsize"
	ok --json discover
	json_check 'j["slices"][0]["from_maildirsize"] == 1 and j["slices"][0]["added_files"] == 5'
	ok --json account show "$U"
	json_check 'j["size_source"] == "maildirsize" and j["added_files"] == 5 and j["added_bytes"] == 23064'
	# One expunged, one aged out of the window by its mtime: a window,
	# not a running sum.
	rm "$BOX/new/$((NOW - DAY)).M1P1.mx1.example.net,S=1000"
	touch -d "@$((NOW - 8 * DAY))" "$BOX/cur/imported-1:2,S"
	touch "$BOX/maildirsize"
	ok --json discover
	ok --json account show "$U"
	json_check 'j["added_files"] == 3 and j["added_bytes"] == 6064'
}

# presence: online, offline, online is two logins; online twice in a row
# is one; account show gives them per day.
t_presence_logins() {
	fleet
	aged_account s1
	ok discover
	ok --json account show "$U"
	json_check 'j["logins"] == 0 and j["logins_since"] is None and j["logins_per_day"] == 0'
	ok account show "$U"
	expect_out "logins/day     0 (no login counted)"
	for s in online offline online online; do
		ok presence "$U" "$s"
	done
	ok --json account show "$U"
	json_check 'j["logins"] == 2 and j["logins_prev"] == 0 and j["logins_per_day"] == 2'
	[ "$(q "SELECT online FROM accounts")" = 1 ] || fail "not online"
	ok account show "$U"
	expect_out "logins/day     2.00 (2 since"
	# A week later the week turns: two logins become the week before.
	q "UPDATE accounts SET logins_since = logins_since - 7 * 86400"
	ok presence "$U" offline
	ok presence "$U" online
	[ "$(q "SELECT logins, logins_prev FROM accounts")" = "1|2" ] ||
	    fail "no weekly turn: $(q "SELECT logins, logins_prev FROM accounts")"
	ms presence nobody@example.net online
	expect_rc 1
	expect_err "account 'nobody@example.net' not found"
}

# An account the catalog has from an import (never discovered: no
# activity) is moved: after the switch its activity is the new home's.
t_move_counts_new_home() {
	fleet
	aged_account s1
	ok discover
	# As if imported: nothing counted yet.
	q "UPDATE accounts SET added_files = 0, added_bytes = 0, added_at = 0"
	ok account show "$U"
	expect_out "messages/day   not counted yet"
	move_conf
	ok move "$U" --to s2 --wait
	ok --json account show "$U"
	json_check 'j["slice"] == "s2" and j["added_files"] == 5 and j["added_bytes"] == 23064'
	ok moves show 1
	expect_out "the new home holds 5 (23064 bytes) that arrived in the last 7 days"
	# And discover of the new slice agrees.
	ok --json discover s2
	json_check 'j["slices"][0]["added_files"] == 5'
}

t "discover counts the messages that arrived in the last 7 days" \
    t_discover_arrivals
t "presence online/offline/online counts two logins, the week turns" \
    t_presence_logins
t "a move records the activity of the account's new home" \
    t_move_counts_new_home
done_testing
