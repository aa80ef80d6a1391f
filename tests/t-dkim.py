#!/usr/bin/python3
"""DKIM signing end to end (doc/dkim.md): ./install into a scratch home,
keys made with the installed postern-dkimkey (RSA and Ed25519), their DNS
records served by a real DNS server on loopback (unbound, on a free port),
the real services under a real s6-svscan (postern-dkim, postern-auth,
postern-submission, postern-smtpd, postern-send), mail sent through
submission with smtplib (AUTH on loopback) and by the installed sendmail
as a real local user, and the signatures checked by two verifiers written
by others, dkimpy (python3-dkim) and Perl's Mail::DKIM, both asking that
DNS server: on the delivered Maildir file, and as it arrives over SMTP at
another host (an aiosmtpd sink that postern-remote relays to).  Mail from
port 25 is never signed; a domain without keys goes unsigned; a
subdomain is signed by its parent; postern-dkim down is 451, never
unsigned.  Run as root."""
import glob, os, pwd, re, smtplib, subprocess, sys, tempfile, threading, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from installed import Installed, run
from smtptest import free_port
from tap import check, done, wait_for

import dkim
import dns.resolver
from aiosmtpd.controller import Controller

H = Installed()
HOME, USERS = H.home, H.users
ctl, make_user, logged, svc_up = H.ctl, H.make_user, H.logged, H.svc_up
SMTPPORT, SUBPORT, SINKPORT, DNSPORT = free_port(), free_port(), free_port(), free_port()
DOM = 'example.test'
USER = 'ptdkim1'
PASSWORD = 'dkim test password'
unbound = None


class Sink:
    """what postern-remote delivers to another host, as it came over the wire"""
    def __init__(self):
        self.got = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith('nobody@'):
            return '550 5.1.1 no such user here'
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        self.got.append(envelope.original_content)
        return '250 OK'


def txt_records(printed):
    """the record postern-dkimkey printed: (name, the TXT text joined)"""
    name = printed.split()[0]
    return name.rstrip('.'), ''.join(re.findall(r'"([^"]*)"', printed))


def start_dns(records):
    d = tempfile.mkdtemp(prefix='postern-dkim-dns.', dir='/tmp')
    with open(os.path.join(d, 'unbound.conf'), 'w') as f:
        f.write('server:\n\tinterface: 127.0.0.1\n\tport: %d\n\tdo-ip6: no\n\taccess-control: 127.0.0.0/8 allow\n'
                '\tusername: ""\n\tchroot: ""\n\tdirectory: "%s"\n\tpidfile: "%s/unbound.pid"\n'
                '\tdo-daemonize: no\n\tuse-syslog: no\n\tlogfile: "%s/unbound.log"\n'
                '\tmodule-config: "iterator"\n\tlocal-zone: "test." static\n' % (DNSPORT, d, d, d))
        for name, text in records:
            chunks = ' '.join('"%s"' % text[i:i + 250] for i in range(0, len(text), 250))
            f.write("\tlocal-data: '%s. TXT %s'\n" % (name, chunks))
        f.write('remote-control:\n\tcontrol-enable: no\n')
    return subprocess.Popen(['unbound', '-d', '-c', os.path.join(d, 'unbound.conf')],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), d


RES = dns.resolver.Resolver(configure=False)
RES.nameservers = ['127.0.0.1']
RES.port = DNSPORT


def dnsfunc(name, timeout=5):
    if isinstance(name, bytes):
        name = name.decode()
    try:
        a = RES.resolve(name, 'TXT', lifetime=timeout)
    except Exception:
        return b''
    return b''.join(b''.join(r.strings) for r in a)


def crlf(msg):
    return re.sub(rb'\r?\n', b'\r\n', msg)


