#!/bin/sh
# ./install and ./install --check: a first install, an idempotent second one,
# a second home on the same machine, and --check finding each thing broken.
. "$(dirname "$0")/lib.sh"
scratch_init

check "install into a scratch home exits 0" install_home
first=$(grep -c '^install: ' "$SCRATCH/install.log")
check "the first install reports what it did ($first lines)" [ "$first" -gt 10 ]

out=$("$POSTERN_SRC/install" --home "$PHOME" --build "$POSTERN_BUILD" 2>&1); rc=$?
check "a second install exits 0" [ "$rc" -eq 0 ]
check "a second install changes nothing and says only so" \
	[ "$out" = "install: $PHOME: up to date, nothing changed" ]
[ "$out" = "install: $PHOME: up to date, nothing changed" ] || diag "$out"

out=$("$POSTERN_SRC/install" --home "$PHOME" --build "$POSTERN_BUILD" --check 2>&1); rc=$?
check "--check of a fresh install exits 0" [ "$rc" -eq 0 ]
check "--check of a fresh install prints one line, all good" \
	sh -c 'printf "%s\n" "$1" | grep -q "^install --check: .*: all [0-9]* manifest entries good$" &&
		[ "$(printf "%s\n" "$1" | wc -l)" -eq 1 ]' - "$out"
[ "$rc" -eq 0 ] || diag "$out"

# The layout doc/architecture.md promises.
st() { stat -c '%U:%G %a' "$PHOME/$1" 2> /dev/null; }
check "bin/postern-queue is postern-queue:root 4711" [ "$(st bin/postern-queue)" = "postern-queue:root 4711" ]
check "postern-smtpd, postern-remote and postern-rspawn are root:root 0711 (execute-only: started undumpable)" \
	[ "$(st bin/postern-smtpd) $(st bin/postern-remote) $(st bin/postern-rspawn)" = "root:root 711 root:root 711 root:root 711" ]
check "queue/ is postern-queue:postern 750" [ "$(st queue)" = "postern-queue:postern 750" ]
check "queue/tmp is postern-queue:postern 2700" [ "$(st queue/tmp)" = "postern-queue:postern 2700" ]
check "queue/mess is postern-queue:postern 2750" [ "$(st queue/mess)" = "postern-queue:postern 2750" ]
check "queue/info is postern-send:postern 700" [ "$(st queue/info)" = "postern-send:postern 700" ]
check "queue/lock/trigger is a FIFO, postern-queue:postern 640" \
	sh -c '[ -p "$1" ] && [ "$(stat -c "%U:%G %a" "$1")" = "postern-queue:postern 640" ]' - "$PHOME/queue/lock/trigger"
check "bin/sendmail and bin/mailq are symlinks to postern-inject" \
	[ "$(readlink "$PHOME/bin/sendmail"):$(readlink "$PHOME/bin/mailq")" = "postern-inject:postern-inject" ]
# The logs are postern-log's alone: group postern-nofiles is every exposed
# service's (port 25's postern-smtpd, postern-submit, postern-pop3, ...),
# and log/auth would tell them every login name and whether it exists.
LOGDIRS="send smtpd tlsd keys pop3 pop3s auth pspawn submission smtps dkim"
logmodes() { for l in $LOGDIRS; do printf '%s %s\n' "$l" "$(st "log/$l")"; done; }
check "every log directory ($(echo $LOGDIRS | wc -w)) is postern-log:postern-nofiles 700" \
	sh -c '! printf "%s\n" "$1" | grep -v " postern-log:postern-nofiles 700$"' - "$(logmodes)"
for l in auth submission smtps pop3 pop3s pspawn; do # login names, and which exist
	check "log/$l is postern-log:postern-nofiles 700" [ "$(st log/$l)" = "postern-log:postern-nofiles 700" ]
done
check "postern-log (group postern-nofiles) can list log/auth and log/send, its own" \
	sh -c 'setpriv --reuid=postern-log --regid=postern-nofiles --clear-groups ls "$1/log/auth" "$1/log/send" > /dev/null' - "$PHOME"
