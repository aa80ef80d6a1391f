#!/usr/bin/python3
"""Inbound DKIM verification end to end (control/dkimverify; doc/dkim.md,
"Verifying"): postern-smtpd starts postern-dkimverify in postern-queue's
place on port-25 sessions from strangers, and it prepends an
Authentication-Results field (RFC 8601) with one dkim= clause per
signature (RFC 6376, RFC 8463, RFC 8301).  The signatures are made by
signers written by others, with keys made here: python3-dkim (dkimpy:
relaxed and simple, l=, Ed25519 with python3-nacl keys, rsa-sha1) and
Perl's Mail::DKIM::Signer (simple/simple, x=).  The keys are published
as TXT records by unbound in a network namespace of this test's own
(tests/dnsns.py, as tests/t-spf.py and t-dnsbl.py do), long records in
strings of 255 bytes; clients connect from 127.0.0.N of that namespace
(127.0.0.1 is a RELAYCLIENT: not verified).  Before anything is sent,
dkimpy verifies each fixture against the same unbound, so that a
fixture's expected verdict is known to be right.  Runs against
POSTERN_BUILD's programs (the ASan build too)."""
import base64, os, re, shutil, socket, struct, subprocess, sys, threading, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smtptest import BUILD, Server, Conn
from netns import netns
from dnsns import DnsNamespace, run
from tap import check, done, wait_for
from dkimtest import txt, sig_tags, named, header_fields

if os.geteuid() != 0:
    print('ok 1 # SKIP network namespaces need root')
    sys.exit(0)
for prog in ('ip', 'unbound', 'openssl', 'perl'):
    if not shutil.which(prog):
        print('not ok 1 - %s is missing (tests/deps.sh installs it)' % prog)
        sys.exit(1)
try:
    import dkim, dkim.util, nacl.signing, dns.resolver
except ImportError as ex:
    print('not ok 1 - %s (tests/deps.sh installs python3-dkim, python3-nacl, python3-dnspython)' % ex)
    sys.exit(1)
if run('perl', '-MMail::DKIM::Signer', '-e', '1').returncode:
    print('not ok 1 - Mail::DKIM is missing (tests/deps.sh installs libmail-dkim-perl)')
    sys.exit(1)

ME = 'mx.example.org'  # control/me: the authserv-id
DNS = DnsNamespace('ptdkv')
NS = DNS.name
PROG = os.path.join(BUILD, 'bin', 'postern-dkimverify')

# Mail::DKIM::Signer: the message (CRLF) on stdin, the DKIM-Signature
# field on stdout.  ARGV: key file, domain, selector, method, and t= and
# x= (0: none).
MAILDKIM = r'''
use strict; use warnings;
use Mail::DKIM::Signer;
my ($key, $dom, $sel, $method, $t, $x) = @ARGV;
my $s = Mail::DKIM::Signer->new(Algorithm => 'rsa-sha256', Method => $method, Domain => $dom,
    Selector => $sel, KeyFile => $key, ($t ? (Timestamp => $t) : ()), ($x ? (Expiration => $x) : ()));
binmode STDIN;
while (my $l = <STDIN>) { $s->PRINT($l); }
$s->CLOSE;
print $s->signature->as_string, "\r\n";
'''

BODY = (b'Hello,  world \t\r\n\r\n.a line with a leading dot (stuffed on the wire)\r\n'
        b'  indented   words\r\nbye\r\n\r\n\r\n')


def message(n, body=BODY, extra=b''):
    return (extra + b'From: Alice <alice@a.test>\r\nTo: demo@example.org\r\nSubject: dkim case %s\r\n'
            b'Date: Mon, 30 Nov 2026 12:00:00 +0000\r\nMessage-ID: <%s@a.test>\r\n\r\n' % (n.encode(), n.encode())) + body


def clause(result, reason=None, comment=None, sig=None, maybe=False):
    """a regex for one dkim= clause; sig: the signature field it names
    (maybe: a signature too broken to parse may go unnamed)"""
    r = re.escape('dkim=' + result + (' (%s)' % comment if comment else '') +
                  (' reason="%s"' % reason if reason else ''))
    if sig is not None:
        n = re.escape(' ' + named(sig))
        r += '(?:%s)?' % n if maybe else n
    return r


def expect(*clauses):
    return re.escape('Authentication-Results: %s;' % ME) + '\n\t' + ';\n\t'.join(clauses)


