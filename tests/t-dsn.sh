#!/bin/sh
# The SMTP DSN extension (RFC 3461, doc/dsn.md) end to end: an installed
# postern run by s6, clients speaking DSN through Python's smtplib and
# postern-inject's -N/-R/-V, local delivery and two loopback servers
# behind control/smtproutes, one that offers DSN and one that does not
# (scripted here, so that what each was told can be checked byte for
# byte).  What the sender asked for is what it is told: a success report
# for a local delivery (delivered) and for a server without DSN
# (relayed), nothing for a server that took the request on, the whole
# message back with RET=FULL, no bounce at all with NOTIFY=NEVER.  Through
# a user's forward (RFC 3461 5.2.7): one forward alone hands the request
# on, a forward beside a Maildir is reported as expanded.
. "$(dirname "$0")/lib.sh"
scratch_init
PY=/usr/bin/python3

need_built postern-smtpd postern-mkrcpt postern-queue postern-send postern-local postern-inject postern-remote
install_home || bail "./install into $SCRATCH/home"
D=dsn.example
make_user ptdalice || bail "make_user ptdalice"
make_user ptdbob || bail "make_user ptdbob"
A=$SCRATCH/users/ptdalice/Maildir
B=$SCRATCH/users/ptdbob/Maildir
# ptdalice's forwards: one alone, and one beside her Maildir (before
# postern-mkrcpt, which lists the extensions they make)
AH=$SCRATCH/users/ptdalice
printf '&fw1@with.example\n' > "$AH/.postern-fwd1"
printf './Maildir/\n&fw2@with.example\n' > "$AH/.postern-fwd2"
chown ptdalice:ptdalice "$AH/.postern-fwd1" "$AH/.postern-fwd2"
smtp_home "$D"
"$PHOME/bin/postern-mkrcpt" 2> "$SCRATCH/mkrcpt.log" || bail "postern-mkrcpt: $(cat "$SCRATCH/mkrcpt.log")"

# Two scripted servers (tests/smtpsink.py): WITH offers DSN, WITHOUT does
# not.  Each writes the commands it was sent to its log; a recipient
# starting with "refuse" gets 550 at RCPT.
WITH=$(free_port)
WITHOUT=$(free_port)
$PY "$POSTERN_SRC/tests/smtpsink.py" "$WITH" "$SCRATCH/with.log" --dsn > "$SCRATCH/sink.out" 2>&1 &
SINK_PID=$!
on_cleanup "kill $SINK_PID 2> /dev/null"
$PY "$POSTERN_SRC/tests/smtpsink.py" "$WITHOUT" "$SCRATCH/without.log" > "$SCRATCH/sink2.out" 2>&1 &
SINK2_PID=$!
on_cleanup "kill $SINK2_PID 2> /dev/null"
printf 'with.example:[127.0.0.1]:%s\nwithout.example:[127.0.0.1]:%s\n' "$WITH" "$WITHOUT" > "$PHOME/control/smtproutes"

svscan_start
svc_wait_up postern-send 30 || bail "postern-send did not come up"
svc_wait_up postern-smtpd 30 || bail "postern-smtpd did not come up"
wait_for 10 $PY -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" || bail "nothing listens on 127.0.0.1:$PORT"
wait_for 10 $PY -c "import socket; socket.create_connection(('127.0.0.1', $WITH), 1); socket.create_connection(('127.0.0.1', $WITHOUT), 1)" || bail "the sinks did not come up: $(cat "$SCRATCH/sink.out" "$SCRATCH/sink2.out")"

