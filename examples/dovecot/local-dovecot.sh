#!/bin/sh
# A throw-away Dovecot on loopback that follows a mailshift catalog, set up
# with the files of this directory: for the demo and the integration tests,
# and to try the configuration before putting it on an access server.
#
#   local-dovecot.sh start [--logins[=CONNECT]] DIR CATALOG PASSWORD USER...
#       (CATALOG: an SQLite file, or a PostgreSQL conninfo: the pgsql
#       userdb and gate are used then)
#       writes DIR/dovecot.conf (own base_dir, free high ports, a
#       passwd-file passdb for USERs with PASSWORD in front of the lock
#       gate), starts Dovecot and prints IMAP=port LMTP=port CONF=file.
#       --logins: IMAP logins are counted in the catalog too
#       (conf.d/96-mailshift-logins.conf), on PostgreSQL through CONNECT
#       when given (a role that may only write dovecot_logins), else
#       CATALOG; on SQLite the catalog file, its -wal and -shm and their
#       directory are made writable by the group dovecot for the dict.
#   local-dovecot.sh stop DIR
#
# Mailboxes must belong to a user Dovecot accepts (not root), and the path
# to them must be searchable by that user.
set -eu

here=$(cd "$(dirname "$0")" && pwd)

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The last_login plugin's files in $1 for catalog $2; $3 is the dict's
# conninfo on PostgreSQL, or "yes" for the catalog's.
logins_files() {
	d=$1 cat=$2 connect=$3
	case "$cat" in
	postgres://* | postgresql://* | [a-z]*=*)
		[ "$connect" = yes ] && connect=$cat
		sed "s|^connect = .*|connect = \"$connect\"|" \
		    "$here/dovecot-dict-pgsql-mailshift-logins.conf.ext" \
		    >"$d/dovecot-dict-pgsql-mailshift-logins.conf.ext"
		sed -e "s|/etc/dovecot/|$d/|" -e '/= sqlite:/d' \
		    -e 's|^  #mailshift_logins = pgsql|  mailshift_logins = pgsql|' \
		    "$here/conf.d/96-mailshift-logins.conf" \
		    >"$d/96-mailshift-logins.conf"
		;;
	*)
		sed "s|/var/lib/mailshift/catalog.db|$cat|" \
		    "$here/dovecot-dict-sql-mailshift-logins.conf.ext" \
		    >"$d/dovecot-dict-sql-mailshift-logins.conf.ext"
		sed "s|/etc/dovecot/|$d/|" \
		    "$here/conf.d/96-mailshift-logins.conf" \
		    >"$d/96-mailshift-logins.conf"
		# The dict process (user dovecot) writes the catalog.
		chgrp dovecot "$(dirname "$cat")" "$cat"*
		chmod g+w "$(dirname "$cat")" "$cat"*
		;;
	esac
}

start() {
	logins=
	case "$1" in
	--logins) logins=yes; shift ;;
	--logins=*) logins=${1#--logins=}; shift ;;
	esac
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
	: >"$dir/96-mailshift-logins.conf"
	if [ -n "$logins" ]; then
		logins_files "$dir" "$catalog" "$logins"
	fi
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
!include $dir/96-mailshift-logins.conf
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
	case "${2:-}" in --logins*) n=6 ;; *) n=5 ;; esac
	[ $# -ge $n ] || { echo "usage: $0 start [--logins[=CONNECT]] DIR" \
	    "CATALOG PASSWORD USER..." >&2; exit 2; }
	shift
	start "$@"
	;;
stop)
	[ $# -eq 2 ] || { echo "usage: $0 stop DIR" >&2; exit 2; }
	doveadm -c "$2/dovecot.conf" stop >/dev/null 2>&1 || true
	;;
*)
	echo "usage: $0 start [--logins[=CONNECT]] DIR CATALOG PASSWORD" \
	    "USER... | stop DIR" >&2
	exit 2
	;;
esac
