#!/bin/sh
# postern-smtpd end to end, installed by ./install and run by s6 from its
# service directory (postern-listen, control/tcp.smtp), with the real postern-queue,
# scheduler and postern-local behind it, and clients nobody here wrote:
# swaks, curl smtp://, Python's smtplib and Postfix's smtp-source (a burst of
# 1,000 messages over 20 connections, each delivered exactly once).  An
# unknown user gets 550 at RCPT and no bounce anywhere.  `sendmail -bs`
# speaks SMTP through postern-inject.  The uid test: postern-smtpd runs as
# its user and can write neither the queue nor any home.
. "$(dirname "$0")/lib.sh"
scratch_init
PY=/usr/bin/python3

need_built postern-smtpd postern-mkrcpt postern-queue postern-send postern-local postern-inject
install_home || bail "./install into $SCRATCH/home"
ok "installed into a scratch home"
for f in service/postern-smtpd/run service/postern-smtpd/log/run control/tcp.smtp users; do
	[ -e "$PHOME/$f" ] || not_ok "install made $f"
done

D=smtp.example
make_user ptsalice || bail "make_user ptsalice"
make_user ptsbob || bail "make_user ptsbob"
A=$SCRATCH/users/ptsalice/Maildir
smtp_home "$D"
printf '30\n' > "$PHOME/control/maxperip"
"$PHOME/bin/postern-mkrcpt" 2> "$SCRATCH/mkrcpt.log" || bail "postern-mkrcpt: $(cat "$SCRATCH/mkrcpt.log")"
ok "postern-mkrcpt wrote users/rcpt.cdb"
check "rcpt.cdb is root:postern-nofiles 0640" [ "$(stat -c '%U:%G %a' "$PHOME/users/rcpt.cdb")" = "root:postern-nofiles 640" ]
check "rcpt.cdb is a cdb (cdb -d reads it) with ptsalice" sh -c "cdb -d '$PHOME/users/rcpt.cdb' | grep -q Uptsalice"

# a variable in s6-svscan's environment that no daemon may inherit
export POSTERN_LEAK_PROBE=1
svscan_start
unset POSTERN_LEAK_PROBE
svc_wait_up postern-send 30 || bail "postern-send did not come up"
svc_wait_up postern-smtpd 30 || bail "postern-smtpd did not come up"
i=0
until $PY -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" 2> /dev/null; do
	i=$((i + 1)); [ $i -lt 100 ] || bail "nothing listens on 127.0.0.1:$PORT"; sleep 0.1
done
ok "the postern-smtpd service listens on 127.0.0.1:$PORT"

n_new() { count_files "$A/new"; }

# swaks
swaks --server "127.0.0.1:$PORT" --from sender@remote.example --to "ptsalice@$D" \
	--header 'Subject: from swaks' > "$SCRATCH/swaks.log" 2>&1
check "swaks: accepted" grep -q '^<-  250 2.0.0' "$SCRATCH/swaks.log"
wait_files "$A/new" 1 20
check "swaks: delivered into ptsalice's Maildir" [ "$(n_new)" -eq 1 ]
f=$(ls "$A/new" | head -1)
check "the message carries our Received line with the client IP" \
	grep -q "^Received: from .* (\[127.0.0.1\])" "$A/new/$f"
# the 250 names the queue's id, which the delivery's log lines and the
# message's top Received line carry, and postern-smtpd's log ties it to
# the id of its own Received line
sid=$(sed -n 's/^<-  250 2\.0\.0 accepted id \([0-9A-Za-z.]*\) queued as [0-9A-Za-z.]*$/\1/p' "$SCRATCH/swaks.log")
qid=$(sed -n 's/^<-  250 2\.0\.0 accepted id [0-9A-Za-z.]* queued as \([0-9A-Za-z.]*\)$/\1/p' "$SCRATCH/swaks.log")
check "swaks: the 250 says accepted id SMTPD-ID queued as QID ($(grep '^<-  250 2.0.0' "$SCRATCH/swaks.log"))" \
	sh -c '[ -n "$1" ] && [ -n "$2" ] && [ "$1" != "$2" ]' - "$sid" "$qid"
# the log lines go through s6-log after the file is in new/: wait for them
check "postern-send logged that QID's delivery" wait_for 10 \
	sh -c 'grep -q "postern-send: delivery qid=$1 to=ptsalice@$2 status=delivered" "$3"' - "$qid" "$D" "$PHOME/log/send/current"
