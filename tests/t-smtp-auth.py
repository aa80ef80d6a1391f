#!/usr/bin/env python3
"""postern-smtpd -a and -s: submission with SMTP AUTH (RFC 6409, RFC 4954,
RFC 4616) and implicit TLS (RFC 8314), doc/smtp.md.  postern-listen runs
`postern-smtpd -a` on a free loopback port (tests/smtptest.py's Server and
its stub queue), with a fake postern-auth on HOME/run/auth/socket that
answers C requests from a table of passwords (or as the test says), and
tests/faketlsd.py's fake postern-tlsd for STARTTLS and -s.  A client from
afar is postern-smtpd run directly on a socketpair with
TCPREMOTEIP=192.0.2.7.  Clients: raw sockets, smtplib, swaks.  Two real
Unix users (ptsa, ptsa-smith) and two virtual mailboxes (bob, bob-x) are
in the recipient table, for the sender check.  Run as root."""
import base64, os, re, shutil, smtplib, socket, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smtptest import Server, Conn
from faketlsd import Service as TlsService, make_cert, client_context
from tap import check, done, wait_for
from fakeauth import Listener, in_memory

PASSWORDS = {'ptsa': 'right pw', 'bob@virt.example': 'Zq7-bob-secret-81'}
WIPE_PW = 'Xk9-wipe-me-4711-unique'
PASSWORDS['carol'] = WIPE_PW

