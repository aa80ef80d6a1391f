#!/usr/bin/env python3
"""postern-keys, the TLS key holder (doc/tls.md, "The key holder"), on its
own: a scratch HOME with bin/postern-keys and secret/tls/ holding keys and
certificates made by the openssl command, and this script as the TLS
engine, a real AF_UNIX SOCK_SEQPACKET client.  Checks the C record against
the certificates' DER, every signature with openssl against the
certificate's public key (EC and RSA, every hash id), the answer E and a
closed connection for each malformed record, the refusal of another uid,
many clients at once and a silent one beside them, the idle timeout and the
limit of 1000 connections, exit 111 with the file named for each kind
of bad key or certificate, and RSA 4096: its signature, and a whole TLS
handshake through postern-tlsio (as nobody, started with the descriptors
postern-tlsd gives it) with Python's ssl module as the client.  Run as
root (a client and the engine run as nobody)."""
import array, fcntl, hashlib, os, resource, shutil, signal, socket, ssl, subprocess, sys, tempfile, threading, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import service_test
from service_test import sanitized
from smtptest import BUILD
from tap import check, done, wait_for

KEYS = os.path.join(BUILD, 'bin', 'postern-keys')
D = tempfile.mkdtemp(prefix='postern-test.')
os.chmod(D, 0o755)
for sub in ('bin', 'secret/tls', 'run/keys', 'made'):
    os.makedirs(os.path.join(D, sub))
os.chmod(os.path.join(D, 'run'), 0o755)
os.chmod(os.path.join(D, 'run/keys'), 0o755)
# a copy, not a link: HOME is found from /proc/self/exe, which resolves links
shutil.copy(KEYS, os.path.join(D, 'bin', 'postern-keys'))
shutil.copy(os.path.join(BUILD, 'bin', 'postern-tlsio'), os.path.join(D, 'bin', 'postern-tlsio'))
BIN = os.path.join(D, 'bin', 'postern-keys')
TLSIO = os.path.join(D, 'bin', 'postern-tlsio')
NOBODY = 65534
TLS = os.path.join(D, 'secret', 'tls')
SOCK = os.path.join(D, 'run', 'keys', 'socket')
MADE = os.path.join(D, 'made')
UID = os.getuid()
ENV = dict(os.environ)
ENV.pop('POSTERN_HOME', None)
HASHES = {2: 'sha1', 3: 'sha224', 4: 'sha256', 5: 'sha384', 6: 'sha512'}
CURVES = {'P-256': 23, 'P-384': 24, 'P-521': 25}


def openssl(*args, data=None):
    return subprocess.run(('openssl',) + args, input=data, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, check=True).stdout


def made(name, *parts):
    return os.path.join(MADE, name, *parts)


def make(name, newkey):
    """a key and a self-signed certificate for it, in made/NAME/"""
    os.makedirs(made(name))
    openssl('req', '-x509', '-newkey', *newkey, '-nodes', '-subj', '/CN=test', '-days', '30',
            '-keyout', made(name, 'key.pem'), '-out', made(name, 'cert.pem'))


def der(certfile):
    return openssl('x509', '-in', certfile, '-outform', 'DER')


def ders(pemfile):
    """the DER of every certificate in a PEM file, in order"""
    text = open(pemfile).read()
    out, end = [], 0
    while True:
        b = text.find('-----BEGIN CERTIFICATE-----', end)
        if b < 0:
            return out
        end = text.index('-----END CERTIFICATE-----', b) + 25
        out.append(openssl('x509', '-outform', 'DER', data=text[b:end].encode()))


def install(key, cert, mode=0o600):
    """key and cert (files, or None to leave the name absent) into secret/tls/"""
    for src, dst in ((key, 'key.pem'), (cert, 'cert.pem')):
        p = os.path.join(TLS, dst)
        if os.path.exists(p):
            os.unlink(p)
        if src is not None:
            shutil.copy(src, p)
    if key is not None:
        os.chmod(os.path.join(TLS, 'key.pem'), mode)


