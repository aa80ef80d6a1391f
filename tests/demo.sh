#!/bin/sh
# tests/demo.sh [start|stop]: what `make demo` and `make demo-stop` run.
#
# start: installs the build in build/ into demo/home (under the repository,
# git-ignored), sets up the virtual domain demo.postern.test with one mailbox,
# starts s6-svscan on demo/home/service in the background (its pid in
# demo/svscan.pid), waits until postern is ready, sends one message with the
# installed sendmail, waits for it to land, and says where it is and how to
# send more.  Running it again re-installs, restarts the services on the new
# programs and sends another message.
# stop: stops the s6-svscan that start started (by its pid file) and with it
# every postern process of the demo.
set -u
me=demo
cd "$(dirname "$0")/.." || exit 111
SRC=$(pwd -P)
DEMO=$SRC/demo
PIDFILE=$DEMO/svscan.pid
DOMAIN=demo.postern.test
SMTPPORT=2525
POP3PORT=1100
POP3SPORT=9950
SUBMISSIONPORT=5870
SMTPSPORT=4650
BUILD=${POSTERN_BUILD:-$SRC/build}

die() { echo "$me: fatal: $*" >&2; exit 111; }
say() { echo "$me: $*"; }

# postern's users must be able to walk down to the home; a repository under
# a private directory (e.g. /root) cannot hold it, so the demo moves out.
searchable() {
	d=$1
	while [ -n "$d" ]; do
		perm=$(stat -L -c '%a' -- "$d") || return 1
		[ $((0$perm & 1)) -eq 1 ] || return 1
		d=${d%/*}
	done
}
mkdir -p "$DEMO" || die "cannot create $DEMO"
if [ -f "$DEMO/home-path" ]; then
	PHOME=$(cat "$DEMO/home-path")
elif searchable "$DEMO"; then
	PHOME=$DEMO/home
else
	PHOME=/var/tmp/postern-demo-$(printf '%s' "$SRC" | cksum | cut -d' ' -f1)/home
	say "$SRC is not reachable by postern's users; the demo lives in $PHOME"
fi
BOX=$PHOME/vmail/$DOMAIN/demo/Maildir

running() { # the pid in the pid file is our s6-svscan on this home
	[ -f "$PIDFILE" ] || return 1
	pid=$(cat "$PIDFILE")
	case $pid in ''|*[!0-9]*) return 1 ;; esac
	[ "$(cat "/proc/$pid/comm" 2> /dev/null)" = s6-svscan ] || return 1
	tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q " $PHOME/service" || return 1
}

stop() {
	if ! running; then
		say "not running"
		rm -f "$PIDFILE"
		return 0
	fi
	s6-svscanctl -t "$PHOME/service" || kill "$pid"
	i=0
	while kill -0 "$pid" 2> /dev/null; do
		i=$((i + 1))
		if [ "$i" -gt 200 ]; then
			say "s6-svscan $pid still running after 20 s: killing it"
			kill -9 "$pid"
			break
		fi
		sleep 0.1
	done
	rm -f "$PIDFILE"
	say "stopped (s6-svscan $pid and its services)"
}

wait_up() { # service seconds
	dir=$PHOME/service/$1
	i=0
	# s6-supervise holds its lock (s6-svok) a moment before it writes
	# supervise/status, which s6-svwait reads and fails without
	until s6-svok "$dir" 2> /dev/null && [ -f "$dir/supervise/status" ]; do
		i=$((i + 1))
		[ "$i" -le $(($2 * 10)) ] || return 1
		sleep 0.1
	done
	if [ -f "$dir/notification-fd" ]; then
		s6-svwait -U -t $(($2 * 1000)) "$dir"
	else
		s6-svwait -u -t $(($2 * 1000)) "$dir"
	fi
}

newcount() { find "$BOX/new" -mindepth 1 -maxdepth 1 -type f 2> /dev/null | wc -l; }

start() {
	[ "$(id -u)" = 0 ] || die "run as root: it installs (users, setuid postern-queue) and starts services"
	[ -x "$BUILD/bin/postern-start" ] || die "no $BUILD/bin/postern-start: run make first"
	"$SRC/install" --home "$PHOME" --build "$BUILD" > "$DEMO/install.log" 2>&1 ||
		{ cat "$DEMO/install.log"; die "./install failed"; }
	printf '%s\n' "$PHOME" > "$DEMO/home-path"
	say "installed into $PHOME ($(tail -n 1 "$DEMO/install.log" | sed 's/^install: [^:]*: //'))"

	# The demo is this home's admin: a virtual domain with one mailbox.
	grep -qx "$DOMAIN" "$PHOME/control/virtualdomains" 2> /dev/null ||
		printf '%s\n' "$DOMAIN" > "$PHOME/control/virtualdomains"
	grep -qx localhost "$PHOME/control/locals" 2> /dev/null ||
		printf 'localhost\n%s\n' "$(hostname)" > "$PHOME/control/locals"
	mkdir -p "$BOX/tmp" "$BOX/new" "$BOX/cur" &&
		chown -R postern-vmail:postern-nofiles "$PHOME/vmail/$DOMAIN" &&
		chmod -R u=rwX,go= "$PHOME/vmail/$DOMAIN" || die "cannot create $BOX"
	# SMTP on a port of its own: the demo must not take this machine's port 25.
	if [ -d "$PHOME/service/postern-smtpd" ]; then
		grep -qx "$SMTPPORT" "$PHOME/control/smtpport" 2> /dev/null ||
			printf '%s\n' "$SMTPPORT" > "$PHOME/control/smtpport"
	fi
	# Mail submission (587, 465) on ports of their own too.
	if [ -d "$PHOME/service/postern-submission" ]; then
		grep -qx "$SUBMISSIONPORT" "$PHOME/control/submissionport" 2> /dev/null ||
			printf '%s\n' "$SUBMISSIONPORT" > "$PHOME/control/submissionport"
		grep -qx "$SMTPSPORT" "$PHOME/control/smtpsport" 2> /dev/null ||
			printf '%s\n' "$SMTPSPORT" > "$PHOME/control/smtpsport"
	fi
	# POP3 on a port of its own too, and a password for the mailbox, made
	# once and kept in demo/pop3-password (the login is demo@DOMAIN): the
	# mailbox's password for POP3 and for mail submission alike.
	if [ -x "$PHOME/bin/postern-passwd" ]; then
		grep -qx "$POP3PORT" "$PHOME/control/pop3port" 2> /dev/null ||
			printf '%s\n' "$POP3PORT" > "$PHOME/control/pop3port"
		grep -qx "$POP3SPORT" "$PHOME/control/pop3sport" 2> /dev/null ||
			printf '%s\n' "$POP3SPORT" > "$PHOME/control/pop3sport"
		[ -s "$DEMO/pop3-password" ] ||
			(umask 077 && head -c 12 /dev/urandom | base64 | tr -d '/+=' > "$DEMO/pop3-password") ||
			die "cannot make a POP3 password"
		"$PHOME/bin/postern-passwd" set "demo@$DOMAIN" < "$DEMO/pop3-password" > "$DEMO/passwd.log" 2>&1 ||
			{ cat "$DEMO/passwd.log"; die "postern-passwd failed"; }
	fi
	# DKIM keys for the demo domain (made once, RSA and Ed25519), so that
	# what the mailbox sends by submission is signed; the DNS records a
	# real domain would publish go to demo/dkim-records.
	if [ -x "$PHOME/bin/postern-dkimkey" ]; then
		for k in rsa:demo-rsa ed25519:demo-ed; do
			sel=${k#*:}
			[ -f "$PHOME/secret/dkim/$DOMAIN/$sel" ] ||
				"$PHOME/bin/postern-dkimkey" -t "${k%%:*}" "$DOMAIN" "$sel" > /dev/null 2> "$DEMO/dkimkey.log" ||
				{ cat "$DEMO/dkimkey.log"; die "postern-dkimkey failed"; }
			grep -qx "$DOMAIN $sel" "$PHOME/control/dkimdomains" 2> /dev/null ||
				printf '%s %s\n' "$DOMAIN" "$sel" >> "$PHOME/control/dkimdomains" || die "cannot write control/dkimdomains"
		done
		{ "$PHOME/bin/postern-dkimkey" -p "$DOMAIN" demo-rsa && "$PHOME/bin/postern-dkimkey" -p "$DOMAIN" demo-ed; } \
			> "$DEMO/dkim-records" 2> "$DEMO/dkimkey.log" || { cat "$DEMO/dkimkey.log"; die "postern-dkimkey -p failed"; }
	fi
	# postern-smtpd's table of the recipients it accepts now has the mailbox.
	if [ -x "$PHOME/bin/postern-mkrcpt" ]; then
		"$PHOME/bin/postern-mkrcpt" > "$DEMO/mkrcpt.log" 2>&1 ||
			{ cat "$DEMO/mkrcpt.log"; die "postern-mkrcpt failed"; }
	fi

	if running; then
		# New programs: restart the services on them.
		s6-svscanctl -a "$PHOME/service"
		for s in "$PHOME"/service/*/; do s6-svc -r "$s" 2> /dev/null; done
		sleep 0.5
		say "s6-svscan $pid was running: services restarted"
	else
		# setsid: the demo outlives this shell and a ^C in its terminal.
		setsid s6-svscan "$PHOME/service" > "$DEMO/svscan.log" 2>&1 < /dev/null &
		echo $! > "$PIDFILE"
		sleep 0.2
		running || { cat "$DEMO/svscan.log"; die "s6-svscan did not start"; }
		say "started s6-svscan (pid $pid) on $PHOME/service"
	fi
	for s in "$PHOME"/service/*/; do
		s=${s%/}; s=${s##*/}
		if wait_up "$s" 30; then
			say "service $s is up"
		elif [ "$s" = postern-send ]; then
			die "service $s not up after 30 s: see $PHOME/log/ and $DEMO/svscan.log"
		else
			say "warning: service $s is not up after 30 s (see $PHOME/log/)"
		fi
	done

	before=$(newcount)
	msg=$DEMO/hello.txt
	printf 'To: demo@%s\nSubject: hello from postern\n\nThis message went through postern-inject, postern-queue,\npostern-send, postern-lspawn and postern-local into a Maildir.\nSent %s.\n' \
		"$DOMAIN" "$(date)" > "$msg"
	"$PHOME/bin/sendmail" "demo@$DOMAIN" < "$msg" || die "sendmail failed (exit $?)"
	say "sent a test message to demo@$DOMAIN"
	i=0
	while [ "$(newcount)" -le "$before" ]; do
		i=$((i + 1))
		if [ "$i" -gt 300 ]; then
			say "the message has not arrived after 30 s; the log says:"
			s6-tai64nlocal < "$PHOME/log/send/current" 2> /dev/null | tail -n 20
			exit 1
		fi
		sleep 0.1
	done
	f=$(ls -t "$BOX/new" | head -n 1)
	cat <<EOF

postern is running (s6-svscan pid $pid, services in $PHOME/service).
The test message landed in the Maildir
    $BOX/
as  new/$f:
$(sed 's/^/    | /' "$BOX/new/$f")

Send another:
    $PHOME/bin/sendmail demo@$DOMAIN < $msg
EOF
	if [ -d "$PHOME/service/postern-smtpd" ]; then
		cat <<EOF
or over SMTP:
    swaks --server 127.0.0.1:$SMTPPORT --to demo@$DOMAIN
or over SMTP with STARTTLS (the certificate is the self-signed one ./install
made in $PHOME/secret/tls/):
    swaks --server 127.0.0.1:$SMTPPORT --to demo@$DOMAIN --tls
EOF
	fi
	cat <<EOF
Read it:
    neomutt -f $BOX
    ls $BOX/new
EOF
	if [ -s "$DEMO/pop3-password" ]; then
		cat <<EOF
or over POP3 (the password is in $DEMO/pop3-password):
    curl -u "demo@$DOMAIN:\$(cat $DEMO/pop3-password)" pop3://127.0.0.1:$POP3PORT/1
    curl --ssl-reqd -k -u "demo@$DOMAIN:\$(cat $DEMO/pop3-password)" pop3://127.0.0.1:$POP3PORT/
    curl -k -u "demo@$DOMAIN:\$(cat $DEMO/pop3-password)" pop3s://127.0.0.1:$POP3SPORT/
EOF
	fi
	if [ -s "$DEMO/pop3-password" ] && [ -d "$PHOME/service/postern-submission" ]; then
		cat <<EOF
Send as demo@$DOMAIN, as a mail client does: mail submission with the
same password, STARTTLS and AUTH on port $SUBMISSIONPORT or implicit TLS
(--tlsc in place of --tls) on port $SMTPSPORT, to any domain (example.com
takes no mail: that message comes back to the mailbox as a bounce):
    swaks --server 127.0.0.1:$SUBMISSIONPORT --tls --auth PLAIN \\
        --auth-user demo@$DOMAIN --auth-password "\$(cat $DEMO/pop3-password)" \\
        --from demo@$DOMAIN --to someone@example.com
EOF
		if [ -s "$DEMO/dkim-records" ]; then
			cat <<EOF
What it sends is signed with DKIM (doc/dkim.md): --to demo@$DOMAIN, and the
message in the Maildir carries two DKIM-Signature fields (RSA and Ed25519);
the DNS records a real domain would publish are in $DEMO/dkim-records.
EOF
		fi
	fi
	cat <<EOF
The queue:  $PHOME/bin/mailq
The log:    s6-tai64nlocal < $PHOME/log/send/current
Stop it:    make demo-stop
EOF
}

case ${1:-start} in
start) start ;;
stop) stop ;;
*) echo "usage: tests/demo.sh [start|stop]" >&2; exit 100 ;;
esac