def dkimpy(msg):
    """each signature's verdict by dkimpy, in order: [(True/False, d, a)]"""
    msg = crlf(msg)
    d = dkim.DKIM(msg)
    n = len(re.findall(rb'(?im)^dkim-signature:', msg.split(b'\r\n\r\n', 1)[0]))
    out = []
    for i in range(n):
        try:
            ok = d.verify(idx=i, dnsfunc=dnsfunc)
        except Exception as e:
            print('# dkimpy: %s' % e)
            ok = False
        out.append((bool(ok), d.domain.decode() if d.domain else None,
                    d.signature_fields.get(b'a', b'').decode()))
    return out


PERL = r'''
use strict; use Mail::DKIM::Verifier; use Net::DNS::Resolver;
Mail::DKIM::DNS::resolver(Net::DNS::Resolver->new(nameservers => ['127.0.0.1'], port => $ARGV[0], recurse => 1));
my $v = Mail::DKIM::Verifier->new();
binmode STDIN;
while (my $l = <STDIN>) { $l =~ s/\r?\n\z/\r\n/; $v->PRINT($l); }
$v->CLOSE;
print join(' ', map { $_->result . '=' . $_->algorithm . '=' . $_->domain . ($_->result eq 'pass' ? '' : '=' . ($_->result_detail =~ s/ /_/gr)) } $v->signatures), "\n";
'''


