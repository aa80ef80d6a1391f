#!/bin/sh
# SMTP AUTH to a smarthost: postern-send -> postern-rspawn -> postern-remote
# -> aiosmtpd servers on loopback addresses (127.0.0.2 to .6) that require
# AUTH (PLAIN and LOGIN, LOGIN only, wrong password), one that offers no
# AUTH, and a bare listener that only counts connections.  Routes come from
# control/smtproutes, credentials from HOME/secret/remote/smtpauth.
. "$(dirname "$0")/lib.sh"

need_built postern-start postern-send postern-rspawn postern-remote postern-queue
/usr/bin/python3 -c 'import aiosmtpd' 2> /dev/null || bail "python3-aiosmtpd missing"

scratch_init
PW='pa:ss w0rd!x'           # ':' and a blank: the rest of the line is the password
BADPW='not-the-password-42'
OUT=$SCRATCH/srv
mkdir -p "$OUT"
cat > "$SCRATCH/servers.py" << 'PYEOF'
# .2 AUTH PLAIN LOGIN, .3 AUTH LOGIN only, .5 the same password check
# (postern is given a wrong one for it): all three refuse MAIL without
# AUTH (530).  .4 offers no AUTH at all.  .6 only counts connections.
import os, socket, sys, threading, time, warnings
warnings.simplefilter('ignore')
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
out, user, pw = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
def note(name, text):
    with open(os.path.join(out, name), 'a') as f:
        f.write(text + '\n')
def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == user and auth_data.password == pw
    note('auth', '%s %s %s' % (server.hostname if hasattr(server, 'hostname') else '?', mechanism, 'ok' if ok else 'bad'))
    # handled=False: aiosmtpd answers 535 itself (True would leave the client waiting)
    return AuthResult(success=ok, handled=False, auth_data=auth_data)
class Sink:
    def __init__(self, ip): self.ip = ip
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        note('ehlo.' + self.ip, hostname)
        session.host_name = hostname  # what aiosmtpd does when there is no hook
        return responses
    async def handle_DATA(self, server, session, envelope):
        name = os.path.join(out, 'msg.%s.%f' % (self.ip, time.time()))
        with open(name + '.tmp', 'wb') as f:
            f.write(('X-Auth: %s\nX-Rcpts: %s\n' % (session.auth_data.login if session.authenticated else None, ' '.join(envelope.rcpt_tos))).encode())
            f.write(envelope.original_content)
        os.rename(name + '.tmp', name)
        return '250 2.0.0 queued'
def port(ip):
    s = socket.socket(); s.bind((ip, 0)); p = s.getsockname()[1]; s.close(); return p
ports = {}
for ip, kw in (('127.0.0.2', {}), ('127.0.0.3', {'auth_exclude_mechanism': ['PLAIN']}),
               ('127.0.0.5', {})):
    p = port(ip)
    Controller(Sink(ip), hostname=ip, port=p, auth_require_tls=False, auth_required=True,
               authenticator=authenticator, **kw).start()
    ports[ip] = p
p = port('127.0.0.4')
Controller(Sink('127.0.0.4'), hostname='127.0.0.4', port=p).start()  # AUTH needs TLS: not offered
ports['127.0.0.4'] = p
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(('127.0.0.6', 0)); ls.listen(10); ports['127.0.0.6'] = ls.getsockname()[1]
def counter():
    while True:
        c, _ = ls.accept(); note('conn.127.0.0.6', 'x'); c.close()
threading.Thread(target=counter, daemon=True).start()
with open(os.path.join(out, 'ports.tmp'), 'w') as f:
    for ip, p in ports.items(): f.write('%s %d\n' % (ip, p))
os.rename(os.path.join(out, 'ports.tmp'), os.path.join(out, 'ports'))
while True:
    time.sleep(3600)
PYEOF
/usr/bin/python3 "$SCRATCH/servers.py" "$OUT" smart "$PW" > "$SCRATCH/servers.out" 2>&1 &
SERVERS=$!
on_cleanup 'kill $SERVERS 2>/dev/null'
wait_files "$OUT" 1 20 && [ -f "$OUT/ports" ] || bail "servers did not start: $(cat "$SCRATCH/servers.out")"
P() { awk -v ip="$1" '$1 == ip { print $2 }' "$OUT/ports"; }

