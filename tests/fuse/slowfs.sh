# Shell helpers around slowfs.py (sourced by the health tests and bench):
# mount a slow passthrough filesystem over a real directory, change its
# delay, and take every mount down again, hung ones included.
#
#   slowfs_usable            0 when FUSE mounts can be made here; else
#                            1 with the reason in $SLOWFS_WHY
#   slowfs_mount REAL MNT CTL MS
#                            MNT shows REAL with MS ms on every operation
#   slowfs_set CTL MS|hang   a new delay (taken up within 50 ms)
#   slowfs_cleanup           every mount made here: delay 0, unmounted
#                            (lazily when busy), its process gone
#
# The mounts made are listed in $SLOWFS_LIST ("pid mountpoint control"
# lines); set it before the first mount when a subshell mounts and its
# parent must be able to clean up.

# The sourcing script sets SLOWFS_PY, the path of slowfs.py.
: "${SLOWFS_PY:?set SLOWFS_PY to tests/fuse/slowfs.py}"
# Debian's python3, which has python3-fusepy (another may come first on
# PATH).
SLOWFS_PYTHON=${SLOWFS_PYTHON:-/usr/bin/python3}
SLOWFS_WHY=

slowfs_usable() {
	if [ ! -c /dev/fuse ]; then
		SLOWFS_WHY="no /dev/fuse"
	elif [ "$(id -u)" != 0 ]; then
		SLOWFS_WHY="not root"
	elif ! command -v fusermount >/dev/null 2>&1; then
		SLOWFS_WHY="no fusermount (Debian package fuse)"
	elif ! "$SLOWFS_PYTHON" -c 'import fusepy' >/dev/null 2>&1; then
		SLOWFS_WHY="$SLOWFS_PYTHON cannot import fusepy (Debian package python3-fusepy)"
	else
		return 0
	fi
	return 1
}

# Is $1 a FUSE mount point now?
slowfs_mounted() {
	awk -v m="$1" '$2 == m && $3 ~ /^fuse/ { found = 1 } END { exit !found }' \
	    /proc/mounts
}

slowfs_mount() {
	: "${SLOWFS_LIST:=${TMPDIR:-/tmp}/slowfs.$$.list}"
	mkdir -p "$1" "$2"
	set -- "$1" "$(realpath "$2")" "$3" "$4"
	echo "$4" >"$3"
	"$SLOWFS_PYTHON" "$SLOWFS_PY" "$1" "$2" "$3" \
	    >>"$3.log" 2>&1 </dev/null &
	echo "$! $2 $3" >>"$SLOWFS_LIST"
	n=0
	while ! slowfs_mounted "$2"; do
		n=$((n + 1))
		if [ "$n" -gt 100 ] || ! kill -0 $! 2>/dev/null; then
			echo "slowfs: $2 not mounted: $(cat "$3.log")" >&2
			return 1
		fi
		sleep 0.1
	done
}

slowfs_set() {
	echo "$2" >"$1.new" && mv "$1.new" "$1"
}

slowfs_cleanup() {
	[ -n "${SLOWFS_LIST:-}" ] && [ -f "$SLOWFS_LIST" ] || return 0
	# Nothing may stay blocked in a mount: every delay to 0 first.
	while read -r pid mnt ctl; do
		echo 0 >"$ctl" 2>/dev/null
	done <"$SLOWFS_LIST"
	sleep 0.1
	while read -r pid mnt ctl; do
		if slowfs_mounted "$mnt"; then
			fusermount -u -q "$mnt" 2>/dev/null ||
			    umount -l "$mnt" 2>/dev/null ||
			    echo "slowfs: cannot unmount $mnt" >&2
		fi
		n=0
		while kill -0 "$pid" 2>/dev/null && [ "$n" -lt 30 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		kill "$pid" 2>/dev/null
	done <"$SLOWFS_LIST"
	rm -f "$SLOWFS_LIST"
}
