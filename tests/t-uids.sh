#!/bin/sh
# Privilege separation, as running: with the installed services up under an
# s6-svscan this test starts, every process below that svscan is read from
# /proc/PID/status and its uids, gids and supplementary groups are compared
# with doc/architecture.md.  Then the files: postern-queue setuid to its
# owner, every queue directory's owner and mode, and what each user can and
# cannot do to the queue (setpriv as that user).
. "$(dirname "$0")/lib.sh"
scratch_init

need_built postern-queue postern-inject postern-start postern-send postern-lspawn postern-clean postern-local
install_home || bail "./install into $SCRATCH/home"
"$POSTERN_SRC/install" --home "$PHOME" --check > "$SCRATCH/check.out" 2>&1
rc=$?
check "./install --check finds nothing wrong with a fresh install (exit $rc)" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || diag "$(cat "$SCRATCH/check.out")"

D=test.example
printf '%s\n' "$D" > "$PHOME/control/me"
printf '%s\n' "$D" > "$PHOME/control/locals"
UI=pt$$u UO=pt$$o # unique to this run: two runs at once must not clash
make_user $UI || bail "make_user $UI"
make_user $UO || bail "make_user $UO"
# $UI is also in a group of its own beyond its primary one, so a delivery
# that lost the supplementary groups (postern-lspawn computes the list and
# postern-local sets it from POSTERN_IDENTITY) is seen below.
GX=pt$$g
if getent group $GX > /dev/null; then groupdel $GX 2> /dev/null; fi
groupadd $GX 2> "$SCRATCH/groupadd.err" || bail "groupadd $GX: $(cat "$SCRATCH/groupadd.err")"
on_cleanup "groupdel $GX 2> /dev/null"
usermod -a -G $GX $UI || bail "usermod -a -G $GX $UI"
printf '|/usr/bin/id -G > %s/users/%s/groups.out\n' "$SCRATCH" $UI > "$SCRATCH/users/$UI/.postern-groups"
chown $UI:$UI "$SCRATCH/users/$UI/.postern-groups"
# A program delivery that waits for a file, so postern-local and its
# program can be seen running.
printf '|while [ ! -f %s/go ]; do /bin/sleep 0.1; done; /bin/cat > /dev/null\n' "$SCRATCH" > "$SCRATCH/users/$UI/.postern-slow"
chown $UI:$UI "$SCRATCH/users/$UI/.postern-slow"
on_cleanup 'touch "$SCRATCH/go"'

# The SMTP listener on a free loopback port, so that it surely binds; the
# mail submission listeners too (they run as postern-submit): the two,
# each on 127.0.0.1 and on ::1 where loopback has it.
free_port > "$PHOME/control/smtpport"
printf 'none\n' > "$PHOME/control/smtpip6"
free_port > "$PHOME/control/submissionport"
free_port > "$PHOME/control/smtpsport"
for s in postern-submission postern-smtps; do rm -f "$PHOME/service/$s/down"; done
svscan_start
svc_wait_up postern-send 20 || {
	not_ok "postern-send service up within 20 s"
	diag "$(tail -n 20 "$PHOME/log/send/current" 2>&1)"
	done_testing
}
ok "postern-send service is up under our s6-svscan ($SVSCAN_PID)"
# The set is up once all three children of postern-start exist.
i=0
until [ -n "$(tree_procs postern-send)" ] && [ -n "$(tree_procs postern-lspawn)" ] && [ -n "$(tree_procs postern-clean)" ] || [ "$i" -ge 100 ]; do
	sleep 0.1; i=$((i + 1))
done

uid_of() { id -u "$1" 2> /dev/null || echo none; }
gid_of() { getent group "$1" | cut -d: -f3; }
field() { # PID FIELD: the value of /proc/PID/status FIELD:, blanks squeezed
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" 2> /dev/null | tr -s ' \t' '  ' | sed 's/ *$//'
}
# proc_is PID WHAT USER GROUP [SUPP]: real, effective, saved and fs ids
# are USER and GROUP; the supplementary groups are SUPP (gids, space
# separated; default: none, or GROUP alone).
proc_is() {
	p=$1 what=$2 u=$3 g=$4 supp=${5-}
	wu=$(uid_of "$u") wg=$(gid_of "$g")
	gu=$(field "$p" Uid) gg=$(field "$p" Gid) gs=$(field "$p" Groups | tr ' ' '\n' | sort -n | tr '\n' ' ' | sed 's/ *$//')
	check "$what (pid $p) runs as $u: Uid $gu" [ "$gu" = "$wu $wu $wu $wu" ]
	check "$what (pid $p) runs with group $g: Gid $gg" [ "$gg" = "$wg $wg $wg $wg" ]
	if [ -n "$supp" ]; then
		check "$what (pid $p) has supplementary groups '$supp': '$gs'" [ "$gs" = "$supp" ]
	else
		check "$what (pid $p) has no other supplementary group: '$gs'" sh -c '[ -z "$1" ] || [ "$1" = "$2" ]' - "$gs" "$wg"
	fi
}
one() { # NAME: sets P to the pid of the only process NAME below our svscan
	P=$(tree_procs "$1" | cut -d' ' -f1)
	n=$(printf '%s\n' "$P" | grep -c .)
	[ "$n" -eq 1 ] && return 0
	not_ok "exactly one $1 below our s6-svscan (found $n: $(echo $P))"
	return 1
}

