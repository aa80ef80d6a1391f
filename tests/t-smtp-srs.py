#!/usr/bin/env python3
"""postern-smtpd's way back of SRS (doc/srs.md, "The way back"): a RCPT
to an SRS address of control/srsdomain is taken to postern-srs, the key
holder, over HOME/run/srs/socket, and becomes the address it stands for.
tests/smtptest.py's Server (its stub queue records the envelope), with a
real postern-srs running in the same home as a uid of this test's (in no
passwd file: it would be postern-srs), which alone may read the key file
(0600 in secret/srs 0700); postern-smtpd holds no key and no group.  The
addresses are made by tests/srsaddr.py, from the document, not by the
library postern-srs uses.

Checked: SRS0 and SRS1 accepted from a client that may not relay, the
envelope holding the reversed recipient and the log line naming both; a
local part or domain in another case, and '+' after SRS0; a second key
verifying; 550 5.1.1 for a bad hash, a malformed address and an expired
one (counted toward control/maxerrors); control/maxrcpt counting them;
451 4.3.0 (not counted), with one log line a session saying why, for a
key missing, unreadable by postern-srs, malformed, empty or too long
(postern-srs's Z and its reason; postern-srs's own log says so once, and
"keys" when the key is back, with no restart and no signal), for
postern-srs stopped (no socket), killed (a socket nobody listens on) or
stopped with SIGSTOP (no answer in 5 s), each the rest of the session's
SRS addresses 451 without asking again, and 250 once it is back; a bad
control/srsdomain; control/srsdomain absent, or another domain: an
address like any other; control/srsdomain read only at an SRS-looking
RCPT, at most once a session, the socket connected to only for one in
that domain, and secret/srs/key never opened by postern-smtpd (strace,
when there is one); submission (-a) after AUTH, with a postern-srs of
its own; `sendmail -bs` (postern-smtpd run directly as its uid and as a
local user's, no groups): reversed, a forged one 550; postern-srs's stop
line counting what it answered.  Run as root."""
import atexit, base64, os, re, shutil, signal, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import service_test
from service_test import as_uid
from smtptest import BUILD, Server, Conn, children
from srsaddr import siphash24, srs0, srs1, today
from fakeauth import Listener
from tap import check, done, wait_for

SRS_UID = 54330    # postern-srs's stand-in: owns the key, runs postern-srs
SIGNER_UID = 54331  # postern-srs -u (postern-send's stand-in; never asks here)
LOCAL_UID = 54332  # a local user running sendmail -bs
SRSDOMAIN = 'fwd.example'
KEY = bytes.fromhex('00112233445566778899aabbccddeeff')
OLDKEY = bytes.fromhex('f0e1d2c3b4a5968778695a4b3c2d1e0f')
OTHER = bytes.fromhex('ffeeddccbbaa99887766554433221100')

# the helper is SipHash-2-4: the paper's first vectors (key 00..0f,
# message 00..n-1), so that a failure below is postern's, not the helper's
vec = [siphash24(bytes(range(16)), bytes(range(n))).to_bytes(8, 'little').hex() for n in (0, 1, 7, 8, 15)]
check(vec == ['310e0edd47db6f72', 'fd67dc93c539f874', '37d1018bf50002ab', '6224939a79f5f593', 'e545be4961ca29a1'],
      'the test\'s SipHash-2-4 gives the reference vectors (%s)' % vec)


def put_key(srv, text, owner=SRS_UID, mode=0o600):
    """HOME/secret/srs/key as ./install lays it out: postern-srs's, 0600,
    in a 0700 directory of its own; written beside and renamed over, as
    postern-srskey does; text None removes it"""
    d = os.path.join(srv.home, 'secret', 'srs')
    os.makedirs(d, exist_ok=True)
    os.chmod(os.path.dirname(d), 0o755)
    os.chown(d, SRS_UID, SRS_UID)
    os.chmod(d, 0o700)
    p = os.path.join(d, 'key')
    if text is None:
        if os.path.exists(p):
            os.unlink(p)
        return
    with open(p + '.tmp', 'w') as f:
        f.write(text)
    os.chown(p + '.tmp', owner, owner)
    os.chmod(p + '.tmp', mode)
    os.rename(p + '.tmp', p)


def keyfile(*keys):
    return '# made by the test\n' + ''.join(k.hex() + '\n' for k in keys)


srsds = []  # every postern-srs started, for the sanitizer check