# send RCPT NOTIFY ORCPT ENVID RET SUBJECT: one message from ptdbob over SMTP
send() {
	$PY - "$PORT" "$D" "$@" <<'PYEOF'
import smtplib, sys
port, d, rcpt, notify, orcpt, envid, ret, subject = sys.argv[1:9]
mo = [o for o in ('ENVID=' + envid if envid else '', 'RET=' + ret if ret else '') if o]
ro = [o for o in ('NOTIFY=' + notify if notify else '', 'ORCPT=' + orcpt if orcpt else '') if o]
with smtplib.SMTP('127.0.0.1', int(port)) as s:
    s.ehlo('client.test')
    if not s.has_extn('dsn'):
        sys.exit('no DSN in EHLO')
    s.sendmail('ptdbob@' + d, [rcpt], ('From: ptdbob@%s\r\nSubject: %s\r\n\r\nthe body of %s\r\n' % (d, subject, subject)).encode(),
               mail_options=mo, rcpt_options=ro)
PYEOF
}
# report_about SUBJECT: the file in ptdbob's new/ that reports on SUBJECT
report_about() { grep -l "^Subject: $1\$" "$B"/new/* 2> /dev/null | head -n 1; }
nreports() { count_files "$B/new"; }

# 1. a local delivery with NOTIFY=SUCCESS, ORCPT and ENVID: delivered, and reported as such
check "EHLO lists DSN, and a message with every parameter is accepted" \
	send "ptdalice@$D" SUCCESS "rfc822;alice+2Bold@$D" 'one+2Bid' HDRS one
wait_files "$A/new" 1 20
check "ptdalice has the message" [ "$(count_files "$A/new")" -eq 1 ]
wait_files "$B/new" 1 20
r=$(report_about one)
check "ptdbob has a report on it" [ -n "$r" ]
check "  its subject says success" grep -q '^Subject: Successful Mail Delivery Report' "$r"
check "  Action: delivered, Status 2.0.0" sh -c "grep -q '^Action: delivered' '$r' && grep -q '^Status: 2\\.' '$r'"
check "  Original-Envelope-Id decoded from xtext" grep -q '^Original-Envelope-Id: one+id$' "$r"
check "  Original-Recipient decoded from xtext" grep -q "^Original-Recipient: rfc822;alice+old@$D\$" "$r"
check "  Final-Recipient is the address it went to" grep -q "^Final-Recipient: rfc822; ptdalice@$D\$" "$r"
check "  the body is not returned (a success report returns headers only)" sh -c "! grep -q 'the body of one' '$r'"

# 2. a server without DSN, NOTIFY=SUCCESS: relayed, and reported so
before=$(nreports)
check "message to a server without DSN accepted" send "x@without.example" SUCCESS "" "" "" two
wait_files "$B/new" $((before + 1)) 20
r=$(report_about two)
check "ptdbob is told it was relayed (Action: relayed)" sh -c "[ -n '$r' ] && grep -q '^Action: relayed' '$r'"
check "the server without DSN was sent no DSN parameter" sh -c "grep -q '^RCPT TO:<x@without.example>\$' '$SCRATCH/without.log' && ! grep -q 'NOTIFY=' '$SCRATCH/without.log'"

# 3. a server with DSN takes the request on: it is passed on, and postern reports nothing
before=$(nreports)
check "message to a server with DSN accepted" send "y@with.example" SUCCESS,FAILURE "rfc822;y@with.example" 'three+2B3' HDRS three
check "that server got RET and ENVID on MAIL" wait_for 20 grep -q "^MAIL FROM:<ptdbob@$D>.* RET=HDRS ENVID=three+2B3\$" "$SCRATCH/with.log"
check "and NOTIFY and ORCPT on RCPT" grep -q '^RCPT TO:<y@with.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;y@with.example$' "$SCRATCH/with.log"
check "delivered" wait_for 20 grep -q 'to=y@with.example status=delivered' "$PHOME/log/send/current"

# 4. a refusal with RET=FULL: the bounce holds the whole message
check "message to be refused, RET=FULL, accepted" send "refuse1@without.example" FAILURE "" "" FULL four
wait_files "$B/new" $((before + 1)) 20
r=$(report_about four)
check "ptdbob gets a bounce for it" sh -c "[ -n '$r' ] && grep -q '^Action: failed' '$r' && grep -q '^Subject: Undelivered Mail Returned to Sender' '$r'"
check "  with the whole message (message/rfc822 and the body)" sh -c "grep -q 'message/rfc822' '$r' && grep -q 'the body of four' '$r'"
check "no report was sent for the message to the server with DSN" [ -z "$(report_about three)" ]

# 5. NOTIFY=NEVER: refused, and no bounce
before=$(nreports)
check "message to be refused, NOTIFY=NEVER, accepted" send "refuse2@without.example" NEVER "" "" "" five
check "its recipient failed" wait_for 20 grep -q 'to=refuse2@without.example status=failed' "$PHOME/log/send/current"
# a sixth message, reported, marks that the fifth's report would have come by now
send "ptdalice@$D" SUCCESS "" "" "" six
wait_files "$B/new" $((before + 1)) 20
check "no bounce for NOTIFY=NEVER (only the next message's report came)" \
	sh -c "[ \$(ls '$B/new' | wc -l) -eq $((before + 1)) ] && [ -n \"\$(grep -l '^Subject: six' '$B'/new/*)\" ] && [ -z \"\$(grep -l '^Subject: five' '$B'/new/*)\" ]"

# 6. sendmail: -N, -V and -R
before=$(nreports)
printf 'From: ptdbob@%s\nSubject: seven\n\nthe body of seven\n' "$D" |
	s6-setuidgid ptdbob "$PHOME/bin/sendmail" -N success,failure -V 'seven id=1' -R hdrs "ptdalice@$D"
check "sendmail -N -V -R: accepted" [ $? -eq 0 ]
wait_files "$B/new" $((before + 1)) 20
r=$(report_about seven)
check "sendmail -N success: ptdbob is told it was delivered" sh -c "[ -n '$r' ] && grep -q '^Action: delivered' '$r'"
check "sendmail -V: the envelope id comes back as given" grep -q '^Original-Envelope-Id: seven id=1$' "$r"

# 7. forwards (doc/dsn.md, "Forwards")
before=$(nreports)
check "message to a forward that is the address's one destination accepted" \
	send "ptdalice-fwd1@$D" SUCCESS,FAILURE "" 'eight+2B8' HDRS eight
check "the copy reached the server with DSN with RET and ENVID on MAIL" \
	wait_for 20 grep -q "^MAIL FROM:<ptdbob@$D>.* RET=HDRS ENVID=eight+2B8\$" "$SCRATCH/with.log"
check "  and the request as given on RCPT, with the address it was sent to as ORCPT" \
	grep -q "^RCPT TO:<fw1@with.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;ptdalice-fwd1@$D\$" "$SCRATCH/with.log"
check "  the forward is recorded handed on (H), not delivered here" \
	wait_for 20 grep -q "to=ptdalice-fwd1@$D status=delivered" "$PHOME/log/send/current"
na=$(count_files "$A/new")
check "message to a forward beside a Maildir accepted" send "ptdalice-fwd2@$D" SUCCESS "" "" "" nine
wait_files "$B/new" $((before + 1)) 20
r=$(report_about nine)
check "ptdbob is told it was expanded (Action: expanded, 2.0.0)" \
	sh -c "[ -n '$r' ] && grep -q '^Action: expanded' '$r' && grep -q '^Status: 2\.0\.0' '$r' && grep -q '^Subject: Successful Mail Delivery Report' '$r'"
check "  the copy went on with NOTIFY=NEVER (SUCCESS taken out) and the ORCPT" \
	wait_for 20 grep -q "^RCPT TO:<fw2@with.example> NOTIFY=NEVER ORCPT=rfc822;ptdalice-fwd2@$D\$" "$SCRATCH/with.log"
check "  and ptdalice has her Maildir copy" wait_files "$A/new" $((na + 1)) 20
check "no report came for the forward that handed the request on" [ -z "$(report_about eight)" ]
check "only the expansion's report came" [ "$(nreports)" -eq $((before + 1)) ]

done_testing
