#!/usr/bin/env python3
"""postern-smtpd's way back of SRS (doc/srs.md, "The way back"): a RCPT
to an SRS address of control/srsdomain is checked with HOME/secret/srs/key
and becomes the address it stands for.  tests/smtptest.py's Server (its
stub queue records the envelope) under postern-listen -G, which gives
postern-smtpd the key file's group (a gid of no group: setgroups does not
care).  The addresses are made by tests/srsaddr.py, from the document,
not by the library postern-smtpd uses.

Checked: SRS0 and SRS1 accepted from a client that may not relay, the
envelope holding the reversed recipient and the log line naming both; a
local part or domain in another case, and '+' after SRS0; a second key
verifying; 550 5.1.1 for a bad hash, a malformed address and an expired
one (counted toward control/maxerrors); control/maxrcpt counting them;
451 4.3.0 for a key missing, unreadable or malformed and for a bad
control/srsdomain (not counted), with a log line saying why, once a
session; control/srsdomain absent, or another domain: an address like any
other; control/srsdomain read only at an SRS-looking RCPT and the key
only at one in that domain (strace, when there is one); submission (-a)
after AUTH; `sendmail -bs` (no group: 451).  Run as root."""
import base64, os, re, shutil, signal, subprocess, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smtptest import Server, Conn, children
from srsaddr import siphash24, srs0, srs1, today
from fakeauth import Listener
from tap import check, done, wait_for

SRSGID = 54329  # the key's group, postern-srs in an install
SRSDOMAIN = 'fwd.example'
KEY = bytes.fromhex('00112233445566778899aabbccddeeff')
OLDKEY = bytes.fromhex('f0e1d2c3b4a5968778695a4b3c2d1e0f')
OTHER = bytes.fromhex('ffeeddccbbaa99887766554433221100')

# the helper is SipHash-2-4: the paper's first vectors (key 00..0f,
# message 00..n-1), so that a failure below is postern's, not the helper's
vec = [siphash24(bytes(range(16)), bytes(range(n))).to_bytes(8, 'little').hex() for n in (0, 1, 7, 8, 15)]
check(vec == ['310e0edd47db6f72', 'fd67dc93c539f874', '37d1018bf50002ab', '6224939a79f5f593', 'e545be4961ca29a1'],
      'the test\'s SipHash-2-4 gives the reference vectors (%s)' % vec)


def put_key(srv, text, mode=0o640):
    """HOME/secret/srs/key as ./install lays it out: root:SRSGID 0640 in a
    0750 directory of the same owners; text None removes it"""
    d = os.path.join(srv.home, 'secret', 'srs')
    os.makedirs(d, exist_ok=True)
    os.chmod(os.path.dirname(d), 0o755)
    os.chown(d, 0, SRSGID)
    os.chmod(d, 0o750)
    p = os.path.join(d, 'key')
    if text is None:
        if os.path.exists(p):
            os.unlink(p)
        return
    with open(p, 'w') as f:
        f.write(text)
    os.chown(p, 0, SRSGID)
    os.chmod(p, mode)


def keyfile(*keys):
    return '# made by the test\n' + ''.join(k.hex() + '\n' for k in keys)


def log_lines(srv, event):
    return [l for l in srv.logtext().splitlines() if l.startswith('postern-smtpd: %s ' % event)]


def rcpt(srv, addresses, src='127.0.0.2', sender='', data=False):
    """one session from src: MAIL FROM sender, a RCPT for each address;
    the replies (code, text) of the RCPTs, and with data the message's"""
    c = Conn(srv.port, src)
    c.cmd('EHLO client.test')
    c.cmd('MAIL FROM:<%s>' % sender)
    rs = []
    for a in addresses:
        r = c.cmd('RCPT TO:<%s>' % a)
        rs.append((r[0], r[1][-1]))
    if data:
        r = c.cmd('DATA')
        if r[0] == 354:
            c.send('Subject: bounce\r\n\r\nback\r\n.\r\n')
            r = c.reply()
        rs.append((r[0], r[1][-1]))
    c.cmd('QUIT')
    c.close()
    return rs


def envelopes(srv, orcpt=False):
    """the queued envelopes; without orcpt, their O records (the ORCPT
    postern-smtpd adds for a reversed address) left out"""
    envs = [srv.stub_read(i)[1] for i in srv.stub_ids()]
    return envs if orcpt else [re.sub(rb'(?<=\0)O[^\0]*\0', b'', e) for e in envs]


def xtext(s):
    return ''.join(c if '!' <= c <= '~' and c not in '+=' else '+%02X' % ord(c) for c in s)