for u in postern-smtpd postern-submit postern-pop3 postern-tls postern-auth postern-vmail; do
	check "$u (group postern-nofiles) cannot list log/auth or log/send" \
		sh -c '! setpriv --reuid="$1" --regid=postern-nofiles --clear-groups ls "$2/log/auth" > /dev/null 2>&1 &&
			! setpriv --reuid="$1" --regid=postern-nofiles --clear-groups ls "$2/log/send" > /dev/null 2>&1' - "$u" "$PHOME"
done
check "alias/Maildir/new is postern-alias's" [ "$(st alias/Maildir/new)" = "postern-alias:postern-nofiles 700" ]
check "every built program is installed" sh -c '
	for p in "$1"/bin/*; do cmp -s "$p" "$2/bin/${p##*/}" || { echo "# not installed: $p"; exit 1; }; done' - "$POSTERN_BUILD" "$PHOME"
check "the run script starts postern-start from this home, with PATH alone, under a memory limit" \
	grep -q "^exec env -i PATH=\"\${PATH:-/usr/bin:/bin}\" s6-softlimit -m [0-9]* $PHOME/bin/postern-start -d 3\$" \
	"$PHOME/service/postern-send/run"
check "the log run script runs s6-log as postern-log into log/send" \
	grep -q "^exec s6-setuidgid postern-log s6-log .* $PHOME/log/send\$" "$PHOME/service/postern-send/log/run"
check "notification-fd is 3" [ "$(cat "$PHOME/service/postern-send/notification-fd")" = 3 ]
# Mail submission: two listeners as postern-submit, without tcp.smtp's rules.
check "postern-submission runs postern-smtpd -a on submissionip and submissionip6, port submissionport (587), no rules file" \
	sh -c 'grep -q "^ip=\$(addresses \"\$(val submissionip 127.0.0.1)\" \"\$(val submissionip6 ::1)\")\$" "$1" && grep -q "^port=\$(val submissionport 587)\$" "$1" &&
		grep -q " $2/bin/postern-smtpd -a\$" "$1" && ! grep -v "^#" "$1" | grep -q "tcp\.smtp\|-x "' - "$PHOME/service/postern-submission/run" "$PHOME"
check "postern-smtps runs postern-smtpd -a -s on submissionip and submissionip6, port smtpsport (465), no rules file" \
	sh -c 'grep -q "^ip=\$(addresses \"\$(val submissionip 127.0.0.1)\" \"\$(val submissionip6 ::1)\")\$" "$1" && grep -q "^port=\$(val smtpsport 465)\$" "$1" &&
		grep -q " $2/bin/postern-smtpd -a -s\$" "$1" && ! grep -v "^#" "$1" | grep -q "tcp\.smtp\|-x "' - "$PHOME/service/postern-smtps/run" "$PHOME"
check "both drop to postern-submit's uid and gid, not postern-smtpd's" sh -c '
	for f in "$@"; do
		grep -q "^uid=\$(id -u postern-submit) && gid=\$(id -g postern-submit) || exit 111\$" "$f" &&
			grep -q "[[:space:]]-u \"\$uid\" -g \"\$gid\" " "$f" && ! grep -v "^#" "$f" | grep -q "postern-smtpd@\|id -[ug] postern-smtpd" ||
			{ echo "# $f"; exit 1; }
	done' - "$PHOME/service/postern-submission/run" "$PHOME/service/postern-smtps/run"
check "their log run scripts run s6-log as postern-log into log/submission and log/smtps" \
	sh -c 'grep -q "^exec s6-setuidgid postern-log s6-log .* $1/log/submission\$" "$1/service/postern-submission/log/run" &&
		grep -q "^exec s6-setuidgid postern-log s6-log .* $1/log/smtps\$" "$1/service/postern-smtps/log/run"' - "$PHOME"
# One listener for both address families: each run script gives
# postern-listen its IPv4 and IPv6 control files' addresses as one list
# (none leaves one out; ::1 only where loopback has it).
for t in postern-smtpd:smtpip postern-submission:submissionip postern-smtps:submissionip \
	postern-pop3:pop3ip postern-pop3s:pop3ip; do
	IFS=: read -r svc c << EOF
