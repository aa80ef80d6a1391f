#!/bin/sh
# Policy dane of control/remotetls (RFC 7672; doc/remote.md, "DANE"):
# postern-remote, run as its own user with the installed postern-tlsd,
# postern-tlsio and postern-keys under s6, against Python ssl servers on
# loopback addresses inside a network namespace of this test.  The DNS is
# real DNSSEC: a zone test. signed with ldns-signzone and served by one
# unbound (auth-zone), and a second unbound that validates it against the
# zone's DS as trust anchor and is the namespace's resolver; insec. is an
# unsigned zone it is told is insecure.  So the AD bit postern-remote
# trusts is a real validator's.  Each case is a domain whose MX host and
# TLSA records say what must happen: DANE-EE (3 1 1, 3 0 1, 3 1 2) and
# DANE-TA (2 0 1) verified; a TLSA record that matches nothing, a name a
# DANE-TA chain does not bear, a host without STARTTLS: deferred, nothing
# in clear; no TLSA, or an insecure zone: may; only unusable records:
# encrypt; TLSA records that fail validation (a bogus answer, SERVFAIL):
# deferred without a connection.  Then policy dane-sts: ee.test, which
# also publishes an MTA-STS record, under dane alone, its record not even
# looked up (the resolver's query log); bogus.test (the TLSA lookup
# fails) deferred as under dane; the insecure zone, and a signed domain
# without TLSA records: MTA-STS (no record there), may.
#
# POSTERN_REMOTE_BUILD: as for t-remote-tls.sh.
. "$(dirname "$0")/lib.sh"

need_built postern-remote postern-tlsd postern-tlsio postern-keys
for c in ip unbound openssl ldns-signzone ldns-keygen ldns-key2ds drill s6-svscan s6-setuidgid; do
	command -v $c > /dev/null 2>&1 || [ -x /usr/sbin/$c ] || bail "$c missing (tests/deps.sh installs it)"
done
PATH=$PATH:/usr/sbin
PY=/usr/bin/python3

scratch_init

