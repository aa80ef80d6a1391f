# Postfix and OpenSMTPD as benchmark peers, each in its own scratch
# directory, listening on a high loopback port, delivering the bench domain
# to one test user's ~/Maildir.  Sourced by tests/bench/run.sh after
# tests/lib.sh (uses SCRATCH, diag).  POSIX sh.
#
# Neither peer may touch the machine's mail system: Postfix runs with
# `postfix -c DIR` and its own queue_directory and data_directory (nothing
# under /etc/postfix is read except the package's postfix-files); OpenSMTPD
# has its spool (/var/spool/smtpd), control socket (/var/run/smtpd.sock),
# chroot (/var/lib/opensmtpd/empty) and helpers (/usr/libexec/opensmtpd)
# compiled in, so it runs in a private mount namespace (unshare -m) where
# scratch directories are bind-mounted over /var/spool, /var/lib, /run and
# /usr/libexec (and a resolv.conf over /etc/resolv.conf): the host's
# directories are never written.  OpenSMTPD
# conflicts with postfix as a Debian package, so its .deb is fetched with
# `apt-get download` and unpacked into a cache directory, never installed.
#
#   bench_scratch            $SCRATCH and $SCRATCH/users spread over the disk
#                            (tests/lib.sh), $SCRATCH/fsync-floor and
#                            $SCRATCH/process-floor built
#   listening PORT           something accepts on 127.0.0.1:PORT
#   pt_setup NAME HOME PORT USER DOMAIN
#                            postern from $POSTERN_BUILD installed into HOME
#                            and started; PT_ENTRY: its bench.py argument
#   pf_setup PORT DOMAIN     $SCRATCH/postfix/{etc,queue,data}; PF_CONF
#   pf_start / pf_stop       postfix -c $PF_CONF start|stop; PF_PID (master)
#   os_fetch                 unpacked opensmtpd in $OS_ROOT (0 ok, 1 not available)
#   os_setup PORT DOMAIN     $SCRATCH/opensmtpd/...; the users opensmtpd, opensmtpq
#   os_start / os_stop       smtpd -d in its namespace; OS_PID (by pid only)
# The sendmail of each, as a script taking RCPT and the message on stdin:
# $SCRATCH/postfix/inject, $SCRATCH/opensmtpd/inject (once started).

PF_CONF=
PF_PID=
OS_PID=
OS_ROOT=${BENCH_OSMTPD_CACHE:-/tmp/postern-bench-opensmtpd}/root
OS_DIR=

bench_scratch() {
	spread "$SCRATCH"
	mkdir -m 755 "$SCRATCH/users" && spread "$SCRATCH/users" || { diag "mkdir $SCRATCH/users"; return 1; }
	cc -O2 -pthread -o "$SCRATCH/fsync-floor" "$POSTERN_SRC/tests/bench/fsync-floor.c" || { diag "cc fsync-floor.c"; return 1; }
	# static, so that its posix_spawn measures an exec of a program like
	# postern's (no dynamic loader); without libc.a it is left out
	cc -O2 -static -o "$SCRATCH/process-floor" "$POSTERN_SRC/tests/bench/process-floor.c" 2> /dev/null ||
		diag "cc -static process-floor.c failed: no process floor in the table"
}

listening() { # PORT
	/usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 1)" 2> /dev/null
}