$t
EOF
	check "$svc listens on control/$c and ${c}6 (default 127.0.0.1 and ::1) in one process" \
		grep -q "^ip=\$(addresses \"\$(val $c 127.0.0.1)\" \"\$(val ${c}6 ::1)\")\$" "$PHOME/service/$svc/run"
done
addresses_of() { # IPV4 IPV6: what the installed run script's addresses() makes of them
	sh -c "$(sed -n '/^addresses() {/,/^}/p' "$PHOME/service/postern-smtpd/run")"'
		addresses "$1" "$2"' - "$1" "$2"
}
check "addresses: 127.0.0.1 and :: make 127.0.0.1,::" [ "$(addresses_of 127.0.0.1 ::)" = 127.0.0.1,:: ]
check "addresses: 0 and none make 0" [ "$(addresses_of 0 none)" = 0 ]
check "addresses: none and 2001:db8::25 make 2001:db8::25" [ "$(addresses_of none 2001:db8::25)" = 2001:db8::25 ]
check "addresses: none and none make nothing (the service idles)" [ -z "$(addresses_of none none)" ]
if grep -q '^0\{31\}1 ' /proc/net/if_inet6 2> /dev/null; then want6=127.0.0.1,::1; else want6=127.0.0.1; fi
check "addresses: the defaults make $want6 here (::1 only where loopback has it)" \
	[ "$(addresses_of 127.0.0.1 ::1)" = "$want6" ]
check "no IPv6 twin service is installed (retired: one listener takes both addresses)" sh -c '
	for s in postern-smtpd6 postern-submission6 postern-smtps6 postern-pop3-6 postern-pop3s-6; do
		[ ! -e "$1/service/$s" ] || { echo "# $s"; exit 1; }
	done; ! ls -a "$1/service" | grep -q "^\.retired"' - "$PHOME"
check "the submission and POP3 address templates are installed" sh -c '
	for f in submissionip submissionip6 submissionport smtpsport submissionplaintext pop3ip pop3ip6; do
		cmp -s "$1/control/$f" "$2/conf-templates/control/$f" || { echo "# control/$f"; exit 1; }
	done' - "$PHOME" "$POSTERN_SRC"
if [ -x "$POSTERN_BUILD/bin/postern-mkrcpt" ]; then
	check "the install ran postern-mkrcpt: users/rcpt.cdb is root:postern-nofiles 640" \
		[ "$(st users/rcpt.cdb)" = "root:postern-nofiles 640" ]
	for u in postern-smtpd postern-submit; do
		check "$u (its uid and primary group alone, as its listener runs it) can read users/rcpt.cdb" \
			quietly setpriv --reuid="$u" --regid=postern-nofiles --clear-groups sh -c 'exec cat "$1" > /dev/null' - "$PHOME/users/rcpt.cdb"
	done
fi
check "no @...@ placeholder is left in a service file" sh -c '! grep -rq "@[A-Za-z:-]*@" "$1"/service' - "$PHOME"

for u in postern-queue postern-send postern-remote; do
	check "user $u exists with primary group postern" \
		[ "$(id -gn "$u" 2> /dev/null)" = postern ]
done
for u in postern-smtpd postern-tls postern-keys postern-auth postern-log postern-vmail postern-alias postern-pop3 \
	postern-submit; do
	check "user $u exists with primary group postern-nofiles" \
		[ "$(id -gn "$u" 2> /dev/null)" = postern-nofiles ]
done
check "postern's users cannot log in" \
	[ "$(getent passwd postern-queue | cut -d: -f7)" = /usr/sbin/nologin ]
check "postern-submit is a user of its own (not postern-smtpd's uid), home /nonexistent, no login" \
	sh -c '[ "$(id -u postern-submit)" != "$(id -u postern-smtpd)" ] &&
		[ "$(getent passwd postern-submit | cut -d: -f6-7)" = /nonexistent:/usr/sbin/nologin ]'

