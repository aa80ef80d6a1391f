#!/bin/sh
# Remote delivery end to end: postern-send -> postern-rspawn ->
# postern-remote against real servers nobody here wrote (Postfix's
# smtp-sink, a Python aiosmtpd sink) and a few scripted misbehaving ones,
# with real DNS (unbound serving test zones).  Everything runs in two
# network namespaces this test creates: NC (postern, 10.99.0.1, fd99::1)
# and NS (the servers and the DNS, 10.99.0.x, fd99::10), joined by a veth
# pair.  /etc/netns/NC/resolv.conf points postern-remote at the test DNS.
. "$(dirname "$0")/lib.sh"

need_built postern-start postern-send postern-rspawn postern-remote postern-queue
for c in ip unbound smtp-sink; do
	command -v $c > /dev/null 2>&1 || [ -x /usr/sbin/$c ] || bail "$c missing (tests/deps.sh installs it)"
done
/usr/bin/python3 -c 'import aiosmtpd' 2> /dev/null || bail "python3-aiosmtpd missing"
PATH=$PATH:/usr/sbin

scratch_init
netns_pair pr 10.99.0 1 10.99.0.53 2 10 11 12 13 14 15 16 17 18 19 20 21 53
ip -n "$NC" addr add fd99::1/64 dev "$VA" nodad && ip -n "$NS" addr add fd99::10/64 dev "$VB" nodad ||
	bail "IPv6 addresses"

# --- DNS: unbound answering for test. from local data only ---
D=$SCRATCH/dns
mkdir -p "$D"
unbound_conf "$D" 10.99.0.53 10.99.0.0/24 \
	"mx1.good.test. A 10.99.0.10" \
	"mx2.good.test. A 10.99.0.11" \
	"good.test. MX 10 mx1.good.test." \
	"good.test. MX 20 mx2.good.test." \
	"failover.test. MX 10 dead.failover.test." \
	"failover.test. MX 20 mx.failover.test." \
	"dead.failover.test. A 10.99.0.12" \
	"mx.failover.test. A 10.99.0.11" \
	"policy.test. MX 10 mx.policy.test." \
	"mx.policy.test. A 10.99.0.11" \
	"xn--bcher-kva.test. MX 10 mx.policy.test." \
	"xn--mnchen-3ya.test. A 10.99.0.11" \
	"mx.xn--plicy-jua.test. A 10.99.0.11" \
	"amx.test. A 10.99.0.10" \
	"v6.test. MX 10 mx.v6.test." \
	"mx.v6.test. AAAA fd99::10" \
	"cname.test. MX 10 alias.cname.test." \
	"alias.cname.test. CNAME mx1.good.test." \
	"nullmx.test. MX 0 ." \
	"nxmx.test. MX 10 nothere.nxmx.test." \
	"down.test. MX 10 mx.down.test." \
	"mx.down.test. A 10.99.0.12" \
	"gone1.test. MX 10 mx.later.test." \
	"gone2.test. MX 10 mx.later.test." \
	"gone3.test. MX 10 mx.later.test." \
	"mx.later.test. A 10.99.0.2" \
	"bigline.test. MX 10 mx.bigline.test." \
	"mx.bigline.test. A 10.99.0.13" \
	"endless.test. MX 10 mx.endless.test." \
	"mx.endless.test. A 10.99.0.14" \
	"drop.test. MX 10 mx.drop.test." \
	"mx.drop.test. A 10.99.0.15" \
	"slow.test. MX 10 mx.slow.test." \
	"mx.slow.test. A 10.99.0.16" \
	"half.test. MX 10 mx.half.test." \
	"mx.half.test. A 10.99.0.17" \
	"trickle.test. MX 10 mx.trickle.test." \
	"mx.trickle.test. A 10.99.0.18" \
	"outofstep.test. MX 10 mx.outofstep.test." \
	"mx.outofstep.test. A 10.99.0.19" \
	"dsn.test. MX 10 mx.dsn.test." \
	"mx.dsn.test. A 10.99.0.20" \
	"nodsn.test. MX 10 mx.nodsn.test." \
	"mx.nodsn.test. A 10.99.0.21" \
	"loop.test. MX 10 mx.loop.test." \
	"mx.loop.test. A 10.99.0.1" \
	"mappedloop.test. MX 10 mx.mappedloop.test." \
	"mx.mappedloop.test. AAAA ::ffff:10.99.0.1"
nsbg unbound -d -c "$D/unbound.conf" > "$D/out" 2>&1
UNBOUND=$!
on_cleanup 'kill $UNBOUND 2>/dev/null'

# --- servers ---
SINK=$SCRATCH/sink
mkdir -p "$SINK" && chmod 777 "$SINK"
nsbg smtp-sink -u nobody -d "$SINK/%M." 10.99.0.10:25 100 > "$SCRATCH/sink.out" 2>&1
SINK4=$!
nsbg smtp-sink -u nobody -d "$SINK/%M." '[fd99::10]:25' 100 > "$SCRATCH/sink6.out" 2>&1
SINK6=$!
on_cleanup 'kill $SINK4 $SINK6 2>/dev/null'

AIO=$SCRATCH/aio
mkdir -p "$AIO"
cat > "$SCRATCH/servers.py" << 'PYEOF'
# The aiosmtpd sink (policy: bad* -> 550, grey* -> 451 the first time) on
# 10.99.0.11, and raw misbehaving servers: .13 one 1 MB reply line, .14
# endless continuation lines, .15 drops the connection in the middle of
# DATA, .16 greets after 3 seconds, .17 hangs on a session's second MAIL,
# .18 sends its greeting a byte every half second and never ends it, .19
# offers PIPELINING and leaves out the RCPT's reply (the 354 comes where
# the RCPT's answer belongs), .20 offers DSN and .21 does not, each
# writing every command line it gets to OUT/NAME.cmds.
import asyncio, os, socket, sys, threading, time
from aiosmtpd.controller import Controller
out = sys.argv[1]
seen = set()
class Policy:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split('@')[0]
        if local.startswith('bad'):
            return '550 5.1.1 <%s>: Recipient address rejected: no such user here' % address
        if local.startswith('grey') and address not in seen:
            seen.add(address)
            return '451 4.7.1 <%s>: greylisted, try again later' % address
        envelope.rcpt_tos.append(address)
        return '250 2.1.5 OK'
    async def handle_DATA(self, server, session, envelope):
        name = os.path.join(out, '%f.%d' % (time.time(), os.getpid()))
        with open(name + '.tmp', 'wb') as f:
            f.write(('X-Rcpts: %s\n' % ' '.join(envelope.rcpt_tos)).encode())
            f.write(('X-Peer-Port: %d\n' % session.peer[1]).encode())
            f.write(envelope.original_content)
        os.rename(name + '.tmp', name)
        return '250 2.0.0 queued at aiosmtpd'
