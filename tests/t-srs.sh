#!/bin/sh
# The Sender Rewriting Scheme end to end (doc/srs.md): an installed postern
# run by s6, a user whose .postern forwards to another server (a scripted
# one on loopback behind control/smtproutes, so what it was sent can be
# checked byte for byte).  The forwarded copy leaves with its sender signed
# into control/srsdomain; a bounce sent back to that address over SMTP is
# taken (postern-smtpd verifies what postern-send signed) and relayed to
# the original sender; a tampered, foreign or expired address is refused
# at RCPT; a copy forwarded twice gets SRS1 and its bounce goes back to the
# first forwarder.
. "$(dirname "$0")/lib.sh"
scratch_init
PY=/usr/bin/python3

need_built postern-smtpd postern-mkrcpt postern-queue postern-send postern-local postern-remote postern-srskey
install_home || bail "./install into $SCRATCH/home"
D=srs-local.example
SRSD=fwd.example
make_user ptsfwd || bail "make_user ptsfwd"
printf '&carol@far.example\n' > "$SCRATCH/users/ptsfwd/.postern" && chown ptsfwd "$SCRATCH/users/ptsfwd/.postern" ||
	bail "ptsfwd's .postern"
smtp_home "$D"
printf '%s\n' "$SRSD" > "$PHOME/control/srsdomain" || bail "control/srsdomain"
"$PHOME/bin/postern-mkrcpt" 2> "$SCRATCH/mkrcpt.log" || bail "postern-mkrcpt: $(cat "$SCRATCH/mkrcpt.log")"
check "./install made an SRS key" test -s "$PHOME/secret/srs/key"

# One scripted server (tests/smtpsink.py) for every remote domain: it
# logs each command.
SINK=$(free_port)
$PY "$POSTERN_SRC/tests/smtpsink.py" "$SINK" "$SCRATCH/sink.log" > "$SCRATCH/sink.out" 2>&1 &
SINK_PID=$!
on_cleanup "kill $SINK_PID 2> /dev/null"
printf '%s:[127.0.0.1]:%s\n' far.example "$SINK" example.org "$SINK" first.example "$SINK" > "$PHOME/control/smtproutes"

svscan_start
svc_wait_up postern-send 30 || bail "postern-send did not come up"
svc_wait_up postern-smtpd 30 || bail "postern-smtpd did not come up"
svc_wait_up postern-srs 30 || bail "postern-srs did not come up"
wait_for 10 $PY -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" || bail "nothing listens on 127.0.0.1:$PORT"
wait_for 10 $PY -c "import socket; socket.create_connection(('127.0.0.1', $SINK), 1)" || bail "the sink did not come up: $(cat "$SCRATCH/sink.out")"

# smtp SENDER RCPT SUBJECT: one message over SMTP; prints the reply to
# RCPT ("250 ..." or the refusal) and exits 0 if the message was taken
smtp() {
	$PY - "$PORT" "$@" <<'PYEOF'
import smtplib, sys
port, sender, rcpt, subject = sys.argv[1:5]
with smtplib.SMTP('127.0.0.1', int(port)) as s:
    s.ehlo('client.test')
    s.mail(sender)
    code, text = s.rcpt(rcpt)
    print(code, text.decode('utf-8', 'replace'))
    if code != 250:
        sys.exit(1)
    code, _ = s.data(('From: someone\r\nSubject: %s\r\n\r\nthe body of %s\r\n' % (subject, subject)).encode())
    sys.exit(0 if code == 250 else 2)
PYEOF
}
# mail_from_before RCPT: the MAIL FROM address of the last transaction the sink got for RCPT
mail_from_before() {
	$PY - "$SCRATCH/sink.log" "$1" <<'PYEOF'
import sys
last, found = None, None
for line in open(sys.argv[1], encoding='utf-8', errors='replace'):
    line = line.rstrip('\n')
    if line.upper().startswith('MAIL FROM:'):
        last = line[10:].split(' ')[0].strip('<>')
    elif line.upper().startswith('RCPT TO:') and line[8:].split(' ')[0].strip('<>') == sys.argv[2]:
        found = last
if found is None:
    sys.exit(1)
print(found)
PYEOF
}
got_rcpt() { grep -q "^RCPT TO:<$1>" "$SCRATCH/sink.log" 2> /dev/null; }