# An admin's edit survives a reinstall; a deleted template comes back.
echo "example.org" > "$PHOME/control/locals"
rm "$PHOME/control/retrymin"
"$POSTERN_SRC/install" --home "$PHOME" --build "$POSTERN_BUILD" > "$SCRATCH/re.log" 2>&1
check "a reinstall keeps the admin's control/locals" [ "$(cat "$PHOME/control/locals")" = example.org ]
check "a reinstall restores a deleted control template" cmp -s "$PHOME/control/retrymin" "$POSTERN_SRC/conf-templates/control/retrymin"
check "a reinstall says it restored exactly that" [ "$(grep -c '^install: installed' "$SCRATCH/re.log")" -eq 1 ]

# A second home on the same machine shares the users and checks clean too.
H2=$SCRATCH/home2
check "a second home installs" quietly "$POSTERN_SRC/install" --home "$H2" --build "$POSTERN_BUILD"
check "the second home checks clean" quietly "$POSTERN_SRC/install" --home "$H2" --build "$POSTERN_BUILD" --check

# An upgrade from log directories of group postern-nofiles (0750): the
# install sets the new mode on the directories there are, and --check
# finds the old one.
for l in $LOGDIRS; do chmod 0750 "$H2/log/$l"; done
out=$("$POSTERN_SRC/install" --home "$H2" --build "$POSTERN_BUILD" --check 2>&1)
check "--check reports every log directory still 0750 ($(printf '%s\n' "$out" | grep -c 'mode 0750, want 0700'))" \
	[ "$(printf '%s\n' "$out" | grep -c "^$H2/log/[a-z0-9-]*: mode 0750, want 0700$")" -eq "$(echo $LOGDIRS | wc -w)" ]
out=$("$POSTERN_SRC/install" --home "$H2" --build "$POSTERN_BUILD" 2>&1); rc=$?
check "an upgrade sets 0700 on each existing log directory and says so" \
	sh -c '[ "$1" -eq 0 ] && for l in $3; do printf "%s\n" "$2" | grep -qx "install: set postern-log:postern-nofiles 0700 on $4/log/$l" || exit 1; done' \
	- "$rc" "$out" "$LOGDIRS" "$H2"
check "and they are 0700 now" sh -c 'for l in $2; do [ "$(stat -c %a "$1/log/$l")" = 700 ] || exit 1; done' - "$H2" "$LOGDIRS"

# An upgrade from a release with IPv6 twin services, supervised by a real
# s6-svscan: ./install takes each down (its supervisors exit too) and
# removes it; its log directory stays.  The other services are down here.
# A third one is what an ./install cut short after its rename left: a
# .retired-NAME still supervised (s6-svscan had started it under its old
# name), which the next run stops and removes too.
for s in "$H2"/service/*; do touch "$s/down"; done
for s in postern-smtpd6 postern-pop3s-6 postern-pop3-6; do
	mkdir -p "$H2/service/$s/log" "$H2/log/${s#postern-}"
	printf '#!/bin/sh\nexec sleep 600\n' > "$H2/service/$s/run"
	printf '#!/bin/sh\nexec cat > /dev/null\n' > "$H2/service/$s/log/run"
	chmod 755 "$H2/service/$s/run" "$H2/service/$s/log/run"
done
s6-svscan "$H2/service" > "$SCRATCH/svscan2.log" 2>&1 < /dev/null &
SV2=$!
on_cleanup 's6-svscanctl -t "$H2/service" 2> /dev/null; i=0; while kill -0 "$SV2" 2> /dev/null && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.1; done'
up() { s6-svstat -o up "$1" 2> /dev/null | grep -q true; }
i=0
until up "$H2/service/postern-smtpd6" && up "$H2/service/postern-smtpd6/log" && up "$H2/service/postern-pop3s-6" &&
	up "$H2/service/postern-pop3s-6/log" && up "$H2/service/postern-pop3-6" && up "$H2/service/postern-pop3-6/log"; do
	i=$((i + 1)); [ $i -lt 100 ] || break; sleep 0.1
done
check "the three old twins and their loggers run under s6 (within ${i}00 ms)" [ "$i" -lt 100 ]
old_pid=$(s6-svstat -o pid "$H2/service/postern-smtpd6" 2> /dev/null)
cut_pid=$(s6-svstat -o pid "$H2/service/postern-pop3-6" 2> /dev/null)
mv "$H2/service/postern-pop3-6" "$H2/service/.retired-postern-pop3-6"
check "their programs have pids ($old_pid, $cut_pid)" sh -c '[ "$1" -gt 1 ] && [ "$2" -gt 1 ] && kill -0 "$1" "$2"' - "${old_pid:-0}" "${cut_pid:-0}"
out=$("$POSTERN_SRC/install" --home "$H2" --build "$POSTERN_BUILD" --check 2>&1)
check "--check reports each retired service there is, the one left aside, and nothing else" \
	[ "$out" = "$H2/service/postern-smtpd6: a service this release retired (doc/architecture.md); ./install stops and removes it
$H2/service/.retired-postern-pop3-6: left by an ./install cut short; ./install stops and removes it
$H2/service/postern-pop3s-6: a service this release retired (doc/architecture.md); ./install stops and removes it
install --check: $H2: 3 problem(s)" ]
[ "$(printf '%s\n' "$out" | tail -n 1)" = "install --check: $H2: 3 problem(s)" ] || diag "$out"
out=$("$POSTERN_SRC/install" --home "$H2" --build "$POSTERN_BUILD" 2>&1); rc=$?
check "./install stops and removes the three and says so (exit $rc)" \
	[ "$rc.$(printf '%s\n' "$out" | grep -c '^install: stopped and removed .*/service/postern-\(smtpd6\|pop3s-6\|pop3-6\), a service this release retired')" = 0.3 ]