c = Controller(Policy(), hostname='10.99.0.11', port=25, enable_SMTPUTF8=True)
c.start()

def raw(ip, behave):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ip, 25)); s.listen(50)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=behave, args=(conn,), daemon=True).start()
def bigline(c):
    try:
        c.sendall(b'220 ' + b'x' * (1024 * 1024) + b'\r\n'); time.sleep(2)
    except OSError: pass
    c.close()
def endless(c):
    try:
        for i in range(200000):
            c.sendall(b'220-and more and more and more\r\n')
    except OSError: pass
    c.close()
def lines(c):
    f = c.makefile('rb')
    def say(t): c.sendall(t + b'\r\n')
    return f, say
def drop(c):
    f, say = lines(c)
    try:
        say(b'220 drop ESMTP')
        while True:
            l = f.readline()
            if not l: break
            cmd = l[:4].upper()
            if cmd in (b'EHLO', b'HELO'): say(b'250 drop')
            elif cmd == b'DATA':
                say(b'354 go on'); f.readline(); break
            elif cmd == b'QUIT': say(b'221 bye'); break
            else: say(b'250 ok')
    except OSError: pass
    c.close()
def serve(c, name, greet_after=0, hang_after=None):
    # a plain SMTP server: greets (after greet_after seconds), takes each
    # message into OUT/NAME.N.TIME; with hang_after, never answers the MAIL
    # that follows that many messages in one session
    f, say = lines(c)
    try:
        time.sleep(greet_after); say(b'220 ' + name + b' ESMTP')
        data, done, body = False, 0, b''
        while True:
            l = f.readline()
            if not l: break
            if data:
                if l in (b'.\r\n', b'.\n'):
                    data, done = False, done + 1
                    open(os.path.join(out, '%s.%d.%f' % (name.decode(), done, time.time())), 'wb').write(body)
                    body = b''
                    say(b'250 2.0.0 ' + name + b' ok')
                else:
                    body += l
                continue
            cmd = l[:4].upper()
            if cmd in (b'EHLO', b'HELO'): say(b'250 ' + name)
            elif cmd == b'MAIL' and hang_after is not None and done >= hang_after: time.sleep(3600)
            elif cmd == b'DATA': say(b'354 go on'); data = True
            elif cmd == b'QUIT': say(b'221 bye'); break
            else: say(b'250 ok')
    except OSError: pass
    c.close()
def trickle(c):
    try:
        c.sendall(b'220')
        for i in range(1000):
            time.sleep(0.5); c.sendall(b'x')
    except OSError: pass
    c.close()
def outofstep(c):
    f, say = lines(c)
    try:
        say(b'220 outofstep ESMTP')
        while True:
            l = f.readline()
            if not l: break
            cmd = l[:4].upper()
            if cmd in (b'EHLO', b'HELO'): say(b'250-outofstep\r\n250 PIPELINING')
            elif cmd == b'MAIL': say(b'250 ok')
            elif cmd == b'RCPT': pass  # its reply goes missing
            elif cmd == b'DATA': say(b'354 go on')
            elif cmd == b'QUIT': say(b'221 bye'); break
            else: say(b'250 ok')
    except OSError: pass
    c.close()
def cmds(c, name, dsn):
    # every command line as it came, CRLF and all, into OUT/NAME.cmds;
    # bad* recipients get 550, everything else 250
    f, say = lines(c)
    try:
        with open(os.path.join(out, name.decode() + '.cmds'), 'ab', buffering=0) as log:
            say(b'220 ' + name + b' ESMTP')
            data = False
            while True:
                l = f.readline()
                if not l: break
                if data:
                    if l == b'.\r\n': data = False; say(b'250 2.0.0 ' + name + b' ok')
                    continue
                log.write(l)
                cmd = l[:4].upper()
                if cmd == b'EHLO': say(b'250-' + name + b'\r\n250-PIPELINING\r\n' + (b'250 DSN' if dsn else b'250 8BITMIME'))
                elif cmd == b'HELO': say(b'250 ' + name)
                elif cmd == b'RCPT' and l[8:12].lower() == b'<bad': say(b'550 5.1.1 no such user')
                elif cmd == b'DATA': say(b'354 go on'); data = True
                elif cmd == b'QUIT': say(b'221 bye'); break
                else: say(b'250 ok')
    except OSError: pass
    c.close()
slow = lambda c: serve(c, b'slow', greet_after=3)
half = lambda c: serve(c, b'half', hang_after=1)  # takes one message a session, hangs on the next
for ip, b in (('10.99.0.13', bigline), ('10.99.0.14', endless), ('10.99.0.15', drop), ('10.99.0.16', slow),
              ('10.99.0.17', half), ('10.99.0.18', trickle), ('10.99.0.19', outofstep),
              ('10.99.0.20', lambda c: cmds(c, b'dsn', True)), ('10.99.0.21', lambda c: cmds(c, b'nodsn', False))):
    threading.Thread(target=raw, args=(ip, b), daemon=True).start()
open(os.path.join(out, 'ready'), 'w').close()
while True:
    time.sleep(3600)
PYEOF
nsbg /usr/bin/python3 "$SCRATCH/servers.py" "$AIO" > "$SCRATCH/servers.out" 2>&1
SERVERS=$!
on_cleanup 'kill $SERVERS 2>/dev/null'

i=0
until [ -e "$AIO/ready" ] && ncrun /usr/bin/python3 -c '
import socket,sys
s=socket.create_connection(("10.99.0.10",25),2); s.close()
s=socket.create_connection(("10.99.0.53",53) if False else ("10.99.0.11",25),2); s.close()' 2> /dev/null; do
	i=$((i + 1)); [ $i -le 100 ] || bail "servers did not come up: $(cat "$SCRATCH"/servers.out "$SCRATCH"/sink.out "$D"/out)"
	sleep 0.1
done
check "unbound answers the MX of good.test inside the namespace" sh -c \
	"ip netns exec $NC /usr/bin/python3 -c 'import socket; print(socket.gethostbyname(\"mx1.good.test\"))' | grep -qx 10.99.0.10"