tree_procs > "$SCRATCH/tree"
diag "process tree below s6-svscan $SVSCAN_PID:"
while read -r p n pp; do diag "  $p $n (parent $pp) Uid $(field "$p" Uid)"; done < "$SCRATCH/tree"

if one postern-start; then
	p=$P
	proc_is "$p" postern-start root root
	check "postern-start is supervised by s6-supervise" [ "$(field "$(field "$p" PPid)" Name)" = s6-supervise ]
	START=$p
fi
if one postern-send; then
	p=$P
	# postern alone: the SRS key is postern-srs's, which it asks (doc/srs.md)
	proc_is "$p" postern-send postern-send postern
	check "postern-send is a child of postern-start" [ "$(field "$p" PPid)" = "${START:-x}" ]
fi
if one postern-lspawn; then
	p=$P
	proc_is "$p" postern-lspawn root root
	check "postern-lspawn is a child of postern-start" [ "$(field "$p" PPid)" = "${START:-x}" ]
fi
if one postern-clean; then
	p=$P
	proc_is "$p" postern-clean postern-queue postern
	check "postern-clean is a child of postern-start" [ "$(field "$p" PPid)" = "${START:-x}" ]
fi
# POP3's two services (the listener is down in tests: it would bind port 110)
svc_wait_up postern-auth 20 && svc_wait_up postern-pspawn 20 || not_ok "postern-auth and postern-pspawn up"
tree_procs > "$SCRATCH/tree"
if one postern-auth; then
	proc_is "$P" postern-auth postern-auth postern-nofiles
	check "postern-auth is supervised by s6-supervise" [ "$(field "$(field "$P" PPid)" Name)" = s6-supervise ]
fi
if one postern-pspawn; then
	proc_is "$P" postern-pspawn root root
fi
# the DKIM key holder (doc/dkim.md): its own user, never root
svc_wait_up postern-dkim 20 || not_ok "postern-dkim up"
tree_procs > "$SCRATCH/tree"
if one postern-dkim; then
	proc_is "$P" postern-dkim postern-dkim postern-nofiles
	check "postern-dkim is supervised by s6-supervise" [ "$(field "$(field "$P" PPid)" Name)" = s6-supervise ]
fi
# the SRS key holder (doc/srs.md): its own user, never root
svc_wait_up postern-srs 20 || not_ok "postern-srs up"
tree_procs > "$SCRATCH/tree"
if one postern-srs; then
	proc_is "$P" postern-srs postern-srs postern-nofiles
	check "postern-srs is supervised by s6-supervise" [ "$(field "$(field "$P" PPid)" Name)" = s6-supervise ]
fi
check "the SRS key is postern-srs's alone: $(stat -c '%U %G %a' "$PHOME/secret/srs/key" "$PHOME/secret/srs" | tr '\n' ' ')" \
	[ "$(stat -c '%U %G %a' "$PHOME/secret/srs/key" "$PHOME/secret/srs" | tr '\n' ' ')" = "postern-srs postern-nofiles 600 postern-srs postern-nofiles 700 " ]
nlog=0
for p in $(tree_procs s6-log | cut -d' ' -f1); do
	proc_is "$p" "s6-log" postern-log postern-nofiles
	nlog=$((nlog + 1))
done
check "one s6-log per service, at least postern-send's ($nlog)" [ "$nlog" -ge 1 ]
check "no process of the set keeps a capability (CapEff 0 outside root)" sh -c '
	for p in $(awk "{print \$1}" "$1"); do
		u=$(sed -n "s/^Uid:[[:space:]]*\([0-9]*\).*/\1/p" /proc/$p/status 2>/dev/null)
		c=$(sed -n "s/^CapEff:[[:space:]]*//p" /proc/$p/status 2>/dev/null)
		[ -z "$u" ] || [ "$u" = 0 ] || [ "$c" = 0000000000000000 ] || exit 1
	done' - "$SCRATCH/tree"