[ "$rc" -eq 0 ] || diag "$out"
check "their directories are gone, and nothing is left aside" sh -c '
	[ ! -e "$1/service/postern-smtpd6" ] && [ ! -e "$1/service/postern-pop3s-6" ] && ! ls -a "$1/service" | grep -q "^\.retired"' - "$H2"
check "the programs they ran have ended" sh -c '! kill -0 "$1" 2> /dev/null && ! kill -0 "$2" 2> /dev/null' - "$old_pid" "$cut_pid"
# A supervisor that s6-svscan started again would live a moment (it
# fails at once for want of its directory): look for 1.5 s, and at
# s6-svscan's complaints.
i=0 seen=0
while [ $i -lt 15 ]; do
	pgrep -P "$SV2" -f "s6-supervise (\.retired-)?postern-(smtpd6|pop3s-6|pop3-6)" > /dev/null && seen=$((seen + 1))
	i=$((i + 1)); sleep 0.1
done
check "their supervisors have exited and are not started again (s6-svscan's children, 15 looks in 1.5 s: $seen)" [ "$seen" -eq 0 ]
check "s6-svscan said nothing of them" sh -c '! grep -q "smtpd6\|pop3s-6\|pop3-6" "$1"' - "$SCRATCH/svscan2.log"
check "their log directories stay (the admin's record)" sh -c '[ -d "$1/log/smtpd6" ] && [ -d "$1/log/pop3s-6" ]' - "$H2"
check "the home checks clean again" quietly "$POSTERN_SRC/install" --home "$H2" --build "$POSTERN_BUILD" --check
s6-svscanctl -t "$H2/service" 2> /dev/null
i=0
while kill -0 "$SV2" 2> /dev/null; do i=$((i + 1)); [ $i -lt 300 ] || { kill -9 "$SV2"; break; }; sleep 0.1; done
wait "$SV2" 2> /dev/null
check "s6-svscan ended within 30 s" [ "$i" -lt 300 ]
for s in "$H2"/service/*; do rm -f "$s/down"; done

# control/servicesoff: a home without POP3's listener and postern-pspawn.
printf '# no POP3 here\n\n  postern-pop3\npostern-pspawn\n' > "$H2/control/servicesoff"
out=$("$POSTERN_SRC/install" --home "$H2" --build "$POSTERN_BUILD" --check 2>&1); rc=$?
check "--check reports each service there that control/servicesoff turns off (exit $rc)" \
	[ "$rc.$(printf '%s\n' "$out" | grep -c ': a service control/servicesoff turns off; ./install stops and removes it$')" = 1.2 ]
out=$("$POSTERN_SRC/install" --home "$H2" --build "$POSTERN_BUILD" 2>&1); rc=$?
check "./install stops and removes both, and says so (exit $rc)" \
	[ "$rc.$(printf '%s\n' "$out" | grep -c '^install: stopped and removed .*/service/postern-\(pop3\|pspawn\), a service control/servicesoff turns off$')" = 0.2 ]
