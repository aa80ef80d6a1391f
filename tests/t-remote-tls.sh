#!/bin/sh
# Outbound STARTTLS (doc/remote.md, "TLS"): postern-remote, run as its own
# user, with the installed postern-tlsd, postern-tlsio and postern-keys under
# s6, against Python ssl servers on loopback addresses inside a network
# namespace of this test, whose names a test DNS (unbound) answers.  The
# certificates are openssl's: a test CA and a server certificate it signed
# for mx.verify.test, and a self-signed one for mx.self.test.  Each policy
# of control/remotetls (none, may, encrypt, verify) against servers with
# and without STARTTLS, with handshakes that fail (TLS 1.3 only, garbage),
# with bytes injected after the 220 to STARTTLS; SMTP AUTH credentials over
# a verified session and not over an unverified one.
#
# POSTERN_REMOTE_BUILD: a build whose postern-remote replaces the installed
# one (the sanitizer build's: the services' 64 MB soft limit leaves no room
# for ASan's shadow memory, so they stay POSTERN_BUILD's).
. "$(dirname "$0")/lib.sh"

need_built postern-remote postern-tlsd postern-tlsio postern-keys
for c in ip unbound openssl s6-svscan s6-setuidgid; do
	command -v $c > /dev/null 2>&1 || [ -x /usr/sbin/$c ] || bail "$c missing (tests/deps.sh installs it)"
done
PATH=$PATH:/usr/sbin
PY=/usr/bin/python3

scratch_init
PW='tls pa:ss'