check "the delivered message's top Received line names it" sh -c 'sed -n "/^Received:/{p;q;}" "$1" | grep -q "^Received: (postern-queue id $2 invoked by uid "' - "$A/new/$f" "$qid"
check "and its Received line below names postern-smtpd's id" grep -q "with ESMTP id $sid\$" "$A/new/$f"
check "postern-smtpd's log line has both ids" wait_for 10 grep -q "postern-smtpd: message id=$sid qid=$qid " "$PHOME/log/smtpd/current"

# curl smtp://
printf 'Subject: from curl\r\n\r\ncurl body\r\n' > "$SCRATCH/curl.txt"
check "curl smtp://: accepted" curl -s --url "smtp://127.0.0.1:$PORT" --mail-from curl@remote.example \
	--mail-rcpt "ptsalice@$D" --upload-file "$SCRATCH/curl.txt"
wait_files "$A/new" 2 20
check "curl: delivered" [ "$(n_new)" -eq 2 ]

# Python smtplib, with SMTPUTF8 and with BDAT by hand
check "smtplib: sendmail accepted" $PY - "$PORT" "$D" <<'PYEOF'
import smtplib, sys
port, d = int(sys.argv[1]), sys.argv[2]
with smtplib.SMTP('127.0.0.1', port) as s:
    s.ehlo('smtplib.test')
    assert s.has_extn('smtputf8') and s.has_extn('chunking') and s.has_extn('pipelining')
    r = s.sendmail('py@remote.example', ['ptsalice@' + d], 'Subject: from smtplib\r\n\r\nhello\r\n')
    assert r == {}, r
    r = s.sendmail('jörg@bücher.example', ['ptsalice@' + d], 'Subject: utf8\r\n\r\nü\r\n'.encode(),
                   mail_options=['SMTPUTF8', 'BODY=8BITMIME'])
    assert r == {}, r
    s.mail('py@remote.example'); s.rcpt('ptsalice@' + d)
    c1, c2 = b'Subject: bdat\r\n\r\npart', b' one\r\n'
    s.send(b'BDAT %d\r\n' % len(c1) + c1)
    assert s.getreply()[0] == 250
    s.send(b'BDAT %d LAST\r\n' % len(c2) + c2)
    assert s.getreply()[0] == 250
PYEOF
wait_files "$A/new" 5 20
check "smtplib: three messages delivered" [ "$(n_new)" -eq 5 ]
check "the UTF-8 sender arrived intact" sh -c "grep -l 'Subject: utf8' '$A/new/'* | xargs grep -q 'Return-Path: <jörg@bücher.example>'"

# Unknown user: 550 at RCPT, and no bounce anywhere
swaks --server "127.0.0.1:$PORT" --from bob@remote.example --to "nosuchuser@$D" > "$SCRATCH/unknown.log" 2>&1
check "unknown user: 550 5.1.1 at RCPT" grep -q '^<\*\* 550 5.1.1' "$SCRATCH/unknown.log"
sleep 1
check "unknown user: nothing was queued (no bounce)" [ "$(find "$PHOME/queue/mess" -type f | wc -l)" -eq 0 ]
check "unknown user: no bounce in the postmaster's Maildir" [ "$(count_files "$PHOME/alias/Maildir/new")" -eq 0 ]

# sendmail -bs through postern-inject, as a local user
printf 'EHLO local\r\nMAIL FROM:<ptsbob@%s>\r\nRCPT TO:<ptsalice@%s>\r\nDATA\r\nSubject: from -bs\r\n\r\nlocal\r\n.\r\nQUIT\r\n' "$D" "$D" |
	su ptsbob -s /bin/sh -c "$PHOME/bin/sendmail -bs" > "$SCRATCH/bs.log" 2>&1
check "sendmail -bs: 250 after DATA" grep -q '^250 2.0.0 accepted' "$SCRATCH/bs.log"
wait_files "$A/new" 6 20
check "sendmail -bs: delivered, Received says via local" sh -c "grep -l 'from -bs' '$A/new/'* | xargs grep -q 'via local with ESMTP'"