[ "$rc" -eq 0 ] || diag "$out"
check "it warns that postern-pop3s, still on, needs postern-pspawn" \
	sh -c 'printf "%s\n" "$1" | grep -q "^install: warning: control/servicesoff names postern-pspawn but not postern-pop3s: "' - "$out"
check "the two are gone; postern-pop3s and their log directories stay" \
	sh -c '[ ! -e "$1/service/postern-pop3" ] && [ ! -e "$1/service/postern-pspawn" ] &&
		[ -x "$1/service/postern-pop3s/run" ] && [ -d "$1/log/pop3" ] && [ -d "$1/log/pspawn" ]' - "$H2"
out=$("$POSTERN_SRC/install" --home "$H2" --build "$POSTERN_BUILD" 2>&1)
check "a second ./install leaves them out: up to date" \
	[ "$(printf '%s\n' "$out" | tail -n 1)" = "install: $H2: up to date, nothing changed" ]
check "and --check is clean" quietly "$POSTERN_SRC/install" --home "$H2" --build "$POSTERN_BUILD" --check
for bad in postern-pop4 postern-smtpd/log 'postern-pop\063' service/postern-pop3; do
	printf 'postern-pop3\n%s\n' "$bad" > "$H2/control/servicesoff"
	out=$("$POSTERN_SRC/install" --home "$H2" --build "$POSTERN_BUILD" 2>&1); rc=$?
	check "a name that is no service ($bad) is fatal, with its line (exit $rc)" \
		sh -c '[ "$1" -eq 111 ] && printf "%s\n" "$2" | grep -q "servicesoff: line 2: .* is not one of postern.s services"' - "$rc" "$out"
done
printf 'postern-pop3\r\npostern-pspawn' > "$H2/control/servicesoff"
check "CRLF lines and no final newline: read all the same (up to date)" sh -c '
	[ "$("$1/install" --home "$2" --build "$3" 2>&1 | tail -n 1)" = "install: $2: up to date, nothing changed" ]' \
	- "$POSTERN_SRC" "$H2" "$POSTERN_BUILD"
: > "$H2/control/servicesoff"
out=$("$POSTERN_SRC/install" --home "$H2" --build "$POSTERN_BUILD" 2>&1); rc=$?
check "an empty list: ./install puts both back (exit $rc)" \
	sh -c '[ "$1" -eq 0 ] && [ -x "$2/service/postern-pop3/run" ] && [ -x "$2/service/postern-pspawn/log/run" ]' - "$rc" "$H2"
check "and --check is clean again" quietly "$POSTERN_SRC/install" --home "$H2" --build "$POSTERN_BUILD" --check
# postern-srs off while control/srsdomain names a domain: a warning for
# postern-send and for each SMTP listener that would wait on it
printf 'fwd.example\n' > "$H2/control/srsdomain"
printf 'postern-srs\n' > "$H2/control/servicesoff"
out=$("$POSTERN_SRC/install" --home "$H2" --build "$POSTERN_BUILD" 2>&1); rc=$?
check "postern-srs off with control/srsdomain set: warned for postern-send and the 3 SMTP services (exit $rc)" \
	[ "$rc.$(printf '%s\n' "$out" | grep -c '^install: warning: control/servicesoff names postern-srs but not postern-\(send\|smtpd\|submission\|smtps\): control/srsdomain names a domain')" = 0.4 ]
[ "$rc" -eq 0 ] || diag "$out"
: > "$H2/control/servicesoff"
printf '# SRS off\n' > "$H2/control/srsdomain"
check "  both undone: postern-srs back" sh -c '"$1/install" --home "$2" --build "$3" > /dev/null 2>&1 && [ -x "$2/service/postern-srs/run" ]' \
	- "$POSTERN_SRC" "$H2" "$POSTERN_BUILD"