# --- postern ---
install_home || bail "install"
make_user ptr1 || bail "make_user"
echo client.test > "$PHOME/control/me"
echo 1 > "$PHOME/control/retrymin"
echo 2 > "$PHOME/control/retrymax"
echo 3 > "$PHOME/control/timeoutconnect"
echo 5 > "$PHOME/control/timeoutremote"
echo 2 > "$PHOME/control/concurrencyperdomain"
echo 0 > "$PHOME/control/bouncewarn"
LOG=$SCRATCH/postern.log
START_PID=
start() {
	ip netns exec "$NC" "$PHOME/bin/postern-start" >> "$LOG" 2>&1 < /dev/null &
	START_PID=$!
	wait_for 10 catches_term "$START_PID" postern-start || :
}
on_cleanup 'stop_start'
Q=$PHOME/queue
msg() { printf 'From: ptr1@client.test\nTo: %s\nSubject: %s\n\n%s\n.leading dot\nend of %s\n' "$1" "$2" "${3:-body}" "$2"; }
logged() { grep -q -- "$1" "$LOG"; }
nlogged() { grep -c -- "$1" "$LOG"; }
MD=$SCRATCH/users/ptr1/Maildir

# 0. The DSN parameters (RFC 3461, doc/dsn.md "Passing it on"), before
# postern-start: postern-remote by hand, then postern-rspawn on its own,
# against .20 (offers DSN) and .21 (does not), which write down every
# command line they get.
QA=1700000000.1P1R1
printf 'Subject: dsn\n\nbody\n' > "$SCRATCH/dsnmsg"
# remote_b DOMAIN ARG...: postern-remote -b with the message on fd 3; its
# records one a line in $SCRATCH/rb.out, its log in rb.err; its exit status
remote_b() {
	rb_d=$1
	shift
	ip netns exec "$NC" env POSTERN_HOME="$PHOME" "$PHOME/bin/postern-remote" -b "$rb_d" "$@" \
		3< "$SCRATCH/dsnmsg" > "$SCRATCH/rb.raw" 2> "$SCRATCH/rb.err"
	rb_rc=$?
	tr '\0' '\n' < "$SCRATCH/rb.raw" > "$SCRATCH/rb.out"
	return $rb_rc
}
statuses() { cut -c1 "$1" | tr -d '\n'; } # FILE: the status bytes of the records in it
# got NAME LINE...: the MAIL and RCPT lines server NAME got (CR LF taken
# off) are exactly LINE..., in that order; its log is emptied for the next
got() {
	g_f=$AIO/$1.cmds
	shift
	[ -f "$g_f" ] || { diag "no $g_f"; return 1; }
	tr -d '\r' < "$g_f" | grep -E '^(MAIL|RCPT) ' > "$g_f.got"
	printf '%s\n' "$@" > "$g_f.want"
	diff "$g_f.want" "$g_f.got" > "$g_f.diff"
	g_rc=$?
	[ $g_rc -eq 0 ] || diag "$(cat "$g_f.diff")"
	rm -f "$g_f"
	return $g_rc
}
ORC='rfc822;Orig+2Bx@dsn.test'
check "DSN server: postern-remote -b delivers (K K D, message K)" sh -c '
	[ "$1" = 0 ] && [ "$(cut -c1 "$2" | tr -d "\n")" = KKDK ]' - "$(remote_b dsn.test ptr1@client.test 'RET=HDRS ENVID=abc+2B' $QA 3 \
	a@dsn.test "NOTIFY=SUCCESS ORCPT=$ORC" b@dsn.test '' bad@dsn.test 'NOTIFY=FAILURE'; echo $?)" "$SCRATCH/rb.out" ||
	diag "$(cat "$SCRATCH/rb.out" "$SCRATCH/rb.err")"
check "DSN server: got MAIL with RET and ENVID, each RCPT with its own parameters, none where there are none" \
	got dsn 'MAIL FROM:<ptr1@client.test> RET=HDRS ENVID=abc+2B' "RCPT TO:<a@dsn.test> NOTIFY=SUCCESS ORCPT=$ORC" \
	'RCPT TO:<b@dsn.test>' 'RCPT TO:<bad@dsn.test> NOTIFY=FAILURE'
check "DSN server: no recipient reported R (the server reports itself)" sh -c "! grep -q 'dsn=relayed' $SCRATCH/rb.err"
check "server without DSN: the recipient with parameters is R, the one without K, the refused one D" sh -c '
	[ "$1" = 0 ] && [ "$(cut -c1 "$2" | tr -d "\n")" = RKDK ]' - "$(remote_b nodsn.test ptr1@client.test 'RET=FULL ENVID=abc' $QA 3 \
	a@nodsn.test 'NOTIFY=SUCCESS,FAILURE' b@nodsn.test '' bad@nodsn.test 'NOTIFY=SUCCESS'; echo $?)" "$SCRATCH/rb.out" ||
	diag "$(cat "$SCRATCH/rb.out" "$SCRATCH/rb.err")"
check "server without DSN: got no parameters at all" \
	got nodsn 'MAIL FROM:<ptr1@client.test>' 'RCPT TO:<a@nodsn.test>' 'RCPT TO:<b@nodsn.test>' 'RCPT TO:<bad@nodsn.test>'
check "server without DSN: the R recipient logged delivered, dsn=relayed" \
	grep -q 'attempt .*to=a@nodsn.test .*status=delivered .*dsn=relayed' "$SCRATCH/rb.err"
check "server without DSN: a recipient with only ORCPT is R too; the message's own record K" sh -c '
	[ "$1" = 0 ] && [ "$(cut -c1 "$2" | tr -d "\n")" = RK ] && sed -n 2p "$2" | grep -q "^Ksent to mx.nodsn.test"' - \
	"$(remote_b nodsn.test '' '' $QA 1 c@nodsn.test "ORCPT=$ORC"; echo $?)" "$SCRATCH/rb.out" && got nodsn 'MAIL FROM:<>' 'RCPT TO:<c@nodsn.test>'
