#!/usr/bin/env python3
"""postern-pop3d, POP3's TRANSACTION and UPDATE states (doc/pop3.md,
postern-pop3d(8)), on its own: started here as postern-pspawn starts it,
as root with POSTERN_IDENTITY, fds 0 and 1 one end of a socketpair, and
driven on the other end by Python's poplib, a client written by others.
A real user (ptpop3d, removed at the end) owns a ~/Maildir of LF and CRLF
messages, dot lines, flags, an empty, a 1 MB, a dot-file, a symlink and a
FIFO.  Checks the +OK maildrop line, STAT and LIST against what RETR
brings (LF to CRLF, dot-stuffing), TOP, UIDL, DELE and RSET, the UPDATE
(unlinks, new/ to cur/ with :2,S, S among cur/ flags), a dropped
connection and a timeout deleting nothing, the uid it runs as, a run as
the user itself, refused identities, bad commands and numbers, overlong
lines, pipelining, files taken away or moved by another reader, sizes
taken from a name's ,S= and ,W= (postern-local's, and malformed or lying
ones), an undeletable file, a missing maildrop, the 100,000 limit, and the log
lines.  Run as root; POSTERN_BUILD=build-asan runs the sanitizer build."""
import os, poplib, pwd, re, shutil, signal, socket, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smtptest import BUILD, set_control
from tap import check, done, wait_for

NAME = 'ptpop3d'
D = tempfile.mkdtemp(prefix='postern-test.')
os.chmod(D, 0o755)
PHOME = os.path.join(D, 'home')          # POSTERN_HOME, with control/
for sub in ('bin', 'control'):
    os.makedirs(os.path.join(PHOME, sub))
    os.chmod(os.path.join(PHOME, sub), 0o755)
os.chmod(PHOME, 0o755)
# a copy the test user may run, wherever the build is
BIN = os.path.join(PHOME, 'bin', 'postern-pop3d')
shutil.copy(os.path.join(BUILD, 'bin', 'postern-pop3d'), BIN)
os.chmod(BIN, 0o755)
LOGS = os.path.join(D, 'logs')
os.makedirs(LOGS)

# A user left behind by a killed run of this test was ours.
if subprocess.run(['getent', 'passwd', NAME], stdout=subprocess.DEVNULL).returncode == 0:
    subprocess.run(['userdel', NAME], stderr=subprocess.DEVNULL)
os.makedirs(os.path.join(D, 'users'))
os.chmod(os.path.join(D, 'users'), 0o755)
USERHOME = os.path.join(D, 'users', NAME)
subprocess.run(['useradd', '--create-home', '--home-dir', USERHOME, '--shell', '/bin/sh',
                '--user-group', NAME], check=True)
PW = pwd.getpwnam(NAME)
UID, GID = PW.pw_uid, PW.pw_gid
MD = os.path.join(USERHOME, 'Maildir')
IDENT = '%d:%d:%d' % (UID, GID, GID)


def wire(data):
    """a message as POP3 sends it, dot-stuffing aside: bare LF to CRLF, a
    last line without LF ended"""
    out = re.sub(rb'(?<!\r)\n', b'\r\n', data)
    if data and not data.endswith(b'\n'):
        out += b'\n' if data.endswith(b'\r') else b'\r\n'
    return out


def lines_of(data):
    w = wire(data)
    return w[:-2].split(b'\r\n') if w else []


def top_of(data, n):
    ls = lines_of(data)
    if b'' not in ls:
        return ls
    i = ls.index(b'')
    return ls[:i + 1 + n]


def fnv(b):
    h = 0xcbf29ce484222325
    for c in b:
        h = ((h ^ c) * 0x100000001b3) & 0xffffffffffffffff
    return '~%016x' % h


BIG = b''.join(b'Line %06d of the big message, with some text to make it long enough.\n' % i
               for i in range(15000))
assert len(BIG) > 1000000
LONGNAME = '1000000009.M1P1R' + 'a' * 80 + '.host'
# (dir, name, content, mtime): the order they must list in is by mtime, then name
MESSAGES = [
    ('new', '1000000001.M1P1R1.host', b'From: a@example.org\nSubject: lf\n\nline one\n.dot line\n..two dots\n.\nlast\n', 1000000001),
    ('new', '1000000002.M1P1R2.host', b'Subject: crlf\r\n\r\nbody\r\n.\r\nend\r\n', 1000000002),
    ('cur', '1000000003.M1P1R3.host:2,FT', b'Subject: flags\n\nno newline at the end', 1000000003),
    ('new', '1000000004.M1P1R4.host', b'', 1000000004),
    ('cur', '1000000005.M1P1R5.host:2,', BIG, 1000000005),
    ('new', '1000000006.M1P1R6.host', b'Subject: only a header, no body\nX-A: b\n', 1000000006),
    ('new', '1000000007.b', b'Subject: same time, name b\n\nmixed\r\nbare\rcr and nul \0 byte\n', 1000000007),
    ('new', '1000000007.a', b'Subject: same time, name a\n\n' + b'body\n' * 5, 1000000007),
    ('new', LONGNAME, b'Subject: a long name\n\nx\n', 1000000009),
    ('cur', 'has space.1:2,S', b'Subject: a blank in the name\n\ny\n', 1000000010),
]
ORDER = sorted(MESSAGES, key=lambda m: (m[3], m[1]))


