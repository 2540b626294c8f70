# Bad input: a one-line error naming the problem, the right exit code, and
# a catalog (and mailbox) left exactly as it was.
. "$(dirname "$0")/lib.sh"

# Run a command that must fail with status $1 and error text $2, and check
# that the catalog did not change.
refused() {
	rc=$1
	text=$2
	shift 2
	before=$(catalog_sum)
	ms "$@"
	expect_rc "$rc"
	expect_one_error
	expect_err "$text"
	[ "$(catalog_sum)" = "$before" ] || fail "catalog changed by: $*"
}

t_unknown_names() {
	fleet
	refused 1 "server 'mx9' not found; see 'mailshift server list'" \
	    pair add p3 mx9 mx1
	refused 1 "pair 'p9' not found; see 'mailshift pair list'" \
	    slice add s9 --pair p9 --server mx1 --path "$D/s1" --capacity 1G
	refused 1 "server 'mx9' not found" \
	    slice add s9 --pair p1 --server mx9 --path "$D/s1" --capacity 1G
	refused 1 "slice 's9' not found; see 'mailshift slice list'" \
	    slice show s9
	refused 1 "slice 's9' not found" slice set s9 --state draining
	refused 1 "slice 's9' not found" discover s9
	refused 1 "slice 's9' not found" account list --slice s9
	refused 1 "account 'zed@example.com' not found; see 'mailshift account list'" \
	    account show zed@example.com
	refused 1 "account 'zed@example.com' not found" route zed@example.com
}

t_duplicates() {
	fleet
	refused 1 "server 'mx1' already exists" server add mx1 --address x
	refused 1 "pair 'p1' already exists" pair add p1 mx3 mx4
	ok server add mx5 --address 10.0.0.5
	refused 1 "already belongs to a pair" pair add p3 mx5 mx1
	refused 1 "slice 's1' already exists" \
	    slice add s1 --pair p1 --server mx1 --path "$D/s2" --capacity 1G
	refused 1 "is already slice 's2'" \
	    slice add s4 --pair p1 --server mx1 --path "$D/s2" --capacity 1G
	refused 1 "server 'mx3' is not in pair 'p1'" \
	    slice add s4 --pair p1 --server mx3 --path "$D/s2" --capacity 1G
}

t_usage_errors() {
	fleet
	ok server add mx5 --address 10.0.0.5
	refused 2 "a pair needs two different servers" pair add p3 mx5 mx5
	refused 2 "bad size '10X'" \
	    slice add s4 --pair p1 --server mx1 --path "$D/s1" --capacity 10X
	refused 2 "bad size '-5G'" \
	    slice add s4 --pair p1 --server mx1 --path "$D/s1" --capacity -5G
	refused 2 "capacity must be more than 0" \
	    slice add s4 --pair p1 --server mx1 --path "$D/s1" --capacity 0
	refused 2 "missing --capacity" \
	    slice add s4 --pair p1 --server mx1 --path "$D/s1"
	refused 2 "unknown state 'broken'" slice set s1 --state broken
	refused 2 "bad size" slice set s1 --capacity 1.5
	refused 2 "bad server name" server add 'bad/name' --address x
	refused 2 "missing --address" server add mx6
	refused 2 "bad address" server add mx6 --address 'a b'
}

t_slice_paths() {
	fleet
	refused 1 "slice path $D/nope does not exist" \
	    slice add s4 --pair p1 --server mx1 --path "$D/nope" --capacity 1G
	touch "$D/afile"
	refused 1 "slice path $D/afile is not a directory" \
	    slice add s4 --pair p1 --server mx1 --path "$D/afile" --capacity 1G
	# Unreadable: checked as an unprivileged user, since root reads all.
	mkdir -m 0 "$D/locked"
	chmod 0711 "$TESTROOT"
	chmod 0777 "$D"
	chmod 0666 "$D/catalog.db" "$D/catalog.db-wal" "$D/catalog.db-shm" \
	    2>/dev/null
	before=$(catalog_sum)
	RC=0
	setpriv --reuid=65534 --regid=65534 --clear-groups "$MS" slice add s4 \
	    --pair p1 --server mx1 --path "$D/locked" --capacity 1G \
	    >"$D/out" 2>"$D/err" || RC=$?
	expect_rc 1
	expect_one_error
	expect_err "slice path $D/locked is not readable"
	[ "$(catalog_sum)" = "$before" ] || fail "catalog changed"
}

