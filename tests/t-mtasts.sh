#!/bin/sh
# Policy sts of control/remotetls (MTA-STS, RFC 8461; doc/remote.md):
# postern-remote, run as its own user with the installed postern-tlsd,
# postern-tlsio and postern-keys under s6, in a network namespace of this
# test whose resolver is an unbound serving the zone test. (plain: MTA-STS
# needs no DNSSEC), against Python servers in a second namespace on a veth
# pair: HTTPS on port 443 handing out each domain's policy by its Host (or
# a 404, a redirect, a wrong Content-Type, from a certificate of the test
# CA or a self-signed one) and writing down each request, and SMTP on
# port 25 (tests/tls_servers.py) with a certificate of the test CA for the
# MX names, one for another name, a self-signed one, and no STARTTLS.
# Each case is a domain whose TXT record, policy and MX host say what must
# happen: enforce with a matching MX host and a good certificate,
# delivered, verified, the policy cached (and taken from the cache while
# the record's id stays, fetched again when it changes, kept when a fetch
# fails or the record goes); enforce and no MX host named, a certificate
# for another name or not from the CA, no STARTTLS: deferred, nothing in
# clear; testing: delivered as under may whatever the host, the attempt
# line saying sts=testing and what enforce would have refused
# (sts_failure: a certificate not trusted or for another name, the host
# not named, no STARTTLS, a failed handshake); none, no record, two
# records, a fetch that fails: may;
# a route of control/smtproutes: may, nothing looked up.  Then policy
# dane-sts (this resolver does not validate, so DANE finds nothing
# secure and MTA-STS decides): enforce and the MX host named, delivered
# verified; enforce and none named, deferred; no TXT record, may.
#
# POSTERN_REMOTE_BUILD: as for t-remote-tls.sh.
. "$(dirname "$0")/lib.sh"

need_built postern-remote postern-tlsd postern-tlsio postern-keys
for c in ip unbound unbound-control openssl drill curl s6-svscan s6-setuidgid; do
	command -v $c > /dev/null 2>&1 || [ -x /usr/sbin/$c ] || bail "$c missing (tests/deps.sh installs it)"
done
PATH=$PATH:/usr/sbin
PY=/usr/bin/python3

scratch_init
# check, whose status says whether it passed (for the diagnostics after ||)
chk() { c_f=$T_FAILED; check "$@"; [ "$T_FAILED" -eq "$c_f" ]; }

# --- certificates: a test CA; leaves it signed for the policy hosts
# (mta-sts.DOMAIN), for the MX hosts that verify, and for mx.other.test;
# a self-signed one with the names of its MX hosts and of a policy host ---
K=$SCRATCH/pki
mkdir -p "$K" && chmod 755 "$K"
ec() { echo -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes; }
leaf() { # NAME SAN...: NAME.pem and NAME.key, signed by the test CA
	l_n=$1
	shift
	l_san=
	for l_h; do l_san="$l_san${l_san:+,}DNS:$l_h"; done
	openssl req $(ec) -keyout "$K/$l_n.key" -out "$K/$l_n.csr" -subj "/CN=$1" &&
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' \
		"$l_san" > "$K/$l_n.ext" &&
	openssl x509 -req -in "$K/$l_n.csr" -CA "$K/ca.pem" -CAkey "$K/ca.key" -CAcreateserial \
		-out "$K/$l_n.pem" -days 30 -extfile "$K/$l_n.ext"
}
POLICY_HOSTS=
for d in check enf nomatch wrongname self plain testing none notxt e404 e301 html target gone wild routed two dsenf dsnomatch dsnotxt \
	tgood twrong tnomx tplain t13; do
	POLICY_HOSTS="$POLICY_HOSTS mta-sts.$d.test"