def make_maildir():
    """a fresh ~/Maildir holding MESSAGES, and things that are no messages"""
    if os.path.lexists(MD):
        shutil.rmtree(MD)
    for sub in ('tmp', 'new', 'cur'):
        os.makedirs(os.path.join(MD, sub))
    for d, name, data, t in MESSAGES:
        p = os.path.join(MD, d, name)
        with open(p, 'wb') as f:
            f.write(data)
        os.utime(p, (t, t))
    with open(os.path.join(MD, 'new', '.hidden'), 'wb') as f:
        f.write(b'Subject: a dot-file\n\nnot a message\n')
    os.symlink('/etc/passwd', os.path.join(MD, 'new', '1000000050.symlink'))
    os.mkfifo(os.path.join(MD, 'cur', '1000000051.fifo'))
    os.makedirs(os.path.join(MD, 'cur', '1000000052.dir'))
    with open(os.path.join(MD, 'tmp', '1000000053.intmp'), 'wb') as f:
        f.write(b'Subject: still in tmp\n\n')
    subprocess.run(['chown', '-R', '%d:%d' % (UID, GID), MD], check=True)
    for dp, dn, fn in os.walk(MD):
        os.chmod(dp, 0o700)


def control(name, value):
    set_control(os.path.join(PHOME, 'control'), name, value)


def base_env(**kw):
    env = {'POSTERN_IDENTITY': IDENT, 'USER': NAME, 'HOME': USERHOME, 'TCPREMOTEIP': '192.0.2.7',
           'POSTERN_HOME': PHOME, 'PATH': '/usr/bin:/bin'}
    for k in ('ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS'):
        if k in os.environ:
            env[k] = os.environ[k]
    for k, v in kw.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


class Session(poplib.POP3):
    """poplib on our end of a socketpair; the other end is postern-pop3d's fd 0 and 1"""
    n = 0
    procs = []

    def __init__(self, env=None, argv=None, as_user=False, greet=True):
        Session.n += 1
        self.log = os.path.join(LOGS, 'session.%d' % Session.n)
        self.host, self.port, self._tls_established, self._debugging = 'socketpair', 0, False, 0
        self.sock, theirs = socket.socketpair()
        self.sock.settimeout(30)
        kw = {}
        if as_user:
            kw = dict(user=UID, group=GID, extra_groups=[])
        with open(self.log, 'wb') as err:
            self.proc = subprocess.Popen(argv or [BIN], stdin=theirs.fileno(), stdout=theirs.fileno(),
                                         stderr=err, env=env if env is not None else base_env(), **kw)
        Session.procs.append(self.proc)
        theirs.close()
        self.file = self.sock.makefile('rb')
        self.welcome = None
        if greet:
            self.welcome = self._getline()[0]

    def cmd(self, line):
        """one command; its first line as text, -ERR included"""
        self._putcmd(line)
        return self._getline()[0].decode('latin-1')

    def multi(self, line):
        """one command with a multi-line answer: (first line, lines)"""
        self._putcmd(line)
        try:
            resp, lines, _ = self._getlongresp()
            return resp.decode(), lines
        except poplib.error_proto as e:
            return e.args[0].decode('latin-1'), None

    def raw(self, data):
        self.sock.sendall(data)

    def readline(self):
        return self._getline()[0].decode('latin-1')

    def wait(self, secs=20):
        try:
            return self.proc.wait(secs)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return 'hung'

    def close_now(self):
        self.file.close()
        self.sock.close()

    def logtext(self):
        with open(self.log, 'rb') as f:
            return f.read().decode('latin-1')

    def status(self):
        with open('/proc/%d/status' % self.proc.pid) as f:
            return dict(l.split(':', 1) for l in f.read().splitlines() if ':' in l)


def no_sanitizer_report(s, what):
    t = s.logtext()
    check('Sanitizer' not in t and 'runtime error' not in t, what + ': no sanitizer report in the log')


def expected_summary(msgs):
    return '%d messages (%d octets)' % (len(msgs), sum(len(wire(m[2])) for m in msgs))


def files():
    """every name in new/ and cur/, as dir/name"""
    out = set()
    for d in ('new', 'cur'):
        for n in os.listdir(os.path.join(MD, d)):
            out.add(d + '/' + n)
    return out


def unique(name):
    return name.split(':', 1)[0]