@atexit.register
def stop_srsds():
    for d in srsds:
        if d.p.poll() is None:
            d.p.send_signal(signal.SIGCONT)
            d.p.kill()
            d.p.wait()


def start_srs(srv):
    """postern-srs -d FD -u SIGNER_UID -c (srv's postern-smtpd uid) in
    srv's home, as SRS_UID, started and waited for (tests/service_test.py)"""
    prog = os.path.join(srv.home, 'bin', 'postern-srs')
    if not os.path.exists(prog):
        shutil.copy(os.path.join(BUILD, 'bin', 'postern-srs'), prog)
    d = os.path.join(srv.home, 'run', 'srs')
    os.makedirs(d, exist_ok=True)
    os.chmod(os.path.dirname(d), 0o755)
    os.chown(d, SRS_UID, SRS_UID)
    os.chmod(d, 0o755)
    p = service_test.Server([prog, '-u', str(SIGNER_UID), '-c', str(srv.uid)], srv.dir,
                            dict(os.environ, POSTERN_HOME=srv.home), preexec=as_uid(SRS_UID))
    srsds.append(p)
    return p


def srs_lines(srsd, event):
    return [l for l in srsd.log().splitlines() if l.startswith('postern-srs: %s ' % event)]


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


srv = Server(extra_control={'srsdomain': SRSDOMAIN})
put_key(srv, keyfile(KEY, OLDKEY))
srsd = start_srs(srv)
check(srsd.ready and 'keys=2' in srsd.log(), 'postern-srs is ready, with the two keys (%r)' % srsd.log().strip()[-200:])
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
    # postern-srs answers Z and its reason; postern-smtpd asks once a
    # session, and gives every SRS RCPT of it 451
    TEMP = '451 4.3.0 SRS key unavailable; try again later'
    keypath = os.path.join(srv.home, 'secret', 'srs', 'key')
    srs_pid = srsd.p.pid
    srv.control('maxerrors', '2')
    for what, setup, why in (
            ('missing', lambda: put_key(srv, None), 'No such file or directory'),
            ('unreadable by postern-srs (root\'s, 0600)', lambda: put_key(srv, keyfile(KEY), owner=0),
             'Permission denied'),
            ('malformed', lambda: put_key(srv, KEY.hex()[:31] + '\n'),
             'malformed key file: each line 32 hex digits, at most 8 keys'),
            ('empty', lambda: put_key(srv, ''), 'malformed key file: each line 32 hex digits, at most 8 keys'),
            ('too long', lambda: put_key(srv, '#' * 5000 + '\n' + KEY.hex() + '\n'), 'key file too long')):
        setup()
        before = len(log_lines(srv, 'srs_unavailable'))
        sbefore = len(srs_lines(srsd, 'srs_unavailable'))
        rs = rcpt(srv, [good, good, good, 'demo@example.org'])
        new = log_lines(srv, 'srs_unavailable')[before:]
        check(rs[:3] == [(451, TEMP)] * 3 and rs[3][0] == 250,
              'key %s: 451 4.3.0, three times, not counted as errors (maxerrors 2) (%s)' % (what, rs))
        check(new == ['postern-smtpd: srs_unavailable ip=127.0.0.2 service=postern-srs why="postern-srs: %s"' % why],
              'and one log line a session, relaying postern-srs\'s reason (%s)' % new)
        snew = srs_lines(srsd, 'srs_unavailable')[sbefore:]
        check(snew == ['postern-srs: srs_unavailable file=%s why="%s"' % (keypath, why)],
              'postern-srs\'s own log says it once: srs_unavailable file=... why="%s" (%s)' % (why, snew))
        nkeys = len(srs_lines(srsd, 'keys'))
        put_key(srv, keyfile(KEY))
        rs = rcpt(srv, [good])
        check(rs[0][0] == 250 and srs_lines(srsd, 'keys')[nkeys:] == ['postern-srs: keys file=%s n=1' % keypath]
              and srsd.p.poll() is None and srsd.p.pid == srs_pid,
              'the key back: 250 again, postern-srs logs keys ... n=1, not restarted, no signal (%s)' % (rs[0],))

    # --- postern-srs itself down: 451, not counted, and why -----------------------
    sock = os.path.join(srv.home, 'run', 'srs', 'socket')
    code = srsd.stop()
    check(code == 0 and not os.path.exists(sock), 'postern-srs stopped (SIGTERM): exit 0, its socket gone (%d)' % code)
    for how, why in (('stopped', 'unable to connect to postern-srs: No such file or directory'),
                     ('killed, its socket left behind', 'unable to connect to postern-srs: Connection refused')):
        if how.startswith('killed'):
            srsd = start_srs(srv)
            check(srsd.ready and rcpt(srv, [good])[0][0] == 250, 'postern-srs started again: 250')
            srsd.p.kill()
            srsd.p.wait()
        before = len(log_lines(srv, 'srs_unavailable'))
        rs = rcpt(srv, [good, good, good, 'demo@example.org'])
        new = log_lines(srv, 'srs_unavailable')[before:]
        check(rs[:3] == [(451, TEMP)] * 3 and rs[3][0] == 250,
              'postern-srs %s: 451 4.3.0, three times, not counted (%s)' % (how, rs))
        check(new == ['postern-smtpd: srs_unavailable ip=127.0.0.2 service=postern-srs why="%s"' % why],
              'and one log line a session: why="%s" (%s)' % (why, new))
    srsd = start_srs(srv)
    check(srsd.ready and rcpt(srv, [good])[0][0] == 250, 'postern-srs started again: 250')
    # stopped (SIGSTOP): the connect goes through (the backlog), no
    # answer comes; postern-smtpd waits 5 s at most, once a session
    srsd.p.send_signal(signal.SIGSTOP)
    try:
        before = len(log_lines(srv, 'srs_unavailable'))
        c = Conn(srv.port, '127.0.0.2')
        c.cmd('EHLO client.test')
        c.cmd('MAIL FROM:<>')
        times, codes = [], []
        for a in (good, good):
            t = time.time()
            codes.append(c.cmd('RCPT TO:<%s>' % a)[0])
            times.append(time.time() - t)
        c.cmd('QUIT')
        c.close()
    finally:
        srsd.p.send_signal(signal.SIGCONT)
    new = log_lines(srv, 'srs_unavailable')[before:]
    check(codes == [451, 451] and 4 <= times[0] < 10 and times[1] < 1,
          'postern-srs not answering (SIGSTOP): 451 after about 5 s, the next SRS RCPT 451 at once (%s, %s)'
          % (codes, ['%.1f' % x for x in times]))
    # (ETIMEDOUT's text is the C library's: "Connection timed out" in
    # glibc, "Operation timed out" in musl)
    check(len(new) == 1 and re.fullmatch(r'postern-smtpd: srs_unavailable ip=127\.0\.0\.2 service=postern-srs '
                                         r'why="no answer from postern-srs: \w+ timed out"', new[0]) is not None,
          'and one log line says why: no answer from postern-srs (%s)' % new)
    check(rcpt(srv, [good])[0][0] == 250, 'postern-srs going on: 250')
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
# postern-smtpd reads control/srsdomain at an SRS-looking RCPT, at most
# once a session, connects to postern-srs only for an address in that
# domain, and never opens the key (postern-srs alone reads it)
if shutil.which('strace'):
    trace = os.path.join(srv.dir, 'strace')
    # (no leak checking under the sanitizer build: it cannot run under ptrace)
    srv.start(prefix=['env', 'ASAN_OPTIONS=%s:detect_leaks=0' % os.environ.get('ASAN_OPTIONS', ''),
                      'strace', '-f', '-qq', '-e', 'trace=%file,connect', '-o', trace])
    try:
        def seen():
            """(opens of control/srsdomain, connects to run/srs/socket,
            mentions of secret/srs) in the trace so far"""
            t = open(trace, errors='replace').read().splitlines()
            return (sum('control/srsdomain' in l for l in t),
                    sum('connect(' in l and 'run/srs/socket' in l for l in t),
                    sum('secret/srs' in l for l in t))
        rs = rcpt(srv, ['demo@example.org', 'x@elsewhere.test', 'srs0@example.org', 'SRS2=x@' + SRSDOMAIN])
        n0 = seen()
        check(n0 == (0, 0, 0), 'a session with no SRS-looking recipient: neither control/srsdomain nor postern-srs '
              '%s' % (n0,))
        rcpt(srv, ['SRS0=x@elsewhere.test', 'SRS1=y@elsewhere.test'])
        n1 = seen()
        check(n1 == (1, 0, 0), 'SRS-looking addresses of another domain: control/srsdomain once, postern-srs never '
              '%s' % (n1,))
        rs = rcpt(srv, [good, good, 'SRS0=z@' + SRSDOMAIN])
        n2 = seen()
        check([r[0] for r in rs] == [250, 250, 550] and n2 == (2, 3, 0),
              'three in control/srsdomain: control/srsdomain once more, postern-srs asked for each (%s %s)'
              % ([r[0] for r in rs], n2))
        code = srsd.stop()
        rs = rcpt(srv, [good, good, good])
        n3 = seen()
        check(code == 0 and [r[0] for r in rs] == [451] * 3 and n3 == (3, 4, 0),
              'postern-srs stopped: one connect tried, the next two SRS RCPTs not asked again (%s %s)'
              % ([r[0] for r in rs], n3))
        srsd = start_srs(srv)
        check(srsd.ready, 'postern-srs started again')
        t = open(trace, errors='replace').read()
        check('secret/srs' not in t and 'srs/key' not in t,
              'secret/srs/key: never opened nor looked at by the listener or postern-smtpd in all these sessions')
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
    for _ in range(6):
        check(True, 'reading control/srsdomain lazily, asking postern-srs only for srsdomain: skipped, no strace')

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