# The longest there can be: a 1000-byte sender and recipient, ENVID of
# 100 bytes, ORCPT of a 32-byte type and 500 bytes of xtext: far past
# RFC 5321's 512 bytes a command (RFC 3461 5 raises it by the parameters),
# and nothing in postern-remote may cut it.
LONGS=$(printf "%0991d" 0 | tr 0 s)@dsn.test
LONGR=$(printf "%0991d" 0 | tr 0 r)@dsn.test
ENV100=$(printf "%0100d" 0 | tr 0 e)
ORC532="$(printf "%032d" 0 | tr 0 t);$(printf "%0500d" 0 | tr 0 o)"
check "the longest addresses and parameters go out whole" sh -c '
	[ "$1" = 0 ] && [ "$(cut -c1 "$2" | tr -d "\n")" = KK ]' - "$(remote_b dsn.test "$LONGS" "RET=FULL ENVID=$ENV100" $QA 1 \
	"$LONGR" "NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=$ORC532"; echo $?)" "$SCRATCH/rb.out" &&
	got dsn "MAIL FROM:<$LONGS> RET=FULL ENVID=$ENV100" "RCPT TO:<$LONGR> NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=$ORC532"
# Parameters that dsn_params_ok refuses: exit 100 before any connection.
CRLF=$(printf 'ENVID=x\r\nRSET')
for bad in 'RET=hdrs' 'SIZE=10' 'ENVID=abc RET=FULL' 'RET=FULL ' "$CRLF" "ENVID=$ENV100"x; do
	check "bad MAIL parameters in argv refused (100), nothing sent: '$(printf '%s' "$bad" | tr '\r\n' '??')'" sh -c '
		[ "$1" = 100 ] && [ ! -s "$2" ] && [ ! -e "$3" ]' - "$(remote_b dsn.test ptr1@client.test "$bad" $QA 1 a@dsn.test ''; echo $?)" \
		"$SCRATCH/rb.raw" "$AIO/dsn.cmds"
done
for bad in 'NOTIFY=never' 'NOTIFY=FAILURE,SUCCESS' 'ORCPT=a@dsn.test' 'ORCPT=rfc822;a b' 'RET=FULL' 'NOTIFY=NEVER '; do
	check "bad RCPT parameters in argv refused (100), nothing sent: '$bad'" sh -c '
		[ "$1" = 100 ] && [ ! -s "$2" ] && [ ! -e "$3" ]' - "$(remote_b dsn.test ptr1@client.test '' $QA 2 a@dsn.test '' b@dsn.test "$bad"; echo $?)" \
		"$SCRATCH/rb.raw" "$AIO/dsn.cmds"
done
check "-b: a recipient without its parameters argument is a usage error (100)" sh -c '[ "$1" = 100 ]' - \
	"$(remote_b dsn.test ptr1@client.test '' $QA 2 a@dsn.test '' b@dsn.test; echo $?)"
check "by hand (no -b): no parameters, even to a DSN server" sh -c "
	< $SCRATCH/dsnmsg ip netns exec $NC env POSTERN_HOME=$PHOME $PHOME/bin/postern-remote dsn.test ptr1@client.test $QA a@dsn.test 2> /dev/null |
	tr '\0' '\n' | cut -c1 | tr -d '\n' | grep -qx KK" && got dsn 'MAIL FROM:<ptr1@client.test>' 'RCPT TO:<a@dsn.test>'

# postern-rspawn on its own, as postern-remote, with a home of its own
# (its postern-remote and queue/mess/QA): a frame in, result frames out.
RH=$SCRATCH/rhome
mkdir -p "$RH/bin" "$RH/control" "$RH/queue/mess" && cp "$PHOME/bin/postern-remote" "$RH/bin/" &&
	echo client.test > "$RH/control/me" && cp "$SCRATCH/dsnmsg" "$RH/queue/mess/$QA" && chmod -R a+rX "$RH" ||
	bail "rspawn's home"
cat > "$SCRATCH/frames.py" << 'PYEOF'
# frames.py make FIELD...: one netstring of the fields, each ending in NUL;
# frames.py read: every netstring on stdin, one a line, fields joined by |
import sys
if sys.argv[1] == 'make':
    p = b''.join(a.encode('utf-8', 'surrogateescape') + b'\0' for a in sys.argv[2:])
    sys.stdout.buffer.write(b'%d:%s,' % (len(p), p))
else:
    d = sys.stdin.buffer.read()
    while d:
        n, d = d.split(b':', 1)
        p, d = d[:int(n)], d[int(n) + 1:]
        print('|'.join(x.decode() for x in p.split(b'\0')[:-1]))
PYEOF
# rspawn FIELD...: the frame through postern-rspawn; results in rs.out (a
# frame a line), its stderr in rs.err; its exit status
rspawn() {
	/usr/bin/python3 "$SCRATCH/frames.py" make "$@" > "$SCRATCH/rs.in"
	ip netns exec "$NC" env POSTERN_HOME="$RH" s6-setuidgid postern-remote "$PHOME/bin/postern-rspawn" \
		< "$SCRATCH/rs.in" > "$SCRATCH/rs.raw" 2> "$SCRATCH/rs.err"
	rs_rc=$?
	/usr/bin/python3 "$SCRATCH/frames.py" read < "$SCRATCH/rs.raw" > "$SCRATCH/rs.out"
	return $rs_rc
}
check "rspawn: a job to a DSN server: exit 0, K and K" sh -c '
	[ "$1" = 0 ] && cut -d"|" -f1,2,4,6 "$2" | grep -qx "7|K|K|K"' - "$(rspawn dsn.test 7 $QA ptr1@client.test 'ENVID=e1' 2 \
	a@dsn.test 'NOTIFY=SUCCESS' b@dsn.test ''; echo $?)" "$SCRATCH/rs.out" || diag "$(cat "$SCRATCH/rs.out" "$SCRATCH/rs.err")"
check "rspawn: postern-remote got the parameters in argv and sent them" \
	got dsn 'MAIL FROM:<ptr1@client.test> ENVID=e1' 'RCPT TO:<a@dsn.test> NOTIFY=SUCCESS' 'RCPT TO:<b@dsn.test>'
check "rspawn: R passed through to postern-send unchanged (server without DSN)" sh -c '
	[ "$1" = 0 ] && cut -d"|" -f1,2,4,6 "$2" | grep -qx "7|K|R|K"' - "$(rspawn nodsn.test 7 $QA ptr1@client.test 'RET=HDRS' 2 \
	a@nodsn.test "ORCPT=$ORC" b@nodsn.test ''; echo $?)" "$SCRATCH/rs.out" || diag "$(cat "$SCRATCH/rs.out" "$SCRATCH/rs.err")"