# 1. a forward of alice@example.org's message leaves with an SRS0 sender
check "alice's message to ptsfwd is taken" smtp alice@example.org "ptsfwd@$D" one
check "the sink got the forwarded copy for carol" wait_for 30 got_rcpt carol@far.example
S0=$(mail_from_before carol@far.example)
check "its sender is SRS0, in $SRSD, naming example.org and alice ($S0)" \
	sh -c 'printf "%s\n" "$1" | grep -q "^SRS0=[A-Z2-7]\{8\}=[A-Z2-7]\{2\}=example\.org=alice@$2\$"' - "$S0" "$SRSD"
check "postern-send's log names the original sender and the rewritten one" \
	grep -q "from=alice@example.org srs=\"$S0\"" "$PHOME/log/send/current"

# 2. a bounce to that address comes back through port 25 and goes on to alice
out=$(smtp '' "$S0" bounce1)
check "a bounce to the SRS address is taken at RCPT (250) and DATA" sh -c '[ "$1" -eq 0 ] && printf "%s\n" "$2" | grep -q "^250"' - "$?" "$out"
check "... and relayed to alice@example.org" wait_for 30 got_rcpt alice@example.org
check "... with the null sender" test "$(mail_from_before alice@example.org)" = ""
check "postern-smtpd's log names the SRS address and the one it stands for" \
	grep -q "reversed=alice@example.org" "$PHOME/log/smtpd/current"

# 3. the same address lower-cased by some server on the way still verifies
low=$(printf '%s' "$S0" | tr 'A-Z' 'a-z')
out=$(smtp '' "$low" bounce2)
check "the lower-cased SRS address is taken too" test "$?" -eq 0

