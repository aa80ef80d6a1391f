#!/usr/bin/env python3
"""postern-tlsd, postern-tlsio and postern-keys together, each as its own
user (tlsd and its engines as 'daemon', the key holder as 'nobody'), with
this script as the application on the other side of UCSPI-TLS (doc/tls.md)
and Python's ssl module as the client on loopback TCP: handshakes with an
EC and an RSA certificate, verified against the certificate; the report on
the control socket; data both ways; the clean close; clients that offer
only TLS 1.3, only CBC suites, or no TLS at all; a request of every wrong
shape; the peer-uid check; the concurrency limit; a missing key holder;
and that the engine's user cannot read the key.  Then client mode (the C
request, postern-tlsio -c), with Python's ssl module as the server: policy
e with a self-signed certificate, policy v with certificates of a test CA
named by control/tlscafile (EC and RSA), and v refusing a self-signed,
a wrong name, an expired certificate and a missing CA file; policy t
taking all of these and reporting what v would have said; a TLS
1.3-only server; malformed C requests; who may ask for client mode.
Then policy d (DANE, RFC 7672), the TLSA records in the request:
DANE-EE of the full certificate and of its key, SHA-256 and SHA-512,
taken whatever the certificate's name and dates; DANE-TA of a test CA
the server sends after its certificate, with the name and dates
checked; a CA not sent; a wrong digest; several records; a chain too
long; every wrong shape of a d request and of postern-tlsio's records.
Run as root."""
import hashlib, os, pwd, shutil, signal, socket, ssl, subprocess, sys, tempfile, threading, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smtptest import BUILD
from tap import check, done, wait_for

TLS_USER = pwd.getpwnam('daemon')
KEYS_USER = pwd.getpwnam('nobody')
D = tempfile.mkdtemp(prefix='postern-test.')
os.chmod(D, 0o755)
for sub in ('bin', 'control', 'run/tlsd', 'run/keys', 'secret/tls'):
    os.makedirs(os.path.join(D, sub))
for prog in ('postern-tlsd', 'postern-tlsio', 'postern-keys'):
    shutil.copy(os.path.join(BUILD, 'bin', prog), os.path.join(D, 'bin', prog))
os.chown(os.path.join(D, 'run/tlsd'), TLS_USER.pw_uid, TLS_USER.pw_gid)
os.chown(os.path.join(D, 'run/keys'), KEYS_USER.pw_uid, KEYS_USER.pw_gid)
os.chown(os.path.join(D, 'secret/tls'), KEYS_USER.pw_uid, KEYS_USER.pw_gid)
os.chmod(os.path.join(D, 'secret/tls'), 0o700)
SOCK = os.path.join(D, 'run/tlsd/socket')
KEYSOCK = os.path.join(D, 'run/keys/socket')
CERTS = tempfile.mkdtemp(prefix='postern-test-certs.')
ENV = dict(os.environ, POSTERN_HOME=D)
LOG = open(os.path.join(D, 'log'), 'ab+')
procs = {}


def logtext():
    with open(os.path.join(D, 'log'), 'rb') as f:
        return f.read().decode('utf-8', 'replace')