# Each role its own user, each group its own name: a conf-users or
# conf-groups naming one twice is refused by the build (auto_conf.sh) and by
# ./install, before anything is made.
DUP=$SCRATCH/dupsrc
mkdir -p "$DUP/src/install" && cp "$POSTERN_SRC/install" "$DUP/" &&
	cp "$POSTERN_SRC/src/install/manifest" "$DUP/src/install/" &&
	cp "$POSTERN_SRC/conf-home" "$POSTERN_SRC/conf-groups" "$DUP/" || bail "copy the install"
SMTPD=$(grep -v '^#' "$POSTERN_SRC/conf-users" | sed -n 3p)
grep -v '^#' "$POSTERN_SRC/conf-users" | sed "12s/.*/$SMTPD/" > "$DUP/conf-users"
out=$(cd "$DUP" && sh "$POSTERN_SRC/src/lib/auto_conf.sh" 2>&1 > /dev/null); rc=$?
check "the build refuses a conf-users with postern-submit = postern-smtpd (exit $rc)" \
	sh -c '[ "$1" -ne 0 ] && [ "$2" = "auto_conf.sh: conf-users: '"'"'$3'"'"' is named twice; every role needs a name of its own" ]' - "$rc" "$out" "$SMTPD"
out=$("$DUP/install" --home "$SCRATCH/duphome" --build "$POSTERN_BUILD" 2>&1); rc=$?
check "so does ./install (exit 111), naming the line" \
	sh -c '[ "$1" -eq 111 ] && [ "$2" = "install: fatal: conf-users: line 12: '"'"'$3'"'"' is named twice; every role needs a name of its own" ]' - "$rc" "$out" "$SMTPD"
check "and makes nothing" [ ! -e "$SCRATCH/duphome" ]
cp "$POSTERN_SRC/conf-users" "$DUP/conf-users" || bail "cp conf-users"
G1=$(grep -v '^#' "$POSTERN_SRC/conf-groups" | sed -n 1p)
printf '%s\n%s\n' "$G1" "$G1" > "$DUP/conf-groups"
out=$(cd "$DUP" && sh "$POSTERN_SRC/src/lib/auto_conf.sh" 2>&1 > /dev/null); rc=$?
check "the build refuses one name for both groups (exit $rc)" \
	sh -c '[ "$1" -ne 0 ] && printf "%s\n" "$2" | grep -q "conf-groups: .* is named twice"' - "$rc" "$out"
out=$("$DUP/install" --home "$SCRATCH/duphome" --build "$POSTERN_BUILD" 2>&1); rc=$?
check "so does ./install (exit 111)" \
	sh -c '[ "$1" -eq 111 ] && printf "%s\n" "$2" | grep -q "conf-groups: line 2: .* is named twice"' - "$rc" "$out"
cp "$POSTERN_SRC/conf-groups" "$DUP/conf-groups" || bail "cp conf-groups"
out=$(cd "$DUP" && sh "$POSTERN_SRC/src/lib/auto_conf.sh" 2>&1 > /dev/null); rc=$?
check "the copy with the default names builds (the refusals above were the duplicates')" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || diag "$out"

# Break things; --check must name each one, and nothing else.
chmod g-s "$PHOME/queue/mess"
chown root "$PHOME/queue/tmp"
chmod 4755 "$PHOME/bin/postern-local"
rm "$PHOME/bin/postern-inject"
rm "$PHOME/queue/lock/trigger"
echo "# edited" >> "$PHOME/service/postern-send/run"
ln -sfn postern-queue "$PHOME/bin/mailq"
out=$("$POSTERN_SRC/install" --home "$PHOME" --build "$POSTERN_BUILD" --check 2>&1); rc=$?
check "--check of a broken install exits 1" [ "$rc" -eq 1 ]
has() { printf '%s\n' "$out" | grep -qx "$1"; }
check "--check reports the lost setgid bit" has "$PHOME/queue/mess: mode 0750, want 2750"
check "--check reports the wrong owner" has "$PHOME/queue/tmp: owner root:postern, want postern-queue:postern"
check "--check reports the stray setuid bit" has "$PHOME/bin/postern-local: mode 4755, want 0755"
check "--check reports the deleted program" has "$PHOME/bin/postern-inject: missing file"
check "--check reports the deleted FIFO" has "$PHOME/queue/lock/trigger: missing FIFO"
check "--check reports the edited run script" has "$PHOME/service/postern-send/run: differs from .*"
check "--check reports the wrong symlink" has "$PHOME/bin/mailq: symlink to postern-queue, want postern-inject"
n=$(printf '%s\n' "$out" | grep -c "^$PHOME/")
check "--check prints exactly one line per problem (7, got $n)" [ "$n" -eq 7 ]
check "--check ends with the count" has "install --check: $PHOME: 7 problem(s)"
[ "$rc" -eq 1 ] && [ "$n" -eq 7 ] || diag "$out"
check "--check changed nothing" [ ! -e "$PHOME/bin/postern-inject" ]

