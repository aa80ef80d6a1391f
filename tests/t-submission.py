#!/usr/bin/env python3
"""Mail submission end to end (RFC 6409, RFC 4954, RFC 8314): ./install
into a scratch home, the real services under a real s6-svscan
(postern-submission and postern-smtps, postern-auth, postern-tlsd and
postern-keys, postern-send for delivery), real Unix users made here,
passwords set with postern-passwd, and Python's smtplib and swaks as the
mail clients: STARTTLS then AUTH on port 587, implicit TLS on 465, a
virtual mailbox's login, relay to another domain after AUTH, and the
refusals (530 before AUTH, 538 in clear, 535 for a wrong password); and
the same two listeners on [::1] too, each one process for both addresses.
The listeners and their postern-smtpd run as postern-submit (read from
/proc), and postern-auth answers a check from that uid but none from
port 25's postern-smtpd's.

The s6-svscan runs in a network namespace of its own, NP, with the real
ports 587 and 465 on all its addresses: its loopback, and 10.98.0.1 on
a veth pair whose other end, 10.98.0.2, is in a second namespace, NC, the
mail clients' (not loopback: there AUTH wants TLS); the listeners take
NP's ::1 too (control/submissionip6's default), once its loopback is up.  The test itself
stays in the machine's namespace and enters NP or NC only to open a
connection (setns), so nothing here binds a port of this machine, and
postern-remote, routed to a dead port, reaches no other host.  Run as
root."""
import base64, glob, os, pwd, re, smtplib, socket, ssl, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import service_test
from installed import Installed, ids, run, runs_as
from netns import netns
from tap import check, done, wait_for

H = Installed()
HOME, USERS = H.home, H.users
ctl, logged = H.ctl, H.logged
NP, NC = 'ptsp%d' % os.getpid(), 'ptsc%d' % os.getpid()  # unique to this run
VP, VC = 'ptvp%d' % os.getpid(), 'ptvc%d' % os.getpid()
SERVER = '10.98.0.1'  # postern's address on the veth, in NP
PORT, PORT_S = 587, 465
ME = 'sub.example.org'
NAMES = ('ptsub1', 'ptsub2')
PASSWORDS = {'ptsub1': 'first user pw', 'ptsub2': 'pw-two:with colon', 'box@virt.test': 'virtual pw'}


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # ./install's self-signed certificate
    return ctx


def client(ns=NC, host=SERVER, port=PORT, implicit=False):
    """an smtplib session opened from namespace ns, EHLO said"""
    with netns(ns):
        if implicit:
            s = smtplib.SMTP_SSL(host, port, local_hostname='client.example', timeout=30, context=tls_context())
        else:
            s = smtplib.SMTP(host, port, local_hostname='client.example', timeout=30)
    s.ehlo()
    return s


def starttls(s):
    s.starttls(context=tls_context())
    s.ehlo()


def auth(s, user, password, mech='PLAIN'):
    """AUTH with one mechanism only (smtplib's login() would try the next
    after a 535, and each wrong password costs a pause): (code, text)"""
    s.user, s.password = user, password
    try:
        return s.auth(mech, s.auth_plain if mech == 'PLAIN' else s.auth_login)
    except smtplib.SMTPAuthenticationError as e:
        return e.smtp_code, e.smtp_error


def send(s, rcpt, subject, sender='ptsub1@' + ME):
    """(code, text) of the end of the message, or of the refusal"""
    msg = 'From: %s\r\nTo: %s\r\nSubject: %s\r\n\r\nhello\r\n' % (sender, rcpt, subject)
    try:
        s.sendmail(sender, [rcpt], msg)
        return 250, b''
    except smtplib.SMTPRecipientsRefused as e:
        return e.recipients[rcpt]
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as e:
        return e.smtp_code, e.smtp_error


def plain(user, password):
    return base64.b64encode(('\0%s\0%s' % (user, password)).encode()).decode()


def delivered(box, subject, secs=20):
    """the message of that subject in box/new, headers unfolded, or ''"""
    found = []

    def look():
        for f in glob.glob(os.path.join(box, 'new', '*')):
            t = open(f, errors='replace').read()
            if re.search(r'^Subject: %s$' % re.escape(subject), t, re.M):
                found.append(re.sub(r'\n[ \t]+', ' ', t.split('\n\n', 1)[0]))
                return True
        return False
    wait_for(look, secs)
    return found[0] if found else ''