srv = Server(extra_control={'srsdomain': SRSDOMAIN}, listen_args=['-G', str(SRSGID)])
put_key(srv, keyfile(KEY, OLDKEY))
srv.start()
sub = None
try:
    # --- the way back ------------------------------------------------------
    a = srs0(KEY, 'alice@example.net', SRSDOMAIN)
    rs = rcpt(srv, [a], data=True)
    envs = envelopes(srv)
    check(rs[0] == (250, '250 2.1.5 recipient ok'), 'SRS0 from a client that may not relay: 250 (%s)' % (rs[0],))
    check(rs[1][0] == 250 and envs == [b'F\0Talice@example.net\0\0'],
          'the envelope holds the address it stands for (%s)' % envs)
    check(envelopes(srv, orcpt=True) == [('F\0Orfc822;%s\0Talice@example.net\0\0' % xtext(a)).encode()],
          'and, for DSN, the SRS address as its ORCPT, in xtext (RFC 3461 4.2)')
    msg = srv.stub_read(srv.stub_ids()[0])[0] if envs else b''
    check(('\n\tfor <%s>; ' % a).encode() in msg.split(b'\n\n')[0], 'Received\'s "for" names the address as given')
    want = 'postern-smtpd: srs ip=127.0.0.2 from="" rcpt="%s" reversed=alice@example.net' % a
    check(wait_for(lambda: want in log_lines(srv, 'srs')), 'log line: %s (%s)' % (want, log_lines(srv, 'srs')))
    srv.stub_clear()

    first = srs0(OTHER, 'bob@example.com', 'first.example')  # another host's, its hash not ours to check
    a1 = srs1(KEY, first, SRSDOMAIN)
    check(a1.startswith('SRS1=') and '=first.example==' in a1, 'an SRS1 address: %s' % a1)
    rs = rcpt(srv, [a1], sender='mailer-daemon@elsewhere.test', data=True)
    envs = envelopes(srv)
    check(rs[0][0] == 250 and rs[1][0] == 250 and envs == [('Fmailer-daemon@elsewhere.test\0T%s\0\0' % first).encode()],
          'SRS1 goes back to the first forwarder\'s SRS0 address (%s)' % envs)
    srv.stub_clear()

    # case changed on the way, '+' (other implementations'), the old key
    b = srs0(KEY, 'Carol.Smith@Example.NET', SRSDOMAIN)
    local, dom = b.rsplit('@', 1)
    variants = [b.upper(), b.lower(), local.lower() + '@' + dom.upper(), 'SRS0+' + b[5:],
                srs0(OLDKEY, 'dave@example.net', SRSDOMAIN), srs0(KEY, 'erin@example.net', SRSDOMAIN, today() - 1),
                srs0(KEY, 'frank@example.net', SRSDOMAIN, today() + 1)]
    rs = rcpt(srv, variants, data=True)
    envs = envelopes(srv)
    check([r[0] for r in rs] == [250] * 8, 'upper case, lower case, the domain in capitals, "SRS0+", signed with the '
          'second key, made yesterday or "tomorrow" (a clock set back): all 250 (%s)' % [r[0] for r in rs])
    check(envs == [b'F\0TCAROL.SMITH@EXAMPLE.NET\0Tcarol.smith@example.net\0Tcarol.smith@example.net\0'
                   b'TCarol.Smith@Example.NET\0Tdave@example.net\0Terin@example.net\0Tfrank@example.net\0\0'],
          'each reversed in the case it came in (%s)' % envs)
    srv.stub_clear()

    # --- refusals -------------------------------------------------------------
    good = srs0(KEY, 'alice@example.net', SRSDOMAIN)
    i = good.index('=', 5)
    forged = 'SRS0=' + ('AAAAAAAA' if good[5:i] != 'AAAAAAAA' else 'BBBBBBBB') + good[i:]
    other_key = srs0(OTHER, 'alice@example.net', SRSDOMAIN)
    expired = srs0(KEY, 'alice@example.net', SRSDOMAIN, today() - 30)
    malformed = ['SRS0=garbage@' + SRSDOMAIN, 'SRS0=ABCDEF=ZZ=@' + SRSDOMAIN, 'srs1=ABCDEF=first.example@' + SRSDOMAIN,
                 good.replace('@', '=x@', 1)]
    rs = rcpt(srv, [forged, other_key, expired] + malformed + ['demo@example.org'], data=True)
    check(rs[0] == (550, '550 5.1.1 <%s>: not a valid SRS address here' % forged), 'a hash changed: %s' % (rs[0],))
    check(rs[1] == (550, '550 5.1.1 <%s>: not a valid SRS address here' % other_key), 'signed with a key we do not hold: 550')
    check(rs[2] == (550, '550 5.1.1 <%s>: SRS address expired' % expired), 'made 30 days ago: %s' % (rs[2],))
    check(all(r == (550, '550 5.1.1 <%s>: not a valid SRS address here' % m) for r, m in zip(rs[3:7], malformed)),
          'malformed, or with a byte added after signing: 550 5.1.1 (%s)' % [r[0] for r in rs[3:7]])
    check(rs[7][0] == 250 and rs[8][0] == 250 and envelopes(srv) == [b'F\0Tdemo@example.org\0\0'],
          'and the session goes on: the message goes to the one good recipient')
    rejects = log_lines(srv, 'reject')
    check(any(('to="%s" reply="550 5.1.1 <%s>: not a valid SRS address here" why="SRS address with a bad signature"'
               % (forged, forged)) in l for l in rejects), 'a reject line with why= for the forged one')
    check(any(('to="%s" reply="550 5.1.1 <%s>: SRS address expired" why="expired SRS address"' % (expired, expired)) in l
              for l in rejects), 'and for the expired one')
    check(any(('to="%s"' % malformed[0]) in l and 'why="malformed SRS address"' in l for l in rejects),
          'and for a malformed one')
    srv.stub_clear()

    # refusals count toward control/maxerrors; a verified one toward maxrcpt
    srv.control('maxerrors', '3')
    c = Conn(srv.port, '127.0.0.2')
    c.cmd('EHLO client.test')
    c.cmd('MAIL FROM:<>')
    codes = [c.cmd('RCPT TO:<%s>' % forged)[0] for _ in range(2)] + [c.cmd('RCPT TO:<%s>' % expired)[0]]
    r = c.reply()
    check(codes == [550, 550, 550] and r[0] == 421 and c.closed(), 'three refused SRS addresses at maxerrors 3: 421 (%s)' % codes)
    srv.control('maxerrors', None)
    srv.control('maxrcpt', '2')
    rs = rcpt(srv, [good, srs0(KEY, 'x@example.net', SRSDOMAIN), 'demo@example.org'])
    check([r[0] for r in rs] == [250, 250, 452], 'SRS recipients count toward control/maxrcpt (%s)' % rs)
    srv.control('maxrcpt', None)

    # --- the key or control/srsdomain cannot be had: 451, not counted -------------
    TEMP = '451 4.3.0 SRS key unavailable; try again later'
    keypath = os.path.join(srv.home, 'secret', 'srs', 'key')
    srv.control('maxerrors', '2')
    for what, setup, why in (
            ('missing', lambda: put_key(srv, None), 'No such file or directory'),
            ('unreadable (0600)', lambda: put_key(srv, keyfile(KEY), 0o600), 'Permission denied'),
            ('malformed', lambda: put_key(srv, KEY.hex()[:31] + '\n'), 'malformed key file'),
            ('empty', lambda: put_key(srv, ''), 'malformed key file'),
            ('too long', lambda: put_key(srv, '#' * 5000 + '\n' + KEY.hex() + '\n'), 'key file too long')):
        setup()
        before = len(log_lines(srv, 'srs_unavailable'))
        rs = rcpt(srv, [good, good, good, 'demo@example.org'])
        new = log_lines(srv, 'srs_unavailable')[before:]
        check(rs[:3] == [(451, TEMP)] * 3 and rs[3][0] == 250,
              'key %s: 451 4.3.0, three times, not counted as errors (maxerrors 2) (%s)' % (what, rs))
        check(len(new) == 1 and ('file=%s why="%s' % (keypath, why) in new[0] or 'file=%s why=%s' % (keypath, why) in new[0]),
              'and one log line a session, saying why (%s)' % new)
    put_key(srv, keyfile(KEY))
    check(rcpt(srv, [good])[0][0] == 250, 'the key back: 250 again')
    srv.control('srsdomain', 'not a domain!')
    rs = rcpt(srv, [good, 'SRS0=x@elsewhere.test', 'demo@example.org'])
    check([r[0] for r in rs] == [451, 451, 250] and rs[0][1] == TEMP,
          'control/srsdomain not a domain: 451 for every SRS-looking address, the rest as ever (%s)' % rs)
    check(any('file=control/srsdomain why="not a domain name"' in l for l in log_lines(srv, 'srs_unavailable')),
          'and a log line says so')
    srv.control('maxerrors', None)

    # --- SRS off, or another domain: an address like any other -------------------
    srv.control('srsdomain', None)
    rs = rcpt(srv, [good])
    check(rs[0][0] == 550 and '5.7.1 relaying denied' in rs[0][1],
          'control/srsdomain absent: an SRS address from a stranger is relaying, 550 5.7.1 (%s)' % (rs[0],))
    rs = rcpt(srv, [good], src='127.0.0.1', data=True)
    check(rs[0][0] == 250 and envelopes(srv) == [('F\0T%s\0\0' % good).encode()],
          'and from a RELAYCLIENT it is relayed as it is, not reversed')
    srv.stub_clear()
    srv.control('srsdomain', '')
    check(rcpt(srv, [good])[0][0] == 550, 'control/srsdomain empty: off too')
    srv.write('control/srsdomain', '# SRS off\n\n')
    check(rcpt(srv, [good])[0][0] == 550, 'control/srsdomain of comments and blanks: off too')
    srv.control('srsdomain', SRSDOMAIN)
    elsewhere = srs0(KEY, 'alice@example.net', 'other.example')
    rs = rcpt(srv, [elsewhere])
    check(rs[0][0] == 550 and '5.7.1' in rs[0][1], 'an SRS address of another domain: relaying, 550 5.7.1 (%s)' % (rs[0],))
    rs = rcpt(srv, [elsewhere], src='127.0.0.1', data=True)
    check(envelopes(srv) == [('F\0T%s\0\0' % elsewhere).encode()], 'and relayed as it is for a RELAYCLIENT')
    srv.stub_clear()
    # control/srsdomain one of control/locals: the recipient table is not asked
    srv.control('srsdomain', 'example.org')
    rs = rcpt(srv, [srs0(KEY, 'gina@example.net', 'example.org'), 'SRS0=bad@example.org'], data=True)
    check(rs[0][0] == 250 and rs[1] == (550, '550 5.1.1 <SRS0=bad@example.org>: not a valid SRS address here')
          and envelopes(srv) == [b'F\0Tgina@example.net\0\0'],
          'control/srsdomain a local domain: reversed without the recipient table, a bad one 550 SRS (%s)' % rs)
    srv.stub_clear()
    srv.control('srsdomain', SRSDOMAIN)
    # the address it stands for is judged as any recipient is, relaying
    # aside (found by a review: a signed address skipped every check)
    rs = rcpt(srv, [srs0(KEY, 'nosuchuser@example.org', SRSDOMAIN), srs0(KEY, 'demo@example.org', SRSDOMAIN),
                    srs0(KEY, 'victim%target.example@example.net', SRSDOMAIN),
                    srs0(KEY, 'a!b@example.net', SRSDOMAIN)], data=True)
    check(rs[0] == (550, '550 5.1.1 no such user here'), 'standing for a local user who does not exist: 550 5.1.1 (%s)' % (rs[0],))
    check(rs[1][0] == 250, 'standing for a local user who does: 250 (%s)' % (rs[1],))
    check(rs[2][0] == 553 and rs[3][0] == 553, "standing for a source route ('%%' or '!'): 553 (%s)" % rs[2:4])
    check(envelopes(srv) == [b'F\0Tdemo@example.org\0\0'], 'only the local user who exists is queued (%s)' % envelopes(srv))
    srv.stub_clear()
    # an SRS0 address passed off as SRS1, and the other way round: the type is signed
    a = srs0(KEY, '-x@example.net', SRSDOMAIN)
    b = srs1(KEY, srs0(OTHER, 'y@example.com', 'first.example'), SRSDOMAIN)
    rs = rcpt(srv, ['SRS1' + a[4:], 'SRS0' + b[4:]])
    check([r[0] for r in rs] == [550, 550], 'SRS0 as SRS1 and SRS1 as SRS0: 550 (%s)' % rs)
