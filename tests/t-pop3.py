#!/usr/bin/env python3
"""POP3 end to end (doc/pop3.md): ./install into a scratch home, the real
services under a real s6-svscan (postern-pop3's listener and postern-popup,
postern-auth, postern-pspawn, postern-tlsd and postern-keys, postern-send
for delivery), real Unix users made here, passwords set with
postern-passwd, mail delivered with the installed sendmail, and Python's
poplib as the client, in clear over loopback and inside STLS; a virtual
mailbox too; and the same two listeners on [::1] as well (control/pop3ip6's
default, one process for both addresses), where loopback has it.  Run as
root."""
import base64, glob, os, poplib, pwd, re, socket, ssl, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from installed import Installed, run, runs_as
from smtptest import free_port
from tap import check, done, wait_for

H = Installed()
HOME, USERS = H.home, H.users
ctl, make_user, logged, svc_up = H.ctl, H.make_user, H.logged, H.svc_up
PORT = free_port()
PORT_S = free_port()
SMTPPORT = free_port()
NAMES = ('ptpop1', 'ptpop2')
PASSWORDS = {'ptpop1': 'correct horse battery', 'ptpop2': 'pw-two:with colon', 'box@virt.test': 'virtual pw'}
try:
    IPV6 = any(l.split()[0] == '0' * 31 + '1' for l in open('/proc/net/if_inet6'))
except OSError:
    IPV6 = False  # no IPv6 here: the listeners bind 127.0.0.1 alone


def passwd(*args, data=None):
    return H.prog('postern-passwd', *args, data=data)


def sendmail(rcpt, subject, body='hello\n'):
    msg = 'From: tester@example.org\nTo: %s\nSubject: %s\n\n%s' % (rcpt, subject, body)
    return H.prog('sendmail', '-f', 'tester@example.org', rcpt, data=msg.encode()).returncode


def files(box, sub):
    return sorted(glob.glob(os.path.join(box, sub, '*')))


def pop(user=None, tls=False, host='127.0.0.1'):
    p = poplib.POP3(host, PORT, timeout=30)
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        p.stls(ctx)
    if user:
        p.user(user)
        p.pass_(PASSWORDS[user])
    return p


def proc_of(prog, user):
    """pids of prog running as user"""
    uid = pwd.getpwnam(user).pw_uid
    out = []
    for st in glob.glob('/proc/[0-9]*/status'):
        try:
            t = open(st).read()
        except OSError:
            continue
        m = re.search(r'^Name:\s*(\S+)', t, re.M)
        u = re.search(r'^Uid:\s*(\d+)\s+(\d+)', t, re.M)
        if m and u and m.group(1) == prog[:15] and int(u.group(1)) == uid and int(u.group(2)) == uid:
            out.append(int(st.split('/')[2]))
    return out