check "rspawn: ... and the server without DSN got none" got nodsn 'MAIL FROM:<ptr1@client.test>' 'RCPT TO:<a@nodsn.test>' 'RCPT TO:<b@nodsn.test>'
for bad in 'RET=hdrs' "$CRLF"; do
	check "rspawn: bad MAILPARAMS is a malformed frame (111), nothing started" sh -c '
		[ "$1" = 111 ] && grep -q "malformed request from postern-send: bad MAILPARAMS" "$2" && [ ! -e "$3" ]' - \
		"$(rspawn dsn.test 7 $QA ptr1@client.test "$bad" 1 a@dsn.test ''; echo $?)" "$SCRATCH/rs.err" "$AIO/dsn.cmds"
done
check "rspawn: bad RCPTPARAMS is a malformed frame (111), nothing started" sh -c '
	[ "$1" = 111 ] && grep -q "malformed request from postern-send: bad RCPTPARAMS" "$2" && [ ! -e "$3" ]' - \
	"$(rspawn dsn.test 7 $QA ptr1@client.test '' 2 a@dsn.test '' b@dsn.test 'NOTIFY=NEVER,SUCCESS'; echo $?)" "$SCRATCH/rs.err" "$AIO/dsn.cmds"
check "rspawn: a frame without the parameter fields (the old one) is malformed (111)" sh -c '
	[ "$1" = 111 ] && grep -q "malformed request" "$2" && [ ! -e "$3" ]' - \
	"$(rspawn dsn.test 7 $QA ptr1@client.test 1 a@dsn.test; echo $?)" "$SCRATCH/rs.err" "$AIO/dsn.cmds"

start

# 1. preferred MX, several recipients in one transaction, dot-stuffing
msg a@good.test one | inject ptr1@client.test a@good.test b@GOOD.test c@good.test
check "good.test: delivered to the preferred MX (smtp-sink, 10.99.0.10)" wait_for 15 sh -c \
	"[ \$(grep -c 'attempt .*mx=mx1.good.test ip=10.99.0.10 status=delivered' $LOG) -eq 3 ]"
check "three recipients in one SMTP transaction" sh -c \
	"grep -l 'Subject: one' $SINK/* | xargs grep -c X-Rcpt-Args | grep -qx 3"
check "dot-stuffing: the sink got '.leading dot' back unstuffed" sh -c "grep -qx '.leading dot' \$(grep -l 'Subject: one' $SINK/*)"

# 2. failover: the first MX refuses connections
msg x@failover.test two | inject ptr1@client.test x@failover.test
check "failover.test: first MX down, delivered by the second (aiosmtpd)" wait_for 15 logged \
	'attempt .*to=x@failover.test mx=mx.failover.test ip=10.99.0.11 status=delivered'
check "failover.test: the dead MX was tried first" logged 'host_failed .*mx=dead.failover.test ip=10.99.0.12 reason=".*connection refused'

# 3. no MX: the A record; an MX through a CNAME; IPv6 only
msg x@amx.test three | inject ptr1@client.test x@amx.test
msg x@cname.test four | inject ptr1@client.test x@cname.test
msg x@v6.test five | inject ptr1@client.test x@v6.test
check "amx.test (no MX): delivered to its A record" wait_for 15 logged 'to=x@amx.test mx=amx.test ip=10.99.0.10 status=delivered'
check "cname.test: MX through a CNAME delivered" wait_for 15 logged 'to=x@cname.test mx=alias.cname.test ip=10.99.0.10 status=delivered' ||
	diag "$(grep cname.test "$LOG")"
check "v6.test: delivered over IPv6 to fd99::10" wait_for 15 logged 'to=x@v6.test mx=mx.v6.test ip=fd99::10 status=delivered'

# 4. 550 -> DSN; 451 -> retry, then delivered; one message, one transaction
msg bad@policy.test six "the bounced one" | inject ptr1@client.test bad@policy.test grey@policy.test ok@policy.test
check "policy.test: 550 recipient failed" wait_for 15 logged 'to=bad@policy.test status=failed'
check "policy.test: 451 recipient deferred first" wait_for 15 logged 'to=grey@policy.test status=deferred .*451 4.7.1'
check "policy.test: 451 recipient delivered on retry" wait_for 20 logged 'to=grey@policy.test .*status=delivered'
check "aiosmtpd got ok@ and grey@ (separate transactions)" sh -c "grep -h '^X-Rcpts:' $AIO/[0-9]* | grep -q ok@policy.test && grep -h '^X-Rcpts:' $AIO/[0-9]* | grep -q grey@policy.test"

# 4b. internationalized domains (SMTPUTF8): DNS, and control/smtproutes,
# are asked with the A-labels (RFC 5890), the recipient goes as written
# (the log writes its UTF-8 bytes as \xNN)
msg ok@bücher.test idn1 | inject ptr1@client.test ok@bücher.test
msg ok@münchen.test idn2 | inject ptr1@client.test ok@münchen.test
printf 'ünïcode.test:[10.99.0.11]\nsmart.test:mx.pölicy.test\näb--c.test:[10.99.0.11]\n' > "$PHOME/control/smtproutes"
msg ok@xn--ncode-cta3g.test idn3 | inject ptr1@client.test ok@xn--ncode-cta3g.test
msg ok@smart.test idn4 | inject ptr1@client.test ok@smart.test
msg ok@äb--c.test idn5 | inject ptr1@client.test ok@äb--c.test
msg ok@äb--d.test idn6 | inject ptr1@client.test ok@äb--d.test
check "bücher.test: its MX found as xn--bcher-kva.test, delivered with SMTPUTF8" wait_for 15 logged \
	'to="ok@b\\xc3\\xbccher.test" mx=mx.policy.test ip=10.99.0.11 status=delivered'
check "münchen.test, no MX: the A record of xn--mnchen-3ya.test" wait_for 15 logged \
	'to="ok@m\\xc3\\xbcnchen.test" mx=xn--mnchen-3ya.test ip=10.99.0.11 status=delivered'
check "a control/smtproutes line written in UTF-8 routes its A-label domain" wait_for 15 logged \
	'to=ok@xn--ncode-cta3g.test mx=\[10.99.0.11\] ip=10.99.0.11 status=delivered'
check "a smarthost named in UTF-8 is asked as mx.xn--plicy-jua.test" wait_for 15 logged \
	'to=ok@smart.test mx=mx.xn--plicy-jua.test ip=10.99.0.11 status=delivered'