done
{
	openssl req -x509 $(ec) -keyout "$K/ca.key" -out "$K/ca.pem" -days 30 -subj '/CN=postern mta-sts test CA' \
		-addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' &&
	leaf web $POLICY_HOSTS &&
	leaf good mx.enf.test mx.wild.test mx.gone.test mx2.gone.test mx.dsenf.test mx.tgood.test &&
	leaf other mx.other.test &&
	openssl req -x509 $(ec) -keyout "$K/self.key" -out "$K/self.pem" -days 30 -subj '/CN=mx.self.test' \
		-addext 'subjectAltName=DNS:mx.self.test,DNS:mx.testing.test,DNS:mx.none.test,DNS:mta-sts.untrusted.test'
} > "$SCRATCH/openssl.log" 2>&1 || bail "openssl: $(cat "$SCRATCH/openssl.log")"
chmod 644 "$K"/*.pem

# --- two namespaces on a veth pair: postern-remote and the resolver in NC
# (10.97.0.1), the servers in NS: .10 HTTPS with the CA's certificate, .11
# HTTPS self-signed; SMTP: .21 the CA's certificate for the MX names, .22
# no STARTTLS, .23 the CA's certificate for mx.other.test, .24
# self-signed, .25 and .26 the CA's certificate, for hosts that must see
# no connection, .27 self-signed and TLS 1.3 only (a handshake that fails) ---
netns_pair pm 10.97.0 1 127.0.0.53 10 11 21 22 23 24 25 26 27

# --- the zone: unbound on 127.0.0.53 in NC, its local data changed while
# it runs through unbound-control (a unix socket), every query logged ---
D=$SCRATCH/dns
mkdir -p "$D"
rr() { printf "\tlocal-data: '%s'\n" "$1"; }
mx() { # DOMAIN ADDRESS: DOMAIN MX 10 mx.DOMAIN, and its address
	rr "$1.test. MX 10 mx.$1.test."
	rr "mx.$1.test. A $2"
}
sts() { # DOMAIN [ID]: the TXT record (id 1), and the policy host at .10
	rr "_mta-sts.$1.test. TXT \"v=STSv1; id=${2:-1}\""
	rr "mta-sts.$1.test. A 10.97.0.10"
}
{
	printf 'server:\n\tinterface: 127.0.0.53\n\tport: 53\n\tdo-ip6: no\n\taccess-control: 127.0.0.0/8 allow\n'
	printf '\tusername: ""\n\tchroot: ""\n\tdirectory: "%s"\n\tpidfile: "%s/unbound.pid"\n' "$D" "$D"
	printf '\tdo-daemonize: no\n\tuse-syslog: no\n\tlogfile: "%s/unbound.log"\n\tlog-queries: yes\n' "$D"
	printf '\tmodule-config: "iterator"\n\tlocal-zone: "test." static\n'
	rr "mta-sts.check.test. A 10.97.0.10"
	mx enf 10.97.0.21; sts enf
	mx nomatch 10.97.0.25; sts nomatch
	mx wrongname 10.97.0.23; sts wrongname
	mx self 10.97.0.24; sts self
	mx plain 10.97.0.22; sts plain
	mx testing 10.97.0.24; sts testing
	# mode testing: the CA's certificate for the MX host; one for
	# another name; an MX host the policy does not name (it names
	# mx.other.test); no STARTTLS; a handshake that fails
	mx tgood 10.97.0.21; sts tgood
	mx twrong 10.97.0.23; sts twrong
	mx tnomx 10.97.0.21; sts tnomx
	mx tplain 10.97.0.22; sts tplain
	mx t13 10.97.0.27; sts t13
	mx none 10.97.0.24; sts none
	# a policy host, but no TXT record
	mx notxt 10.97.0.21; rr "mta-sts.notxt.test. A 10.97.0.10"
	mx untrusted 10.97.0.21; rr '_mta-sts.untrusted.test. TXT "v=STSv1; id=1"'; rr "mta-sts.untrusted.test. A 10.97.0.11"
	mx e404 10.97.0.21; sts e404
	mx e301 10.97.0.21; sts e301
	mx html 10.97.0.21; sts html
	rr "mta-sts.target.test. A 10.97.0.10"
	mx gone 10.97.0.21; sts gone
	rr "mx2.gone.test. A 10.97.0.21"
	# a.b.wild.test is tried first, and *.wild.test does not match it
	rr "wild.test. MX 5 a.b.wild.test."; rr "a.b.wild.test. A 10.97.0.26"
	mx wild 10.97.0.21; sts wild
	# a route in control/smtproutes sends routed.test to mx.self.test
	mx routed 10.97.0.21; sts routed
	mx two 10.97.0.21; sts two; rr '_mta-sts.two.test. TXT "v=STSv1; id=2"'
	# for policy dane-sts: enforce, the MX host named; enforce, not named
	# (mx.dsnomatch.test at .25); a policy host but no TXT record, the MX
	# host self-signed (.24)
	mx dsenf 10.97.0.21; sts dsenf
	mx dsnomatch 10.97.0.25; sts dsnomatch
	mx dsnotxt 10.97.0.24; rr "mta-sts.dsnotxt.test. A 10.97.0.10"
	printf 'remote-control:\n\tcontrol-enable: yes\n\tcontrol-interface: "%s/ctl"\n\tcontrol-use-cert: no\n' "$D"
} > "$D/unbound.conf"
ncbg unbound -d -c "$D/unbound.conf" > "$D/out" 2>&1
UNBOUND=$!
on_cleanup 'kill $UNBOUND 2>/dev/null'
uctl() { unbound-control -c "$D/unbound.conf" "$@" > "$D/ctl.out" 2>&1 || { diag "unbound-control $*: $(cat "$D/ctl.out")"; return 1; }; }
q() { ip netns exec "$NC" drill @127.0.0.53 "$@" 2> /dev/null; } # TYPE NAME
chk "the zone's server answers the TXT records" wait_for 10 sh -c \
	"ip netns exec $NC drill @127.0.0.53 TXT _mta-sts.enf.test 2> /dev/null | grep -q 'v=STSv1; id=1'"
chk "two TXT records at _mta-sts.two.test" eval '[ "$(q TXT _mta-sts.two.test | grep -c "TXT.*\"v=STSv1; id=[12]\"")" -eq 2 ]'

# --- the HTTPS server: each address of its arguments on port 443 with a
# certificate; the response is chosen by the Host field from POL/HOST (the
# body) and POL/HOST.kind (200 by default; 404; 301, to
# mta-sts.target.test; html, the body as text/html).  Each connection
# leaves OUT/conn.IP.N (the SNI, the request line, the Host, a handshake's
# error), each request OUT/req.HOST.N before the answer goes ---
WEB=$SCRATCH/web
POL=$WEB/pol
mkdir -p "$POL"
cat > "$WEB/https.py" << 'PYEOF'
import os, re, socket, ssl, sys, threading, time
out, pki, pol = sys.argv[1], sys.argv[2], sys.argv[3]
n = [0]
lock = threading.Lock()
def ctx(name):
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    c.load_cert_chain(os.path.join(pki, name + '.pem'), os.path.join(pki, name + '.key'))
    def sni(sock, server_name, c_):
        sock.sni = server_name
    c.sni_callback = sni
    return c
def read(p):
    try:
        with open(p, 'rb') as f: return f.read()
    except OSError:
        return None
def answer(host, path):
    body, kind = read(os.path.join(pol, host)), (read(os.path.join(pol, host + '.kind')) or b'200').strip()
    if body is None or path != '/.well-known/mta-sts.txt' or kind == b'404':
        body = b'not found\n'
        head = b'HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n'
    elif kind == b'301':
        head = b'HTTP/1.1 301 Moved Permanently\r\nLocation: https://mta-sts.target.test/.well-known/mta-sts.txt\r\nContent-Type: text/plain\r\n'
    elif kind == b'html':
        head = b'HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n'
    else:
        head = b'HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n'
    return head + b'Content-Length: %d\r\nConnection: close\r\n\r\n' % len(body) + body
def session(conn, ip, c):
    with lock:
        n[0] += 1; k = n[0]
    rec = {'sni': '', 'req': '', 'host': '', 'err': ''}
    try:
        conn.settimeout(15)
        s = c.wrap_socket(conn, server_side=True)
        rec['sni'] = getattr(s, 'sni', None) or ''
        buf = b''
        while b'\r\n\r\n' not in buf and b'\n\n' not in buf and len(buf) < 65536:
            d = s.recv(4096)
            if not d: break
            buf += d
        lines = buf.replace(b'\r\n', b'\n').split(b'\n\n')[0].decode('latin-1').split('\n')
        rec['req'] = lines[0]
        for l in lines[1:]:
            name, _, v = l.partition(':')
            if name.strip().lower() == 'host': rec['host'] = v.strip().lower()
        host = rec['host'] if re.fullmatch(r'[a-z0-9.-]+', rec['host']) else 'bad'
        w = rec['req'].split()
        with open(os.path.join(out, 'req.%s.%d' % (host, k)), 'w') as f:
            f.write('sni: %s\nreq: %s\nhost: %s\n' % (rec['sni'], rec['req'], rec['host']))
        s.sendall(answer(host, w[1] if len(w) == 3 else ''))
        try: s = s.unwrap()  # close_notify, as a web server sends it
        except (ssl.SSLError, OSError): pass
        conn = s
    except (ssl.SSLError, OSError) as e:
        rec['err'] = str(e)
    try: conn.close()
    except OSError: pass
    with open(os.path.join(out, 'conn.%s.%d' % (ip, k)), 'w') as f:
        for key in ('sni', 'req', 'host', 'err'):
            f.write('%s: %s\n' % (key, rec[key]))
def listen(ip, c):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ip, 443)); s.listen(20)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=session, args=(conn, ip, c), daemon=True).start()
for spec in sys.argv[4:]:
    ip, _, cert = spec.partition(':')
    threading.Thread(target=listen, args=(ip, ctx(cert)), daemon=True).start()
time.sleep(0.5)
open(os.path.join(out, 'ready'), 'w').close()
while True:
    time.sleep(3600)
PYEOF
# policy DOMAIN MODE MAX_AGE [MX...]: the policy mta-sts.DOMAIN hands out
# (CRLF line ends for enf.test, LF for the rest: RFC 8461 3.2 allows both)
policy() {
	p_d=$1 p_m=$2 p_a=$3
	shift 3
	p_e='\n'
	[ "$p_d" != enf.test ] || p_e='\r\n'
	{
		printf "version: STSv1$p_e"
		printf "mode: %s$p_e" "$p_m"
		for p_x; do printf "mx: %s$p_e" "$p_x"; done
		printf "max_age: %s$p_e" "$p_a"
	} > "$POL/mta-sts.$p_d"
	rm -f "$POL/mta-sts.$p_d.kind"
}
kind() { echo "$2" > "$POL/mta-sts.$1.kind"; } # DOMAIN 404|301|html
policy check.test enforce 86400 mx.check.test
policy enf.test enforce 86400 mx.enf.test
policy nomatch.test enforce 86400 mx.other.test
policy wrongname.test enforce 86400 mx.wrongname.test
policy self.test enforce 86400 mx.self.test
policy plain.test enforce 86400 mx.plain.test
policy testing.test testing 86400 mx.testing.test
for d in tgood twrong tplain t13; do policy $d.test testing 86400 mx.$d.test; done
policy tnomx.test testing 86400 mx.other.test
policy none.test none 86400
# the policies below would defer, were they taken: no MX host of theirs is named
for d in notxt untrusted e404 e301 html target routed two dsnomatch dsnotxt; do policy $d.test enforce 86400 mx.other.test; done
kind e404.test 404
kind e301.test 301
kind html.test html
policy gone.test enforce 86400 mx.gone.test
policy wild.test enforce 86400 '*.wild.test'
policy dsenf.test enforce 86400 mx.dsenf.test
nsbg $PY "$WEB/https.py" "$WEB" "$K" "$POL" 10.97.0.10:web 10.97.0.11:self > "$SCRATCH/https.out" 2>&1
HTTPS=$!
on_cleanup 'kill $HTTPS 2>/dev/null'

# --- the SMTP servers ---
OUT=$SCRATCH/srv
mkdir -p "$OUT"
nsbg $PY "$POSTERN_SRC/tests/tls_servers.py" "$OUT" "$K" - - 10.97.0.21:cert=good 10.97.0.22 \
	10.97.0.23:cert=other 10.97.0.24:cert=self 10.97.0.25:cert=good 10.97.0.26:cert=good \
	10.97.0.27:cert=self,tls13 > "$SCRATCH/servers.out" 2>&1
SERVERS=$!
on_cleanup 'kill $SERVERS 2>/dev/null'
wait_for 20 test -e "$WEB/ready" || bail "the HTTPS server did not start: $(cat "$SCRATCH/https.out")"
wait_for 20 test -e "$OUT/ready" || bail "the SMTP servers did not start: $(cat "$SCRATCH/servers.out")"

# the fixtures, seen from NC by tools that are not postern's
curlp() { # HOST [curl options]: the policy URL of HOST, with the test CA
	c_h=$1
	shift
	ip netns exec "$NC" curl -sS --max-time 10 --cacert "$K/ca.pem" "$@" "https://$c_h/.well-known/mta-sts.txt" 2>&1
}
chk "the HTTPS server hands out a policy, over a certificate of the test CA" eval \
	'curlp mta-sts.check.test | grep -q "^mx: mx.check.test\$"' || diag "$(curlp mta-sts.check.test)"
chk "and the request is written down with its SNI and Host" eval \
	'grep -q "^sni: mta-sts.check.test\$" "$WEB"/req.mta-sts.check.test.* && grep -q "^host: mta-sts.check.test\$" "$WEB"/req.mta-sts.check.test.*'
chk "mta-sts.e404.test answers 404" eval '[ "$(curlp mta-sts.e404.test -o /dev/null -w "%{http_code}")" = 404 ]'
chk "mta-sts.e301.test answers a redirect" eval '[ "$(curlp mta-sts.e301.test -o /dev/null -w "%{http_code} %{redirect_url}")" = "301 https://mta-sts.target.test/.well-known/mta-sts.txt" ]'
chk "mta-sts.html.test answers text/html" eval 'curlp mta-sts.html.test -o /dev/null -w "%{content_type}" | grep -q "^text/html"'
chk "mta-sts.untrusted.test's certificate is not the test CA's" eval '! curlp mta-sts.untrusted.test -o /dev/null > /dev/null'
sclient() { # IP NAME: openssl s_client verifies the certificate of the SMTP server at IP for NAME
	echo QUIT | ip netns exec "$NC" timeout 10 openssl s_client -starttls smtp -connect "$1:25" -servername "$2" \
		-verify_hostname "$2" -CAfile "$K/ca.pem" 2>&1 | grep -q '^Verify return code: 0 (ok)$'
}
chk "the SMTP server at .21 has a certificate of the test CA for mx.enf.test" sclient 10.97.0.21 mx.enf.test
chk "the one at .23 has none for mx.wrongname.test, nor .24 for mx.self.test" eval \
	'! sclient 10.97.0.23 mx.wrongname.test && ! sclient 10.97.0.24 mx.self.test'
wait_for 10 eval '! ls "$OUT"/busy.* > /dev/null 2>&1' || diag "an SMTP connection of openssl s_client is still open"

# --- postern: the TLS services under s6, nothing else ---
outbound_tls_home || bail "install"
C=$PHOME/control
echo "$K/ca.pem" > "$C/tlscafile"
printf 'routed.test:mx.self.test\n' > "$C/smtproutes"
printf '# every domain of this test: sts\n:sts\n' > "$C/remotetls"
outbound_tls_start

printf 'From: a@client.test\nSubject: mta-sts test\n\nbody\n' > "$SCRATCH/msg"
QID=1700000000.1P1R1
send() { # NAME DOMAIN: one message to x@DOMAIN; records in NAME.out, log in NAME.err
	ip netns exec "$NC" s6-setuidgid postern-remote "$PHOME/bin/postern-remote" "$2" a@client.test \
		"$QID" "x@$2" < "$SCRATCH/msg" 2> "$SCRATCH/$1.err" | tr '\0' '\n' > "$SCRATCH/$1.out"
	wait_for 10 eval '! ls "$OUT"/busy.* > /dev/null 2>&1' || diag "a server connection is still open after $1"
}
result() { head -1 "$SCRATCH/$1.out"; }
status() { result "$1" | cut -c1; }
logged() { grep -q -- "$2" "$SCRATCH/$1.err"; }
stsline() { grep 'mtasts qid=' "$SCRATCH/$1.err"; }
conns() { ls "$OUT"/conn."$1".* 2> /dev/null | wc -l; }  # IP: SMTP connections it had
mails() { grep -l '^cmds: .*MAIL' "$OUT"/conn."$1".* 2> /dev/null | wc -l; } # IP: those with a MAIL
msgs() { ls "$OUT"/msg."$1".* 2> /dev/null | wc -l; }    # IP: messages it took
last() { ls "$OUT"/conn."$1".* | sed 's/.*\.//' | sort -n | tail -1; }
conn_has() { grep -q -- "$2" "$OUT/conn.$1.$(last "$1")"; } # IP PATTERN: of its latest connection
reqs() { ls "$WEB"/req."$1".* 2> /dev/null | wc -l; }   # HOST: HTTPS requests for it
webconns() { ls "$WEB"/conn."$1".* 2> /dev/null | wc -l; } # IP: HTTPS connections it had
show() { diag "$(cat "$SCRATCH/$1.out" "$SCRATCH/$1.err")"; }
L="mtasts qid=$QID domain"
# delivered NAME DOMAIN IP VERIFIED: delivered, over TLS with verified=VERIFIED
# (under MTA-STS testing followed by why= when not verified)
delivered() {
	dl_n=$1 dl_ip=$3 dl_v=$4
	chk "$2: delivered" [ "$(status "$1")" = K ] || show "$1"
	chk "$2: over TLS, verified=$4, the transaction inside it" eval \
		'logged "$dl_n" "tls qid=.* ip=$dl_ip .*verified=$dl_v\( why=.*\)\?\$" && conn_has "$dl_ip" "^cmds: EHLO,STARTTLS,EHLO,MAIL,RCPT,DATA,QUIT\$"'
}
attempt() { grep "attempt qid=$QID " "$SCRATCH/$1.err"; } # NAME: its attempt lines
# no_sts NAME: the attempt line says nothing of MTA-STS testing
no_sts() { attempt "$1" | grep -q . && ! attempt "$1" | grep -q " sts="; }

# 1. enforce, the MX host named, a certificate of the CA for its name:
# the policy fetched (HTTP/1.0, SNI and Host mta-sts.DOMAIN), delivered
# under verify, the policy cached
send enf1 enf.test
delivered enf1 enf.test 10.97.0.21 yes
chk "enf.test: one mtasts line: record, id, fetched, enforce, max_age, none left out" eval \
	'[ "$(stsline enf1 | wc -l)" -eq 1 ] && logged enf1 "$L=enf.test record=yes id=1 policy=fetched mode=enforce max_age=86400 addresses_left_out=0\$"' ||
	show enf1
chk "enf.test: one HTTPS request, HTTP/1.0, for the policy's path, SNI and Host mta-sts.enf.test" eval \
	'[ "$(reqs mta-sts.enf.test)" -eq 1 ] && grep -q "^req: GET /.well-known/mta-sts.txt HTTP/1.0\$" "$WEB"/req.mta-sts.enf.test.* &&
	 grep -q "^sni: mta-sts.enf.test\$" "$WEB"/req.mta-sts.enf.test.* && grep -q "^host: mta-sts.enf.test\$" "$WEB"/req.mta-sts.enf.test.*'
CACHE=$PHOME/queue/mtasts/enf.test
chk "enf.test: the cache file is there, postern-remote's, 0600" eval '[ "$(stat -c "%U %a" "$CACHE" 2> /dev/null)" = "postern-remote 600" ]' ||
	diag "$(ls -la "$PHOME/queue/mtasts" 2>&1)"
chk "enf.test: it holds the id and the policy as fetched" eval \
	'head -1 "$CACHE" | grep -q "^postern-mtasts 1\$" && grep -q "^id 1\$" "$CACHE" && grep -q "^mx: mx.enf.test" "$CACHE"'

# 2. again, the same id: the cached policy, no request
send enf2 enf.test
delivered enf2 enf.test 10.97.0.21 yes
chk "enf.test again: policy=cache" logged enf2 "$L=enf.test record=yes id=1 policy=cache mode=enforce max_age=86400 addresses_left_out=0\$" || show enf2
chk "enf.test again: no new HTTPS request" [ "$(reqs mta-sts.enf.test)" -eq 1 ]

# 2b. the same id, the cached policy past half its max_age: fetched again
# (RFC 8461 10.2), so that it does not run out while mail keeps coming
age_cache() { # SECONDS: the cache fetched that long ago, last tried two hours ago
	sed -i "s/^fetched [0-9]*\$/fetched $(( $(date +%s) - $1 ))/" "$CACHE" && touch -d '2 hours ago' "$CACHE"
}
age_cache 50000
send enf2b enf.test
delivered enf2b enf.test 10.97.0.21 yes
chk "enf.test past half its max_age: policy=refreshed" \
	logged enf2b "$L=enf.test record=yes id=1 policy=refreshed mode=enforce max_age=86400 " || show enf2b
chk "enf.test refreshed: a second HTTPS request, the cache fetched now" eval \
	'[ "$(reqs mta-sts.enf.test)" -eq 2 ] && [ $(( $(date +%s) - $(sed -n "s/^fetched //p" "$CACHE") )) -lt 60 ]'
# 2c. the refresh fails: the cached policy stands, and the next try waits an hour
kind enf.test 404
age_cache 50000
send enf2c enf.test
delivered enf2c enf.test 10.97.0.21 yes
chk "enf.test, a refresh that fails (404): fetch_failed, the cached policy applies" \
	logged enf2c "$L=enf.test record=yes id=1 fetch_failed=\"status not 200\" policy=cache mode=enforce max_age=86400 " || show enf2c
send enf2d enf.test
delivered enf2d enf.test 10.97.0.21 yes
chk "enf.test: the next delivery within the hour does not try again" eval \
	'[ "$(reqs mta-sts.enf.test)" -eq 3 ] && logged enf2d "$L=enf.test record=yes id=1 policy=cache mode=enforce "'
rm -f "$POL/mta-sts.enf.test.kind"

# 3. the record's id changes: fetched again (a policy with another max_age)
uctl local_data_remove _mta-sts.enf.test. && uctl local_data '_mta-sts.enf.test. TXT "v=STSv1; id=2"'
chk "enf.test: the zone now says id=2" wait_for 5 eval 'q TXT _mta-sts.enf.test | grep -q "id=2"'
policy enf.test enforce 600 mx.enf.test
send enf3 enf.test
delivered enf3 enf.test 10.97.0.21 yes
chk "enf.test, id=2: fetched again, the new policy" logged enf3 "$L=enf.test record=yes id=2 policy=fetched mode=enforce max_age=600 addresses_left_out=0\$" || show enf3
chk "enf.test, id=2: another HTTPS request" [ "$(reqs mta-sts.enf.test)" -eq 4 ]
chk "enf.test, id=2: the cache file holds id 2" grep -q '^id 2$' "$CACHE"

# 3b. id=3, and the fetch fails (404): the cached policy stands (RFC 8461 5.1)
uctl local_data_remove _mta-sts.enf.test. && uctl local_data '_mta-sts.enf.test. TXT "v=STSv1; id=3"'
wait_for 5 eval 'q TXT _mta-sts.enf.test | grep -q "id=3"' || diag "the zone does not say id=3"
kind enf.test 404
send enf4 enf.test
delivered enf4 enf.test 10.97.0.21 yes
chk "enf.test, id=3, 404: fetch_failed, the cached policy (enforce) applies" \
	logged enf4 "$L=enf.test record=yes id=[23] fetch_failed=\"status not 200\" policy=cache mode=enforce max_age=600 " || show enf4
chk "enf.test, id=3: the request was made, the cache file kept" eval '[ "$(reqs mta-sts.enf.test)" -eq 5 ] && grep -q "^id 2\$" "$CACHE"'

# 4. enforce, no MX host named: deferred without a connection
send nomatch nomatch.test
chk "nomatch.test: deferred" [ "$(status nomatch)" = Z ] || show nomatch
chk "nomatch.test: the text says no MX host is named (4.7.0)" eval \
	'result nomatch | grep -q "no MX host of the domain is one its MTA-STS policy names (4.7.0)"' || diag "$(result nomatch)"
chk "nomatch.test: the log says enforce, one address left out" logged nomatch "$L=nomatch.test record=yes id=1 policy=fetched mode=enforce max_age=86400 addresses_left_out=1\$"
chk "nomatch.test: the SMTP server saw no connection" [ "$(conns 10.97.0.25)" -eq 0 ]

# 5, 6. enforce, the MX host named, but a certificate for another name, a
# self-signed one, no STARTTLS: deferred under verify, nothing in clear
for c in wrongname:3 self:4 plain:2; do
	d=${c%%:*} ip=10.97.0.2${c#*:}
	before=$(mails "$ip")
	send "$d" "$d.test"
	chk "$d.test: deferred (Z)" [ "$(status "$d")" = Z ] || show "$d"
	chk "$d.test: the reason is verify's (4.7.0)" eval \
		'result "$d" | grep -q "TLS required by control/remotetls (verify, 4.7.0)"' || diag "$(result "$d")"
	chk "$d.test: the policy was enforce" logged "$d" "$L=$d.test record=yes id=1 policy=fetched mode=enforce .*addresses_left_out=0\$"
	chk "$d.test: no MAIL was sent, nothing delivered" eval '[ "$(mails "$ip")" -eq "$before" ] && [ "$(msgs "$ip")" -eq 0 ]'
done
chk "plain.test: STARTTLS is not offered, said so" eval 'result plain | grep -q "STARTTLS is not offered"'

# 7. testing, a self-signed certificate: delivered as under may, and
# the attempt line says what enforce would have refused (RFC 8461 5)
send testing testing.test
delivered testing testing.test 10.97.0.24 no
chk "testing.test: the log says testing" logged testing "$L=testing.test record=yes id=1 policy=fetched mode=testing max_age=86400 addresses_not_matching=0\$" || show testing
chk "testing.test: the tls line says why verify would have refused it" \
	logged testing 'tls qid=.* ip=10.97.0.24 .*verified=no why="certificate not trusted"$' || show testing
chk "testing.test: the attempt line: delivered over TLS, sts=testing, sts_failure=\"certificate not trusted\"" \
	logged testing 'attempt .*mx=mx.testing.test ip=10.97.0.24 status=delivered .*tls=TLSv1.2 sts=testing sts_failure="certificate not trusted" delay=' ||
	show testing
# 7a. testing, the CA's certificate for the MX host: nothing to report
send tgood tgood.test
delivered tgood tgood.test 10.97.0.21 yes
chk "tgood.test: testing, the host named" logged tgood "$L=tgood.test record=yes id=1 policy=fetched mode=testing max_age=86400 addresses_not_matching=0\$" || show tgood
chk "tgood.test: the attempt line says sts=testing and no sts_failure" eval \
	'logged tgood "attempt .*mx=mx.tgood.test ip=10.97.0.21 status=delivered .*tls=TLSv1.2 sts=testing delay=" && ! logged tgood sts_failure' || show tgood
# 7b. testing, the CA's certificate for another name: delivered over TLS all the same
send twrong twrong.test
delivered twrong twrong.test 10.97.0.23 no
chk "twrong.test: sts_failure=\"certificate for another name\"" \
	logged twrong 'attempt .*mx=mx.twrong.test ip=10.97.0.23 status=delivered .*tls=TLSv1.2 sts=testing sts_failure="certificate for another name" delay=' ||
	show twrong
# 7c. testing, the MX host not named by the policy: tried, delivered
send tnomx tnomx.test
delivered tnomx tnomx.test 10.97.0.21 no
chk "tnomx.test: the mtasts line counts the host not named" logged tnomx "$L=tnomx.test record=yes id=1 policy=fetched mode=testing max_age=86400 addresses_not_matching=1\$" || show tnomx
chk "tnomx.test: sts_failure=\"mx not in policy\"" \
	logged tnomx 'attempt .*mx=mx.tnomx.test ip=10.97.0.21 status=delivered .*sts=testing sts_failure="mx not in policy" delay=' || show tnomx
# 7d. testing, no STARTTLS: delivered in clear
before=$(msgs 10.97.0.22)
send tplain tplain.test
chk "tplain.test: delivered in clear, no STARTTLS" eval \
	'[ "$(status tplain)" = K ] && [ "$(msgs 10.97.0.22)" -eq $((before + 1)) ] && conn_has 10.97.0.22 "^cmds: EHLO,MAIL,RCPT,DATA,QUIT\$" && ! logged tplain " tls "' ||
	show tplain
chk "tplain.test: sts_failure=\"starttls not offered\", no tls=" eval \
	'attempt tplain | grep -q "status=delivered .* sts=testing sts_failure=\"starttls not offered\" delay=" && ! attempt tplain | grep -q " tls="' || show tplain
# 7e. testing, a handshake that fails (TLS 1.3 only): again in clear, as under may
send t13 t13.test
chk "t13.test: delivered in clear on the retry" eval \
	'[ "$(status t13)" = K ] && [ "$(conns 10.97.0.27)" -eq 2 ] && logged t13 "tls_failed .*mx=mx.t13.test .*policy=may .*then=clear"' || show t13
chk "t13.test: sts_failure=\"tls handshake failed\"" \
	logged t13 'attempt .*mx=mx.t13.test .*status=delivered .* sts=testing sts_failure="tls handshake failed" delay=' || show t13

# 8. none: may
send none none.test
delivered none none.test 10.97.0.24 no
chk "none.test: the log says none" logged none "$L=none.test record=yes id=1 policy=fetched mode=none max_age=86400\$" || show none
chk "none.test and enf.test: their attempt lines say nothing of testing, nor their tls lines why" eval \
	'no_sts none && no_sts enf1 && ! logged none " why=" && ! logged enf1 " why="'

# 9. no TXT record: no fetch, may
send notxt notxt.test
chk "notxt.test: delivered" [ "$(status notxt)" = K ] || show notxt
chk "notxt.test: record=none policy=none" logged notxt "$L=notxt.test record=none policy=none\$" || show notxt
chk "notxt.test: no HTTPS request" [ "$(reqs mta-sts.notxt.test)" -eq 0 ]

# 10. the policy host's certificate is not the CA's: the fetch fails, may,
# and no request was sent over that handshake
before=$(webconns 10.97.0.11)
send untrusted untrusted.test
chk "untrusted.test: delivered" [ "$(status untrusted)" = K ] || show untrusted
chk "untrusted.test: fetch_failed, policy=none" logged untrusted "$L=untrusted.test record=yes id=1 fetch_failed=.* policy=none\$" || show untrusted
chk "untrusted.test: the policy host saw a handshake and no request" wait_for 5 eval \
	'[ "$(webconns 10.97.0.11)" -gt "$before" ] && [ "$(reqs mta-sts.untrusted.test)" -eq 0 ]'

# 11. 404, a redirect, text/html: each fetch fails, may; the redirect not followed
for c in 'e404:status not 200' 'e301:redirect, not followed' 'html:Content-Type not text/plain'; do
	d=${c%%:*} why=${c#*:}
	before=$(reqs "mta-sts.$d.test")
	send "$d" "$d.test"
	chk "$d.test: delivered" [ "$(status "$d")" = K ] || show "$d"
	chk "$d.test: fetch_failed ($why), policy=none" logged "$d" "$L=$d.test record=yes id=1 fetch_failed=\"$why[^\"]*\" policy=none\$" ||
		diag "$(stsline "$d")"
	chk "$d.test: one HTTPS request" [ "$(reqs "mta-sts.$d.test")" -eq $((before + 1)) ]
done
chk "e301.test: the redirect's target was not asked" [ "$(reqs mta-sts.target.test)" -eq 0 ]

# 12. a cached enforce policy, then the record goes and the MX changes to
# a host the policy does not name: the cached policy still applies
send gone1 gone.test
delivered gone1 gone.test 10.97.0.21 yes
chk "gone.test: fetched, enforce" logged gone1 "$L=gone.test record=yes id=1 policy=fetched mode=enforce " || show gone1
uctl local_data_remove _mta-sts.gone.test. && uctl local_data_remove gone.test. && uctl local_data 'gone.test. MX 10 mx2.gone.test.'
chk "gone.test: the zone has no TXT record now, and the MX is mx2.gone.test" wait_for 5 eval \
	'q TXT _mta-sts.gone.test | grep -q "rcode: NXDOMAIN" && q MX gone.test | grep -q "MX.*10 mx2.gone.test."'
before=$(conns 10.97.0.21)
send gone2 gone.test
chk "gone.test, no record: deferred, the cached policy names no MX host" eval \
	'[ "$(status gone2)" = Z ] && result gone2 | grep -q "no MX host of the domain is one its MTA-STS policy names (4.7.0)"' || show gone2
chk "gone.test, no record: record=none policy=cache mode=enforce" logged gone2 "$L=gone.test record=none \(id=1 \)\?policy=cache mode=enforce max_age=86400 addresses_left_out=1\$" ||
	show gone2
chk "gone.test, no record: no request, no connection" eval '[ "$(reqs mta-sts.gone.test)" -eq 1 ] && [ "$(conns 10.97.0.21)" -eq "$before" ]'

# 13. *.wild.test: mx.wild.test matches, a.b.wild.test (two labels) does not
send wild wild.test
delivered wild wild.test 10.97.0.21 yes
chk "wild.test: enforce, a.b.wild.test left out" logged wild "$L=wild.test record=yes id=1 policy=fetched mode=enforce max_age=86400 addresses_left_out=1\$" || show wild
chk "wild.test: a.b.wild.test saw no connection" [ "$(conns 10.97.0.26)" -eq 0 ]

# 14. a route of control/smtproutes: may, nothing of MTA-STS looked up
send routed routed.test
delivered routed routed.test 10.97.0.24 no
chk "routed.test: no mtasts line" eval '! logged routed "mtasts "' || show routed
chk "routed.test: no TXT query for _mta-sts.routed.test, no HTTPS request" eval \
	'grep -q "_mta-sts.enf.test. TXT IN" "$D/unbound.log" && ! grep -q "_mta-sts.routed.test" "$D/unbound.log" && [ "$(reqs mta-sts.routed.test)" -eq 0 ]'

# 15. two STS records: invalid, no policy, may
send two two.test
chk "two.test: delivered" [ "$(status two)" = K ] || show two
chk "two.test: record=invalid policy=none" logged two "$L=two.test record=invalid policy=none\$" || show two
chk "two.test: no HTTPS request" [ "$(reqs mta-sts.two.test)" -eq 0 ]

# 16. policy dane-sts for every domain.  This unbound does not validate:
# the MX answers come without the AD bit, so DANE finds no secure TLSA
# records (state=insecure_mx, may) and MTA-STS decides as under sts
printf '# every domain from here on: dane-sts\n:dane-sts\n' > "$C/remotetls"
dsline() { grep "dane qid=$QID mx=mx.$2 " "$SCRATCH/$1.err"; } # NAME DOMAIN: its dane line
# 16a. enforce, the MX host named: delivered under verify
send dsenf dsenf.test
delivered dsenf "dane-sts dsenf.test" 10.97.0.21 yes
chk "dane-sts dsenf.test: the dane line: insecure_mx, policy may" eval \
	'[ "$(dsline dsenf dsenf.test)" = "postern-remote: dane qid=$QID mx=mx.dsenf.test state=insecure_mx policy=may" ]' || show dsenf
chk "dane-sts dsenf.test: and one mtasts line: fetched, enforce" eval \
	'[ "$(stsline dsenf | wc -l)" -eq 1 ] && logged dsenf "$L=dsenf.test record=yes id=1 policy=fetched mode=enforce max_age=86400 addresses_left_out=0\$"' || show dsenf
chk "dane-sts dsenf.test: one HTTPS request for the policy" [ "$(reqs mta-sts.dsenf.test)" -eq 1 ]
# 16b. enforce, no MX host named: deferred, no connection
before=$(conns 10.97.0.25)
send dsnomatch dsnomatch.test
chk "dane-sts dsnomatch.test: deferred, no MX host named (4.7.0)" eval \
	'[ "$(status dsnomatch)" = Z ] && result dsnomatch | grep -q "no MX host of the domain is one its MTA-STS policy names (4.7.0)"' || show dsnomatch
chk "dane-sts dsnomatch.test: the dane line (insecure_mx), and enforce, one address left out" eval \
	'dsline dsnomatch dsnomatch.test | grep -q "state=insecure_mx policy=may\$" &&
	 logged dsnomatch "$L=dsnomatch.test record=yes id=1 policy=fetched mode=enforce max_age=86400 addresses_left_out=1\$"' || show dsnomatch
chk "dane-sts dsnomatch.test: the SMTP server saw no connection" [ "$(conns 10.97.0.25)" -eq "$before" ]
# 16c. no TXT record: may (a self-signed certificate taken), no fetch
send dsnotxt dsnotxt.test
delivered dsnotxt "dane-sts dsnotxt.test" 10.97.0.24 no
chk "dane-sts dsnotxt.test: the dane line (insecure_mx), and record=none policy=none" eval \
	'dsline dsnotxt dsnotxt.test | grep -q "state=insecure_mx policy=may\$" && logged dsnotxt "$L=dsnotxt.test record=none policy=none\$"' || show dsnotxt
chk "dane-sts dsnotxt.test: no HTTPS request" [ "$(reqs mta-sts.dsnotxt.test)" -eq 0 ]
done_testing
