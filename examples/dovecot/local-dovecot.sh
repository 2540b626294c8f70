#!/bin/sh
# A throw-away Dovecot on loopback that follows a mailshift catalog, set up
# with the files of this directory: for the demo and the integration tests,
# and to try the configuration before putting it on an access server.
#
#   local-dovecot.sh start DIR CATALOG PASSWORD USER...
#       (CATALOG: an SQLite file, or a PostgreSQL conninfo: the pgsql
#       userdb and gate are used then)
#       writes DIR/dovecot.conf (own base_dir, free high ports, a
#       passwd-file passdb for USERs with PASSWORD in front of the lock
#       gate), starts Dovecot and prints IMAP=port LMTP=port CONF=file
#   local-dovecot.sh stop DIR
#
# Mailboxes must belong to a user Dovecot accepts (not root), and the path
# to them must be searchable by that user.
set -eu

here=$(cd "$(dirname "$0")" && pwd)

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
	dir=$1 catalog=$2 password=$3
	shift 3
	mkdir -p "$dir/run" "$dir/state"
	dir=$(cd "$dir" && pwd)
	imap=$(free_port)
	lmtp=$(free_port)
	# A conninfo (or URL) is a PostgreSQL catalog: the pgsql files, with
	# their connect = line replaced by it.
	case "$catalog" in
	postgres://* | postgresql://* | [a-z]*=*)
		for f in userdb passdb; do
			sed "s|^connect = .*|connect = \"$catalog\"|" \
			    "$here/dovecot-pgsql-mailshift-$f.conf.ext" \
			    >"$dir/dovecot-sql-mailshift-$f.conf.ext"
		done
		;;
	*)
		for f in dovecot-sql-mailshift-userdb.conf.ext \
		    dovecot-sql-mailshift-passdb.conf.ext; do
			sed "s|/var/lib/mailshift/catalog.db|$catalog|" \
			    "$here/$f" >"$dir/$f"
		done
		;;
	esac
	sed "s|/etc/dovecot/|$dir/|" "$here/conf.d/95-mailshift.conf" \
	    >"$dir/95-mailshift.conf"
	: >"$dir/passwd"
	for u in "$@"; do
		echo "$u:{PLAIN}$password::::::" >>"$dir/passwd"
	done
	cat >"$dir/dovecot.conf" <<EOF
# Written by local-dovecot.sh: a Dovecot for trying mailshift out.
instance_name = mailshift-$(basename "$dir")-$$
base_dir = $dir/run
state_dir = $dir/state
protocols = imap lmtp
listen = 127.0.0.1
log_path = $dir/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $imap
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $lmtp
  }
}
# The provider's own passdb; it must end with continue-ok.
passdb {
  driver = passwd-file
  args = scheme=PLAIN $dir/passwd
  result_success = continue-ok
}
!include $dir/95-mailshift.conf
EOF
	dovecot -c "$dir/dovecot.conf"
	n=0
	until python3 -c "import socket; socket.create_connection(('127.0.0.1', $imap), 1); socket.create_connection(('127.0.0.1', $lmtp), 1)" 2>/dev/null; do
		n=$((n + 1))
		if [ $n -ge 100 ]; then
			echo "local-dovecot: Dovecot does not listen; see" \
			    "$dir/dovecot.log" >&2
			exit 1
		fi
		sleep 0.1
	done
	echo "IMAP=$imap LMTP=$lmtp CONF=$dir/dovecot.conf"
}

case "${1:-}" in
start)
	[ $# -ge 5 ] || { echo "usage: $0 start DIR CATALOG PASSWORD USER..." \
	    >&2; exit 2; }
	shift
	start "$@"
	;;
stop)
	[ $# -eq 2 ] || { echo "usage: $0 stop DIR" >&2; exit 2; }
	doveadm -c "$2/dovecot.conf" stop >/dev/null 2>&1 || true
	;;
*)
	echo "usage: $0 start DIR CATALOG PASSWORD USER... | stop DIR" >&2
	exit 2
	;;
esac