def Server(*args, nofile=None):
    """postern-keys -d FD -u UID ARGS, started and waited for (tests/service_test.py)"""
    pre = (lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))) if nofile else None
    return service_test.Server([BIN, '-u', str(UID)] + list(args), D, ENV, preexec=pre)


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(10)
    s.connect(SOCK)
    return s


def parse_c(rec):
    """(key type, curve, [DER, ...]) of a C record, or None"""
    if len(rec) < 3 or rec[0:1] != b'C':
        return None
    certs, i = [], 3
    while i < len(rec):
        n = int.from_bytes(rec[i:i + 3], 'big')
        certs.append(rec[i + 3:i + 3 + n])
        i += 3 + n
    return rec[1:2], rec[2], certs if i == len(rec) else None


def exchange(s, record):
    """sends one record, returns the answer and whether the connection then ended"""
    s.send(record)
    ans = s.recv(70000)
    try:
        end = s.recv(100) == b''
    except OSError:
        end = True
    return ans, end


def sign(data, hid, chain=None):
    """data's hash signed through a fresh connection: (C record, answer)"""
    s = connect()
    c = s.recv(70000)
    ans, _ = exchange(s, b'S' + bytes([hid]) + hashlib.new(HASHES[hid], data).digest())
    s.close()
    return c, ans


def verifies(cert, data, hid, sig):
    """openssl's verdict on sig over data with cert's public key"""
    pub = os.path.join(D, 'pub.pem')
    with open(pub, 'wb') as f:
        f.write(openssl('x509', '-in', cert, '-pubkey', '-noout'))
    with open(os.path.join(D, 'data'), 'wb') as f:
        f.write(data)
    with open(os.path.join(D, 'sig'), 'wb') as f:
        f.write(sig)
    r = subprocess.run(['openssl', 'dgst', '-' + HASHES[hid], '-verify', pub, '-signature',
                        os.path.join(D, 'sig'), os.path.join(D, 'data')],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return r.returncode == 0 and b'Verified OK' in r.stdout


def refuses(desc, want, *args):
    """postern-keys exits 111 at once with a fatal line holding want"""
    r = subprocess.run([BIN, '-u', str(UID)] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=ENV, timeout=10)
    err = r.stderr.decode(errors='replace')
    ok = r.returncode == 111 and 'postern-keys: fatal: ' in err and want in err and not sanitized(err)
    check(ok, desc)
    if not ok:
        print('# exit %d: %s' % (r.returncode, err.strip()))


def serve_one(key, cert, data, hid, vcert=None):
    """key and cert installed, postern-keys started, data's hash signed
    through it, and it stopped: (the C record parsed, whether it was ready,
    signed what vcert (default cert) verifies and exited 0, its log)"""
    install(key, cert)
    srv = Server()
    servers.append(srv)
    c, ans = sign(data, hid)
    ok = srv.ready and ans[:1] == b'G' and verifies(vcert or cert, data, hid, ans[1:])
    return parse_c(c), srv.stop() == 0 and ok, srv.log()


def handshake(cert):
    """One TLS handshake with postern-tlsio as the server, as nobody, its
    descriptors as postern-tlsd gives them (doc/tls.md: 0 and 1 the
    application's pipes, 3 and 4 the network, 5 the control socket), and
    Python's ssl as the client, trusting cert alone: (the suite or None,
    the report on the control socket, what the application got of a line
    the client sent, the engine's stderr)"""
    net, peer = socket.socketpair()
    ctl, ctl_engine = socket.socketpair()
    app_in, app_w = os.pipe()
    app_r, app_out = os.pipe()

    def fds():
        # above 5 first: a source may stand where another must go
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (net.fileno(), net.fileno(), ctl_engine.fileno())]
        for fd, to in zip(high, (3, 4, 5)):
            os.dup2(fd, to)
            os.close(fd)
    err = os.path.join(D, 'tlsio.err')
    with open(err, 'wb') as e:
        p = subprocess.Popen([TLSIO], stdin=app_in, stdout=app_out, stderr=e, close_fds=False, env=ENV,
                             user=NOBODY, group=NOBODY, extra_groups=[], preexec_fn=fds)
    for fd in (app_in, app_out):
        os.close(fd)
    net.close()
    ctl_engine.close()
    suite, report, came = None, b'', b''
    try:
        ctx = ssl.create_default_context(cafile=cert)
        ctx.check_hostname = False
        ctl.settimeout(15)
        peer.settimeout(15)
        ctl.sendall(b'Y')
        tls = ctx.wrap_socket(peer, server_hostname='test')
        suite = tls.cipher()[0]
        while not report.endswith(b'\0\0'):
            b = ctl.recv(1000)
            if not b:
                break
            report += b
        tls.sendall(b'EHLO client.test\r\n')
        came = os.read(app_r, 100)
        tls.close()
    except (OSError, ssl.SSLError) as x:
        print('# handshake: %s' % x)
    for c in (ctl, peer):
        c.close()
    for fd in (app_w, app_r):
        os.close(fd)
    try:
        p.wait(15)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    with open(err, errors='replace') as f:
        return suite, report, came, f.read()