try:
    H.install('the POP3 layout')
    st = os.stat(os.path.join(HOME, 'secret', 'auth'))
    check(pwd.getpwuid(st.st_uid).pw_name == 'postern-auth' and st.st_mode & 0o777 == 0o700,
          'secret/auth is postern-auth\'s alone (0700)')
    st = os.stat(os.path.join(HOME, 'secret', 'auth', 'passwd'))
    check(pwd.getpwuid(st.st_uid).pw_name == 'postern-auth' and st.st_mode & 0o777 == 0o600,
          'secret/auth/passwd: postern-auth, 0600')
    for prog, mode in (('postern-popup', 0o711), ('postern-auth', 0o711), ('postern-pop3d', 0o711),
                       ('postern-pspawn', 0o700), ('postern-passwd', 0o700)):
        check(os.stat(os.path.join(HOME, 'bin', prog)).st_mode & 0o7777 == mode, 'bin/%s is %o' % (prog, mode))

    ctl('pop3port', str(PORT))
    ctl('pop3sport', str(PORT_S))
    ctl('smtpport', str(SMTPPORT))
    # not tested here, but they would take this machine's 587 and 465
    ctl('submissionport', str(free_port()))
    ctl('smtpsport', str(free_port()))
    ctl('me', 'pop.example.org')
    ctl('virtualdomains', 'virt.test')
    for n in NAMES:
        check(make_user(n), 'test user %s' % n)
    vbox = H.vmail('virt.test', 'box')

    for u, pw_ in PASSWORDS.items():
        r = passwd('set', u, data=(pw_ + '\n').encode())
        check(r.returncode == 0, 'postern-passwd set %s' % u)
    r = passwd('list')
    check(r.returncode == 0 and sorted(r.stdout.decode().split()) == sorted(PASSWORDS),
          'postern-passwd list names the three')
    text = open(os.path.join(HOME, 'secret', 'auth', 'passwd')).read()
    check(all(re.search(r'^%s:\$argon2id\$' % re.escape(u), text, re.M) for u in PASSWORDS),
          'the file holds argon2id hashes')
    check(not any(p in text for p in PASSWORDS.values()), 'and no password')

    H.start()
    for s in ('postern-send', 'postern-tlsd', 'postern-keys', 'postern-auth', 'postern-pspawn', 'postern-pop3',
              'postern-pop3s'):
        check(svc_up(s), 'service %s is up' % s)
    check(wait_for(lambda: run('python3', '-c', 'import socket; socket.create_connection(("127.0.0.1", %d), 1)'
                               % PORT).returncode == 0, 10), 'the POP3 listener answers on its port')
    want = 2
    addresses = '127.0.0.1,::1' if IPV6 else '127.0.0.1'
    found = {}

    def listeners():   # (not a child of one between its fork and its exec)
        found.clear()
        ps = H.procs('postern-listen')
        found.update({pid: argv for pid, (pp, argv) in ps.items()
                      if pp not in ps and any(a.endswith('/bin/postern-popup') for a in argv)})
        return (len(found) == want and all(runs_as(p_, 'postern-pop3') for p_ in found) and
                all(argv[argv.index(HOME + '/bin/postern-popup') - 2] == addresses for argv in found.values()))
    check(wait_for(listeners, 10), '%d POP3 listeners (postern-pop3, postern-pop3s) run as postern-pop3, each on %s (%s)'
          % (want, addresses, {p_: argv[-4:] for p_, argv in found.items()}))

    box1 = os.path.join(USERS, 'ptpop1', 'Maildir')
    for i in range(3):
        sendmail('ptpop1@pop.example.org', 'message %d' % i, 'line one\n.line with a dot\nline %d\n' % i)
    check(wait_for(lambda: len(files(box1, 'new')) == 3, 20), 'three messages delivered to ptpop1')
    first = files(box1, 'new')

    # --- a session in clear, over loopback ---------------------------------------
    p = pop('ptpop1')
    count, octets = p.stat()
    sizes = [int(l.split()[1]) for l in p.list()[1]]
    check(count == 3 and sum(sizes) == octets, 'STAT: 3 messages, octets the sum of LIST\'s')
    pids = proc_of('postern-pop3d', 'ptpop1')
    check(len(pids) == 1, 'postern-pop3d runs as ptpop1 (real and effective uid)')
    body = [b''] * 3
    retr = p.retr(1)[1]
    ondisk = sorted(first, key=os.path.getmtime)
    raw1 = open(ondisk[0], 'rb').read()
    check(b'\r\n'.join(retr) + b'\r\n' == raw1.replace(b'\n', b'\r\n'), 'RETR 1 is the first file, lines in CRLF')
    check(sizes[0] == len(raw1) + raw1.count(b'\n'), 'its LIST size counts each LF as CRLF')
    check(b'.line with a dot' in retr, 'a line starting with a dot comes back whole (poplib un-stuffs it)')
    uidls = [l.split()[1].decode() for l in p.uidl()[1]]

    def uidl_of(path):
        """the unique name, or ~ and its FNV-1a hash past 70 bytes (postern-pop3d(8)):
        postern-local's names, with ,S= and ,W=, pass 70 with a long host name"""
        u = os.path.basename(path).split(':')[0]
        if len(u) <= 70:
            return u
        h = 0xcbf29ce484222325
        for c in u.encode():
            h = ((h ^ c) * 0x100000001b3) & 0xffffffffffffffff
        return '~%016x' % h
    check(uidls == [uidl_of(f) for f in ondisk], 'UIDL: the Maildir unique names, in order')
    check(all(re.search(r',S=%d,W=%d$' % (os.path.getsize(f), sizes[k]), os.path.basename(f))
              for k, f in enumerate(ondisk)),
          "postern-local's names carry ,S=the file size,W=LIST's size")
    check(p.dele(2).startswith(b'+OK'), 'DELE 2')
    p.quit()
    check(not os.path.exists(ondisk[1]), 'after QUIT the deleted message is gone')
    cur = files(box1, 'cur')
    check(len(cur) == 1 and cur[0].endswith(':2,S') and uidl_of(cur[0]) == uidls[0],
          'the retrieved one moved to cur/ with the flag S')
    check(files(box1, 'new') == [ondisk[2]], 'the one not retrieved stays in new/')
    check(wait_for(lambda: not proc_of('postern-pop3d', 'ptpop1')), 'postern-pop3d is gone after QUIT')
    check(logged('pspawn', r'login user=ptpop1 ip=127\.0\.0\.1 messages=3'), 'log/pspawn: login user=ptpop1 messages=3')
    check(logged('pspawn', r'logout user=ptpop1 retrieved=1 deleted=1 .*how=quit'),
          'log/pspawn: logout retrieved=1 deleted=1 how=quit')
    check(logged('auth', r'user=ptpop1 ip=127\.0\.0\.1 result=ok'), 'log/auth: result=ok')
    check(logged('pop3', r'login user=ptpop1 ip=127\.0\.0\.1 tls=no'), 'log/pop3: login tls=no')

    # --- a second session: what is left, and uids that do not change ------------
    p = pop('ptpop1')
    check(p.stat()[0] == 2, 'the next session sees the two left')
    check([l.split()[1].decode() for l in p.uidl()[1]] == [uidls[0], uidls[2]], 'with the same UIDLs')
    sendmail('ptpop1@pop.example.org', 'late')
    check(wait_for(lambda: len(files(box1, 'new')) == 2, 20), 'a message delivered during the session')
    check(p.stat()[0] == 2, 'is not in this session\'s list')
    p.rset()
    p.file.close()
    p.sock.close()  # dropped, no QUIT
    check(wait_for(lambda: len(files(box1, 'new')) == 2 and len(files(box1, 'cur')) == 1),
          'a dropped connection changes nothing')
    check(logged('pspawn', r'logout user=ptpop1 .*how=eof'), 'log/pspawn: logout how=eof')
    p = pop('ptpop1')
    check(p.stat()[0] == 3, 'the next session sees it')
    p.quit()

    # --- wrong passwords, unknown users ----------------------------------------
    p = pop()
    p.user('ptpop1')
    t0 = time.time()
    try:
        p.pass_('wrongpass1')
        r = b''
    except poplib.error_proto as e:
        r = e.args[0]
    check(r == b'-ERR [AUTH] authentication failed' and time.time() - t0 >= 2, 'a wrong password: -ERR [AUTH]')
    p.user('nosuchuser')
    t0 = time.time()
    try:
        p.pass_('whatever')
        r = b''
    except poplib.error_proto as e:
        r = e.args[0]
    check(r == b'-ERR [AUTH] authentication failed', 'an unknown user: the same answer')
    p.sock.close()
    check(logged('auth', r'user=ptpop1 ip=127\.0\.0\.1 result=fail') and logged('auth', r'user=nosuchuser .*result=fail'),
          'log/auth: result=fail for both')
    p = pop()
    p.user('ptpop2')
    try:
        p.pass_(PASSWORDS['ptpop1'])
        r = b''
    except poplib.error_proto as e:
        r = e.args[0]
    check(r.startswith(b'-ERR [AUTH]'), 'one user\'s password does not open another\'s maildrop')
    p.sock.close()

    # --- STLS with the real postern-tlsd ------------------------------------------
    p = pop('ptpop2', tls=True)
    check(p.stat()[0] == 0, 'STLS, then USER and PASS: ptpop2\'s empty maildrop')
    check(p.sock.version() == 'TLSv1.2', 'the session is TLSv1.2')
    p.quit()
    check(logged('pop3', r'login user=ptpop2 ip=\S+ tls=yes'), 'log/pop3: login tls=yes')

    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    p = poplib.POP3_SSL('127.0.0.1', PORT_S, context=ctx, timeout=30)
    check(p.getwelcome().startswith(b'+OK pop.example.org') and p.sock.version() == 'TLSv1.2',
          'port pop3sport: implicit TLS, the greeting inside TLSv1.2')
    p.user('ptpop2')
    p.pass_(PASSWORDS['ptpop2'])
    check(p.stat()[0] == 0, 'and a login there')
    p.quit()
    check(logged('pop3s', r'login user=ptpop2 ip=\S+ tls=yes'), 'log/pop3s: login tls=yes')

    # --- IPv6: the same listeners on [::1], same ports ------------------------------
    if IPV6:
        p = pop('ptpop2', host='::1')
        check(p.stat()[0] == 0, 'a session over [::1]:pop3port (postern-pop3): ptpop2\'s maildrop')
        p.quit()
        check(logged('pop3', r'login user=ptpop2 ip=::1 tls=no'), 'log/pop3: login ip=::1 tls=no')
        with socket.create_connection(('::1', PORT_S), timeout=30) as raw:
            with ctx.wrap_socket(raw) as t:
                check(t.version() == 'TLSv1.2' and t.recv(200).startswith(b'+OK pop.example.org'),
                      'a TLS handshake on [::1]:pop3sport (postern-pop3s), then the greeting')
    else:
        for what in ('a session over [::1]:pop3port', 'log/pop3: ip=::1', 'a TLS handshake on [::1]:pop3sport'):
            check(True, '%s # skip no ::1 on this machine: the listeners bind 127.0.0.1 alone' % what)

    # --- AUTH PLAIN ----------------------------------------------------------------
    s = socket.create_connection(('127.0.0.1', PORT), timeout=30)
    f = s.makefile('rwb')
    f.readline()
    f.write(b'AUTH PLAIN ' + base64.b64encode(b'\0ptpop2\0' + PASSWORDS['ptpop2'].encode()) + b'\r\n')
    f.flush()
    check(f.readline().startswith(b'+OK'), 'AUTH PLAIN logs ptpop2 in')
    f.write(b'STAT\r\nQUIT\r\n')
    f.flush()
    check(f.readline().startswith(b'+OK 0 0') and f.readline().startswith(b'+OK'),
          'then STAT and QUIT pipelined to postern-pop3d')
    s.close()

    # --- a virtual mailbox ------------------------------------------------------------
    sendmail('box@virt.test', 'to the box')
    check(wait_for(lambda: len(files(vbox + '/Maildir', 'new')) == 1, 20), 'a message delivered to box@virt.test')
    p = pop('box@virt.test')
    check(p.stat()[0] == 1 and b'Subject: to the box' in p.retr(1)[1], 'box@virt.test reads it over POP3')
    check(len(proc_of('postern-pop3d', 'postern-vmail')) == 1, 'as postern-vmail')
    p.quit()

    # --- a change of password, without a restart --------------------------------
    PASSWORDS['ptpop2'] = 'a new one'
    check(passwd('set', 'ptpop2', data=b'a new one\n').returncode == 0, 'postern-passwd set ptpop2 again')
    p = pop('ptpop2')
    check(p.stat()[0] == 0, 'the new password works at once')
    p.quit()
    check(passwd('delete', 'ptpop2').returncode == 0, 'postern-passwd delete ptpop2')
    p = pop()
    p.user('ptpop2')
    try:
        p.pass_('a new one')
        r = b''
    except poplib.error_proto as e:
        r = e.args[0]
    check(r.startswith(b'-ERR [AUTH]'), 'and then it logs in no more')
    p.sock.close()

    # --- two sessions at once -----------------------------------------------------
    a, b = pop('ptpop1'), pop('ptpop1')
    check(a.stat()[0] == 3 and b.stat()[0] == 3, 'two sessions of one user at once')
    a.quit()
    b.quit()

    # --- no password anywhere but the file -----------------------------------------
    logs = H.all_logs()
    found = [p for p in list(PASSWORDS.values()) + ['wrongpass1', 'whatever'] if p in logs]
    check(not found, 'no password in any log %s' % found)
finally:
    H.cleanup()
done()