# postern-smtpd, when its service is installed: the listener after it bound,
# and postern-smtpd itself for one connection.  The submission listeners
# (postern-smtpd -a) run as postern-submit, port 25's as postern-smtpd.
# Each is waited for until it has dropped root (a moment after its bind).
listeners_dropped() {
	n=0
	for p in $(tree_procs postern-listen | cut -d' ' -f1); do
		[ "$(field "$p" Uid | cut -d' ' -f1)" != 0 ] || return 1
		n=$((n + 1))
	done
	[ "$n" -ge $((NSUBMIT + 1)) ] # port 25's and the submission listeners
}
i=0
until listeners_dropped || [ "$i" -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
nlisten=0 nsubmit=0
# The listeners and their postern-smtpd have their own group and no
# other: not even one to read the SRS key by, which they ask postern-srs
# about (doc/srs.md).
SMTPD_GROUPS=$(gid_of postern-nofiles)
for p in $(tree_procs postern-listen | cut -d' ' -f1); do
	case "$(tr '\0' ' ' < "/proc/$p/cmdline" 2> /dev/null)" in
	*"/postern-smtpd -a "*) proc_is "$p" "postern-listen of submission (after bind)" postern-submit postern-nofiles "$SMTPD_GROUPS"
		nsubmit=$((nsubmit + 1)) ;;
	*) proc_is "$p" "postern-listen (after bind)" postern-smtpd postern-nofiles "$SMTPD_GROUPS"
		nlisten=$((nlisten + 1)) ;;
	esac
done
check "a postern-listen runs for the postern-smtpd service ($nlisten)" [ "$nlisten" -ge 1 ]
check "2 run for postern-submission and postern-smtps, as postern-submit ($nsubmit)" \
	[ "$nsubmit" -eq 2 ]
# One connection to port 25's listener and one to postern-submission's:
# their postern-smtpd runs as the listener's user (postern-smtpd, or
# postern-submit for -a).  Not postern-smtps's: its postern-smtpd -s
# says nothing before a TLS handshake.
seen25=0 seen587=0
for p in $(tree_procs postern-listen | cut -d' ' -f1); do
	# postern-listen ... ADDRESS[,ADDRESS] PORT PROGRAM [ARG]: the two words before the program.
	args=$(tr '\0' ' ' < "/proc/$p/cmdline" 2> /dev/null)
	case "$args" in
	*"/postern-smtpd -a -s "*) continue ;;
	*"/postern-smtpd -a "*) [ "$seen587" = 0 ] || continue; seen587=1 u=postern-submit what="postern-smtpd -a" ;;
	*) [ "$seen25" = 0 ] || continue; seen25=1 u=postern-smtpd what=postern-smtpd ;;
	esac
	hp=$(tr '\0' '\n' < "/proc/$p/cmdline" | awk '/postern-smtpd$/ { print h " " pt; exit } { h = pt; pt = $0 }')
	[ -n "$hp" ] || continue
	set -- $hp
	set -- "${1%%,*}" "$2" # the first of the listener's addresses
	o=$SCRATCH/smtpd.$p
	/usr/bin/python3 - "$1" "$2" "$o" "$p" > "$o.out" 2>&1 << 'PYEOF' &
import socket, sys, time, os
host, port, out, parent = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.create_connection((host, port), timeout=10)
banner = s.recv(1000)
print(banner.decode('latin-1').strip())
open(out + '.ready', 'w').close()
for i in range(100):   # hold the connection until the test has looked
    if os.path.exists(out + '.done'):
        break
    time.sleep(0.1)
s.sendall(b'QUIT\r\n')
s.recv(1000)
PYEOF
	cpid=$!
	i=0
	while [ ! -f "$o.ready" ] && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	sp=$(tree_procs postern-smtpd | awk -v pp="$p" '$3 == pp { print $1; exit }')
	if [ -n "$sp" ]; then
		proc_is "$sp" "$what (one connection)" $u postern-nofiles "$SMTPD_GROUPS"
	else
		not_ok "$what running for a connection to $1:$2 ($(cat "$o.out"))"
	fi
	touch "$o.done"
	wait "$cpid"
done
check "one connection each to port 25's listener and to postern-submission's" [ "$seen25$seen587" = 11 ]

