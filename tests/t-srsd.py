#!/usr/bin/env python3
"""postern-srs, the SRS key holder (doc/srs.md, "Who holds the key";
src/lib/srsask.h's records), on its own: a scratch HOME (POSTERN_HOME)
with a copy of the program, secret/srs/key and run/srs/ owned by a uid of
this test's (in no passwd file: postern-srs runs as it, as it would as
postern-srs), and this script as postern-send and postern-smtpd: a real
AF_UNIX SOCK_SEQPACKET client, as root (a local user like any other) or
with the effective uid of a signer (-u), of a -c uid (postern-smtpd's
stand-in) or of local users.  The addresses are checked against
tests/srsaddr.py, written from the document, not from src/lib/srs.c.

Checked: the refusal of root (exit 100) and of a run/srs it cannot write
(111); -d readiness and the socket (0666, removed at the stop); the process
undumpable; F from the -u uid answered K with srsaddr.py's own SRS0 and
SRS1 addresses byte for byte, and those reversed by R; S for a sender it
cannot rewrite (a quoted local part, an address literal); F from any other
uid (root, the -c uid, a local user) closed unanswered and logged; R from
anyone: K, B, E, N, M, and the longest local part; the key file rotated
by a rename (new first key, old second) picked up at the next request
without a signal, and the old key dropped; the file missing, unreadable,
malformed, empty or too long: Z with the reason, one log line a change
however many requests; the key back; SIGHUP; postern-srs started without
a key file; malformed records (unknown letter, F without its NUL, bad
fields, control bytes, 510 and 511 bytes, a descriptor attached) closed
unanswered and logged (a few lines a second, the rest counted on the next
line); 16 pending connections for a uid not of -u, the last 8 of 64 kept for -u; a local
uid's R rationed, 50 a second, not -c's or -u's; a silent
client closed after about 5 s while others are served; SIGTERM: exit 0,
the pending connections closed, the stop line's counts.  Run as root."""
import os, re, shutil, signal, socket, stat, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import service_test
from service_test import as_uid, is_open, sanitized, recv_record as recv, send_record as send
from smtptest import BUILD
from srsaddr import srs0, srs1, today
from tap import check, done, wait_for

SRSD = 54340     # postern-srs's stand-in: owns the key, runs the service
SIGNER = 54341   # -u: postern-send's stand-in
CHECKER = 54342  # -c: postern-smtpd's stand-in
LOCAL = 54343    # a local user
LOCAL2 = 54344   # another
DOM = 'fwd.example'
K1 = bytes.fromhex('00112233445566778899aabbccddeeff')
K2 = bytes.fromhex('f0e1d2c3b4a5968778695a4b3c2d1e0f')
K3 = bytes.fromhex('0f1e2d3c4b5a69788796a5b4c3d2e1f0')
OTHER = bytes.fromhex('ffeeddccbbaa99887766554433221100')

D = tempfile.mkdtemp(prefix='postern-test-srsd.')
os.chmod(D, 0o755)
for sub in ('bin', 'secret/srs', 'run/srs', 'logs'):
    os.makedirs(os.path.join(D, sub))
for sub in ('secret', 'run', 'logs'):
    os.chmod(os.path.join(D, sub), 0o755)
os.chmod(os.path.join(D, 'secret/srs'), 0o700)
os.chown(os.path.join(D, 'secret/srs'), SRSD, SRSD)
shutil.copy(os.path.join(BUILD, 'bin', 'postern-srs'), os.path.join(D, 'bin', 'postern-srs'))
BIN = os.path.join(D, 'bin', 'postern-srs')
KEYPATH = os.path.join(D, 'secret/srs/key')
RUNDIR = os.path.join(D, 'run/srs')
SOCK = os.path.join(RUNDIR, 'socket')
ENV = dict(os.environ, POSTERN_HOME=D)
ARGS = ['-u', str(SIGNER), '-c', str(CHECKER)]
servers = []


def keytext(*keys):
    return '# SRS keys, made by the test\n' + ''.join(k.hex() + '\n' for k in keys)