# The uid test: a held connection's postern-smtpd
$PY - "$PORT" "$PHOME" "$SCRATCH" <<'PYEOF' > "$SCRATCH/uid.log" 2>&1
import os, re, socket, subprocess, sys, time
port, home, scratch = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(('127.0.0.1', port)); s.recv(100)
time.sleep(0.3)
out = subprocess.run(['ps', '-eo', 'pid,uid,gid,args'], capture_output=True, text=True).stdout
lines = [l for l in out.splitlines() if home + '/bin/postern-smtpd' in l and 'postern-listen' not in l]
print(lines)
import pwd
pw = pwd.getpwnam('postern-smtpd')
ok = lines and all(l.split()[1] == str(pw.pw_uid) and l.split()[2] == str(pw.pw_gid) for l in lines)
print('UIDOK' if ok else 'UIDBAD')
PYEOF
check "postern-smtpd runs as postern-smtpd:postern-nofiles" grep -q UIDOK "$SCRATCH/uid.log"
check "postern-smtpd cannot write queue/tmp" sh -c "! s6-setuidgid postern-smtpd sh -c 'echo x > $PHOME/queue/tmp/x' 2>/dev/null"
check "postern-smtpd cannot read queue/mess" sh -c "! s6-setuidgid postern-smtpd ls $PHOME/queue/mess > /dev/null 2>&1"
check "postern-smtpd cannot write a user's home" sh -c "! s6-setuidgid postern-smtpd sh -c 'echo x > $SCRATCH/users/ptsalice/x' 2>/dev/null"
check "postern-smtpd cannot write a user's Maildir" sh -c "! s6-setuidgid postern-smtpd sh -c 'echo x > $A/new/x' 2>/dev/null"
check "postern-smtpd cannot read the virtual mailboxes" sh -c "! s6-setuidgid postern-smtpd ls $PHOME/vmail > /dev/null 2>&1"
check "postern-smtpd cannot write control/ or users/" sh -c "! s6-setuidgid postern-smtpd sh -c 'echo x > $PHOME/control/x || echo x > $PHOME/users/rcpt.cdb' 2>/dev/null"
check "postern-smtpd can read users/rcpt.cdb" s6-setuidgid postern-smtpd cdb -q "$PHOME/users/rcpt.cdb" Uptsalice

# smtp-source: 1,000 messages over 20 connections
if command -v smtp-source > /dev/null 2>&1; then
	before=$(n_new)
	t0=$(date +%s.%N)
	smtp-source -s 20 -m 1000 -l 2048 -f src@remote.example -t "ptsalice@$D" "127.0.0.1:$PORT" > "$SCRATCH/source.log" 2>&1
	rc=$?
	t1=$(date +%s.%N)
	check "smtp-source: 1,000 messages over 20 connections, all accepted" [ "$rc" -eq 0 ]
	wait_files "$A/new" $((before + 1000)) 120
	t2=$(date +%s.%N)
	sleep 2
	got=$(( $(n_new) - before ))
	check "smtp-source: each of the 1,000 delivered exactly once ($got)" [ "$got" -eq 1000 ]
	check "the queue is empty afterwards" [ "$(find "$PHOME/queue/mess" -type f | wc -l)" -eq 0 ]
	check "postern-send found no damaged envelope" sh -c "! cat '$PHOME'/log/send/* | grep -q 'malformed envelope'"
	diag "$(awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "smtp-source 1000 x 2 KB / 20 conns: accepted in %.2f s (%.0f msg/s), delivered in %.2f s (%.0f msg/s)", b-a, 1000/(b-a), c-a, 1000/(c-a) }')"
else
	not_ok "smtp-source is not installed (tests/deps.sh installs postfix)"
fi

# A transaction that ends before its message (RSET, a second EHLO, QUIT,
# the client vanishing) must leave no file, no process and no error line,
# and a message after an RSET in the same session must still arrive.
before=$(n_new)
$PY - "$PORT" "ptsalice@$D" << 'PYEOF' > "$SCRATCH/abandon.log" 2>&1
import socket, smtplib, sys
port, rcpt = int(sys.argv[1]), sys.argv[2]
s = smtplib.SMTP('127.0.0.1', port)
s.ehlo('abandon.example')
for verb in ('RSET', 'EHLO abandon.example'):
    s.mail('a@remote.example'); s.rcpt(rcpt)
    code, _ = s.docmd(verb)
    assert code == 250, (verb, code)
s.mail('a@remote.example'); s.rcpt(rcpt)
s.rset()
s.sendmail('a@remote.example', [rcpt], 'Subject: after the abandoned ones\r\n\r\nbody\r\n')
s.mail('a@remote.example'); s.rcpt(rcpt)
s.quit()
# a client that vanishes after RCPT
c = socket.create_connection(('127.0.0.1', port))
f = c.makefile('rwb')
f.readline()
for line in (b'HELO x\r\n', b'MAIL FROM:<a@remote.example>\r\n', b'RCPT TO:<' + rcpt.encode() + b'>\r\n'):
    f.write(line); f.flush()
    while True:
        r = f.readline()
        if r[3:4] != b'-':
            break
