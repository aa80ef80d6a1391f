#!/usr/bin/python3
"""postern-smtpd's SPF check (control/spf; doc/smtp.md, "SPF") against a
real resolver: unbound serving test zones in a network namespace of this
test's own, as tests/t-dnsbl.py does; clients connect from 127.0.0.N of
that namespace (127.0.0.1 is a RELAYCLIENT).  Every result postern writes
in Received-SPF is compared with python3-spf's (pyspf, written by others)
for the same client, sender and HELO, asking the same unbound."""
import email, os, re, shutil, socket, subprocess, sys, threading, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smtptest import Server, Conn
from netns import netns
from dnsns import DnsNamespace, run
from tap import check, done, wait_for

if os.geteuid() != 0:
    print('ok 1 # SKIP network namespaces need root')
    sys.exit(0)
for prog in ('ip', 'unbound'):
    if not shutil.which(prog):
        print('not ok 1 - %s is missing (tests/deps.sh installs it)' % prog)
        sys.exit(1)

DNS = DnsNamespace('ptspf')
NS = DNS.name
# a record longer than 512 bytes: only EDNS0 brings it whole over UDP
LONG = 'v=spf1 ' + ' '.join('ip4:198.51.%d.0/24' % i for i in range(40)) + ' ip4:127.0.0.2 -all'
RECORDS = [
    'pass.test. TXT "v=spf1 ip4:127.0.0.2 -all"',
    'soft.test. TXT "v=spf1 ip4:127.0.0.2 ~all"',
    'neutral.test. TXT "v=spf1 ?all"',
    'nospf.test. TXT "not an spf record"',
    'two.test. TXT "v=spf1 -all"',
    'two.test. TXT "v=spf1 +all"',
    'broken.test. TXT "v=spf1 fo\\"o\\\\ -all"',
    'inc.test. TXT "v=spf1 include:pass.test -all"',
    'redir.test. TXT "v=spf1 redirect=pass.test"',
    'mx.test. TXT "v=spf1 mx -all"',
    'mx.test. MX 10 m1.mx.test.',
    'm1.mx.test. A 127.0.0.4',
    'a.test. TXT "v=spf1 a:host.a.test/30 -all"',
    'host.a.test. A 127.0.0.5',
    'exists.test. TXT "v=spf1 exists:%{i}.%{l}.ok.test -all"',
    '127.0.0.2.bob.ok.test. A 127.0.0.1',
    'helo.test. TXT "v=spf1 ip4:127.0.0.2 -all"',
    'badhelo.test. TXT "v=spf1 -all"',
    'xn--bcher-kva.test. TXT "v=spf1 ip4:127.0.0.2 -all"',  # bücher.test
    'long.test. TXT %s' % ' '.join('"%s"' % LONG[i:i + 200] for i in range(0, len(LONG), 200)),
    'loop.test. TXT "v=spf1 include:loop.test -all"',
    'voids.test. TXT "v=spf1 a:n1.test a:n2.test a:n3.test ip4:127.0.0.2 -all"',
    'budget.test. TXT "v=spf1 exists:%{l}.x.test -all"',
    'bigtxt.test. TXT "v=spf1 ip4:127.0.0.2 -all"',
] + ['bigtxt.test. TXT "token-%d=%s"' % (i, 'x' * 200) for i in range(10)] + [
    'bigrr.test. TXT "v=spf1 ip4:127.0.0.2 -all"',
    'bigrr.test. TXT %s' % ' '.join('"%s"' % ('y' * 200) for _ in range(25)),  # 5,000 bytes, no SPF
    'hugespf.test. TXT "v=spf1" %s' % ' '.join('" ip4:192.0.2.%d"' % (i % 250) for i in range(300)),
    # exp= (RFC 7208 6.2): the failing domain's own words in the 550
    'exp.test. TXT "v=spf1 ip4:127.0.0.2 -all exp=why.exp.test"',
    'why.exp.test. TXT "%{i} may not send for %{d} (" "see https://exp.test/spf)"',
    'expbad.test. TXT "v=spf1 -all exp=why.expbad.test"',
    'why.expbad.test. TXT "one"',
    'why.expbad.test. TXT "two"',
]