def put_key(text, owner=SRSD, mode=0o600):
    """the key file written beside and renamed over, as postern-srskey
    does: postern-srs sees the old keys or the new, never a part; text
    None removes it"""
    if text is None:
        try:
            os.unlink(KEYPATH)
        except FileNotFoundError:
            pass
        return
    tmp = KEYPATH + '.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    os.chown(tmp, owner, owner)
    os.chmod(tmp, mode)
    os.rename(tmp, KEYPATH)


def Server(*args):
    """postern-srs -d FD -u SIGNER -c CHECKER ARGS as SRSD, started and
    waited for (tests/service_test.py)"""
    srv = service_test.Server([BIN] + ARGS + list(args), os.path.join(D, 'logs'), ENV, preexec=as_uid(SRSD))
    servers.append(srv)
    return srv


# what the stop line must count: each answer the client saw, by kind
want = {'signed': 0, 'skipped': 0, 'reversed': 0, 'unavailable': 0, 'refused': 0, 'rationed': 0}
RATIONED = b'Ztoo many requests of this uid; try again later'


def tally(rec, a):
    """counts answer a to record rec as postern-srs's stop line should"""
    if a == b'':
        want['refused'] += 1
    elif a == RATIONED:
        want['rationed'] += 1
    elif a[:1] == b'Z':
        want['unavailable'] += 1
    elif rec[:1] == b'F':
        want['signed' if a[:1] == b'K' else 'skipped'] += 1
    else:
        want['reversed'] += 1


def connect(uid=0):
    """a connection made with the effective uid uid (what postern-srs is
    told: SO_PEERCRED); root again after it"""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(10)
    if uid:
        os.seteuid(uid)
    try:
        s.connect(SOCK)
    finally:
        if uid:
            os.seteuid(0)
    return s


def ask(rec, uid=0, fds=(), counted=True):
    """rec on a new connection of uid: the answer, b'' when closed
    unanswered; tallied for the stop line unless not counted"""
    s = connect(uid)
    send(s, rec, fds)
    a = recv(s)
    s.close()
    if counted:
        tally(rec, a)
    return a


def F(sender, domain=DOM, uid=SIGNER):
    return ask(b'F' + sender.encode() + b'\0' + domain.encode(), uid)


def R(address, uid=0):
    """R of an address's local part (the part before the last '@')"""
    return ask(b'R' + address.rsplit('@', 1)[0].encode(), uid)


def answers(conns, rec):
    """rec sent on each of conns, and the answers, tallied for the stop line"""
    for c in conns:
        send(c, rec)
    got = [recv(c) for c in conns]
    for g in got:
        tally(rec, g)
    return got


def lines(srv, event):
    return [l for l in srv.log().splitlines() if l.startswith('postern-srs: %s ' % event)]


def log_has(srv, text, secs=5):
    return wait_for(lambda: text in srv.log(), secs)


def refusals(srv, why):
    return [l for l in lines(srv, 'refused') if 'why="%s"' % why in l or 'why=%s' % why in l]