c.close()
print('done')
PYEOF
check "abandoned transactions: the client saw 250 for each RSET, EHLO and the message" grep -q '^done' "$SCRATCH/abandon.log"
wait_files "$A/new" $((before + 1)) 20
sleep 1
check "the message after the abandoned transactions was delivered, once" [ "$(($(n_new) - before))" -eq 1 ]
check "abandoned transactions left nothing in queue/tmp" [ -z "$(ls -A "$PHOME/queue/tmp")" ]
check "and no postern-queue running" [ -z "$(tree_procs postern-queue)" ]
check "and no postern-queue error in the log" sh -c "! grep -q 'postern-queue: ' '$PHOME/log/smtpd/current'"

# The environments of the running daemons and of a postern-smtpd in session
$PY - "$PORT" > "$SCRATCH/env-session.log" 2>&1 << 'PYEOF' &
import socket, sys, time
c = socket.create_connection(('127.0.0.1', int(sys.argv[1])), 5)
c.recv(512)
time.sleep(3)
c.close()
PYEOF
ENV_CLIENT=$!
smtpd_running() { [ -n "$(tree_procs postern-smtpd)" ]; }
wait_for 5 smtpd_running
envof() { # NAME: the environment of the first such process below s6-svscan
	e_pid=$(tree_procs "$1" | awk 'NR == 1 { print $1 }')
	[ -n "$e_pid" ] && tr '\0' '\n' < "/proc/$e_pid/environ"
}
envof postern-smtpd > "$SCRATCH/env-smtpd"
envof postern-listen > "$SCRATCH/env-listen"
envof postern-send > "$SCRATCH/env-send"
check "postern-smtpd in session has the UCSPI variables" grep -q '^TCPREMOTEIP=127.0.0.1$' "$SCRATCH/env-smtpd"
check "and nothing from s6-svscan's environment" sh -c '! grep -q "^POSTERN_LEAK_PROBE=" "$1"' - "$SCRATCH/env-smtpd"
check "and its install's home, from the listener (it need not read /proc/self/exe)" \
	grep -qx "POSTERN_HOME=$(realpath "$PHOME")" "$SCRATCH/env-smtpd"
check "postern-listen runs with PATH alone" [ "$(cut -d= -f1 "$SCRATCH/env-listen")" = PATH ]
check "postern-send runs with PATH and POSTERN_HOME alone (postern-start sets them)" \
	[ "$(cut -d= -f1 "$SCRATCH/env-send" | sort | tr '\n' ' ')" = "PATH POSTERN_HOME " ]
# Another session's process, as the same user, cannot look inside this
# one (ptrace's read mode is what /proc/PID/environ and mem ask for)
s_pid=$(tree_procs postern-smtpd | awk 'NR == 1 { print $1 }')
check "another postern-smtpd cannot read a session's memory or environment ($s_pid)" \
	sealed_from postern-smtpd "$s_pid" mem
check "while an ordinary process of that user can be read by it (so the check above tests the flag)" \
	reads_own postern-smtpd
wait "$ENV_CLIENT"

# STARTTLS through the installed services: postern-tlsd starts a
# postern-tlsio per session, postern-keys signs with the key ./install made
svc_wait_up postern-keys 30 && svc_wait_up postern-tlsd 30
check "the postern-keys and postern-tlsd services are up" [ $? -eq 0 ]
KEY=$PHOME/secret/tls/key.pem CERT=$PHOME/secret/tls/cert.pem
check "./install made a key, postern-keys's alone ($(stat -c '%U %a' "$KEY"))" \
	[ "$(stat -c '%U %a' "$KEY")" = "postern-keys 600" ]