t_catalog_files() {
	sqlite_only "catalog files (tests/integration/pgsql.sh has the same for schemas)"
	ms --db "$D/no/such/dir/catalog.db" init
	expect_rc 1
	expect_one_error
	expect_err "directory $D/no/such/dir does not exist; create it first"
	[ ! -e "$D/no" ] || fail "created the missing directory"

	printf 'just some text, not a database\n' >"$D/notes.txt"
	sum=$(md5sum <"$D/notes.txt")
	for cmd in init "slice list" "server add x --address y"; do
		# shellcheck disable=SC2086
		ms --db "$D/notes.txt" $cmd
		expect_rc 1
		expect_one_error
		expect_err "$D/notes.txt is not a mailshift catalog"
	done
	[ "$(md5sum <"$D/notes.txt")" = "$sum" ] || fail "file was changed"
	[ ! -e "$D/notes.txt-wal" ] || fail "a WAL file appeared"

	sqlite3 "$D/other.db" 'CREATE TABLE t (x); INSERT INTO t VALUES (1)'
	sum=$(md5sum <"$D/other.db")
	ms --db "$D/other.db" init
	expect_rc 1
	expect_err "is an SQLite database but not a mailshift catalog"
	[ "$(md5sum <"$D/other.db")" = "$sum" ] || fail "foreign db changed"

	ok init
	sqlite3 "$MAILSHIFT_DB" 'PRAGMA user_version = 42'
	ms slice list
	expect_rc 1
	expect_err "schema version 42, newer than this mailshift"
	ms --db "$D/absent.db" slice list
	expect_rc 1
	expect_err "no catalog at $D/absent.db; create one with 'mailshift init'"
}

t_mailbox_symlink_outside() {
	fleet
	mkbox "$D/outside/example.com/mallory" 2
	mkbox "$D/s1/example.com/alice" 1
	ln -s "$D/outside/example.com/mallory" "$D/s1/example.com/mallory"
	ln -s "$D/outside/example.com" "$D/s1/example.net"
	ln -s /etc "$D/s2/example.org"
	ms discover
	expect_rc 1
	expect_err "refused: slice s1: example.com/mallory: is a symlink"
	expect_err "refused: slice s1: example.net: is a symlink"
	expect_err "refused: slice s2: example.org: is a symlink"
	expect_err "3 problems need attention"
	ok account list --json
	json_check '[a["user"] for a in j] == ["alice@example.com"]'
	# Mailboxes outside the slice were not touched (not even their atime
	# matters here, but their contents must be the same).
	[ "$(ls "$D/outside/example.com/mallory/cur" | wc -l)" -eq 2 ] ||
	    fail "outside mailbox changed"
}

t_mailbox_other_filesystem() {
	[ "$(id -u)" -eq 0 ] || { echo "skip: needs root for a tmpfs"; return 0; }
	fleet
	mkdir -p "$D/s1/example.com/mounted"
	mount -t tmpfs -o size=1m tmpfs "$D/s1/example.com/mounted" ||
	    { echo "skip: cannot mount tmpfs here"; return 0; }
	mkbox "$D/s1/example.com/mounted" 1
	ms discover s1
	umount "$D/s1/example.com/mounted"
	expect_rc 1
	expect_err "example.com/mounted: lies on another filesystem"
	ok account list --json
	json_check 'j == []'
}

t_import_paths() {
	fleet
	mkbox "$D/outside/x" 1
	mkdir -p "$D/s1/example.com"
	ln -s "$D/outside/x" "$D/s1/example.com/linked"
	for row in "a@example.com,s1,../outside/x,1,1:escapes its slice" \
	    "a@example.com,s1,/etc,1,1:is absolute" \
	    "a@example.com,s1,example.com/linked,1,1:goes through a symlink" \
	    "a@example.com,s9,example.com/a,1,1:slice 's9' not found" \
	    "a b@example.com,s1,example.com/a,1,1:bad user name" \
	    "a@example.com,s1,example.com/a,-1,1:whole numbers"; do
		printf 'user,slice,path,bytes,files\nok@example.com,s1,example.com/ok,1,1\n%s\n' \
		    "${row%:*}" >"$D/in.csv"
		refused 1 "line 3: " account import "$D/in.csv"
		expect_err "${row##*:}"
		expect_err "; nothing was imported"
	done
}

