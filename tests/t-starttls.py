#!/usr/bin/env python3
"""postern-smtpd's STARTTLS (RFC 3207, doc/tls.md), against a fake
postern-tlsd and engine (tests/faketlsd.py: Python's ssl module in place
of BearSSL) on the scratch HOME/run/tlsd/socket, and once as a UCSPI-TLS
application, with SSLCTLFD, SSLREADFD and SSLWRITEFD handed to it as
s6-ucspitlsd would.  Clients: smtplib, raw sockets wrapped in TLS, swaks.
The queue is tests/smtptest.py's stub."""
import os, re, select, shutil, smtplib, socket, ssl, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smtptest import Server, Conn, children
from faketlsd import Service, Engine, make_cert, client_context
from tap import check, done, wait_for

UNAVAILABLE = '454 4.7.0 TLS not available due to temporary reason'

srv = Server().start()
P = srv.port
cert, key = make_cert(srv.dir)
tlsd = Service(srv.home, cert, key)


def extensions(r):
    """The EHLO keywords of reply r (its first line is the greeting)."""
    return [l[4:].split()[0].upper() for l in r[1][1:]]


def session(src='127.0.0.1'):
    c = Conn(P, src)
    return c, c.cmd('EHLO client.test')


def tls(c, sni='mx.example.org'):
    """STARTTLS and, at 220, the handshake; the reply."""
    r = c.cmd('STARTTLS')
    if r[0] == 220:
        check(c.buf == b'', 'nothing came after the 220 in clear')
        c.s = client_context().wrap_socket(c.s, server_hostname=sni)
    return r


def log_since(mark):
    return srv.logtext()[mark:]


def logged(pattern, mark=0):
    return wait_for(lambda: re.search(pattern, log_since(mark)) is not None)


def send_msg(c, subject):
    c.cmd('MAIL FROM:<a@b.test>')
    c.cmd('RCPT TO:<demo@example.org>')
    c.cmd('DATA')
    c.send('Subject: %s\r\n\r\nbody\r\n.\r\n' % subject)
    return c.reply()


def bdat_in_flight(c, sender='a@b.test'):
    """A transaction with a BDAT chunk sent: its postern-queue is running."""
    c.cmd('MAIL FROM:<%s>' % sender)
    c.cmd('RCPT TO:<demo@example.org>')
    c.send(b'BDAT 3\r\nabc')
    return c.reply()


def engine_session(mode):
    """A session with the fake postern-tlsd in mode: (log mark, Conn, smtpd pid)."""
    tlsd.mode = mode
    mark = len(srv.logtext())
    c, _ = session()
    return mark, c, srv.smtpd_pid(c)


def stub_msg():
    ids = srv.stub_ids()
    return srv.stub_read(ids[-1])[0] if ids else b''


def fd_links(pid):
    d = '/proc/%d/fd' % pid
    return {int(f): os.readlink(os.path.join(d, f)) for f in os.listdir(d)}


def gone(pid):
    """pid has exited (and been reaped, or is a zombie)."""
    try:
        return open('/proc/%d/stat' % pid).read().split(') ')[1][0] == 'Z'
    except OSError:
        return True