check "a domain that is no valid IDN (äb--c: RFC 5891's hyphens), routed as written, delivered" wait_for 15 logged \
	'to="ok@\\xc3\\xa4b--c.test" mx=\[10.99.0.11\] ip=10.99.0.11 status=delivered'
check "one with no route: failed, 5.1.2, not asked of DNS" wait_for 15 logged \
	'to="ok@\\xc3\\xa4b--d.test" status=failed .*not a valid internationalized domain name'
check "aiosmtpd got ok@bücher.test and ok@münchen.test as written" sh -c \
	"grep -h '^X-Rcpts:' $AIO/[0-9]* | grep -q 'ok@bücher.test' && grep -h '^X-Rcpts:' $AIO/[0-9]* | grep -q 'ok@münchen.test'"
rm -f "$PHOME/control/smtproutes"
check "DSN for bad@policy.test in the sender's Maildir" wait_for 15 sh -c "grep -l 'bad@policy.test' $MD/new/* > $SCRATCH/dsn1 2> /dev/null"
check "the DSN is multipart/report with message/delivery-status quoting the 550" /usr/bin/python3 -c '
import email, sys
m = email.message_from_binary_file(open(open(sys.argv[1]).read().split()[0], "rb"))
assert m.get_content_type() == "multipart/report", m.get_content_type()
ds = [p for p in m.walk() if p.get_content_type() == "message/delivery-status"]
assert ds, "no delivery-status part"
txt = m.as_string()
assert "550 5.1.1" in txt and "Status: 5.1.1" in txt, txt
assert "Action: failed" in txt
' "$SCRATCH/dsn1"

# 5. null MX: bounced at once
msg x@nullmx.test seven | inject ptr1@client.test x@nullmx.test
check "nullmx.test: failed at once with 5.1.10" wait_for 10 logged 'to=x@nullmx.test status=failed .*5.1.10'
check "nullmx.test: DSN with Status 5.1.10" wait_for 10 sh -c "grep -l 'Status: 5.1.10' $MD/new/* > /dev/null 2>&1"
check "nullmx.test: no connection attempted" sh -c "! grep -q 'host_failed .*nullmx' $LOG"

# 6. MX that does not resolve; MX that is this host
msg x@nxmx.test eight | inject ptr1@client.test x@nxmx.test
check "nxmx.test (MX name without address): deferred, not bounced" wait_for 10 logged 'to=x@nxmx.test status=deferred .*no address'
msg x@loop.test nine | inject ptr1@client.test x@loop.test
check "loop.test (MX is this host's 10.99.0.1): refused as a mail loop" wait_for 10 logged 'to=x@loop.test status=failed .*mail loop'
msg x@mappedloop.test nine-b | inject ptr1@client.test x@mappedloop.test
check "mappedloop.test (AAAA ::ffff:10.99.0.1, this host in IPv6 dress): refused as a mail loop" wait_for 10 \
	logged 'to=x@mappedloop.test status=failed .*mail loop'

# 7. hostile servers: 1 MB reply line, endless continuation lines
printf 'Subject: x\n\nx\n' > "$SCRATCH/small"
check "1 MB reply line: postern-remote defers, bounded (64 MB address space)" sh -c "
	ulimit -v 65536; < $SCRATCH/small ip netns exec $NC env POSTERN_HOME=$PHOME $PHOME/bin/postern-remote bigline.test ptr1@client.test 1700000000.1P1R1 x@bigline.test 2> $SCRATCH/big.err | tr '\0' '\n' > $SCRATCH/big.out;
	grep -q '^Z.*reply line too long' $SCRATCH/big.out"
check "endless continuation lines: postern-remote defers, bounded" sh -c "
	ulimit -v 65536; < $SCRATCH/small ip netns exec $NC env POSTERN_HOME=$PHOME $PHOME/bin/postern-remote endless.test ptr1@client.test 1700000000.1P1R1 x@endless.test 2> $SCRATCH/end.err | tr '\0' '\n' > $SCRATCH/end.out;
	grep -q '^Z.*too many lines' $SCRATCH/end.out"
printf 'Subject: b2\n\nsecond\n' > "$SCRATCH/small2"
check "-b: two messages, one record per recipient and one per message, in order" sh -c "
	ip netns exec $NC env POSTERN_HOME=$PHOME $PHOME/bin/postern-remote -b good.test \
		ptr1@client.test '' 1700000000.1P1R1 1 x@good.test '' '' '' 1700000000.2P1R2 2 y@good.test '' z@good.test '' \
		3< $SCRATCH/small 4< $SCRATCH/small2 2> $SCRATCH/b.err | tr '\0' '\n' > $SCRATCH/b.out;
	[ \$(wc -l < $SCRATCH/b.out) -eq 5 ] && [ \$(cut -c1 $SCRATCH/b.out | tr -d '\n') = KKKKK ] &&
	sed -n 2p $SCRATCH/b.out | grep -q '^Ksent to mx1.good.test'"
check "-b: a count that runs past the arguments is a usage error (100)" sh -c "
	ip netns exec $NC env POSTERN_HOME=$PHOME $PHOME/bin/postern-remote -b good.test \
		ptr1@client.test '' 1700000000.1P1R1 2 x@good.test '' 3< $SCRATCH/small > /dev/null 2>&1; [ \$? -eq 100 ]"
# A greeting that never ends but is never silent for timeoutremote (5 s):
# each reply has timeoutremote in all, not only each wait for a byte.
check "a greeting trickled a byte every 0.5 s: deferred after timeoutremote, not held" sh -c "
	start=\$(date +%s); < $SCRATCH/small timeout 60 ip netns exec $NC env POSTERN_HOME=$PHOME $PHOME/bin/postern-remote trickle.test ptr1@client.test 1700000000.1P1R1 x@trickle.test 2> $SCRATCH/trickle.err | tr '\0' '\n' > $SCRATCH/trickle.out;
	took=\$((\$(date +%s) - start)); grep -q '^Z.*timed out' $SCRATCH/trickle.out && [ \$took -lt 30 ]" ||
	diag "$(cat "$SCRATCH/trickle.out" "$SCRATCH/trickle.err")"