sub = Server(args=['-a'], extra_control={'srsdomain': SRSDOMAIN}, dir=os.path.join(srv.dir, 'submission'))
put_key(sub, keyfile(KEY))
os.makedirs(os.path.join(sub.home, 'run', 'auth'))
for d in ('run', 'run/auth'):
    os.chmod(os.path.join(sub.home, d), 0o755)
auth = Auth(os.path.join(sub.home, 'run', 'auth', 'socket'), 'check')
subsrs = start_srs(sub)
check(subsrs.ready, 'submission: a postern-srs of its own, ready')
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
    # sendmail -bs: postern-smtpd run directly, no groups, as the
    # listener's uid (the -c one) and as a local user's (any uid may ask R)
    for uid, who in ((sub.uid, 'as postern-smtpd\'s uid'), (LOCAL_UID, 'as a local user (uid %d)' % LOCAL_UID)):
        bs = subprocess.run(['setpriv', '--reuid=%d' % uid, '--regid=%d' % (sub.gid if uid == sub.uid else uid),
                             '--clear-groups', os.path.join(sub.home, 'bin', 'postern-smtpd')],
                            input=('EHLO local\r\nMAIL FROM:<>\r\nRCPT TO:<%s>\r\nRCPT TO:<%s>\r\n'
                                   'RCPT TO:<x@elsewhere.test>\r\nQUIT\r\n' % (good, forged)).encode(),
                            capture_output=True, timeout=30, env={'PATH': '/usr/bin:/bin', 'POSTERN_HOME': sub.home})
        out = bs.stdout.decode(errors='replace')
        err = bs.stderr.decode(errors='replace')
        check(('\r\n250 2.1.5 recipient ok\r\n550 5.1.1 <%s>: not a valid SRS address here\r\n'
               '250 2.1.5 recipient ok\r\n' % forged) in out,
              'sendmail -bs %s: 250 for the SRS address, 550 5.1.1 for a forged one, the rest as ever (%r)'
              % (who, out[-200:]))
        check(re.search(r'(?m)^postern-smtpd: srs ip=\S+ from="" rcpt="%s" reversed=alice@example\.net$'
                        % re.escape(good), err) is not None and 'srs_unavailable' not in err,
              'and its log says: srs ... reversed=alice@example.net (%r)' % err.strip()[-300:])
finally:
    sub.stop()
code = subsrs.stop()
stop = srs_lines(subsrs, 'stop')
check(code == 0 and stop == ['postern-srs: stop signed=0 skipped=0 reversed=6 unavailable=0 refused=0 rationed=0'],
      'submission\'s postern-srs: exit 0, it reversed 6 (2 a session, 3 sessions), refused none (%s)' % stop)
code = srsd.stop()
check(code == 0 and len(srs_lines(srsd, 'stop')) == 1, 'postern-srs of port 25: SIGTERM, exit 0, its stop line')

# under the sanitizer build (tests/run.sh runs this test with it too), a
# report would be in the logs
reports = [l for s in (srv, sub) for l in s.logtext().splitlines() if 'Sanitizer' in l or 'runtime error' in l]
reports += [l for d in srsds for l in d.log().splitlines() if 'Sanitizer' in l or 'runtime error' in l]
check(not reports, 'no sanitizer report in the logs of postern-smtpd and postern-srs (%s)' % reports[:2])
sub.cleanup()
srv.cleanup()
done()