try:
    # --- what EHLO offers ---------------------------------------------------
    c, r = session()
    check(r[0] == 250 and 'STARTTLS' in extensions(r), 'postern-tlsd socket there: EHLO offers STARTTLS')
    c.cmd('QUIT'); c.close()
    srv.control('starttls', '0')
    mark = len(srv.logtext())
    n = len(tlsd.requests)
    c, r = session()
    check('STARTTLS' not in extensions(r), 'control/starttls 0: EHLO does not offer STARTTLS')
    check(c.cmd('STARTTLS') == (454, [UNAVAILABLE]), 'control/starttls 0: STARTTLS gets 454 4.7.0')
    check(len(tlsd.requests) == n, 'and postern-tlsd was not asked')
    check(logged(r'tls_unavailable ip=127\.0\.0\.1 why="control/starttls is 0"', mark), 'and the log says why')
    c.cmd('QUIT'); c.close()
    srv.control('starttls', '1')
    os.rename(tlsd.path, tlsd.path + '.away')
    mark = len(srv.logtext())
    c, r = session()
    check('STARTTLS' not in extensions(r), 'no postern-tlsd socket: EHLO does not offer STARTTLS')
    check(c.cmd('STARTTLS')[0] == 454, 'no postern-tlsd socket: STARTTLS gets 454')
    check(logged(r'tls_unavailable ip=\S+ why="unable to connect to postern-tlsd: \S+/run/tlsd/socket: No such file', mark),
          'and the log names the socket and the error')
    check(send_msg(c, 'clear')[0] == 250 and b' with ESMTP id ' in stub_msg(), 'and the session goes on in clear (ESMTP)')
    c.cmd('QUIT'); c.close()
    os.rename(tlsd.path + '.away', tlsd.path)
    srv.stub_clear()

    # --- a message over TLS with smtplib --------------------------------------
    mark = len(srv.logtext())
    s = smtplib.SMTP('127.0.0.1', P, local_hostname='client.test', timeout=30)
    s.ehlo()
    offered = s.has_extn('starttls')
    code, _ = s.starttls(context=client_context())
    s.ehlo()
    check(offered and code == 220 and not s.has_extn('starttls'), 'smtplib: STARTTLS offered, 220, not offered again inside TLS')
    s.sendmail('a@b.test', ['demo@example.org'], 'Subject: over TLS\r\n\r\nsecret body\r\n')
    s.quit()
    msg = stub_msg()
    head = msg.split(b'\n\n')[0]
    check(re.match(rb'Received: from client\.test \(\[127\.0\.0\.1\]\)\n\t\(using TLSv1\.2 with cipher [A-Z0-9-]+\)\n'
                   rb'\tby example\.org \(postern-smtpd\) with ESMTPS id ', head) is not None,
          'the message is queued; Received says ESMTPS and the protocol and cipher (%r)' % head[:140])
    check(msg.endswith(b'secret body\n'), 'with its body')
    check(tlsd.requests and tlsd.requests[-1][:2] == (b'S', ['socket', 'socket', 'socket', 'pipe', 'pipe']) and
          not tlsd.requests[-1][2] & socket.MSG_CTRUNC,
          'postern-tlsd got S and five fds: the network twice, the control socket, two pipes (%s)' % (tlsd.requests[-1:],))
    check(logged(r'tls ip=127\.0\.0\.1 protocol=TLSv1\.2 cipher=[A-Z0-9-]+\n', mark), 'log: tls ip= protocol= cipher=')
    check(logged(r'message id=\S+ .* tls=TLSv1\.2 reply=250', mark), 'log: the message line has tls=TLSv1.2')
    check(wait_for(lambda: all(e.finished.is_set() for e in tlsd.engines)), 'QUIT: the engine saw EOF and ended')
    srv.stub_clear()

    # --- the session is forgotten; no fd reaches the network past TLS ----------
    mark, c, pid = engine_session('K')
    check(bdat_in_flight(c, 'early@b.test')[0] == 250 and len(children(pid)) == 1,
          'MAIL, RCPT and a BDAT chunk before STARTTLS: one postern-queue running')
    check(tls(c)[0] == 220, 'STARTTLS after MAIL: 220 2.0.0')
    check(wait_for(lambda: children(pid) == []), 'TLS up: that postern-queue is gone')
    check(c.cmd('MAIL FROM:<a@b.test>')[0] == 503, 'inside TLS, MAIL without a new EHLO: 503 (RFC 3207 4.2)')
    r = c.cmd('EHLO client.test')
    check(r[0] == 250 and 'STARTTLS' not in extensions(r) and 'PIPELINING' in extensions(r),
          'EHLO inside TLS: 250, no STARTTLS')
    links = fd_links(pid)
    kinds = sorted(re.sub(r':.*', '', l) for f, l in links.items() if f > 2)
    check(links.get(0) == links.get(1) == '/dev/null', 'fds 0 and 1 of postern-smtpd are /dev/null now (%s %s)'
          % (links.get(0), links.get(1)))
    check(kinds == ['pipe', 'pipe', 'socket'], 'and beyond fd 2 it holds only the control socket and the two pipes (%s)' % kinds)
    check(c.cmd('MAIL FROM:<a@b.test>')[0] == 250, 'MAIL: 250, not "nested": the MAIL before TLS was forgotten')
    check(c.cmd('STARTTLS') == (503, ['503 5.5.1 TLS is already active']), 'STARTTLS inside TLS: 503 5.5.1')
    c.cmd('RCPT TO:<demo@example.org>')
    c.cmd('DATA')
    c.send('Subject: raw\r\n\r\nbody\r\n.\r\n')
    check(c.reply()[0] == 250 and srv.stub_read(srv.stub_ids()[0])[1] == b'Fa@b.test\0Tdemo@example.org\0\0',
          'and the message has only the envelope given inside TLS (not early@b.test)')
    check(logged(r'tls ip=\S+ protocol=TLSv1\.2 cipher=\S+ sni=mx\.example\.org\n', mark), 'log: sni= the name the client sent')
    check(c.cmd('QUIT')[0] == 221 and c.closed(), 'QUIT inside TLS: 221 and close')
    srv.stub_clear()

    # --- CVE-2011-0411: what came with STARTTLS is discarded ----------------------
    mark = len(srv.logtext())
    c, r = session()
    c.send('STARTTLS\r\nRSET\r\n')
    r = c.reply()
    quiet = select.select([c.s], [], [], 0.5)[0] == []
    check(r[0] == 220 and c.buf == b'' and quiet, '"STARTTLS\\r\\nRSET\\r\\n" in one write: 220 and nothing after it in clear')
    c.s = client_context().wrap_socket(c.s, server_hostname='mx.example.org')
    r = c.cmd('EHLO client.test')
    check(r[0] == 250 and r[1][0].startswith('250-example.org'), 'the first reply inside TLS is EHLO\'s: the RSET was not run')
    check(logged(r'tls ip=\S+ .*discarded=6\n', mark), 'log: discarded=6')
    c.cmd('QUIT'); c.close()

    # --- refusals that leave the session in clear ------------------------------
    c, r = session()
    check(c.cmd('STARTTLS now') == (501, ['501 5.5.4 STARTTLS takes no argument']), 'STARTTLS with an argument: 501 5.5.4')
    c.cmd('QUIT'); c.close()
    for mode, desc in (('Z', 'answers Z'), ('close', 'closes without an answer')):
        tlsd.mode = mode
        mark = len(srv.logtext())
        c, r = session()
        check(c.cmd('STARTTLS') == (454, [UNAVAILABLE]), 'postern-tlsd %s: 454 4.7.0' % desc)
        check(c.cmd('NOOP')[0] == 250, 'and the session goes on in clear')
        check(logged(r'tls_unavailable ip=\S+ why="postern-tlsd ' +
                     ('refused: busy: 8 engines running"' if mode == 'Z' else 'closed the connection without an answer"'),
                     mark), 'and the log says so')
        if mode == 'Z':
            n = len(tlsd.requests)
            lines = srv.logtext().count('tls_unavailable')
            check(all(c.cmd('STARTTLS') == (454, [UNAVAILABLE]) for _ in range(3)) and len(tlsd.requests) == n and
                  srv.logtext().count('tls_unavailable') == lines,
                  'STARTTLS again in that session: 454 at once, postern-tlsd not asked again, no more log lines')
            check('STARTTLS' not in extensions(c.cmd('EHLO client.test')),
                  'and EHLO no longer offers STARTTLS in that session')
        c.cmd('QUIT'); c.close()
    tlsd.mode = 'silent'
    c, r = session()
    t0 = time.time()
    r = c.cmd('STARTTLS')
    t = time.time() - t0
    check(r[0] == 454 and 9 <= t < 15, 'postern-tlsd never answers: 454 after 10 s (%.1f s)' % t)
    check(send_msg(c, 'clear again')[0] == 250 and b' with ESMTP id ' in stub_msg(), 'and a message in clear is ESMTP')
    c.cmd('QUIT'); c.close()
    tlsd.release()
    srv.stub_clear()

    # --- the engine ends during the handshake ------------------------------------
    mark, c, pid = engine_session('drop')
    bdat_in_flight(c)
    try:
        tls(c)
        failed = False
    except (ssl.SSLError, OSError):
        failed = True
    check(failed, 'engine gone at Y: the client\'s handshake fails')
    check(wait_for(lambda: gone(pid)), 'and postern-smtpd exits')
    check(wait_for(lambda: srv.stubs_running() == 0) and srv.stub_ids() == [], 'leaving no postern-queue, nothing queued')
    check(logged(r'tls_failed ip=\S+ why="the engine ended: the handshake failed"', mark) and
          logged(r'disconnect ip=\S+ .*why="tls failed"', mark), 'log: tls_failed and the disconnect')
    c.close()
    mark, c, pid = engine_session('flood')
    c.send('STARTTLS\r\n')
    check(c.reply()[0] == 220 and wait_for(lambda: gone(pid)), 'an engine that reports over 4 KB: postern-smtpd ends')
    check(logged(r'tls_failed ip=\S+ why="the engine\'s report is over 4096 bytes"', mark), 'log: tls_failed, over 4096 bytes')
    c.close()
    tlsd.mode = 'K'

    # --- timeouts inside TLS -------------------------------------------------------
    srv.control('timeoutsmtpd', '2')
    c, r = session()
    tls(c)
    c.cmd('EHLO client.test')
    t0 = time.time()
    r = c.reply()
    check(r[0] == 421 and '4.4.2' in r[1][0] and 1.5 < time.time() - t0 < 8,
          'silent client inside TLS: 421 4.4.2 over TLS after control/timeoutsmtpd')
    c.close()
    srv.control('timeoutsmtpd', '20')
    srv.control('timeoutsession', '3')
    c, r = session()
    tls(c)
    got = []
    try:
        while True:
            got.append(c.cmd('NOOP'))
            time.sleep(0.2)
    except (EOFError, OSError, ssl.SSLError):
        pass
    check(got and got[-1][1][-1].startswith('421 4.4.2 session time limit'),
          'session time limit inside TLS: its 421 comes over TLS (%s)' % (got[-1:],))
    c.close()
    srv.control('timeoutsession', None)

    # --- swaks ----------------------------------------------------------------------
    if shutil.which('swaks'):
        srv.stub_clear()
        r = subprocess.run(['swaks', '--server', '127.0.0.1:%d' % P, '--helo', 'swaks.test', '--from', 'a@b.test',
                            '--to', 'demo@example.org', '--tls', '--timeout', '20'], capture_output=True)
        out = r.stdout.decode('utf-8', 'replace')
        check(r.returncode == 0 and b' with ESMTPS id ' in stub_msg() and 'TLS started' in out,
              'swaks --tls: TLS started, message queued as ESMTPS (exit %d)' % r.returncode)
    else:
        check(True, 'swaks --tls: skipped, swaks is not installed')