def maildkim(msg):
    """Mail::DKIM's verdicts: ['pass=rsa-sha256=example.test', ...]"""
    r = subprocess.run(['perl', '-e', PERL, str(DNSPORT)], input=msg, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if r.returncode:
        print('# ' + r.stderr.decode(errors='replace').replace('\n', '\n# '))
    return r.stdout.decode().split()


def all_pass(msg, what, d=DOM, n=2):
    v = dkimpy(msg)
    check(len(v) == n and all(ok and dom == d for ok, dom, a in v)
          and sorted(a for ok, dom, a in v) == sorted(['rsa-sha256', 'ed25519-sha256'][:n] if n == 2 else [a for _, _, a in v]),
          '%s: dkimpy passes its %d signature(s), d=%s' % (what, n, d))
    if n != len(v) or not all(ok for ok, _, _ in v):
        print('# dkimpy: %r' % v)
    # Debian 12's Mail::DKIM knows no Ed25519: it must pass the RSA
    # signature and call the other unsupported, not failed (RFC 8463 3:
    # why a domain signs with both)
    m = maildkim(msg)
    good = [x for x in m if x == 'pass=rsa-sha256=' + d or x.startswith('pass=ed25519-sha256=' + d)
            or x == 'invalid=ed25519-sha256=%s=invalid_(unsupported_algorithm_ed25519-sha256)' % d]
    check(len(m) == n and good == m and 'pass=rsa-sha256=' + d in m,
          '%s: Mail::DKIM passes the RSA signature (and does not fail the Ed25519 one)' % what)
    if good != m or len(m) != n:
        print('# Mail::DKIM: %r' % m)


def newest(box, before):
    new = set(glob.glob(os.path.join(box, 'new', '*'))) - before
    return open(sorted(new, key=os.path.getmtime)[-1], 'rb').read() if new else None


def delivered(box, before, secs=20):
    wait_for(lambda: len(set(glob.glob(os.path.join(box, 'new', '*'))) - before) > 0, secs)
    return newest(box, before)


def snapshot(box):
    return set(glob.glob(os.path.join(box, 'new', '*')))


def submit(frm, to, body, subject='hi', bare=False):
    """bare: no Date, no Message-ID (postern-smtpd -a adds them)"""
    msg = ('From: Someone <%s>\r\nTo: <%s>\r\nSubject: %s\r\n' % (frm, to, subject) +
           ('' if bare else 'Date: Mon, 30 Nov 2026 12:00:00 +0000\r\nMessage-ID: <%d.%f@%s>\r\n'
            % (os.getpid(), time.time(), DOM)) + '\r\n' + body)
    s = smtplib.SMTP('127.0.0.1', SUBPORT, timeout=30)
    try:
        s.ehlo('client.test')
        s.login(USER, PASSWORD)
        s.sendmail(frm, [to], msg.encode())
        return None
    except smtplib.SMTPException as e:
        return e
    finally:
        try:
            s.quit()
        except Exception:
            pass


def sendmail_as(user, frm, to, body, env=None):
    pw = pwd.getpwnam(user)

    def become():
        os.setgroups([])
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
    msg = 'From: %s\nTo: %s\nSubject: local\n\n%s' % (frm, to, body)
    return subprocess.run([os.path.join(HOME, 'bin', 'sendmail'), '-f', frm, to], input=msg.encode(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=become, cwd='/')


sink = Sink()
controller = None
try:
    H.install('the DKIM layout')
    st = os.stat(os.path.join(HOME, 'secret', 'dkim'))
    check(pwd.getpwuid(st.st_uid).pw_name == 'postern-dkim' and st.st_mode & 0o777 == 0o700,
          'secret/dkim is postern-dkim\'s alone (0700)')
    for prog, mode in (('postern-dkim', 0o711), ('postern-dkimkey', 0o700), ('postern-dkimsign', 0o755)):
        check(os.stat(os.path.join(HOME, 'bin', prog)).st_mode & 0o7777 == mode, 'bin/%s is %o' % (prog, mode))

    r_rsa = H.prog('postern-dkimkey', '-t', 'rsa', DOM, 'rsa1')
    r_ed = H.prog('postern-dkimkey', '-t', 'ed25519', DOM, 'ed1')
    check(r_rsa.returncode == 0 and r_ed.returncode == 0, 'postern-dkimkey makes an RSA and an Ed25519 key')
    r_2 = H.prog('postern-dkimkey', '-t', 'ed25519', 'second.test', 'ed2')
    records = [txt_records(r_rsa.stdout.decode()), txt_records(r_ed.stdout.decode()),
               txt_records(r_2.stdout.decode())]
    check(records[0][0] == 'rsa1._domainkey.' + DOM and 'k=rsa' in records[0][1]
          and records[1][0] == 'ed1._domainkey.' + DOM and 'k=ed25519' in records[1][1],
          'and prints their DNS records')
    unbound, dnsdir = start_dns(records)
    check(wait_for(lambda: dnsfunc('rsa1._domainkey.' + DOM) != b'', 10), 'the test DNS serves the records')

    controller = Controller(sink, hostname='127.0.0.1', port=SINKPORT)
    controller.start()

    ctl('me', DOM)
    ctl('locals', DOM)
    ctl('smtpport', str(SMTPPORT))
    ctl('submissionport', str(SUBPORT))
    ctl('smtpsport', str(free_port()))
    ctl('pop3port', str(free_port()))
    ctl('pop3sport', str(free_port()))
    ctl('smtproutes', 'elsewhere.test:[127.0.0.1]:%d' % SINKPORT)
    ctl('remotetls', ':none')
    ctl('dkimdomains', '%s rsa1\n%s ed1\nsecond.test ed2' % (DOM, DOM))
    check(make_user(USER), 'test user ' + USER)
    check(H.prog('postern-passwd', 'set', USER, data=(PASSWORD + '\n').encode()).returncode == 0,
          'postern-passwd set ' + USER)
    check(run(os.path.join(HOME, 'bin', 'postern-mkrcpt')).returncode == 0, 'postern-mkrcpt')
    box = os.path.join(USERS, USER, 'Maildir')

    H.start()
    for s in ('postern-send', 'postern-dkim', 'postern-auth', 'postern-submission', 'postern-smtpd',
              'postern-tlsd', 'postern-keys'):
        check(svc_up(s), 'service %s is up' % s)
    check(wait_for(lambda: run('python3', '-c', 'import socket; socket.create_connection(("127.0.0.1", %d), 1)'
                               % SUBPORT).returncode == 0, 10), 'the submission listener answers')
    check(logged('dkim', r'keys n=3'), 'postern-dkim logs its three keys')

    # --- submission, delivered locally ---------------------------------------------
    before = snapshot(box)
    body = 'one line  with   runs\t \r\ntrailing space   \r\n\r\n\r\n'
    check(submit('%s@%s' % (USER, DOM), '%s@%s' % (USER, DOM), body) is None, 'submission takes the message')
    m = delivered(box, before)
    check(m is not None and len(re.findall(rb'(?m)^DKIM-Signature:', m)) == 2,
          'it lands with two DKIM-Signature fields')
    if m:
        head = m.split(b'\n\n', 1)[0]
        check(re.search(rb'(?m)^Received: .*\n(?:[ \t].*\n)*DKIM-Signature:', head + b'\n') is not None,
              'the signatures sit under the Received fields the queue and the session put on top')
        check(b'c=relaxed/relaxed' in head and b'd=example.test' in head and b's=rsa1' in head and b's=ed1' in head,
              'relaxed/relaxed, d=example.test, both selectors')
        check(re.search(rb'h=[^;]*from:[^;]*from', head.replace(b'\n\t', b'').replace(b' ', b'')) is not None,
              'From is over-signed (named once more than it occurs)')
        all_pass(m, 'submission to a local mailbox')
        bad = m.replace(b'one line', b'One line')
        check(not any(ok for ok, _, _ in dkimpy(bad)), 'a body changed after signing fails (the verifier checks)')
    check(logged('submission', r'dkim signed d=example\.test s=rsa1 a=rsa-sha256 s=ed1 a=ed25519-sha256'),
          'the session\'s log says it signed, with what')
    # A message without Date and Message-ID: the fields submission adds
    # are signed with the rest (RFC 6409 8.2, 8.3; doc/smtp.md).
    before = snapshot(box)
    check(submit('%s@%s' % (USER, DOM), '%s@%s' % (USER, DOM), 'bare\r\n', subject='bare', bare=True) is None,
          'submission takes a message without Date and Message-ID')
    m = delivered(box, before)
    if m:
        head = m.split(b'\n\n', 1)[0]
        flat = head.replace(b'\n\t', b'').replace(b' ', b'')
        hs = re.findall(rb'(?m)^DKIM-Signature:.*?h=([^;]*)', flat)
        check(len(re.findall(rb'(?m)^Date: ', head)) == 1 and len(re.findall(rb'(?m)^Message-ID: <', head)) == 1,
              'it lands with the Date and the Message-ID submission added, one of each')
        check(len(hs) == 2 and all(b'date' in h.lower().split(b':') and b'message-id' in h.lower().split(b':')
                                   for h in hs), 'both signatures name date and message-id in h= (%r)' % hs)
        all_pass(m, 'a message submission completed')
    else:
        check(False, 'it lands with the Date and the Message-ID submission added, one of each')
        check(False, 'both signatures name date and message-id in h=')
    uid = pwd.getpwnam('postern-submit').pw_uid
    check(logged('dkim', r'sign uid=%d d=example\.test s=rsa1 a=rsa-sha256' % uid)
          and logged('dkim', r'sign uid=%d d=example\.test s=ed1 a=ed25519-sha256' % uid),
          'postern-dkim logs each signature with the asker\'s uid (postern-submit)')

    # --- relayed: as another host receives it over SMTP ----------------------------
    n0 = len(sink.got)
    big = ''.join('line %d of a longer message, with 8 bit: \u00e9\r\n' % i for i in range(2000))
    check(submit('%s@%s' % (USER, DOM), 'someone@elsewhere.test', big) is None, 'submission relays to elsewhere.test')
    check(wait_for(lambda: len(sink.got) > n0, 30), 'the sink gets it from postern-remote')
    if len(sink.got) > n0:
        all_pass(sink.got[-1], 'relayed over SMTP (CRLF, dot-stuffing undone)')

    # --- a bounce postern-send makes is signed as control/me's domain --------------------
    before = snapshot(box)
    check(submit('%s@%s' % (USER, DOM), 'nobody@elsewhere.test', 'to be refused\r\n') is None,
          'submission takes mail the other host will refuse (550)')
    m = delivered(box, before, 30)
    check(m is not None and re.search(rb'(?m)^From: MAILER-DAEMON@example\.test', m) is not None
          and b'no such user here' in m, 'the bounce comes back to the sender')
    if m:
        all_pass(m, 'the bounce (From MAILER-DAEMON@example.test)')
    send_uid = pwd.getpwnam('postern-send').pw_uid
    check(logged('dkim', r'sign uid=%d d=example\.test s=rsa1' % send_uid),
          'postern-dkim logs the bounce\'s signatures with postern-send\'s uid')
    # postern-send's uid gets signatures for control/me's domain alone: a
    # signer run as postern-send for second.test (which has a key) is answered N
    sm = 'From: x@second.test\nTo: %s@%s\nSubject: not a bounce\n\nbody\n' % (USER, DOM)
    env = b'F\0T%s@%s\0\0' % (USER.encode(), DOM.encode())
    envr, envw = os.pipe()
    os.write(envw, env)
    os.close(envw)
    before = snapshot(box)
    r = subprocess.run(['setpriv', '--reuid=postern-send', '--regid=postern', '--clear-groups',
                        os.path.join(HOME, 'bin', 'postern-dkimsign'), '-v', '-d', 'second.test'],
                       input=sm.encode(), stdout=envr, stderr=subprocess.PIPE)
    os.close(envr)
    m = delivered(box, before)
    check(r.returncode == 0 and m is not None and b'DKIM-Signature' not in m,
          'postern-send\'s uid asking for second.test: queued unsigned (%d %r)' % (r.returncode, r.stderr[-200:]))
    check(not logged('dkim', r'sign uid=%d d=second\.test' % send_uid), 'and postern-dkim signed nothing for it')

    # --- a subdomain, and a domain without keys --------------------------------------
    ctl('submissionsenders', '0')
    before = snapshot(box)
    check(submit('%s@lists.%s' % (USER, DOM), '%s@%s' % (USER, DOM), 'from a subdomain\r\n') is None,
          'submission takes mail from a subdomain (submissionsenders 0)')
    m = delivered(box, before)
    if m:
        all_pass(m, 'From: a subdomain, signed by its parent')
    before = snapshot(box)
    check(submit('x@second.test', '%s@%s' % (USER, DOM), 'not mine\r\n') is None,
          'a From at a domain with keys that is not the login\'s (second.test)')
    m = delivered(box, before)
    check(m is not None and b'DKIM-Signature' not in m, 'goes unsigned: a login signs for its own domains only')
    check(logged('submission', r'dkim unsigned why=not_a_login_domain from_domain=second\.test'), 'logged so')
    # ... unless control/senderlogins gives the login that one address:
    # then a From of exactly it is signed (postern-dkimsign -f)
    ctl('submissionsenders', '1')
    ctl('senderlogins', 'news@second.test %s  # the newsletter' % USER)
    before = snapshot(box)
    check(submit('news@second.test', '%s@%s' % (USER, DOM), 'the news\r\n') is None,
          'senderlogins: the login sends as news@second.test')
    m = delivered(box, before)
    v = dkimpy(m) if m else []
    check(v == [(True, 'second.test', 'ed25519-sha256')],
          'From news@second.test, granted alone: signed d=second.test (its Ed25519 key), dkimpy passes (%r)' % v)
    ctl('senderlogins', None)
    ctl('submissionsenders', '0')
    before = snapshot(box)
    check(submit('x@other.test', '%s@%s' % (USER, DOM), 'no key here\r\n') is None, 'and from a domain with no key')
    m = delivered(box, before)
    check(m is not None and b'DKIM-Signature' not in m, 'which is delivered unsigned')
    check(logged('submission', r'dkim unsigned why=no_key from_domain=other\.test'), 'and logged why')

    # --- local injection ------------------------------------------------------------
    before = snapshot(box)
    r = sendmail_as(USER, '%s@%s' % (USER, DOM), '%s@%s' % (USER, DOM), 'dkimlocal absent\n')
    m = delivered(box, before)
    check(r.returncode == 0 and m is not None and b'DKIM-Signature' not in m,
          'control/dkimlocal absent (0): local mail goes unsigned')
    ctl('dkimlocal', '1')
    run('s6-svc', '-r', os.path.join(HOME, 'service', 'postern-dkim'))
    time.sleep(0.5)
    check(svc_up('postern-dkim'), 'postern-dkim restarted with control/dkimlocal 1')
    before = snapshot(box)
    r = sendmail_as(USER, '%s@%s' % (USER, DOM), '%s@%s' % (USER, DOM), 'from sendmail\n')
    check(r.returncode == 0 and r.stderr == b'', 'sendmail as %s: exit 0, nothing on stderr' % USER)
    m = delivered(box, before)
    if m:
        all_pass(m, 'local injection by a user')
    check(logged('dkim', r'sign uid=%d d=example\.test' % pwd.getpwnam(USER).pw_uid), 'asked as the user')
    before = snapshot(box)
    r = sendmail_as('postern-alias', '%s@%s' % (USER, DOM), '%s@%s' % (USER, DOM), 'as postern-alias\n')
    m = delivered(box, before)
    check(r.returncode == 0 and m is not None and b'DKIM-Signature' not in m,
          'sendmail as one of postern\'s own users (an alias\'s program): not held up, unsigned')

    # --- port 25 is never signed -----------------------------------------------------
    before = snapshot(box)
    s = smtplib.SMTP('127.0.0.1', SMTPPORT, timeout=30)
    s.sendmail('%s@%s' % (USER, DOM), ['%s@%s' % (USER, DOM)],
               b'From: %s@%s\r\nSubject: forged?\r\n\r\nfrom outside\r\n' % (USER.encode(), DOM.encode()))
    s.quit()
    m = delivered(box, before)
    check(m is not None and b'DKIM-Signature' not in m, 'mail from port 25 claiming the domain is not signed')
    probe = ('import socket, sys\ns = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)\n'
             's.connect(sys.argv[1])\ns.settimeout(5)\n'
             'try:\n    s.send(b"D%s")\n    r = s.recv(100)\nexcept OSError:\n    r = b""\n'
             'print("closed" if r == b"" else repr(r))\n' % DOM)
    smtpd = pwd.getpwnam('postern-smtpd')
    r = subprocess.run(['python3', '-c', probe, os.path.join(HOME, 'run', 'dkim', 'socket')],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       preexec_fn=lambda: (os.setgroups([]), os.setgid(smtpd.pw_gid), os.setuid(smtpd.pw_uid)))
    check(r.stdout.strip() == b'closed', 'postern-dkim answers port 25\'s postern-smtpd nothing')

    # --- the key holder down: 451 and 111, nothing unsigned ---------------------------
    run('s6-svc', '-d', os.path.join(HOME, 'service', 'postern-dkim'))
    wait_for(lambda: run('s6-svstat', '-o', 'up', os.path.join(HOME, 'service', 'postern-dkim')).stdout.strip() == b'false', 10)
    before = snapshot(box)
    e = submit('%s@%s' % (USER, DOM), '%s@%s' % (USER, DOM), 'while down\r\n')
    check(isinstance(e, smtplib.SMTPDataError) and e.smtp_code == 451 and b'DKIM' in e.smtp_error,
          'postern-dkim down: submission answers 451 (DKIM)')
    r = sendmail_as(USER, '%s@%s' % (USER, DOM), '%s@%s' % (USER, DOM), 'while down\n')
    check(r.returncode == 111 and b'sign' in r.stderr, 'and sendmail exits 111, saying it could not sign')
    time.sleep(1)
    check(snapshot(box) == before, 'nothing was delivered unsigned')
    run('s6-svc', '-u', os.path.join(HOME, 'service', 'postern-dkim'))
    check(svc_up('postern-dkim'), 'postern-dkim up again')
    before = snapshot(box)
    check(submit('%s@%s' % (USER, DOM), '%s@%s' % (USER, DOM), 'after\r\n') is None, 'and mail is signed again')
    m = delivered(box, before)
    if m:
        all_pass(m, 'after the restart')
finally:
    if controller:
        controller.stop()
    if unbound:
        unbound.terminate()
        unbound.wait()
    H.cleanup()
done()