finally:
    srv.stop()

# --- read lazily: strace of the listener and its sessions -----------------------
if shutil.which('strace'):
    trace = os.path.join(srv.dir, 'strace')
    # (no leak checking under the sanitizer build: it cannot run under ptrace)
    srv.start(prefix=['env', 'ASAN_OPTIONS=%s:detect_leaks=0' % os.environ.get('ASAN_OPTIONS', ''),
                      'strace', '-f', '-qq', '-e', 'trace=%file', '-o', trace])
    try:
        def opened():
            t = open(trace, errors='replace').read()
            return t.count('control/srsdomain'), t.count('secret/srs/key')
        rs = rcpt(srv, ['demo@example.org', 'x@elsewhere.test', 'srs0@example.org', 'SRS2=x@' + SRSDOMAIN])
        n0 = opened()
        check(n0 == (0, 0), 'a session with no SRS-looking recipient reads neither control/srsdomain nor the key %s' % (n0,))
        rcpt(srv, ['SRS0=x@elsewhere.test', 'SRS1=y@elsewhere.test'])
        n1 = opened()
        check(n1 == (1, 0), 'SRS-looking addresses of another domain: control/srsdomain once, the key never %s' % (n1,))
        rcpt(srv, [good, good, 'SRS0=z@' + SRSDOMAIN])
        n2 = opened()
        check(n2 == (2, 1), 'three in control/srsdomain: each file once in the session %s' % (n2,))
    finally:
        # strace would outlive a SIGTERM of its own, tracing on: the
        # listener is stopped first, and strace ends with it
        for pid in children(srv.proc.pid):
            os.kill(pid, signal.SIGTERM)
        try:
            srv.proc.wait(10)
        except subprocess.TimeoutExpired:
            srv.proc.kill()
            srv.proc.wait()
        srv.proc = None