# postern-local runs as the recipient: a program delivery that waits.
printf 'Subject: slow\n\nwait for it\n' | "$PHOME/bin/sendmail" "$UI-slow@$D" > "$SCRATCH/inject.out" 2>&1 ||
	not_ok "sendmail $UI-slow@$D: $(cat "$SCRATCH/inject.out")"
i=0
while [ -z "$(tree_procs postern-local)" ] && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
lp=$(tree_procs postern-local | awk '{ print $1; exit }')
if [ -n "$lp" ]; then
	ug=$(id -G $UI | tr ' ' '\n' | sort -n | tr '\n' ' ' | sed 's/ *$//')
	proc_is "$lp" "postern-local delivering to $UI" $UI $UI "$ug"
	check "postern-local is a child of postern-lspawn" [ "$(field "$(field "$lp" PPid)" Name)" = postern-lspawn ]
	check "postern-local's environment is clean (no POSTERN_HOME, no root's HOME)" sh -c \
		'! tr "\0" "\n" < /proc/$1/environ | grep -q "^POSTERN_HOME=\|^HOME=/root"' - "$lp"
	kid=$(tree_procs | awk -v pp="$lp" '$3 == pp { print $1; exit }')
	[ -z "$kid" ] || proc_is "$kid" "$UI's program" $UI $UI "$ug"
else
	not_ok "a postern-local process seen within 10 s"
fi
touch "$SCRATCH/go"

# A program delivery sees the recipient's supplementary groups, the extra
# group included, and no other.
printf 'Subject: groups\n\nwhich groups\n' | "$PHOME/bin/sendmail" "$UI-groups@$D" > "$SCRATCH/inject3.out" 2>&1 ||
	not_ok "sendmail $UI-groups@$D: $(cat "$SCRATCH/inject3.out")"
G=$SCRATCH/users/$UI/groups.out
if wait_for 30 test -s "$G"; then
	want=$(id -G $UI | tr ' ' '\n' | sort -n | tr '\n' ' ' | sed 's/ *$//')
	got=$(tr ' ' '\n' < "$G" | sort -n | tr '\n' ' ' | sed 's/ *$//')
	check "$UI's program runs with $UI's groups '$want', $GX's $(gid_of $GX) among them: '$got'" \
		sh -c '[ "$1" = "$2" ] && case " $2 " in *" $3 "*) true ;; *) false ;; esac' - "$want" "$got" "$(gid_of $GX)"
else
	not_ok "$UI's program wrote its groups within 30 s"
fi

# The files.  stat: owner group octal-mode (setuid/setgid bits included).
is() { # PATH OWNER GROUP MODE [TYPE]
	got=$(stat -c '%U %G %a %F' "$1" 2> /dev/null)
	want="$2 $3 $4"
	check "$1: $want${5:+ ($5)} (got: $got)" sh -c 'case $1 in "$2 "*"$3") true ;; *) false ;; esac' - "$got" "$want" "${5:-}"
}
B=$PHOME/bin
is "$B/postern-queue" postern-queue root 4711 "regular file"
for p in postern-inject postern-qstat postern-start postern-send postern-lspawn postern-clean postern-local; do
	is "$B/$p" root root 755 "regular file"
done
check "bin/sendmail is a symlink to postern-inject" [ "$(readlink "$B/sendmail")" = postern-inject ]
check "bin/mailq is a symlink to postern-inject" [ "$(readlink "$B/mailq")" = postern-inject ]
Q=$PHOME/queue
is "$PHOME" root root 755 directory
is "$B" root root 755 directory
is "$PHOME/control" root root 755 directory
is "$Q" postern-queue postern 750 directory
is "$Q/tmp" postern-queue postern 2700 directory
is "$Q/mess" postern-queue postern 2750 directory
is "$Q/info" postern-send postern 700 directory
is "$Q/lock" postern-queue postern 750 directory
is "$Q/lock/trigger" postern-queue postern 640 fifo
is "$PHOME/log/send" postern-log postern-nofiles 700 directory
is "$PHOME/vmail" postern-vmail postern-nofiles 700 directory
is "$PHOME/alias" root root 755 directory
is "$PHOME/alias/Maildir" postern-alias postern-nofiles 700 directory

# A message caught in the queue (delivery stopped): postern-queue, run by
# an ordinary user, wrote it as postern-queue, readable by group postern only.
s6-svc -d "$PHOME/service/postern-send"
s6-svwait -D -t 20000 "$PHOME/service/postern-send" || not_ok "postern-send service went down within 20 s"
printf 'Subject: parked\n\nparked\n' | setpriv --reuid=$UO --regid=$UO --init-groups \
	"$PHOME/bin/sendmail" "$UO@$D" > "$SCRATCH/inject2.out" 2>&1