finally:
    srv.stop()
    tlsd.stop()


# --- UCSPI-TLS: the helper handed over in SSLCTLFD, SSLREADFD, SSLWRITEFD -----------
def ucspi(env_extra, engine=True):
    """postern-smtpd started directly on one TCP connection, with the three
    variables pointing at the application's ends of a control socket and two
    pipes, and (engine) a fake engine on the other ends, as s6-ucspitlsd
    would start it.  (client Conn, process, engine)."""
    ls = socket.socket()
    ls.bind(('127.0.0.1', 0))
    ls.listen(1)
    c = Conn(ls.getsockname()[1], greet=False)
    conn, _ = ls.accept()
    ls.close()
    ctl_app, ctl_eng = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    up_r, up_w = os.pipe()      # the application writes, the engine reads
    down_r, down_w = os.pipe()  # the engine writes, the application reads
    env = {k: v for k, v in os.environ.items() if k in ('ASAN_OPTIONS', 'UBSAN_OPTIONS')}
    env.update(TCPREMOTEIP='127.0.0.1', TCPREMOTEPORT=str(c.s.getsockname()[1]), TCPLOCALIP='127.0.0.1',
               SSLCTLFD=str(ctl_app.fileno()), SSLREADFD=str(down_r), SSLWRITEFD=str(up_w))
    env.update(env_extra)
    with open(srv.log, 'ab') as logf:
        p = subprocess.Popen([os.path.join(srv.home, 'bin', 'postern-smtpd')], stdin=conn, stdout=conn, stderr=logf,
                             env=env, pass_fds=(ctl_app.fileno(), down_r, up_w),
                             user=srv.uid, group=srv.gid, extra_groups=[])
    ctl_app.close()
    os.close(down_r)
    os.close(up_w)
    e = None
    if engine:
        e = Engine([os.dup(conn.fileno()), os.dup(conn.fileno()), ctl_eng.detach(), up_r, down_w], cert, key)
        e.start()
    else:
        ctl_eng.close()
        os.close(up_r)
        os.close(down_w)
    conn.close()
    return c, p, e