# --- certificates ---
K=$SCRATCH/pki
mkdir -p "$K" && chmod 755 "$K"
ec() { echo -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes; }
{
	openssl req -x509 $(ec) -keyout "$K/ca.key" -out "$K/ca.pem" -days 30 -subj '/CN=postern test CA' \
		-addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' &&
	openssl req $(ec) -keyout "$K/verify.key" -out "$K/verify.csr" -subj '/CN=mx.verify.test' &&
	printf 'subjectAltName=DNS:mx.verify.test,DNS:smart.verify.test\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' > "$K/ext" &&
	openssl x509 -req -in "$K/verify.csr" -CA "$K/ca.pem" -CAkey "$K/ca.key" -CAcreateserial \
		-out "$K/verify.pem" -days 30 -extfile "$K/ext" &&
	openssl req -x509 $(ec) -keyout "$K/self.key" -out "$K/self.pem" -days 30 -subj '/CN=mx.self.test' \
		-addext 'subjectAltName=DNS:mx.self.test,DNS:smart.self.test'
} > "$SCRATCH/openssl.log" 2>&1 || bail "openssl: $(cat "$SCRATCH/openssl.log")"
chmod 644 "$K"/*.pem

# --- a network namespace: loopback servers, the DNS on 127.0.0.53 ---
NC=prt$$
ip netns add "$NC" || bail "ip netns add (network namespaces unavailable here)"
on_cleanup 'ip netns del $NC 2>/dev/null; rm -rf /etc/netns/$NC'
ip -n "$NC" link set lo up || bail "lo up"
mkdir -p "/etc/netns/$NC" && printf 'nameserver 127.0.0.53\noptions timeout:2 attempts:2\n' > "/etc/netns/$NC/resolv.conf"
ncbg() { ip netns exec "$NC" "$@" & }

D=$SCRATCH/dns
mkdir -p "$D"
unbound_conf "$D" 127.0.0.53 127.0.0.0/8 \
	"mx.self.test. A 127.0.0.11" "mx.plain.test. A 127.0.0.12" "mx.tls13.test. A 127.0.0.13" \
	"mx.garbage.test. A 127.0.0.14" "mx.verify.test. A 127.0.0.15" "smart.verify.test. A 127.0.0.15" \
	"wrong.verify.test. A 127.0.0.15" "mx.inject.test. A 127.0.0.16" "smart.self.test. A 127.0.0.18"
ncbg unbound -d -c "$D/unbound.conf" > "$D/out" 2>&1
UNBOUND=$!
on_cleanup 'kill $UNBOUND 2>/dev/null'

# --- the servers ---
OUT=$SCRATCH/srv
mkdir -p "$OUT"
ncbg $PY "$POSTERN_SRC/tests/tls_servers.py" "$OUT" "$K" smart "$PW" 127.0.0.11:cert=self,auth 127.0.0.12 \
	127.0.0.13:cert=self,tls13 127.0.0.14:cert=self,garbage 127.0.0.15:cert=verify,auth \
	127.0.0.16:cert=self,inject 127.0.0.18:cert=self,auth > "$SCRATCH/servers.out" 2>&1
SERVERS=$!
on_cleanup 'kill $SERVERS 2>/dev/null'
wait_for 20 test -e "$OUT/ready" || bail "servers did not start: $(cat "$SCRATCH/servers.out")"
check "the test DNS answers inside the namespace" wait_for 10 sh -c \
	"ip netns exec $NC $PY -c 'import socket; print(socket.gethostbyname(\"mx.verify.test\"))' 2> /dev/null | grep -qx 127.0.0.15"

# --- postern: the TLS services under s6, nothing else ---
outbound_tls_home || bail "install"
C=$PHOME/control
echo "$K/ca.pem" > "$C/tlscafile"
cat > "$C/smtproutes" << EOF
self.test:mx.self.test
plain.test:mx.plain.test
tls13.test:mx.tls13.test
garbage.test:mx.garbage.test
inject.test:mx.inject.test
none.test:mx.self.test
enc-plain.test:mx.plain.test
enc-self.test:mx.self.test
verify.test:mx.verify.test
verify-self.test:mx.self.test
wrongname.test:wrong.verify.test
auth-verify.test:smart.verify.test
auth-may.test:smart.self.test
auth-enc.test:smart.self.test
EOF
cat > "$C/remotetls" << EOF
# the policies under test; every other domain: may
none.test:none
enc-plain.test:encrypt
enc-self.test:encrypt
auth-enc.test:encrypt
verify.test:verify
verify-self.test:verify
wrongname.test:verify
auth-verify.test:verify
:may
EOF
printf 'smart.verify.test:smart:%s\nsmart.self.test:smart:%s\n' "$PW" "$PW" >> "$PHOME/secret/remote/smtpauth"
outbound_tls_start

printf 'From: a@client.test\nSubject: tls test\n\nbody\n' > "$SCRATCH/msg"
# send NAME DOMAIN: postern-remote, as postern-remote, delivers one message
# to x@DOMAIN; its records (one a line) in NAME.out, its log in NAME.err
# (and waits until the servers have written down what they saw)
send() {
	ip netns exec "$NC" s6-setuidgid postern-remote "$PHOME/bin/postern-remote" "$2" a@client.test \
		1700000000.1P1R1 "x@$2" < "$SCRATCH/msg" 2> "$SCRATCH/$1.err" | tr '\0' '\n' > "$SCRATCH/$1.out"
	wait_for 10 eval '! ls "$OUT"/busy.* > /dev/null 2>&1' || diag "a server connection is still open after $1"
}
result() { head -1 "$SCRATCH/$1.out"; }          # NAME: the recipient's record
status() { result "$1" | cut -c1; }               # NAME: K, Z or D
logged() { grep -q -- "$2" "$SCRATCH/$1.err"; }   # NAME PATTERN
conns() { ls "$OUT"/conn."$1".* 2> /dev/null | wc -l; } # IP: connections it had
conn_has() { grep -q -- "$2" "$OUT/conn.$1.$3"; } # IP PATTERN N
got() { ls "$OUT"/msg."$1".* > /dev/null 2>&1; }   # IP: it took a message
last() { ls "$OUT"/conn."$1".* | sed 's/.*\.//' | sort -n | tail -1; } # IP: its latest connection's N
show() { diag "$(cat "$SCRATCH/$1.out" "$SCRATCH/$1.err")"; }

# 1. may (the default) with a self-signed certificate: TLS, not verified
send self self.test
check "may + self-signed: delivered" [ "$(status self)" = K ] || show self
n=$(last 127.0.0.11)
check "the server saw TLS 1.2 and a suite of doc/tls.md" conn_has 127.0.0.11 '^tls: TLSv1.2 ECDHE-ECDSA-' "$n"
check "SNI was the MX host's name" conn_has 127.0.0.11 '^sni: mx.self.test$' "$n"
check "EHLO again inside TLS (RFC 3207), then the transaction" conn_has 127.0.0.11 '^cmds: EHLO,STARTTLS,EHLO,MAIL,RCPT,DATA,QUIT$' "$n"
check "the tls log line: protocol, cipher, verified=no" logged self \
	'postern-remote: tls qid=1700000000.1P1R1 mx=mx.self.test ip=127.0.0.11 protocol=TLSv1.2 cipher=ECDHE-ECDSA-[A-Z0-9-]* verified=no$'
check "the attempt line says tls=TLSv1.2" logged self 'attempt .*status=delivered .*tls=TLSv1.2'
check "the engines are gone once postern-remote is" wait_for 10 eval '[ -z "$(tree_procs postern-tlsio)" ]'

# 2. may with a server that offers no STARTTLS: in clear
send plain plain.test
check "may + no STARTTLS: delivered in clear" [ "$(status plain)" = K ] || show plain
check "no STARTTLS sent, no tls line" eval 'conn_has 127.0.0.12 "^cmds: EHLO,MAIL" "$(last 127.0.0.12)" && ! logged plain " tls "'

# 3. may with handshakes that fail: once more in clear, logged
send tls13 tls13.test
check "may + a TLS 1.3-only server: delivered in clear on the retry" [ "$(status tls13)" = K ] || show tls13
check "two connections: the failed handshake, then one without STARTTLS" eval \
	'[ "$(conns 127.0.0.13)" -eq 2 ] && grep -q "^err: handshake" "$OUT"/conn.127.0.0.13.* &&
	 grep -q "^cmds: EHLO,MAIL,RCPT,DATA,QUIT\$" "$OUT"/conn.127.0.0.13.*'
check "logged: tls_failed ... then=clear" logged tls13 'tls_failed qid=.* mx=mx.tls13.test ip=127.0.0.13 policy=may reason=".*" then=clear'
check "the delivery is in clear (no tls= on it)" eval '! logged tls13 "attempt .*tls="'
send garbage garbage.test
check "may + garbage after the 220 to STARTTLS: delivered in clear on the retry" [ "$(status garbage)" = K ] || show garbage
check "logged: tls_failed then=clear" logged garbage 'tls_failed .*mx=mx.garbage.test .*then=clear'

# 4. bytes after the 220 to STARTTLS: the host fails, nothing is sent, no retry in clear
send inject inject.test
check "injected reply after the 220: deferred" [ "$(status inject)" = Z ] || show inject
check "the text says response injection, 4.7.0" eval 'result inject | grep -q "response injection refused (4.7.0)"' ||
	diag "$(result inject)"
check "one connection, no MAIL, nothing delivered" eval \
	'[ "$(conns 127.0.0.16)" -eq 1 ] && ! grep -q MAIL "$OUT"/conn.127.0.0.16.* && ! got 127.0.0.16'
check "logged: tls_failed ... then=\"next host\"" logged inject 'tls_failed .*mx=mx.inject.test .*injection.*then="next host"'

# 5. none: no STARTTLS even when offered
before=$(conns 127.0.0.11)
send none none.test
check "none: delivered" [ "$(status none)" = K ] || show none
check "none: the server offered STARTTLS and did not get it" eval \
	'[ "$(conns 127.0.0.11)" -eq $((before + 1)) ] && conn_has 127.0.0.11 "^cmds: EHLO,MAIL,RCPT,DATA,QUIT\$" "$(last 127.0.0.11)"'

# 6. encrypt
send encplain enc-plain.test
check "encrypt + no STARTTLS: deferred" [ "$(status encplain)" = Z ] || show encplain
check "encrypt + no STARTTLS: 4.7.0 in the result" eval \
	'result encplain | grep -q "TLS required by control/remotetls (encrypt, 4.7.0): STARTTLS is not offered"' ||
	diag "$(result encplain)"
check "encrypt + no STARTTLS: no MAIL in clear" eval '! conn_has 127.0.0.12 MAIL "$(last 127.0.0.12)"'
check "the message status is Z: retried later" eval 'tail -1 "$SCRATCH/encplain.out" | grep -q "^Z"'
send encself enc-self.test
check "encrypt + self-signed: delivered over TLS, verified=no" eval \
	'[ "$(status encself)" = K ] && logged encself "tls qid=.* mx=mx.self.test .*verified=no"' || show encself

# 7. verify
send verify verify.test
check "verify + a certificate of the test CA for the MX name: delivered" [ "$(status verify)" = K ] || show verify
check "verify: the tls line says verified=yes" logged verify 'tls qid=.* mx=mx.verify.test ip=127.0.0.15 protocol=TLSv1.2 .*verified=yes'
check "verify: the server saw TLS" conn_has 127.0.0.15 '^tls: TLSv1.2' "$(last 127.0.0.15)"
before=$(ls "$OUT"/msg.127.0.0.11.* 2> /dev/null | wc -l)
send verself verify-self.test
check "verify + self-signed: deferred with 4.7.0" eval '[ "$(status verself)" = Z ] && result verself | grep -q "(verify, 4.7.0)"' || show verself
check "verify + self-signed: nothing delivered" [ "$(ls "$OUT"/msg.127.0.0.11.* 2> /dev/null | wc -l)" -eq "$before" ]
send wrongname wrongname.test
check "verify + a CA-signed certificate for another name: deferred" eval '[ "$(status wrongname)" = Z ] && result wrongname | grep -q "4.7.0"' || show wrongname

# 8. SMTP AUTH: over verify, yes; over may or encrypt (a self-signed certificate), no
send authv auth-verify.test
check "auth over verify: delivered" [ "$(status authv)" = K ] || show authv
check "auth over verify: the server got the credentials inside TLS" conn_has 127.0.0.15 '^auth: smart in tls$' "$(last 127.0.0.15)"
check "auth over verify: logged accepted" logged authv 'auth qid=.* mx=smart.verify.test .*mech=PLAIN user=smart result=accepted'
send authm auth-may.test
check "auth over may: deferred, credentials not sent" eval \
	'[ "$(status authm)" = Z ] && result authm | grep -q "credentials not sent: .*policy verify.*(4.7.0)"' || show authm
send authe auth-enc.test
check "auth over encrypt: deferred the same way" eval '[ "$(status authe)" = Z ] && result authe | grep -q "credentials not sent"' || show authe
check "and smart.self.test never had a connection" [ "$(conns 127.0.0.18)" -eq 0 ]

# 9. a misspelt policy: every domain deferred, the line named
cp "$C/remotetls" "$SCRATCH/remotetls.good"
echo 'typo.test:verfy' >> "$C/remotetls"
send typo self.test
check "a malformed line in control/remotetls: deferred (4.3.5)" eval \
	'[ "$(status typo)" = Z ] && result typo | grep -q "malformed line in control/remotetls (4.3.5)"' || show typo
check "logged with the line" logged typo 'config_error .*file=control/remotetls line=typo.test:verfy'
cp "$SCRATCH/remotetls.good" "$C/remotetls"

# 10. postern-tlsd not running: may goes on in clear on the same connection; encrypt defers
s6-svc -d "$PHOME/service/postern-tlsd"
s6-svwait -d -t 10000 "$PHOME/service/postern-tlsd"
before=$(conns 127.0.0.11)
send down self.test
check "no postern-tlsd, may: delivered in clear" [ "$(status down)" = K ] || show down
check "no postern-tlsd, may: one connection, no STARTTLS sent" eval \
	'[ "$(conns 127.0.0.11)" -eq $((before + 1)) ] && conn_has 127.0.0.11 "^cmds: EHLO,MAIL" "$(last 127.0.0.11)"'
check "no postern-tlsd, may: logged tls_unavailable then=clear" logged down 'tls_unavailable .*mx=mx.self.test .*then=clear'
send downenc enc-self.test
check "no postern-tlsd, encrypt: deferred with 4.7.0" eval '[ "$(status downenc)" = Z ] && result downenc | grep -q "(encrypt, 4.7.0)"' || show downenc
done_testing