check "postern-tls (the engines' user) cannot read it" sh -c '! s6-setuidgid postern-tls cat "$1" > /dev/null 2>&1' - "$KEY"
CN=$(openssl x509 -in "$CERT" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p')
echo QUIT | timeout 30 openssl s_client -connect "127.0.0.1:$PORT" -starttls smtp -CAfile "$CERT" \
	-verify_return_error -verify_hostname "$CN" > "$SCRATCH/sclient.log" 2>&1
check "openssl s_client: the STARTTLS handshake verifies against the installed certificate for $CN" \
	grep -q 'Verify return code: 0 (ok)' "$SCRATCH/sclient.log"
check "with TLS 1.2 and an ECDHE AEAD suite ($(grep -o 'Cipher is [A-Z0-9-]*' "$SCRATCH/sclient.log"))" \
	grep -Eq 'Cipher is ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)' "$SCRATCH/sclient.log"
before=$(n_new)
swaks --tls --server "127.0.0.1:$PORT" --from sender@remote.example --to "ptsalice@$D" \
	--header 'Subject: over TLS' > "$SCRATCH/swaks-tls.log" 2>&1
check "swaks --tls: accepted after STARTTLS" grep -q '^<~  250 2.0.0 accepted' "$SCRATCH/swaks-tls.log"
wait_files "$A/new" $((before + 1)) 20
f=$(grep -l '^Subject: over TLS' "$A/new"/* 2> /dev/null | head -1)
check "swaks --tls: delivered, its Received line saying ESMTPS and the suite" \
	sh -c 'grep -q "with ESMTPS id" "$1" && grep -q "(using TLSv1.2 with cipher ECDHE-" "$1"' - "$f"
check "postern-tlsio logged the session in postern-tlsd's log" \
	grep -q 'postern-tlsio: established protocol=TLSv1.2' "$PHOME/log/tlsd/current"
echo QUIT | timeout 30 openssl s_client -connect "127.0.0.1:$PORT" -starttls smtp -tls1_3 > "$SCRATCH/sclient13.log" 2>&1
check "a TLS 1.3-only client fails the handshake, logged" \
	wait_for 5 grep -q 'postern-tlsio: failed stage=handshake' "$PHOME/log/tlsd/current"

# control/dkimverify through the installed programs: postern-smtpd (as
# postern-smtpd) starts postern-dkimverify, which becomes the setuid
# postern-queue on its memfd.  127.0.0.2 is made a stranger by a rule
# before the template's 127. one (t-dkimverify.py checks signatures).
check "bin/postern-dkimverify is installed root 0711" \
	[ "$(stat -c '%U %a' "$PHOME/bin/postern-dkimverify")" = "root 711" ]
{ printf '127.0.0.2:allow\n'; cat "$PHOME/control/tcp.smtp"; } > "$SCRATCH/tcp.smtp" &&
	cat "$SCRATCH/tcp.smtp" > "$PHOME/control/tcp.smtp"
s6-svc -h "$PHOME/service/postern-smtpd"
printf '1\n' > "$PHOME/control/dkimverify"
sleep 1 # the listener reads its rules again at SIGHUP
before=$(n_new)
swaks --server "127.0.0.1:$PORT" --local-interface 127.0.0.2 --from sender@remote.example --to "ptsalice@$D" \
	--header 'Subject: verified' > "$SCRATCH/swaks-dkimverify.log" 2>&1
check "dkimverify 1, a stranger's unsigned message: accepted" grep -q '^<-  250 2.0.0 accepted' "$SCRATCH/swaks-dkimverify.log"
swaks --server "127.0.0.1:$PORT" --from sender@remote.example --to "ptsalice@$D" \
	--header 'Subject: relayclient' > "$SCRATCH/swaks-relay.log" 2>&1
wait_files "$A/new" $((before + 2)) 20
f=$(grep -l '^Subject: verified' "$A/new"/* 2> /dev/null | head -1)
check "delivered with Authentication-Results: $D; dkim=none between postern-queue's Received and ours" \
	sh -c 'sed -n "/^Received: (postern-queue/{n;p;n;p;n;p;q;}" "$1" | tr "\n" "|" | grep -q "^Authentication-Results: $2;|	dkim=none|Received: from "' - "$f" "$D"
f=$(grep -l '^Subject: relayclient' "$A/new"/* 2> /dev/null | head -1)
check "a RELAYCLIENT's message: no Authentication-Results" sh -c '[ -n "$1" ] && ! grep -q "^Authentication-Results:" "$1"' - "$f"
printf '0\n' > "$PHOME/control/dkimverify"

grep -q 'postern-smtpd: message id=' "$PHOME/log/smtpd/current" 2> /dev/null
check "the smtpd log has one key=value line per message" [ $? -eq 0 ]
check "and per connection" grep -q 'postern-smtpd: connect ip=127.0.0.1 ' "$PHOME/log/smtpd/current"
done_testing