# 4. forgeries are refused at RCPT, and nothing is relayed for them
h=$(printf '%s' "$S0" | cut -c6-13)
case $h in A*) nh=B${h#?} ;; *) nh=A${h#?} ;; esac
forged=$(printf '%s' "$S0" | sed "s/^SRS0=$h=/SRS0=$nh=/")
out=$(smtp '' "$forged" forged)
check "a changed hash: 550 5.1.1" sh -c '[ "$1" -ne 0 ] && printf "%s\n" "$2" | grep -q "^550 5\.1\.1.*not a valid SRS address"' - "$?" "$out"
other=$(printf '%s' "$S0" | sed 's/=alice@/=mallory@/')
out=$(smtp '' "$other" forged2)
check "another local part under the same hash: 550 5.1.1" sh -c '[ "$1" -ne 0 ] && printf "%s\n" "$2" | grep -q "^550 5\.1\.1"' - "$?" "$out"
# sign DAYS_BACK: alice@example.org's SRS0 address dated DAYS_BACK days
# ago, signed here in Python with the installed key (doc/srs.md's form)
sign() { $PY "$POSTERN_SRC/tests/srsaddr.py" make "$PHOME/secret/srs/key" alice@example.org "$SRSD" "$1"; }
mine=$(sign 0)
check "signed independently (Python's SipHash), today's address is taken" smtp '' "$mine" python
check "... and is the one postern-send made (unless the day turned in between)" \
	sh -c '[ "$1" = "$2" ] || [ "$(printf "%s" "$1" | cut -c15-16)" != "$(printf "%s" "$2" | cut -c15-16)" ]' - "$mine" "$S0"
old=$(sign 30)
out=$(smtp '' "$old" expired)
check "an address signed 30 days ago: 550 5.1.1 expired" sh -c '[ "$1" -ne 0 ] && printf "%s\n" "$2" | grep -q "^550 5\.1\.1.*expired"' - "$?" "$out"
out=$(smtp '' "$(printf '%s' "$S0" | tr 'a-z' 'A-Z')" upper)
check "the upper-cased SRS address (domain too) is taken" test "$?" -eq 0
out=$(smtp '' "SRS0=AAAAAA=AA=example.org=alice@$D" elsewhere)
check "an SRS-looking address in another domain is an address like any other (no such user)" \
	sh -c 'printf "%s\n" "$1" | grep -q "^550 5\.1\.1" && ! printf "%s\n" "$1" | grep -q SRS' - "$out"
check "nothing was relayed for the refused addresses" sh -c '! grep -qi "^RCPT TO:<mallory@" "$1"' - "$SCRATCH/sink.log"

# 5. a message that was forwarded before it came here: SRS1, and back to the first forwarder
first="SRS0=ABCDEF=AB=example.net=dave@first.example"
check "dave's forwarded message (an SRS0 sender of first.example) to ptsfwd is taken" smtp "$first" "ptsfwd@$D" two
check "the sink got its copy" wait_for 30 sh -c '[ "$(grep -c "^RCPT TO:<carol@far.example>" "$1")" -ge 2 ]' - "$SCRATCH/sink.log"
S1=$(mail_from_before carol@far.example)
check "its sender is SRS1, naming first.example, keeping what it signed ($S1)" \
	sh -c 'printf "%s\n" "$1" | grep -q "^SRS1=[A-Z2-7]\{8\}=[A-Z2-7]\{2\}=first\.example==ABCDEF=AB=example\.net=dave@$2\$"' - "$S1" "$SRSD"
out=$(smtp '' "$S1" bounce3)
check "a bounce to the SRS1 address is taken" test "$?" -eq 0
check "... and relayed to first.example's SRS0 address" wait_for 30 got_rcpt "$first"

# 6. a non-forwarded message is never rewritten: a local user's mail to far.example
printf 'From: x\nSubject: direct\n\nbody\n' | s6-setuidgid ptsfwd "$PHOME/bin/sendmail" -f ptsfwd@"$D" direct@far.example
check "a local user's own message goes out" wait_for 30 got_rcpt direct@far.example
check "... with its own sender, not rewritten" test "$(mail_from_before direct@far.example)" = "ptsfwd@$D"

# 7. sendmail -bs, run by a local user, asks postern-srs as well (any uid
# may have an address reversed): RCPT to the SRS address is taken, a
# forged one refused
# bs RCPT: a sendmail -bs session of ptsfwd's, EHLO, MAIL FROM:<> and
# RCPT TO:<RCPT>, its replies in bs.out
bs() {
	printf 'EHLO client.test\r\nMAIL FROM:<>\r\nRCPT TO:<%s>\r\nQUIT\r\n' "$1" |
		s6-setuidgid ptsfwd "$PHOME/bin/sendmail" -bs > "$SCRATCH/bs.out" 2> "$SCRATCH/bs.err"
}
rcpt_reply() { # the reply to RCPT in bs.out: the fourth line that ends a reply (greeting, EHLO, MAIL, RCPT)
	$PY - "$SCRATCH/bs.out" <<'PYEOF'
import sys
ends = [l.rstrip('\r') for l in open(sys.argv[1], encoding='utf-8', errors='replace').read().split('\n')]
ends = [l for l in ends if len(l) > 3 and l[3] == ' ']
print(ends[3] if len(ends) > 3 else '')
PYEOF
}
bs "$S0"
r=$(rcpt_reply)
check "sendmail -bs by a local user: RCPT to the SRS address is taken ($r)" sh -c 'case $1 in 250*) true ;; *) false ;; esac' - "$r"
check "  reversed to alice@example.org, its log says" grep -q "srs ip=local .* reversed=alice@example.org" "$SCRATCH/bs.err"
bs "$forged"
r=$(rcpt_reply)
check "  a forged one: 550 5.1.1 ($r)" sh -c 'case $1 in "550 5.1.1"*) true ;; *) false ;; esac' - "$r"

# 8. postern-srs down: an SRS RCPT waits (451), said once in the log;
# back up, it is taken again
s6-svc -wD -T 30000 -d "$PHOME/service/postern-srs" || bail "s6-svc -d postern-srs"
out=$(smtp '' "$S0" down)
check "postern-srs down: RCPT to the SRS address gets 451 ($out)" \
	sh -c '[ "$1" -ne 0 ] && printf "%s\n" "$2" | grep -q "^451 "' - "$?" "$out"
check "  postern-smtpd's log says why" \
	grep -q 'srs_unavailable ip=127.0.0.1 service=postern-srs why="unable to connect to postern-srs' "$PHOME/log/smtpd/current"
s6-svc -wU -T 30000 -u "$PHOME/service/postern-srs" || bail "s6-svc -u postern-srs"
out=$(smtp '' "$S0" up)
check "  up again: taken" test "$?" -eq 0
done_testing