try:
    # ---- login, listing, retrieval
    make_maildir()
    s = Session()
    welcome = s.welcome.decode()
    check(welcome == "+OK %s's maildrop has %s" % (NAME, expected_summary(ORDER)),
          'the +OK answers the password with the count and octets: ' + welcome)
    st = s.status()
    check(st['Uid'].split() == [str(UID)] * 4 and st['Gid'].split() == [str(GID)] * 4,
          'it runs as the user, every uid and gid (Uid:%s)' % st['Uid'].strip())
    check(st['Groups'].split() == [str(GID)], 'with the groups of POSTERN_IDENTITY only')
    check(s.stat() == (len(ORDER), sum(len(wire(m[2])) for m in ORDER)), 'STAT: count and octets')
    resp, listing, _ = s.list()
    sizes = [int(l.split()[1]) for l in listing]
    check([int(l.split()[0]) for l in listing] == list(range(1, len(ORDER) + 1)), 'LIST numbers 1..N')
    check(sizes == [len(wire(m[2])) for m in ORDER], 'LIST sizes are octets as sent, oldest first, then by name')
    check(resp.decode() == '+OK ' + expected_summary(ORDER), 'LIST first line: ' + resp.decode())
    check(s.list(5).decode() == '+OK 5 %d' % len(wire(ORDER[4][2])), 'LIST n')
    all_ok = True
    for i, (d, name, data, t) in enumerate(ORDER, 1):
        resp, got, octets = s.retr(i)
        ok = got == lines_of(data) and octets == sizes[i - 1] == len(wire(data)) and \
            resp.decode() == '+OK %d octets' % sizes[i - 1]
        all_ok = all_ok and ok
        check(ok, 'RETR %d (%s, %d bytes): lines as sent, octets received = LIST size' % (i, name[:30], len(data)))
    check(all_ok, 'every RETR agrees with LIST')
    # the raw bytes of RETR 1: dot-stuffed, CRLF, ended by ".CRLF"
    s.raw(b'RETR 1\r\n')
    raw = b''
    while not raw.endswith(b'\r\n.\r\n'):
        chunk = s.file.read1(65536)
        if not chunk:
            break
        raw += chunk
    check(raw == b'+OK %d octets\r\n' % sizes[0] + b'From: a@example.org\r\nSubject: lf\r\n\r\nline one\r\n'
          b'..dot line\r\n...two dots\r\n..\r\nlast\r\n.\r\n', 'RETR on the wire: CRLF, dot-stuffed, ended by .CRLF')
    resp, got, octets = s.retr(4)
    check(got == [] and octets == 0 and resp == b'+OK 0 octets', 'the empty message: +OK 0 octets and just the dot')

    # TOP
    one = ORDER[0][2]
    check(s.top(1, 0)[1] == top_of(one, 0), 'TOP 1 0: the header and the blank line')
    check(s.top(1, 2)[1] == top_of(one, 2), 'TOP 1 2: and two body lines')
    check(s.top(1, 100)[1] == lines_of(one), 'TOP 1 100: the whole of a short message')
    check(s.top(1, 99999999999999999999999)[1] == lines_of(one), 'TOP with a count past 2^64 is all of it')
    i6 = [m[1] for m in ORDER].index('1000000006.M1P1R6.host') + 1
    check(s.top(i6, 0)[1] == lines_of(ORDER[i6 - 1][2]), 'TOP of a message without a blank line: all header')
    check(s.top(2, 1)[1] == top_of(ORDER[1][2], 1), 'TOP of a CRLF message')
    ib = [m[1] for m in ORDER].index('1000000005.M1P1R5.host:2,') + 1
    check(s.top(ib, 3)[1] == lines_of(BIG), 'TOP of the 1 MB message, which has no blank line: all of it')

    # UIDL
    resp, ul, _ = s.uidl()
    want = []
    for i, m in enumerate(ORDER, 1):
        u = unique(m[1])
        ok = 1 <= len(u) <= 70 and all(0x21 <= ord(c) <= 0x7e for c in u)
        want.append(b'%d %s' % (i, (u if ok else fnv(u.encode())).encode()))
    check(ul == want, 'UIDL: the unique names, hashed where a name is not a valid id')
    ilong = [m[1] for m in ORDER].index(LONGNAME) + 1
    check(s.uidl(ilong).decode() == '+OK %d %s' % (ilong, fnv(LONGNAME.encode())),
          'UIDL n of a name over 70 bytes: ~ and the FNV-1a hash')
    check(s.uidl(3).decode() == '+OK 3 1000000003.M1P1R3.host', 'UIDL n: the name before the colon')
    check(all(1 <= len(l.split(b' ', 1)[1]) <= 70 and all(0x21 <= c <= 0x7e for c in l.split(b' ', 1)[1])
              for l in ul), 'every UIDL is 1..70 bytes of 0x21..0x7E')

    # CAPA
    resp, caps = s.multi('CAPA')
    check(resp.startswith('+OK') and caps == [b'TOP', b'UIDL', b'RESP-CODES', b'PIPELINING', b'IMPLEMENTATION postern'],
          'CAPA: TOP UIDL RESP-CODES PIPELINING IMPLEMENTATION')
    check(s.noop().decode() == '+OK', 'NOOP')
    check(s.cmd('stat') == '+OK %d %d' % s.stat(), 'commands in lower case')
    check(s.cmd('LiSt 1') == '+OK 1 %d' % sizes[0], 'and in mixed case')

    # DELE and RSET
    check(s.dele(2).decode() == '+OK message 2 deleted', 'DELE 2')
    check(s.cmd('DELE 2').startswith('-ERR'), 'DELE of a deleted message: -ERR')
    check(s.cmd('RETR 2').startswith('-ERR'), 'RETR of a deleted message: -ERR')
    check(s.cmd('TOP 2 0').startswith('-ERR'), 'TOP of a deleted message: -ERR')
    check(s.cmd('LIST 2').startswith('-ERR'), 'LIST n of a deleted message: -ERR')
    check(s.cmd('UIDL 2').startswith('-ERR'), 'UIDL n of a deleted message: -ERR')
    rest = [m for k, m in enumerate(ORDER) if k != 1]
    check(s.stat() == (len(rest), sum(len(wire(m[2])) for m in rest)), 'STAT leaves the deleted message out')
    resp, listing, _ = s.list()
    check([l.split()[0] for l in listing] == [b'%d' % k for k in range(1, len(ORDER) + 1) if k != 2] and
          resp.decode() == '+OK ' + expected_summary(rest), 'LIST leaves it out and keeps the numbers')
    check(b'2 ' + unique(ORDER[1][1]).encode() not in s.uidl()[1], 'UIDL leaves it out')
    check(s.rset().decode() == '+OK maildrop has ' + expected_summary(ORDER), 'RSET: the count is back')
    check(s.cmd('RETR 2').startswith('+OK'), 'RETR of the message RSET brought back')
    while s.readline() != '.':
        pass

    # bad commands, bad numbers
    bad = ['FOO', 'USER ' + NAME, 'PASS x', 'RETR', 'RETR -1', 'RETR +1', 'RETR  1', 'RETR 1 ', ' RETR 1',
           'RETR 0', 'RETR %d' % (len(ORDER) + 1), 'RETR 99999999999999999999999999', 'RETR 18446744073709551617',
           'RETR 1x', 'RETR 0x1', 'RETR 1.0', 'TOP 1', 'TOP 1 -1', 'TOP 1 1 1', 'LIST 1 2', 'STAT 1', 'QUIT 1',
           'NOOP x', 'DELE', 'RETR\t1', '', 'DELE 1\0', 'STATS', 'TOP  1 1', 'TOP 1  1', 'UIDL x']
    answers = []
    for b in bad:
        answers.append(s.cmd(b))
    check(all(a.startswith('-ERR') for a in answers),
          'bad commands and numbers each get -ERR: ' + ', '.join('%r' % b for b, a in zip(bad, answers)
                                                                 if not a.startswith('-ERR')))
    check(s.stat() == (len(ORDER), sum(len(wire(m[2])) for m in ORDER)), 'none of them deleted anything')
    # an overlong line, even one that would delete, is refused and not run
    s.raw(b'DELE 1 ' + b'x' * 300 + b'\r\n')
    check(s.readline().startswith('-ERR'), 'a 309-byte line: -ERR')
    s.raw(b'DELE 1' + b' ' * 20000 + b'\r\nNOOP\r\n')
    check(s.readline().startswith('-ERR') and s.readline() == '+OK',
          'a 20,000-byte line: one -ERR, and the next line is read as a line')
    s.raw(b'NOOP' + b' ' * 250 + b'\r\n')
    check(s.readline().startswith('-ERR'), 'a 256-byte line with CRLF: -ERR (RFC 2449: 255 with the CRLF)')
    s.raw(b'LIST 1' + b'0' * 247 + b'\r\n')
    r = s.readline()
    check(r.startswith('-ERR no such message'), 'a 255-byte line with CRLF is a command (a number of 248 digits): ' + r)
    check(s.stat()[0] == len(ORDER), 'the overlong DELE lines deleted nothing')
    s.raw(b'NOOP\r\r\n')
    check(s.readline().startswith('-ERR'), 'a line ended by CR CR LF loses one CR only: NOOP\\r is no command')
    s.raw(b'RETR \xc2\xb9\r\nRETR \xd9\xa1\r\n')
    check(s.readline().startswith('-ERR') and s.readline().startswith('-ERR'), 'digits outside ASCII are no number')
    s.raw(b'NOOP\n')
    check(s.readline() == '+OK', 'a line ended by a bare LF is a command')

    # pipelining: many commands in one write, answered in order
    s.raw(b'STAT\r\nLIST 1\r\nUIDL 3\r\nNOOP\r\nFOO\r\nRETR 2\r\nDELE 4\r\nRSET\r\nLIST\r\nCAPA\r\nstat\n')
    pl = [s.readline() for _ in range(4)]
    pl.append(s.readline())
    r2 = [s.readline()]
    while r2[-1] != '.':
        r2.append(s.readline())
    pl += [s.readline(), s.readline()]
    lst = [s.readline()]
    while lst[-1] != '.':
        lst.append(s.readline())
    cp = [s.readline()]
    while cp[-1] != '.':
        cp.append(s.readline())
    last = s.readline()
    n, o = len(ORDER), sum(len(wire(m[2])) for m in ORDER)
    check(pl[:5] == ['+OK %d %d' % (n, o), '+OK 1 %d' % sizes[0], '+OK 3 1000000003.M1P1R3.host', '+OK', pl[4]]
          and pl[4].startswith('-ERR'), 'pipelined: STAT, LIST 1, UIDL 3, NOOP, FOO in order')
    check(r2[0] == '+OK %d octets' % sizes[1] and [l.encode('latin-1') for l in r2[1:-1]] ==
          [(b'.' + l if l.startswith(b'.') else l) for l in lines_of(ORDER[1][2])], 'pipelined: RETR 2 whole')
    check(pl[5] == '+OK message 4 deleted' and pl[6].startswith('+OK maildrop has %d messages' % n),
          'pipelined: DELE then RSET')
    check(len(lst) == n + 2 and cp[-2] == 'IMPLEMENTATION postern' and last == '+OK %d %d' % (n, o),
          'pipelined: LIST, CAPA and stat after them')

    # ---- a dropped connection deletes nothing
    before = files()
    for i in range(1, len(ORDER) + 1):
        s.dele(i)
    check(s.stat() == (0, 0), 'every message deleted: STAT 0 0')
    s.close_now()
    rc = s.wait()
    check(rc == 0, 'the client goes away: exit 0 (%r)' % rc)
    check(files() == before, 'a dropped connection deletes nothing and moves nothing')
    log = s.logtext()
    check(re.search(r'^postern-pop3d: login user=%s ip=192\.0\.2\.7 messages=%d octets=%d$' % (NAME, n, o), log, re.M),
          'log: login user= ip= messages= octets=')
    check(re.search(r'^postern-pop3d: logout user=%s retrieved=%d deleted=0 octets=\d+ how=eof$' % (NAME, n), log, re.M),
          'log: logout ... how=eof, each message retrieved counted once')
    no_sanitizer_report(s, 'session 1')

    # ---- QUIT: UPDATE
    s = Session()
    # RETR 1 (new/), RETR 3 (cur/ :2,FT), TOP 6 (new/, not seen), DELE 2 and the long name,
    # RETR then DELE 8: deleted wins
    s.retr(1)
    s.retr(3)
    s.top(i6, 0)
    s.dele(2)
    s.dele(ilong)
    s.retr(8)
    s.dele(8)
    resp = s.quit()
    rc = s.wait()
    check(resp.decode().startswith('+OK'), 'QUIT: +OK')
    check(rc == 0, 'exit 0 after QUIT (%r)' % rc)
    after = files()
    gone = [ORDER[1], ORDER[7], ORDER[ilong - 1]]
    for m in gone:
        check(m[0] + '/' + m[1] not in after and not any(unique(f.split('/')[1]) == unique(m[1]) for f in after),
              'deleted at QUIT: ' + m[1][:40])
    check('new/' + ORDER[0][1] not in after and 'cur/' + ORDER[0][1] + ':2,S' in after,
          'a retrieved message of new/ moves to cur/NAME:2,S')
    check('cur/1000000003.M1P1R3.host:2,FST' in after, 'a retrieved message of cur/ gains S among its flags: :2,FST')
    check('new/' + ORDER[i6 - 1][1] in after, 'TOP does not mark a message seen')
    check('new/' + ORDER[3][1] in after, 'a message neither retrieved nor deleted stays as it was')
    check(len(after) == len(before) - 3, 'nothing else changed')
    check(re.search(r'logout user=%s retrieved=3 deleted=3 octets=\d+ how=quit$' % NAME, s.logtext(), re.M),
          'log: logout retrieved=3 deleted=3 how=quit')
    no_sanitizer_report(s, 'the QUIT session')
    # a second session sees the same UIDLs for what is left, and cur/ messages keep their ids
    s = Session()
    ids = [l.split(b' ', 1)[1].decode() for l in s.uidl()[1]]
    left = [m for m in ORDER if m not in gone]
    check(ids == [unique(m[1]) if len(unique(m[1])) <= 70 and ' ' not in m[1] else fnv(unique(m[1]).encode())
                  for m in left], 'UIDLs stay the same after the moves, for the messages left')
    s.quit()
    s.wait()

    check(not os.path.lexists(os.path.join(MD, 'maildirsize')), 'no maildirsize: none is made by deleting')

    # ---- a Maildir++ quota's count (doc/quota.md): what a session deleted
    # comes off maildirsize in one line, as Courier and Dovecot write it
    make_maildir()
    sizes = [os.lstat(os.path.join(MD, m[0], m[1])).st_size for m in ORDER]
    with open(os.path.join(MD, 'maildirsize'), 'w') as f:
        f.write('1000000S,100C\n%d %d\n' % (sum(sizes), len(sizes)))
    os.chown(os.path.join(MD, 'maildirsize'), UID, GID)
    s = Session()
    s.dele(1)
    s.dele(3)
    s.retr(2)
    s.quit()
    s.wait()
    with open(os.path.join(MD, 'maildirsize')) as f:
        ms = f.read()
    check(ms == '1000000S,100C\n%d %d\n-%d -2\n' % (sum(sizes), len(sizes), sizes[0] + sizes[2]),
          'QUIT after two DELEs: "-BYTES -2" added to maildirsize, the two files\' sizes (%r)' % ms)
    os.chmod(os.path.join(MD, 'maildirsize'), 0o400)
    s = Session()
    s.dele(1)
    resp = s.quit()
    rc = s.wait()
    check(resp.decode().startswith('+OK') and rc == 0 and re.search(r'maildirsize_failed', s.logtext()),
          'a maildirsize it may not write: the deletion stands, +OK, the failure logged')
    no_sanitizer_report(s, 'the maildirsize sessions')

    # ---- another reader takes a file away, or moves it, during the session
    make_maildir()
    before = files()
    s = Session()
    os.unlink(os.path.join(MD, 'new', ORDER[0][1]))
    check(s.cmd('RETR 1').startswith('-ERR'), 'RETR of a file removed during the session: -ERR')
    check(s.cmd('TOP 1 0').startswith('-ERR'), 'TOP of it: -ERR')
    os.rename(os.path.join(MD, 'new', ORDER[1][1]), os.path.join(MD, 'cur', ORDER[1][1] + ':2,S'))
    resp, got, octets = s.retr(2)
    check(got == lines_of(ORDER[1][2]), 'RETR of a file another reader moved to cur/ with flags: found by its unique name')
    os.rename(os.path.join(MD, 'cur', ORDER[2][1]), os.path.join(MD, 'cur', unique(ORDER[2][1]) + ':2,FRT'))
    s.dele(2)
    s.dele(3)
    s.dele(1)
    s.retr(4)
    os.unlink(os.path.join(MD, 'new', ORDER[3][1]))
    resp = s.quit()
    rc = s.wait()
    after = files()
    check(resp.decode().startswith('+OK') and rc == 0, 'QUIT: +OK, exit 0, though one file was gone already')
    check(not any(unique(f.split('/')[1]) in (unique(ORDER[1][1]), unique(ORDER[2][1])) for f in after),
          'DELE of files another reader moved: unlinked where they are now')
    check(re.search(r'logout user=%s retrieved=2 deleted=2 ' % NAME, s.logtext(), re.M),
          'a file already gone is not counted as deleted; a vanished retrieved one is no error')
    check(len(after) == len(before) - 4, 'nothing else removed')
    no_sanitizer_report(s, 'the reader session')

    # ---- an undeletable file: -ERR [SYS/TEMP] and exit 111
    make_maildir()
    s = Session()
    s.dele(1)
    s.dele(3)
    os.chmod(os.path.join(MD, 'new'), 0o500)
    s._putcmd('QUIT')
    resp = s.readline()
    rc = s.wait()
    os.chmod(os.path.join(MD, 'new'), 0o700)
    check(resp.startswith('-ERR [SYS/TEMP] some deleted messages not removed'), 'QUIT with an unlink failing: ' + resp)
    check(rc == 111, 'and exit 111 (%r)' % rc)
    after = files()
    check('new/' + ORDER[0][1] in after and 'cur/' + ORDER[2][1] not in after,
          'what could be removed was; the other stays')
    check('delete_failed' in s.logtext() and 'deleted=1 ' in s.logtext(), 'log: delete_failed and deleted=1')

    # ---- a client that stops reading in the middle of a 1 MB message
    make_maildir()
    before = files()
    s = Session()
    s.dele(1)
    s.raw(b'RETR %d\r\n' % ib)
    time.sleep(0.3)
    s.close_now()
    rc = s.wait()
    check(rc == 0 and re.search(r'how=eof$', s.logtext(), re.M) and files() == before,
          'a client gone in the middle of RETR: exit 0, how=eof, nothing deleted (%r)' % rc)

    # ---- timeout
    control('timeoutpop3', '1')
    s = Session()
    s.dele(1)
    t0 = time.time()
    r = s.file.read()
    rc = s.wait()
    took = time.time() - t0
    check(r == b'' and 0.5 < took < 5, 'control/timeoutpop3 1: closed after about 1 s without a word (RFC 1939 3; %.1f s, %r)' % (took, r))
    check(rc == 0 and re.search(r'logout user=%s retrieved=0 deleted=0 octets=0 how=timeout$' % NAME, s.logtext(), re.M),
          'log: how=timeout, exit 0')
    check(files() == before, 'a timeout deletes nothing')
    # a client that does not read: the write times out too
    s = Session()
    s.raw(b''.join(b'RETR %d\r\n' % ib for _ in range(8)))
    t0 = time.time()
    rc = s.wait(30)
    check(rc == 0 and re.search(r'how=timeout$', s.logtext(), re.M) and time.time() - t0 < 15,
          'a client that stops reading 8 MB of answers: how=timeout (%r, %.1f s)' % (rc, time.time() - t0))
    s.close_now()
    for bad in ('0', '86401', 'abc', '-1'):
        control('timeoutpop3', bad)
        s = Session()
        rc = s.wait()
        check(s.welcome.startswith(b'-ERR [SYS/TEMP]') and rc == 111 and 'timeoutpop3' in s.logtext(),
              'control/timeoutpop3 %s: -ERR [SYS/TEMP], exit 111, logged' % bad)
    control('timeoutpop3', '86400')
    s = Session()
    check(s.welcome.startswith(b'+OK'), 'control/timeoutpop3 86400 is taken')
    s.quit()
    s.wait()
    control('timeoutpop3', None)

    # ---- identities
    for ident, what in (('0:0:0', 'naming root'), ('abc', 'malformed'), ('%d:%d:' % (UID, GID) + 'x', 'malformed groups'),
                        (None, 'absent (as root)'), ('-1:%d:' % GID, 'a negative uid')):
        s = Session(env=base_env(POSTERN_IDENTITY=ident))
        rc = s.wait()
        check(s.welcome.startswith(b'-ERR [SYS/TEMP]') and rc == 111 and 'login_failed' in s.logtext(),
              'POSTERN_IDENTITY %s: refused, -ERR, exit 111, logged' % what)
    s = Session(env=base_env(POSTERN_IDENTITY=None), as_user=True)
    st = s.status()
    check(s.welcome.decode().startswith("+OK %s's maildrop has" % NAME) and st['Uid'].split() == [str(UID)] * 4,
          'started as the user itself, without POSTERN_IDENTITY: it runs as itself')
    resp, got, _ = s.retr(1)
    check(got == lines_of(ORDER[0][2]), 'and serves the maildrop')
    s.quit()
    check(s.wait() == 0, 'and exits 0')
    s = Session(env=base_env(), as_user=True)
    check(s.welcome.startswith(b'+OK'), 'started as the user with POSTERN_IDENTITY naming that user: runs')
    s.quit()
    s.wait()
    nobody = pwd.getpwnam('nobody')
    s = Session(env=base_env(POSTERN_IDENTITY='%d:%d:' % (nobody.pw_uid, nobody.pw_gid)), as_user=True)
    rc = s.wait()
    check(s.welcome.startswith(b'-ERR') and rc == 111, 'started as the user with POSTERN_IDENTITY naming another: refused')

    # ---- environment and usage
    s = Session(env=base_env(USER=None))
    check(s.wait() == 100 and s.welcome.startswith(b'-ERR'), 'USER missing: -ERR, exit 100')
    s = Session(env=base_env(USER='a\r\n+OK'))
    check(s.wait() == 100 and s.welcome.startswith(b'-ERR'), 'USER with CR LF: refused, exit 100')
    s = Session(env=base_env(HOME='relative'))
    check(s.wait() == 100, 'HOME not absolute: exit 100')
    s = Session(argv=[BIN, 'x'])
    check(s.wait() == 100 and s.welcome.startswith(b'-ERR'), 'an argument: usage, exit 100')
    s = Session(env=base_env(TCPREMOTEIP=None))
    check(s.welcome.startswith(b'+OK'), 'TCPREMOTEIP absent: still serves')
    s.quit()
    s.wait()
    check(re.search(r'login user=%s ip="" ' % NAME, s.logtext()), 'and logs ip=""')

    # ---- no maildrop
    os.rename(MD, MD + '.away')
    s = Session()
    rc = s.wait()
    check(s.welcome == b'-ERR [SYS/TEMP] unable to open your maildrop' and rc == 111,
          'no Maildir: -ERR [SYS/TEMP] unable to open your maildrop, exit 111')
    check(re.search(r'^postern-pop3d: login_failed user=%s ip=192\.0\.2\.7 why=' % NAME, s.logtext(), re.M),
          'log: login_failed user= ip= why=')
    os.rename(MD + '.away', MD)
    shutil.rmtree(os.path.join(MD, 'tmp'))
    s = Session()
    check(s.wait() == 111 and s.welcome.startswith(b'-ERR [SYS/TEMP]'), 'a Maildir without tmp/: not a Maildir, 111')
    os.makedirs(os.path.join(MD, 'tmp'))
    os.rename(os.path.join(MD, 'cur'), os.path.join(MD, 'cur.real'))
    os.symlink('cur.real', os.path.join(MD, 'cur'))
    s = Session()
    check(s.wait() == 111, 'cur/ a symlink: refused, 111')
    os.unlink(os.path.join(MD, 'cur'))
    os.rename(os.path.join(MD, 'cur.real'), os.path.join(MD, 'cur'))
    os.chown(os.path.join(MD, 'tmp'), UID, GID)
    # Maildir itself may be a symlink (the user's choice of where mail lives)
    os.rename(MD, MD + '.real')
    os.symlink(MD + '.real', MD)
    s = Session()
    check(s.welcome.startswith(b'+OK'), '~/Maildir a symlink to a Maildir: served')
    s.quit()
    s.wait()
    os.unlink(MD)
    os.rename(MD + '.real', MD)
    os.chmod(os.path.join(MD, 'cur'), 0o000)
    s = Session()
    check(s.wait() == 111 and s.welcome.startswith(b'-ERR [SYS/TEMP]'), 'cur/ unreadable: -ERR [SYS/TEMP], 111')
    os.chmod(os.path.join(MD, 'cur'), 0o700)
    # a message file the user may not read is left out, and logged
    make_maildir()
    p = os.path.join(MD, 'new', ORDER[0][1])
    os.chown(p, 0, 0)
    os.chmod(p, 0o600)
    s = Session()
    check(s.welcome.decode() == "+OK %s's maildrop has %s" % (NAME, expected_summary(ORDER[1:])),
          'a file the user may not read is not listed')
    s.quit()
    s.wait()
    check(re.search(r'maildrop_partial user=%s listed=%d over_limit=0 unreadable=1' % (NAME, len(ORDER) - 1), s.logtext()),
          'log: maildrop_partial unreadable=1')

    # ---- sizes from the names (,S= and ,W=): postern-local's, and others
    LOCALBIN = os.path.join(PHOME, 'bin', 'postern-local')
    shutil.copy(os.path.join(BUILD, 'bin', 'postern-local'), LOCALBIN)
    os.chmod(LOCALBIN, 0o755)

    def empty_maildir():
        if os.path.lexists(MD):
            shutil.rmtree(MD)
        for sub in ('tmp', 'new', 'cur'):
            os.makedirs(os.path.join(MD, sub), 0o700)
        subprocess.run(['chown', '-R', '%d:%d' % (UID, GID), MD], check=True)

    def local_deliver(data, t):
        """postern-local delivers data to the user's ~/Maildir (run as the
        user, as postern-lspawn would); returns the path of the new file,
        its mtime set to t for the order"""
        msg = os.path.join(D, 'msg')
        with open(msg, 'wb') as f:
            f.write(data)
        os.chmod(msg, 0o644)
        before = set(os.listdir(os.path.join(MD, 'new')))
        env = base_env(POSTERN_IDENTITY=None)
        with open(msg, 'rb') as f:
            r = subprocess.run([LOCALBIN, 'user', NAME, USERHOME, '', NAME + '@example.org', 'a@b.example',
                                '1764423956.000123P42R9f3a1c2e7b6d5a40', '', ''], stdin=f, cwd=USERHOME, env=env,
                               user=UID, group=GID, extra_groups=[], capture_output=True)
        new = set(os.listdir(os.path.join(MD, 'new'))) - before
        if r.returncode != 0 or len(new) != 1:
            return None
        p = os.path.join(MD, 'new', new.pop())
        os.utime(p, (t, t))
        return p

    def put_file(d, name, data, t):
        p = os.path.join(MD, d, name)
        with open(p, 'wb') as f:
            f.write(data)
        os.chown(p, UID, GID)
        os.utime(p, (t, t))
        return p

    empty_maildir()
    delivered = [
        b'From: a@example.org\nSubject: lf\n\nline one\n.dot line\n.\nlast\n',
        b'Subject: crlf\r\n\r\nbody\r\n.\r\nbare\rcr\r\nend\r\n',
        b'Subject: no LF at the end\n\nlast line',
        b'Subject: ends in CR\r\n\r\nlast line\r',
        b'Subject: big\n\n' + BIG,
    ]
    paths = [local_deliver(m, 1100000000 + k) for k, m in enumerate(delivered)]
    check(all(paths), 'postern-local delivered %d messages into the maildrop' % len(delivered))
    contents = [open(p, 'rb').read() for p in paths]
    name_ok = []
    for p, c in zip(paths, contents):
        m = re.search(r',S=(\d+),W=(\d+)$', os.path.basename(p))
        name_ok.append(bool(m) and int(m.group(1)) == len(c) == os.stat(p).st_size and
                       int(m.group(2)) == len(wire(c)))
    check(all(name_ok), 'each name in new/ ends in ,S=the file size,W=the size as sent: ' +
          ' '.join(os.path.basename(p)[-24:] for p in paths))
    # Other files, their W a lie where only a read can tell: the maildrop
    # must read them.  (dir, name, what is wrong with it)
    body = b'Subject: handmade\n\nline\n'
    n, w = len(body), len(wire(body))
    lie = w + 1
    assert lie <= 2 * n + 1
    handmade = [
        ('new', '1100000100.M1P1R1.host,S=%d,W=%d' % (n + 1, lie), 'S one more than the file'),
        ('new', '1100000101.M1P1R1.host,S=%d,W=%d' % (n - 1, lie), 'S one less than the file'),
        ('new', '1100000102.M1P1R1.host,S=,W=%d' % lie, 'S empty'),
        ('new', '1100000103.M1P1R1.host,S=%dx,W=%d' % (n, lie), 'S not digits'),
        ('new', '1100000104.M1P1R1.host,S=99999999999999999999999,W=99999999999999999999999', 'S and W past 2^64'),
        ('new', '1100000105.M1P1R1.host,S=%d,W=%d' % (n, n - 1), 'W below S'),
        ('new', '1100000106.M1P1R1.host,S=%d,W=%d' % (n, 2 * n + 2), 'W above 2S+1'),
        ('new', '1100000107.M1P1R1.host,S=%d,S=%d,W=%d' % (n, n, lie), 'S twice'),
        ('new', '1100000108.M1P1R1.host,S=%d' % n, 'no W'),
        ('cur', '1100000109.M1P1R1.host:2,S=%d,W=%d' % (n, lie), 'the fields after the colon'),
        ('cur', '1100000110.M1P1R1.host,S=%d,W=%d+' % (n, lie), 'W not digits'),
    ]
    for k, (d, name, what) in enumerate(handmade):
        put_file(d, name, body, 1100000100 + k)
    # the one a name is trusted for: S is the file's size; its W (a lie
    # here) is what LIST says, though RETR sends the file as it is
    put_file('cur', '1100000200.M1P1R1.host,S=%d,W=%d:2,S' % (n, lie), body, 1100000200)
    # a file the user may not read, and a symlink to a file of the right size: not listed
    p = put_file('new', '1100000300.M1P1R1.host,S=%d,W=%d' % (n, w), body, 1100000300)
    os.chown(p, 0, 0)
    os.chmod(p, 0o600)
    p = put_file('new', '1100000302.M1P1R1.host,S=%d,W=%d' % (n, w), body, 1100000302)
    os.chmod(p, 0o200)  # the user's own, but without its read bit
    put_file('tmp', 'target', body, 1100000301)
    os.symlink(os.path.join(MD, 'tmp', 'target'), os.path.join(MD, 'new', '1100000301.M1P1R1.host,S=%d,W=%d' % (n, w)))

    s = Session()
    want = [len(wire(c)) for c in contents] + [w] * len(handmade) + [lie]
    check(s.welcome.decode() == "+OK %s's maildrop has %d messages (%d octets)" % (NAME, len(want), sum(want)),
          'the +OK counts the delivered and the hand-made files, not the unreadable ones or the symlink: ' +
          s.welcome.decode())
    resp, listing, _ = s.list()
    got = [int(l.split()[1]) for l in listing]
    check(got[:len(delivered)] == want[:len(delivered)],
          "LIST of postern-local's files: the size as sent (%r)" % got[:len(delivered)])
    retr_ok = True
    for i, c in enumerate(contents, 1):
        resp, lines, octets = s.retr(i)
        retr_ok = retr_ok and lines == lines_of(c) and octets == got[i - 1] and \
            resp.decode() == '+OK %d octets' % got[i - 1]
    check(retr_ok, "RETR of each of postern-local's files: octets received = LIST = ,W= (LF, CRLF, bare CR, "
          "no last LF, a last CR, 1 MB)")
    for k, (d, name, what) in enumerate(handmade):
        i = len(delivered) + 1 + k
        check(got[i - 1] == w, 'a name with %s: read and counted, LIST %d (%s)' % (what, got[i - 1], name[10:]))
    it = len(delivered) + len(handmade) + 1
    check(got[it - 1] == lie and len(got) == it,
          'a name whose S is the file size is believed without a read: LIST says its W (%d)' % got[it - 1])
    resp, lines, octets = s.retr(it)
    check(resp.decode() == '+OK %d octets' % lie and lines == lines_of(body) and octets == w,
          "RETR of it: +OK says the name's size, the file goes out as it is (%d octets)" % octets)
    s.quit()
    s.wait()
    check(re.search(r'maildrop_partial user=%s listed=%d over_limit=0 unreadable=2' % (NAME, len(want)), s.logtext()),
          "log: the unreadable files with good names (root's, and the user's own of mode 0200) are counted "
          "unreadable, as before")
    no_sanitizer_report(s, 'the sized names')
    # the same files without their fields (RETR moved them to cur/): the
    # same sizes, by reading
    bases = [re.sub(r',S=\d+,W=\d+$', '', os.path.basename(p)) for p in paths]
    renamed = 0
    for f in os.listdir(os.path.join(MD, 'cur')):
        u = unique(f)
        if re.sub(r',S=\d+,W=\d+$', '', u) in bases:
            os.rename(os.path.join(MD, 'cur', f), os.path.join(MD, 'cur', re.sub(r',S=\d+,W=\d+(?=:|$)', '', f)))
            renamed += 1
    check(renamed == len(paths), 'renamed %d files' % renamed)
    s = Session()
    resp, listing, _ = s.list()
    check([int(l.split()[1]) for l in listing][:len(delivered)] == want[:len(delivered)],
          "postern-local's files renamed without the fields: LIST reads the same sizes")
    s.quit()
    s.wait()

    # ---- the 100,000 limit
    make_maildir()
    many = os.path.join(MD, 'cur')
    for i in range(100010 - len([m for m in MESSAGES if m[0] == 'cur'])):
        with open(os.path.join(many, '2000000000.M%dP1R1.host:2,S' % i), 'wb') as f:
            f.write(b'x\n')
    subprocess.run(['chown', '-R', '%d:%d' % (UID, GID), many], check=True)
    t0 = time.time()
    s = Session()
    took = time.time() - t0
    check(s.welcome.decode().startswith("+OK %s's maildrop has 100000 messages" % NAME),
          'over 100,000 files: 100,000 listed (login took %.1f s)' % took)
    check(s.stat()[0] == 100000, 'STAT says 100000')
    s.quit()
    s.wait(60)
    check(re.search(r'maildrop_partial user=%s listed=100000 over_limit=%d unreadable=0' %
                    (NAME, 100010 + len([m for m in MESSAGES if m[0] == 'new']) - 100000), s.logtext()),
          'log: maildrop_partial over_limit= the rest')
    no_sanitizer_report(s, 'the big maildrop')
finally:
    for p in Session.procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    subprocess.run(['userdel', NAME], stderr=subprocess.DEVNULL)
    shutil.rmtree(D, ignore_errors=True)
done()