# Real Unix users and virtual mailboxes, in the recipient table, for the
# sender check: ptsa and ptsa-smith (a user whose name extends another's),
# bob and bob-x at virt.example (likewise)
USERS = ('ptsa', 'ptsa-smith')
for u in USERS:
    subprocess.run(['userdel', u], stderr=subprocess.DEVNULL)
    subprocess.run(['useradd', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/bin/false', u], check=True)
srv = Server(args=['-a'], extra_control={'minuid': '1000'})
for box in ('bob', 'bob-x'):
    os.makedirs(os.path.join(srv.home, 'vmail', 'virt.example', box), exist_ok=True)
srv.mkrcpt()
os.makedirs(os.path.join(srv.home, 'run', 'auth'))
for sub in ('run', 'run/auth'):
    os.chmod(os.path.join(srv.home, sub), 0o755)
srv.start()
P = srv.port
cert, key = make_cert(srv.dir)
tlsd = TlsService(srv.home, cert, key)


class FakeAuth(Listener):
    """HOME/run/auth/socket: records (data, number of fds) of each request;
    mode 'check' answers K or N from PASSWORDS, 'Z' a temporary failure,
    'close' nothing."""

    def __init__(self):
        Listener.__init__(self, os.path.join(srv.home, 'run', 'auth', 'socket'), 'check')

    def serve(self, c):
        got = self.receive(c)
        if got is None:
            return
        data, fds = got
        for f in fds:
            os.close(f)
        self.requests.append((data, len(fds)))
        if self.mode == 'check':
            f = data[1:].split(b'\0')
            ok = data[:1] == b'C' and PASSWORDS.get(f[0].decode(errors='replace')) == f[1].decode(errors='replace')
            c.send(b'K' if ok else b'N')
        elif self.mode == 'Z':
            c.send(b'Zpassword file unreadable')
        c.close()


auth = FakeAuth()


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def plain(user, pw, authz=''):
    return b64('%s\0%s\0%s' % (authz, user, pw))


def extensions(r):
    return [' '.join(l[4:].split()).upper() for l in r[1][1:]]


def session(src='127.0.0.1'):
    c = Conn(P, src)
    return c, c.cmd('EHLO client.test')


def log_since(mark):
    return srv.logtext()[mark:]


def logged(pattern, mark=0):
    return wait_for(lambda: re.search(pattern, log_since(mark)) is not None)


def direct(args=('-a',), ip='192.0.2.7'):
    """postern-smtpd started by hand on a socketpair as a client from ip:
    (socket, Popen)."""
    a, b = socket.socketpair()
    env = {'PATH': '/usr/bin:/bin', 'POSTERN_HOME': srv.home, 'TCPREMOTEIP': ip, 'TCPREMOTEPORT': '4000',
           'TCPLOCALIP': '192.0.2.1'}

    def drop():
        os.setgid(srv.gid)
        os.setgroups([])
        os.setuid(srv.uid)
    p = subprocess.Popen([os.path.join(srv.home, 'bin', 'postern-smtpd')] + list(args), stdin=b, stdout=b,
                         stderr=open(srv.log, 'ab'), env=env, preexec_fn=drop, close_fds=True)
    b.close()
    a.settimeout(15)
    return a, p


class SockConn(Conn):
    """Conn's reader and writer on a socket we already have."""

    def __init__(self, s, greet=True):
        self.s, self.buf = s, b''
        self.greeting = self.reply() if greet else None


def send_msg(c, rcpt, subject='t'):
    r1 = c.cmd('MAIL FROM:<ptsa@example.org>')
    r2 = c.cmd('RCPT TO:<%s>' % rcpt)
    r3 = c.cmd('DATA')
    if r3[0] != 354:
        return r1, r2, r3
    c.send('Subject: %s\r\n\r\nbody\r\n.\r\n' % subject)
    return r1, r2, c.reply()


def relay_msg(c, subject):
    """send_msg to a remote recipient on an emptied stub queue: the three
    replies, and the message and envelope queued (empty when none was)"""
    srv.stub_clear()
    replies = send_msg(c, 'someone@remote.example', subject)
    ids = srv.stub_ids()
    return replies, srv.stub_read(ids[-1]) if ids else (b'', b'')


try:
    # --- what a client on loopback is offered, and what it may do before AUTH
    mark = len(srv.logtext())
    c, r = session()
    ext = extensions(r)
    check(c.greeting[0] == 220, 'the greeting comes at once (no greetdelay on submission)')
    check('AUTH PLAIN LOGIN' in ext, 'EHLO from loopback offers AUTH PLAIN LOGIN in clear')
    check('STARTTLS' in ext, 'and STARTTLS')
    check(logged(r'connect ip=127\.0\.0\.1 .*relay=no .*mode=submission', mark),
          'RELAYCLIENT from tcp.smtp is ignored under -a: relay=no, mode=submission')
    r = c.cmd('MAIL FROM:<ptsa@example.org>')
    check(r[0] == 530 and '5.7.0' in r[1][0], 'MAIL before AUTH: 530 5.7.0 (%r)' % r[1])
    r = c.cmd('RCPT TO:<demo@example.org>')
    check(r[0] == 503, 'and no transaction began: RCPT is 503')
    r = c.cmd('AUTH CRAM-MD5')
    check(r[0] == 504, 'an unknown mechanism: 504 (%r)' % r[1])
    r = c.cmd('AUTH')
    check(r[0] == 501, 'AUTH without a mechanism: 501 (%r)' % r[1])
    check(auth.requests == [], 'nothing asked of postern-auth yet')
    n = len(auth.requests)
    r = c.cmd('AUTH PLAIN ' + plain('ptsa', 'right pw'))
    check(r[0] == 235 and '2.7.0' in r[1][0], 'AUTH PLAIN with an initial response: 235 2.7.0 (%r)' % r[1])
    check(auth.requests[n:] == [(b'Cptsa\0right pw\x00127.0.0.1\0', 0)],
          'one C request, name, password and address, no descriptors (%r)' % auth.requests[n:])
    r = c.cmd('AUTH PLAIN ' + plain('ptsa', 'right pw'))
    check(r[0] == 503, 'AUTH again: 503')
    r = c.cmd('EHLO client.test')
    check('AUTH PLAIN LOGIN' not in extensions(r), 'EHLO after AUTH no longer offers it')
    (r1, r2, r3), (msg, env) = relay_msg(c, 'relayed')
    check(r1[0] == 250 and r2[0] == 250 and r3[0] == 250,
          'after AUTH: a recipient in a domain not ours is accepted (relay), the message queued (%r %r %r)' %
          (r1[1], r2[1], r3[1]))
    check(b'Tsomeone@remote.example\0' in env, 'the envelope holds the remote recipient')
    check(re.search(rb'with ESMTPA id ', msg) is not None, 'Received says "with ESMTPA" (RFC 3848)')
    check(logged(r'auth ip=127\.0\.0\.1 user=ptsa mechanism=PLAIN tls=no', mark), 'the auth line is logged')
    check(logged(r'message .* auth=ptsa .*reply=250', mark), 'the message line names the authenticated user')
    r1, r2, r3 = send_msg(c, 'nobody-such@example.org')
    check(r2[0] == 550, 'an unknown local user is still refused after AUTH (%r)' % r2[1])
    c.cmd('RSET')
    for param, want in (('AUTH=<>', 250), ('AUTH=ptsa+40example.org', 250), ('AUTH=a+4g', 501),
                        ('AUTH=', 501)):
        r = c.cmd('MAIL FROM:<ptsa@example.org> ' + param)
        check(r[0] == want, 'MAIL with %s: %d (RFC 4954 5: checked and dropped) (%r)' % (param, want, r[1]))
        c.cmd('RSET')
    c.close()
    c, _ = session()
    c.cmd('AUTH PLAIN ' + plain('ptsa', 'right pw'))
    for sender, want in (('ptsa@example.org', 250), ('Ptsa@Example.ORG', 250), ('ptsa-list@example.org', 250),
                         ('ptsa-smith-list@example.org', 553), ('ptsa@localhost', 250), ('', 250),
                         ('bob@example.org', 553), ('ptsax@example.org', 553), ('ptsa-smith@example.org', 553),
                         ('postmaster@example.org', 553), ('ptsa@remote.example', 553), ('ptsa@virt.example', 553)):
        r = c.cmd('MAIL FROM:<%s>' % sender)
        check(r[0] == want, 'ptsa sends as <%s>: %d (control/submissionsenders, default 1) (%r)' % (sender, want, r[1]))
        c.cmd('RSET')
    check(logged(r'reject ip=127\.0\.0\.1 .*sender=bob@example\.org reply="553 5\.7\.1', mark),
          'a refused sender is logged')
    r = c.cmd('HELO client.test')
    (r1, r2, r3), (msg, _) = relay_msg(c, 'helo after auth')
    check(r3[0] == 250 and b'with ESMTPA id ' in msg, 'HELO after AUTH does not undo it: still "with ESMTPA"')
    c.cmd('QUIT')
    c.close()
    check('right pw' not in srv.logtext() and plain('ptsa', 'right pw') not in srv.logtext(),
          'no log line holds the password, in clear or in base64')

    # --- the exchanges: PLAIN without an initial response, LOGIN both ways
    c, _ = session()
    r = c.cmd('AUTH PLAIN')
    check(r == (334, ['334 ']), 'AUTH PLAIN alone: an empty 334 challenge (%r)' % (r,))
    r = c.cmd(plain('bob@virt.example', PASSWORDS['bob@virt.example']))
    check(r[0] == 235, 'its response: 235; a virtual mailbox name works (%r)' % r[1])
    for sender, want in (('bob@virt.example', 250), ('bob+x@virt.example', 250), ('bob-y@virt.example', 250),
                         ('bob-x@virt.example', 553), ('bob@example.org', 553), ('bobby@virt.example', 553),
                         ('bob@virt.example.org', 553)):
        r = c.cmd('MAIL FROM:<%s>' % sender)
        check(r[0] == want, 'bob@virt.example sends as <%s>: %d (%r)' % (sender, want, r[1]))
        c.cmd('RSET')
    c.close()
    srv.control('submissionsenders', '0')
    c, _ = session()
    c.cmd('AUTH PLAIN ' + plain('bob@virt.example', PASSWORDS['bob@virt.example']))
    r = c.cmd('MAIL FROM:<anyone@anywhere.example>')
    check(r[0] == 250, 'control/submissionsenders 0: any sender (%r)' % r[1])
    c.close()
    srv.control('submissionsenders', None)
    c, _ = session()
    r = c.cmd('auth login')
    check(r == (334, ['334 VXNlcm5hbWU6']), 'AUTH LOGIN (any case): 334 "Username:" (%r)' % (r,))
    r = c.cmd(b64('ptsa'))
    check(r == (334, ['334 UGFzc3dvcmQ6']), 'then 334 "Password:" (%r)' % (r,))
    r = c.cmd(b64('right pw'))
    check(r[0] == 235, 'then 235 (%r)' % r[1])
    c.close()
    c, _ = session()
    r = c.cmd('AUTH LOGIN ' + b64('ptsa'))
    check(r == (334, ['334 UGFzc3dvcmQ6']), 'AUTH LOGIN with the name as initial response: straight to "Password:"')
    r = c.cmd(b64('right pw'))
    check(r[0] == 235, 'then 235')
    c.close()

    # --- responses that are not right
    c, _ = session()
    n = len(auth.requests)
    r = c.cmd('AUTH PLAIN')
    r = c.cmd('*')
    check(r[0] == 501, '"*" cancels the exchange: 501 (%r)' % r[1])
    r = c.cmd('AUTH PLAIN not-base64!')
    check(r[0] == 501, 'a response that is not base64: 501 (%r)' % r[1])
    r = c.cmd('AUTH PLAIN ' + b64('ptsa\0right pw'))
    check(r[0] == 501, 'PLAIN with one NUL: 501')
    r = c.cmd('AUTH PLAIN ' + b64('\0ptsa\0right\0pw'))
    check(r[0] == 501, 'PLAIN with three NULs: 501')
    r = c.cmd('AUTH PLAIN =')
    check(r[0] == 501, 'PLAIN with the empty response "=": 501')
    check(len(auth.requests) == n, 'none of these asked postern-auth')
    c.close()
    c, _ = session()
    n = len(auth.requests)
    t0 = time.time()
    r = c.cmd('AUTH PLAIN ' + plain('ptsa', 'right pw', authz='bob'))
    check(r[0] == 535 and time.time() - t0 >= 1.9,
          'another authorization identity: 535 after the pause, as a wrong password (%r)' % r[1])
    check(len(auth.requests) == n, 'and postern-auth was not asked')
    r = c.cmd('AUTH PLAIN ' + plain('ptsa', 'right pw', authz='ptsa'))
    check(r[0] == 235, 'the authorization identity the same as the user: 235 (%r)' % r[1])
    c.close()
    c, _ = session()
    n = len(auth.requests)
    mark = len(srv.logtext())
    r = c.cmd('AUTH PLAIN ' + plain('../etc', 'x'))
    check(r[0] == 535 and len(auth.requests) == n, 'a name that is no login name: 535, postern-auth not asked')
    check(logged(r'auth_failed ip=127\.0\.0\.1 user_invalid=yes mechanism=PLAIN', mark) and '../etc' not in log_since(mark),
          'and the log says user_invalid=yes, not what was typed (it may be a password)')
    c.close()
    c, _ = session()
    r = c.cmd('AUTH PLAIN ' + 'A' * 2300)
    check(r[0] == 500 and '5.5.6' in r[1][0], 'an AUTH line over the limit: 500 5.5.6 (%r)' % r[1])
    r = c.cmd('AUTH PLAIN ' + 'A' * 5000)
    check(r[0] == 500 and '5.5.6' in r[1][0], 'and one over 4 KB: 500 5.5.6 too (%r)' % r[1])
    r = c.cmd('AUTH PLAIN')
    c.send('B' * 5000 + '\r\n')
    r = c.reply()
    check(r[0] == 500 and '5.5.6' in r[1][0], 'a response line over the limit: 500 5.5.6 (%r)' % r[1])
    long_pw = 'p' * 1024
    longest = 'l' * 64 + '@' + '.'.join(['d' * 60] * 3) + '.ddddddd'
    PASSWORDS[longest] = long_pw
    r = c.cmd('AUTH PLAIN ' + plain(longest, long_pw, authz=longest))
    check(len(longest) == 255 and r[0] == 235,
          'the largest PLAIN (a 255-byte name twice, a 1,024-byte password) is taken (%r)' % r[1][:1])
    c.close()
    c, _ = session()
    r = c.cmd('AUTH PLAIN')
    c.send(plain('ptsa', 'right pw') + '\n')
    r = c.reply()
    check(r[0] == 500, 'a response ended by a bare LF: 500 (%r)' % r[1])
    c.close()

    # --- wrong passwords: the pause, and three end the session
    mark = len(srv.logtext())
    c, _ = session()
    t0 = time.time()
    r = c.cmd('AUTH PLAIN ' + plain('ptsa', 'wrong'))
    check(r[0] == 535 and '5.7.8' in r[1][0], 'a wrong password: 535 5.7.8 (%r)' % r[1])
    check(time.time() - t0 >= 1.9, 'after a pause of 2 s (%.2f s)' % (time.time() - t0))
    check(logged(r'auth_failed ip=127\.0\.0\.1 user=ptsa mechanism=PLAIN', mark), 'logged auth_failed')
    r = c.cmd('AUTH LOGIN')
    c.cmd(b64('ptsa'))
    r = c.cmd(b64('wrong too'))
    check(r[0] == 535, 'a second, through LOGIN: 535')
    r = c.cmd('MAIL FROM:<a@b.test>')
    check(r[0] == 530, 'still no mail without AUTH')
    r = c.cmd('AUTH PLAIN ' + plain('ptsa', 'wrong again'))
    check(r[0] == 535, 'the third: 535')
    r = c.reply()
    check(r[0] == 421, 'then 421, and the session ends (%r)' % r[1])
    check(c.closed(), 'the connection is closed')
    check(logged(r'disconnect .*why="?too many failed authentications', mark), 'the disconnect line says why')

    # --- postern-auth unable to answer
    for mode in ('Z', 'close'):
        auth.mode = mode
        c, _ = session()
        t0 = time.time()
        r = c.cmd('AUTH PLAIN ' + plain('ptsa', 'right pw'))
        check(r[0] == 454 and '4.7.0' in r[1][0] and time.time() - t0 < 1.5,
              'postern-auth %s: 454 4.7.0 at once (%r)' % ('answers Z' if mode == 'Z' else 'closes unanswered', r[1]))
        c.close()
    check(logged(r'auth_tempfail .*why=', mark), 'logged auth_tempfail with why')
    auth.mode = 'check'
    os.rename(auth.path, auth.path + '.away')
    c, _ = session()
    r = c.cmd('AUTH PLAIN ' + plain('ptsa', 'right pw'))
    check(r[0] == 454, 'no postern-auth at all: 454 (%r)' % r[1])
    c.close()
    os.rename(auth.path + '.away', auth.path)

    # --- STARTTLS after AUTH (loopback): the authentication is forgotten
    c, _ = session()
    c.cmd('AUTH PLAIN ' + plain('ptsa', 'right pw'))
    r = c.cmd('STARTTLS')
    check(r[0] == 220, 'STARTTLS after AUTH: 220')
    c.s = client_context().wrap_socket(c.s, server_hostname='example.org')
    r = c.cmd('EHLO client.test')
    check('AUTH PLAIN LOGIN' in extensions(r), 'inside TLS EHLO offers AUTH again')
    r = c.cmd('MAIL FROM:<ptsa@example.org>')
    check(r[0] == 530, 'and MAIL needs a new AUTH (RFC 3207 4.2)')
    r = c.cmd('AUTH PLAIN ' + plain('ptsa', 'right pw'))
    check(r[0] == 235, 'AUTH inside TLS: 235')
    (r1, r2, r3), (msg, _) = relay_msg(c, 'tls')
    check(r3[0] == 250 and b'with ESMTPSA id ' in msg, 'a message inside TLS after AUTH: "with ESMTPSA"')
    c.close()

    # --- a client from afar: no password in clear
    a, p = direct()
    c = SockConn(a)
    r = c.cmd('EHLO far.test')
    ext = extensions(r)
    check('STARTTLS' in ext and not any(e.startswith('AUTH') for e in ext),
          'from afar in clear: STARTTLS offered, AUTH not (%r)' % ext)
    n = len(auth.requests)
    r = c.cmd('AUTH PLAIN ' + plain('ptsa', 'right pw'))
    check(r[0] == 538 and '5.7.11' in r[1][0], 'AUTH in clear from afar: 538 5.7.11 (%r)' % r[1])
    check(len(auth.requests) == n, 'and postern-auth was not asked')
    r = c.cmd('STARTTLS')
    check(r[0] == 220, 'STARTTLS: 220')
    c.s = client_context().wrap_socket(c.s, server_hostname='example.org')
    r = c.cmd('EHLO far.test')
    check('AUTH PLAIN LOGIN' in extensions(r), 'inside TLS: AUTH PLAIN LOGIN offered')
    r = c.cmd('AUTH PLAIN ' + plain('ptsa', 'right pw'))
    check(r[0] == 235, 'and taken: 235')
    check(auth.requests[-1] == (b'Cptsa\0right pw\x00192.0.2.7\0', 0), 'the request carries the client address')
    c.cmd('QUIT')
    c.close()
    p.wait(10)
    a, p = direct()
    c = SockConn(a)
    c.cmd('EHLO far.test')
    r = c.cmd('AUTH PLAIN ' + plain('carol', WIPE_PW))
    check(r[0] == 538 and not in_memory(p.pid, WIPE_PW.encode()) and
          not in_memory(p.pid, plain('carol', WIPE_PW).encode()),
          'a password sent in clear anyway (538) is wiped all the same')
    c.send('AUTH PLAIN ' + plain('carol', WIPE_PW) + '\n')
    r = c.reply()
    check(r[0] == 500 and not in_memory(p.pid, plain('carol', WIPE_PW).encode()),
          'and so is one on a line refused before it is parsed (a bare LF)')
    c.close()
    p.wait(10)
    srv.control('submissionplaintext', '1')
    a, p = direct()
    c = SockConn(a)
    r = c.cmd('EHLO far.test')
    check('AUTH PLAIN LOGIN' in extensions(r), 'control/submissionplaintext 1: AUTH offered in clear from afar')
    r = c.cmd('AUTH PLAIN ' + plain('ptsa', 'right pw'))
    check(r[0] == 235, 'and taken: 235')
    c.close()
    p.wait(10)
    srv.control('submissionplaintext', None)

    # --- -s: implicit TLS
    mark = len(srv.logtext())
    a, p = direct(('-a', '-s'))
    s = client_context().wrap_socket(a, server_hostname='example.org')
    c = SockConn(s)
    check(c.greeting[0] == 220, '-a -s: the greeting comes inside TLS')
    r = c.cmd('EHLO far.test')
    ext = extensions(r)
    check('AUTH PLAIN LOGIN' in ext and 'STARTTLS' not in ext, 'EHLO offers AUTH, not STARTTLS (%r)' % ext)
    r = c.cmd('AUTH PLAIN ' + plain('ptsa', 'right pw'))
    check(r[0] == 235, 'AUTH: 235')
    (r1, r2, r3), (msg, _) = relay_msg(c, 'smtps')
    check(r3[0] == 250 and b'with ESMTPSA id ' in msg, 'a message over implicit TLS: "with ESMTPSA"')
    c.cmd('QUIT')
    c.close()
    p.wait(10)
    check(logged(r'connect .*mode=submissions', mark) and logged(r'\btls ip=192\.0\.2\.7 protocol=', mark),
          'logged mode=submissions and the handshake')
    tlsd.mode = 'Z'
    a, p = direct(('-a', '-s'))
    a.settimeout(10)
    got = a.recv(100)
    check(got == b'', '-s with no TLS to be had: the connection closes without a byte in clear (%r)' % got)
    check(p.wait(10) == 0 and logged(r'tls_unavailable ip=192\.0\.2\.7', mark), 'logged tls_unavailable')
    a.close()
    tlsd.mode = 'K'
    a, p = direct(('-a', '-s'))
    a.sendall(b'EHLO plain.test\r\n')
    a.settimeout(70)
    got = a.recv(100)
    check(not got.startswith(b'220') and not got.startswith(b'5'),
          '-s and a client that speaks SMTP in clear: no SMTP reply in clear (%r)' % got[:20])
    a.close()
    p.wait(70)

    srv.control('me', 'not a domain!')
    a, p = direct(('-a', '-s'))
    a.settimeout(10)
    got = a.recv(100)
    check(got == b'' and p.wait(10) == 111, '-s and a bad control file: exit 111 without a byte in clear (%r)' % got)
    a.close()
    srv.control('me', 'example.org')
    srv.control('greetdelay', '1')
    a, p = direct(('-s',))
    c = SockConn(client_context().wrap_socket(a, server_hostname='example.org'))
    check(c.greeting[0] == 220, '-s with control/greetdelay: the greeting after the pause, inside TLS (%r)' % (c.greeting,))
    c.close()
    p.wait(10)
    srv.control('greetdelay', None)

    # --- options
    r = subprocess.run([os.path.join(srv.home, 'bin', 'postern-smtpd'), '-x'], capture_output=True, text=True,
                       env={'PATH': '/usr/bin:/bin', 'POSTERN_HOME': srv.home})
    check(r.returncode == 100 and 'usage' in r.stderr, 'an unknown option: exit 100 and the usage')
    r = subprocess.run([os.path.join(srv.home, 'bin', 'postern-smtpd'), '-a', 'extra'], capture_output=True,
                       text=True, env={'PATH': '/usr/bin:/bin', 'POSTERN_HOME': srv.home})
    check(r.returncode == 100, 'an argument: exit 100')

    # --- without -a (port 25): no AUTH
    a, p = direct(args=())
    c = SockConn(a)
    r = c.cmd('EHLO far.test')
    check(not any(e.startswith('AUTH') for e in extensions(r)), 'without -a EHLO offers no AUTH')
    r = c.cmd('AUTH PLAIN ' + plain('ptsa', 'right pw'))
    check(r[0] == 502, 'and AUTH is 502 (%r)' % r[1])
    c.close()
    p.wait(10)

    # --- the password leaves postern-smtpd's memory once answered
    c, _ = session()
    pid = srv.smtpd_pid(c)
    r = c.cmd('AUTH PLAIN ' + plain('carol', WIPE_PW))
    check(r[0] == 235, 'carol: 235')
    check(not in_memory(pid, WIPE_PW.encode()), 'after a 235 the password is nowhere in the process')
    check(not in_memory(pid, plain('carol', WIPE_PW).encode()), 'nor its base64')
    c.send('AUTH LOGIN\r\n')
    c.close()
    c, _ = session()
    pid = srv.smtpd_pid(c)
    c.send('AUTH PLAIN ' + plain('carol', WIPE_PW + 'x') + '\r\n')
    time.sleep(0.8)  # inside the 2 s pause
    check(not in_memory(pid, (WIPE_PW + 'x').encode()), 'during the pause after a wrong one: nowhere either')
    r = c.reply()
    check(r[0] == 535, 'then 535')
    r = c.cmd('AUTH LOGIN')
    c.cmd(b64('carol'))
    r = c.cmd(b64(WIPE_PW))
    check(r[0] == 235 and not in_memory(pid, WIPE_PW.encode()) and not in_memory(pid, b64(WIPE_PW).encode()),
          'LOGIN: 235, and the password gone, in clear and in base64')
    c.close()

    # --- real clients: smtplib and swaks
    s = smtplib.SMTP('127.0.0.1', P, timeout=20)
    s.ehlo('client.test')
    s.login('ptsa', 'right pw')
    refused = s.sendmail('ptsa@example.org', ['someone@remote.example'], b'Subject: smtplib\r\n\r\nhi\r\n')
    check(refused == {}, 'smtplib login() and sendmail() to a remote domain')
    s.quit()
    try:
        smtplib.SMTP('127.0.0.1', P, timeout=20).login('ptsa', 'nope')
        check(False, 'smtplib with a wrong password fails')
    except smtplib.SMTPAuthenticationError as e:
        check(e.smtp_code == 535, 'smtplib with a wrong password: SMTPAuthenticationError 535')
    for mech in ('PLAIN', 'LOGIN'):
        r = subprocess.run(['swaks', '--server', '127.0.0.1:%d' % P, '--tls', '--auth', mech, '--auth-user', 'ptsa',
                            '--auth-password', 'right pw', '--from', 'ptsa@example.org', '--to',
                            'someone@remote.example', '--timeout', '20'], capture_output=True, text=True)
        check(r.returncode == 0 and '235 2.7.0' in r.stdout and '250 2.0.0 accepted' in r.stdout,
              'swaks --tls --auth %s: 235, then the message accepted' % mech)
    # two users, one name extending the other's: each sends as his own only
    PASSWORDS['ptsa-smith'] = 'smith pw'
    c, _ = session()
    c.cmd('AUTH PLAIN ' + plain('ptsa-smith', 'smith pw'))
    r1 = c.cmd('MAIL FROM:<ptsa-smith-list@example.org>')
    c.cmd('RSET')
    r2 = c.cmd('MAIL FROM:<ptsa@example.org>')
    check(r1[0] == 250 and r2[0] == 553, 'ptsa-smith sends as ptsa-smith-list@, not as ptsa@ (%r %r)' % (r1[1], r2[1]))
    c.close()
    os.rename(os.path.join(srv.home, 'users', 'rcpt.cdb'), os.path.join(srv.home, 'users', 'rcpt.cdb.away'))
    c, _ = session()
    c.cmd('AUTH PLAIN ' + plain('ptsa', 'right pw'))
    r = c.cmd('MAIL FROM:<ptsa@example.org>')
    check(r[0] == 451, 'no recipient table to resolve the sender by: 451, not a pass (%r)' % r[1])
    c.close()
    os.rename(os.path.join(srv.home, 'users', 'rcpt.cdb.away'), os.path.join(srv.home, 'users', 'rcpt.cdb'))

    # RFC 6409 8.2, 8.3: a submitted message without Date or Message-ID
    # gets them at the end of its header; one with them keeps its own.
    def submitted(head, body='body\r\n', bdat=None):
        """the message as queued, and its log line: head (the header's
        lines, CRLF-ended, or None for no blank line) sent after AUTH by
        DATA, or by BDAT in chunks of bdat bytes"""
        srv.stub_clear()
        mark = len(srv.logtext())
        c, _ = session()
        c.cmd('AUTH PLAIN ' + plain('ptsa', 'right pw'))
        c.cmd('MAIL FROM:<ptsa@example.org>')
        c.cmd('RCPT TO:<someone@remote.example>')
        text = head + ('\r\n' + body if body is not None else '')
        if bdat:
            data = text.encode()
            chunks = [data[i:i + bdat] for i in range(0, len(data), bdat)] or [b'']
            for i, ch in enumerate(chunks):
                c.send('BDAT %d%s\r\n' % (len(ch), ' LAST' if i == len(chunks) - 1 else ''))
                c.s.sendall(ch)
                r = c.reply()
        else:
            c.cmd('DATA')
            c.send(text + '.\r\n')
            r = c.reply()
        c.cmd('QUIT')
        ids = srv.stub_ids()
        msg = srv.stub_read(ids[-1])[0] if ids and r[0] == 250 else b''
        check(logged(r'smtpd: message .*reply=', mark), '... its message line is logged')
        line = [l for l in log_since(mark).splitlines() if 'smtpd: message ' in l]
        return r[0], msg, line[-1] if line else 'no message line'

    def header_of(msg):
        return msg.split(b'\n\n', 1)[0].decode()

    code, msg, line = submitted('From: ptsa@example.org\r\nSubject: bare\r\n')
    h = header_of(msg)
    mid = re.search(r'(?m)^Message-ID: <([0-9a-f]{32})@example\.org>$', h)
    check(code == 250 and len(re.findall(r'(?m)^Date: ', h)) == 1 and
          re.search(r'(?m)^Date: \w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d \+0000$', h) is not None,
          'a message without Date gets one (RFC 5322, UTC) (%r)' % h[-200:])
    check(mid is not None and h.count('Message-ID: ') == 1,
          'and a Message-ID: 128 random bits at control/me, as postern-inject makes them (%s)'
          % (mid.group(1) if mid else h[-200:]))
    check(h.endswith('Subject: bare\nDate: ' + h.split('Date: ', 1)[1].split('\n')[0] + '\nMessage-ID: <' +
                     (mid.group(1) if mid else '') + '@example.org>') and msg.endswith(b'\n\nbody\n'),
          'both after the client\'s last field, then the blank line and the body unchanged')
    check(' added=date,message-id ' in line + ' ', 'the message line says added=date,message-id')
    code, msg, line = submitted('Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <own@client>\r\n')
    h = header_of(msg)
    check(code == 250 and h.count('Date: ') == 1 and 'Date: Mon, 1 Jan 2024 00:00:00 +0000' in h and
          h.count('Message-ID: ') == 1 and 'Message-ID: <own@client>' in h and 'added=' not in line,
          'a message with both keeps its own, and nothing is added')
    for size in (7, 40):
        code, msg, line = submitted('date : Mon, 1 Jan 2024 00:00:00 +0000\r\n', bdat=size)
        h = header_of(msg)
        check(code == 250 and 'Date: ' not in h and h.count('Message-ID: ') == 1 and ' added=message-id' in line
              and msg.endswith(b'>\n\nbody\n'), 'BDAT in %d-byte chunks%s, "date :" (obsolete form, any case) '
              'counted: only a Message-ID added' % (size, ' (the blank line\'s CR and LF apart)' if size == 40 else ''))
    srv.control('databytes', '2000')
    code, msg, line = submitted('Subject: big\r\n', body='x' * 3000 + '\r\n')
    srv.control('databytes', '52428800')
    check(code == 552 and 'added=' not in line and 'reply="552' in line,
          'a message refused (over databytes) after the fields went: its line says nothing was added')
    code, msg, line = submitted('Subject: no body\r\n', body=None)
    check(code == 250 and msg.endswith(b'Subject: no body\nDate: ' + msg.split(b'Date: ', 1)[1].split(b'\n')[0] +
                                       b'\nMessage-ID: ' + msg.split(b'Message-ID: ', 1)[1].split(b'\n')[0] + b'\n'),
          'a header and no body: the two after its last field')
    # RFC 8601 5: a submitted message's Authentication-Results fields
    # naming this host (control/me) come out too; a held one goes before
    # the added fields are written
    forged = 'Authentication-Results: example.org;\r\n\tdkim=pass header.d=bank.example\r\n'
    other = 'Authentication-Results: other.example; spf=pass\r\n'
    for size in (None, 5, 23):
        code, msg, line = submitted('Subject: f\r\n' + other + forged, bdat=size)
        h = header_of(msg)
        check(code == 250 and 'example.org;' not in h and 'bank.example' not in h and
              h.startswith('Received: ') and re.search(r'\nSubject: f\nAuthentication-Results: other\.example; '
                                                     r'spf=pass\nDate: [^\n]+\nMessage-ID: <[0-9a-f]{32}@example\.org>$', h)
              and msg.endswith(b'\n\nbody\n') and ' forged_ar_removed=1 ' in line and ' added=date,message-id' in line,
              'a forged Authentication-Results field as the last, by %s: taken out, another host\'s kept, Date and '
              'Message-ID after them (%r; %s)' % ('DATA' if size is None else 'BDAT of %d' % size, h[-160:], line[-90:]))
    code, msg, line = submitted('Subject: g\r\n' + forged, body=None)
    check(code == 250 and b'bank.example' not in msg and re.search(rb'\nSubject: g\nDate: [^\n]+\nMessage-ID: [^\n]+\n$', msg)
          is not None, 'and in a header with no body (%r)' % msg[-120:])
    code, msg, line = submitted('Subject: h\r\n', body=forged + '\r\n')
    check(code == 250 and msg.endswith(b'\n\n' + forged.replace('\r\n', '\n').encode() + b'\n') and
          'forged_ar_removed' not in line, 'but never in the body')
    code, msg, line = submitted('this is no header\r\n')
    check(code == 250 and b'Date: ' not in msg and b'Message-ID: ' not in msg and 'added=' not in line,
          'a first line that is no field: nothing added to what cannot be read as a header')

    # control/submissionlimit: recipients a login may send to in an hour,
    # across its sessions (a token bucket in HOME/run/sendlimit)
    rl = os.path.join(srv.home, 'run', 'sendlimit')
    os.makedirs(rl, exist_ok=True)
    os.chown(rl, srv.uid, srv.gid)
    os.chmod(rl, 0o700)

    def rcpts(login, sender, n, mark=None):
        c, _ = session()
        c.cmd('AUTH PLAIN ' + plain(login, PASSWORDS[login]))
        c.cmd('MAIL FROM:<%s>' % sender)
        got = [c.cmd('RCPT TO:<r%d@remote.example>' % i) for i in range(n)]
        c.cmd('QUIT')
        return [r[0] for r in got], got[-1][1][-1] if got else ''
    srv.control('submissionlimit', '3')
    mark = len(srv.logtext())
    codes, _ = rcpts('ptsa', 'ptsa@example.org', 2)
    check(codes == [250, 250], 'submissionlimit 3: two recipients in one session (%s)' % codes)
    codes, last = rcpts('ptsa', 'ptsa@example.org', 3)
    check(codes == [250, 451, 451] and last.startswith('451 4.7.1 sending limit reached'),
          'a second session of the same login: the third recipient of the hour taken, then 451 4.7.1 (%s %s)' %
          (codes, last))
    check(logged(r'reject .*to=r1@remote\.example reply="451 4\.7\.1', mark) and
          not re.search(r'to=r2@remote\.example reply="451 4\.7\.1', log_since(mark)),
          'the refusal logged once a session')
    codes, _ = rcpts('bob@virt.example', 'bob@virt.example', 3)
    check(codes == [250, 250, 250], 'another login has its own three (%s)' % codes)
    files = sorted(os.listdir(rl))
    states = [open(os.path.join(rl, f)).read() for f in files]
    check(len(files) == 2 and all(re.fullmatch(r'[0-9a-f]{16}', f) for f in files) and
          all(re.fullmatch(r'\d{20} \d{20} \d{20}\n', t) for t in states) and
          all(os.stat(os.path.join(rl, f)).st_mode & 0o777 == 0o600 for f in files),
          'one bucket file a login, named by a hash, "THOUSANDTHS MS REMAINDER" of 20 digits each, mode 0600 (%s %s)' %
          (files, states))
    # an hour later the bucket is full again: its time set an hour back
    for f in files:
        milli, ms, rem = open(os.path.join(rl, f)).read().split()
        with open(os.path.join(rl, f), 'w') as fh:
            fh.write('%s %020d %s\n' % (milli, int(ms) - 3600 * 1000, rem))
    codes, _ = rcpts('ptsa', 'ptsa@example.org', 4)
    check(codes == [250, 250, 250, 451], 'an hour on: three again, not more (%s)' % codes)
    for f in files:
        with open(os.path.join(rl, f), 'w') as fh:
            fh.write('99999999999999999999 00000000000000000001')  # cut short
    mark = len(srv.logtext())
    codes, _ = rcpts('ptsa', 'ptsa@example.org', 1)
    check(codes == [451] and logged(r'warning: a sending limit bucket that does not read as one', mark),
          'a bucket file cut short: an empty bucket from now, never a full one, and a warning (%s)' % codes)
    shutil.rmtree(rl)
    mark = len(srv.logtext())
    codes, last = rcpts('ptsa', 'ptsa@example.org', 1)
    check(codes == [451] and last.startswith('451 4.3.0 unable to check the sending limit'),
          'no HOME/run/sendlimit: 451 4.3.0, never unlimited (%s)' % last)
    check(logged(r'warning: unable to keep the sending limit', mark), '... and a warning logged')
    srv.control('submissionlimit', None)
    codes, _ = rcpts('ptsa', 'ptsa@example.org', 4)
    check(codes == [250] * 4, 'no control/submissionlimit: no limit, no file needed (%s)' % codes)

    # control/senderlogins: addresses a login may send as beyond its own,
    # and the domains postern-dkimsign may then sign for.
    def mail_as(login, sender):
        c, _ = session()
        c.cmd('AUTH PLAIN ' + plain(login, PASSWORDS[login]))
        r = c.cmd('MAIL FROM:<%s>' % sender)
        c.cmd('QUIT')
        return r[0]
    srv.control('senderlogins', '# shared addresses\nInfo@Example.org ptsa\n@shop.example  bob@virt.example ptsa-smith  # shop\n'
                'news@other.example bob@virt.example\n')
    for login, sender, want in (('ptsa', 'info@example.org', 250), ('ptsa', 'INFO@example.ORG', 250),
                                ('ptsa', 'sales@example.org', 553), ('ptsa', 'ptsa@example.org', 250),
                                ('bob@virt.example', 'anyone@shop.example', 250),
                                ('bob@virt.example', 'x@sub.shop.example', 553),
                                ('bob@virt.example', 'info@example.org', 553), ('ptsa', 'anyone@shop.example', 553),
                                ('bob@virt.example', 'news@other.example', 250)):
        got = mail_as(login, sender)
        check(got == want, 'senderlogins: %s sends as <%s>: %d (%d)' % (login, sender, want, got))
    srv.control('dkimdomains', 'example.org sel')
    srv.write('bin/postern-dkimsign', '#!/bin/sh\n# stub: records its arguments, then is the stub queue\n'
              'echo "$@" > "$(dirname "$0")/../stub/dkimsign-args"\nexec "$(dirname "$0")/postern-queue"\n', 0o755)
    srv.stub_clear()
    c, _ = session()
    c.cmd('AUTH PLAIN ' + plain('bob@virt.example', PASSWORDS['bob@virt.example']))
    c.cmd('MAIL FROM:<anyone@shop.example>')
    c.cmd('RCPT TO:<someone@remote.example>')
    c.cmd('DATA')
    c.send('From: anyone@shop.example\r\nSubject: shop\r\n\r\nbody\r\n.\r\n')
    r = c.reply()
    c.cmd('QUIT')
    args_path = os.path.join(srv.home, 'stub', 'dkimsign-args')
    args = open(args_path).read().split() if os.path.exists(args_path) else []
    check(r[0] == 250 and args == ['-v', '-d', 'virt.example', '-d', 'shop.example', '-f', 'news@other.example'],
          'postern-dkimsign may sign for the login\'s domain and the one an @domain entry gives it, and for From '
          'news@other.example exactly, the one address it was given there (%r)' % args)
    srv.control('dkimdomains', None)
    os.unlink(os.path.join(srv.home, 'bin', 'postern-dkimsign'))
    mark = len(srv.logtext())
    srv.control('senderlogins', 'info@example.org ptsa\nsales@example.org\n')
    check(mail_as('ptsa', 'info@example.org') == 451,
          'a malformed entry: a sender only the file could allow gets 451, not a guess')
    check(mail_as('ptsa', 'ptsa@example.org') == 250, 'the login\'s own addresses still pass')
    check(logged(r'warning: control/senderlogins, the entry "sales@example\.org": no login after the address', mark),
          'the log quotes the entry and says why')
    srv.control('senderlogins', None)
    check(mail_as('ptsa', 'info@example.org') == 553, 'no file: only the login\'s own addresses')
finally:
    for u in USERS:
        subprocess.run(['userdel', u], stderr=subprocess.DEVNULL)
    tlsd.stop()
    srv.cleanup()
done()