# Sizes stop at 8 PiB (2^53 bytes): anything larger is a usage error that
# names the limit, and no sum in a listing or report wraps negative.
t_size_limits() {
	fleet
	for size in 9223372036854775807 9223372036854775808 1E 16E \
	    9007199254740993 8.5P; do
		refused 2 "size '$size' is too large: at most 8P (9007199254740992 bytes)" \
		    slice add s4 --pair p1 --server mx1 --path "$D/s1" \
		    --capacity "$size"
		refused 2 "size '$size' is too large: at most 8P" \
		    slice set s1 --capacity "$size"
	done
	ok slice set s1 --capacity 8P
	ok slice set s2 --capacity 9007199254740992
	ok slice set s3 --capacity 8P
	ok report usage --format csv
	awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "capacity_bytes") c = i }
	    NR > 1 && $c < 0 { bad = 1 } END { exit bad }' "$D/out" ||
	    fail "a negative capacity: $(cat "$D/out")"
	grep -q '^fleet,.*,27021597764222976,' "$D/out" ||
	    fail "fleet capacity is not 3 x 8P: $(cat "$D/out")"
	# A catalog holding capacities written before the limit: three slices
	# of 4 EiB add up past INT64_MAX; the sums stop there, never wrap.
	q "UPDATE slices SET capacity = 4611686018427387904"
	ok report usage --format csv
	awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "capacity_bytes") c = i }
	    NR > 1 && $c < 0 { bad = 1 } END { exit bad }' "$D/out" ||
	    fail "a negative capacity: $(cat "$D/out")"
	grep -q '^fleet,.*,9223372036854775807,' "$D/out" ||
	    fail "fleet capacity did not stop at INT64_MAX: $(cat "$D/out")"
	ok report usage --json
	json_check 'all(r["capacity"] >= 0 for k in j if isinstance(j[k], list) for r in j[k] if isinstance(r, dict) and "capacity" in r)'
	ok report usage --by pair --format csv
	grep -q '^pair,p1,.*,9223372036854775807,' "$D/out" ||
	    fail "pair capacity wrapped: $(cat "$D/out")"
	# An imported account larger than any size is refused.
	printf 'user,slice,path,bytes,files\na@example.com,s1,example.com/a,9007199254740993,1\n' \
	    >"$D/big.csv"
	refused 1 "more than the largest size, 8P" account import --no-check \
	    "$D/big.csv"
	# Sums the catalog cannot hold are an error, never a wrapped number.
	q "INSERT INTO accounts (\"user\", slice_id, path, bytes, files, created, updated)
	    SELECT 'u' || n || '@example.com', s.id, 'example.com/u' || n,
	    5000000000000000000, 1, 0, 0 FROM slices s,
	    (SELECT 1 AS n UNION SELECT 2) AS two WHERE s.name = 's1'"
	# SQLite says "integer overflow", PostgreSQL "bigint out of range".
	ms slice list
	expect_rc 1
	expect_one_error
	grep -q "integer overflow\|bigint out of range" "$D/err" ||
	    fail "no overflow error: $(cat "$D/err")"
	ms report usage --format csv
	expect_rc 1
	grep -q "integer overflow\|bigint out of range" "$D/err" ||
	    fail "no overflow error: $(cat "$D/err")"
}

# A slice root without its marker is not the slice (an empty mount point);
# the error says how to tell the two apart and how to mark it again.
t_slice_marker_missing() {
	fleet
	mkbox "$D/s1/example.com/alice" 1
	ok discover s1
	mv "$D/s1/.mailshift-slice" "$D/marker"
	refused 1 "slice 's1': $D/s1 has no .mailshift-slice marker" discover s1
	expect_err "mount the slice there, or if it is mounted and the marker was lost"
	expect_err "echo 'mailshift slice s1' > $D/s1/.mailshift-slice"
	cmd=$(sed -n "s/.*write it again with: //p" "$D/err")
	sh -c "$cmd" || fail "the command in the error did not run: $cmd"
	cmp "$D/marker" "$D/s1/.mailshift-slice" || fail "not the marker slice add wrote"
	ok discover s1
	ok account list --json
	json_check '[a["user"] for a in j] == ["alice@example.com"] and j[0]["state"] == "active"'
}

t "unknown server, pair, slice and account names" t_unknown_names
t "duplicate names and servers in two pairs" t_duplicates
t "usage errors exit 2: bad sizes, states, names" t_usage_errors
t "slice path missing, a file, or unreadable" t_slice_paths
t "catalog in a missing directory, non-catalog files, newer schema" t_catalog_files
t "mailbox symlinks are refused, never followed" t_mailbox_symlink_outside
t "a mailbox on another filesystem is refused" t_mailbox_other_filesystem
t "import refuses paths that escape the slice or cross a symlink" t_import_paths
t "sizes above 8P are refused; sums never wrap negative" t_size_limits
t "a slice root without its marker: the error says what to do" t_slice_marker_missing
done_testing