else:
    for _ in range(3):
        check(True, 'reading control/srsdomain and the key lazily: skipped, no strace')

# --- submission, and sendmail -bs --------------------------------------------------
PASSWORD = 'srs test pw'


class Auth(Listener):
    def serve(self, c):
        got = self.receive(c)
        if got is None:
            return
        f = got[0][1:].split(b'\0')
        c.send(b'K' if got[0][:1] == b'C' and f[:2] == [b'ptsrs', PASSWORD.encode()] else b'N')
        c.close()


sub = Server(args=['-a'], extra_control={'srsdomain': SRSDOMAIN}, listen_args=['-G', str(SRSGID)],
             dir=os.path.join(srv.dir, 'submission'))
put_key(sub, keyfile(KEY))
os.makedirs(os.path.join(sub.home, 'run', 'auth'))
for d in ('run', 'run/auth'):
    os.chmod(os.path.join(sub.home, d), 0o755)
auth = Auth(os.path.join(sub.home, 'run', 'auth', 'socket'), 'check')
sub.start()
try:
    c = Conn(sub.port)
    c.cmd('EHLO client.test')
    r = c.cmd('AUTH PLAIN ' + base64.b64encode(b'\0ptsrs\0' + PASSWORD.encode()).decode())
    check(r[0] == 235, 'submission: AUTH from loopback (%s)' % r[1][-1])
    c.cmd('MAIL FROM:<>')
    rs = [c.cmd('RCPT TO:<%s>' % x)[0] for x in (good, forged)]
    c.cmd('DATA')
    c.send('Subject: s\r\n\r\nb\r\n.\r\n')
    r = c.reply()
    c.cmd('QUIT')
    c.close()
    check(rs == [250, 550] and r[0] == 250 and envelopes(sub) == [b'F\0Talice@example.net\0\0'],
          'submission (-a): an SRS address reversed, a forged one 550 (%s)' % rs)
    check(wait_for(lambda: any(('rcpt="%s" reversed=alice@example.net' % good) in l for l in log_lines(sub, 'srs'))),
          'and logged')
    # sendmail -bs: run as the user, without the group, the key is unreadable
    bs = subprocess.run(['setpriv', '--reuid=%d' % sub.uid, '--regid=%d' % sub.gid, '--clear-groups',
                         os.path.join(sub.home, 'bin', 'postern-smtpd')],
                        input=('EHLO local\r\nMAIL FROM:<>\r\nRCPT TO:<%s>\r\nRCPT TO:<x@elsewhere.test>\r\nQUIT\r\n' % good).encode(),
                        capture_output=True, timeout=30, env={'PATH': '/usr/bin:/bin', 'POSTERN_HOME': sub.home})
    out = bs.stdout.decode(errors='replace')
    check('\r\n451 4.3.0 SRS key unavailable; try again later\r\n250 2.1.5 recipient ok\r\n' in out,
          'sendmail -bs (no postern-srs group): 451 for the SRS address, the rest as ever (%s)' % out[-200:])
    check('srs_unavailable' in bs.stderr.decode(errors='replace') and 'Permission denied' in bs.stderr.decode(errors='replace'),
          'and the log says why (%s)' % bs.stderr.decode(errors='replace').strip()[-200:])
finally:
    sub.stop()

# under the sanitizer build (tests/run.sh runs this test with it too), a
# report would be in the logs
reports = [l for s in (srv, sub) for l in s.logtext().splitlines() if 'Sanitizer' in l or 'runtime error' in l]
check(not reports, 'no sanitizer report in the logs (%s)' % reports[:2])
sub.cleanup()
srv.cleanup()
done()