# A pipelining server that drops the RCPT's reply: the 354 comes where the
# RCPT's answer belongs.  Taken for a success it made the recipient
# "delivered" with no message sent.
check "replies out of step (a 354 to RCPT): deferred, never delivered" sh -c "
	< $SCRATCH/small timeout 60 ip netns exec $NC env POSTERN_HOME=$PHOME $PHOME/bin/postern-remote outofstep.test ptr1@client.test 1700000000.1P1R1 x@outofstep.test 2> $SCRATCH/step.err | tr '\0' '\n' > $SCRATCH/step.out;
	head -1 $SCRATCH/step.out | grep -q '^Z.*out of step'" ||
	diag "$(cat "$SCRATCH/step.out" "$SCRATCH/step.err")"
msg x@bigline.test ten | inject ptr1@client.test x@bigline.test
check "bigline.test through the queue: deferred, no crash" wait_for 10 logged 'to=x@bigline.test status=deferred .*reply line too long'

# 8. connection dropped in the middle of DATA
msg x@drop.test eleven | inject ptr1@client.test x@drop.test
check "drop.test: deferred after the connection dropped in DATA" wait_for 10 logged 'to=x@drop.test status=deferred .*DATA'
check "drop.test: the message stays queued" sh -c "grep -l 'Subject: eleven' $Q/mess/* > /dev/null"

# 9. a dead domain is not tried for every message at once
for n in 1 2 3 4 5 6; do msg x$n@down.test down$n | inject ptr1@client.test x$n@down.test; done
check "down.test: later messages deferred without connecting (host memory)" wait_for 10 logged \
	'to=x[0-9]@down.test status=deferred .*not tried: no host of the domain answered'
tries=$(grep -c 'host_failed .*mx=mx.down.test' "$LOG")
check "down.test: at most 2 connections (concurrencyperdomain) in the first round, not 6 ($tries)" [ "$tries" -le 4 ]

# 10. kill -9 of postern-remote, then of postern-rspawn, in the middle of a delivery
remote_pids() { ps -eo pid=,comm= | awk '$2 == "postern-remote" {print $1}'; }
rspawn_pid() { ps -eo pid=,ppid=,comm= | awk -v s="$START_PID" '$2 == s && $3 == "postern-rspawn" {print $1}'; }
our_remote() { # a postern-remote whose parent is our rspawn
	rp=$(rspawn_pid); [ -n "$rp" ] || return 1
	ps -eo pid=,ppid=,comm= | awk -v p="$rp" '$2 == p && $3 == "postern-remote" {print $1}' | head -1
}
msg x@slow.test twelve | inject ptr1@client.test x@slow.test
wait_for 10 sh -c "[ -n \"\$(ps -eo pid=,ppid=,comm= | awk -v p=$(rspawn_pid) '\$2 == p && \$3 == \"postern-remote\"')\" ]"
RP=$(our_remote)
# every delivery runs as the same user: another one cannot look inside this
# one, nor into postern-rspawn, the parent of them all; an ordinary process
# of that user can be read by it (so the check tests the flag)
check "another postern-remote cannot read a delivery's memory or environment ($RP)" \
	sealed_from postern-remote "$RP" mem
check "nor postern-rspawn's" sealed_from postern-remote "$(rspawn_pid)"
check "while an ordinary process of that user can be read by it" reads_own postern-remote
if [ -n "$RP" ]; then kill -9 "$RP"; ok "killed postern-remote $RP mid-delivery"; else not_ok "a postern-remote for slow.test was running"; fi
check "killed postern-remote: deferred, not lost" wait_for 10 logged 'to=x@slow.test status=deferred .*killed by signal 9'
check "slow.test delivered after the kill" wait_for 20 sh -c "ls $AIO/slow.* > /dev/null 2>&1"
rm -f "$AIO"/slow.*
msg y@slow.test thirteen | inject ptr1@client.test y@slow.test
wait_for 10 sh -c "[ -n \"\$(ps -eo pid=,ppid=,comm= | awk -v p=$(rspawn_pid) '\$2 == p && \$3 == \"postern-remote\"')\" ]"
RS=$(rspawn_pid)
if [ -n "$RS" ]; then kill -9 "$RS"; ok "killed postern-rspawn $RS mid-delivery"; else not_ok "postern-rspawn running"; fi
check "postern-start stops the set when postern-rspawn dies" wait_for 15 sh -c "! kill -0 $START_PID 2> /dev/null"
wait "$START_PID" 2> /dev/null
START_PID=
check "the message is still queued after the kill" sh -c "grep -l 'Subject: thirteen' $Q/mess/* > /dev/null"
start
check "after restart: y@slow.test delivered" wait_for 25 logged 'to=y@slow.test .*status=delivered'

# 11. messages waiting for one domain go over one connection, a transaction
# each; one that ends its session (no recipient accepted) does not take the
# others down with it.  The one remote slot is held by slow.test (3 s to
# greet) while four messages for policy.test queue up behind it.
hup_send() { kill -HUP "$(ps -eo pid=,ppid=,comm= | awk -v s="$START_PID" '$2 == s && $3 == "postern-send" {print $1}')"; }
echo 1 > "$PHOME/control/concurrencyremote"
hup_send
sleep 0.5
msg z@slow.test fourteen | inject ptr1@client.test z@slow.test
wait_for 10 sh -c "[ -n \"\$(ps -eo pid=,ppid=,comm= | awk -v p=$(rspawn_pid) '\$2 == p && \$3 == \"postern-remote\"')\" ]"
for r in reuse1 reuse2 bad3 reuse4; do msg "$r@policy.test" "batch-$r" | inject ptr1@client.test "$r@policy.test"; done
check "one connection: the four policy.test messages settled" wait_for 25 sh -c "
	grep -q 'to=reuse4@policy.test .*status=delivered' $LOG && grep -q 'to=bad3@policy.test .*status=failed' $LOG"
port_of() { grep -l "^Subject: batch-$1" "$AIO"/[0-9]* 2> /dev/null | xargs -r sed -n 's/^X-Peer-Port: //p' | head -1; }
p1=$(port_of reuse1) p2=$(port_of reuse2) p4=$(port_of reuse4)
check "reuse1 and reuse2 went over one connection (client ports $p1 $p2)" [ -n "$p1" -a "$p1" = "$p2" ]
check "after bad3 (no recipient accepted) a new connection carried reuse4 ($p4)" [ -n "$p4" -a "$p4" != "$p1" ]
check "each message of the batch logged once by postern-remote, with its own queue id" sh -c \
	"[ \$(grep 'attempt .*to=reuse[124]@policy.test .*status=delivered' $LOG | sed 's/.* qid=\\([^ ]*\\) .*/\\1/' | sort -u | wc -l) -eq 3 ] &&
	 [ \$(grep -c 'attempt .*to=reuse[124]@policy.test .*status=delivered' $LOG) -eq 3 ]"