class ServfailNameserver(threading.Thread):
    """UDP port 53 on addr in the namespace: every query answered with
    SERVFAIL, counted"""

    def __init__(self, addr):
        super().__init__(daemon=True)
        with netns(NS):
            self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.s.bind((addr, 53))
        self.queries = 0

    def run(self):
        while True:
            try:
                q, peer = self.s.recvfrom(4096)
            except OSError:
                return
            self.queries += 1
            if len(q) < 17 or b'\0' not in q[12:]:
                continue
            end = q.index(b'\0', 12) + 5
            self.s.sendto(q[:2] + struct.pack('!BBHHHH', 0x81, 0x82, 1, 0, 0, 0) + q[12:end], peer)


def dnsfunc(name, timeout=5):
    """dkimpy's key lookup, asked of the namespace's unbound"""
    if isinstance(name, bytes):
        name = name.decode()
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = ['127.0.0.1']
    r.lifetime = timeout
    try:
        with netns(NS):
            ans = r.resolve(name, 'TXT')
    except Exception:
        return None
    for rr in ans:
        return b''.join(rr.strings)
    return None


def dkimpy_verdict(msg, idx=0):
    """dkimpy's verdict on signature idx (top down)"""
    try:
        return bool(dkim.DKIM(msg).verify(idx=idx, dnsfunc=dnsfunc))
    except Exception:
        return False