# --- certificates: a self-signed one (DANE-EE), a CA and a leaf it signed
# for mx.ta.test, sent with the CA's certificate after it (DANE-TA) ---
K=$SCRATCH/pki
mkdir -p "$K" && chmod 755 "$K"
ec() { echo -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes; }
{
	openssl req -x509 $(ec) -keyout "$K/self.key" -out "$K/self.pem" -days 30 -subj '/CN=mx.ee.test' &&
	openssl req -x509 $(ec) -keyout "$K/ca.key" -out "$K/ca.pem" -days 30 -subj '/CN=postern dane test CA' \
		-addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' &&
	openssl req $(ec) -keyout "$K/ta.key" -out "$K/ta.csr" -subj '/CN=mx.ta.test' &&
	printf 'subjectAltName=DNS:mx.ta.test\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' > "$K/ext" &&
	openssl x509 -req -in "$K/ta.csr" -CA "$K/ca.pem" -CAkey "$K/ca.key" -CAcreateserial \
		-out "$K/ta-leaf.pem" -days 30 -extfile "$K/ext" &&
	cat "$K/ta-leaf.pem" "$K/ca.pem" > "$K/ta.pem"
} > "$SCRATCH/openssl.log" 2>&1 || bail "openssl: $(cat "$SCRATCH/openssl.log")"
chmod 644 "$K"/*.pem
hex() { openssl dgst "-$1" -r | cut -d' ' -f1; } # sha256|sha512 of stdin
spki() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER; }
cert() { openssl x509 -in "$1" -outform DER; }
SPKI256=$(spki "$K/self.pem" | hex sha256)
SPKI512=$(spki "$K/self.pem" | hex sha512)
CERT256=$(cert "$K/self.pem" | hex sha256)
CA256=$(cert "$K/ca.pem" | hex sha256)
WRONG=$(echo not this one | hex sha256)
[ ${#SPKI256} -eq 64 ] && [ ${#SPKI512} -eq 128 ] && [ ${#CA256} -eq 64 ] || bail "digests: $SPKI256 $CA256"

# --- two namespaces on a veth pair: postern-remote and the validating
# resolver in NC (10.98.0.1; the servers' addresses are not its own, so
# no MX is taken for this host), the servers and the zones' server in NS ---
netns_pair pd 10.98.0 1 127.0.0.53 21 22 23 54

D=$SCRATCH/dns
mkdir -p "$D"
mx() { # NAME ADDRESS: NAME MX 10 mx.NAME and its A record (names relative to the zone's)
	printf '%s IN MX 10 mx.%s\nmx.%s IN A %s\n' "$1" "$1" "$1" "$2"
}
tlsa() { printf '_25._tcp.mx.%s IN TLSA %s\n' "$1" "$2"; } # NAME "U S M HEX"
{
	printf '$ORIGIN test.\n$TTL 300\n@ IN SOA ns.test. admin.test. 1 3600 600 86400 300\n@ IN NS ns.test.\nns IN A 10.98.0.54\n'
	mx ee 10.98.0.21; tlsa ee "3 1 1 $SPKI256"
	mx ee0 10.98.0.21; tlsa ee0 "3 0 1 $CERT256"
	mx ee2 10.98.0.21; tlsa ee2 "3 1 2 $SPKI512"
	mx two 10.98.0.21; tlsa two "3 1 1 $WRONG"; tlsa two "3 1 1 $SPKI256"
	mx wrong 10.98.0.21; tlsa wrong "3 1 1 $WRONG"
	mx ta 10.98.0.23; tlsa ta "2 0 1 $CA256"
	mx taname 10.98.0.23; tlsa taname "2 0 1 $CA256"
	mx notlsa 10.98.0.21
	mx unusable 10.98.0.21; tlsa unusable "1 1 1 $SPKI256"
	mx unusableplain 10.98.0.22; tlsa unusableplain "0 0 1 $CA256"
	mx plain 10.98.0.22; tlsa plain "3 1 1 $SPKI256"
	mx bogus 10.98.0.21
	# MTA-STS records beside the TLSA records, for policy dane-sts: DANE wins
	printf '_mta-sts.ee IN TXT "v=STSv1; id=1"\n_mta-sts.bogus IN TXT "v=STSv1; id=1"\n'
	# MX hosts that are aliases: the TLSA records at the CNAME's target
	# (cn), or, the target having none, at the original name (cn2)
	printf 'cn IN MX 10 mx.cn\nmx.cn IN CNAME real.cn\nreal.cn IN A 10.98.0.21\n'
	printf '_25._tcp.real.cn IN TLSA 3 1 1 %s\n' "$SPKI256"
	printf 'cn2 IN MX 10 mx.cn2\nmx.cn2 IN CNAME real.cn2\nreal.cn2 IN A 10.98.0.21\n'
	printf '_25._tcp.mx.cn2 IN TLSA 3 1 1 %s\n' "$SPKI256"
} > "$D/test.zone"
(cd "$D" && ldns-keygen -a ECDSAP256SHA256 -k test. > keyname) 2> "$D/keygen.err" || bail "ldns-keygen: $(cat "$D/keygen.err")"
KEY=$D/$(cat "$D/keyname")
(cd "$D" && ldns-signzone -f test.zone.signed test.zone "$KEY") 2> "$D/sign.err" || bail "ldns-signzone: $(cat "$D/sign.err")"
# records that fail validation: added after signing, so they have no RRSIG
printf '_25._tcp.mx.bogus.test.\t300\tIN\tTLSA\t3 1 1 %s\n' "$SPKI256" >> "$D/test.zone.signed"
DS=$(ldns-key2ds -n -2 "$KEY.key") || bail "ldns-key2ds"
{
	printf '$ORIGIN insec.\n$TTL 300\n@ IN SOA ns.test. admin.test. 1 3600 600 86400 300\n@ IN NS ns.test.\n'
	mx ins 10.98.0.21; tlsa ins "3 1 1 $WRONG"
} > "$D/insec.zone"
common() { # NAME IP
	printf 'server:\n\tinterface: %s\n\tport: 53\n\tdo-ip6: no\n\taccess-control: 127.0.0.0/8 allow\n' "$2"
	printf '\tusername: ""\n\tchroot: ""\n\tdirectory: "%s"\n\tpidfile: "%s/%s.pid"\n' "$D" "$D" "$1"
	printf '\tdo-daemonize: no\n\tuse-syslog: no\n\tlogfile: "%s/%s.log"\n' "$D" "$1"
	# unbound answers test. itself (RFC 6761) unless told not to
	printf '\tlocal-zone: "test." nodefault\n'
}
{
	common auth 10.98.0.54
	printf '\tmodule-config: "iterator"\n\taccess-control: 10.98.0.0/24 allow\n'
	for z in test:test.zone.signed insec:insec.zone; do
		printf 'auth-zone:\n\tname: "%s."\n\tzonefile: "%s/%s"\n\tfor-downstream: yes\n\tfor-upstream: no\n' \
			"${z%%:*}" "$D" "${z#*:}"
	done
	printf 'remote-control:\n\tcontrol-enable: no\n'
} > "$D/auth.conf"
{
	common resolver 127.0.0.53
	printf '\tlog-queries: yes\n' # resolver.log: each query postern-remote asks
	printf '\tmodule-config: "validator iterator"\n\ttrust-anchor: "%s"\n' "$DS"
	printf '\tdomain-insecure: "insec."\n\tdo-not-query-localhost: no\n\tqname-minimisation: no\n'
	printf 'stub-zone:\n\tname: "test."\n\tstub-addr: 10.98.0.54\n'
	printf 'stub-zone:\n\tname: "insec."\n\tstub-addr: 10.98.0.54\n'
	printf 'remote-control:\n\tcontrol-enable: no\n'
} > "$D/resolver.conf"
nsbg unbound -d -c "$D/auth.conf" > "$D/auth.out" 2>&1
AUTH=$!
on_cleanup 'kill $AUTH 2>/dev/null'
# the validator primes its trust anchor at start: the zone must be served by then
wait_for 10 sh -c "ip netns exec $NC drill @10.98.0.54 SOA test. 2> /dev/null | grep -q 'rcode: NOERROR'" ||
	bail "the authoritative unbound: $(cat "$D/auth.out" "$D/auth.log" 2> /dev/null)"
ncbg unbound -d -c "$D/resolver.conf" > "$D/resolver.out" 2>&1
RESOLVER=$!
on_cleanup 'kill $RESOLVER 2>/dev/null'
ad() { ip netns exec "$NC" drill -D @127.0.0.53 "$@" 2> /dev/null | grep -q '^;; flags: .* ad '; }
check "the validating resolver answers test. with the AD bit" wait_for 10 ad TLSA _25._tcp.mx.ee.test
check "and insec. without it" sh -c "ip netns exec $NC drill -D @127.0.0.53 A mx.ins.insec | grep -q 'rcode: NOERROR' && ! ip netns exec $NC drill -D @127.0.0.53 A mx.ins.insec | grep -q '^;; flags: .* ad '"
check "and the TLSA records added after signing as SERVFAIL (bogus)" sh -c \
	"ip netns exec $NC drill -D @127.0.0.53 TLSA _25._tcp.mx.bogus.test | grep -q 'rcode: SERVFAIL'"

# --- the servers: .21 STARTTLS with the self-signed certificate, .22 no
# STARTTLS, .23 STARTTLS with the CA-signed leaf and the CA after it ---
OUT=$SCRATCH/srv
mkdir -p "$OUT"
nsbg $PY "$POSTERN_SRC/tests/tls_servers.py" "$OUT" "$K" - - 10.98.0.21:cert=self 10.98.0.22 10.98.0.23:cert=ta \
	> "$SCRATCH/servers.out" 2>&1
SERVERS=$!
on_cleanup 'kill $SERVERS 2>/dev/null'
wait_for 20 test -e "$OUT/ready" || bail "servers did not start: $(cat "$SCRATCH/servers.out")"

# --- postern: the TLS services under s6, nothing else ---
outbound_tls_home || bail "install"
C=$PHOME/control
printf 'routed.test:mx.ee.test\n' > "$C/smtproutes"
printf '# every domain of this test: dane\n:dane\n' > "$C/remotetls"
outbound_tls_start

printf 'From: a@client.test\nSubject: dane test\n\nbody\n' > "$SCRATCH/msg"
send() { # NAME DOMAIN: one message to x@DOMAIN; records in NAME.out, log in NAME.err
	ip netns exec "$NC" s6-setuidgid postern-remote "$PHOME/bin/postern-remote" "$2" a@client.test \
		1700000000.1P1R1 "x@$2" < "$SCRATCH/msg" 2> "$SCRATCH/$1.err" | tr '\0' '\n' > "$SCRATCH/$1.out"
	wait_for 10 eval '! ls "$OUT"/busy.* > /dev/null 2>&1' || diag "a server connection is still open after $1"
}
result() { head -1 "$SCRATCH/$1.out"; }
status() { result "$1" | cut -c1; }
logged() { grep -q -- "$2" "$SCRATCH/$1.err"; }
conns() { ls "$OUT"/conn."$1".* 2> /dev/null | wc -l; }
last() { ls "$OUT"/conn."$1".* | sed 's/.*\.//' | sort -n | tail -1; }
conn_has() { grep -q -- "$2" "$OUT/conn.$1.$(last "$1")"; } # IP PATTERN: of its latest connection
tlslog() { grep 'tls_failed\|tls qid\|established\|failed' "$PHOME/log/tlsd/current" 2> /dev/null | tail -n "${1:-3}"; }
show() { diag "$(cat "$SCRATCH/$1.out" "$SCRATCH/$1.err")"; diag "$(tlslog)"; }
delivered_verified() { # NAME DOMAIN STATE: delivered over TLS, verified, the dane line saying STATE
	send "$1" "$2"
	check "$2: delivered" [ "$(status "$1")" = K ]
	[ "$(status "$1")" = K ] || show "$1"
	check "$2: the dane line: $3, policy dane" logged "$1" "dane qid=1700000000.1P1R1 mx=mx.$2 state=$3 .*policy=dane\$"
	check "$2: over TLS with the certificate verified" logged "$1" "tls qid=.* mx=mx.$2 .*verified=yes\$"
	check "$2: the server saw the transaction inside TLS" conn_has 10.98.0.2"$4" '^cmds: EHLO,STARTTLS,EHLO,MAIL,RCPT,DATA,QUIT$'
}

# 1. DANE-EE: the SPKI's SHA-256, the certificate's SHA-256, the SPKI's SHA-512
delivered_verified ee ee.test tlsa 1
check "ee.test: postern-tlsio logs the DANE-EE match" wait_for 5 sh -c "grep -q 'established .*verified=yes.*dane=ee' '$PHOME/log/tlsd/current'"
delivered_verified ee0 ee0.test tlsa 1
delivered_verified ee2 ee2.test tlsa 1
delivered_verified two two.test tlsa 1
check "two.test: both records counted" logged two 'state=tlsa usable=2 records=2'

# 2. DANE-TA: the CA's certificate, sent by the server after its leaf
delivered_verified ta ta.test tlsa 3
check "ta.test: postern-tlsio logs the DANE-TA match" wait_for 5 sh -c "grep -q 'established .*verified=yes.*dane=ta' '$PHOME/log/tlsd/current'"

# 3. records that match nothing, a DANE-TA chain for another name, no
# STARTTLS: deferred, and nothing goes in clear
mails() { grep -l '^cmds: .*MAIL' "$OUT"/conn."$1".* 2> /dev/null | wc -l; } # IP: connections with a MAIL
for c in wrong:1 taname:3 plain:2; do
	d=${c%%:*} ip=10.98.0.2${c#*:}
	before=$(mails "$ip")
	send "$d" "$d.test"
	check "$d.test: deferred (Z)" [ "$(status "$d")" = Z ] || show "$d"
	check "$d.test: the reason names policy dane" eval 'result "$d" | grep -q "dane, 4.7.0"' || diag "$(result "$d")"
	check "$d.test: no MAIL was sent" [ "$(mails "$ip")" -eq "$before" ]
done
check "wrong.test: postern-tlsio says the certificate matches no TLSA record" sh -c "grep -q 'matches no TLSA record' '$PHOME/log/tlsd/current'"
check "taname.test: and a DANE-TA chain for another name is refused for its name" sh -c "grep -q 'certificate for another name' '$PHOME/log/tlsd/current'"
check "plain.test: STARTTLS not offered, dane: deferred" logged plain 'STARTTLS is not offered'

# 4. no TLSA records: may (TLS, not verified)
send notlsa notlsa.test
check "notlsa.test: delivered" [ "$(status notlsa)" = K ] || show notlsa
check "notlsa.test: the dane line: no_tlsa, policy may" logged notlsa 'dane qid=.* mx=mx.notlsa.test state=no_tlsa policy=may$'
check "notlsa.test: over TLS, not verified" logged notlsa 'tls qid=.* mx=mx.notlsa.test .*verified=no$'

# 5. an insecure zone: its (wrong) TLSA records are not used: may
send ins ins.insec
check "ins.insec: delivered" [ "$(status ins)" = K ] || show ins
check "ins.insec: the dane line: insecure_mx, policy may" logged ins 'dane qid=.* mx=mx.ins.insec state=insecure_mx policy=may$'

# 6. only unusable records (PKIX-EE, PKIX-TA): encrypt
send unusable unusable.test
check "unusable.test: delivered over TLS, not verified" eval '[ "$(status unusable)" = K ] && logged unusable "tls qid=.* verified=no\$"' || show unusable
check "unusable.test: the dane line: unusable_tlsa, policy encrypt" logged unusable 'state=unusable_tlsa usable=0 records=1 policy=encrypt$'
before=$(mails 10.98.0.22)
send unusableplain unusableplain.test
check "unusableplain.test (no STARTTLS): deferred, encrypt" eval '[ "$(status unusableplain)" = Z ] && result unusableplain | grep -q "encrypt, 4.7.0"' || show unusableplain
check "unusableplain.test: no MAIL in clear" [ "$(mails 10.98.0.22)" -eq "$before" ]

# 7. TLSA records that fail validation: deferred, no connection at all
before=$(conns 10.98.0.21)
send bogus bogus.test
check "bogus.test: deferred" [ "$(status bogus)" = Z ] || show bogus
check "bogus.test: the dane line: tlsa_lookup_failed, defer" logged bogus 'state=tlsa_lookup_failed policy=defer$'
check "bogus.test: the reason says so (4.7.5)" eval 'result bogus | grep -q "TLSA records could not be looked up (policy dane, 4.7.5)"' || diag "$(result bogus)"
check "bogus.test: no connection was made" [ "$(conns 10.98.0.21)" -eq "$before" ]

# ... and so with a second nameserver that does not validate (the zones'
# own server, which hands out the unsigned records without the AD bit):
# postern-remote asks the first alone, or the forgery the validator
# refused would come back through the second as merely insecure
printf 'nameserver 127.0.0.53\nnameserver 10.98.0.54\noptions timeout:2 attempts:1\n' > "/etc/netns/$NC/resolv.conf"
check "two nameservers: the second would answer bogus.test's TLSA (no AD bit)" sh -c \
	"ip netns exec $NC drill -D @10.98.0.54 TLSA _25._tcp.mx.bogus.test | grep -q 'rcode: NOERROR'"
before=$(conns 10.98.0.21)
send bogus2 bogus.test
check "two nameservers: bogus.test still deferred as tlsa_lookup_failed, no connection" eval \
	'[ "$(status bogus2)" = Z ] && logged bogus2 "state=tlsa_lookup_failed policy=defer\$" && [ "$(conns 10.98.0.21)" -eq "$before" ]' || show bogus2
printf 'nameserver 127.0.0.53\noptions timeout:2 attempts:2\n' > "/etc/netns/$NC/resolv.conf"

# 7b. an MX host that is an alias (RFC 7672 2.2.3): the CNAME's target first
send cn cn.test
check "cn.test (MX an alias): delivered, verified" eval '[ "$(status cn)" = K ] && logged cn "tls qid=.* mx=mx.cn.test .*verified=yes\$"' || show cn
check "cn.test: the records of the CNAME's target were used, and named" logged cn 'dane qid=.* mx=mx.cn.test tlsa_name=real.cn.test state=tlsa usable=1 records=1 policy=dane$'
check "cn.test: its name went as SNI (postern-tlsio's name)" sh -c "grep -q 'established .*dane=ee name=real.cn.test' '$PHOME/log/tlsd/current'"
check "cn.test: and the tls line names it" logged cn 'tls qid=.* mx=mx.cn.test name=real.cn.test ip=10.98.0.21 '
send cn2 cn2.test
check "cn2.test (the target has none): the original name's records, verified" eval \
	'[ "$(status cn2)" = K ] && logged cn2 "dane qid=.* mx=mx.cn2.test state=tlsa usable=1 records=1 policy=dane\$" && logged cn2 "verified=yes\$"' || show cn2

# 8. a route of control/smtproutes: its host's TLSA records apply
send routed routed.test
check "routed.test (a route to mx.ee.test): delivered" [ "$(status routed)" = K ] || show routed
check "routed.test: the dane line names the route's host" logged routed 'dane qid=.* mx=mx.ee.test state=tlsa usable=1 records=1 policy=dane$'
check "routed.test: verified" logged routed 'tls qid=.* mx=mx.ee.test .*verified=yes$'

# 9. policy dane-sts: dane where a host has secure TLSA records (or their
# lookup failed), MTA-STS (RFC 8461) anywhere else
printf '# every domain from here on: dane-sts\n:dane-sts\n' > "$C/remotetls"
asked() { grep -ic " _mta-sts\.$1\. TXT IN" "$D/resolver.log"; } # DOMAIN: TXT queries the resolver had for its record
Q=1700000000.1P1R1
# 9a. usable secure TLSA records, and an MTA-STS record beside them: dane alone
check "dane-sts: the zone publishes _mta-sts.ee.test, signed" eval \
	'ad TXT _mta-sts.ee.test && ip netns exec "$NC" drill @127.0.0.53 TXT _mta-sts.ee.test | grep -q "v=STSv1; id=1"'
before=$(asked ee.test)
send dsee ee.test
check "dane-sts ee.test: delivered" [ "$(status dsee)" = K ] || show dsee
check "dane-sts ee.test: the dane line: tlsa, policy dane" logged dsee "dane qid=$Q mx=mx.ee.test state=tlsa usable=1 records=1 policy=dane\$"
check "dane-sts ee.test: over TLS, verified, the transaction inside it" eval \
	'logged dsee "tls qid=.* mx=mx.ee.test .*verified=yes\$" && conn_has 10.98.0.21 "^cmds: EHLO,STARTTLS,EHLO,MAIL,RCPT,DATA,QUIT\$"'
check "dane-sts ee.test: no mtasts line" eval '! logged dsee "mtasts "' || show dsee
check "dane-sts ee.test: no query for _mta-sts.ee.test" [ "$(asked ee.test)" -eq "$before" ]
# 9b. the TLSA lookup fails: deferred as under dane, MTA-STS not asked
before=$(conns 10.98.0.21)
send dsbogus bogus.test
check "dane-sts bogus.test: deferred, the TLSA records could not be looked up (4.7.5)" eval \
	'[ "$(status dsbogus)" = Z ] && result dsbogus | grep -q "TLSA records could not be looked up (policy dane, 4.7.5)"' || show dsbogus
check "dane-sts bogus.test: the dane line: tlsa_lookup_failed, defer" logged dsbogus "dane qid=$Q mx=mx.bogus.test state=tlsa_lookup_failed policy=defer\$"
check "dane-sts bogus.test: no mtasts line, no query for _mta-sts.bogus.test" eval \
	'! logged dsbogus "mtasts " && [ "$(asked bogus.test)" -eq 0 ]' || show dsbogus
check "dane-sts bogus.test: no connection was made" [ "$(conns 10.98.0.21)" -eq "$before" ]
# 9c. the insecure zone: MTA-STS, no record there: may
send dsins ins.insec
check "dane-sts ins.insec: delivered over TLS, not verified" eval \
	'[ "$(status dsins)" = K ] && logged dsins "tls qid=.* mx=mx.ins.insec .*verified=no\$"' || show dsins
check "dane-sts ins.insec: the dane line: insecure_mx, policy may" logged dsins "dane qid=$Q mx=mx.ins.insec state=insecure_mx policy=may\$"
check "dane-sts ins.insec: the mtasts line: record=none policy=none" logged dsins "mtasts qid=$Q domain=ins.insec record=none policy=none\$" || show dsins
check "dane-sts ins.insec: the resolver was asked for _mta-sts.ins.insec" wait_for 5 eval '[ "$(asked ins.insec)" -ge 1 ]'
# 9d. a signed domain without TLSA records: no_tlsa is no DANE, MTA-STS decides
send dsnotlsa notlsa.test
check "dane-sts notlsa.test: delivered over TLS, not verified" eval \
	'[ "$(status dsnotlsa)" = K ] && logged dsnotlsa "tls qid=.* mx=mx.notlsa.test .*verified=no\$"' || show dsnotlsa
check "dane-sts notlsa.test: the dane line (no_tlsa), and the mtasts line: record=none policy=none" eval \
	'logged dsnotlsa "dane qid=$Q mx=mx.notlsa.test state=no_tlsa policy=may\$" &&
	 logged dsnotlsa "mtasts qid=$Q domain=notlsa.test record=none policy=none\$"' || show dsnotlsa
done_testing