pt_setup() { # NAME HOME PORT USER DOMAIN
	PHOME=$2
	"$POSTERN_SRC/install" --home "$PHOME" --build "$POSTERN_BUILD" > "$SCRATCH/install-$1.log" 2>&1 || {
		diag "./install --home $PHOME: $(cat "$SCRATCH/install-$1.log")"; return 1; }
	# Configured as the peers are: no POP3 (Postfix and OpenSMTPD have
	# none), no mail submission (they would serve none here either: ports
	# 587 and 465 stay free), no DKIM signing; so those services are off
	# (control/servicesoff: not run at all, no supervisor or logger) and a
	# second ./install removes them.  STARTTLS stays on port 25 (the peers
	# here offer none), so postern-tlsd and postern-keys count in the
	# memory figures.  An older tree of tests/bench/ab.sh knows no
	# servicesoff: those services are kept down there (their supervisors
	# and loggers count in its memory figures).
	if grep -q servicesoff "$POSTERN_SRC/src/install/manifest" 2> /dev/null; then
		printf '%s\n' postern-pop3 postern-pop3s postern-pspawn postern-auth postern-submission postern-smtps \
			postern-dkim > "$PHOME/control/servicesoff"
		"$POSTERN_SRC/install" --home "$PHOME" --build "$POSTERN_BUILD" >> "$SCRATCH/install-$1.log" 2>&1 || {
			diag "./install --home $PHOME (servicesoff): $(cat "$SCRATCH/install-$1.log")"; return 1; }
	fi
	for s in postern-pop3 postern-pop3s postern-pop3-6 postern-pop3s-6 postern-auth postern-pspawn \
		postern-submission postern-smtps postern-submission6 postern-smtps6; do
		[ ! -d "$PHOME/service/$s" ] || touch "$PHOME/service/$s/down"
	done
	printf '%s\n' "$5" > "$PHOME/control/me"
	printf '%s\n' "$5" > "$PHOME/control/locals"
	printf '127.0.0.1\n' > "$PHOME/control/smtpip"
	printf 'none\n' > "$PHOME/control/smtpip6"
	printf '%s\n' "$3" > "$PHOME/control/smtpport"
	printf '0\n' > "$PHOME/control/maxperip" # smtp-source's 50 sessions share one address
	make_user "$4" || return 1
	"$PHOME/bin/postern-mkrcpt" > "$SCRATCH/mkrcpt-$1.log" 2>&1 || {
		diag "postern-mkrcpt: $(cat "$SCRATCH/mkrcpt-$1.log")"; return 1; }
	printf '#!/bin/sh\nexec %s "$@"\n' "$PHOME/bin/sendmail" > "$SCRATCH/inject-$1"
	chmod 755 "$SCRATCH/inject-$1"
	svscan_start
	svc_wait_up postern-send 30 && svc_wait_up postern-smtpd 30 || { diag "$1: services not up"; return 1; }
	pt_i=0
	until listening "$3"; do
		pt_i=$((pt_i + 1))
		[ $pt_i -lt 100 ] || { diag "$1: nothing listens on port $3"; return 1; }
		sleep 0.1
	done
	# bench.py's backlog workload: local delivery held by taking
	# postern-send's service (send, lspawn, clean) down, SMTP and sendmail
	# still accepting
	cat > "$SCRATCH/ctl-$1" << EOF
#!/bin/sh
case \$1 in
hold) exec s6-svc -wD -d "$PHOME/service/postern-send" ;;
release) exec s6-svc -u "$PHOME/service/postern-send" ;;
queued) ls "$PHOME/queue/mess" | grep '\.env\$' | wc -l ;;
*) exit 100 ;;
esac
EOF
	chmod 755 "$SCRATCH/ctl-$1"
	PT_ENTRY="$1=$3,$SCRATCH/users/$4/Maildir/new,$4@$5,$SVSCAN_PID,$SCRATCH/inject-$1,$SCRATCH/ctl-$1"
}

pf_setup() { # PORT DOMAIN
	command -v postfix > /dev/null 2>&1 || return 1
	PF_CONF=$SCRATCH/postfix/etc
	mkdir -p "$PF_CONF" "$SCRATCH/postfix/queue" "$SCRATCH/postfix/data" || return 1
	chmod 755 "$SCRATCH/postfix" "$SCRATCH/postfix/queue"
	chown postfix "$SCRATCH/postfix/data" || return 1
	cat > "$PF_CONF/main.cf" << EOF
# written by postern tests/bench/peers.sh: a scratch instance, loopback only
compatibility_level = 3.6
queue_directory = $SCRATCH/postfix/queue
data_directory = $SCRATCH/postfix/data
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix.$2
mydomain = $2
myorigin = $2
mydestination = $2
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
home_mailbox = Maildir/
biff = no
maillog_file = $SCRATCH/postfix/maillog
maillog_file_prefixes = $SCRATCH
smtpd_banner = \$myhostname ESMTP
EOF
	# The package's master.cf with smtpd moved to 127.0.0.1:PORT and no
	# chroot (the scratch queue has no copies of /etc files to chroot into).
	awk -v port="$1" '/^#/ || /^[ \t]/ || NF < 8 { print; next }
		$1 == "smtp" && $2 == "inet" { $1 = "127.0.0.1:" port }
		{ $5 = "n"; print }' /usr/share/postfix/master.cf.dist > "$PF_CONF/master.cf"
	printf '#!/bin/sh\nMAIL_CONFIG=%s exec /usr/sbin/sendmail "$@"\n' "$PF_CONF" > "$SCRATCH/postfix/inject"
	chmod 755 "$SCRATCH/postfix/inject"
	# the backlog workload: the local transport deferred (messages wait in
	# deferred/), then undeferred and the queue flushed
	cat > "$SCRATCH/postfix/ctl" << EOF
#!/bin/sh
case \$1 in
hold) postconf -c "$PF_CONF" -e defer_transports=local && exec postfix -c "$PF_CONF" reload 2> /dev/null ;;
release) postconf -c "$PF_CONF" -e defer_transports= && postfix -c "$PF_CONF" reload 2> /dev/null &&
	exec postqueue -c "$PF_CONF" -f ;;
queued) find "$SCRATCH/postfix/queue/deferred" -type f | wc -l ;;
*) exit 100 ;;
esac
EOF
	chmod 755 "$SCRATCH/postfix/ctl"
}

pf_start() {
	postfix -c "$PF_CONF" start > "$SCRATCH/postfix/start.log" 2>&1 || {
		diag "postfix start: $(cat "$SCRATCH/postfix/start.log"; tail -5 "$SCRATCH/postfix/maillog" 2> /dev/null)"
		return 1
	}
	i=0
	until [ -s "$SCRATCH/postfix/queue/pid/master.pid" ]; do
		i=$((i + 1)); [ $i -lt 100 ] || return 1; sleep 0.1
	done
	PF_PID=$(tr -d ' \n' < "$SCRATCH/postfix/queue/pid/master.pid")
	on_cleanup pf_stop
}

