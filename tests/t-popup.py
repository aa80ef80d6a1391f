#!/usr/bin/env python3
"""postern-popup, POP3's AUTHORIZATION state (doc/pop3.md), on its own:
postern-listen runs it on a free loopback port as postern-pop3 (or nobody)
from a scratch HOME, with a fake postern-auth on HOME/run/auth/socket (a
Python SOCK_SEQPACKET server that records each record and its descriptors
and answers as the test says; on K it speaks for postern-pop3d through the
descriptors it got) and tests/faketlsd.py's fake postern-tlsd for STLS.
Clients: Python's poplib and raw sockets.  A client from afar is
postern-popup run directly with TCPREMOTEIP=192.0.2.7 on a socketpair.
Run as root."""
import base64, os, poplib, pwd, re, shutil, socket, stat, subprocess, sys, tempfile, threading, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smtptest import BUILD, free_port, set_control
from faketlsd import Service as TlsService, make_cert, client_context
from tap import check, done, wait_for
from fakeauth import Listener, in_memory

D = tempfile.mkdtemp(prefix='postern-test.', dir='/tmp')
os.chmod(D, 0o755)
HOME = os.path.join(D, 'home')
for sub in ('bin', 'control', 'run/auth'):
    os.makedirs(os.path.join(HOME, sub))
for sub in ('', 'run', 'run/auth'):
    os.chmod(os.path.join(HOME, sub), 0o755)
shutil.copy(os.path.join(BUILD, 'bin', 'postern-popup'), os.path.join(HOME, 'bin'))
POPUP = os.path.join(HOME, 'bin', 'postern-popup')
LOG = os.path.join(D, 'popup.log')
for name in ('postern-pop3', 'nobody'):
    try:
        PW = pwd.getpwnam(name)
        break
    except KeyError:
        pass


def control(name, value):
    set_control(os.path.join(HOME, 'control'), name, value)


control('me', 'pop.example.org')


def kind(fd):
    m = os.fstat(fd).st_mode
    return 'socket' if stat.S_ISSOCK(m) else 'pipe' if stat.S_ISFIFO(m) else 'other'


class FakeAuth(Listener):
    """HOME/run/auth/socket: records (data, [kind of each fd]); answers per
    mode: 'K' (then writes '+OK fake pop3d' and echoes one line back as
    '+OK echo: LINE' through the descriptors), 'N', 'Z', 'close'."""

    def __init__(self):
        Listener.__init__(self, os.path.join(HOME, 'run', 'auth', 'socket'), 'K')

    def serve(self, c):
        got = self.receive(c)
        if got is None:
            return
        data, fds = got
        self.requests.append((data, [kind(f) for f in fds]))
        mode = self.mode
        if mode == 'K':
            c.send(b'K')
        elif mode == 'N':
            c.send(b'N')
        elif mode == 'Z':
            c.send(b'Zunable to reach postern-pspawn')
        c.close()
        if mode == 'K' and len(fds) == 2:
            threading.Thread(target=self.pop3d, args=(fds,), daemon=True).start()
        else:
            for f in fds:
                os.close(f)

    def pop3d(self, fds):
        r, w = fds
        try:
            # postern-popup makes the connection non-blocking (a property
            # of the connection, not of its descriptor): as postern-pop3d
            # does, this one copes
            os.set_blocking(r, True)
            os.set_blocking(w, True)
            os.write(w, b'+OK fake pop3d\r\n')
            got = b''
            while not got.endswith(b'\n'):
                b = os.read(r, 1024)
                if not b:
                    break
                got += b
            os.write(w, b'+OK echo: ' + got.rstrip(b'\r\n') + b'\r\n')
        except OSError:
            pass
        for f in fds:
            os.close(f)


