#!/usr/bin/env python3
"""postern-auth and postern-passwd (doc/pop3.md, "postern-popup to
postern-auth", "postern-auth to postern-pspawn", "The password file"), on
their own: a scratch HOME with copies of both programs, secret/auth owned
by a uid of this test's (in no passwd file: both programs run as it, as
they would as postern-auth), this script as postern-popup (a real
AF_UNIX SOCK_SEQPACKET client, as root, served with -u 0) and, in a
thread, as a fake postern-pspawn that takes the U record and its two
descriptors (socket.recv_fds), writes a marker into the second, and
answers as each check wants.  Checks postern-passwd's set, delete and
list, the argon2id lines it writes, the roster users/pop3 it keeps (as
root for real, in a HOME of its own, with the real postern-auth user),
its locks under 5 runs at once and what it refuses (names, passwords no
client could send, a user who may not change the roster); K, N, Z, no
answer and the U record for good and bad logins, equal
timing for an unknown name and a wrong password, the C check, every
malformed request closed unanswered with its descriptors closed and none
leaked, an unserved uid, a uid served for C only (-c, postern-smtpd's:
K and N for C, a P refused unanswered with its descriptors closed and
postern-pspawn not asked; -c refused by postern-tlsd and postern-pspawn;
the default uids), postern-pspawn missing, refusing, silent or
garbled, a password file open to others, edits picked up without a
restart, and the refusal of root.  Run as root."""
import os, pwd, re, shutil, signal, socket, struct, subprocess, sys, tempfile, threading, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import service_test
from service_test import as_uid, sanitized, send_while_stopped
from smtptest import BUILD, set_control
from tap import check, done, wait_for

AUTH_UID = 64371  # postern-auth's stand-in, this test's only
POP_UID = 64372   # a second served uid (postern-popup's stand-in)
NOBODY = 65534
D = tempfile.mkdtemp(prefix='postern-test-auth.')
os.chmod(D, 0o755)
for sub in ('bin', 'secret/auth', 'run/auth', 'run/pspawn', 'logs', 'users', 'control'):
    os.makedirs(os.path.join(D, sub))
for sub in ('secret', 'run', 'run/pspawn', 'control'):
    os.chmod(os.path.join(D, sub), 0o755)
# the throttle is off but in its own section below: the others send many
# wrong passwords from one address
set_control(os.path.join(D, 'control'), 'authfailures', '0')
os.chown(os.path.join(D, 'secret/auth'), AUTH_UID, AUTH_UID)
# the scratch HOME is all the test uid's, users/ too: so it may change the
# roster as root would (section 2b runs it as root for real)
os.chown(os.path.join(D, 'users'), AUTH_UID, AUTH_UID)
os.chmod(os.path.join(D, 'secret/auth'), 0o700)
os.chown(os.path.join(D, 'run/auth'), AUTH_UID, AUTH_UID)
os.chmod(os.path.join(D, 'run/auth'), 0o755)
# copies, not links: HOME is found from /proc/self/exe, which resolves links
for prog in ('postern-auth', 'postern-passwd'):
    shutil.copy(os.path.join(BUILD, 'bin', prog), os.path.join(D, 'bin', prog))
AUTH = os.path.join(D, 'bin', 'postern-auth')
PASSWD = os.path.join(D, 'bin', 'postern-passwd')
PWFILE = os.path.join(D, 'secret/auth/passwd')
ROSTER = os.path.join(D, 'users/pop3')
SOCK = os.path.join(D, 'run/auth/socket')
PSOCK = os.path.join(D, 'run/pspawn/socket')
ENV = dict(os.environ)
ENV.pop('POSTERN_HOME', None)
LINE = re.compile(r'^([^:]+):\$argon2id\$v=19\$m=65536,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$')
SECRETS = []  # every password used: none may reach a log


def passwd(*args, data=b'', uid=AUTH_UID, home=None):
    """postern-passwd ARGS with data on stdin, as uid: (exit code, stdout, stderr)"""
    argv = [PASSWD] + (['-h', home] if home else []) + list(args)
    r = subprocess.run(argv, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV,
                       preexec_fn=as_uid(uid) if uid is not None else None, timeout=60)
    err = r.stderr.decode(errors='replace')
    if sanitized(err):
        print('# ' + err.replace('\n', '\n# '))
        return -1, r.stdout, err
    return r.returncode, r.stdout, err


def setpw(user, pw):
    SECRETS.append(pw)
    return passwd('set', user, data=pw.encode() + b'\n')[0] == 0


def lines(path=PWFILE):
    try:
        return open(path).read().split('\n')
    except FileNotFoundError:
        return []


class FakePspawn(threading.Thread):
    """A postern-pspawn: records each U record, the count of its
    descriptors and the peer's uid, writes MARK into the second
    descriptor, and answers self.answer (bytes), or closes at once
    ('close'), or waits for postern-auth to give up ('silent')."""
    MARK = b'postern-pop3d here\n'

    def __init__(self):
        super().__init__(daemon=True)
        self.answer = b'K'
        self.got = []
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.s.bind(PSOCK)
        os.chmod(PSOCK, 0o666)
        self.s.listen(16)

    def run(self):
        while True:
            try:
                c, _ = self.s.accept()
            except OSError:
                return
            with c:
                cred = c.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize('3i'))
                uid = struct.unpack('3i', cred)[1]
                c.settimeout(30)
                try:
                    msg, fds, _, _ = socket.recv_fds(c, 1024, 8)
                except OSError:
                    continue
                self.got.append((msg, len(fds), uid))
                if len(fds) == 2:
                    try:
                        os.write(fds[1], self.MARK)
                    except OSError:
                        pass
                for f in fds:
                    os.close(f)
                try:
                    if self.answer == 'silent':
                        c.recv(10)
                    elif self.answer != 'close':
                        c.send(self.answer)
                except OSError:
                    pass


def Server(*args, uid=AUTH_UID):
    """postern-auth -d FD -u 0 -u POP_UID ARGS as uid, started and waited
    for (tests/service_test.py); its dummy hash takes a moment"""
    return service_test.Server([AUTH, '-u', '0', '-u', str(POP_UID)] + list(args), os.path.join(D, 'logs'), ENV,
                               preexec=as_uid(uid), wait=20, stop_wait=20)


def ask(rec, fds=(), timeout=30):
    """one request: the answer, or b'' when the connection ends unanswered"""
    return service_test.ask(SOCK, rec, fds, timeout)


def rec(kind, user, pw, ip='127.0.0.1'):
    return b'%s%s\0%s\0%s\0' % (kind, user.encode(), pw.encode(), ip.encode())


def closed(fd, secs=5):
    """fd (a read end) reaches EOF within secs: no copy of its write end is left"""
    import select
    end = time.time() + secs
    data = b''
    while time.time() < end:
        if select.select([fd], [], [], max(0, end - time.time()))[0]:
            b = os.read(fd, 1000)
            if not b:
                return data or True
            data += b
    return False


def ask_as(uid, data, fds=()):
    """ask() from a child process of uid (and gid uid): the answer (b''
    when closed unanswered), or None when the child failed"""
    return service_test.ask_as(SOCK, uid, uid, data, fds)


def login(user, pw, ip='127.0.0.1', uid=None):
    """P with two pipes (client to pop3d, pop3d to client), from this
    process or a child of uid: (answer, what the fake wrote on the second,
    whether both pipes then closed)"""
    r1, w1 = os.pipe()
    r2, w2 = os.pipe()
    data = rec(b'P', user, pw, ip)
    a = ask(data, (r1, w2)) if uid is None else ask_as(uid, data, (r1, w2))
    os.close(r1)
    os.close(w2)
    got = closed(r2)
    # r1 was passed: with every copy of it gone, writing to w1 fails
    try:
        os.write(w1, b'x')
        r1_gone = False
    except BrokenPipeError:
        r1_gone = True
    os.close(w1)
    os.close(r2)
    return a, got, r1_gone