install_home || bail "install"
make_user ptq1 || bail "make_user"
C=$PHOME/control
SECRET=$PHOME/secret/remote/smtpauth
echo client.test > "$C/me"
echo 1 > "$C/retrymin"
echo 2 > "$C/retrymax"
echo 3 > "$C/timeoutconnect"
echo 5 > "$C/timeoutremote"
echo 0 > "$C/bouncewarn"
cat > "$C/smtproutes" << EOF
plain.test:[127.0.0.2]:$(P 127.0.0.2)
login.test:[127.0.0.3]:$(P 127.0.0.3)
noauth.test:[127.0.0.4]:$(P 127.0.0.4)
wrong.test:[127.0.0.5]:$(P 127.0.0.5)
clear.test:[127.0.0.6]:$(P 127.0.0.6)
EOF
printf '[127.0.0.2]\n[127.0.0.3]\n[127.0.0.4]\n[127.0.0.5]\n' >> "$C/smtpauthplaintext"

check "install: secret/remote is postern-remote's, mode 0700" sh -c \
	"[ \"\$(stat -c '%U %a' $PHOME/secret/remote)\" = 'postern-remote 700' ]"
check "install: the credentials template is postern-remote's, mode 0600, comments only" sh -c \
	"[ \"\$(stat -c '%U %a' $SECRET)\" = 'postern-remote 600' ] && ! grep -qv '^#' $SECRET"
# Written by root into the installed file: owner and mode stay.
cat >> "$SECRET" << EOF
[127.0.0.2]:smart:$PW
[127.0.0.3]:smart:$PW
[127.0.0.4]:smart:$PW
[127.0.0.5]:smart:$BADPW
[127.0.0.6]:smart:$PW
EOF
check "./install --check accepts the filled-in credentials file" quietly "$POSTERN_SRC/install" --check --home "$PHOME" --build "$POSTERN_BUILD"