srv.control('starttls', '0')  # SSLCTLFD does not need postern-tlsd
try:
    srv.stub_clear()
    c, p, e = ucspi({})
    c.greeting = c.reply()
    r = c.cmd('EHLO client.test')
    check(c.greeting[0] == 220 and 'STARTTLS' in extensions(r),
          'UCSPI-TLS: EHLO offers STARTTLS (control/starttls 0, no postern-tlsd socket)')
    check(tls(c)[0] == 220 and e.command == b'Y', 'UCSPI-TLS: 220, and Y on SSLCTLFD')
    r = c.cmd('EHLO client.test')
    check(r[0] == 250 and 'STARTTLS' not in extensions(r), 'UCSPI-TLS: EHLO inside TLS, no STARTTLS')
    check(send_msg(c, 'ucspi')[0] == 250 and b' with ESMTPS id ' in stub_msg() and b'(using TLSv1.2 with cipher ' in stub_msg(),
          'UCSPI-TLS: a message inside TLS, queued as ESMTPS')
    check(c.cmd('QUIT')[0] == 221 and p.wait(10) == 0, 'UCSPI-TLS: QUIT, exit 0')
    check(e.finished.wait(5), 'UCSPI-TLS: the engine saw EOF and ended')
    c.close()
    for extra, desc in (({'SSLCTLFD': '1'}, 'SSLCTLFD=1 (the network)'), ({'SSLREADFD': '3x'}, 'SSLREADFD not a number'),
                        ({'SSLWRITEFD': '99'}, 'SSLWRITEFD not open'), ({'SSLWRITEFD': ''}, 'SSLWRITEFD empty')):
        c, p, _ = ucspi(extra, engine=False)
        r = c.reply()
        check(r[0] == 421 and p.wait(10) == 111, 'UCSPI-TLS with %s: 421, exit 111' % desc)
        c.close()
    # sendmail -bs: no TCPREMOTEIP, a pipe from a local user
    env = {k: v for k, v in os.environ.items() if k in ('ASAN_OPTIONS', 'UBSAN_OPTIONS')}
    env.update(SSLCTLFD='1')  # a local user's environment is not a UCSPI-TLS server's
    r = subprocess.run([os.path.join(srv.home, 'bin', 'postern-smtpd')], input=b'EHLO me\r\nSTARTTLS\r\nQUIT\r\n',
                       env=env, capture_output=True, timeout=30, user=srv.uid, group=srv.gid, extra_groups=[])
    out = r.stdout.decode()
    check(r.returncode == 0 and 'STARTTLS\r\n' not in out.split('502')[0] and
          '502 5.5.1 STARTTLS is not available to local clients' in out,
          'sendmail -bs: no STARTTLS in EHLO, STARTTLS gets 502, SSL variables ignored')
finally:
    srv.cleanup()

done()