try:
    # 1. What it refuses to start with.
    r = subprocess.run([BIN] + ARGS, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, timeout=30)
    err = r.stderr.decode(errors='replace')
    check(r.returncode == 100 and 'postern-srs: fatal: refusing to run as root' in err and not sanitized(err),
          'as root: exit 100, "refusing to run as root" (%d %r)' % (r.returncode, err.strip()))
    r = subprocess.run([BIN] + ARGS + ['extra'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV,
                       timeout=30, preexec_fn=as_uid(SRSD))
    err = r.stderr.decode(errors='replace')
    check(r.returncode == 100 and 'usage: postern-srs' in err, 'an argument: exit 100, the usage (%r)' % err.strip())
    put_key(keytext(K1, K2))
    r = subprocess.run([BIN] + ARGS, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, timeout=30,
                       preexec_fn=as_uid(SRSD))
    err = r.stderr.decode(errors='replace')
    check(r.returncode == 111 and 'fatal: unable to listen on %s' % SOCK in err,
          'run/srs not its own to write: exit 111, saying so (%d %r)' % (r.returncode, err.strip()))
    os.chown(RUNDIR, SRSD, SRSD)
    os.chmod(RUNDIR, 0o755)

    # 2. Started: ready, the socket, undumpable.
    srv = Server()
    check(srv.ready, 'postern-srs -d: ready (a newline on the notification fd)')
    check(log_has(srv, 'postern-srs: keys file=%s n=2' % KEYPATH)
          and log_has(srv, 'postern-srs: ready socket=%s signers=1 keys=2' % SOCK),
          'its log: keys file=... n=2, ready socket=... signers=1 keys=2')
    st = os.lstat(SOCK)
    check(stat.S_ISSOCK(st.st_mode) and st.st_mode & 0o777 == 0o666 and st.st_uid == SRSD,
          'HOME/run/srs/socket: a socket, 0666, its uid\'s (%o, uid %d)' % (st.st_mode, st.st_uid))
    pid = srv.p.pid
    status = open('/proc/%d/status' % pid).read()
    uids = re.search(r'^Uid:\s+(.*)$', status, re.M).group(1).split()
    # an undumpable process's /proc files are root's, and no process of
    # its own uid may read them (ptrace's read mode); the same uid reads
    # its own ordinary process's, so that it is the flag that is tested
    probe = ('import subprocess, sys\np = subprocess.Popen(["sleep", "5"])\n'
             'def reads(pid):\n    try:\n        open("/proc/%d/environ" % pid, "rb").read()\n        return "yes"\n'
             '    except OSError:\n        return "no"\n'
             'print(reads(p.pid), reads(int(sys.argv[1])))\np.kill()\n')
    r = subprocess.run(['python3', '-c', probe, str(pid)], stdout=subprocess.PIPE, preexec_fn=as_uid(SRSD), timeout=30)
    check(uids == [str(SRSD)] * 4 and os.stat('/proc/%d/status' % pid).st_uid == 0
          and r.stdout.split() == [b'yes', b'no'],
          'undumpable: runs as %d, its /proc files root\'s, its uid cannot read its environ but reads its own '
          'sleep\'s (%s, %r)' % (SRSD, uids, r.stdout))

    # 3. F, from the signer (-u): srsaddr.py's addresses, byte for byte.
    sender = 'alice@example.net'
    d0 = today()
    k = F(sender)
    d1 = today()
    a = srs0(K1, sender, DOM, d0)
    check(k in (b'K' + a.encode(), b'K' + srs0(K1, sender, DOM, d1).encode()),
          'F alice@example.net fwd.example from the -u uid: K%s, the first key, today (%r)' % (a, k))
    check(R(a) == b'K' + sender.encode(), 'R of it (from root, a local user): K%s' % sender)
    check(log_has(srv, 'postern-srs: sign uid=%d from=%s srs="%s"' % (SIGNER, sender, a)),
          'logged: sign uid=%d from=%s srs="%s"' % (SIGNER, sender, a))
    first = srs0(OTHER, 'bob@example.com', 'first.example')  # another forwarder's, its hash not ours
    k = F(first)
    a1 = srs1(K1, first, DOM)
    check(k == b'K' + a1.encode(), 'F of another forwarder\'s SRS0 address: K%s, srsaddr.py\'s SRS1 (%r)' % (a1, k))
    check(R(a1) == b'K' + first.encode(), 'R of the SRS1 address: K and the first forwarder\'s SRS0 address')
    for s in ('"john doe"@example.net', 'bob@[192.0.2.1]', 'nodomain'):
        k = F(s)
        check(k == b'S', 'F %s: S, left as it is (%r)' % (s, k))
    check(log_has(srv, 'postern-srs: skip uid=%d from="\\"john doe\\"@example.net"' % SIGNER)
          and log_has(srv, 'postern-srs: skip uid=%d from=bob@[192.0.2.1]' % SIGNER), 'each logged: skip uid= from=')
    long_sender = 'l' * (254 - len('@example.net')) + '@example.net'
    check(len(long_sender) == 254 and F(long_sender) == b'S',
          'F of a sender of 254 bytes (its SRS address would not fit): S')
    # F from a uid not on -u: closed unanswered, and a refusal
    for uid, who in ((0, 'root'), (CHECKER, 'the -c uid'), (LOCAL, 'a local user')):
        time.sleep(0.25)  # refusals are logged at most 5 a second
        check(F(sender, uid=uid) == b'', 'F from %s (uid %d): closed unanswered' % (who, uid))
        check(log_has(srv, 'postern-srs: refused uid=%d why="F record from a uid that may not sign"' % uid),
              '... logged: refused uid=%d why="F record from a uid that may not sign"' % uid)

    # 4. R, from anyone.
    good = srs0(K1, 'carol@example.org', DOM)
    i = good.index('=', 5)
    forged = 'SRS0=' + ('AAAAAAAA' if good[5:i] != 'AAAAAAAA' else 'BBBBBBBB') + good[i:]
    expired = srs0(K1, 'carol@example.org', DOM, today() - 30)
    with_k2 = srs0(K2, 'dave@example.org', DOM)
    for uid, who in ((LOCAL, 'a local user'), (CHECKER, 'the -c uid'), (SIGNER, 'the -u uid')):
        got = [R(x, uid) for x in (good, forged, expired, 'alice@' + DOM, 'SRS0=garbage@' + DOM, with_k2)]
        check(got == [b'Kcarol@example.org', b'B', b'E', b'N', b'M', b'Kdave@example.org'],
              'R from %s: K for a good address, B forged, E 30 days old, N a plain local part, M malformed, '
              'K signed with the second key (%r)' % (who, got))
    longest = 'SRS0=' + 'x' * 249
    check(R(longest + '@' + DOM) == b'M', 'R of a local part of 254 bytes: answered (M)')

    # 5. The key file rotated, without a signal.
    nkeys = len(lines(srv, 'keys'))
    put_key(keytext(K3, K1))  # postern-srskey new: a new first key, the old one after it
    k = F(sender)
    check(k == b'K' + srs0(K3, sender, DOM).encode(), 'a new key file renamed over: the next F signs with its '
          'first key, no signal sent (%r)' % k)
    check(R(a) == b'K' + sender.encode(), 'the address signed with the old key still reverses (now second)')
    check(R(with_k2) == b'B', 'one signed with a key no longer in the file: B')
    check(len(lines(srv, 'keys')) == nkeys + 1 and lines(srv, 'keys')[-1] == 'postern-srs: keys file=%s n=2' % KEYPATH,
          'read once again, logged: keys file=... n=2 (%s)' % lines(srv, 'keys')[nkeys:])
    put_key(keytext(K3))  # postern-srskey drop
    check(R(a) == b'B', 'the old key dropped: its address B at once')
    check(F(sender) == b'K' + srs0(K3, sender, DOM).encode() and R(srs0(K3, 'erin@example.net', DOM)) == b'Kerin@example.net',
          'the new key signs and verifies')
    check(lines(srv, 'keys')[-1:] == ['postern-srs: keys file=%s n=1' % KEYPATH], 'logged: keys ... n=1')
    nkeys = len(lines(srv, 'keys'))
    for _ in range(5):
        R(good)
    check(len(lines(srv, 'keys')) == nkeys, 'an unchanged file is not read again (no new keys line after 5 requests)')

    # 6. The key file missing or bad: Z and why, one log line a change.
    good3 = srs0(K3, 'carol@example.org', DOM)
    for what, setup, why in (
            ('missing', lambda: put_key(None), 'No such file or directory'),
            ('unreadable (root\'s, 0600)', lambda: put_key(keytext(K3), owner=0), 'Permission denied'),
            ('malformed (31 hex digits)', lambda: put_key(K3.hex()[:31] + '\n'),
             'malformed key file: each line 32 hex digits, at most 8 keys'),
            ('empty', lambda: put_key(''), 'malformed key file: each line 32 hex digits, at most 8 keys'),
            ('of comments only', lambda: put_key('# nothing\n'),
             'malformed key file: each line 32 hex digits, at most 8 keys'),
            ('with 9 keys', lambda: put_key(keytext(*([K3] * 9))),
             'malformed key file: each line 32 hex digits, at most 8 keys'),
            ('too long', lambda: put_key('#' * 5000 + '\n' + K3.hex() + '\n'), 'key file too long')):
        before = len(lines(srv, 'srs_unavailable'))
        setup()
        got = [R(good3), F(sender), R(good3, LOCAL), R('alice@' + DOM, CHECKER), R(good3)]
        z = ('Z' + why).encode()
        check(got == [z] * 5, 'key file %s: R and F answered Z%s (%r)' % (what, why, got[:3]))
        new = lines(srv, 'srs_unavailable')[before:]
        check(new == ['postern-srs: srs_unavailable file=%s why="%s"' % (KEYPATH, why)],
              '... one log line for 5 requests: srs_unavailable file=... why="%s" (%s)' % (why, new))
        time.sleep(0.25)
        check(ask(b'Fx@example.net', SIGNER) == b'', '... a malformed record is still closed unanswered, not Z')
        nkeys = len(lines(srv, 'keys'))
        put_key(keytext(K3))
        check(R(good3) == b'Kcarol@example.org' and lines(srv, 'keys')[nkeys:] == ['postern-srs: keys file=%s n=1' % KEYPATH],
              '... the key back: K at the next request, logged keys ... n=1, no signal')
    check(log_has(srv, 'postern-srs: unavailable uid=%d from=%s' % (SIGNER, sender)),
          'an F without a key logged: unavailable uid= from=')

    # 7. SIGHUP reads the file again, changed or not.
    nkeys = len(lines(srv, 'keys'))
    srv.p.send_signal(signal.SIGHUP)
    check(wait_for(lambda: len(lines(srv, 'keys')) == nkeys + 1) and R(good3) == b'Kcarol@example.org',
          'SIGHUP: keys read again, logged, and answering')

    # 8. Malformed records: closed unanswered, each a refusal.
    fd_r, fd_w = os.pipe()
    bad = [
        (b'Xsomething', 'unknown record'),
        (b'r' + good3.split('@')[0].encode(), 'unknown record'),
        (b'F' + sender.encode() + DOM.encode(), 'malformed F record: no NUL after the sender'),
        (b'F\0' + DOM.encode(), 'malformed F record: not a sender'),
        (b'F' + b'x' * 255 + b'\0' + DOM.encode(), 'malformed F record: not a sender'),
        (b'Fa\x01b@example.net\0' + DOM.encode(), 'malformed F record: not a sender'),
        (b'F' + sender.encode() + b'\0', 'malformed F record: not a domain name'),
        (b'F' + sender.encode() + b'\0not a domain', 'malformed F record: not a domain name'),
        (b'F' + sender.encode() + b'\0[192.0.2.1]', 'malformed F record: not a domain name'),
        (b'F' + sender.encode() + b'\0fwd\x7fexample', 'malformed F record: not a domain name'),
        (b'R', 'malformed R record: not a local part'),
        (b'RSRS0=\x01abc', 'malformed R record: not a local part'),
        (b'Ralice\0bob', 'malformed R record: not a local part'),
        (b'Ralice\x7f', 'malformed R record: not a local part'),
        (b'R' + b'x' * 255, 'malformed R record: not a local part'),
        (b'R' + b'x' * 509, 'malformed R record: not a local part'),  # 510 bytes: seen whole
        (b'R' + b'x' * 510, 'request too long'),                     # 511 bytes
        (b'F' + b'x' * 300 + b'\0' + b'y' * 2000, 'request too long'),
    ]
    for rec, why in bad:
        time.sleep(0.22)  # each logged: at most 5 refusals a second are
        uid = SIGNER if rec[:1] == b'F' else LOCAL
        n = len(refusals(srv, why))
        a = ask(rec, uid)
        check(a == b'' and wait_for(lambda: len(refusals(srv, why)) == n + 1),
              '%r... (%d bytes): closed unanswered, refused why="%s" (%r)' % (rec[:24], len(rec), why, a))
    time.sleep(0.22)
    n = len(refusals(srv, 'request with ancillary data'))
    a = ask(b'R' + good3.split('@')[0].encode(), LOCAL, fds=(fd_w,))
    os.close(fd_w)
    os.set_blocking(fd_r, False)
    try:
        eof = os.read(fd_r, 1) == b''  # postern-srs's copy closed too
    except BlockingIOError:
        eof = False
    os.close(fd_r)
    check(a == b'' and wait_for(lambda: len(refusals(srv, 'request with ancillary data')) == n + 1) and eof,
          'a good R with a descriptor attached (SCM_RIGHTS): closed unanswered, refused "request with ancillary '
          'data", the descriptor not kept')
    # An empty record reads as the peer's close (recv gives 0): closed
    # unanswered, as a connection given up, not a refusal
    check(ask(b'', LOCAL, counted=False) == b'', 'an empty record: closed unanswered')
    # a burst: at most 5 lines a second, the rest counted on the next line
    time.sleep(1.1)
    before = len(lines(srv, 'refused'))
    t = time.time()
    for _ in range(20):
        ask(b'?', LOCAL)
    secs = time.time() - t
    burst = lines(srv, 'refused')[before:]
    time.sleep(1.1)
    ask(b'?', LOCAL)
    wait_for(lambda: len(lines(srv, 'refused')) > before + len(burst))
    new = lines(srv, 'refused')[before:]
    left = sum(int(x) for l in new for x in re.findall(r' not_logged_before=(\d+)$', l))
    # (5 a second: the burst may straddle a second or two on a busy machine)
    check(len(burst) <= 5 * (int(secs) + 2) and len(new) == len(burst) + 1 and len(burst) + left == 20
          and 'not_logged_before=' in new[-1],
          '20 malformed records at once (%.2f s): %d lines, the next line says how many were left out (%s)'
          % (secs, len(burst), new[-1][-40:] if new else None))

    # 9. Pending connections: 16 for a uid not of -u (the -c one too);
    # the last 8 of the 64 kept for -u; a silent one closed after about
    # 5 s while the others are served.
    idle = [connect(LOCAL) for _ in range(20)]
    wait_for(lambda: sum(is_open(c) for c in idle) <= 16, 3)
    kept = [c for c in idle if is_open(c)]
    check(len(kept) == 16, 'a local uid opens 20 connections and sends nothing: 16 kept, the others closed (%d kept)'
          % len(kept))
    check(R(good3, LOCAL2) == b'Kcarol@example.org', '... another local uid is answered')
    check(ask(b'R' + good3.split('@')[0].encode(), LOCAL, counted=False) == b'',
          '... the local uid\'s own next one is closed unread')
    check(log_has(srv, 'postern-srs: refused uid=%d why="too many connections of the uid waiting"' % LOCAL),
          '... logged: refused uid=%d why="too many connections of the uid waiting"' % LOCAL)
    rec = b'R' + good3.split('@')[0].encode()
    check(answers(kept, rec) == [b'Kcarol@example.org'] * 16, '... the 16 kept ones then send their R: each answered K')
    checks = [connect(CHECKER) for _ in range(20)]
    wait_for(lambda: sum(is_open(c) for c in checks) <= 16, 3)
    kept = [c for c in checks if is_open(c)]
    check(len(kept) == 16 and R(good3, LOCAL) == b'Kcarol@example.org',
          'the -c uid: 16 of 20 idle connections kept, as for any uid not of -u; another uid still answered')
    check(answers(kept, rec) == [b'Kcarol@example.org'] * 16, '... and the 16 answered when they send their R')
    for c in idle + checks:
        c.close()
    # 16 each from CHECKER, LOCAL and LOCAL2 and 8 from root: 56, all a
    # uid not of -u may have; the next is busy, and -u's F still signed
    crowd = [connect(u) for u in [CHECKER] * 16 + [LOCAL] * 16 + [LOCAL2] * 16 + [0] * 8]
    wait_for(lambda: all(is_open(c) for c in crowd), 3)
    time.sleep(0.3)
    check(sum(is_open(c) for c in crowd) == 56, '56 idle connections of four uids not of -u: all kept (%d)'
          % sum(is_open(c) for c in crowd))
    extra = connect(0)
    extra.settimeout(5)
    try:
        busy = extra.recv(600)
    except OSError:
        busy = b''
    extra.close()
    check(busy == b'Zbusy: too many requests waiting', 'the 57th, of root: Zbusy (%r)' % busy)
    got = F('alice@example.org')
    check(got[:6] == b'KSRS0=', 'while they wait, -u\'s F is signed: the last 8 places are its (%r)' % got[:20])
    for c in crowd:
        c.close()

    quiet = connect(LOCAL)
    t0 = time.time()
    served = []
    while time.time() - t0 < 3:
        t = time.time()
        served.append((R(good3, LOCAL2), time.time() - t))
        time.sleep(0.2)
    quiet.settimeout(10)
    q = recv(quiet)
    took = time.time() - t0
    quiet.close()
    want['refused'] += 1
    check(all(a == b'Kcarol@example.org' and t < 1 for a, t in served),
          'while one connection is silent, others are answered at once (%d, slowest %.2f s)'
          % (len(served), max(t for _, t in served)))
    check(q == b'' and 4 <= took < 8, 'the silent one is closed after about 5 s (%.1f s)' % took)
    check(log_has(srv, 'postern-srs: refused uid=%d why="no request in time"' % LOCAL),
          '... logged: refused uid=%d why="no request in time"' % LOCAL)

    # 9b. A local user's R rationed (50 a second, in bursts of as many):
    # answered Z "too many", logged; the -c uid and -u's are not; a
    # second later the local user is answered again.
    time.sleep(1.1)
    got = [R(good3, LOCAL2) for _ in range(150)]
    nk = got.count(b'Kcarol@example.org')
    check(50 <= nk < 150 and set(got) == {b'Kcarol@example.org', RATIONED},
          '150 R of a local uid at once: the first 50 or so answered, the rest "too many" (%d answered)' % nk)
    check(log_has(srv, 'postern-srs: refused uid=%d why="too many R requests of the uid"' % LOCAL2),
          '... logged as a refusal')
    got = [R(good3, CHECKER) for _ in range(80)]
    check(got == [b'Kcarol@example.org'] * 80, '80 R of the -c uid at once: all answered')
    got = [R(good3, SIGNER) for _ in range(80)]
    check(got == [b'Kcarol@example.org'] * 80, '80 R of the -u uid at once: all answered')
    time.sleep(1.1)
    check(R(good3, LOCAL2) == b'Kcarol@example.org', 'a second later the local uid is answered again')

    # 10. SIGTERM: the pending ones closed, exit 0, the counts.
    pending = connect(LOCAL2)
    time.sleep(0.3)
    code = srv.stop()
    check(code == 0, 'SIGTERM: exit 0 (%d)' % code)
    check(recv(pending) == b'', 'a connection still pending is closed')
    pending.close()
    check(not os.path.exists(SOCK), 'the socket is removed')
    stop = lines(srv, 'stop')
    expect = 'postern-srs: stop signed=%(signed)d skipped=%(skipped)d reversed=%(reversed)d ' \
             'unavailable=%(unavailable)d refused=%(refused)d rationed=%(rationed)d' % want
    check(stop == [expect], 'the stop line counts what the client saw: %s (%s)' % (expect, stop))

    # 11. Started without a key file: ready, Z, then K once there is one.
    put_key(None)
    srv = Server()
    check(srv.ready and log_has(srv, 'postern-srs: srs_unavailable file=%s why="No such file or directory"' % KEYPATH)
          and log_has(srv, 'signers=1 keys=0'), 'started without a key file: ready, logged srs_unavailable, keys=0')
    check(R(good3) == b'ZNo such file or directory', 'R: ZNo such file or directory')
    put_key(keytext(K3))
    check(R(good3) == b'Kcarol@example.org' and log_has(srv, 'postern-srs: keys file=%s n=1' % KEYPATH),
          'the key written: K at the next request, logged keys ... n=1')
    check(srv.stop() == 0, 'SIGTERM: exit 0')

    reports = [s.err for s in servers if sanitized(s.log())]
    check(not reports, 'no sanitizer report in its logs (%s)' % reports)
finally:
    for s in servers:
        if s.p.poll() is None:
            s.p.kill()
            s.p.wait()
    if not os.environ.get('POSTERN_KEEP'):
        shutil.rmtree(D, ignore_errors=True)
done()
