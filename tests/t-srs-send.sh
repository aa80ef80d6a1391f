#!/bin/sh
# SRS on the way out (doc/srs.md, "Which senders are rewritten"), end to
# end: an installed postern run by s6, a local user whose .postern-EXT
# files forward to a scripted SMTP server on loopback (control/smtproutes),
# which records the MAIL FROM each transaction came with.  A forwarded
# copy of alice@example.org's message leaves as
# SRS0=HHHHHHHH=TT=example.org=alice@fwd.example, checked here with a
# SipHash-2-4 of our own (Python, after src/lib/srs.c) to stand for her;
# a forward from a local sender, from srsdomain itself, of a bounce, and a
# message that is no forward keep their senders; without control/srsdomain
# nothing is rewritten; without the key postern-srs cannot sign, and a
# forward waits (deferred, and both logs say why) and leaves rewritten once
# the key is there.
. "$(dirname "$0")/lib.sh"
scratch_init
PY=/usr/bin/python3

need_built postern-start postern-send postern-rspawn postern-remote postern-queue postern-local postern-inject postern-qctl
install_home || bail "./install into $SCRATCH/home"
D=srs.example
SRSD=fwd.example
smtp_home "$D"
U=ptsrs
make_user $U || bail "make_user $U"
H=$SCRATCH/users/$U
SEND_LOG=$PHOME/log/send/current
SVC=$PHOME/service/postern-send

# U-EXT@srs.example forwards to EXT@remote.example
for ext in off one two three four seven refuse eight; do
	printf '&%s@remote.example\n' "$ext" > "$H/.postern-$ext"
done
chown $U:$U "$H"/.postern-*
chmod 644 "$H"/.postern-*

# The scripted server (tests/smtpsink.py): each transaction is one line "from=<S> rcpt=<R>"
# in tx.log once its DATA is taken; a recipient starting with "refuse"
# gets 550 at RCPT (and is listed as "refused <R>").
SINK=$(free_port)
TX=$SCRATCH/tx.log
: > "$TX"
$PY "$POSTERN_SRC/tests/smtpsink.py" "$SINK" "$SCRATCH/cmds.log" --tx "$TX" > "$SCRATCH/sink.out" 2>&1 &
SINK_PID=$!
on_cleanup "kill $SINK_PID 2> /dev/null"
printf 'remote.example:[127.0.0.1]:%s\nexample.org:[127.0.0.1]:%s\n' "$SINK" "$SINK" > "$PHOME/control/smtproutes"

# The key, as the install will make it (doc/srs.md): made here only if
# the install did not.
KEYDIR=$PHOME/secret/srs
KEY=$KEYDIR/key
make_key() {
	mkdir -p "$KEYDIR" && chown postern-srs:postern-nofiles "$KEYDIR" && chmod 0700 "$KEYDIR" || return 1
	[ -f "$KEY" ] && return 0
	$PY -c 'import secrets; print(secrets.token_hex(16))' > "$KEY.tmp" &&
		chown postern-srs:postern-nofiles "$KEY.tmp" && chmod 0600 "$KEY.tmp" && mv "$KEY.tmp" "$KEY"
}
make_key || bail "secret/srs/key"

# srs_ok ADDRESS ORIGINAL: ADDRESS is an SRS address in fwd.example that
# the key signed and that stands for ORIGINAL (SRS0: dated today or
# yesterday; SRS1: the first forwarder's SRS0 address), by a SipHash-2-4
# written from the paper, not the library's
srs_ok() { $PY "$POSTERN_SRC/tests/srsaddr.py" check "$KEY" "$1" "$2" "$SRSD" 2> "$SCRATCH/srscheck.err"; }

# from_for RCPT: the MAIL FROM address (without <>) of the transaction for RCPT
from_for() { sed -n "s/^from=<\\([^>]*\\)> rcpt=.*<$1>.*/\\1/p" "$TX" | tail -n 1; }
arrived() { grep -q "rcpt=.*<$1>" "$TX"; }
msg() { printf 'From: %s\nTo: %s\nSubject: %s\n\nthe body of %s\n' "$1" "$2" "$3" "$3"; }
# fwd SENDER EXT: a message from SENDER to U-EXT@srs.example, straight into postern-queue
fwd() { msg "$1" "$U-$2@$D" "$2" | inject "$1" "$U-$2@$D"; }
send_pid() { tree_procs postern-send | cut -d' ' -f1; }
nlines() { grep -c "$1" "$SEND_LOG" 2> /dev/null; }