pf_stop() {
	[ -n "$PF_PID" ] || return 0
	postfix -c "$PF_CONF" stop > /dev/null 2>&1
	t_wait_gone "$PF_PID" 20 || kill -9 "$PF_PID" 2> /dev/null
	PF_PID=
}


os_fetch() {
	[ -x "$OS_ROOT/usr/sbin/smtpd" ] && return 0
	command -v apt-get > /dev/null 2>&1 || return 1
	c=$(dirname "$OS_ROOT")
	mkdir -p "$c" && chmod 755 "$c" || return 1
	(cd "$c" && rm -f opensmtpd_*.deb && apt-get download opensmtpd > "$c/download.log" 2>&1) || {
		diag "apt-get download opensmtpd failed: $(tail -3 "$c/download.log")"
		return 1
	}
	rm -rf "$OS_ROOT.tmp" && dpkg-deb -x "$c"/opensmtpd_*.deb "$OS_ROOT.tmp" && mv "$OS_ROOT.tmp" "$OS_ROOT"
}

os_setup() { # PORT DOMAIN
	os_fetch || return 1
	command -v unshare > /dev/null 2>&1 && command -v nsenter > /dev/null 2>&1 || return 1
	# The users the Debian build has compiled in, as its postinst makes them.
	for n in opensmtpd opensmtpq; do
		getent group "$n" > /dev/null || addgroup --system "$n" > /dev/null || return 1
		id "$n" > /dev/null 2>&1 || adduser --system --home /var/lib/opensmtpd/empty --no-create-home \
			--disabled-password --ingroup "$n" "$n" > /dev/null 2>&1 || return 1
	done
	# smtpctl enqueues as group opensmtpq (setgid), in the scratch copy only.
	chgrp opensmtpq "$OS_ROOT/usr/sbin/smtpctl" && chmod 2755 "$OS_ROOT/usr/sbin/smtpctl" || return 1
	OS_DIR=$SCRATCH/opensmtpd
	mkdir -p "$OS_DIR/spool" "$OS_DIR/varlib/opensmtpd/empty" "$OS_DIR/run" || return 1
	chmod 755 "$OS_DIR" "$OS_DIR/spool" "$OS_DIR/run" "$OS_DIR/varlib" "$OS_DIR/varlib/opensmtpd"
	ln -sf "$OS_ROOT/usr/sbin/smtpctl" "$OS_DIR/sendmail"
	# Its resolver (libasr) asks DNS before /etc/hosts unless told: the
	# client's reverse lookup would wait on the network, where Postfix
	# (glibc, nsswitch "files dns") finds 127.0.0.1 in /etc/hosts.
	{ echo "lookup file bind"; grep -v '^lookup' /etc/resolv.conf; } > "$OS_DIR/resolv.conf"
	cat > "$OS_DIR/smtpd.conf" << EOF
# written by postern tests/bench/peers.sh: a scratch instance, loopback only
listen on 127.0.0.1 port $1
action "local" maildir
match from any for domain "$2" action "local"
EOF
}

os_start() {
	# unshare execs sh, which execs smtpd: OS_PID is smtpd's own pid.
	unshare -m --propagation private sh -c '
		mount --bind "$1/spool" /var/spool && mount --bind "$1/varlib" /var/lib &&
		mount --bind "$1/run" /run && mount --bind "$2/usr/libexec" /usr/libexec &&
		mount --bind "$1/resolv.conf" /etc/resolv.conf &&
		exec "$2/usr/sbin/smtpd" -d -f "$1/smtpd.conf"' sh "$OS_DIR" "$OS_ROOT" \
		> "$OS_DIR/smtpd.log" 2>&1 < /dev/null &
	OS_PID=$!
	on_cleanup os_stop
	# Its sendmail talks to /var/run/smtpd.sock: enqueue inside the namespace.
	printf '#!/bin/sh\nexec nsenter -t %s -m %s "$@"\n' "$OS_PID" "$OS_DIR/sendmail" > "$OS_DIR/inject"
	chmod 755 "$OS_DIR/inject"
	# the backlog workload: smtpctl pause mda / resume mda
	cat > "$OS_DIR/ctl" << EOF
#!/bin/sh
c="nsenter -t $OS_PID -m $OS_ROOT/usr/sbin/smtpctl"
case \$1 in
hold) exec \$c pause mda > /dev/null ;;
release) exec \$c resume mda > /dev/null ;;
queued) \$c show queue | wc -l ;;
*) exit 100 ;;
esac
EOF
	chmod 755 "$OS_DIR/ctl"
	i=0
	until [ -S "$OS_DIR/run/smtpd.sock" ]; do
		i=$((i + 1))
		kill -0 "$OS_PID" 2> /dev/null && [ $i -lt 100 ] || { diag "smtpd: $(tail -5 "$OS_DIR/smtpd.log")"; return 1; }
		sleep 0.1
	done
}

os_stop() {
	[ -n "$OS_PID" ] || return 0
	t_stop_child "$OS_PID"
	OS_PID=
}