srv = None
gens = []
try:
    failed = DNS.setup()
    if failed:
        print('not ok 1 - ' + failed)
        raise SystemExit(1)
    srv = Server(extra_control={'me': ME})
    KD = os.path.join(srv.dir, 'keys')
    os.makedirs(KD)

    # --- keys: RSA by openssl (8192 bits takes a while: begun first), Ed25519 by nacl
    def keyfile(bits):
        return os.path.join(KD, 'rsa%d.pem' % bits)
    for bits in (8192, 512, 1024, 2048, 4096):
        gens.append(subprocess.Popen(['openssl', 'genrsa', '-traditional', '-out', keyfile(bits), str(bits)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for g in gens:
        g.wait()
    if any(g.returncode for g in gens):
        print('not ok 1 - openssl genrsa failed')
        raise SystemExit(1)
    PRIV, PUB = {}, {}
    for bits in (512, 1024, 2048, 4096, 8192):
        PRIV[bits] = open(keyfile(bits), 'rb').read()
        der = subprocess.run(['openssl', 'rsa', '-in', keyfile(bits), '-pubout', '-outform', 'DER'],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout
        PUB[bits] = base64.b64encode(der).decode()
    ED = nacl.signing.SigningKey.generate()
    ED_PRIV = base64.b64encode(bytes(ED))
    ED_PUB = base64.b64encode(bytes(ED.verify_key)).decode()

    RSA = 'v=DKIM1; k=rsa; p=' + PUB[2048]
    KEYS = {
        'rsa': RSA, 'r1024': 'v=DKIM1; k=rsa; p=' + PUB[1024], 'r4096': 'v=DKIM1; k=rsa; p=' + PUB[4096],
        'r512': 'v=DKIM1; k=rsa; p=' + PUB[512], 'r8192': 'v=DKIM1; k=rsa; p=' + PUB[8192],
        'ed': 'v=DKIM1; k=ed25519; p=' + ED_PUB, 'mdk': RSA, 'old': RSA, 'sha1': RSA, 'len': RSA,
        'gone': 'v=DKIM1; k=rsa; p=',
        'tmode': 'v=DKIM1; k=rsa; t=y; p=' + PUB[2048],
        'svc': 'v=DKIM1; k=rsa; s=tlsrpt; p=' + PUB[2048],
        'sha1only': 'v=DKIM1; k=rsa; h=sha1; p=' + PUB[2048],
        'edasrsa': RSA,
        'nop': 'v=DKIM1; k=rsa; n=no key here',
    }
    KEYS.update(('s%d' % i, RSA) for i in range(10))
    RECORDS = [txt('%s._domainkey.a.test.' % s, v) for s, v in KEYS.items()] + [
        'nodata._domainkey.a.test. A 192.0.2.1',  # the name exists, no TXT record
        # refused.test is a zone of type refuse: every question REFUSED
    ]
    QLOG = DNS.unbound_start(srv.dir, RECORDS, zones=(('test.', 'static'), ('refused.test.', 'refuse')))

    def asked(name):
        try:
            return open(QLOG, errors='replace').read().count(name + '. TXT IN')
        except OSError:
            return 0

    # --- the fixtures: (name, message, expected field regex, dkimpy's verdict
    # of the top signature or None when dkimpy's policy differs)
    def py(msg, sel, key=PRIV[2048], dom='a.test', algo=b'rsa-sha256', canon=(b'relaxed', b'relaxed'), **kw):
        """dkimpy's DKIM-Signature field for msg"""
        return dkim.sign(msg, sel.encode(), dom.encode(), key, signature_algorithm=algo, canonicalize=canon, **kw)

    def mdk(msg, sel, method='simple', t=0, x=0, bits=2048):
        r = subprocess.run(['perl', '-e', MAILDKIM, keyfile(bits), 'a.test', sel, method, str(t), str(x)],
                           input=msg, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if r.returncode or not r.stdout.startswith(b'DKIM-Signature:'):
            raise SystemExit('Mail::DKIM::Signer failed: %s' % r.stderr.decode(errors='replace'))
        return r.stdout

    F = {}

    def fixture(name, msg, pattern, verdict):
        F[name] = (msg, pattern, verdict)

    m = message('rsa')
    s = py(m, 'rsa')
    fixture('rsa', s + m, expect(clause('pass', sig=s)), True)
    m = message('r1024')
    s = py(m, 'r1024', PRIV[1024], canon=(b'relaxed', b'simple'))
    fixture('r1024', s + m, expect(clause('pass', sig=s)), True)
    m = message('r4096')
    s = py(m, 'r4096', PRIV[4096], canon=(b'simple', b'simple'))
    fixture('r4096', s + m, expect(clause('pass', sig=s)), True)
    m = message('mdk')
    s = mdk(m, 'mdk')
    fixture('mdk', s + m, expect(clause('pass', sig=s)), True)
    m = message('ed')
    s = py(m, 'ed', ED_PRIV, algo=b'ed25519-sha256')
    fixture('ed', s + m, expect(clause('pass', sig=s)), True)
    m = message('both')
    s1 = py(m, 'rsa')
    s2 = py(s1 + m, 'ed', ED_PRIV, algo=b'ed25519-sha256')
    fixture('both', s2 + s1 + m, expect(clause('pass', sig=s2), clause('pass', sig=s1)), True)
    m = message('mixed')
    s1 = py(m, 'gone')
    s2 = py(s1 + m, 'ed', ED_PRIV, algo=b'ed25519-sha256')
    fixture('mixed', s2 + s1 + m, expect(clause('pass', sig=s2), clause('permerror', 'key revoked', sig=s1)), True)
    m = message('body')
    s = py(m, 'rsa')
    fixture('body', s + m.replace(b'bye', b'Bye'), expect(clause('fail', 'body hash did not verify', sig=s)), False)
    m = message('head')
    s = py(m, 'rsa')
    fixture('head', s + m.replace(b'Subject: dkim case head', b'Subject: dkim case HEAD'),
            expect(clause('fail', 'signature did not verify', sig=s)), False)
    m = message('nokey')
    s = py(m, 'nokey')
    fixture('nokey', s + m, expect(clause('permerror', 'no key for signature', sig=s)), False)
    m = message('nodata')
    s = py(m, 'nodata')
    fixture('nodata', s + m, expect(clause('permerror', 'no key for signature', sig=s)), False)
    m = message('gone')
    s = py(m, 'gone')
    fixture('gone', s + m, expect(clause('permerror', 'key revoked', sig=s)), False)
    m = message('r512')
    s = py(m, 'r512', PRIV[512])
    fixture('r512', s + m, expect(clause('permerror', 'key too small', sig=s)), False)
    m = message('r8192')
    s = py(m, 'r8192', PRIV[8192])
    fixture('r8192', s + m, expect(clause('permerror', 'key too large', sig=s)), None)
    m = message('sha1')
    s = py(m, 'sha1', algo=b'rsa-sha1')
    fixture('sha1', s + m, expect(clause('permerror', 'unsupported algorithm', sig=s, maybe=True)), None)
    m = message('old')
    now = int(time.time())
    s = mdk(m, 'old', method='relaxed', t=now - 3 * 86400, x=now - 2 * 86400)
    fixture('old', s + m, expect(clause('fail', 'signature expired', sig=s)), False)
    m = message('len')
    s = py(m, 'len', length=True)
    fixture('len', s + m + b'-- \r\nappended after signing, outside l=\r\n',
            expect(clause('pass', comment='partial body', sig=s)), True)
    m = message('short')
    s = py(m, 'len', length=True)
    fixture('short', s + m.replace(b'  indented   words\r\nbye\r\n', b''),
            expect(clause('fail', 'body shorter than l=', sig=s)), False)
    m = message('tmode')
    s = py(m, 'tmode')
    fixture('tmode', s + m, expect(clause('neutral', comment='test mode', sig=s)), True)
    # a From added above a signed message whose h= names from once: the
    # reader would see the added one (RFC 6376 8.15)
    m = message('addfrom')
    s = py(m, 'rsa', include_headers=[b'from', b'to', b'subject', b'date', b'message-id'])  # from once, not over-signed
    fixture('addfrom', b'From: CEO <ceo@a.test>\r\n' + s + m,
            expect(clause('policy', 'unsigned from field', sig=s)), None)
    m = message('refused')
    s = py(m, 'sel', dom='refused.test')
    fixture('refused', s + m, expect(clause('temperror', 'key lookup failed', sig=s)), None)
    fixture('none', message('none'), expect(clause('none')), None)
    m = message('svc')
    s = py(m, 'svc')
    fixture('svc', s + m, expect(clause('permerror', 'key not for email', sig=s)), False)
    m = message('sha1only')
    s = py(m, 'sha1only')
    fixture('sha1only', s + m, expect(clause('permerror', 'key not for sha256', sig=s)), None)  # dkimpy ignores h=
    m = message('edasrsa')
    s = py(m, 'edasrsa', ED_PRIV, algo=b'ed25519-sha256')
    fixture('edasrsa', s + m, expect(clause('permerror', 'key for another algorithm', sig=s)), False)
    m = message('nop')
    s = py(m, 'nop')
    fixture('nop', s + m, expect(clause('permerror', 'malformed key record', sig=s)), False)
    # signatures dkimpy will not make: made, then edited into shape (their
    # b= no longer matters, the field is refused before any key is asked)
    m = message('ibad')
    s = py(m, 'rsa', identity=b'alice@a.test').replace(b'i=alice@a.test', b'i=alice@b.test')
    fixture('ibad', s + m, expect(clause('permerror', 'i= not in d=', sig=s, maybe=True)), False)
    m = message('nofrom')
    s = py(m, 'rsa', include_headers=[b'from', b'subject']).replace(b'h=from : subject', b'h=subject')
    fixture('nofrom', s + m, expect(clause('permerror', 'from not signed', sig=s, maybe=True)), False)
    m = message('nobh')
    s = re.sub(rb'\bbh=', b'xh=', py(m, 'rsa'))
    fixture('nobh', s + m, expect(clause('permerror', 'malformed signature')), False)
    m = message('ten')
    sigs = b''
    for i in range(10):
        sigs = py(sigs + m, 's%d' % i) + sigs
    tops = re.findall(rb'DKIM-Signature:.*?\r\n(?![ \t])', sigs, re.S)
    fixture('ten', sigs + m, expect(*[clause('pass', sig=x) for x in tops[:8]]), True)
    FORGED = (b'Authentication-Results: mx.example.org; dkim=pass header.d=a.test\r\n'
              b'Authentication-Results: other.example; spf=pass smtp.mailfrom=a.test\r\n'
              b'Authentication-Results:\r\n\tMX.Example.ORG;\r\n\tdkim=pass header.d=a.test\r\n'
              b'Authentication-Results: (a comment first) mx.example.org; dkim=pass\r\n'
              b'Authentication-Results: mx.example.org.evil; dkim=pass\r\n')
    m = message('forged', extra=FORGED)
    FS = py(m, 'rsa')
    fixture('forged', FS + m, expect(clause('pass', sig=FS)), True)

    with netns(NS):
        check(wait_for(lambda: dnsfunc('rsa._domainkey.a.test', 2) == RSA.encode(), 10),
              'unbound answers in the namespace, the 2048-bit key whole')
        check(dnsfunc('r8192._domainkey.a.test') == KEYS['r8192'].encode(),
              'the 8192-bit key record, %d bytes in strings of 255, comes whole' % len(KEYS['r8192']))
        # the fixtures are right: dkimpy, asking the same unbound, agrees
        # with the verdict each is meant to have
        bad = [n for n, (msg, _, v) in F.items() if v is not None and dkimpy_verdict(msg) != v]
        check(not bad, 'dkimpy verifies each fixture as meant (%d of them; wrong: %s)' %
              (sum(v is not None for _, _, v in F.values()), bad))
        check(all(dkimpy_verdict(F['ten'][0], i) for i in range(10)) and dkimpy_verdict(F['both'][0], 1),
              'dkimpy: all ten signatures of the ten, and the second of two, verify')
        check(b'x=' in F['old'][0] and b'l=' in F['len'][0] and b'a=rsa-sha1' in F['sha1'][0] and
              b'c=simple;' in F['mdk'][0], 'the fixtures carry x=, l=, rsa-sha1 and simple/simple')

        if not os.path.exists(PROG):
            print('not ok - %s is not built (make)' % PROG)
            raise SystemExit(1)
        shutil.copy(PROG, os.path.join(srv.home, 'bin', 'postern-dkimverify'))
        srv.start(prefix=('ip', 'netns', 'exec', NS))
        logged = lambda pat: re.search(pat, srv.logtext(), re.M)
        nlines = lambda: len(re.findall(r'dkim verify result=', srv.logtext()))

        def deliver(msg, src='127.0.0.2'):
            """the DATA reply's code and the message queued (bytes or None)"""
            srv.stub_clear()
            c = Conn(srv.port, src, timeout=60)
            c.cmd('EHLO client.test')
            c.cmd('MAIL FROM:<alice@a.test>')
            c.cmd('RCPT TO:<demo@example.org>')
            if c.cmd('DATA')[0] != 354:
                c.cmd('QUIT')
                return None, None
            c.send(re.sub(rb'(?m)^\.', b'..', msg) + b'.\r\n')
            code = c.reply()[0]
            c.cmd('QUIT')
            c.close()
            ids = srv.stub_ids()
            return code, srv.stub_read(ids[0])[0] if len(ids) == 1 else None

        def ar_fields(stored):
            return [f for f in header_fields(stored) if f.lower().startswith('authentication-results:')]

        # --- off: no field -----------------------------------------------
        code, stored = deliver(F['rsa'][0])
        check(code == 250 and stored is not None and not ar_fields(stored) and nlines() == 0,
              'no control/dkimverify: accepted, no Authentication-Results, nothing verified')
        srv.control('dkimverify', '0')
        code, stored = deliver(F['rsa'][0])
        check(code == 250 and stored is not None and not ar_fields(stored) and nlines() == 0,
              'dkimverify 0: accepted, no field')
        # unverified, the fields naming this host come out all the same
        # (RFC 8601 5), in postern-smtpd as the message streams
        kept_ars = ['Authentication-Results: other.example; spf=pass smtp.mailfrom=a.test',
                    'Authentication-Results: mx.example.org.evil; dkim=pass']
        code, stored = deliver(F['forged'][0])
        check(code == 250 and stored is not None and ar_fields(stored) == kept_ars and nlines() == 0,
              'dkimverify 0, a message with forged fields: the three naming %s gone, the others kept (%s)' %
              (ME, ar_fields(stored) if stored else None))
        kept = b''.join(l for l in FORGED.splitlines(True) if b'other.example' in l or b'.evil' in l)
        check(stored is not None and stored.endswith((FS + message('forged', extra=kept)).replace(b'\r\n', b'\n')),
              '... the rest of the message untouched')
        check(logged(r'message .*forged_ar_removed=3'), '... and the message\'s log line counts them')

        # --- on ------------------------------------------------------------
        srv.control('dkimverify', '1')
        msg, pat, _ = F['rsa']
        code, stored = deliver(msg)
        fs = header_fields(stored) if stored else []
        check(code == 250 and fs and re.fullmatch(pat, fs[0]) is not None,
              'rsa-sha256 relaxed/relaxed, 2048 bits: pass, the first field exactly %r' % (fs[:1],))
        by = re.search(r'\bby (\S+)', fs[1]) if len(fs) > 1 and fs[1].startswith('Received:') else None
        check(by is not None and by.group(1) == ME,
              'the field is above our Received, whose "by" names the same server (%s)' % (by and by.group(1)))
        check(stored is not None and stored.split(b'\n', fs[0].count('\n') + 1)[-1].startswith(b'Received:') and
              stored.endswith(msg.replace(b'\r\n', b'\n')),
              'below it the message as postern-smtpd wrote it, signature and all, byte for byte')
        check(wait_for(lambda: logged(r'dkim verify result=pass d=a\.test s=rsa$')),
              'the log line: dkim verify result=pass d=a.test s=rsa')

        srv.control('spf', '1')
        code, stored = deliver(F['rsa'][0])
        names = [f.split(':', 1)[0] for f in header_fields(stored)[:3]] if stored else []
        check(names == ['Authentication-Results', 'Received-SPF', 'Received'],
              'with control/spf 1: Authentication-Results above Received-SPF above Received (%s)' % names)
        srv.control('spf', '0')

        descs = [
            ('r1024', 'rsa-sha256 relaxed/simple, 1024 bits (the least allowed): pass'),
            ('r4096', 'rsa-sha256 simple/simple by dkimpy, 4096 bits (a key record over 512 bytes): pass'),
            ('mdk', 'Mail::DKIM::Signer simple/simple, no i=: pass without header.i'),
            ('ed', 'ed25519-sha256 (RFC 8463): pass'),
            ('both', 'an Ed25519 signature above an RSA one: two clauses, top down'),
            ('mixed', 'a good signature above one whose key is revoked: pass; permerror'),
            ('body', 'body changed after signing: fail, body hash did not verify'),
            ('head', 'a signed header changed: fail, signature did not verify'),
            ('nokey', 'no key (NXDOMAIN): permerror, no key for signature'),
            ('nodata', 'no key (the name has an A record, no TXT): permerror, no key for signature'),
            ('gone', 'p= empty: permerror, key revoked'),
            ('r512', 'a 512-bit key: permerror, key too small'),
            ('r8192', 'an 8192-bit key: permerror, key too large'),
            ('sha1', 'rsa-sha1 (RFC 8301): permerror, unsupported algorithm'),
            ('old', 'x= two days ago (Mail::DKIM::Signer): fail, signature expired'),
            ('len', 'l= and text appended after signing: pass (partial body)'),
            ('short', 'l= and the body cut after signing: fail, body shorter than l='),
            ('tmode', 'a key with t=y: neutral (test mode): RFC 6376 3.6.1, as if unsigned'),
            ('addfrom', 'a From added above a signed one: policy, unsigned from field'),
            ('refused', 'the key\'s zone REFUSED: temperror, key lookup failed'),
            ('none', 'no DKIM-Signature: dkim=none'),
            ('svc', 'key s=tlsrpt: permerror, key not for email'),
            ('sha1only', 'key h=sha1: permerror, key not for sha256'),
            ('edasrsa', 'an Ed25519 signature, a k=rsa key: permerror, key for another algorithm'),
            ('nop', 'a key record without p=: permerror, malformed key record'),
            ('ibad', 'i= outside d=: permerror, i= not in d='),
            ('nofrom', 'h= without from: permerror, from not signed'),
            ('nobh', 'no bh=: permerror, malformed signature'),
        ]
        for name, desc in descs:
            msg, pat, _ = F[name]
            code, stored = deliver(msg)
            fs = header_fields(stored) if stored else []
            check(code == 250 and fs and re.fullmatch(pat, fs[0]) is not None and len(ar_fields(stored)) == 1 and
                  stored.endswith(msg.replace(b'\r\n', b'\n')),
                  '%s; accepted (%s)' % (desc, fs[0] if fs else 'code %s, nothing queued' % code))
            if name == 'both':
                check(fs and fs[0].count('header.a=ed25519-sha256') == 1 and
                      fs[0].index('ed25519-sha256') < fs[0].index('rsa-sha256'), '... the Ed25519 clause first')
            if name == 'mdk':
                check(fs and 'header.i=' not in fs[0], '... and no header.i')
        def logline(result, d, s, reason):
            """a log line of result for d= and s=, its reason anywhere on it"""
            return logged(r'dkim verify result=%s (?=.*\breason="?%s\b)(?=.*\bd=%s s=%s\b)' % (
                result, re.escape(reason), re.escape(d), re.escape(s)))
        check(wait_for(lambda: logline('fail', 'a.test', 'rsa', 'body hash did not verify')),
              'a failure\'s log line names d=, s= and the reason')
        check(logline('permerror', 'a.test', 'gone', 'key revoked') and
              logline('temperror', 'refused.test', 'sel', 'key lookup failed'),
              'so do a permerror\'s and a temperror\'s')
        before = nlines()
        deliver(F['both'][0])
        check(wait_for(lambda: nlines() == before + 2), 'two signatures: two log lines (%d)' % (nlines() - before))

        # --- eight signatures at most ------------------------------------------
        msg, pat, _ = F['ten']
        was = [asked('s%d._domainkey.a.test' % i) for i in range(10)]  # dkimpy asked each above
        code, stored = deliver(msg)
        fs = header_fields(stored) if stored else []
        check(code == 250 and fs and re.fullmatch(pat, fs[0]) is not None and fs[0].count('dkim=') == 8,
              'ten signatures: eight clauses, s9 down to s2, all pass (%d)' % (fs[0].count('dkim=') if fs else -1))
        now = [asked('s%d._domainkey.a.test' % i) for i in range(10)]
        check(all(now[i] > was[i] for i in range(2, 10)) and now[:2] == was[:2],
              'the eight top keys asked, the two lowest signatures\' never (%s)' % [n - w for n, w in zip(now, was)])

        # --- Authentication-Results of our name come out ---------------------
        msg, pat, _ = F['forged']
        code, stored = deliver(msg)
        ars = ar_fields(stored) if stored else []
        check(code == 250 and ars and re.fullmatch(pat, ars[0]) is not None,
              'a message with forged fields: our own field first, pass (%s)' % (ars[:1],))
        check(ars[1:] == ['Authentication-Results: other.example; spf=pass smtp.mailfrom=a.test',
                          'Authentication-Results: mx.example.org.evil; dkim=pass'],
              'those naming %s (any case, folded, after a comment) are gone, the others kept in order: %s' %
              (ME, ars[1:]))
        kept = b''.join(l for l in FORGED.splitlines(True) if b'other.example' in l or b'.evil' in l)
        check(stored is not None and stored.endswith((FS + message('forged', extra=kept)).replace(b'\r\n', b'\n')),
              'the rest of the message untouched')

        # --- nameservers that fail ---------------------------------------------
        sf = ServfailNameserver('127.0.0.13')
        sf.start()
        msg, pat, _ = F['rsa']
        DNS.resolv('127.0.0.13')
        code, stored = deliver(msg)
        fs = header_fields(stored) if stored else []
        want = expect(clause('temperror', 'key lookup failed', sig=msg.split(b'\r\nFrom:')[0] + b'\r\n'))
        check(code == 250 and fs and re.fullmatch(want, fs[0]) is not None and sf.queries >= 1,
              'the only nameserver answers SERVFAIL: temperror, key lookup failed (%s; %d queries)' %
              (fs[:1], sf.queries))
        DNS.resolv('127.0.0.13', '127.0.0.1')
        code, stored = deliver(msg)
        fs = header_fields(stored) if stored else []
        check(code == 250 and fs and re.fullmatch(pat, fs[0]) is not None,
              'SERVFAIL from the first nameserver, the key from the second: pass (%s)' % (fs[:1],))
        DNS.resolv('127.0.0.9')  # nothing listens there
        t = time.time()
        code, stored = deliver(msg)
        fs = header_fields(stored) if stored else []
        check(code == 250 and fs and re.fullmatch(want, fs[0]) is not None,
              'no nameserver listening: temperror, key lookup failed, in %.1f s (%s)' % (time.time() - t, fs[:1]))
        DNS.resolv('127.0.0.1')

        # --- who is not verified -----------------------------------------------
        before = nlines()
        code, stored = deliver(F['rsa'][0], src='127.0.0.1')
        time.sleep(0.5)
        check(code == 250 and stored is not None and not ar_fields(stored) and nlines() == before,
              'from a RELAYCLIENT: not verified, no field')
        code, stored = deliver(F['forged'][0], src='127.0.0.1')
        check(code == 250 and stored is not None and ar_fields(stored) == kept_ars,
              '... but its Authentication-Results fields naming %s are taken out: it may forge them for '
              'local readers too (%s)' % (ME, ar_fields(stored) if stored else None))
        check(not logged(r'AddressSanitizer|runtime error'), 'no sanitizer report')
finally:
    for g in gens:
        if g.poll() is None:
            g.kill()
            g.wait()
    if srv:
        srv.cleanup()
    DNS.cleanup()
done()