svscan_start
svc_wait_up postern-send 30 || bail "postern-send did not come up"
svc_wait_up postern-srs 30 || bail "postern-srs did not come up"
wait_for 10 $PY -c "import socket; socket.create_connection(('127.0.0.1', $SINK), 1)" || bail "the sink did not come up: $(cat "$SCRATCH/sink.out")"

# 1. control/srsdomain absent: a forward keeps its sender
check "no control/srsdomain: a forward from alice@example.org is queued" fwd alice@example.org off
check "  and arrives" wait_for 30 arrived off@remote.example
check "  with MAIL FROM:<alice@example.org>, not rewritten ($(from_for off@remote.example))" \
	[ "$(from_for off@remote.example)" = alice@example.org ]
check "  no srs= in postern-send's log" sh -c "! grep -q ' srs=' '$SEND_LOG'"
check "  nothing logged about SRS" sh -c "! grep -q srs_unavailable '$SEND_LOG'"

# 2. control/srsdomain and the key, read at start
printf '%s\n' "$SRSD" > "$PHOME/control/srsdomain"
old=$(send_pid)
check "postern-send restarted with control/srsdomain and secret/srs/key" \
	s6-svc -wR -T 30000 -r "$SVC"
check "  (a new postern-send: $old, now $(send_pid))" sh -c '[ -n "$1" ] && [ "$1" != "$2" ]' - "$(send_pid)" "$old"
check "  the key read without complaint" sh -c "! grep -q srs_unavailable '$SEND_LOG'"

check "a forward from alice@example.org is queued" fwd alice@example.org one
check "  and arrives" wait_for 30 arrived one@remote.example
a=$(from_for one@remote.example)
check "  with MAIL FROM:<SRS0=HHHHHHHH=TT=example.org=alice@$SRSD> ($a)" \
	sh -c 'case $1 in SRS0=????????=??=example.org=alice@fwd.example) true ;; *) false ;; esac' - "$a"
check "  signed with the key, dated today, standing for alice@example.org" srs_ok "$a" alice@example.org
[ -s "$SCRATCH/srscheck.err" ] && diag "$(cat "$SCRATCH/srscheck.err")"
check "  the delivery's log line names both: from=alice@example.org srs=\"$a\"" \
	grep -q "to=one@remote.example from=alice@example.org srs=\"$a\" status=delivered" "$SEND_LOG"
q=$(sed -n 's/.* delivery qid=\([^ ]*\) to=one@remote.example .*/\1/p' "$SEND_LOG" | head -n 1)
check "  the forwarded copy was queued with the original sender ($q)" grep -q "new qid=$q from=alice@example.org " "$SEND_LOG"

check "a forward from a sender in control/locals (carol@$D) is queued" fwd "carol@$D" two
check "  and arrives" wait_for 30 arrived two@remote.example
check "  with MAIL FROM:<carol@$D>, not rewritten" [ "$(from_for two@remote.example)" = "carol@$D" ]
check "a forward from a sender in srsdomain itself (dave@FWD.Example) is queued" fwd dave@FWD.Example three
check "  and arrives" wait_for 30 arrived three@remote.example
check "  with MAIL FROM:<dave@FWD.Example>, not rewritten" [ "$(from_for three@remote.example)" = dave@FWD.Example ]
check "a forward of a bounce (null sender) is queued" fwd "" four
check "  and arrives" wait_for 30 arrived four@remote.example
check "  with MAIL FROM:<>, still a bounce" grep -q '^from=<> rcpt=<four@remote.example>$' "$TX"

msg alice@example.org five@remote.example five |
	s6-setuidgid $U "$PHOME/bin/sendmail" -f alice@example.org five@remote.example
check "sendmail -f alice@example.org to a remote address (no forward): accepted" [ $? -eq 0 ]
check "  arrives" wait_for 30 arrived five@remote.example
check "  with MAIL FROM:<alice@example.org>, not rewritten" [ "$(from_for five@remote.example)" = alice@example.org ]
msg alice@example.org six@remote.example six | inject alice@example.org six@remote.example
check "a message relayed straight from alice@example.org (no S record)" wait_for 30 arrived six@remote.example
check "  with MAIL FROM:<alice@example.org>, not rewritten" [ "$(from_for six@remote.example)" = alice@example.org ]

