"""A stand-in for postern-tlsd and postern-tlsio in the tests of
postern-smtpd's STARTTLS (tests/t-starttls.py), speaking doc/tls.md's two
protocols with Python's ssl module in place of BearSSL.

Service: listens on HOME/run/tlsd/socket (SOCK_SEQPACKET), takes one record
per connection (`S` and five descriptors, SCM_RIGHTS), records what it got,
and answers per its mode:
  'K'       K, then runs an Engine on the five descriptors;
  'Z'       Z and a line of text, closes the descriptors;
  'silent'  nothing: keeps the connection and the descriptors until stop();
  'close'   closes the connection unanswered;
  'drop'    K, then an engine that closes everything at `y`/`Y`, as one
            whose handshake failed;
  'flood'   K, then an engine that answers `Y` with 5,000 bytes and no
            empty string, and waits.

Engine: waits for `y` or `Y` on the control socket, does a TLS server
handshake (TLS 1.2 at most, as BearSSL) on the network descriptor, writes
SSL_PROTOCOL, SSL_CIPHER and SSL_TLS_SNI_SERVERNAME (when the client sent a
name) for `Y`, then relays: the client's plaintext into one pipe, the
application's from the other into TLS records.  EOF from the client (or
its close_notify) closes the application's pipe; EOF from the application
sends close_notify and ends the engine.  One thread, select(), and the ssl
module's memory BIOs, so that no SSL object is used by two threads."""
import os, select, socket, ssl, stat, subprocess, threading


def make_cert(d):
    """A self-signed certificate and key in d: (cert, key)."""
    cert, key = os.path.join(d, 'cert.pem'), os.path.join(d, 'key.pem')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
                    '-days', '2', '-subj', '/CN=example.org'], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def client_context():
    """A client context that takes any certificate (the tests' is self-signed)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def kind(fd):
    m = os.fstat(fd).st_mode
    return 'socket' if stat.S_ISSOCK(m) else 'pipe' if stat.S_ISFIFO(m) else 'other'


def write_all(fd, b):
    while b:
        b = b[os.write(fd, b):]


class Engine(threading.Thread):
    """One TLS session on five descriptors, in doc/tls.md's order: network
    read, network write, control, plaintext from the application, plaintext
    to the application.  It owns and closes all five."""

    def __init__(self, fds, cert, key, mode='K'):
        super().__init__(daemon=True)
        self.fds = list(fds)
        self.cert, self.key, self.mode = cert, key, mode
        self.sni = None
        self.command = None   # b'y' or b'Y' once the application sent it
        self.error = None     # why the handshake failed
        self.finished = threading.Event()

    def context(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.cert, self.key)

        def on_sni(obj, name, c):
            self.sni = name
        ctx.sni_callback = on_sni
        return ctx

    def run(self):
        try:
            self.session()
        except (OSError, ssl.SSLError) as e:
            self.error = self.error or repr(e)
        finally:
            for fd in set(self.fds):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self.finished.set()

    def session(self):
        net_r, net_w, ctl, app_in, app_out = self.fds
        self.command = os.read(ctl, 1)
        if self.command not in (b'y', b'Y') or self.mode == 'drop':
            self.error = 'dropped' if self.mode == 'drop' else 'no y or Y: %r' % self.command
            return
        if self.mode == 'flood':
            write_all(ctl, b'SSL_PROTOCOL=' + b'x' * 5000)
            os.read(ctl, 1)  # until the application gives up
            return
        inc, outg = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = self.context().wrap_bio(inc, outg, server_side=True)

        def flush():
            data = outg.read()
            if data:
                write_all(net_w, data)
        while True:
            try:
                obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                flush()
                r, _, _ = select.select([net_r], [], [], 60)
                d = os.read(net_r, 65536) if r else b''
                if not d:
                    self.error = 'client gone or silent during the handshake'
                    return
                inc.write(d)
        flush()
        if self.command == b'Y':
            rep = b'SSL_PROTOCOL=%s\0SSL_CIPHER=%s\0' % (obj.version().encode(), obj.cipher()[0].encode())
            if self.sni:
                rep += b'SSL_TLS_SNI_SERVERNAME=%s\0' % self.sni.encode()
            write_all(ctl, rep + b'\0')
        self.relay(obj, inc, flush, net_r, app_in, app_out)

    def relay(self, obj, inc, flush, net_r, app_in, app_out):
        net_open = True
        while True:
            r, _, _ = select.select([app_in] + ([net_r] if net_open else []), [], [], 600)
            if not r:
                return
            if net_open and net_r in r:
                net_open = self.from_client(obj, inc, net_r, app_out)
                flush()
                if not net_open:
                    os.close(app_out)  # EOF for the application
                    self.fds = [f for f in self.fds if f != app_out]
            if app_in in r:
                d = os.read(app_in, 65536)
                if not d:
                    try:
                        obj.unwrap()  # close_notify
                    except ssl.SSLError:
                        pass
                    flush()
                    return
                obj.write(d)
                flush()

    def from_client(self, obj, inc, net_r, app_out):
        """Decrypts what came; False once the client is done."""
        try:
            d = os.read(net_r, 65536)
        except ConnectionError:
            d = b''
        if d:
            inc.write(d)
        else:
            inc.write_eof()
        while True:
            try:
                p = obj.read(65536)
            except ssl.SSLWantReadError:
                return bool(d)
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return False
            if not p:
                return False
            write_all(app_out, p)


class Service:
    """The fake postern-tlsd on HOME/run/tlsd/socket."""

    def __init__(self, home, cert, key, mode='K'):
        d = os.path.join(home, 'run', 'tlsd')
        os.makedirs(d, exist_ok=True)
        os.chmod(os.path.join(home, 'run'), 0o755)
        os.chmod(d, 0o755)
        self.path = os.path.join(d, 'socket')
        self.cert, self.key, self.mode = cert, key, mode
        self.requests = []  # (data, [kind of each fd], recvmsg flags)
        self.engines = []
        self.held = []
        self.stopping = False
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o666)  # postern-smtpd's user connects
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        c.settimeout(10)
        try:
            data, fds, flags, _ = socket.recv_fds(c, 64, 16)
        except OSError:
            c.close()
            return
        self.requests.append((data, [kind(f) for f in fds], flags))
        mode = self.mode
        if mode == 'silent':
            self.held.append((c, fds))
            return
        if mode in ('K', 'drop', 'flood') and data == b'S' and len(fds) == 5:
            c.send(b'K')
            c.close()
            e = Engine(fds, self.cert, self.key, mode)
            self.engines.append(e)
            e.start()
            return
        if mode != 'close':
            c.send(b'Zbusy: 8 engines running\n' if mode == 'Z' else b'Zbad request\n')
        c.close()
        for f in fds:
            os.close(f)

    def release(self):
        """Lets go of what 'silent' held."""
        for c, fds in self.held:
            c.close()
            for f in fds:
                os.close(f)
        self.held = []

    def stop(self):
        self.stopping = True
        self.thread.join(2)
        self.sock.close()
        self.release()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