# The same with a server that takes the first message of a session and
# never answers the second: postern-remote is killed while it waits.  The
# first message's result was reported when it was settled, so it is not
# sent again; the second is deferred.
msg z@slow.test fifteen | inject ptr1@client.test z2@slow.test
wait_for 10 sh -c "[ -n \"\$(ps -eo pid=,ppid=,comm= | awk -v p=$(rspawn_pid) '\$2 == p && \$3 == \"postern-remote\"')\" ]"
msg h1@half.test half1 | inject ptr1@client.test h1@half.test
msg h2@half.test half2 | inject ptr1@client.test h2@half.test
check "half.test: the first message reached the server" wait_for 20 sh -c "ls $AIO/half.1.* > /dev/null 2>&1"
sleep 0.5
HP=$(our_remote)
if [ -n "$HP" ]; then kill -9 "$HP"; ok "killed postern-remote $HP waiting on the second message"; else not_ok "a postern-remote for half.test was running"; fi
check "half.test: the first message is recorded delivered although its postern-remote was killed" wait_for 10 \
	logged 'delivery .*to=h1@half.test status=delivered'
check "half.test: the second is deferred with the kill as reason" wait_for 10 logged 'to=h2@half.test status=deferred .*killed by signal 9'
check "half.test: the second is delivered on its retry (a new session takes it first)" wait_for 20 \
	logged 'delivery .*to=h2@half.test status=delivered'
check "half.test: the first was not sent again (one delivered record, one file at the server)" sh -c \
	"[ \$(grep -c 'delivery .*to=h1@half.test status=delivered' $LOG) -eq 1 ] &&
	 [ \$(grep -l 'Subject: half1' $AIO/half.* 2> /dev/null | wc -l) -le 1 ]"
echo 20 > "$PHOME/control/concurrencyremote"
hup_send

# 12. delay warning once, then queue lifetime: expired recipients bounce with 5.4.7
echo 1 > "$PHOME/control/bouncewarn"
hup_send
check "delay warning (Action: delayed) for a deferred message" wait_for 40 sh -c "grep -l 'Action: delayed' $MD/new/* > $SCRATCH/warn 2>&1"
# The first warning to land may be another message's: wait for eleven's,
# then for one more failed attempt at it, which must not warn again.
check "delay warning for the drop.test message" wait_for 40 sh -c "grep -l 'Subject: Delayed Mail' $MD/new/* 2> /dev/null | xargs -r grep -l 'Subject: eleven' > /dev/null"
ndefer=$(grep -c 'to=x@drop.test .*status=deferred' "$LOG")
check "drop.test retried after its warning" wait_for 40 sh -c "[ \$(grep -c 'to=x@drop.test .*status=deferred' $LOG) -gt $ndefer ]"
check "one warning per message" sh -c "[ \$(grep -l 'Subject: Delayed Mail' $MD/new/* | xargs grep -l 'Subject: eleven' | wc -l) -eq 1 ]"
echo 2 > "$PHOME/control/queuelifetime"
hup_send
check "expired: drop.test bounced with Status 5.4.7" wait_for 40 sh -c "grep -l 'Status: 5.4.7' $MD/new/* | xargs grep -l 'x@drop.test' > /dev/null 2>&1"
check "queue empties once everything expired or was delivered" wait_for 30 sh -c "[ -z \"\$(ls -A $Q/mess)\" ]"

# 13. a dead domain's memory is forgotten once its messages are gone
# (bounced here), not kept for ever: the sweep of the domain table logs
# what it freed, and what it kept.  PATTERN's domains were dead at their
# last result; a sweep after it that keeps nothing forgot them.
forgotten_after() { # PATTERN
	fa=$(grep -n -- "$1" "$LOG" | tail -1 | cut -d: -f1)
	[ -n "$fa" ] && tail -n +"$fa" "$LOG" | grep 'postern-send: domains_forgotten ' | tail -1 | grep -q ' kept=0$'
}
check "down.test (dead in 9.) forgotten after its messages bounced (domains_forgotten ... kept=0)" \
	wait_for 10 forgotten_after 'postern-send: delivery .*to=x[0-9]@down.test status='
# three domains whose only MX (10.99.0.2) refuses connections, and a
# queuelifetime of 2 s: each is remembered dead, then its message bounces
for n in 1 2 3; do msg "x@gone$n.test" "gone$n" | inject ptr1@client.test "x@gone$n.test"; done
check "gone1-3.test: their messages bounced (lifetime over)" wait_for 30 sh -c \
	"[ \$(grep -c 'delivery .*to=x@gone[123].test status=failed' $LOG) -eq 3 ]"
check "gone1-3.test: no host answered (deferred: connection refused) until then" \
	logged 'to=x@gone[123].test status=deferred .*connection refused'
check "gone1-3.test: forgotten after their messages bounced (domains_forgotten ... kept=0)" \
	wait_for 10 forgotten_after 'postern-send: delivery .*to=x@gone[123].test status='
# a later message to one of them is tried as for a domain never seen: a
# server is there now, and it gets the message at the first attempt
nsbg smtp-sink -u nobody -d "$SINK/%M." 10.99.0.2:25 100 > "$SCRATCH/sink2.out" 2>&1
SINK2=$!
on_cleanup 'kill $SINK2 2>/dev/null'
wait_for 10 ncrun /usr/bin/python3 -c 'import socket; socket.create_connection(("10.99.0.2", 25), 2).close()' 2> /dev/null
msg y@gone2.test gone-again | inject ptr1@client.test y@gone2.test
check "gone2.test after it was forgotten: tried again and delivered" wait_for 15 logged \
	'attempt .*to=y@gone2.test mx=mx.later.test ip=10.99.0.2 status=delivered'
check "gone2.test: at the first attempt, not deferred as still dead" sh -c "! grep -q 'to=y@gone2.test status=deferred' $LOG"
check "no postern-remote crashed" sh -c "! grep -q 'killed by signal [^9]' $LOG"
stop_start
diag "$(grep -c 'attempt ' "$LOG") delivery attempts logged; sample:"
diag "$(grep 'attempt ' "$LOG" | head -2)"
done_testing