def checkpw(user, pw):
    return ask(rec(b'C', user, pw))


signal.signal(signal.SIGPIPE, signal.SIG_IGN)
srv = None
fake = None
try:
    # 1. postern-passwd: set, list, the lines, delete.
    check(setpw('alice', 'correct horse'), 'passwd set alice: exit 0')
    st = os.stat(PWFILE)
    check(st.st_uid == AUTH_UID and (st.st_mode & 0o777) == 0o600,
          'the password file is the running uid\'s, mode 0600')
    ls = [l for l in lines() if l]
    check(len(ls) == 1 and LINE.match(ls[0]) and ls[0].startswith('alice:'),
          'one line NAME:$argon2id$v=19$m=65536,t=2,p=1$SALT$HASH (libsodium\'s interactive limits)')
    check(os.path.exists(os.path.join(D, 'secret/auth/passwd.lock'))
          and not os.path.exists(os.path.join(D, 'secret/auth/passwd.new')),
          'the lock file stays, no passwd.new is left')
    with open(PWFILE, 'a') as f:
        f.write('# a comment the admin wrote\n\n')
    check(setpw('bob', 'bob secret') and setpw('joe@virt.example', 'joe secret'), 'passwd set bob, joe@virt.example')
    old = lines()
    check(setpw('alice', 'first password'), 'passwd set alice again')
    new = lines()
    check([l for l in new if l.startswith('alice:')] != [l for l in old if l.startswith('alice:')]
          and len([l for l in new if l.startswith('alice:')]) == 1
          and [l for l in new if not l.startswith('alice:')] == [l for l in old if not l.startswith('alice:')],
          'a set replaces the user\'s line and keeps every other line byte for byte')
    check(new[-2].startswith('alice:') and new[-1] == '', 'the new line goes at the end')
    code, out, _ = passwd('list')
    check(code == 0 and out == b'bob\njoe@virt.example\nalice\n', 'passwd list: the names only, in the file\'s order')
    check(setpw('carol', 'carol secret') and passwd('delete', 'carol')[0] == 0
          and not [l for l in lines() if l.startswith('carol:')], 'passwd delete carol: exit 0, her line gone')
    code, _, err = passwd('delete', 'carol')
    check(code == 100 and 'no such user' in err, 'delete of a name not there: exit 100')
    # a last line without a newline keeps its bytes and gains one
    with open(PWFILE, 'rb') as f:
        text = f.read()
    with open(PWFILE, 'wb') as f:
        f.write(text + b'# no newline')
    check(setpw('dave', 'dave secret') and b'\n# no newline\ndave:' in open(PWFILE, 'rb').read(),
          'a last line without its newline gets one before the new line')
    code, out, _ = passwd('set', 'erin', data=b'first line\nsecond line\n')
    SECRETS.append('first line')
    check(code == 0, 'only the first line of stdin is the password (checked by a login below)')
    code, out, _ = passwd('set', 'long', data=b'x' * 1024)
    check(code == 0, 'a password of 1024 bytes without a newline')
    st = os.stat(ROSTER)
    check(open(ROSTER).read() == 'alice\nbob\njoe@virt.example\ndave\nerin\nlong\n'
          and st.st_uid == AUTH_UID and (st.st_mode & 0o777) == 0o600,
          'the roster users/pop3: each name set once, in order, carol gone with her delete; mode 0600')
    check(os.path.exists(ROSTER + '.lock') and not os.path.exists(ROSTER + '.new'),
          'its lock file stays, no pop3.new is left')
    ino = os.stat(ROSTER).st_ino
    check(setpw('bob', 'bob secret') and os.stat(ROSTER).st_ino == ino, 'a set of a name on the roster leaves it as it is')
    with open(ROSTER, 'a') as f:
        f.write('# the admin\'s comment\nghost\n')
    code, _, err = passwd('delete', 'ghost')
    check(code == 0 and 'ghost had no password' in err and 'ghost' not in open(ROSTER).read().replace('# the', '')
          and '# the admin\'s comment\n' in open(ROSTER).read(),
          'delete of a name on the roster only: off it, a warning, exit 0; comments kept')

    # 2. What postern-passwd refuses.
    before = open(PWFILE, 'rb').read()
    for name in ('.alice', '-alice', 'al ice', 'al:ice', 'a' * 65, '', 'Joe@virt.example', 'joe@', '@x.org',
                 'joe@-x.org', 'al/ice', 'al\u00e9ice'):
        code, _, err = passwd('set', name, data=b'pw\n')
        check(code == 100 and 'not a login name' in err, 'set refuses the name %r: exit 100' % name)
    roster_before = open(ROSTER, 'rb').read()
    for data, what in ((b'\n', 'an empty line'), (b'', 'nothing'), (b'a\0b\n', 'a NUL'),
                       (b'x' * 1025 + b'\n', '1025 bytes')):
        code, _, err = passwd('set', 'frank', data=data)
        check(code == 100 and 'fatal' in err, 'set refuses a password of %s: exit 100' % what)
    # postern-popup refuses these bytes in a password: one holding them could never be used
    for data, what, want in ((b'pw\r\n', 'a CR at the end (a CRLF file)', 'ends with a CR'),
                             (b'pw\r', 'a CR at the end, no newline', 'ends with a CR'),
                             (b'p\rw\n', 'a CR inside', 'control byte'),
                             (b'a\x01b\n', 'a byte 0x01', 'control byte'),
                             (b'\tpw\n', 'a tab', 'control byte'),
                             (b'a\x1b[0m\n', 'an escape', 'control byte'),
                             (b'pw\x7f\n', 'a DEL (0x7f)', 'control byte')):
        code, _, err = passwd('set', 'frank', data=data)
        check(code == 100 and want in err and 'no POP3 client could send it' in err,
              'set refuses a password with %s: exit 100, %r' % (what, want))
    check(open(ROSTER, 'rb').read() == roster_before, 'a refused password changes the roster neither')
    for args in ((), ('set',), ('delete',), ('list', 'x'), ('set', 'a', 'b'), ('show', 'a'), ('-x', 'list')):
        code, _, err = passwd(*args)
        check(code == 100 and 'usage: postern-passwd' in err, 'usage error %r: exit 100' % (args,))
    code, _, err = passwd('set', 'frank', data=b'pw\n', uid=POP_UID)
    check(code == 100 and 'as the owner of' in err, 'run by a uid that does not own secret/auth: exit 100')
    check(open(PWFILE, 'rb').read() == before, 'after all of them the file is unchanged')
    try:
        pw_auth = pwd.getpwnam('postern-auth')
    except KeyError:
        pw_auth = None
    code, _, err = passwd('list', uid=None)
    if pw_auth is None:
        check(code == 111 and 'unknown user postern-auth' in err,
              'as root without a postern-auth user: exit 111 (it never works as root)')
    else:
        check(code == 111, 'as root it becomes postern-auth, which cannot read this scratch secret/auth: exit 111')
    # the bytes a client can send: all but the control ones, UTF-8 too;
    # over 248 bytes only AUTH PLAIN carries it
    for data, who, warned in ((b'x' * 248 + b'\n', 'w248', False), (b'x' * 249 + b'\n', 'w249', True),
                              ('p\u00e4ss w\u00f6rd ~!'.encode() + b'\n', 'utf8', False)):
        code, _, err = passwd('set', who, data=data)
        check(code == 0 and ('over 248 bytes' in err) == warned and ('AUTH PLAIN' in err) == warned,
              'a password of %d bytes: exit 0, %s' % (len(data) - 1, 'with a warning: only AUTH PLAIN can carry it'
                                                      if warned else 'no warning'))
    # -h HOME
    h2 = os.path.join(D, 'home2')
    os.makedirs(os.path.join(h2, 'secret/auth'))
    os.chown(os.path.join(h2, 'secret/auth'), AUTH_UID, AUTH_UID)
    code, _, err = passwd('set', 'other', data=b'other pw\n', home=h2)
    check(code == 111 and 'unable to stat' in err and not os.path.exists(os.path.join(h2, 'secret/auth/passwd')),
          '-h HOME without users/: set cannot reach the roster, exit 111, nothing written')
    os.makedirs(os.path.join(h2, 'users'))
    code, _, err = passwd('set', 'other', data=b'other pw\n', home=h2)
    check(code == 100 and 'only root may change the POP3 roster' in err
          and not os.path.exists(os.path.join(h2, 'secret/auth/passwd')),
          '-h HOME whose users/ is root\'s, not root: set refused, exit 100, nothing written')
    code, _, err = passwd('delete', 'other', home=h2)
    check(code == 100 and 'only root may change the POP3 roster' in err, '... and delete too')
    check(passwd('list', home=h2)[0] == 0, '... but list works')
    os.chown(os.path.join(h2, 'users'), AUTH_UID, AUTH_UID)
    code, _, _ = passwd('set', 'other', data=b'other pw\n', home=h2)
    check(code == 0 and open(os.path.join(h2, 'secret/auth/passwd')).read().startswith('other:$argon2id$'),
          '-h HOME: the file of that HOME')
    # a terminal: asked twice, without echo
    def on_tty(first, second):
        m, s = os.openpty()
        p = subprocess.Popen([PASSWD, 'set', 'tty'], stdin=s, stdout=s, stderr=s, env=ENV,
                             preexec_fn=as_uid(AUTH_UID))
        os.close(s)
        seen = b''
        for want, answer in ((b'New password: ', first), (b'Again: ', second)):
            end = time.time() + 20
            while want not in seen and time.time() < end:
                try:
                    seen += os.read(m, 100)
                except OSError:
                    break
            os.write(m, answer + b'\n')
        code = p.wait(60)
        try:
            while True:
                b = os.read(m, 100)
                if not b:
                    break
                seen += b
        except OSError:
            pass
        os.close(m)
        return code, seen
    code, seen = on_tty(b'tty secret', b'tty secret')
    SECRETS.append('tty secret')
    check(code == 0 and b'tty secret' not in seen, 'on a terminal: asked twice, not echoed, exit 0')
    code, seen = on_tty(b'tty one', b'tty two')
    check(code == 100 and b'differ' in seen, 'on a terminal, two different passwords: exit 100')

    # 2b. Run as root, as the admin does: the roster written as root
    # (root:root 0600), then postern-auth for good for the password file.
    made_auth = False
    try:
        pwd.getpwnam('postern-auth')
    except KeyError:
        made_auth = subprocess.run(['useradd', '--system', '--no-create-home', '--home-dir', '/nonexistent',
                                    '--shell', '/usr/sbin/nologin', 'postern-auth']).returncode == 0
    try:
        PA = pwd.getpwnam('postern-auth')
        hr = os.path.join(D, 'homeroot')
        for sub in ('secret/auth', 'users'):
            os.makedirs(os.path.join(hr, sub))
        for sub in ('', 'secret', 'users'):
            os.chmod(os.path.join(hr, sub), 0o755)
        os.chown(os.path.join(hr, 'secret/auth'), PA.pw_uid, PA.pw_gid)
        os.chmod(os.path.join(hr, 'secret/auth'), 0o700)
        hpw, hro = os.path.join(hr, 'secret/auth/passwd'), os.path.join(hr, 'users/pop3')
        code, _, err = passwd('set', 'rooted', data=b'rooted pw\n', uid=None, home=hr)
        check(code == 0, 'as root: set exits 0 (%s)' % err.strip())
        st = os.stat(hro)
        check(open(hro).read() == 'rooted\n' and (st.st_uid, st.st_gid, st.st_mode & 0o777) == (0, 0, 0o600),
              'the roster has the name, root:root 0600')
        st = os.stat(hro + '.lock')
        check(st.st_uid == 0 and st.st_mode & 0o777 == 0o600, 'its lock is root\'s, 0600')
        st = os.stat(hpw)
        check(LINE.match(lines(hpw)[0]) and lines(hpw)[0].startswith('rooted:') and st.st_uid == PA.pw_uid
              and st.st_mode & 0o777 == 0o600, 'the password file has the line, and is postern-auth\'s, 0600')
        check(os.stat(hpw + '.lock').st_uid == PA.pw_uid, 'its lock is postern-auth\'s: written after the drop')
        code, _, _ = passwd('set', 'box@virt.example', data=b'box pw\n', uid=None, home=hr)
        check(code == 0 and open(hro).read() == 'rooted\nbox@virt.example\n', 'a second name: on the roster after the first')
        code, out, _ = passwd('list', uid=None, home=hr)
        check(code == 0 and out == b'rooted\nbox@virt.example\n', 'list as root')
        code, _, err = passwd('set', 'third', data=b'pw\x01\n', uid=None, home=hr)
        check(code == 100 and 'third' not in open(hro).read() and 'third' not in open(hpw).read(),
              'a refused password as root: exit 100, neither file changed')
        # postern-auth itself may list, but cannot add a name to the roster
        code, out, _ = passwd('list', uid=PA.pw_uid, home=hr)
        check(code == 0 and out == b'rooted\nbox@virt.example\n', 'postern-auth itself: list works')
        before_r, before_p = open(hro).read(), open(hpw).read()
        for args, data in ((('set', 'intruder'), b'pw\n'), (('delete', 'rooted'), b'')):
            code, _, err = passwd(*args, data=data, uid=PA.pw_uid, home=hr)
            check(code == 100 and 'only root may change the POP3 roster' in err,
                  'postern-auth itself: %s refused, exit 100' % args[0])
        check(open(hro).read() == before_r and open(hpw).read() == before_p, '... neither file changed')
        code, _, _ = passwd('delete', 'rooted', uid=None, home=hr)
        check(code == 0 and open(hro).read() == 'box@virt.example\n' and
              not [l for l in lines(hpw) if l.startswith('rooted:')], 'delete as root: off the roster, out of the file')
        code, _, err = passwd('delete', 'rooted', uid=None, home=hr)
        check(code == 100 and 'no such user' in err, 'delete again: in neither, exit 100')
    finally:
        if made_auth:
            subprocess.run(['userdel', 'postern-auth'])

    # 3. Five runs at once, each setting its own user: none is lost.
    procs = []
    for i in range(5):
        procs.append(subprocess.Popen([PASSWD, 'set', 'par%d' % i], stdin=subprocess.PIPE, stderr=subprocess.PIPE,
                                      env=ENV, preexec_fn=as_uid(AUTH_UID)))
    for i, p in enumerate(procs):
        p.stdin.write(b'parallel %d\n' % i)
        p.stdin.close()
    codes = [p.wait(60) for p in procs]
    names = passwd('list')[1].decode().split()
    check(codes == [0] * 5 and all('par%d' % i in names for i in range(5)) and 'alice' in names,
          '5 postern-passwd runs at once: all exit 0 and all 5 lines are there, the others kept')
    on_roster = open(ROSTER).read().split('\n')
    check(all('par%d' % i in on_roster for i in range(5)) and 'alice' in on_roster,
          '... and all 5 names are on the roster, the others kept')

    # 4. The service: readiness, the socket, the root refusal.
    fake = FakePspawn()
    fake.start()
    r = subprocess.run([AUTH, '-u', '0'], stderr=subprocess.PIPE, env=ENV, timeout=20)
    check(r.returncode == 100 and b'refusing to run as root' in r.stderr, 'postern-auth refuses to run as root: exit 100')
    r = subprocess.run([AUTH, 'extra'], stderr=subprocess.PIPE, env=ENV, timeout=20, preexec_fn=as_uid(AUTH_UID))
    check(r.returncode == 100 and b'usage: postern-auth' in r.stderr, 'an argument: usage, exit 100')
    t = time.perf_counter()
    srv = Server()
    check(srv.ready, 'ready: a newline on the -d fd (%.0f ms after the start, the dummy hash made)'
          % ((time.perf_counter() - t) * 1000))
    check(os.path.exists(SOCK) and (os.stat(SOCK).st_mode & 0o777) == 0o666 and os.stat(SOCK).st_uid == AUTH_UID,
          'the socket is there, mode 0666 (run/auth/ decides who reaches it)')

    # 5. Logins.
    a, got, r1_gone = login('alice', 'first password')
    check(a == b'K', 'P with the right password: K')
    check(fake.got and fake.got[-1] == (b'Ualice\x00127.0.0.1\x00', 2, AUTH_UID),
          'postern-pspawn got U alice NUL 127.0.0.1 NUL with two descriptors, from postern-auth\'s uid')
    check(got == FakePspawn.MARK, 'what postern-pspawn wrote into the second descriptor reached the client, then EOF')
    check(r1_gone, 'postern-auth closed its copies of both descriptors')
    a, b = socket.socketpair()
    n = len(fake.got)
    ans = ask(rec(b'P', 'joe@virt.example', 'joe secret', '::1'), (b.fileno(), b.fileno()))
    b.close()
    a.settimeout(5)
    check(ans == b'K' and a.recv(100) == FakePspawn.MARK and a.recv(100) == b'',
          'a virtual name, one socket as both descriptors: K, the marker, then EOF')
    a.close()
    check(len(fake.got) == n + 1 and fake.got[-1] == (b'Ujoe@virt.example\x00::1\x00', 2, AUTH_UID),
          'its U record: the name as given, the IPv6 address')
    a, got, r1_gone = login('erin', 'first line', '')
    check(a == b'K' and fake.got[-1][0] == b'Uerin\x00\x00', 'erin: the first line of stdin was her password; an empty address')
    check(login('long', 'x' * 1024)[0] == b'K', 'a password of 1024 bytes')
    check(login('par3', 'parallel 3')[0] == b'K', 'a user of the parallel runs')
    n = len(fake.got)
    a, got, r1_gone = login('alice', 'wrong password')
    check(a == b'N' and len(fake.got) == n and got is True and r1_gone,
          'a wrong password: N, postern-pspawn not asked, both descriptors closed')
    a, got, r1_gone = login('nosuchuser', 'first password')
    check(a == b'N' and len(fake.got) == n and got is True and r1_gone, 'an unknown user: N')
    check(login('Alice', 'first password')[0] == b'N' and login('alic', 'first password')[0] == b'N',
          'names are matched exactly (Alice, alic: N)')
    check(checkpw('alice', 'first password') == b'K' and len(fake.got) == n, 'C with the right password: K, nothing started')
    check(checkpw('alice', 'nope') == b'N' and checkpw('zed', 'nope') == b'N', 'C: N for a wrong password or an unknown user')
    log = srv.log()
    check('postern-auth: auth user=alice ip=127.0.0.1 result=ok request=login ms=' in log,
          'logged: auth user=alice ip=127.0.0.1 result=ok request=login ms=N')
    check('postern-auth: auth user=alice ip=127.0.0.1 result=fail request=login why="wrong password" ms=' in log
          and 'postern-auth: auth user=nosuchuser ip=127.0.0.1 result=fail request=login why="no such user" ms=' in log,
          'logged: result=fail, why (wrong password, no such user)')
    check('result=ok request=check' in log, 'logged: request=check')

    # 6. Timing: an unknown name costs what a wrong password costs.
    wrong, unknown = [], []
    for i in range(6):
        for user, into in (('alice', wrong), ('nobody%d' % i, unknown)):
            t = time.perf_counter()
            checkpw(user, 'guess %d' % i)
            into.append(time.perf_counter() - t)
    mw, mu = sorted(wrong)[3], sorted(unknown)[3]
    print('# one verification: %.1f ms (wrong password), %.1f ms (unknown user), medians of 6' % (mw * 1000, mu * 1000))
    check(0.6 < mu / mw < 1.6, 'an unknown user takes as long as a wrong password (%.2f)' % (mu / mw))

    # 7. Malformed requests: closed unanswered, their descriptors closed, none kept.
    base = srv.settled_nfds()
    n = len(fake.got)
    good = 'first password'
    bad = [
        (b'Palice\x00%s\x00127.0.0.1' % good.encode(), 2, 'no NUL at the end', 'no NUL at the end of the record'),
        (b'Pal ice\x00pw\x00ip\x00', 2, 'a blank in the name', 'malformed user name'),
        (b'P.alice\x00pw\x00\x00', 2, 'a name starting with a dot', 'malformed user name'),
        (b'P-alice\x00pw\x00\x00', 2, 'a name starting with a dash', 'malformed user name'),
        (b'P' + b'a' * 65 + b'\x00pw\x00\x00', 2, 'a Unix name of 65 bytes', 'malformed user name'),
        (b'P\x00pw\x00\x00', 2, 'an empty name', 'malformed user name'),
        (b'PJoe@virt.example\x00pw\x00\x00', 2, 'upper case in a virtual name', 'malformed user name'),
        (b'Palice\x00\x00127.0.0.1\x00', 2, 'an empty password', 'malformed password'),
        (b'Palice\x00' + b'p' * 1025 + b'\x00\x00', 2, 'a password of 1025 bytes', 'malformed password'),
        (b'Palice\x00%s\x00127.0.0.g\x00' % good.encode(), 2, 'a g in the address', 'malformed remote address'),
        (b'Palice\x00%s\x00' % good.encode() + b'1' * 46 + b'\x00', 2, 'an address of 46 bytes', 'malformed remote address'),
        (b'Palice\x00%s\x00' % good.encode(), 2, 'two fields', 'fewer than three fields'),
        (b'Palice\x00%s\x00127.0.0.1\x00x\x00' % good.encode(), 2, 'four fields', 'more than three fields'),
        (b'Palice\x00%s\x00127.0.0.1\x00\x00' % good.encode(), 2, 'an empty fourth field', 'more than three fields'),
        (b'Palice\x00' + b'p' * 1400 + b'\x00\x00', 2, 'a record of 1409 bytes', 'record too long or more than two descriptors'),
        (b'Palice\x00%s\x00127.0.0.1\x00' % good.encode(), 0, 'P without descriptors', 'P without exactly two descriptors'),
        (b'Palice\x00%s\x00127.0.0.1\x00' % good.encode(), 1, 'P with one descriptor', 'P without exactly two descriptors'),
        (b'Palice\x00%s\x00127.0.0.1\x00' % good.encode(), 3, 'P with three descriptors', 'record too long or more than two descriptors'),
        (b'Palice\x00%s\x00127.0.0.1\x00' % good.encode(), 9, 'P with nine descriptors', 'record too long or more than two descriptors'),
        (b'Calice\x00%s\x00127.0.0.1\x00' % good.encode(), 2, 'C with two descriptors', 'C with descriptors'),
        (b'Calice\x00%s\x00127.0.0.1\x00' % good.encode(), 1, 'C with one descriptor', 'C with descriptors'),
        (b'Xalice\x00%s\x00127.0.0.1\x00' % good.encode(), 2, 'an unknown type', 'unknown request type'),
        (b'Ualice\x00127.0.0.1\x00', 2, 'a U record (postern-pspawn\'s)', 'unknown request type'),
        (b'p' + b'alice\x00%s\x00127.0.0.1\x00' % good.encode(), 2, 'a lower-case p', 'unknown request type'),
        (b'', 0, 'an empty record', 'empty record, or closed without a request'),
        (b'', 2, 'an empty record with two descriptors', 'empty record'),
    ]
    for data, nfds, what, why in bad:
        pipes = [os.pipe() for _ in range(nfds)]
        mark = len(srv.log())
        a = ask(data, [w for _, w in pipes])
        for _, w in pipes:
            os.close(w)
        fds_closed = all(closed(r) is True for r, _ in pipes)
        for r, _ in pipes:
            os.close(r)
        logged = wait_for(lambda: 'postern-auth: refused uid=0 why="%s"\n' % why in srv.log()[mark:])
        check(a == b'' and fds_closed and logged, 'malformed, %s: closed unanswered%s, logged why="%s"'
              % (what, ', descriptors closed' if nfds else '', why))
        time.sleep(0.25)  # under the limit of refusals logged a second
    check(len(fake.got) == n, 'none of them reached postern-pspawn')
    check(wait_for(lambda: srv.nfds() == base), 'postern-auth holds as many descriptors as before them (%d)' % base)
    check(checkpw('alice', good) == b'K', 'and it still answers')
    for _ in range(8):
        ask(b'Y')
    time.sleep(1.1)
    ask(b'Y')
    check(wait_for(lambda: re.search(r'refused uid=0 why="unknown request type" not_logged_before=\d+', srv.log())),
          'refusals are logged at most 5 a second; the next line counts those left out')

    # 8. A silent client is closed after 5 s, and the one behind it waits until then.
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    silent.connect(SOCK)
    time.sleep(0.2)
    t = time.time()
    a = checkpw('alice', good)
    took = time.time() - t
    silent.settimeout(10)
    try:
        gone = silent.recv(10) == b''
    except OSError:
        gone = True
    silent.close()
    check(a == b'K' and 4 < took < 7 and gone,
          'a silent client is closed after 5 s; the request behind it is answered then (%.1f s)' % took)
    check(wait_for(lambda: 'why="no request within 5 s"' in srv.log()), 'logged: no request within 5 s')

    # 9. Other uids: a served one (not root) and an unserved one.
    check(ask_as(POP_UID, rec(b'C', 'alice', good)) == b'K', 'a served uid of -u (not root): K')
    check(ask_as(NOBODY, rec(b'C', 'alice', good)) == b'', 'an unserved uid (nobody): closed unanswered')
    check(wait_for(lambda: 'postern-auth: refused uid=65534 why="uid not served"' in srv.log()),
          'logged: refused uid=65534 why="uid not served"')

    # 10. postern-pspawn refusing, silent, garbled, gone.
    fake.answer = b'Zno such Unix user: alice'
    a, got, r1_gone = login('alice', good)
    check(a == b'Zno such Unix user: alice' and got == FakePspawn.MARK and r1_gone,
          'postern-pspawn answers Z: Z with its text, descriptors closed')
    check('result=tempfail request=login why="no such Unix user: alice"' in srv.log(), 'logged: result=tempfail with its reason')
    # Once the U record has left, Z would say "nothing was started", which
    # postern-auth cannot know: no well-formed answer, no answer at all to
    # postern-popup, which hangs up (doc/pop3.md), and result=unknown.
    def unknown(answer, why, desc):
        fake.answer = answer
        n = len(fake.got)
        mark = len(srv.log())
        a, got, r1_gone = login('alice', good)
        check(a == b'' and len(fake.got) == n + 1 and got == FakePspawn.MARK and r1_gone,
              '%s: the record went, so no answer at all; descriptors closed (%r)' % (desc, a))
        check(wait_for(lambda: 'auth user=alice ip=127.0.0.1 result=unknown request=login why="%s"' % why
                       in srv.log()[mark:]), '... logged result=unknown why="%s"' % why)
    unknown(b'X', 'malformed answer from postern-pspawn', 'a garbled answer')
    unknown(b'Z' + b'r' * 201, 'malformed answer from postern-pspawn', 'a Z text of 201 bytes')
    unknown(b'Zbad\x01byte', 'malformed answer from postern-pspawn', 'a Z text with a control byte')
    unknown(b'KK', 'malformed answer from postern-pspawn', 'KK')
    unknown('close', 'postern-pspawn closed without an answer', 'postern-pspawn closes unanswered')
    t = time.time()
    unknown('silent', 'no answer from postern-pspawn within 10 s', 'postern-pspawn silent')
    took = time.time() - t
    check(9 < took < 13, '... given up on after 10 s (%.1f s)' % took)
    fake.answer = b'K'
    os.rename(PSOCK, PSOCK + '.away')
    a, got, r1_gone = login('alice', good)
    check(a == b'Zunable to reach postern-pspawn' and got is True and r1_gone,
          'postern-pspawn not running: Z unable to reach postern-pspawn, descriptors closed')
    check(wait_for(lambda: 'why="unable to reach postern-pspawn" sys="No such file or directory"' in srv.log()), 'logged with the system\'s reason')
    os.rename(PSOCK + '.away', PSOCK)
    check(login('alice', good)[0] == b'K', 'postern-pspawn back: K')

    # 10b. postern-popup gone before the hand-over (it gave up on the
    # login): postern-pspawn is not asked.  postern-auth is stopped while
    # the request is sent and its connection closed, so that it finds
    # both when it goes on.
    n = len(fake.got)
    mark = len(srv.log())
    r1, w1 = os.pipe()
    r2, w2 = os.pipe()
    send_while_stopped(srv, SOCK, rec(b'P', 'alice', good), [r1, w2])
    os.close(r1)
    os.close(w2)
    check(wait_for(lambda: 'auth user=alice ip=127.0.0.1 result=tempfail request=login '
                           'why="postern-popup hung up before the hand-over"' in srv.log()[mark:], 10),
          'a right password from a postern-popup that hung up: not handed over, logged')
    check(closed(r2) is True and len(fake.got) == n, '... postern-pspawn not asked, the descriptors closed')
    os.close(w1)
    os.close(r2)

    # 11. The password file: its mode, its absence, edits without a restart.
    os.chmod(PWFILE, 0o644)
    a = checkpw('alice', good)
    check(a == b'Zthe password file may be read or written by its group or others',
          'the file mode 0644: Z, for a right password too')
    os.chmod(PWFILE, 0o600)
    check(checkpw('alice', good) == b'K', 'mode 0600 again: K')
    os.rename(PWFILE, PWFILE + '.away')
    check(checkpw('alice', good) == b'Zno password file', 'no password file: Z')
    os.rename(PWFILE + '.away', PWFILE)
    check(setpw('alice', 'second password'), 'passwd set alice while postern-auth runs')
    check(checkpw('alice', 'second password') == b'K' and checkpw('alice', good) == b'N',
          'the new password counts at once, the old one no more')
    check(setpw('gina', 'gina secret') and checkpw('gina', 'gina secret') == b'K', 'a new user counts at once')
    check(passwd('delete', 'gina')[0] == 0 and checkpw('gina', 'gina secret') == b'N', 'a deleted user is refused at once')
    # an edit in place that keeps size and inode: bob's line becomes bot's
    ino = os.stat(PWFILE).st_ino
    with open(PWFILE, 'r+b') as f:
        text = f.read()
        f.seek(0)
        f.write(text.replace(b'\nbob:', b'\nbot:'))
    check(os.stat(PWFILE).st_ino == ino and checkpw('bot', 'bob secret') == b'K' and checkpw('bob', 'bob secret') == b'N',
          'an edit in place of the same size is seen too (bob renamed bot)')
    # malformed lines and a name on two lines
    dave = [l for l in lines() if l.startswith('dave:')][0]
    with open(PWFILE, 'a') as f:
        f.write('garbage without a colon\nbad name:%s\nhank:$argon2id$v=19$m=65536,t=2,p=1$notbase64\n%s\n'
                % (dave.split(':', 1)[1], dave))
    check(checkpw('dave', 'dave secret') == b'N' and checkpw('alice', 'second password') == b'K',
          'a name on two lines cannot log in; the others still can')
    log = srv.log()
    check('postern-auth: passwd_line line=' in log and 'why="no colon"' in log and 'why="malformed user name"' in log
          and 'why="not an argon2id hash of crypto_pwhash_str\'s"' in log,
          'logged: each malformed line, with its number and why')
    check(re.search(r'postern-auth: passwd lines=\d+ users=\d+ malformed=3 duplicated=1 other_params=0\n', log),
          'logged: passwd lines= users= malformed=3 duplicated=1 other_params=0')
    check(setpw('dave', 'dave again') and checkpw('dave', 'dave again') == b'K',
          'passwd set mends it: one line for dave again')
    # hashes of other argon2 parameters: taken, and logged, since their
    # check does not take the dummy hash's time (an N would tell the name)
    import ctypes, ctypes.util
    sodium = ctypes.CDLL(ctypes.util.find_library('sodium'))
    sodium.sodium_init()

    def argon2id(pw, ops, mem):
        out = ctypes.create_string_buffer(128)
        sodium.crypto_pwhash_argon2id_str(out, pw.encode(), ctypes.c_ulonglong(len(pw)), ctypes.c_ulonglong(ops),
                                          ctypes.c_size_t(mem))
        return out.value.decode()
    SECRETS.extend(['ops three', 'mem half'])
    n_lines = len(lines()) - 1
    with open(PWFILE, 'a') as f:
        f.write('ops3:%s\nmem32:%s\n' % (argon2id('ops three', 3, 64 << 20), argon2id('mem half', 2, 32 << 20)))
    check(checkpw('ops3', 'ops three') == b'K' and checkpw('mem32', 'mem half') == b'K'
          and checkpw('ops3', 'wrong') == b'N', 'hashes of other argon2 parameters are still taken')
    log = srv.log()
    check(re.search(r'passwd_params line=%d user=ops3 why="argon2 parameters other than the interactive ones' % (n_lines + 1),
                    log) and re.search(r'passwd_params line=%d user=mem32 why=' % (n_lines + 2), log),
          'each is logged: passwd_params line= user= why=')
    check(re.search(r'passwd lines=\d+ users=\d+ malformed=3 duplicated=0 other_params=2\n', log),
          'and counted: other_params=2')
    check(setpw('ops3', 'ops three') and checkpw('ops3', 'ops three') == b'K'
          and re.search(r'other_params=1\n', srv.log()[len(log):]),
          'passwd set makes it anew with the interactive ones: other_params=1')
    for pw in SECRETS:
        if pw in srv.log():
            check(False, 'a password is in the log: %r' % pw)
            break
    else:
        check(True, 'no password is in the log')

    # 12. SIGTERM.
    code = srv.stop()
    log = srv.log()
    check(code == 0 and re.search(r'postern-auth: stop ok=\d+ fail=\d+ tempfail=\d+ unknown=[1-9]\d* refused=\d+\n', log),
          'SIGTERM: exit 0, a stop line with the counts')
    check(not os.path.exists(SOCK), 'the socket is removed')

    # 13. -c: a uid served for C only (postern-smtpd's SMTP AUTH), which
    # must never start a POP3 session.  Each client is a child of its uid.
    SMTP_UID = 64373  # postern-smtpd's stand-in
    pw = 'second password'  # alice's since section 11
    for args, what in ((['-c', 'x'], '-c x'), (['-c', '2147483648'], '-c 2147483648'),
                       (['-c', str(SMTP_UID)] * 9, '-c nine times'), (['-c'], '-c without its uid')):
        r = subprocess.run([AUTH] + args, stderr=subprocess.PIPE, env=ENV, timeout=20, preexec_fn=as_uid(AUTH_UID))
        check(r.returncode == 100 and b'usage: postern-auth [-d notification-fd] [-u uid]... [-c uid]...' in r.stderr,
              'postern-auth %s: usage, exit 100' % what)
    # the other services of the skeleton do not tell checks from the rest:
    # -c is a usage error there, before anything else (both are run as root)
    for prog in ('postern-tlsd', 'postern-pspawn'):
        r = subprocess.run([os.path.join(BUILD, 'bin', prog), '-c', str(SMTP_UID)], stderr=subprocess.PIPE,
                           env=ENV, timeout=20)
        check(r.returncode == 100 and b'usage: ' + prog.encode() + b' [-d notification-fd] [-u uid]...\n' in r.stderr,
              '%s -c UID: usage, exit 100 (no check-only uids there)' % prog)
    # root and POP_UID with -u, SMTP_UID with -c, and POP_UID with -c too
    srv = Server('-c', str(SMTP_UID), '-c', str(POP_UID))
    check(srv.ready and re.search(r'postern-auth: ready socket=\S+ uids=2 check_uids=2 authfailures=\d+\n', srv.log()),
          '-u 0 -u POP -c SMTP -c POP: ready, logged uids=2 check_uids=2')
    check(ask_as(SMTP_UID, rec(b'C', 'alice', pw)) == b'K', 'a -c uid: C with the right password: K')
    check(ask_as(SMTP_UID, rec(b'C', 'alice', 'wrong')) == b'N' and ask_as(SMTP_UID, rec(b'C', 'zed', pw)) == b'N',
          'a -c uid: C with a wrong password or an unknown user: N')
    check(wait_for(lambda: 'postern-auth: auth user=alice ip=127.0.0.1 result=ok request=check ms=' in srv.log()
                   and 'postern-auth: auth user=alice ip=127.0.0.1 result=fail request=check why="wrong password"'
                   in srv.log()), '... logged as auth request=check')
    os.chmod(PWFILE, 0o644)
    a = ask_as(SMTP_UID, rec(b'C', 'alice', pw))
    os.chmod(PWFILE, 0o600)
    check(a == b'Zthe password file may be read or written by its group or others', 'a -c uid: Z as for anyone')
    n = len(fake.got)
    base = srv.settled_nfds()
    for user, what in ((pw, 'the right password'), ('wrong', 'a wrong password')):
        mark = len(srv.log())
        a, got, r1_gone = login('alice', user, uid=SMTP_UID)
        check(a == b'' and got is True and r1_gone and len(fake.got) == n,
              'a -c uid: P with %s and two descriptors: no answer, both descriptors closed, '
              'postern-pspawn not asked' % what)
        check(wait_for(lambda: 'postern-auth: refused uid=%d why="login request from a check-only uid"\n' % SMTP_UID
                       in srv.log()[mark:]) and 'auth user=' not in srv.log()[mark:],
              '... logged refused uid=%d why="login request from a check-only uid", no auth line' % SMTP_UID)
        time.sleep(0.25)  # under the limit of refusals logged a second
    check(wait_for(lambda: srv.nfds() == base), '... and postern-auth holds no descriptor more than before (%d, %d)'
          % (base, srv.nfds()))
    a, got, r1_gone = login('alice', 'x' * 2000, uid=SMTP_UID)
    check(a == b'' and got is True and r1_gone and len(fake.got) == n,
          'a -c uid: a malformed P is refused as from anyone (no answer, descriptors closed)')
    # -u still serves everything, and a uid given with -u and -c too
    a, got, r1_gone = login('alice', pw)
    check(a == b'K' and got == FakePspawn.MARK and r1_gone and fake.got[-1] == (b'Ualice\x00127.0.0.1\x00', 2, AUTH_UID),
          'a -u uid (root) beside -c: P with the right password: K, handed to postern-pspawn')
    check(checkpw('alice', pw) == b'K' and checkpw('alice', 'wrong') == b'N', 'a -u uid (root): C: K, N')
    a, got, r1_gone = login('alice', pw, uid=POP_UID)
    check(a == b'K' and got == FakePspawn.MARK and r1_gone and len(fake.got) == n + 2,
          'a uid given with both -u and -c: P is served (K, handed over): -u wins')
    check(ask_as(POP_UID, rec(b'C', 'alice', pw)) == b'K', '... and C too')
    check(ask_as(NOBODY, rec(b'C', 'alice', pw)) == b''
          and wait_for(lambda: 'postern-auth: refused uid=65534 why="uid not served"' in srv.log()),
          'a uid of neither list: closed unanswered, uid not served')
    code = srv.stop()
    check(code == 0 and re.search(r'postern-auth: stop ok=5 fail=3 tempfail=1 unknown=0 refused=4\n', srv.log()),
          'SIGTERM: exit 0; the refused P are counted as refused')
    # only -c: nothing is served for everything, root not at all
    srv = service_test.Server([AUTH, '-c', str(SMTP_UID)], os.path.join(D, 'logs'), ENV, preexec=as_uid(AUTH_UID),
                              wait=20, stop_wait=20)
    check(srv.ready and re.search(r'ready socket=\S+ uids=0 check_uids=1 authfailures=\d+\n', srv.log()), 'only -c: uids=0 check_uids=1')
    check(checkpw('alice', pw) == b'' and ask_as(SMTP_UID, rec(b'C', 'alice', pw)) == b'K'
          and login('alice', pw, uid=SMTP_UID)[0] == b'',
          '... root is not served (no default beside -c), the -c uid gets K for C and nothing for P')
    check(srv.stop() == 0, '... SIGTERM: exit 0')

    # 14. The default, neither -u nor -c: postern-pop3's uid for everything,
    # postern-submit's (the submission listeners' postern-smtpd -a) for
    # checks only, and port 25's postern-smtpd's not at all.  ./install
    # makes the three users.
    try:
        pop3_uid, submit_uid, smtpd_uid = (pwd.getpwnam(u).pw_uid for u in
                                           ('postern-pop3', 'postern-submit', 'postern-smtpd'))
    except KeyError:
        pop3_uid = submit_uid = smtpd_uid = None
    if pop3_uid is None:
        r = subprocess.run([AUTH], stderr=subprocess.PIPE, env=ENV, timeout=20, preexec_fn=as_uid(AUTH_UID))
        check(r.returncode == 111 and b'unknown user postern-' in r.stderr,
              'the default without postern-pop3 or postern-submit (no ./install here): exit 111, unknown user')
    else:
        srv = service_test.Server([AUTH], os.path.join(D, 'logs'), ENV, preexec=as_uid(AUTH_UID), wait=20,
                                  stop_wait=20)
        check(srv.ready and re.search(r'ready socket=\S+ uids=1 check_uids=1 authfailures=\d+\n', srv.log()),
              'the default: ready, uids=1 check_uids=1')
        n = len(fake.got)
        a, got, r1_gone = login('alice', pw, uid=pop3_uid)
        check(a == b'K' and got == FakePspawn.MARK and len(fake.got) == n + 1, 'the default: postern-pop3\'s P: K')
        check(ask_as(pop3_uid, rec(b'C', 'alice', pw)) == b'K', '... and its C: K')
        check(ask_as(submit_uid, rec(b'C', 'alice', pw)) == b'K' and ask_as(submit_uid, rec(b'C', 'alice', 'no')) == b'N',
              'the default: postern-submit\'s C: K, N')
        a, got, r1_gone = login('alice', pw, uid=submit_uid)
        check(a == b'' and got is True and r1_gone and len(fake.got) == n + 1
              and wait_for(lambda: 'refused uid=%d why="login request from a check-only uid"' % submit_uid in srv.log()),
              'the default: postern-submit\'s P: refused unanswered, descriptors closed, logged')
        mark = len(srv.log())
        check(ask_as(smtpd_uid, rec(b'C', 'alice', pw)) == b''
              and wait_for(lambda: 'refused uid=%d why="uid not served"' % smtpd_uid in srv.log()[mark:]),
              'the default: port 25\'s postern-smtpd gets nothing, not even for a C with the right password: '
              'closed unanswered, logged "uid not served"')
        a, got, r1_gone = login('alice', pw, uid=smtpd_uid)
        check(a == b'' and got is True and r1_gone and len(fake.got) == n + 1,
              '... nor for a P: unanswered, descriptors closed, nothing started')
        check(checkpw('alice', pw) == b'', 'the default: root is not served')
        check(srv.stop() == 0, '... SIGTERM: exit 0')
    # 10. The throttle: control/authfailures wrong passwords from one
    # address (an IPv6 one by its /64) and its requests get Z, unchecked.
    set_control(os.path.join(D, 'control'), 'authfailures', '3')
    check(setpw('thr', 'thr right pw'), 'thr: a password')
    srv = Server()
    check(srv.ready and 'authfailures=3' in srv.log(), 'authfailures 3: ready, and the ready line says so')
    for ip in ('192.0.2.50', '2001:db8:1::5'):
        got = [ask(rec(b'C', 'thr', 'wrong %d' % i, ip)) for i in range(3)]
        check(got == [b'N'] * 3, '%s: three wrong passwords: N N N' % ip)
        t0 = time.time()
        a = ask(rec(b'C', 'thr', 'thr right pw', ip))
        check(a.startswith(b'Z') and b'too many wrong passwords' in a and time.time() - t0 < 0.05,
              '%s: then even the right one gets Z at once, without a check (%r)' % (ip, a))
    check(ask(rec(b'C', 'thr', 'thr right pw', '2001:db8:1::99')).startswith(b'Z'),
          'another address of the same IPv6 /64: Z too')
    check(ask(rec(b'C', 'thr', 'thr right pw', '::ffff:192.0.2.50')).startswith(b'Z'),
          'the IPv4 address written as IPv4-mapped IPv6: Z too')
    check(ask(rec(b'C', 'thr', 'thr right pw', '2001:db8:2::5')) == b'K' and
          ask(rec(b'C', 'thr', 'thr right pw', '192.0.2.51')) == b'K',
          'another /64 and the next IPv4 address: K')
    check(ask(rec(b'C', 'thr', 'wrong', '')) == b'N' and ask(rec(b'C', 'thr', 'thr right pw', '')) == b'K',
          'no address (a local client): never throttled')
    a, got, r1_gone = login('thr', 'thr right pw', ip='192.0.2.50')
    check(a.startswith(b'Z') and got is True and r1_gone, 'a P from a throttled address: Z, nothing started')
    check(wait_for(lambda: re.search(r'auth user=thr ip=192\.0\.2\.50 result=tempfail .*why="too many wrong', srv.log())
                   is not None), 'logged result=tempfail with why')
    # SIGHUP (s6-svc -h) reads control/authfailures again and keeps the counts
    set_control(os.path.join(D, 'control'), 'authfailures', 'ten')
    srv.p.send_signal(signal.SIGHUP)
    check(wait_for(lambda: 'SIGHUP: unable to read control/authfailures' in srv.log()) and srv.p.poll() is None and
          ask(rec(b'C', 'thr', 'thr right pw', '192.0.2.50')).startswith(b'Z'),
          'SIGHUP with a malformed control/authfailures: a warning, still running, the limit as it was')
    set_control(os.path.join(D, 'control'), 'authfailures', '5')
    srv.p.send_signal(signal.SIGHUP)
    check(wait_for(lambda: 'reread authfailures=5' in srv.log()) and
          ask(rec(b'C', 'thr', 'thr right pw', '192.0.2.50')) == b'K',
          'SIGHUP with authfailures 5: logged, and the address with 3 is let through again')
    check(ask(rec(b'C', 'thr', 'wrong', '192.0.2.50')) == b'N' and ask(rec(b'C', 'thr', 'wrong', '192.0.2.50')) == b'N'
          and ask(rec(b'C', 'thr', 'thr right pw', '192.0.2.50')).startswith(b'Z'),
          '... the counts were kept: two more wrong ones make 5, and it is throttled again')
    check(srv.stop() == 0, 'SIGTERM: exit 0')
    # A restart keeps the counts (doc/pop3.md, "Throttle"): saved at the
    # stop to run/auth/throttle, read and removed at the next start.
    state = os.path.join(D, 'run/auth/throttle')
    check('throttle saved=2' in srv.log(), 'the stop saved the two addresses inside their window')
    body = open(state).read() if os.path.exists(state) else ''
    check(body.startswith('postern-auth throttle 1\n') and
          len(re.findall(r'(?m)^[0-9a-f]{18} [35] \d+$', body)) == 2 and body.count('\n') == 3 and
          os.stat(state).st_uid == AUTH_UID and os.stat(state).st_mode & 0o777 == 0o600,
          'run/auth/throttle: a format line and KEY COUNT SINCE for each, postern-auth\'s, mode 0600 (%r)' % body)
    srv = Server()
    check(srv.ready and 'throttle loaded=2 skipped=0' in srv.log() and not os.path.exists(state),
          'the next start read both and removed the file')
    check(ask(rec(b'C', 'thr', 'thr right pw', '192.0.2.50')).startswith(b'Z'),
          'after the restart the address with 5 is still throttled')
    check(ask(rec(b'C', 'thr', 'wrong', '2001:db8:1::7')) == b'N' and
          ask(rec(b'C', 'thr', 'wrong', '2001:db8:1::7')) == b'N' and
          ask(rec(b'C', 'thr', 'thr right pw', '2001:db8:1::7')).startswith(b'Z'),
          '... and the /64 kept its 3: two more wrong ones make 5')
    check(srv.stop() == 0, 'SIGTERM: exit 0')
    # a file with lines that are over their window, malformed or repeated
    now = int(time.time())
    key70 = '04c000024600000000'  # 192.0.2.70
    with open(state, 'w') as f:
        f.write('postern-auth throttle 1\n'
                '%s 5 %d\n' % (key70, now - 10) +
                '04c000024700000000 5 %d\n' % (now - 700) +     # its window is over
                '%s 5 %d\n' % (key70, now - 5) +                 # the same address again
                '07c000024800000000 5 %d\n' % (now - 5) +        # no such family
                '04c00002490000000 5 %d\n' % (now - 5) +         # a key one digit short
                '04c000024a00000000 0 %d\n' % (now - 5) +        # no count
                '04c000024b00000000 5 %d\n' % (now + 3600) +     # from the future
                'garbage\n'
                '04c000024c00000000 5 %d' % (now - 5))            # no LF
    os.chown(state, AUTH_UID, AUTH_UID)
    os.chmod(state, 0o600)
    srv = Server()
    check(srv.ready and 'throttle loaded=1 skipped=8' in srv.log() and
          ask(rec(b'C', 'thr', 'thr right pw', '192.0.2.70')).startswith(b'Z') and
          ask(rec(b'C', 'thr', 'thr right pw', '192.0.2.71')) == b'K' and
          ask(rec(b'C', 'thr', 'thr right pw', '192.0.2.76')) == b'K',
          'a file of bad lines: the one good line taken, the 8 others skipped and counted (%s)' %
          re.findall(r'throttle .*', srv.log()))
    check(srv.stop() == 0 and 'throttle saved=1' in srv.log(), 'SIGTERM: exit 0, the one address saved again')
    # a file that is not postern-auth's own, or not a file, is not read
    os.chown(state, 0, 0)
    os.chmod(state, 0o644)  # readable: the owner is what is checked
    srv = Server()
    check(srv.ready and 'not a regular file of our own' in srv.log() and
          ask(rec(b'C', 'thr', 'thr right pw', '192.0.2.70')) == b'K',
          'run/auth/throttle owned by another user: a warning, no counts')
    check(srv.stop() == 0, 'SIGTERM: exit 0')
    os.unlink(state)
    os.symlink('/etc/passwd', state)
    srv = Server()
    passwd_before = open('/etc/passwd', 'rb').read()
    check(srv.ready and 'warning: %s: unable to open it' % state in srv.log(),
          'run/auth/throttle a symlink: not followed, a warning')
    check(ask(rec(b'C', 'thr', 'wrong', '192.0.2.80')) == b'N', 'a wrong password, to have a count to save')
    check(srv.stop() == 0 and 'throttle saved=1' in srv.log() and not os.path.islink(state) and
          os.path.isfile(state) and open('/etc/passwd', 'rb').read() == passwd_before,
          'SIGTERM: the symlink replaced by the file, what it pointed to untouched')
    if os.path.lexists(state):
        os.unlink(state)
    set_control(os.path.join(D, 'control'), 'authfailures', '0')
    srv = Server()
    check(all(ask(rec(b'C', 'thr', 'wrong', '192.0.2.60')) == b'N' for _ in range(12)) and
          ask(rec(b'C', 'thr', 'thr right pw', '192.0.2.60')) == b'K', 'authfailures 0: never throttled')
    check(srv.stop() == 0, 'SIGTERM: exit 0')
    set_control(os.path.join(D, 'control'), 'authfailures', 'ten')
    srv = Server()
    check(not srv.ready and srv.p.wait(20) == 111, 'a malformed control/authfailures: exit 111')
    set_control(os.path.join(D, 'control'), 'authfailures', '0')

    check(not any(p in open(f, errors='replace').read() for p in SECRETS + [pw]
                  for f in [os.path.join(D, 'logs', e) for e in os.listdir(os.path.join(D, 'logs'))]),
          'no password is in any of their logs')
finally:
    if srv and srv.p.poll() is None:
        srv.p.kill()
        srv.p.wait()
    shutil.rmtree(D, ignore_errors=True)
done()