S0=SRS0=ABCDEF=AB=example.org=alice@first.example
check "a forward of a message another host forwarded ($S0) is queued" fwd "$S0" seven
check "  and arrives" wait_for 30 arrived seven@remote.example
a=$(from_for seven@remote.example)
check "  as SRS1 naming the first forwarder ($a)" \
	sh -c 'case $1 in SRS1=????????=??=first.example==ABCDEF=AB=example.org=alice@fwd.example) true ;; *) false ;; esac' - "$a"
check "  signed with the key, standing for the first forwarder's address" srs_ok "$a" "$S0"

check "a forward from alice@example.org to a recipient who refuses it is queued" fwd alice@example.org refuse
check "  the sink refused it" wait_for 30 grep -q '^refused <refuse@remote.example>' "$TX"
check "  postern-send's bounce goes to the original sender, alice@example.org" \
	wait_for 30 grep -q '^from=<> rcpt=<alice@example.org>$' "$TX"

# 3. the key missing: postern-srs cannot sign, the forward waits, and the
# logs say why, once.  (Another sender than alice's: postern-send keeps
# her address, signed moments ago, for a minute.)
mv "$KEY" "$SCRATCH/key.saved" || bail "mv the key away"
n0=$(nlines srs_unavailable)
check "a forward from erin@example.org is queued" fwd erin@example.org eight
check "  and deferred: 4.3.0 SRS key unavailable" \
	wait_for 30 grep -q 'to=eight@remote.example status=deferred .*reason="4.3.0 SRS key unavailable"' "$SEND_LOG"
check "  one line of postern-send's says postern-srs did not sign, and why" \
	sh -c "[ \$(grep -c 'srs_unavailable service=postern-srs why=\"postern-srs: No such file or directory\" forwards=deferred' '$SEND_LOG') -eq $((n0 + 1)) ]"
check "  postern-srs's log names the key file and the errno text" \
	grep -q "srs_unavailable file=$KEY why=\"No such file or directory\"" "$PHOME/log/srs/current"
check "  not sent with its original sender" sh -c "! grep -q 'eight@remote.example' '$SCRATCH/cmds.log'"
"$PHOME/bin/postern-qctl" flush > /dev/null 2>&1
check "  a flush, within the pause: deferred again, nothing more logged" \
	wait_for 30 sh -c "[ \$(grep -c 'to=eight@remote.example status=deferred .*SRS key unavailable' '$SEND_LOG') -ge 2 ]"
check "  still not sent" sh -c "! grep -q 'eight@remote.example' '$SCRATCH/cmds.log'"
check "  one line still" sh -c "[ \$(grep -c 'srs_unavailable' '$SEND_LOG') -eq $((n0 + 1)) ]"
q=$(sed -n 's/.* delivery qid=\([^ ]*\) to=eight@remote.example .*/\1/p' "$SEND_LOG" | head -n 1)
printf 'Ferin@example.org\0S\0Teight@remote.example\0\0' > "$SCRATCH/env8"
check "  and still queued as postern-local wrote it: F<original sender> S T (mess/$q.env)" \
	cmp -s "$PHOME/queue/mess/$q.env" "$SCRATCH/env8"
"$PHOME/bin/mailq" > "$SCRATCH/mailq" 2>&1
check "  mailq shows it forwarded, with its original sender" grep -qx '  from <erin@example.org> (forwarded)' "$SCRATCH/mailq"
mv "$SCRATCH/key.saved" "$KEY" || bail "mv the key back"
# postern-srs reads the key again by itself; postern-send's SIGHUP ends
# its pause, so it asks at the next retry rather than 30 seconds on.  The
# SIGHUP and the flush reach postern-send by different ways: flushed until
# the retry finds the key
s6-svc -h "$SVC"
i=0
until arrived eight@remote.example || [ $i -ge 30 ]; do
	"$PHOME/bin/postern-qctl" flush > /dev/null 2>&1
	sleep 1
	i=$((i + 1))
done
check "the key back, SIGHUP and a flush: the forward arrives" arrived eight@remote.example
a=$(from_for eight@remote.example)
check "  rewritten ($a)" srs_ok "$a" erin@example.org
check "  nothing more logged about the key" \
	sh -c "[ \$(grep -c 'srs_unavailable' '$SEND_LOG') -eq $((n0 + 1)) ]"

done_testing