auth = FakeAuth()
cert, key = make_cert(D)
tls = TlsService(HOME, cert, key)
PORT = free_port()
listener = subprocess.Popen(
    [os.path.join(BUILD, 'bin', 'postern-listen'), '-c', '40', '-p', '0', '-u', str(PW.pw_uid), '-g',
     str(PW.pw_gid), '127.0.0.1', str(PORT), POPUP],
    stdout=open(LOG, 'ab'), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


def logtext():
    return open(LOG, errors='replace').read()


def logged(pattern, mark=0):
    return wait_for(lambda: re.search(pattern, logtext()[mark:]) is not None)


class Raw:
    """A line client on a socket."""

    def __init__(self, s=None):
        if s is None:
            s = socket.create_connection(('127.0.0.1', PORT), timeout=15)
        self.s, self.buf = s, b''
        self.greeting = self.line()

    def send(self, b):
        self.s.sendall(b if isinstance(b, bytes) else b.encode())

    def line(self):
        while b'\n' not in self.buf:
            b = self.s.recv(4096)
            if not b:
                r, self.buf = self.buf, b''
                return r.decode(errors='replace')
            self.buf += b
        l, self.buf = self.buf.split(b'\n', 1)
        return l.rstrip(b'\r').decode(errors='replace')

    def cmd(self, c):
        self.send(c + '\r\n')
        return self.line()

    def multi(self, c):
        first, rest = self.cmd(c), []
        if first.startswith('+OK'):
            while True:
                l = self.line()
                if l in ('.', ''):
                    break
                rest.append(l)
        return first, rest

    def closed(self, secs=10):
        self.s.settimeout(secs)
        try:
            while True:
                b = self.s.recv(4096)
                if not b:
                    return True
                self.buf += b
        except OSError:
            return False

    def close(self):
        self.s.close()


def up():
    for _ in range(100):
        try:
            socket.create_connection(('127.0.0.1', PORT), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def direct(ip='192.0.2.7', user=None, env_extra=None, args=()):
    """postern-popup started by hand on a socketpair, as a client from ip:
    (Raw, Popen)."""
    a, b = socket.socketpair()
    env = {'PATH': '/usr/bin:/bin', 'POSTERN_HOME': HOME}
    if ip is not None:
        env['TCPREMOTEIP'] = ip
    env.update(env_extra or {})
    pw = PW if user is None else user

    def drop():
        if pw:
            os.setgid(pw.pw_gid)
            os.setgroups([])
            os.setuid(pw.pw_uid)
    p = subprocess.Popen([POPUP] + list(args), stdin=b, stdout=b, stderr=open(LOG, 'ab'), env=env, preexec_fn=drop,
                         close_fds=True)
    b.close()
    a.settimeout(15)
    return Raw(a), p


def plain(user, authz=''):
    return base64.b64encode(('%s\0%s\0%s' % (authz, user[0], user[1])).encode()).decode()


try:
    check(up(), 'postern-listen runs postern-popup on a loopback port')

    # --- greeting and CAPA -------------------------------------------------
    c = Raw()
    check(c.greeting == '+OK pop.example.org POP3 server ready', 'the greeting names control/me')
    first, caps = c.multi('CAPA')
    check(first.startswith('+OK'), 'CAPA: +OK')
    for cap in ('TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'STLS', 'USER', 'SASL PLAIN', 'IMPLEMENTATION postern'):
        check(cap in caps, 'CAPA over loopback lists %s' % cap)
    check('PIPELINING' not in caps, 'CAPA does not offer PIPELINING before the login')
    check(c.cmd('capa').startswith('+OK'), 'commands are case-insensitive')
    while c.line() != '.':
        pass
    check(c.cmd('STAT').startswith('-ERR'), 'STAT before login: -ERR')
    check(c.cmd('APOP u 0123456789abcdef').startswith('-ERR'), 'APOP: -ERR (not supported)')
    check(c.cmd('PASS secret').startswith('-ERR'), 'PASS before USER: -ERR')
    check(c.cmd('USER ../etc').startswith('-ERR'), 'USER with a bad name: -ERR')
    check(c.cmd('USER -x').startswith('-ERR'), 'USER starting with -: -ERR')
    check(c.cmd('USER ' + 'a' * 65).startswith('-ERR'), 'USER of 65 bytes: -ERR')
    check(c.cmd('STLS now').startswith('-ERR'), 'STLS with an argument: -ERR')
    check(c.cmd('QUIT') == '+OK bye' and c.closed(), 'QUIT: +OK and closed')
    check(len(auth.requests) == 0, 'postern-auth was asked nothing so far')

    # --- a login with USER and PASS ----------------------------------------
    mark = len(logtext())
    p = poplib.POP3('127.0.0.1', PORT, timeout=15)
    check(p.user('alice').startswith(b'+OK'), 'USER alice: +OK')
    r = p.pass_('pass word with blanks')
    check(r == b'+OK fake pop3d', 'PASS: the answer comes from the program postern-auth handed the connection to')
    req = auth.requests[-1] if auth.requests else (b'', [])
    check(req[0] == b'Palice\0pass word with blanks\x00127.0.0.1\0', 'the record: P, user, password (blanks kept), ip')
    check(req[1] == ['socket', 'socket'], 'with two descriptors: the connection, both ways')
    check(p._shortcmd('NOOP') == b'+OK echo: NOOP', 'and the client now talks to that program')
    p.sock.close()
    check(logged(r'login user=alice ip=127\.0\.0\.1 tls=no', mark), 'logged: login user=alice ip=127.0.0.1 tls=no')
    check('pass word' not in logtext(), 'the password is in no log line')

    # --- wrong passwords ------------------------------------------------------
    auth.mode = 'N'
    mark = len(logtext())
    c = Raw()
    c.cmd('USER alice')
    t0 = time.time()
    r = c.cmd('PASS wrong')
    check(r == '-ERR [AUTH] authentication failed' and time.time() - t0 >= 1.9,
          'wrong password: -ERR [AUTH] after a pause of 2 s (%.2f s)' % (time.time() - t0))
    check(logged(r'auth_failed user=alice ip=127\.0\.0\.1', mark), 'logged: auth_failed')
    c.cmd('USER alice')
    check(c.cmd('PASS wrong2').startswith('-ERR [AUTH]'), 'second wrong password: -ERR')
    c.cmd('USER alice')
    check(c.cmd('PASS wrong3').startswith('-ERR [AUTH]') and c.closed(), 'third: -ERR, and the connection is closed')
    check(logged(r'disconnect ip=127\.0\.0\.1 failures=3 .*how=failures', mark), 'logged: disconnect how=failures')

    auth.mode = 'Z'
    c = Raw()
    c.cmd('USER alice')
    check(c.cmd('PASS x').startswith('-ERR [SYS/TEMP]'), 'postern-auth answers Z: -ERR [SYS/TEMP]')
    check(logged(r'auth_tempfail user=alice .*why="unable to reach postern-pspawn"'), 'logged with its reason')
    c.close()

    auth.mode = 'close'
    mark = len(logtext())
    c = Raw()
    c.cmd('USER alice')
    c.send('PASS x\r\n')
    check(c.closed() and c.buf == b'',
          'postern-auth closes without answer: the connection may be another\'s now, so it is left without a word')
    check(logged(r'auth_unknown user=alice .*why="postern-auth closed the connection without an answer"', mark),
          'logged: auth_unknown with why')
    os.rename(auth.path, auth.path + '.away')
    c = Raw()
    c.cmd('USER alice')
    check(c.cmd('PASS x').startswith('-ERR [SYS/TEMP]'), 'no postern-auth socket: -ERR [SYS/TEMP]')
    check(logged(r'auth_tempfail .*why="unable to connect to postern-auth: No such file'), 'logged: unable to connect')
    c.close()
    os.rename(auth.path + '.away', auth.path)
    auth.mode = 'K'

    # --- AUTH PLAIN -----------------------------------------------------------
    n = len(auth.requests)
    c = Raw()
    first, mechs = c.multi('AUTH')
    check(first == '+OK' and mechs == ['PLAIN'], 'AUTH alone lists PLAIN')
    check(c.cmd('AUTH CRAM-MD5').startswith('-ERR'), 'AUTH CRAM-MD5: -ERR')
    check(c.cmd('AUTH PLAIN %s' % plain(('alice', 'pw'), authz='bob')).startswith('-ERR [AUTH]'),
          'AUTH PLAIN as someone else (authzid bob): refused')
    check(c.cmd('AUTH PLAIN not*base64').startswith('-ERR'), 'AUTH PLAIN with bad base64: -ERR')
    check(c.cmd('AUTH PLAIN ' + base64.b64encode(b'\0alice').decode()).startswith('-ERR'),
          'AUTH PLAIN without a password field: -ERR')
    check(c.cmd('AUTH PLAIN =').startswith('-ERR'), 'AUTH PLAIN with an empty response: -ERR')
    check(c.cmd('AUTH PLAIN') == '+ ', 'AUTH PLAIN without a response: "+ "')
    check(c.cmd('*').startswith('-ERR'), '"*" cancels it')
    check(len(auth.requests) == n, 'none of these asked postern-auth')
    check(c.cmd('AUTH PLAIN') == '+ ', 'AUTH PLAIN again')
    check(c.cmd(plain(('alice', 'p:w'), authz='alice')) == '+OK fake pop3d',
          'the response on its own line (authzid = authcid): handed over')
    check(auth.requests[-1][0] == b'Palice\0p:w\x00127.0.0.1\0', 'the record has the decoded name and password')
    c.close()
    c = Raw()
    check(c.cmd('AUTH plain ' + plain(('bob', 'secret'))) == '+OK fake pop3d', 'AUTH PLAIN with the initial response')
    check(auth.requests[-1][0] == b'Pbob\0secret\x00127.0.0.1\0', 'as bob')
    c.close()
    c = Raw()
    c.cmd('USER demo@demo.example')
    check(c.cmd('PASS vpw') == '+OK fake pop3d' and auth.requests[-1][0] == b'Pdemo@demo.example\0vpw\x00127.0.0.1\0',
          'a virtual mailbox\'s name (local@domain) is passed on')
    c.close()
    c = Raw()
    check(c.cmd('USER Demo@demo.example').startswith('-ERR') and c.cmd('USER demo@demo..example').startswith('-ERR'),
          'virtual names in upper case or with an empty label: -ERR')
    c.close()

    # --- what may not follow the password -----------------------------------
    n = len(auth.requests)
    c = Raw()
    c.cmd('USER alice')
    c.send('PASS pw\r\nSTAT\r\n')
    check(c.line() == '-ERR [AUTH] nothing may follow the password before its answer',
          'PASS with STAT pipelined after it: refused')
    check(len(auth.requests) == n, 'and the password was not checked')
    check(c.line().startswith('-ERR'), 'the pipelined STAT is answered as a command before login')
    c.send('USER alice\r\nPASS pw\r\n')
    check(c.line().startswith('+OK') and c.line() == '+OK fake pop3d', 'USER and PASS in one write are fine')
    c.close()

    # --- limits -----------------------------------------------------------------
    c = Raw()
    check(c.cmd('NOOP ' + 'x' * 300).startswith('-ERR line too long'), 'a line of 306 bytes: -ERR line too long')
    check(c.cmd('CAPA').startswith('+OK'), 'and the next command is read')
    while c.line() != '.':
        pass
    check(c.cmd('NO\x01OP').startswith('-ERR'), 'a control character: -ERR')
    for i in range(7):
        c.cmd('BOGUS')
    r = c.cmd('BOGUS')
    check(r.startswith('-ERR') and c.closed(), 'the 10th refused command: answered, then closed')

    control('timeoutpop3', '2')
    c = Raw()
    t0 = time.time()
    check(c.closed(10) and 1.5 < time.time() - t0 < 6, 'control/timeoutpop3 2: a silent client is let go (%.1f s)'
          % (time.time() - t0))
    control('timeoutpop3', None)
    control('timeoutpop3login', '3')
    c = Raw()
    t0 = time.time()
    ok = True
    try:
        while time.time() - t0 < 8:
            c.send('NOOP\r\n')
            time.sleep(0.5)
    except OSError:
        pass
    check(c.closed(10) and time.time() - t0 < 8,
          'control/timeoutpop3login 3: a client that talks but never logs in is let go (%.1f s)' % (time.time() - t0))
    check(logged(r'how=timeout'), 'logged: how=timeout')
    control('timeoutpop3login', None)

    # --- STLS --------------------------------------------------------------------
    mark = len(logtext())
    p = poplib.POP3('127.0.0.1', PORT, timeout=15)
    p.stls(client_context())
    caps = p.capa()
    check('STLS' not in caps and 'USER' in caps, 'after STLS: CAPA has no STLS, still USER')
    check(tls.requests and tls.requests[-1][0] == b'S', 'postern-tlsd was asked for an engine (S)')
    p.user('carol')
    check(p.pass_('tls pw') == b'+OK fake pop3d', 'USER and PASS inside TLS: handed over')
    check(auth.requests[-1][0] == b'Pcarol\0tls pw\x00127.0.0.1\0' and auth.requests[-1][1] == ['pipe', 'pipe'],
          'the descriptors handed over are the engine\'s plaintext pipes')
    check(p._shortcmd('NOOP') == b'+OK echo: NOOP', 'and the session goes on through TLS')
    p.sock.close()
    check(logged(r'tls ip=127\.0\.0\.1 protocol=TLSv1\.2', mark), 'logged: tls protocol=...')
    check(logged(r'login user=carol .*tls=yes', mark), 'logged: login tls=yes')

    c = Raw()
    c.send('STLS\r\nUSER evil\r\n')
    check(c.line() == '+OK begin TLS negotiation', 'STLS with a command pipelined after it: +OK')
    c.s = client_context().wrap_socket(c.s, server_hostname='pop.example.org')
    c.buf = b''
    check(c.cmd('PASS x') == '-ERR USER first', 'the pipelined USER was discarded (CVE-2011-0411)')
    check(logged(r'tls ip=\S+ .*discarded=11'), 'logged: discarded=11')
    check(c.cmd('STLS').startswith('-ERR'), 'STLS inside TLS: -ERR')
    c.close()

    tls.mode = 'Z'
    c = Raw()
    check(c.cmd('STLS').startswith('-ERR [SYS/TEMP]'), 'postern-tlsd refuses: -ERR [SYS/TEMP], in clear')
    check(c.cmd('USER alice').startswith('+OK'), 'and the session goes on (loopback: in clear)')
    c.close()
    tls.mode = 'K'

    # --- implicit TLS (-s, port 995) ----------------------------------------------
    PORT_S = free_port()
    implicit = subprocess.Popen(
        [os.path.join(BUILD, 'bin', 'postern-listen'), '-c', '40', '-p', '0', '-u', str(PW.pw_uid), '-g',
         str(PW.pw_gid), '127.0.0.1', str(PORT_S), POPUP, '-s'],
        stdout=open(LOG, 'ab'), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        check(wait_for(lambda: subprocess.run(['python3', '-c', 'import socket; socket.create_connection(("127.0.0.1", %d), 1)'
                                               % PORT_S]).returncode == 0), 'postern-popup -s on its own port')
        mark = len(logtext())
        n = len(tls.requests)
        p = poplib.POP3_SSL('127.0.0.1', PORT_S, context=client_context(), timeout=15)
        check(p.getwelcome() == b'+OK pop.example.org POP3 server ready', 'implicit TLS: the greeting comes inside TLS')
        # (at least once: the probe that found the port up may have asked too)
        check(len(tls.requests) > n and tls.requests[-1][0] == b'S', 'postern-tlsd was asked before the greeting')
        caps = p.capa()
        check('STLS' not in caps and 'USER' in caps, 'CAPA: no STLS (TLS is on), USER')
        p.user('dave')
        check(p.pass_('s pw') == b'+OK fake pop3d' and auth.requests[-1][1] == ['pipe', 'pipe'],
              'USER and PASS: handed over with the engine\'s pipes')
        p.sock.close()
        check(logged(r'connect ip=127\.0\.0\.1 pid=\d+ tls=implicit', mark), 'logged: connect tls=implicit')
        os.rename(tls.path, tls.path + '.away')
        mark = len(logtext())
        s = socket.create_connection(('127.0.0.1', PORT_S), timeout=15)
        s.settimeout(10)
        check(s.recv(100) == b'', 'no postern-tlsd: the connection is closed without a byte in clear')
        s.close()
        check(logged(r'tls_unavailable ip=\S+ why="unable to connect to postern-tlsd', mark), 'logged: tls_unavailable')
        os.rename(tls.path + '.away', tls.path)
    finally:
        implicit.terminate()
        implicit.wait()
    c, proc = direct(env_extra=None)
    proc.kill()
    proc.wait()
    a, b = socket.socketpair()
    r = subprocess.run([POPUP, '-x'], stdin=b, stdout=b, stderr=subprocess.PIPE, env={'TCPREMOTEIP': '127.0.0.1'})
    check(r.returncode == 100 and b'usage' in r.stderr, 'an unknown option: usage, exit 100')

    # --- a client from afar -----------------------------------------------------
    c, proc = direct()
    first, caps = c.multi('CAPA')
    check('STLS' in caps and 'USER' not in caps and 'SASL PLAIN' not in caps,
          'from 192.0.2.7: CAPA offers STLS, not USER or SASL PLAIN')
    check(c.cmd('USER alice') == '-ERR [AUTH] use STLS first', 'USER from afar in clear: -ERR [AUTH] use STLS first')
    check(c.cmd('AUTH PLAIN ' + plain(('alice', 'x'))) == '-ERR [AUTH] use STLS first', 'AUTH PLAIN too')
    check(c.multi('AUTH') == ('+OK', []), 'and AUTH alone lists no mechanism')
    c.cmd('QUIT')
    proc.wait(10)
    control('pop3plaintext', '1')
    c, proc = direct()
    check(c.cmd('USER alice').startswith('+OK'), 'control/pop3plaintext 1: USER from afar accepted')
    c.cmd('QUIT')
    proc.wait(10)
    control('pop3plaintext', None)
    os.rename(tls.path, tls.path + '.away')
    c, proc = direct()
    check(c.cmd('USER alice') == '-ERR [AUTH] passwords are not taken in clear here',
          'from afar with no TLS to offer: says passwords are not taken in clear')
    c.cmd('QUIT')
    proc.wait(10)
    os.rename(tls.path + '.away', tls.path)
    c, proc = direct('::1')
    check(c.cmd('USER alice').startswith('+OK'), '::1 is loopback')
    c.cmd('QUIT')
    proc.wait(10)
    c, proc = direct('::ffff:127.0.0.9')
    check(c.cmd('USER alice').startswith('+OK'), '::ffff:127.0.0.9 is loopback')
    c.cmd('QUIT')
    proc.wait(10)

    # --- passwords do not stay in memory -----------------------------------------
    c, proc = direct()
    c.send('PASS Hunter2-refused-in-clear\r\nAUTH PLAIN %s\r\n' % plain(('alice', 'Hunter3-refused-too')))
    check(c.line().startswith('-ERR') and c.line().startswith('-ERR'), 'from afar: PASS and AUTH PLAIN refused')
    check(not in_memory(proc.pid, b'Hunter2-refused') and not in_memory(proc.pid, b'Hunter3-refused'),
          'neither password is left in postern-popup\'s memory')
    check(not in_memory(proc.pid, base64.b64encode(b'\0alice\0Hunter3-refused-too')[:20]),
          'nor the base64 of the AUTH PLAIN one')
    c.cmd('QUIT')
    proc.wait(10)
    auth.mode = 'N'
    c, proc = direct('127.0.0.1')
    c.cmd('USER alice')
    c.send('PASS Hunter4-wrong-one\r\n')
    time.sleep(0.8)  # answered N; the 2 s pause is running
    check(not in_memory(proc.pid, b'Hunter4-wrong'), 'a wrong password is wiped before the pause, not after it')
    check(c.line() == '-ERR [AUTH] authentication failed', 'and answered after it')
    c.cmd('QUIT')
    proc.wait(10)
    auth.mode = 'K'
    n = len(auth.requests)
    c, proc = direct('127.0.0.1')
    check(c.cmd('AUTH PLAIN ' + plain(('alice', 'tab\there'))) == '-ERR [AUTH] authentication failed'
          and len(auth.requests) == n, 'AUTH PLAIN with a control byte in the password: refused unasked')
    c.cmd('QUIT')
    proc.wait(10)

    # --- refusals at start ------------------------------------------------------
    c, proc = direct(user=False)
    check(c.greeting.startswith('-ERR [SYS/PERM]') and proc.wait(10) == 111, 'run as root: -ERR and exit 111')
    c, proc = direct(ip=None)
    check(c.greeting.startswith('-ERR [SYS/PERM]') and proc.wait(10) == 111, 'no TCPREMOTEIP: -ERR and exit 111')
    c, proc = direct(ip='300.1.2.3')
    check(c.greeting.startswith('-ERR [SYS/PERM]') and proc.wait(10) == 111, 'a bad TCPREMOTEIP: -ERR and exit 111')
    control('timeoutpop3', 'x')
    c, proc = direct()
    check(c.greeting.startswith('-ERR [SYS/TEMP]') and proc.wait(10) == 111, 'a malformed control file: -ERR, exit 111')
    c, proc = direct(args=['-s'])
    check(c.greeting == '' and proc.wait(10) == 111, 'the same under -s: exit 111 without a byte in clear')
    c, proc = direct(ip=None, args=['-s'])
    check(c.greeting == '' and proc.wait(10) == 111, 'no TCPREMOTEIP under -s: exit 111 without a byte')
    control('timeoutpop3', None)
finally:
    listener.terminate()
    listener.wait()
    tls.stop()
    if not os.environ.get('POSTERN_KEEP'):
        shutil.rmtree(D, ignore_errors=True)
done()