rc=$?
check "an ordinary user can queue a message (exit $rc: $(cat "$SCRATCH/inject2.out"))" [ "$rc" -eq 0 ]
f=$(find "$Q/mess" -type f ! -name '*.env' | head -n 1)
if [ -n "$f" ]; then
	m=$(stat -c '%U %G %a' "$f")
	check "a queued message is postern-queue:postern, no access for others ($m)" \
		sh -c 'case $1 in "postern-queue postern "*[0]) true ;; *) false ;; esac' - "$m"
	check "its envelope too ($(stat -c '%U %G %a' "$f.env"))" \
		sh -c 'case $1 in "postern-queue postern "*[0]) true ;; *) false ;; esac' - "$(stat -c '%U %G %a' "$f.env")"
else
	not_ok "the message is in queue/mess while delivery is stopped"
fi

as() { u=$1 g=$2; shift 2; setpriv --reuid="$u" --regid="$g" --clear-groups "$@"; }
asg() { u=$1; shift; setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups "$@"; }
quiet() { "$@" > /dev/null 2>&1; }
check "postern-smtpd cannot list queue/mess" sh -c '! setpriv --reuid=postern-smtpd --regid=postern-nofiles --clear-groups ls "$1" > /dev/null 2>&1' - "$Q/mess"
if [ -n "$f" ]; then
	check "postern-smtpd cannot read a queued message" sh -c '! setpriv --reuid=postern-smtpd --regid=postern-nofiles --clear-groups cat "$1" > /dev/null 2>&1' - "$f"
	check "an ordinary user cannot read a queued message" sh -c 'u=$0; ! setpriv --reuid=$u --regid=$u --init-groups cat "$1" > /dev/null 2>&1' "$UO" "$f"
	check "postern-send can read a queued message" quiet asg postern-send cat "$f"
	check "postern-send cannot remove a queued message" sh -c '! setpriv --reuid=postern-send --regid=postern --init-groups rm -f "$1" 2>/dev/null && [ -f "$1" ]' - "$f"
	check "postern-clean's user (postern-queue) could remove it (owner of mess/)" quiet asg postern-queue test -w "$Q/mess"
fi
check "postern-send cannot write into queue/mess" sh -c '! setpriv --reuid=postern-send --regid=postern --init-groups touch "$1/x" 2>/dev/null' - "$Q/mess"
check "postern-send cannot write into queue/tmp" sh -c '! setpriv --reuid=postern-send --regid=postern --init-groups touch "$1/x" 2>/dev/null' - "$Q/tmp"
check "postern-send can write its own queue/info" quiet asg postern-send test -w "$Q/info"
check "an ordinary user cannot list the queue" sh -c 'u=$0; ! setpriv --reuid=$u --regid=$u --init-groups ls "$1" > /dev/null 2>&1' "$UO" "$Q"
check "an ordinary user cannot open the trigger" sh -c 'u=$0; ! setpriv --reuid=$u --regid=$u --init-groups timeout 5 sh -c "exec 3>>\"\$1\"" - "$1/lock/trigger" 2>/dev/null' "$UO" "$Q"
check "postern-smtpd can run postern-queue (the one door)" quiet as postern-smtpd postern-nofiles test -x "$B/postern-queue"
check "postern-log cannot list the queue" sh -c '! setpriv --reuid=postern-log --regid=postern-nofiles --clear-groups ls "$1" > /dev/null 2>&1' - "$Q/mess"
check "an ordinary user cannot read the log" sh -c 'u=$0; ! setpriv --reuid=$u --regid=$u --init-groups ls "$1" > /dev/null 2>&1' "$UO" "$PHOME/log/send"
check "postern-vmail's mailboxes are closed to an ordinary user" sh -c 'u=$0; ! setpriv --reuid=$u --regid=$u --init-groups ls "$1" > /dev/null 2>&1' "$UO" "$PHOME/vmail"

# Delivery resumes: the parked message reaches $UO, as $UO.
s6-svc -u "$PHOME/service/postern-send"
if wait_files "$SCRATCH/users/$UO/Maildir/new" 1 30; then
	f=$(find "$SCRATCH/users/$UO/Maildir/new" -type f | head -n 1)
	check "the parked message is delivered to $UO, owned by $UO, 0600 ($(stat -c '%U %a' "$f"))" \
		[ "$(stat -c '%U %a' "$f")" = "$UO 600" ]
else
	not_ok "the parked message delivered within 30 s after the service came back"
fi
done_testing