def truncating_nameserver(addr):
    """port 53 of addr in the namespace: every UDP query answered with
    an empty truncated answer (TC), every TCP connection taken and never
    answered"""
    with netns(NS):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind((addr, 53))
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind((addr, 53))
        t.listen(8)
    held = []

    def udp():
        while True:
            q, peer = u.recvfrom(512)
            if len(q) > 12:
                u.sendto(q[:2] + bytes([0x83, 0x80]) + b'\x00\x01\x00\x00\x00\x00\x00\x00' + q[12:q.index(b'\x00', 12) + 5], peer)

    def tcp():
        while True:
            held.append(t.accept()[0])
    for f in (udp, tcp):
        threading.Thread(target=f, daemon=True).start()
    return held


def pyspf(ip, sender, helo):
    """python3-spf's result for the same question, asked in the namespace"""
    r = run('ip', 'netns', 'exec', NS, '/usr/bin/python3', '-c',
            'import spf,sys; print(spf.check2(i=sys.argv[1], s=sys.argv[2], h=sys.argv[3])[0])', ip, sender, helo)
    return r.stdout.decode(errors='replace').strip().splitlines()[-1] if r.stdout else ''


srv = None
try:
    failed = DNS.setup()
    if failed:
        print('not ok 1 - ' + failed)
        raise SystemExit(1)
    srv = Server(extra_control={'maxerrors': '4'})
    QLOG = DNS.unbound_start(srv.dir, RECORDS)

    def asked(name, qtype='TXT'):
        try:
            return open(QLOG, errors='replace').read().count(name + '. ' + qtype + ' IN')
        except OSError:
            return 0

    with netns(NS):
        check(wait_for(lambda: run('ip', 'netns', 'exec', NS, 'python3', '-c',
                                   'import socket; socket.gethostbyname("m1.mx.test")').returncode == 0, 10),
              'unbound answers in the namespace')
        srv.start(prefix=('ip', 'netns', 'exec', NS))
        logged = lambda pat: re.search(pat, srv.logtext(), re.M)

        def send(src, sender, helo='client.test', pipelined=False, params=''):
            """MAIL's reply, and the message's header when one was queued"""
            srv.stub_clear()
            c = Conn(srv.port, src)
            c.cmd('EHLO ' + helo)
            if pipelined:
                c.send(b'MAIL FROM:<%s>\r\nRCPT TO:<demo@example.org>\r\nDATA\r\n' % sender.encode())
                replies = [c.reply() for _ in range(3)]
                c.cmd('QUIT')
                return replies, None
            mail = c.cmd('MAIL FROM:<%s>%s' % (sender, params))
            if mail[0] != 250:
                c.cmd('QUIT')
                return mail, None
            c.cmd('RCPT TO:<demo@example.org>')
            c.cmd('DATA')
            c.send(b'Subject: spf\r\n\r\nbody\r\n.\r\n')
            c.reply()
            c.cmd('QUIT')
            ids = srv.stub_ids()
            if not ids:
                return mail, None
            return mail, email.message_from_bytes(srv.stub_read(ids[0])[0])

        def mails_and_rsets(src, helo, senders):
            """one session: MAIL and RSET for each sender"""
            c = Conn(srv.port, src)
            c.cmd('EHLO ' + helo)
            for sender in senders:
                c.cmd('MAIL FROM:<%s>' % sender)
                c.cmd('RSET')
            c.cmd('QUIT')

        def spf_of(msg):
            v = msg.get('Received-SPF') if msg else None
            return v.split()[0] if v else None

        # --- off: nothing asked ---------------------------------------------
        mail, msg = send('127.0.0.2', 'a@pass.test')
        check(mail[0] == 250 and msg is not None and spf_of(msg) is None and not asked('pass.test'),
              'no control/spf: nothing asked, no Received-SPF')

        # --- 1: checked and recorded, nothing refused --------------------------
        srv.control('spf', '1')
        mail, msg = send('127.0.0.2', 'a@pass.test')
        check(spf_of(msg) == 'pass', 'spf 1: pass recorded (%s)' % (msg and ' '.join(msg.get('Received-SPF', '').split())))
        keys = list(msg.keys()) if msg else []
        check(keys[:2] == ['Received-SPF', 'Received'], 'Received-SPF comes above our Received (%s)' % keys[:3])
        field = ' '.join(msg.get('Received-SPF', '').split()) if msg else ''
        check('client-ip=127.0.0.2;' in field and 'envelope-from="a@pass.test"' in field and
              'helo="client.test"' in field and 'mechanism="ip4:127.0.0.2"' in field and 'receiver=example.org' in field,
              'its key-value pairs (RFC 7208 9.1): %s' % field)
        check(wait_for(lambda: logged(r'spf result=pass ip=127\.0\.0\.2 identity=a@pass\.test why="matched ip4:127\.0\.0\.2"$')),
              'the spf log line')
        mail, msg = send('127.0.0.3', 'a@pass.test')
        check(mail[0] == 250 and spf_of(msg) == 'fail', 'spf 1: a fail is accepted, and recorded')

        # --- every result against pyspf's --------------------------------------
        cases = [('127.0.0.2', 'a@pass.test'), ('127.0.0.3', 'a@pass.test'), ('127.0.0.3', 'a@soft.test'),
                 ('127.0.0.2', 'a@neutral.test'), ('127.0.0.2', 'a@nospf.test'), ('127.0.0.2', 'a@nowhere.test'),
                 ('127.0.0.2', 'a@two.test'), ('127.0.0.2', 'a@broken.test'), ('127.0.0.2', 'a@inc.test'),
                 ('127.0.0.3', 'a@inc.test'), ('127.0.0.2', 'a@redir.test'), ('127.0.0.4', 'a@mx.test'),
                 ('127.0.0.2', 'a@mx.test'), ('127.0.0.6', 'a@a.test'), ('127.0.0.9', 'a@a.test'),
                 ('127.0.0.2', 'bob@exists.test'), ('127.0.0.2', 'eve@exists.test'), ('127.0.0.2', 'a@long.test'),
                 ('127.0.0.3', 'a@long.test'), ('127.0.0.2', 'a@loop.test'), ('127.0.0.2', 'a@voids.test')]
        for ip, sender in cases:
            mail, msg = send(ip, sender)
            ours, theirs = spf_of(msg), pyspf(ip, sender, 'client.test')
            check(ours == theirs, '%s from %s: %s, pyspf %s' % (sender, ip, ours, theirs))
        # a sender domain in UTF-8 (SMTPUTF8) is checked by its A-labels (RFC 7208 4.3)
        mail, msg = send('127.0.0.2', 'a@b\u00fccher.test', params=' SMTPUTF8')
        field = ' '.join(msg.get('Received-SPF', '').split()) if msg else ''
        check(spf_of(msg) == 'pass' and 'envelope-from="a@xn--bcher-kva.test"' in field and
              pyspf('127.0.0.2', 'a@xn--bcher-kva.test', 'client.test') == 'pass',
              'a@bücher.test: asked as xn--bcher-kva.test, pass, as pyspf says (%s)' % field)
        mail, msg = send('127.0.0.3', 'a@b\u00fccher.test', params=' SMTPUTF8')
        check(spf_of(msg) == 'fail' == pyspf('127.0.0.3', 'a@xn--bcher-kva.test', 'client.test'),
              'a@bücher.test from another address: fail (%s)' % spf_of(msg))
        check(asked('long.test') >= 1 and spf_of(send('127.0.0.2', 'a@long.test')[1]) == 'pass',
              'a record over 512 bytes comes whole (EDNS0)')
        mail, msg = send('127.0.0.2', 'a@bigtxt.test')
        check(spf_of(msg) == 'pass' and pyspf('127.0.0.2', 'a@bigtxt.test', 'client.test') == 'pass',
              'TXT records of 2 KB, truncated over UDP: asked again over TCP (%s)' % spf_of(msg))
        mail, msg = send('127.0.0.2', 'a@bigrr.test')
        check(spf_of(msg) == 'pass', 'beside the SPF record a TXT record of 5,000 bytes: let be (%s)' % spf_of(msg))
        mail, msg = send('127.0.0.2', 'a@hugespf.test')
        check(spf_of(msg) == 'permerror' and 'over 4095 bytes' in msg.get('Received-SPF', ''),
              'an SPF record over 4,095 bytes: permerror (%s)' % spf_of(msg))
        DNS.resolv('127.0.0.1', '127.0.0.9')  # the second nameserver never answers
        t = time.time()
        mail, msg = send('127.0.0.2', 'a@bigtxt.test')
        check(spf_of(msg) == 'pass' and time.time() - t < 3,
              'truncated by one nameserver while another is silent: over TCP at once (%.1f s)' % (time.time() - t))
        DNS.resolv('127.0.0.1')
        mail, msg = send('127.0.0.2', 'a@broken.test')
        check('problem="syntax error at fo\\"o\\\\"' in msg.get('Received-SPF', ''),
              'the record\'s text is quoted in the field: %s' % ' '.join(msg.get('Received-SPF', '').split()))
        mail, msg = send('127.0.0.2', '', helo='helo.test')
        check(spf_of(msg) == 'pass' and 'envelope-from="postmaster@helo.test"' in msg.get('Received-SPF', ''),
              'the null sender: the HELO name is checked (RFC 7208 2.4)')
        for helo in ('127.0.0.2', '[127.0.0.2]', 'x@pass.test'):
            mail, msg = send('127.0.0.2', '', helo=helo)
            check(mail[0] == 250 and msg is not None and spf_of(msg) is None,
                  'the null sender with HELO %s: no domain, not checked, no field' % helo)
        srv.stub_clear()
        c = Conn(srv.port, '127.0.0.2')
        c.cmd('EHLO ' + '.'.join(['"' * 61] * 4) + '.test')
        c.cmd('MAIL FROM:<>')
        c.cmd('RCPT TO:<demo@example.org>')
        c.cmd('DATA')
        c.send(b'Subject: quotes\r\n\r\nbody\r\n.\r\n')
        c.reply()
        c.cmd('QUIT')
        raw = srv.stub_read(srv.stub_ids()[0])[0] if srv.stub_ids() else b''
        head = raw.split(b'\n\n')[0].split(b'\n')
        check(raw and max(len(l) for l in head) <= 998 and b'Received-SPF: none' in raw,
              'the null sender and a HELO of 244 quotes, written twice escaped: every header line within 998 bytes'
              ' (longest %d)' %
              max([len(l) for l in head] or [0]))

        # --- the same sender again: asked once ------------------------------
        before = asked('soft.test')
        mails_and_rsets('127.0.0.7', 'client.test', ['a@soft.test'] * 3)
        check(asked('soft.test') == before + 1, 'three MAILs from one sender: one lookup')

        # --- a session's lookups are bounded ---------------------------------
        c = Conn(srv.port, '127.0.0.7')
        c.cmd('EHLO client.test')
        codes = set()
        for i in range(260):  # two lookups each: the TXT record, then exists
            codes.add(c.cmd('MAIL FROM:<u%d@budget.test>' % i)[0])
            c.cmd('RSET')
        c.cmd('QUIT')
        n = open(QLOG, errors='replace').read().count('.x.test. A IN')
        check(codes == {250} and 245 <= n <= 250 and
              wait_for(lambda: logged(r'spf result=temperror ip=127\.0\.0\.7 identity=u25\d@budget\.test '
                                      r'why="more than 500 DNS lookups in this session"')),
              'MAIL after MAIL from new local parts: 500 lookups in a session, then temperror (%d exists asked)' % n)

        # --- control/spfhelo: the HELO name's own record (RFC 7208 2.3) --------
        def fields(msg):
            return [' '.join(v.split()) for v in msg.get_all('Received-SPF', [])] if msg else []

        srv.control('spfhelo', '1')
        mail, msg = send('127.0.0.2', 'a@pass.test', helo='helo.test')
        f = fields(msg)
        check(len(f) == 2 and f[0].startswith('pass ') and 'identity=helo' in f[0] and
              'envelope-from="a@pass.test"' in f[0] and f[1].startswith('pass ') and 'identity=mailfrom' in f[1],
              'spfhelo 1: two fields, the HELO name\'s first (%s)' % f)
        check(wait_for(lambda: logged(r'spf result=pass ip=127\.0\.0\.2 identity=postmaster@helo\.test scope=helo ')),
              'the HELO check\'s log line says scope=helo')
        for ip, helo in (('127.0.0.3', 'helo.test'), ('127.0.0.2', 'badhelo.test'), ('127.0.0.2', 'client.test')):
            mail, msg = send(ip, 'a@pass.test', helo=helo)
            ours, theirs = spf_of(msg), pyspf(ip, 'postmaster@' + helo, helo)
            check(mail[0] == 250 and ours == theirs, 'spfhelo 1: HELO %s from %s: %s, pyspf %s; accepted' % (
                helo, ip, ours, theirs))
        mail, msg = send('127.0.0.2', 'a@b\u00fccher.test', helo='helo.test', params=' SMTPUTF8')
        f = fields(msg)
        check(len(f) == 2 and all('envelope-from="a@xn--bcher-kva.test"' in x for x in f),
              'a UTF-8 sender: both fields name it by its A-labels (%s)' % f)
        mail, msg = send('127.0.0.2', '', helo='helo.test')
        check(len(fields(msg)) == 1 and 'identity=mailfrom' in fields(msg)[0],
              'the null sender: one field, control/spf\'s check of the same name')
        before = asked('helo.test')
        mails_and_rsets('127.0.0.2', 'helo.test', ['a%d@pass.test' % k for k in range(3)])
        check(asked('helo.test') == before + 1, 'three MAILs after one HELO: its record asked once')
        srv.control('spfhelo', '2')
        mail, msg = send('127.0.0.2', 'a@pass.test', helo='badhelo.test')
        check(mail[0] == 550 and '5.7.23' in mail[1][-1] and 'HELO name badhelo.test' in mail[1][-1],
              'spfhelo 2: a HELO name that fails, refused at MAIL (%s)' % mail[1][-1])
        mail, msg = send('127.0.0.2', 'a@pass.test', helo='client.test')
        check(mail[0] == 250 and spf_of(msg) == 'none', 'spfhelo 2: a HELO name with no record, accepted')
        mail, msg = send('127.0.0.2', '', helo='badhelo.test')
        check(mail[0] == 550 and '5.7.23' in mail[1][-1] and 'badhelo.test' in mail[1][-1],
              'spfhelo 2, spf 1, the null sender: its one check, of the same name, at the higher level: refused (%s)' %
              mail[1][-1])
        srv.control('spfhelo', '0')
        srv.control('spf', '0')
        srv.control('spfhelo', '1')
        mail, msg = send('127.0.0.2', '', helo='helo.test')
        check(mail[0] == 250 and spf_of(msg) == 'pass' and len(fields(msg)) == 1,
              'spf 0, spfhelo 1: the null sender\'s HELO name is still checked, once')
        srv.control('spfhelo', '0')
        srv.control('spf', '1')

        # --- 2: fail refused ------------------------------------------------
        srv.control('spf', '2')
        mail, msg = send('127.0.0.3', 'a@pass.test')
        check(mail[0] == 550 and '5.7.23' in mail[1][-1] and 'pass.test' in mail[1][-1] and '127.0.0.3' in mail[1][-1],
              'spf 2: fail refused, 550 5.7.23 (%s)' % mail[1][-1])
        check(wait_for(lambda: logged(r'reject .*sender=a@pass\.test .*550 5\.7\.23')), '... and logged as a reject')
        mail, msg = send('127.0.0.3', 'a@exp.test')
        check(mail[0] == 550 and mail[1][-1].endswith('; exp.test explains: 127.0.0.3 may not send for exp.test '
                                                      '(see https://exp.test/spf)'),
              'a fail with exp=: the domain\'s explanation, its macros expanded, after ours (%s)' % mail[1][-1])
        mail, msg = send('127.0.0.3', 'a@expbad.test')
        check(mail[0] == 550 and 'explains' not in mail[1][-1],
              'exp= naming two TXT records: no explanation, the plain 550 (%s)' % mail[1][-1])
        replies, _ = send('127.0.0.3', 'a@pass.test', pipelined=True)
        check([r[0] for r in replies] == [550, 503, 503], 'pipelined RCPT and DATA behind it: 503 (%s)' % [r[0] for r in replies])
        mail, msg = send('127.0.0.3', 'a@soft.test')
        check(mail[0] == 250 and spf_of(msg) == 'softfail', 'spf 2: softfail accepted')
        mail, msg = send('127.0.0.2', 'a@broken.test')
        check(mail[0] == 250 and spf_of(msg) == 'permerror', 'spf 2: permerror accepted')
        mail, msg = send('127.0.0.2', 'a@pass.test')
        check(mail[0] == 250 and spf_of(msg) == 'pass', 'spf 2: pass accepted')

        # --- 3: errors refused too ---------------------------------------
        srv.control('spf', '3')
        mail, msg = send('127.0.0.2', 'a@broken.test')
        check(mail[0] == 550 and '5.7.24' in mail[1][-1], 'spf 3: permerror refused, 550 5.7.24 (%s)' % mail[1][-1])
        held = truncating_nameserver('127.0.0.13')
        DNS.resolv('127.0.0.13')
        t = time.time()
        mail, msg = send('127.0.0.2', 'a@pass.test')
        check(mail[0] == 451 and 4 < time.time() - t < 8 and len(held) == 1,
              'truncated over UDP, and silent over TCP: temperror within the 5 s of the lookup (%.1f s, %d TCP)' %
              (time.time() - t, len(held)))
        DNS.resolv('127.0.0.9')  # nothing listens there: every lookup fails
        t = time.time()
        mail, msg = send('127.0.0.2', 'a@pass.test')
        check(mail[0] == 451 and '4.7.24' in mail[1][-1] and time.time() - t < 8,
              'spf 3: no answer, temperror, 451 4.7.24 (%s, %.1f s)' % (mail[1][-1], time.time() - t))
        DNS.resolv('127.0.0.1')
        mail, msg = send('127.0.0.2', 'a@pass.test')
        check(mail[0] == 250 and spf_of(msg) == 'pass', 'a temperror is not kept: the next session passes')

        # --- who is not checked ---------------------------------------------
        before = asked('pass.test')
        mail, msg = send('127.0.0.1', 'a@pass.test')
        check(mail[0] == 250 and spf_of(msg) is None and asked('pass.test') == before, 'a RELAYCLIENT: not checked')
        with open(srv.rules, 'w') as f:
            f.write('127.0.0.1:allow,RELAYCLIENT=""\n127.0.0.8:allow,SPFSKIP=""\n:allow\n')
        time.sleep(1.1)  # the rules are read again when their mtime moves
        mail, msg = send('127.0.0.8', 'a@pass.test')
        check(mail[0] == 250 and spf_of(msg) is None, 'SPFSKIP from the rules: not checked')
        check(not logged(r'AddressSanitizer|runtime error'), 'no sanitizer report')
finally:
    if srv:
        srv.cleanup()
    DNS.cleanup()
done()