check "a reinstall repairs it all" quietly "$POSTERN_SRC/install" --home "$PHOME" --build "$POSTERN_BUILD"
check "and --check is clean again" quietly "$POSTERN_SRC/install" --home "$PHOME" --build "$POSTERN_BUILD" --check

# A taken-over postern-remote owns secret/remote: it removes its smtpauth
# so that the next ./install writes the file again, and keeps planting a
# symlink where a temporary name beside it would be.  Root must never
# write through it: the new file is written in root's own stage.
VICTIM=$SCRATCH/victim
echo "root's own file" > "$VICTIM" && chmod 644 "$VICTIM"
rm -f "$PHOME/secret/remote/smtpauth"
setpriv --reuid=postern-remote --regid=postern --clear-groups sh -c '
	end=$(($(date +%s) + 20))
	while [ "$(date +%s)" -lt "$end" ]; do ln -sf "$1" "$2/smtpauth.install-tmp" 2> /dev/null; done' - "$VICTIM" "$PHOME/secret/remote" &
PLANTER=$!
on_cleanup "kill $PLANTER 2> /dev/null"
sleep 0.3
check "a reinstall with a symlink planted again and again beside smtpauth exits 0" \
	quietly "$POSTERN_SRC/install" --home "$PHOME" --build "$POSTERN_BUILD"
kill "$PLANTER" 2> /dev/null; wait "$PLANTER" 2> /dev/null
check "root wrote nothing through the symlink: the file it points at is unchanged, 644" \
	sh -c '[ "$(cat "$1")" = "root'"'"'s own file" ] && [ "$(stat -c %a "$1")" = 644 ]' - "$VICTIM"
check "smtpauth is back, postern-remote's, 0600, from the template" \
	sh -c '[ -f "$1" ] && [ ! -L "$1" ] && [ "$(stat -c "%U %a" "$1")" = "postern-remote 600" ] &&
		cmp -s "$1" "$2"' - "$PHOME/secret/remote/smtpauth" "$POSTERN_SRC/conf-templates/secret/remote/smtpauth"
check "and root's stage is gone" [ ! -e "$PHOME/.install-stage" ]
rm -f "$PHOME/secret/remote/smtpauth.install-tmp"

"$POSTERN_SRC/install" --home "$SCRATCH/nothing" --check > /dev/null 2>&1; rc=$?
check "--check of a missing home exits 1" [ "$rc" -eq 1 ]
"$POSTERN_SRC/install" --home "$SCRATCH/a b" > /dev/null 2>&1; rc=$?
check "a home with a space is refused (exit 100)" [ "$rc" -eq 100 ]
check "and nothing was created for it" [ ! -e "$SCRATCH/a b" ]
"$POSTERN_SRC/install" --bogus > /dev/null 2>&1; rc=$?
check "an unknown option is a usage error (exit 100)" [ "$rc" -eq 100 ]
mkdir -p "$SCRATCH/nobuild"
"$POSTERN_SRC/install" --home "$SCRATCH/home3" --build "$SCRATCH/nobuild" > /dev/null 2>&1; rc=$?
check "installing from an empty build directory fails (exit 111)" [ "$rc" -eq 111 ]

done_testing