def make_cert(kind):
    """A self-signed certificate for mx.test: (cert path, key path)."""
    key, cert = os.path.join(CERTS, kind + '.key'), os.path.join(CERTS, kind + '.pem')
    newkey = {'ec': ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
              'rsa': ['-newkey', 'rsa:2048']}[kind]
    subprocess.run(['openssl', 'req', '-x509', '-nodes', '-days', '2', '-subj', '/CN=mx.test',
                    '-addext', 'subjectAltName=DNS:mx.test', '-keyout', key, '-out', cert] + newkey,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def openssl(*args):
    subprocess.run(['openssl'] + list(args), check=True, cwd=CERTS,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_ca():
    """A test CA (P-256): (cert path, key path), readable by the engine."""
    openssl('req', '-x509', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-days', '2',
            '-subj', '/CN=postern test CA', '-addext', 'basicConstraints=critical,CA:TRUE',
            '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-keyout', 'ca.key', '-out', 'ca.pem')
    os.chmod(os.path.join(CERTS, 'ca.pem'), 0o644)
    os.makedirs(os.path.join(CERTS, 'db'))
    open(os.path.join(CERTS, 'db/index.txt'), 'w').close()
    with open(os.path.join(CERTS, 'db/serial'), 'w') as f:
        f.write('01\n')
    with open(os.path.join(CERTS, 'ca.cnf'), 'w') as f:
        f.write('[ca]\ndefault_ca = test\n[test]\ndatabase = db/index.txt\nserial = db/serial\n'
                'new_certs_dir = db\nunique_subject = no\ndefault_md = sha256\npolicy = any\nx509_extensions = ext\n'
                '[any]\ncommonName = supplied\n[ext]\nsubjectAltName = DNS:mx.test\n')
    return os.path.join(CERTS, 'ca.pem'), os.path.join(CERTS, 'ca.key')


def ca_signed(name, kind, expired=False):
    """A certificate for mx.test that the test CA signed: (cert, key).
    openssl ca, because OpenSSL 3.0's x509 -req cannot date one in the
    past (-not_before came in 3.4)."""
    newkey = {'ec': ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'rsa': ['-newkey', 'rsa:2048']}[kind]
    openssl('req', '-new', '-nodes', '-subj', '/CN=mx.test', '-keyout', name + '.key', '-out', name + '.csr',
            *newkey)
    dates = ['-startdate', '20200101000000Z', '-enddate', '20200102000000Z'] if expired else ['-days', '2']
    openssl('ca', '-batch', '-config', 'ca.cnf', '-cert', 'ca.pem', '-keyfile', 'ca.key', '-in', name + '.csr',
            '-out', name + '.pem', *dates)
    return os.path.join(CERTS, name + '.pem'), os.path.join(CERTS, name + '.key')


def chain_file(name, leaf, *more):
    """leaf (cert, key) with the certificates of the files more after it:
    the chain the server sends, (cert, key)."""
    path = os.path.join(CERTS, name + '.pem')
    with open(path, 'w') as f:
        for c in (leaf[0],) + more:
            with open(c) as g:
                f.write(g.read())
    return path, leaf[1]


def tlsa(usage, selector, mtype, cert):
    """The text form of a TLSA record (src/lib/tlsa.h) for the PEM
    certificate cert: selector 0 its DER, 1 its SubjectPublicKeyInfo
    (as openssl finds it, not as postern-tlsio does)."""
    with open(cert) as f:
        text = f.read()
    # openssl ca writes the certificate as text before its PEM
    begin, end = '-----BEGIN CERTIFICATE-----', '-----END CERTIFICATE-----'
    text = text[text.index(begin):text.index(end) + len(end)]
    data = ssl.PEM_cert_to_DER_cert(text)
    if selector == 1:
        pub = subprocess.run(['openssl', 'x509', '-in', cert, '-noout', '-pubkey'], check=True,
                             capture_output=True).stdout
        data = subprocess.run(['openssl', 'pkey', '-pubin', '-outform', 'DER'], input=pub, check=True,
                              capture_output=True).stdout
    digest = {1: hashlib.sha256, 2: hashlib.sha512}[mtype](data).hexdigest()
    return '%d%d%d%s' % (usage, selector, mtype, digest)


def dane_request(name, *records):
    """A C request with policy d: the name, then each record after a NUL."""
    return b'Cd' + name.encode() + b''.join(b'\0' + r.encode() for r in records)


def set_cafile(path):
    with open(os.path.join(D, 'control/tlscafile'), 'w') as f:
        f.write('# the test CA\n%s\n' % path)


def server_ctx(cert, sni=None):
    """Python's ssl as the server of client mode; the names it is sent
    as SNI are appended to sni."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*cert)
    if sni is not None:
        ctx.sni_callback = lambda sock, name, c: sni.append(name)
    return ctx


def install_cert(kind):
    cert, key = CERT[kind]
    for src, name, mode in ((cert, 'cert.pem', 0o444), (key, 'key.pem', 0o400)):
        dst = os.path.join(D, 'secret/tls', name)
        shutil.copy(src, dst)
        os.chown(dst, KEYS_USER.pw_uid, KEYS_USER.pw_gid)
        os.chmod(dst, mode)


def start(name, argv, user, sock):
    if os.path.exists(sock):
        os.unlink(sock)
    p = subprocess.Popen(argv, user=user.pw_uid, group=user.pw_gid, extra_groups=[], env=ENV,
                         stdin=subprocess.DEVNULL, stdout=LOG, stderr=LOG)
    procs[name] = p
    return wait_for(lambda: os.path.exists(sock), 10)


def stop(name):
    p = procs.pop(name, None)
    if p and p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def start_keys():
    return start('keys', [os.path.join(D, 'bin/postern-keys'), '-u', str(TLS_USER.pw_uid)],
                 KEYS_USER, KEYSOCK)


def start_tlsd():
    return start('tlsd', [os.path.join(D, 'bin/postern-tlsd'), '-u', '0'], TLS_USER, SOCK)


class Session:
    """The application's side of one STARTTLS: the request to postern-tlsd
    and the three UCSPI-TLS descriptors; the client's end of the network in
    self.client."""

    def __init__(self, mode=b'S', fds=5, send=True):
        ls = socket.socket()
        ls.bind(('127.0.0.1', 0))
        ls.listen(1)
        self.client = socket.create_connection(ls.getsockname())
        net, _ = ls.accept()
        self.net = net  # the application's own copy, as postern-smtpd's fds 0 and 1
        ls.close()
        self.ctl, ctl_engine = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        app_in_r, self.app_w = os.pipe()   # the application writes plaintext here
        self.app_r, app_out_w = os.pipe()  # and reads the client's here
        theirs = [net.fileno(), net.fileno(), ctl_engine.fileno(), app_in_r, app_out_w]
        self.reply = None
        if send:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            s.connect(SOCK)
            extra = theirs + [app_in_r] * max(0, fds - 5)
            socket.send_fds(s, [mode], extra[:fds])
            s.settimeout(10)
            try:
                self.reply = s.recv(200)
            except OSError:
                self.reply = None
            s.close()
        ctl_engine.close()
        os.close(app_in_r)
        os.close(app_out_w)

    def start(self, cmd=b'Y'):
        self.ctl.sendall(cmd)

    def report(self):
        """The NUL-terminated strings up to the empty one, or None at EOF."""
        data = b''
        self.ctl.settimeout(15)
        while not data.endswith(b'\0\0'):
            try:
                b = self.ctl.recv(4096)
            except OSError:
                return None
            if not b:
                return None
            data += b
        return dict(x.split('=', 1) for x in data[:-2].decode().split('\0'))

    def handshake(self, ctx, name='mx.test'):
        self.client.settimeout(15)
        self.tls = ctx.wrap_socket(self.client, server_hostname=name)
        return self.tls

    def serve(self, ctx):
        """Client mode: our end of the network is the TLS server."""
        self.client.settimeout(15)
        self.tls = ctx.wrap_socket(self.client, server_side=True)
        return self.tls

    def app_read(self, n, secs=15):
        out = b''
        end = time.time() + secs
        while len(out) < n and time.time() < end:
            b = os.read(self.app_r, n - len(out))
            if not b:
                break
            out += b
        return out

    def close(self):
        for fd in (self.app_w, self.app_r):
            try:
                if fd >= 0:
                    os.close(fd)
            except OSError:
                pass
        self.ctl.close()
        self.net.close()
        self.client.close()


class DaneSession(Session):
    """Client mode with policy d for the server name, with the TLSA
    records (their text forms) in the request."""

    def __init__(self, name, records, **kw):
        Session.__init__(self, mode=dane_request(name, *records), **kw)


def both_ways(s, tls, peer_bytes, app_bytes):
    """peer_bytes from the TLS peer to the application, then app_bytes from
    the application to the peer and the application's end: (whether the
    first arrived whole, whether the second did, followed by EOF)."""
    big = os.urandom(max(peer_bytes, app_bytes))
    t = threading.Thread(target=lambda: tls.sendall(big[:peer_bytes]))
    t.start()
    got = s.app_read(peer_bytes, 30)
    t.join()
    came = hashlib.sha256(got).digest() == hashlib.sha256(big[:peer_bytes]).digest()
    back = []
    t = threading.Thread(target=lambda: back.append(b''.join(iter(lambda: tls.recv(65536), b''))))
    t.start()
    os.write(s.app_w, big[:app_bytes])
    os.close(s.app_w)
    s.app_w = -1
    t.join(30)
    return came, bool(back) and back[0] == big[:app_bytes]


def client_ctx(cafile, **kw):
    ctx = ssl.create_default_context(cafile=cafile)
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx


def engines():
    """pids of running postern-tlsio processes started from our home."""
    out = []
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            if os.readlink('/proc/%s/exe' % d) == os.path.join(D, 'bin/postern-tlsio'):
                out.append(int(d))
        except OSError:
            pass
    return out


def tlsd_fds():
    return len(os.listdir('/proc/%d/fd' % procs['tlsd'].pid))


try:
    CERT = {'ec': make_cert('ec'), 'rsa': make_cert('rsa')}
    install_cert('ec')
    check(start_keys(), 'postern-keys listens (as nobody)')
    check(start_tlsd(), 'postern-tlsd listens (as daemon)')

    # --- a whole session with an EC certificate
    s = Session()
    check(s.reply == b'K', 'a request gets K: an engine was started')
    s.start(b'Y')
    tls = s.handshake(client_ctx(CERT['ec'][0]))
    check(tls.version() == 'TLSv1.2', 'the handshake is TLS 1.2 (got %s)' % tls.version())
    check(tls.cipher()[0] in ('ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384',
                              'ECDHE-ECDSA-CHACHA20-POLY1305'),
          'an ECDHE-ECDSA AEAD suite with an EC certificate (%s)' % tls.cipher()[0])
    rep = s.report()
    check(rep is not None and rep.get('SSL_PROTOCOL') == 'TLSv1.2' and rep.get('SSL_CIPHER') == tls.cipher()[0],
          'Y: the report names the protocol and the suite the client sees (%r)' % rep)
    check(rep is not None and rep.get('SSL_TLS_SNI_SERVERNAME') == 'mx.test', 'the report names the SNI')
    tls.sendall(b'EHLO client.test\r\n')
    check(s.app_read(18) == b'EHLO client.test\r\n', 'what the client sends reaches the application decrypted')
    os.write(s.app_w, b'250 mx.test\r\n')
    check(tls.recv(100) == b'250 mx.test\r\n', 'what the application writes reaches the client encrypted')
    came, went = both_ways(s, tls, 1 << 20, 500000)
    check(came, '1 MB from the client arrives whole')
    check(went, 'the application\'s 500 KB arrive whole, then EOF (close_notify: no ragged end)')
    check(wait_for(lambda: not engines(), 10), 'the engine exits after the application\'s EOF')
    check('postern-tlsio: established protocol=TLSv1.2' in logtext(), 'the engine logs the session')
    s.close()

    # --- a ClientHello that comes late (the key holder closes an idle connection after 10 s)
    s = Session()
    s.start(b'Y')
    time.sleep(11)
    try:
        s.handshake(client_ctx(CERT['ec'][0]))
        late = s.report() is not None
    except (ssl.SSLError, OSError):
        late = False
    check(late, 'a ClientHello 11 s after the Y still gets its signature (postern-keys is asked after it)')
    s.close()
    wait_for(lambda: not engines(), 10)

    # --- a client that stops reading cannot hold the engine once the application has gone
    s = Session()
    s.client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.start(b'y')
    tls = s.handshake(client_ctx(CERT['ec'][0]))
    os.set_blocking(s.app_w, False)
    filled, progress = 0, time.time()
    while filled < 256 << 20 and time.time() - progress < 1.0:  # until the kernel's buffers are full too
        try:
            filled += os.write(s.app_w, b'x' * 65536)
            progress = time.time()
        except BlockingIOError:
            time.sleep(0.05)
    os.close(s.app_w)
    s.app_w = -1
    t0 = time.time()
    gone = wait_for(lambda: not engines(), 20)
    check(gone and time.time() - t0 < 16,
          'a client that reads nothing: the engine ends within 10 s of the application\'s end (%.1f s, %d KB stuck)' %
          (time.time() - t0, filled >> 10))
    check('why="timed out closing"' in logtext(), 'and logs that it timed out closing')
    s.close()

    # --- 'y' reports nothing, and the client's close ends the application's input
    s = Session()
    s.start(b'y')
    tls = s.handshake(client_ctx(CERT['ec'][0]))
    tls.sendall(b'QUIT\r\n')
    check(s.app_read(6) == b'QUIT\r\n', 'y: the session works without a report')
    tls.unwrap()
    check(s.app_read(1, 10) == b'', 'the client\'s close_notify is EOF for the application')
    s.ctl.settimeout(5)
    check(s.ctl.recv(10) == b'', 'y: nothing is written on the control socket')
    s.close()

    # --- the application never starts TLS: the engine reads nothing and goes
    s = Session()
    s.client.sendall(b'still plaintext\r\n')
    s.ctl.close()
    check(wait_for(lambda: not engines(), 10), 'closing the control socket without y ends the engine')
    s.client.settimeout(0.5)
    try:
        s.client.recv(10)
        quiet = False
    except socket.timeout:
        quiet = True
    check(quiet, 'and it wrote nothing to the client')
    s.close()

    # --- clients that cannot agree with it
    def failing(ctx, send_plain=None):
        s = Session()
        s.start(b'Y')
        ok = True
        if send_plain:
            s.client.sendall(send_plain)
            s.client.settimeout(10)
            try:
                while s.client.recv(100):
                    pass
            except OSError:
                pass
        else:
            try:
                s.handshake(ctx)
                ok = False
            except (ssl.SSLError, OSError):
                pass
        rep = s.report()
        gone = wait_for(lambda: not engines(), 15)
        s.close()
        return ok and rep is None and gone

    c13 = client_ctx(CERT['ec'][0], minimum_version=ssl.TLSVersion.TLSv1_3)
    check(failing(c13), 'a TLS 1.3-only client fails; the application sees EOF; the engine exits')
    check('why="no TLS 1.2 offered"' in logtext() or 'why=' in logtext(), 'the failure is logged with why')
    cbc = client_ctx(CERT['ec'][0], maximum_version=ssl.TLSVersion.TLSv1_2)
    cbc.set_ciphers('ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:AES128-SHA')
    check(failing(cbc), 'a client with only CBC suites fails the same way')
    check(failing(None, b'EHLO not-tls.test\r\n'), 'plaintext instead of a ClientHello fails the same way')

    # --- an RSA certificate
    stop('keys')
    install_cert('rsa')
    check(start_keys(), 'postern-keys restarts with an RSA key')
    s = Session()
    s.start(b'Y')
    tls = s.handshake(client_ctx(CERT['rsa'][0]))
    check(tls.cipher()[0].startswith('ECDHE-RSA-') and 'GCM' in tls.cipher()[0] or 'CHACHA' in tls.cipher()[0],
          'an ECDHE-RSA AEAD suite with an RSA certificate (%s)' % tls.cipher()[0])
    rep = s.report()
    check(rep is not None and rep['SSL_CIPHER'] == tls.cipher()[0], 'the report agrees')
    tls.close()
    s.close()
    wait_for(lambda: not engines(), 10)

    # --- requests of every wrong shape: Z, and no descriptor kept
    base = tlsd_fds()
    for desc, kw, want in (('an unknown byte', dict(mode=b'X'), b'Zunknown'),
                           ('two bytes', dict(mode=b'SS'), b'Zmalformed'),
                           ('four descriptors', dict(fds=4), b'Zwrong number'),
                           ('six descriptors', dict(fds=6), b'Zwrong number'),
                           ('no descriptors', dict(fds=0), b'Zwrong number')):
        s = Session(**kw)
        check(s.reply is not None and s.reply.startswith(want), '%s: refused %r' % (desc, s.reply))
        s.close()
    # wait_for: postern-tlsd closes the connection just after its Z, which
    # may be read before that
    check(wait_for(lambda: tlsd_fds() == base, 5) and not engines(),
          'no descriptor kept and no engine started by refused requests')
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(SOCK)
    t0 = time.time()
    s.settimeout(20)
    try:
        r = s.recv(100)
    except OSError:
        r = None
    check(r is not None and r.startswith(b'Zno request') and time.time() - t0 < 15,
          'a client that sends nothing is answered Z after about 10 s (%r)' % r)
    s.close()

    # --- a peer that is neither postern-smtpd nor postern-remote
    def as_nobody():
        os.setgid(KEYS_USER.pw_gid)
        os.setuid(KEYS_USER.pw_uid)
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            s.connect(SOCK)
            socket.send_fds(s, [b'S'], [0, 1, 2, 0, 1])
            s.settimeout(5)
            os._exit(3 if s.recv(10) == b'K' else 0)
        except OSError:  # closed unanswered, before or after the request
            os._exit(0)
    pid = os.fork()
    if pid == 0:
        as_nobody()
    _, st = os.waitpid(pid, 0)
    check(os.waitstatus_to_exitcode(st) == 0 and not engines(), 'another uid gets no engine')
    check('refused uid=%d why="uid not served"' % KEYS_USER.pw_uid in logtext(), 'and is logged')

    # --- control/concurrencytls
    stop('tlsd')
    with open(os.path.join(D, 'control/concurrencytls'), 'w') as f:
        f.write('2\n')
    check(start_tlsd(), 'postern-tlsd restarts with concurrencytls 2')
    a, b, c = Session(), Session(), Session()
    check(a.reply == b'K' and b.reply == b'K' and c.reply is not None and c.reply.startswith(b'Zbusy'),
          'the third engine at once is refused busy (%r %r %r)' % (a.reply, b.reply, c.reply))
    before = set(engines())
    a.close()
    # an engine that has exited but is not yet reaped is gone from
    # engines() (a zombie has no exe) while its slot is still taken: wait
    # for its /proc entry itself, which waitpid removes in the same step
    # that frees the slot
    check(wait_for(lambda: len(engines()) == 1, 10)
          and wait_for(lambda: not any(os.path.exists('/proc/%d' % p) for p in before - set(engines())), 10),
          'an engine whose application left is reaped')
    d = Session()
    check(d.reply == b'K', 'and its slot is free again')
    # SIGHUP (s6-svc -h) rereads the limit; the engines running go on
    with open(os.path.join(D, 'control/concurrencytls'), 'w') as f:
        f.write('3\n')
    tlsd_pid = procs['tlsd'].pid
    procs['tlsd'].send_signal(signal.SIGHUP)
    check(wait_for(lambda: 'reload concurrencytls=3' in logtext(), 10), 'SIGHUP: concurrencytls read again, logged')
    check(procs['tlsd'].poll() is None and len(engines()) == 2,
          'and postern-tlsd goes on (pid %d), its two engines with it' % tlsd_pid)
    e = Session()
    f3 = Session()
    check(e.reply == b'K' and f3.reply is not None and f3.reply.startswith(b'Zbusy'),
          'the new limit holds: a third engine, not a fourth (%r %r)' % (e.reply, f3.reply))
    with open(os.path.join(D, 'control/concurrencytls'), 'w') as f:
        f.write('0\n')
    procs['tlsd'].send_signal(signal.SIGHUP)
    check(wait_for(lambda: 'keeping the old limit' in logtext(), 10) and procs['tlsd'].poll() is None,
          'SIGHUP with concurrencytls 0: warned, the old limit kept, still running')
    for x in (b, c, d, e, f3):
        x.close()
    wait_for(lambda: not engines(), 10)
    os.unlink(os.path.join(D, 'control/concurrencytls'))
    stop('tlsd')
    check(start_tlsd(), 'postern-tlsd restarts with the default limit')

    # --- many at once
    sessions = [Session() for _ in range(30)]
    ok = 0
    for s in sessions:
        s.start(b'Y')
    for i, s in enumerate(sessions):
        try:
            tls = s.handshake(client_ctx(CERT['rsa'][0]))
            tls.sendall(b'%d\r\n' % i)
            if s.app_read(len(b'%d\r\n' % i)) == b'%d\r\n' % i:
                ok += 1
            tls.close()
        except (ssl.SSLError, OSError):
            pass
        s.close()
    check(ok == 30, '30 sessions at once each get their own bytes (%d)' % ok)
    check(wait_for(lambda: not engines(), 15), 'and every engine exits')

    # --- no key holder
    stop('keys')
    s = Session()
    s.start(b'Y')
    try:
        s.handshake(client_ctx(CERT['rsa'][0]))
        hs = True
    except (ssl.SSLError, OSError):
        hs = False
    check(not hs and s.report() is None, 'without postern-keys the handshake fails and the application sees EOF')
    check('is postern-keys running' in logtext(), 'and the engine says why')
    s.close()

    # --- who can read what
    def can_read_as(user, path):
        pid = os.fork()
        if pid == 0:
            os.setgid(user.pw_gid)
            os.setgroups([])
            os.setuid(user.pw_uid)
            try:
                open(path, 'rb').close()
                os._exit(0)
            except OSError:
                os._exit(1)
        _, st = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(st) == 0
    check(not can_read_as(TLS_USER, os.path.join(D, 'secret/tls/key.pem')),
          'the engine\'s user cannot read the private key')
    # === client mode: postern-tlsio -c, for postern-remote's outbound TLS
    os.chmod(CERTS, 0o755)  # the engine (daemon) reads the CA file from here
    CA = make_ca()
    SIGNED = {'ec': ca_signed('signed-ec', 'ec'), 'rsa': ca_signed('signed-rsa', 'rsa')}
    EXPIRED = ca_signed('expired', 'ec', expired=True)
    set_cafile(CA[0])
    stop('keys')  # client mode has no key holder: nothing may need one
    sessions_before = len(engines())

    # --- policy e: a self-signed server is taken, and said to be unverified
    mark = len(logtext())
    s = Session(mode=b'Cemx.test')
    check(s.reply == b'K', 'a C request (policy e, mx.test) gets K')
    s.start(b'Y')
    sni = []
    tls = s.serve(server_ctx(CERT['ec'], sni))
    rep = s.report()
    check(rep is not None and rep.get('SSL_PROTOCOL') == 'TLSv1.2' and rep.get('SSL_CIPHER') == tls.cipher()[0]
          and tls.version() == 'TLSv1.2', 'e: a self-signed server: TLS 1.2, the report names the suite (%r)' % rep)
    check(rep is not None and rep.get('SSL_PEER_VERIFIED') == '0', 'e: SSL_PEER_VERIFIED=0')
    check(rep is not None and 'SSL_TLS_SNI_SERVERNAME' not in rep, 'the client report has no SNI line')
    check(sni == ['mx.test'], 'the server is sent the name as SNI (%r)' % sni)
    check(('established mode=client protocol=TLSv1.2 cipher=%s verified=no name=mx.test' % tls.cipher()[0])
          in logtext()[mark:], 'e: logged established mode=client ... verified=no name=mx.test')
    os.write(s.app_w, b'EHLO client.test\r\n')
    check(tls.recv(100) == b'EHLO client.test\r\n', 'what the application writes reaches the server')
    tls.sendall(b'250 mx.test\r\n')
    check(s.app_read(13) == b'250 mx.test\r\n', 'what the server sends reaches the application')
    came, went = both_ways(s, tls, 300000, 100000)
    check(came, '300 KB from the server arrive whole')
    check(went, 'the application\'s 100 KB arrive whole, then close_notify')
    check(wait_for(lambda: len(engines()) == sessions_before, 10), 'the engine exits after the application\'s EOF')
    s.close()

    # --- policy v: a server whose certificate the CA signed, for the name asked
    for kind, prefix in (('ec', 'ECDHE-ECDSA-'), ('rsa', 'ECDHE-RSA-')):
        mark = len(logtext())
        s = Session(mode=b'Cvmx.test')
        s.start(b'Y')
        try:
            tls = s.serve(server_ctx(SIGNED[kind]))
            cipher = tls.cipher()[0]
        except (ssl.SSLError, OSError) as e:
            cipher = repr(e)
        rep = s.report()
        check(rep is not None and rep.get('SSL_PEER_VERIFIED') == '1' and rep.get('SSL_CIPHER') == cipher
              and cipher.startswith(prefix),
              'v: a %s certificate the CA signed for mx.test verifies: %s, SSL_PEER_VERIFIED=1 (%r)'
              % (kind.upper(), cipher, rep))
        check('verified=yes name=mx.test' in logtext()[mark:], 'v: logged verified=yes')
        if rep is not None:
            tls.sendall(b'221 bye\r\n')
            tls.unwrap()
            check(s.app_read(100, 10) == b'221 bye\r\n', 'v (%s): the server\'s close_notify is EOF for the '
                  'application, after its data' % kind.upper())
        s.close()
        wait_for(lambda: len(engines()) == sessions_before, 10)

    # --- policy v refuses, the application sees EOF, the log says why
    def attempt(mode, cert):
        """One client session against Python's server with cert: the
        reply, the report, EOF on the application's pipe, the engine gone,
        and what was logged."""
        mark = len(logtext())
        s = Session(mode=mode)
        s.start(b'Y')

        def serve():
            try:
                s.serve(server_ctx(cert))
            except (ssl.SSLError, OSError):
                pass
        t = threading.Thread(target=serve)
        t.start()
        rep = s.report()
        if rep is not None:
            os.close(s.app_w)  # the application is done: close_notify
        eof = s.app_read(1, 10) == b''
        gone = wait_for(lambda: len(engines()) == sessions_before, 15)
        # BearSSL sends no alert when it refuses a certificate: the
        # server learns it when the application (postern-remote), seeing
        # EOF, closes its copy of the connection
        s.net.shutdown(socket.SHUT_RDWR)
        t.join(15)
        s.close()
        return s.reply, rep, eof, gone, logtext()[mark:]

    def refused(mode, cert, reason):
        reply, rep, eof, gone, text = attempt(mode, cert)
        ok = reply == b'K' and rep is None and eof and gone and 'failed stage=handshake' in text and reason in text
        return ok, (reply, rep, eof, gone, text.strip()[-300:])

    ok, why = refused(b'Cvmx.test', CERT['ec'], 'why="certificate not trusted"')
    check(ok, 'v: a self-signed server fails: EOF on the control socket and the pipe, "not trusted" logged %r' % (why,))
    ok, why = refused(b'Cvother.test', SIGNED['ec'], 'why="certificate for another name"')
    check(ok, 'v: the CA\'s certificate for mx.test, asked for other.test, fails: "another name" logged %r' % (why,))
    ok, why = refused(b'Cvmx.test', EXPIRED, 'why="certificate expired or not yet valid"')
    check(ok, 'v: an expired certificate the CA signed fails: "expired" logged %r' % (why,))
    reply, rep, eof, gone, text = attempt(b'Cemx.test', CERT['rsa'])
    check(rep is not None and rep.get('SSL_PEER_VERIFIED') == '0' and rep.get('SSL_CIPHER', '').startswith('ECDHE-RSA-')
          and eof and gone, 'e: a self-signed RSA server is taken too (%r)' % (rep,))
    reply, rep, eof, gone, text = attempt(b'Cemx.test', EXPIRED)
    check(rep is not None and rep.get('SSL_PEER_VERIFIED') == '0' and eof and gone and 'verified=no' in text,
          'e: the expired one is taken (%r)' % (rep,))

    # --- policy t (MTA-STS testing): every certificate is taken, as with
    # e, and the report and the log say what v would have said of it
    def tested(mode, cert, reason):
        reply, rep, eof, gone, text = attempt(mode, cert)
        want_v = '1' if reason is None else '0'
        logged = ('verified=yes name=' in text) if reason is None else ('verified=no why="%s"' % reason) in text
        ok = (reply == b'K' and rep is not None and rep.get('SSL_PEER_VERIFIED') == want_v
              and rep.get('SSL_PEER_VERIFY_ERROR') == reason and eof and gone and logged
              and 'failed' not in text)
        return ok, (reply, rep, eof, gone, text.strip()[-300:])

    ok, why = tested(b'Ctmx.test', SIGNED['ec'], None)
    check(ok, 't: the CA\'s certificate for mx.test: SSL_PEER_VERIFIED=1, no SSL_PEER_VERIFY_ERROR, verified=yes %r'
          % (why,))
    ok, why = tested(b'Ctmx.test', SIGNED['rsa'], None)
    check(ok, 't: and its RSA one %r' % (why,))
    ok, why = tested(b'Ctmx.test', CERT['ec'], 'certificate not trusted')
    check(ok, 't: a self-signed server is taken, SSL_PEER_VERIFIED=0, "not trusted" reported and logged %r' % (why,))
    ok, why = tested(b'Ctother.test', SIGNED['ec'], 'certificate for another name')
    check(ok, 't: the CA\'s certificate for mx.test, asked for other.test: taken, "another name" %r' % (why,))
    ok, why = tested(b'Ctmx.test', EXPIRED, 'certificate expired or not yet valid')
    check(ok, 't: an expired certificate the CA signed: taken, "expired" %r' % (why,))
    set_cafile(os.path.join(CERTS, 'no-such-file.pem'))
    ok, why = refused(b'Cvmx.test', SIGNED['ec'], 'why="unable to open the CA file" cafile=%s' % CERTS)
    check(ok, 'v: control/tlscafile naming a missing file fails, and the file is named %r' % (why,))
    reply, rep, eof, gone, text = attempt(b'Ctmx.test', SIGNED['ec'])
    check(rep is not None and rep.get('SSL_PEER_VERIFIED') == '0'
          and rep.get('SSL_PEER_VERIFY_ERROR') == 'no usable trust anchors in control/tlscafile' and eof and gone
          and 'warning why="unable to open the CA file" cafile=%s' % CERTS in text and 'failed' not in text,
          't: the same missing file: the handshake goes on, a warning names the file, the verdict says why %r'
          % ((rep, text.strip()[-300:]),))
    ca_text = open(CA[0]).read()
    for fname, text, reason, desc in (
            ('empty.pem', 'no certificates here\n', 'why="no certificate"', 'without a certificate'),
            ('many.pem', ca_text * 1001, 'why="more than 1000 certificates"', 'of 1001 certificates'),
            ('huge.pem', ca_text + '#' * (4 << 20), 'why="the CA file is over 4 MB"', 'over 4 MB')):
        path = os.path.join(CERTS, fname)
        with open(path, 'w') as f:
            f.write(text)
        os.chmod(path, 0o644)
        set_cafile(path)
        ok, why = refused(b'Cvmx.test', SIGNED['ec'], reason)
        check(ok, 'v: a CA file %s fails %r' % (desc, why))
    set_cafile('ca.pem')
    ok, why = refused(b'Cvmx.test', SIGNED['ec'], 'why="control/tlscafile does not name an absolute path"')
    check(ok, 'v: a relative path in control/tlscafile fails %r' % (why,))
    os.unlink(os.path.join(D, 'control/tlscafile'))
    if os.path.exists('/etc/ssl/certs/ca-certificates.crt'):
        ok, why = refused(b'Cvmx.test', SIGNED['ec'], 'why="certificate not trusted"')
        check(ok and 'cafile=' not in why[4],
              'v without control/tlscafile: Debian\'s bundle is read, and the test CA is not in it %r' % (why,))
    else:
        print('# skip: no /etc/ssl/certs/ca-certificates.crt (ca-certificates): the default is not tried')
    set_cafile(CA[0])
    c13 = server_ctx(CERT['ec'])
    c13.minimum_version = ssl.TLSVersion.TLSv1_3
    mark = len(logtext())
    s = Session(mode=b'Cemx.test')
    s.start(b'Y')
    try:
        s.serve(c13)
        hs = True
    except (ssl.SSLError, OSError):
        hs = False
    rep = s.report()
    check(not hs and rep is None and wait_for(lambda: len(engines()) == sessions_before, 15)
          and 'failed stage=handshake' in logtext()[mark:], 'a TLS 1.3-only server fails; the application sees EOF')
    s.close()

    # --- malformed client requests: Z, no descriptor kept, no engine
    base = tlsd_fds()
    for desc, mode, want in (('C alone', b'C', b'Zmalformed request: no policy'),
                             ('policy e and no name', b'Ce', b'Zmalformed request: no server name'),
                             ('policy v and no name', b'Cv', b'Zmalformed request: no server name'),
                             ('an unknown policy', b'Cxmx.test', b'Zmalformed request: unknown policy'),
                             ('a 254-byte name', b'Ce' + b'a' * 254, b'Zmalformed request: server name too long'),
                             ('a 2000-byte record', b'Ce' + b'a' * 1998, b'Zmalformed request'),
                             ('a name with /', b'Cemx/test', b'Zmalformed request: bad server name'),
                             ('a name with a space', b'Cemx test', b'Zmalformed request: bad server name'),
                             ('a name with a NUL', b'Cemx.test\0', b'Zmalformed request: bad server name'),
                             ('a name with a newline', b'Cvmx.test\n', b'Zmalformed request: bad server name')):
        s = Session(mode=mode)
        check(s.reply is not None and s.reply.startswith(want), 'C request, %s: refused (%r)' % (desc, s.reply))
        s.close()
    s = Session(mode=b'Cemx.test', fds=4)
    check(s.reply is not None and s.reply.startswith(b'Zwrong number'), 'C request with 4 descriptors: refused')
    s.close()
    check(wait_for(lambda: tlsd_fds() == base, 5) and len(engines()) == sessions_before,
          'no descriptor kept and no engine started by refused C requests')
    s = Session(mode=b'Cv' + b'a' * 253)
    check(s.reply == b'K', 'a 253-byte name is taken')
    s.close()
    check(wait_for(lambda: len(engines()) == sessions_before, 10), 'and its engine leaves when the application does')

    # --- postern-tlsio checks its arguments too (it is started by hand only by mistake)
    codes = [subprocess.run([os.path.join(D, 'bin/postern-tlsio')] + args, user=TLS_USER.pw_uid,
                            group=TLS_USER.pw_gid, extra_groups=[], env=ENV, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
             for args in (['-c', 'x', 'mx.test'], ['-c', 'e', 'mx/test'], ['-c', 'e', 'a' * 254],
                          ['-c', 'e'], ['-c', 'v', 'mx.test', 'extra'])]
    check(codes == [100] * 5, 'postern-tlsio -c with a bad policy, name or argument count: usage, 100 (%r)' % codes)

    # === client mode, policy d: DANE (RFC 7672), the TLSA records in the request
    # d reads no CA file: one that is not there fails v, never d
    set_cafile(os.path.join(CERTS, 'no-such-file.pem'))
    CHAIN = chain_file('chain-ec', SIGNED['ec'], CA[0])  # the server's certificate, then the CA's
    EE311 = tlsa(3, 1, 1, CERT['ec'][0])
    mark = len(logtext())
    s = DaneSession('mx.test', [EE311])
    check(s.reply == b'K', 'a C request with policy d and one TLSA record gets K')
    s.start(b'Y')
    sni = []
    try:
        tls = s.serve(server_ctx(CERT['ec'], sni))
        cipher = tls.cipher()[0]
    except (ssl.SSLError, OSError) as e:
        tls, cipher = None, repr(e)
    rep = s.report()
    check(rep is not None and rep.get('SSL_PEER_VERIFIED') == '1' and rep.get('SSL_CIPHER') == cipher,
          'd, 3 1 1 (SHA-256 of the key) of a self-signed certificate, control/tlscafile naming no file: '
          'SSL_PEER_VERIFIED=1 (%r)' % (rep,))
    check(sni == ['mx.test'], 'd: the server is sent the name as SNI (%r)' % sni)
    check(('established mode=client protocol=TLSv1.2 cipher=%s verified=yes dane=ee name=mx.test' % cipher)
          in logtext()[mark:], 'd: logged established ... verified=yes dane=ee name=mx.test')
    if tls:
        os.write(s.app_w, b'EHLO client.test\r\n')
        check(tls.recv(100) == b'EHLO client.test\r\n', 'd: what the application writes reaches the server')
        tls.sendall(b'250 mx.test\r\n')
        check(s.app_read(13) == b'250 mx.test\r\n', 'd: what the server sends reaches the application')
    else:
        check(False, 'd: what the application writes reaches the server')
        check(False, 'd: what the server sends reaches the application')
    s.close()
    check(wait_for(lambda: len(engines()) == sessions_before, 10), 'd: the engine leaves with the application')

    def dane_taken(name, records, cert, kind):
        """A d session against cert: verified, reported, logged dane=kind?"""
        reply, rep, eof, gone, text = attempt(dane_request(name, *records), cert)
        ok = (reply == b'K' and rep is not None and rep.get('SSL_PEER_VERIFIED') == '1' and eof and gone
              and ('verified=yes dane=%s name=%s' % (kind, name)) in text and 'failed' not in text)
        return ok, (reply, rep, eof, gone, text.strip()[-300:])

    for rec, cert, desc in ((tlsa(3, 0, 1, CERT['ec'][0]), CERT['ec'], '3 0 1 (SHA-256 of the certificate), EC'),
                            (tlsa(3, 1, 2, CERT['ec'][0]), CERT['ec'], '3 1 2 (SHA-512 of the key), EC'),
                            (tlsa(3, 1, 1, CERT['rsa'][0]), CERT['rsa'], '3 1 1, RSA'),
                            (tlsa(3, 0, 2, CERT['rsa'][0]), CERT['rsa'], '3 0 2 (SHA-512 of the certificate), RSA'),
                            (tlsa(3, 1, 1, SIGNED['ec'][0]), CHAIN, '3 1 1 of a CA-signed certificate sent with '
                             'its CA')):
        ok, why = dane_taken('mx.test', [rec], cert, 'ee')
        check(ok, 'd, %s: verified, SSL_PEER_VERIFIED=1, dane=ee %r' % (desc, why))
    wrong = EE311[:3] + ('0' if EE311[3] != '0' else '1') + EE311[4:]
    ok, why = refused(dane_request('mx.test', wrong), CERT['ec'], 'why="certificate matches no TLSA record"')
    check(ok, 'd, 3 1 1 with a wrong digest: the handshake fails, "matches no TLSA record" logged %r' % (why,))
    ok, why = refused(dane_request('mx.test', tlsa(3, 1, 1, CERT['rsa'][0])), CERT['ec'],
                      'why="certificate matches no TLSA record"')
    check(ok, 'd, 3 1 1 of another server\'s key fails the same way %r' % (why,))
    # RFC 7672 3.1.1: with DANE-EE neither the name nor the dates count
    ok, why = dane_taken('mx.test', [tlsa(3, 1, 1, EXPIRED[0])], EXPIRED, 'ee')
    check(ok, 'd, DANE-EE: an expired certificate is verified %r' % (why,))
    ok, why = dane_taken('other.test', [EE311], CERT['ec'], 'ee')
    check(ok, 'd, DANE-EE: a certificate for mx.test, asked for other.test, is verified %r' % (why,))

    # DANE-TA: the CA the server sends after its certificate is the anchor
    TA201 = tlsa(2, 0, 1, CA[0])
    for rec, desc in ((TA201, '2 0 1 (SHA-256 of the CA\'s certificate)'), (tlsa(2, 1, 1, CA[0]), '2 1 1'),
                      (tlsa(2, 0, 2, CA[0]), '2 0 2')):
        ok, why = dane_taken('mx.test', [rec], CHAIN, 'ta')
        check(ok, 'd, DANE-TA %s, the CA sent after the certificate: verified, dane=ta %r' % (desc, why))
    ok, why = refused(dane_request('other.test', TA201), CHAIN, 'why="certificate for another name"')
    check(ok, 'd, DANE-TA: the CA\'s certificate for mx.test, asked for other.test, fails: "another name" %r'
          % (why,))
    ok, why = refused(dane_request('mx.test', TA201), chain_file('chain-expired', EXPIRED, CA[0]),
                      'why="certificate expired or not yet valid"')
    check(ok, 'd, DANE-TA: an expired certificate of the CA fails: "expired" %r' % (why,))
    ok, why = refused(dane_request('mx.test', TA201), SIGNED['ec'], 'why="certificate matches no TLSA record"')
    check(ok, 'd, DANE-TA: the CA not in the chain the server sends: fails, "matches no TLSA record" %r' % (why,))
    ok, why = refused(dane_request('mx.test', tlsa(2, 0, 1, CERT['ec'][0])), CERT['ec'],
                      'why="certificate matches no TLSA record"')
    check(ok, 'd, DANE-TA of the server\'s own (self-signed) certificate: no anchor, fails %r' % (why,))
    ok, why = refused(dane_request('mx.test', TA201), chain_file('chain-foreign', CERT['ec'], CA[0]),
                      'why="certificate not trusted"')
    check(ok, 'd, DANE-TA: the CA sent after a certificate it did not sign: fails, "not trusted" %r' % (why,))

    # several records: every one is tried
    ok, why = dane_taken('mx.test', [wrong, EE311], CERT['ec'], 'ee')
    check(ok, 'd, two records, the first wrong, the second right: verified %r' % (why,))
    ok, why = dane_taken('other.test', [TA201, tlsa(3, 0, 1, SIGNED['ec'][0])], CHAIN, 'ee')
    check(ok, 'd, a DANE-TA record whose chain fails (another name), then a DANE-EE that matches: verified %r'
          % (why,))
    ok, why = dane_taken('mx.test', [wrong] * 7 + [TA201], CHAIN, 'ta')
    check(ok, 'd, eight records, the last DANE-TA right: verified %r' % (why,))
    ok, why = refused(dane_request('other.test', wrong, TA201), CHAIN, 'why="certificate for another name"')
    check(ok, 'd, no record verifies, one DANE-TA matched: its failure is the one logged %r' % (why,))

    # the chain postern-tlsio keeps: 10 certificates at most
    ok, why = dane_taken('mx.test', [EE311], chain_file('chain-10', CERT['ec'], *[CA[0]] * 9), 'ee')
    check(ok, 'd: a chain of 10 certificates is taken %r' % (why,))
    ok, why = refused(dane_request('mx.test', EE311), chain_file('chain-11', CERT['ec'], *[CA[0]] * 10),
                      'why="certificate beyond BearSSL\'s limits"')
    check(ok, 'd: a chain of 11 fails, beyond the limits %r' % (why,))
    set_cafile(CA[0])

    # --- malformed d requests: Z, no descriptor kept, no engine
    base = tlsd_fds()
    rec = EE311
    for desc, mode, want in (
            ('no record', dane_request('mx.test'), b'Zmalformed request: no TLSA record'),
            ('a NUL and nothing after', dane_request('mx.test') + b'\0', b'Zmalformed request: bad TLSA record'),
            ('9 records', dane_request('mx.test', *[rec] * 9), b'Zmalformed request: too many TLSA records'),
            ('usage 1', dane_request('mx.test', '1' + rec[1:]), b'Zmalformed request: bad TLSA record'),
            ('usage 0', dane_request('mx.test', '0' + rec[1:]), b'Zmalformed request: bad TLSA record'),
            ('selector 2', dane_request('mx.test', rec[0] + '2' + rec[2:]), b'Zmalformed request: bad TLSA record'),
            ('matching type 0', dane_request('mx.test', rec[:2] + '0' + rec[3:]),
             b'Zmalformed request: bad TLSA record'),
            ('matching type 2 with 64 digits', dane_request('mx.test', rec[:2] + '2' + rec[3:]),
             b'Zmalformed request: bad TLSA record'),
            ('upper-case hex', dane_request('mx.test', rec[:3] + rec[3:].upper()),
             b'Zmalformed request: bad TLSA record'),
            ('63 hex digits', dane_request('mx.test', rec[:-1]), b'Zmalformed request: bad TLSA record'),
            ('65 hex digits', dane_request('mx.test', rec + 'a'), b'Zmalformed request: bad TLSA record'),
            ('an empty record between two', dane_request('mx.test', rec, '', rec),
             b'Zmalformed request: bad TLSA record'),
            ('a NUL after the last record', dane_request('mx.test', rec) + b'\0',
             b'Zmalformed request: bad TLSA record'),
            ('a record with a space', dane_request('mx.test', rec[:10] + ' ' + rec[11:]),
             b'Zmalformed request: bad TLSA record'),
            ('no name', dane_request('', rec), b'Zmalformed request: no server name'),
            ('d alone', b'Cd', b'Zmalformed request: no server name'),
            ('a name with /', dane_request('mx/test', rec), b'Zmalformed request: bad server name'),
            ('a 254-byte name', dane_request('a' * 254, rec), b'Zmalformed request: server name too long'),
            ('records after policy e', b'Ce' + dane_request('mx.test', rec)[2:],
             b'Zmalformed request: bad server name'),
            ('the longest d request and a byte more',
             dane_request('a' * 253, *[tlsa(3, 1, 2, CERT['ec'][0])] * 8) + b'a',
             b'Zmalformed request: bad TLSA record'),
            ('a 2000-byte d request', dane_request('a' * 253, *[tlsa(3, 1, 2, CERT['ec'][0])] * 14)[:2000],
             b'Zmalformed request')):
        s = Session(mode=mode)
        check(s.reply is not None and s.reply.startswith(want) and (want != b'Zmalformed request' or s.reply == want),
              'd request, %s: refused (%r)' % (desc, s.reply))
        s.close()
    check(wait_for(lambda: tlsd_fds() == base, 5) and len(engines()) == sessions_before,
          'no descriptor kept and no engine started by refused d requests')
    longest = dane_request('a' * 253, *[tlsa(3, 1, 2, CERT['ec'][0])] * 8)
    s = Session(mode=longest)
    check(len(longest) == 2 + 253 + 8 * 132 and s.reply == b'K',
          'the longest d request (a 253-byte name, 8 SHA-512 records: %d bytes) is taken (%r)' % (len(longest), s.reply))
    s.close()
    check(wait_for(lambda: len(engines()) == sessions_before, 10), 'and its engine leaves when the application does')

    # --- postern-tlsio checks the records again
    good = tlsa(3, 1, 1, CERT['ec'][0])
    arg_cases = (['-c', 'd', 'mx.test'], ['-c', 'd', 'mx.test', '1' + good[1:]],
                 ['-c', 'd', 'mx.test', good[:3] + good[3:].upper()], ['-c', 'd', 'mx.test', good[:-1]],
                 ['-c', 'd', 'mx.test', good, ''], ['-c', 'd', 'mx.test'] + [good] * 9,
                 ['-c', 'd', 'mx/test', good], ['-c', 'e', 'mx.test', good], ['-c', 'v', 'mx.test', good],
                 ['-c', 'dd', 'mx.test', good])
    codes = [subprocess.run([os.path.join(D, 'bin/postern-tlsio')] + args, user=TLS_USER.pw_uid,
                            group=TLS_USER.pw_gid, extra_groups=[], env=ENV, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
             for args in arg_cases]
    check(codes == [100] * len(arg_cases),
          'postern-tlsio -c d without a record, with a bad one or 9, and records after e or v: usage, 100 (%r)'
          % codes)

    # --- who may ask for client mode
    def reply_as(user, mode):
        """The reply a Session of this user gets: 0 none, 1 K, 2 Z, 3 else."""
        pid = os.fork()
        if pid == 0:
            try:
                os.setgid(user.pw_gid)
                os.setgroups([])
                os.setuid(user.pw_uid)
                s = Session(mode=mode)
                s.close()
                os._exit({None: 0, b'': 0, b'K': 1}.get(s.reply, 2 if (s.reply or b'').startswith(b'Z') else 3))
            except OSError:  # closed unanswered
                os._exit(0)
            except BaseException:
                os._exit(4)
        _, st = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(st)
    check(reply_as(KEYS_USER, b'Cemx.test') == 0 and len(engines()) == sessions_before,
          'a C request from a uid not served gets nothing')
    try:
        SMTPD, REMOTE = pwd.getpwnam('postern-smtpd'), pwd.getpwnam('postern-remote')
        SUBMIT = pwd.getpwnam('postern-submit')
    except KeyError:
        SMTPD = REMOTE = SUBMIT = None
        print('# skip: no postern-smtpd, postern-submit and postern-remote users here (./install makes them): '
              'the default uids are not tried')
    if SMTPD:
        stop('tlsd')
        check(start('tlsd', [os.path.join(D, 'bin/postern-tlsd')], TLS_USER, SOCK),
              'postern-tlsd restarts serving the users of conf-users')
        mark = len(logtext())
        check(reply_as(SMTPD, b'Cemx.test') == 2 and
              wait_for(lambda: 'why="client mode is postern-remote\'s only"' in logtext()[mark:], 5),
              'a C request from postern-smtpd\'s uid is refused Z, and logged')
        check(reply_as(SMTPD, b'S') == 1, 'an S request from postern-smtpd\'s uid gets K')
        check(reply_as(SUBMIT, b'S') == 1, 'an S request from postern-submit\'s uid (submission) gets K')
        mark = len(logtext())
        check(reply_as(SUBMIT, b'Cemx.test') == 2 and
              wait_for(lambda: 'why="client mode is postern-remote\'s only"' in logtext()[mark:], 5),
              'a C request from postern-submit\'s uid is refused Z, and logged')
        check(reply_as(REMOTE, b'Cvmx.test') == 1, 'a C request from postern-remote\'s uid gets K')
        check(wait_for(lambda: len(engines()) == sessions_before, 10), 'and those engines leave with their applications')
        stop('tlsd')
        check(start_tlsd(), 'postern-tlsd restarts with -u again')

    check(not any('AddressSanitizer' in x or 'runtime error' in x for x in [logtext()]),
          'no sanitizer report in the log')
finally:
    for name in list(procs):
        stop(name)
    for pid in engines():
        os.kill(pid, signal.SIGKILL)
    if os.environ.get('KEEP'):
        print('# kept', D)
    else:
        shutil.rmtree(D, ignore_errors=True)
    shutil.rmtree(CERTS, ignore_errors=True)
done()