def rate(n, hid=4):
    """ms per connection, C record, S record and G answer, n in a row"""
    t = time.perf_counter()
    for i in range(n):
        sign(b'%d' % i, hid)
    return (time.perf_counter() - t) * 1000 / n


servers = []
try:
    make('ec256', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256'])
    make('ec256b', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256'])
    make('ec384', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-384'])
    make('ec521', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-521'])
    make('k1', ['ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1'])
    make('rsa', ['rsa:2048'])
    make('rsab', ['rsa:2048'])
    make('rsa1024', ['rsa:1024'])
    make('ed', ['ed25519'])

    # 1. An EC P-256 key (PKCS#8) and its self-signed certificate.
    install(made('ec256', 'key.pem'), made('ec256', 'cert.pem'))
    srv = Server()
    servers.append(srv)
    check(srv.ready, 'EC P-256: ready (a newline on the -d fd)')
    check(os.path.exists(SOCK) and (os.stat(SOCK).st_mode & 0o777) == 0o666,
          'the socket is there, mode 0666 (run/keys/ decides who reaches it)')
    check('postern-keys: start keytype=EC curve=P-256 bits=256 chain=1 ' in srv.log(),
          'the start line names the key and the chain')
    s = connect()
    c = parse_c(s.recv(70000))
    check(c == (b'E', CURVES['P-256'], [der(made('ec256', 'cert.pem'))]),
          'C record: E, curve 23, the certificate\'s DER')
    ans, end = exchange(s, b'S\x04' + hashlib.sha256(b'hello').digest())
    check(ans[:1] == b'G' and verifies(made('ec256', 'cert.pem'), b'hello', 4, ans[1:]) and end,
          'EC: a sha256 hash signed (openssl verifies it), then the connection closes')
    s.close()
    for hid in (2, 3, 5, 6):
        _, ans = sign(b'other data', hid)
        check(ans[:1] == b'G' and verifies(made('ec256', 'cert.pem'), b'other data', hid, ans[1:]),
              'EC: a %s hash signed and verified' % HASHES[hid])

    # 2. Malformed records: E, a line of text, and the end of the connection.
    h = hashlib.sha256(b'x').digest()
    for rec, what in ((b'X\x04' + h, 'another first byte'),
                      (b'S\x00' + h, 'hash id 0'), (b'S\x01' + h, 'hash id 1'),
                      (b'S\x07' + h, 'hash id 7'), (b'S\x04' + h[:31], 'a 31-byte sha256 value'),
                      (b'S\x04' + h + b'!', 'a 33-byte sha256 value'),
                      (b'S\x05' + h, 'a sha384 id with 32 bytes'), (b'S\x04', 'no hash value'),
                      (b'S', 'no hash id'), (b'S\x04' + h * 8, 'a 258-byte record')):
        s = connect()
        s.recv(70000)
        ans, end = exchange(s, rec)
        check(ans[:1] == b'E' and len(ans) > 1 and end, 'malformed: %s gets E, then EOF' % what)
        s.close()
    s = connect()
    s.recv(70000)
    r, w = os.pipe()
    s.sendmsg([b'S\x04' + h], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', [r]))])
    ans = s.recv(100)
    check(ans == b'Erecord with ancillary data', 'a record with a descriptor along gets E')
    os.close(r)
    os.close(w)
    s.close()
    # two records: both queued before it reads (it is stopped meanwhile)
    srv.p.send_signal(signal.SIGSTOP)
    s = connect()
    s.send(b'S\x04' + h)
    s.send(b'S\x04' + h)
    srv.p.send_signal(signal.SIGCONT)
    s.recv(70000)
    ans = s.recv(100)
    check(ans == b'Emore than one record' and s.recv(100) == b'', 'two records at once get E, then EOF')
    s.close()
    check('postern-keys: error uid=%d why="unknown hash id"' % UID in srv.log(),
          'a malformed record is logged: error uid=N why=...')
    _, ans = sign(b'still there', 4)
    check(ans[:1] == b'G', 'after them all it still signs')

    # 3. A peer with another uid is closed unanswered.
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgid(65534)
            os.setgroups([])
            os.setuid(65534)
            t = connect()
            code = 0 if t.recv(70000) == b'' else 2
        except ConnectionResetError:
            code = 0
        except BaseException:
            code = 3
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0,
          'a client running as nobody gets EOF and no C record')
    check(wait_for(lambda: 'postern-keys: refused uid=65534\n' in srv.log()), 'logged: refused uid=65534')

    # 4. Many at once, and a silent client beside them.
    silent = connect()
    check(parse_c(silent.recv(70000)) is not None, 'a silent client gets its C record')
    t = time.time()
    # a thread of its own waits for the close, so that the time is the
    # server's and not that of the work below (100 signatures checked
    # with openssl take seconds on a loaded machine)
    closed = {}

    def wait_close():
        # past the server's 10 s: connect()'s own 10 s timeout would
        # otherwise end this wait about when the server's does, and a
        # close of ours that reached the server first was no timeout of
        # its (it logged none, and counted timeouts=0)
        silent.settimeout(30)
        try:
            closed['gone'] = silent.recv(100) == b''
        except socket.timeout:
            closed['gone'] = False
        except OSError:
            closed['gone'] = True
        closed['took'] = time.time() - t
    watcher = threading.Thread(target=wait_close, daemon=True)
    watcher.start()
    _, ans = sign(b'beside the silent one', 4)
    check(ans[:1] == b'G' and time.time() - t < 2, 'a client beside a silent one is signed for at once')
    many = [connect() for _ in range(100)]
    cs = [parse_c(m.recv(70000)) for m in many]
    for i, m in enumerate(many):
        m.send(b'S\x04' + hashlib.sha256(b'client %d' % i).digest())
    answers = [m.recv(1000) for m in many]
    check(all(c is not None for c in cs) and all(a[:1] == b'G' for a in answers),
          '100 clients connected at once all get C and then G')
    check(all(verifies(made('ec256', 'cert.pem'), b'client %d' % i, 4, a[1:]) for i, a in enumerate(answers)),
          'all 100 signatures verify, each for its own hash')
    for m in many:
        m.close()
    # the silent one is closed 10 s after it connected
    watcher.join(30)
    took = closed.get('took', -1)
    check(closed.get('gone') and 7 < took < 13, 'the silent client is closed after 10 s idle (%.1f s)' % took)
    silent.close()
    if not check(wait_for(lambda: 'postern-keys: timeout uid=%d\n' % UID in srv.log()), 'logged: timeout uid=N'):
        print('# ' + srv.log()[-1500:].replace('\n', '\n# '))

    print('# EC P-256: %.3f ms per connection, C, S and G (200 in a row)' % rate(200))
    check(srv.stop() == 0, 'SIGTERM: exit 0')
    if not check('postern-keys: stop signatures=307 refused=1 errors=12 timeouts=1 full=0\n' in srv.log(),
                 'SIGTERM: a stop line with the counts'):
        print('# ' + srv.log()[-600:].replace('\n', '\n# '))

    # 5. The limit of 1000, under the usual limit of 1024 descriptors.
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    srv = Server(nofile=1024)
    servers.append(srv)
    held = []
    for _ in range(1000):
        held.append(connect())
    got = sum(1 for m in held if parse_c(m.recv(70000)) is not None)
    check(got == 1000, '1000 connections at once each get a C record (%d)' % got)
    extra = connect()
    try:
        over = extra.recv(70000) == b''
    except OSError:
        over = True
    check(over, 'the 1001st is closed at once, with no C record')
    extra.close()
    check(wait_for(lambda: 'postern-keys: full connections=1000' in srv.log()), 'logged: full connections=1000')
    for m in held[:10]:
        m.close()
    time.sleep(0.2)
    _, ans = sign(b'after the limit', 4)
    check(ans[:1] == b'G', 'with some of them gone a new one is served')
    for m in held[10:]:
        m.close()
    check(srv.stop() == 0, 'and it still exits 0 on SIGTERM')

    # 6. RSA 2048.
    install(made('rsa', 'key.pem'), made('rsa', 'cert.pem'))
    srv = Server()
    servers.append(srv)
    c, ans = sign(b'rsa', 4)
    c = parse_c(c)
    check(srv.ready and c == (b'R', 0, [der(made('rsa', 'cert.pem'))]),
          'RSA 2048: C record: R, curve 0, the certificate\'s DER')
    for hid in (2, 3, 4, 5, 6):
        _, ans = sign(b'rsa data', hid)
        check(ans[:1] == b'G' and len(ans) == 257 and verifies(made('rsa', 'cert.pem'), b'rsa data', hid, ans[1:]),
              'RSA: a %s hash signed, PKCS#1 v1.5, 256 bytes (openssl verifies it)' % HASHES[hid])
    print('# RSA 2048: %.3f ms per connection, C, S and G (100 in a row)' % rate(100))
    check(srv.stop() == 0 and 'postern-keys: stop signatures=106 ' in srv.log(),
          'RSA: exit 0 on SIGTERM, 106 signatures counted')
    trad = made('rsa', 'trad.pem')
    with open(trad, 'wb') as f:
        f.write(openssl('rsa', '-traditional', '-in', made('rsa', 'key.pem')))
    _, ok, _ = serve_one(trad, made('rsa', 'cert.pem'), b'trad', 5)
    check(ok, 'RSA in the traditional form (RSA PRIVATE KEY) signs')

    # 7. P-384, P-521, the traditional EC form with its parameters, a chain.
    for name, curve in (('ec384', 'P-384'), ('ec521', 'P-521')):
        c, ok, _ = serve_one(made(name, 'key.pem'), made(name, 'cert.pem'), b'curve', 5)
        check(ok and c[:2] == (b'E', CURVES[curve]), 'EC %s signs' % curve)
    os.makedirs(made('param'))
    with open(made('param', 'key.pem'), 'wb') as f:
        f.write(openssl('ecparam', '-name', 'prime256v1', '-genkey'))
    openssl('req', '-x509', '-key', made('param', 'key.pem'), '-subj', '/CN=test', '-days', '30',
            '-out', made('param', 'cert.pem'))
    _, ok, _ = serve_one(made('param', 'key.pem'), made('param', 'cert.pem'), b'params', 4)
    check(ok, 'EC PARAMETERS then EC PRIVATE KEY (openssl ecparam -genkey) signs')
    os.makedirs(made('leaf'))
    openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
            '-subj', '/CN=leaf', '-keyout', made('leaf', 'key.pem'), '-out', made('leaf', 'req.pem'))
    openssl('x509', '-req', '-in', made('leaf', 'req.pem'), '-CA', made('ec384', 'cert.pem'),
            '-CAkey', made('ec384', 'key.pem'), '-CAcreateserial', '-days', '30',
            '-out', made('leaf', 'leaf.pem'))
    with open(made('leaf', 'cert.pem'), 'w') as f:
        f.write(open(made('leaf', 'leaf.pem')).read() + open(made('ec384', 'cert.pem')).read())
    c, ok, log = serve_one(made('leaf', 'key.pem'), made('leaf', 'cert.pem'), b'chain', 4, made('leaf', 'leaf.pem'))
    check(c is not None and c[2] == [der(made('leaf', 'leaf.pem')), der(made('ec384', 'cert.pem'))]
          and ' chain=2 ' in log, 'a chain of two: both DERs, server certificate first')
    check(ok, 'signed with the server certificate\'s key')

    # 8. What it refuses to start with: exit 111 and the file named.
    kp, cp = os.path.join(TLS, 'key.pem'), os.path.join(TLS, 'cert.pem')
    install(made('ec256', 'key.pem'), made('ec256b', 'cert.pem'))
    refuses('an EC key with another EC key\'s certificate', 'the key in %s is not the key of the first certificate in %s' % (kp, cp))
    install(made('rsa', 'key.pem'), made('rsab', 'cert.pem'))
    refuses('an RSA key with another RSA key\'s certificate', 'is not the key of the first certificate')
    install(made('ec256', 'key.pem'), made('rsa', 'cert.pem'))
    refuses('an EC key with an RSA certificate', 'is not the key of the first certificate')
    install(made('ec256', 'key.pem'), made('ec256', 'cert.pem'), 0o644)
    refuses('key.pem mode 0644', kp + ' may be read or written by its group or others')
    install(made('ec256', 'key.pem'), made('ec256', 'cert.pem'), 0o640)
    refuses('key.pem mode 0640', 'by its group or others')
    install(None, made('ec256', 'cert.pem'))
    refuses('no key.pem', 'unable to open ' + kp)
    install(made('ec256', 'key.pem'), None)
    refuses('no cert.pem', 'unable to open ' + cp)
    install(made('rsa1024', 'key.pem'), made('rsa1024', 'cert.pem'))
    refuses('RSA 1024', 'the RSA key has 1024 bits')
    install(made('k1', 'key.pem'), made('k1', 'cert.pem'))
    refuses('a certificate for a secp256k1 key', cp + ': the first certificate cannot be used: '
            'it is neither RSA nor EC on P-256, P-384 or P-521')
    install(made('k1', 'key.pem'), made('ec256', 'cert.pem'))
    refuses('an EC key on secp256k1', kp + ': the key cannot be used: it is neither RSA nor EC')
    install(made('ed', 'key.pem'), made('ed', 'cert.pem'))
    refuses('an Ed25519 certificate', 'the first certificate cannot be used: it is neither RSA nor EC')
    install(made('ed', 'key.pem'), made('ec256', 'cert.pem'))
    refuses('an Ed25519 key with an EC certificate', 'the key cannot be used: it is neither RSA nor EC')
    with open(made('empty'), 'w') as f:
        f.write('no PEM here\n')
    install(made('ec256', 'key.pem'), made('empty'))
    refuses('a cert.pem without a certificate', cp + ' holds no certificate')
    install(made('empty'), made('ec256', 'cert.pem'))
    refuses('a key.pem without a key', kp + ' holds no private key')
    with open(made('both'), 'w') as f:
        f.write(open(made('ec256', 'cert.pem')).read() + open(made('ec256', 'key.pem')).read())
    install(made('ec256', 'key.pem'), made('both'))
    refuses('a private key inside cert.pem', 'holds a PEM object that is not a certificate: PRIVATE KEY')
    with open(made('two'), 'w') as f:
        f.write(open(made('ec256', 'key.pem')).read() + open(made('ec256b', 'key.pem')).read())
    install(made('two'), made('ec256', 'cert.pem'))
    refuses('two keys in key.pem', 'more than one private key')
    with open(made('enc'), 'wb') as f:
        f.write(openssl('pkey', '-in', made('ec256', 'key.pem'), '-aes128', '-passout', 'pass:x'))
    install(made('enc'), made('ec256', 'cert.pem'))
    refuses('an encrypted key', 'holds an encrypted key')
    one = open(made('ec384', 'cert.pem')).read()
    with open(made('many'), 'w') as f:
        f.write(open(made('ec256', 'cert.pem')).read() + one * 16)
    install(made('ec256', 'key.pem'), made('many'))
    refuses('17 certificates (postern-tlsio takes 16)', 'more than 16 certificates')
    # 16 certificates over 64 KB: each with a subjectAltName of 300 names
    os.makedirs(made('fat'))
    san = ','.join('DNS:name-%03d.example.test' % i for i in range(300))
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=fat',
            '-days', '30', '-addext', 'subjectAltName=' + san, '-keyout', made('fat', 'key.pem'),
            '-out', made('fat', 'cert.pem'))
    with open(made('long'), 'w') as f:
        f.write(open(made('ec256', 'cert.pem')).read() + open(made('fat', 'cert.pem')).read() * 15)
    install(made('ec256', 'key.pem'), made('long'))
    refuses('a chain over 65,536 bytes', 'the chain is over 65,536 bytes')
    with open(made('huge'), 'w') as f:
        f.write(open(made('ec256', 'cert.pem')).read() + 'x' * (1024 * 1024))
    install(made('ec256', 'key.pem'), made('huge'))
    refuses('a cert.pem over 1 MB', cp + ' is over 1 MB')
    with open(made('bad64'), 'w') as f:
        f.write('-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n')
    install(made('ec256', 'key.pem'), made('bad64'))
    refuses('a certificate that is not base64', 'is not valid base64')
    install(made('ec256', 'key.pem'), made('ec256', 'cert.pem'))
    r = subprocess.run([BIN, 'extra'], stderr=subprocess.PIPE, env=ENV, timeout=10)
    check(r.returncode == 100 and b'usage: postern-keys' in r.stderr, 'an argument: usage, exit 100')
    check(os.path.exists(SOCK), 'a stopped postern-keys leaves its socket (the next one replaces it)')

    # 9. RSA 4096, which BearSSL 0.6's default modulus code (i31) cannot
    # compute: the key matched with its certificate all the same, a 512-byte
    # signature, and a TLS handshake in which postern-keys signs.
    make('rsa4096', ['rsa:4096'])
    install(made('rsa4096', 'key.pem'), made('rsa4096', 'cert.pem'))
    srv = Server()
    servers.append(srv)
    if not check(srv.ready and 'postern-keys: start keytype=RSA bits=4096 ' in srv.log(),
                 'RSA 4096: ready, the start line says bits=4096'):
        print('# ' + srv.log().strip().replace('\n', '\n# '))
    c, ans = sign(b'rsa 4096', 4) if srv.ready else (b'', b'')
    check(parse_c(c) == (b'R', 0, [der(made('rsa4096', 'cert.pem'))]), 'RSA 4096: C record: R, the certificate\'s DER')
    check(ans[:1] == b'G' and len(ans) == 513 and verifies(made('rsa4096', 'cert.pem'), b'rsa 4096', 4, ans[1:]),
          'RSA 4096: a sha256 hash signed, 512 bytes (openssl verifies it)')
    check(srv.stop() == 0, 'RSA 4096: exit 0 on SIGTERM')
    srv = service_test.Server([BIN, '-u', str(NOBODY)], D, ENV)
    servers.append(srv)
    suite, report, came, err = handshake(made('rsa4096', 'cert.pem')) if srv.ready else (None, b'', b'', '')
    check(suite is not None and suite.startswith('ECDHE-RSA-'),
          'RSA 4096: a TLS handshake through postern-tlsio, the certificate verified (%s)' % suite)
    check(suite is not None and b'SSL_CIPHER=' + suite.encode() + b'\0' in report,
          'RSA 4096: the engine\'s report names the suite')
    check(came == b'EHLO client.test\r\n', 'RSA 4096: what the client sends reaches the application')
    check('postern-tlsio: established ' in err and not sanitized(err), 'RSA 4096: the engine logs established')
    check(srv.stop() == 0 and 'postern-keys: stop signatures=1 ' in srv.log(),
          'RSA 4096: postern-keys signed once for the handshake, exit 0')
finally:
    for srv in servers:
        if srv.p.poll() is None:
            srv.p.kill()
            srv.p.wait()
    shutil.rmtree(D, ignore_errors=True)
done()