LOG=$SCRATCH/postern.log
START_PID=
start() {
	"$PHOME/bin/postern-start" >> "$LOG" 2>&1 < /dev/null &
	START_PID=$!
	wait_for 10 catches_term "$START_PID" postern-start || :
}
on_cleanup 'stop_start'
msg() { printf 'From: ptq1@client.test\nTo: %s\nSubject: %s\n\nbody of %s\n' "$1" "$2" "$2"; }
logged() { grep -q -- "$1" "$LOG"; }
got() { grep -l "^Subject: $2.\?$" "$OUT"/msg."$1".* > /dev/null 2>&1; } # IP SUBJECT (CRLF there)
queued() { grep -l "Subject: $1\$" "$PHOME"/queue/mess/* > /dev/null 2>&1; }
both() { "$1" "$2" "$3" && "$4" "$5" "$6"; } # two checks in one (functions, not sh -c)
start

# 1. AUTH PLAIN with the right password
msg x@plain.test one | inject ptq1@client.test x@plain.test
check "plain.test: delivered through the AUTH-requiring smarthost" wait_for 15 logged 'to=x@plain.test .*status=delivered'
check "plain.test: the server saw user smart authenticated" sh -c "grep -l 'Subject: one' $OUT/msg.127.0.0.2.* | xargs grep -q \"^X-Auth: b'smart'\""
check "plain.test: AUTH PLAIN was used and logged, with the user but no secret" \
	logged 'auth qid=.* mx=\[127.0.0.2\] ip=127.0.0.2 mech=PLAIN user=smart result=accepted'

# 2. AUTH LOGIN when PLAIN is not offered
msg x@login.test two | inject ptq1@client.test x@login.test
check "login.test: delivered with AUTH LOGIN (PLAIN not offered)" wait_for 15 logged 'to=x@login.test .*status=delivered'
check "login.test: logged as mech=LOGIN" logged 'mech=LOGIN user=smart result=accepted'
check "login.test: the server got it" got 127.0.0.3 two

# 3. wrong password: deferred (4.7.0 policy: the admin fixes it, nothing lost), reply quoted
msg x@wrong.test three | inject ptq1@client.test x@wrong.test
check "wrong.test: deferred, the server's 535 quoted (in reply to AUTH PLAIN)" wait_for 15 logged \
	'to=x@wrong.test .*status=deferred reply=".*535 5.7.8.*in reply to AUTH PLAIN'
check "wrong.test: logged as refused" logged 'mech=PLAIN user=smart result=refused'
check "wrong.test: nothing delivered, the message stays queued" sh -c "! ls $OUT/msg.127.0.0.5.* > /dev/null 2>&1 && grep -l 'Subject: three' $PHOME/queue/mess/* > /dev/null"

# 4. credentials configured but the server offers no AUTH: deferred, never sent without
msg x@noauth.test four | inject ptq1@client.test x@noauth.test
check "noauth.test: deferred, 'offers no AUTH'" wait_for 15 logged 'to=x@noauth.test .*status=deferred .*offers no AUTH PLAIN or LOGIN'
check "noauth.test: the server got no message" eval "! got 127.0.0.4 four"
check "noauth.test: it stays queued" queued four

# 5. credentials for a host not in control/smtpauthplaintext: no connection at all
msg x@clear.test five | inject ptq1@client.test x@clear.test
check "clear.test: deferred, credentials not sent in clear" wait_for 15 logged 'to=x@clear.test .*status=deferred .*credentials not sent: the smarthost is neither under policy verify'
check "clear.test: auth_refused logged" logged 'auth_refused qid=.* mx=\[127.0.0.6\]'
check "clear.test: postern-remote never connected" [ ! -e "$OUT/conn.127.0.0.6" ]

# 6. a credentials file open to others: refused, nothing sent
chmod 644 "$SECRET"
check "./install --check flags the credentials file at mode 0644" sh -c \
	"! '$POSTERN_SRC/install' --check --home '$PHOME' --build '$POSTERN_BUILD' > $SCRATCH/check.out 2>&1 && grep -q smtpauth $SCRATCH/check.out"
n_ehlo=$(wc -l < "$OUT/ehlo.127.0.0.2")
msg y@plain.test six | inject ptq1@client.test y@plain.test
check "mode 0644: refused with a clear log line" wait_for 15 logged \
	'auth_refused qid=.* mx=\[127.0.0.2\] reason="secret/remote/smtpauth: refused, group or others may use it; chmod 600 (mode 0644)"'
check "mode 0644: y@plain.test deferred with 4.7.0" wait_for 5 logged 'to=y@plain.test .*status=deferred .*mode 0644).*4.7.0'
sleep 1
check "mode 0644: no connection to the smarthost (no EHLO)" [ "$(wc -l < "$OUT/ehlo.127.0.0.2")" -eq "$n_ehlo" ]
check "mode 0644: the message stays queued" queued six
chmod 600 "$SECRET"
chown root "$SECRET"
msg z@plain.test seven | inject ptq1@client.test z@plain.test
check "owned by root at 0600: postern-remote cannot read it, deferred with a reason" wait_for 15 logged \
	'auth_refused .*reason="secret/remote/smtpauth: permission denied'
chown postern-remote "$SECRET"

# 7. the admin fixes things: the deferred mail goes out, nothing was lost
sed -i "s/^\[127.0.0.5\]:smart:.*/[127.0.0.5]:smart:$PW/" "$SECRET"
check "after the fix: six and seven delivered to plain.test" wait_for 20 both got 127.0.0.2 six got 127.0.0.2 seven
check "after the fix: wrong.test delivered on retry" wait_for 20 got 127.0.0.5 three
stop_start

# 8. the password never reaches a log, in clear or in base64
B64=$(/usr/bin/python3 -c 'import base64,sys; p=sys.argv[1].encode(); print(base64.b64encode(b"\0smart\0"+p).decode()); print(base64.b64encode(p).decode()); print(base64.b64encode(b"\0smart\0"+sys.argv[2].encode()).decode())' "$PW" "$BADPW")
leak=0
for f in "$LOG" $(find "$PHOME/log" -type f); do
	grep -qF -e "$PW" -e "$BADPW" "$f" && leak=1
	for b in $B64; do grep -qF -- "$b" "$f" && leak=1; done
done
check "no password, no base64 blob in any log ($(grep -c 'auth ' "$LOG") auth lines checked)" [ "$leak" -eq 0 ]
check "the servers saw every AUTH attempt postern logged (no retry storm: at most 6 bad)" sh -c \
	"[ \$(grep -c ' bad\$' $OUT/auth) -le 6 ]"
diag "$(grep -E 'auth|auth_refused' "$LOG" | head -4)"
done_testing