def received_with(head):
    """the 'with' of the first Received line postern-smtpd wrote"""
    m = re.search(r'^Received: from .*?\bwith (E?SMTP\w*)', head, re.M)
    return m.group(1) if m else ''


def listening(ns, host, port):
    try:
        with netns(ns):
            s = socket.create_connection((host, port), 1)
        s.close()
        return True
    except OSError:
        return False


def check_as(user, record):
    """record sent to HOME/run/auth/socket from a child process of user
    (its uid, its primary group, no other): the answer, b'' when closed
    unanswered, None when the child failed"""
    pw = pwd.getpwnam(user)
    return service_test.ask_as(os.path.join(HOME, 'run', 'auth', 'socket'), pw.pw_uid, pw.pw_gid, record)


try:
    H.install('the submission services')
    for s_ in ('postern-submission', 'postern-smtps'):
        check(os.path.isfile(os.path.join(HOME, 'service', s_, 'run')) and
              os.path.isdir(os.path.join(HOME, 'log', s_[len('postern-'):])), 'service %s and its log directory' % s_)

    # The two namespaces and the link between them.
    ok = all(run(*c).returncode == 0 for c in (
        ('ip', 'netns', 'add', NP), ('ip', 'netns', 'add', NC),
        ('ip', 'link', 'add', VP, 'type', 'veth', 'peer', 'name', VC),
        ('ip', 'link', 'set', VP, 'netns', NP), ('ip', 'link', 'set', VC, 'netns', NC),
        ('ip', '-n', NP, 'addr', 'add', SERVER + '/24', 'dev', VP),
        ('ip', '-n', NC, 'addr', 'add', '10.98.0.2/24', 'dev', VC),
        ('ip', '-n', NP, 'link', 'set', 'lo', 'up'), ('ip', '-n', NC, 'link', 'set', 'lo', 'up'),
        ('ip', '-n', NP, 'link', 'set', VP, 'up'), ('ip', '-n', NC, 'link', 'set', VC, 'up')))
    if not check(ok, 'network namespaces %s (postern) and %s (the clients), a veth pair between them' % (NP, NC)):
        raise SystemExit(1)

    ctl('me', ME)
    ctl('virtualdomains', 'virt.test')
    ctl('submissionip', '0')  # every address of NP: its loopback and the veth
    # Remote mail goes to a port where nothing listens: it waits in the queue.
    ctl('smtproutes', ':[127.0.0.1]:1')
    for n in NAMES:
        check(H.make_user(n), 'test user %s' % n)
    H.vmail('virt.test', 'box')
    check(H.prog('postern-mkrcpt').returncode == 0, 'postern-mkrcpt: the new users and the mailbox are recipients')
    for u, pw_ in PASSWORDS.items():
        check(H.prog('postern-passwd', 'set', u, data=(pw_ + '\n').encode()).returncode == 0,
              'postern-passwd set %s' % u)

    # ::1 on NP's loopback (as on any namespace's once lo is up, unless IPv6 is off)
    IPV6 = re.search(r'^0{31}1 ', run('ip', 'netns', 'exec', NP, 'cat', '/proc/net/if_inet6').stdout.decode(),
                     re.M) is not None
    H.start('ip', 'netns', 'exec', NP)
    for s_ in ('postern-send', 'postern-tlsd', 'postern-keys', 'postern-auth', 'postern-submission', 'postern-smtps'):
        check(H.svc_up(s_), 'service %s is up' % s_)
    check(wait_for(lambda: listening(NC, SERVER, PORT) and listening(NC, SERVER, PORT_S), 10),
          'ports 587 and 465 answer on %s' % SERVER)

    box1 = os.path.join(USERS, 'ptsub1', 'Maildir')
    box2 = os.path.join(USERS, 'ptsub2', 'Maildir')

    # --- who runs it: postern-submit, not port 25's postern-smtpd ------------------
    submit, smtpd_user = pwd.getpwnam('postern-submit'), pwd.getpwnam('postern-smtpd')
    check(submit.pw_uid != smtpd_user.pw_uid and submit.pw_uid != 0 and
          submit.pw_dir == '/nonexistent' and submit.pw_gid == smtpd_user.pw_gid,
          'postern-submit: a uid of its own, group postern-nofiles (as postern-smtpd\'s), home /nonexistent')
    found = H.procs('postern-listen')   # (not a child of one between its fork and its exec)
    prog = HOME + '/bin/postern-smtpd'
    listeners = {pid: argv for pid, (pp, argv) in found.items()
                 if pp not in found and (argv[-2:] == [prog, '-a'] or argv[-3:] == [prog, '-a', '-s'])}
    addresses = '0,::1' if IPV6 else '0'
    # no other group: the SRS key is postern-srs's, which they ask (doc/srs.md)
    check(len(listeners) == 2 and all(runs_as(p, 'postern-submit') for p in listeners),
          'the 2 submission listeners (587, 465) run as postern-submit:postern-nofiles, with no other group (%s)'
          % ({p: ids(p) for p in listeners},))
    check(all(argv[argv.index(prog) - 2] == addresses for argv in listeners.values()),
          'each binds %s: control/submissionip and submissionip6 in one process (%s)'
          % (addresses, [argv[-5:] for argv in listeners.values()]))
    s = client()   # a session held open on 587, and one on 465 inside TLS
    s465 = client(port=PORT_S, implicit=True)
    kids = {}

    def sessions():   # the earlier probes' sessions may still be leaving
        kids.clear()
        kids.update({pid: pp for pid, (pp, argv) in H.procs('postern-smtpd').items() if pp in listeners})
        return len(kids) == 2
    check(wait_for(sessions, 10) and len(set(kids.values())) == 2 and all(runs_as(p, 'postern-submit') for p in kids),
          'their postern-smtpd -a, one per session on each port, run as postern-submit, no other group either (%s)'
          % {p: ids(p)[0] for p in kids})
    s.quit()
    s465.quit()
    # postern-auth checks for postern-submit's uid alone: port 25's
    # postern-smtpd, taken over, could otherwise check guesses there
    # without a session's pause and limit.

    def crec(user, password):   # doc/pop3.md: C USER NUL PASSWORD NUL REMOTEIP NUL
        return b'C' + b''.join(f.encode() + b'\x00' for f in (user, password, '127.0.0.1'))
    rec_ = crec('ptsub2', PASSWORDS['ptsub2'])
    a = (check_as('postern-submit', rec_), check_as('postern-submit', crec('ptsub2', 'not it')))
    check(a == (b'K', b'N'), 'a C request from postern-submit\'s uid to run/auth/socket: K for the password, '
          'N for another %r' % (a,))
    a = check_as('postern-smtpd', rec_)
    check(a == b'' and logged('auth', r'refused uid=%d why="uid not served"' % smtpd_user.pw_uid),
          'the same from port 25\'s postern-smtpd\'s uid: closed unanswered, log/auth: uid not served %r' % (a,))

    # --- port 587 from afar: STARTTLS first ----------------------------------------
    s = client()
    check(s.has_extn('starttls') and not s.has_extn('auth'), 'EHLO in clear from afar: STARTTLS, no AUTH')
    code, text = s.docmd('AUTH', 'PLAIN ' + plain('ptsub1', PASSWORDS['ptsub1']))
    check(code == 538 and text.startswith(b'5.7.11'), 'AUTH in clear from afar: 538 5.7.11 (%d)' % code)
    code, text = s.docmd('MAIL', 'FROM:<ptsub1@%s>' % ME)
    check(code == 530 and text.startswith(b'5.7.0'), 'MAIL before AUTH: 530 5.7.0 (%d)' % code)
    s.rset()
    starttls(s)
    check(s.sock.version() == 'TLSv1.2', 'STARTTLS: TLSv1.2')
    check(s.has_extn('auth') and set(s.esmtp_features['auth'].upper().split()) >= {'PLAIN', 'LOGIN'} and
          not s.has_extn('starttls'), 'EHLO inside TLS: AUTH PLAIN LOGIN (%s)' % s.esmtp_features.get('auth'))
    check(s.has_extn('dsn'), 'EHLO on the submission port lists DSN too (doc/dsn.md: every port)')
    code, text = s.docmd('MAIL', 'FROM:<ptsub1@%s>' % ME)
    check(code == 530, 'MAIL inside TLS but before AUTH: 530 (%d)' % code)
    s.rset()
    # (two refusals: the third in a session ends it)
    check(auth(s, 'ptsub1', 'wrongpass1')[0] == 535, 'a wrong password: 535')
    check(auth(s, 'nosuchuser', 'whatever')[0] == 535, 'an unknown user: 535 as well')
    check(auth(s, 'ptsub1', PASSWORDS['ptsub1'])[0] == 235, 'AUTH PLAIN with the password of postern-passwd: 235')
    code, text = send(s, 'ptsub2@' + ME, 'over 587')
    check(code == 250, 'a message to a local user: 250 (%d %s)' % (code, text))
    code, text = send(s, 'someone@remote.example', 'to another domain')
    check(code == 250, 'a message to another domain, relayed after AUTH: 250 (%d %s)' % (code, text))
    code, text = send(s, 'ptsub2@' + ME, 'as another', sender='ptsub2@' + ME)
    check(code == 553, 'but not as another user: 553 (%d %s)' % (code, text))
    s.quit()
    head = delivered(box2, 'over 587')
    check(head != '', 'delivered to ptsub2\'s Maildir')
    check(received_with(head) == 'ESMTPSA', 'its Received line says "with ESMTPSA" (%s)' % received_with(head))
    q = H.prog('postern-qstat').stdout.decode(errors='replace')
    check(re.search(r'from <ptsub1@%s>\n\s*to <someone@remote\.example>' % re.escape(ME), q) is not None,
          'the one to remote.example waits in the queue (postern-qstat)')
    check(logged('submission', r'\bauth .*\buser=ptsub1\b'), 'log/submission: the login of ptsub1')
    check(logged('submission', r'\bauth_failed .*\buser=ptsub1\b'), 'log/submission: and its wrong password')

    # --- port 465: implicit TLS ---------------------------------------------------------
    s = client(port=PORT_S, implicit=True)
    check(s.sock.version() == 'TLSv1.2' and s.has_extn('auth') and not s.has_extn('starttls'),
          'port 465: TLSv1.2 from the first byte, EHLO offers AUTH and no STARTTLS')
    code, text = s.docmd('MAIL', 'FROM:<box@virt.test>')
    check(code == 530, 'port 465, MAIL before AUTH: 530 (%d)' % code)
    s.rset()
    check(auth(s, 'box@virt.test', PASSWORDS['ptsub1'], 'LOGIN')[0] == 535, 'one user\'s password is not another\'s: 535')
    check(auth(s, 'box@virt.test', PASSWORDS['box@virt.test'], 'LOGIN')[0] == 235,
          'AUTH LOGIN as the virtual mailbox box@virt.test: 235')
    code, text = send(s, 'ptsub1@' + ME, 'over 465', sender='box@virt.test')
    check(code == 250, 'a message from it to a local user: 250 (%d %s)' % (code, text))
    s.quit()
    head = delivered(box1, 'over 465')
    check(head != '' and received_with(head) == 'ESMTPSA', 'delivered to ptsub1, "with ESMTPSA" (%s)' % received_with(head))
    check(logged('smtps', r'\bauth .*\buser=box@virt\.test\b'), 'log/smtps: the login of box@virt.test')

    # --- swaks, a client nobody here wrote ------------------------------------------------
    r = run('ip', 'netns', 'exec', NC, 'swaks', '--server', '%s:%d' % (SERVER, PORT), '--tls', '--auth', 'LOGIN',
            '--auth-user', 'ptsub2', '--auth-password', PASSWORDS['ptsub2'], '--from', 'ptsub2@' + ME,
            '--to', 'ptsub1@' + ME, '--header', 'Subject: from swaks', '--helo', 'client.example')
    out = r.stdout.decode(errors='replace')
    check(r.returncode == 0 and re.search(r'^<~\s+235 ', out, re.M) and re.search(r'^<~\s+250 ', out, re.M),
          'swaks --tls --auth LOGIN on port 587: 235, then 250 (exit %d)' % r.returncode)
    if r.returncode:
        print('# ' + '\n# '.join(out.splitlines()[-8:]))
    check(received_with(delivered(box1, 'from swaks')) == 'ESMTPSA', 'and it is delivered, "with ESMTPSA"')
    r = run('ip', 'netns', 'exec', NC, 'swaks', '--server', '%s:%d' % (SERVER, PORT_S), '--tlsc', '--auth', 'PLAIN',
            '--auth-user', 'box@virt.test', '--auth-password', PASSWORDS['box@virt.test'], '--from', 'box@virt.test',
            '--to', 'ptsub2@' + ME, '--header', 'Subject: swaks on 465', '--helo', 'client.example')
    check(r.returncode == 0, 'swaks --tlsc --auth PLAIN on port 465 (exit %d)' % r.returncode)
    check(delivered(box2, 'swaks on 465') != '', 'and it is delivered')

    # --- loopback: AUTH in clear is allowed ------------------------------------------------
    s = client(NP, '127.0.0.1')
    check(s.has_extn('auth'), 'EHLO in clear from loopback offers AUTH')
    check(auth(s, 'ptsub2', PASSWORDS['ptsub2'])[0] == 235, 'and AUTH PLAIN in clear from loopback: 235')
    code, text = send(s, 'ptsub2@' + ME, 'loopback in clear', sender='ptsub2@' + ME)
    check(code == 250, 'a message: 250 (%d)' % code)
    s.quit()
    check(received_with(delivered(box2, 'loopback in clear')) == 'ESMTPA', 'delivered, "with ESMTPA" (no TLS)')

    # --- IPv6: the same listeners on NP's [::1] --------------------------------------
    if IPV6 and wait_for(lambda: listening(NP, '::1', PORT) and listening(NP, '::1', PORT_S), 10):
        s = client(NP, '::1')
        check(s.has_extn('auth') and auth(s, 'ptsub2', PASSWORDS['ptsub2'])[0] == 235,
              'port 587 on [::1] (postern-submission): AUTH PLAIN in clear from loopback, 235')
        code, text = send(s, 'ptsub2@' + ME, 'over ipv6', sender='ptsub2@' + ME)
        check(code == 250, 'a message over [::1]:587: 250 (%d)' % code)
        s.quit()
        check(received_with(delivered(box2, 'over ipv6')) == 'ESMTPA', 'delivered, "with ESMTPA"')
        check(logged('submission', r'\bauth .*\buser=ptsub2\b.*\bip=::1\b|\bip=::1\b.*\buser=ptsub2\b'),
              'log/submission: the login of ptsub2 from ::1')
        s = client(NP, '::1', PORT_S, implicit=True)
        check(s.sock.version() == 'TLSv1.2' and s.has_extn('auth'),
              'port 465 on [::1] (postern-smtps): TLSv1.2 from the first byte, then AUTH offered')
        s.quit()
    elif IPV6:
        check(False, 'ports 587 and 465 answer on [::1] in %s' % NP)
    else:
        for what in ('port 587 on [::1]', 'a message over [::1]:587', 'delivered', 'log/submission: ip=::1',
                     'port 465 on [::1]'):
            check(True, '%s # skip no ::1 in %s: the listeners bind IPv4 alone' % (what, NP))

    # --- control/submissionplaintext 1: AUTH in clear from anywhere, at the next connection ---
    ctl('submissionplaintext', '1')
    s = client()
    check(s.has_extn('auth') and auth(s, 'ptsub1', PASSWORDS['ptsub1'])[0] == 235,
          'submissionplaintext 1: AUTH offered and taken in clear from afar')
    s.quit()
    ctl('submissionplaintext', '0')
    s = client()
    check(not s.has_extn('auth') and s.docmd('AUTH', 'PLAIN ' + plain('ptsub1', PASSWORDS['ptsub1']))[0] == 538,
          'submissionplaintext 0 again: 538 in clear')
    s.quit()

    # --- a change of password, without a restart -------------------------------------------
    PASSWORDS['ptsub1'] = 'a new one'
    check(H.prog('postern-passwd', 'set', 'ptsub1', data=b'a new one\n').returncode == 0,
          'postern-passwd set ptsub1 again')
    s = client(port=PORT_S, implicit=True)
    check(auth(s, 'ptsub1', 'first user pw')[0] == 535, 'the old password: 535')
    check(auth(s, 'ptsub1', 'a new one')[0] == 235, 'the new one: 235')
    s.quit()

    # --- no password anywhere but the file -------------------------------------------------
    logs = H.all_logs()
    found = [p for p in list(PASSWORDS.values()) + ['first user pw', 'wrongpass1', 'whatever'] if p in logs]
    check(not found, 'no password in any log %s' % found)
finally:
    H.cleanup()
    for ns in (NP, NC):
        run('ip', 'netns', 'del', ns)
done()
