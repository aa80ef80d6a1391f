#!/usr/bin/python3
"""SMTP servers for the outbound TLS tests (tests/t-remote-tls.sh,
tests/t-dane.sh): one on port 25 of each address listed, a thread per
connection.

usage: tls_servers.py OUT PKI USER PASSWORD IP[:OPTION,...]...

OPTION: cert=NAME, STARTTLS with PKI/NAME.pem (its chain) and PKI/NAME.key;
tls13, that TLS in 1.3 only; auth, AUTH PLAIN offered for USER and
PASSWORD; garbage, 220 to STARTTLS and then no TLS at all; inject, a
second reply in the same packet as the 220 to STARTTLS.

Each connection leaves OUT/conn.IP.N (the commands it got, the TLS version
and suite, the SNI, the AUTH user and whether it came inside TLS, a
handshake's error) and each message OUT/msg.IP.N; OUT/busy.IP.N is there
while the connection is open, and OUT/ready once every address listens."""
import base64, os, socket, ssl, sys, threading, time
out, pki, user, pw = sys.argv[1], sys.argv[2], sys.argv[3].encode(), sys.argv[4].encode()
n = [0]
lock = threading.Lock()
def ctx(name, tls13=False):
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    c.load_cert_chain(os.path.join(pki, name + '.pem'), os.path.join(pki, name + '.key'))
    if tls13:
        c.minimum_version = ssl.TLSVersion.TLSv1_3
    def sni(sock, server_name, c_):
        sock.sni = server_name
    c.sni_callback = sni
    return c
class Lines:
    def __init__(self, s): self.s, self.buf = s, b''
    def line(self):
        while b'\n' not in self.buf:
            d = self.s.recv(4096)
            if not d: return b''
            self.buf += d
        l, _, self.buf = self.buf.partition(b'\n')
        return l + b'\n'
def session(conn, ip, tls=None, auth=False, garbage=False, inject=False):
    with lock:
        n[0] += 1; k = n[0]
    rec = {'cmds': [], 'tls': '', 'sni': '', 'auth': '', 'err': ''}
    busy = os.path.join(out, 'busy.%s.%d' % (ip, k))
    open(busy, 'w').close()
    r = Lines(conn)
    def say(t): conn.sendall(t + b'\r\n')
    try:
        say(b'220 ' + ip.encode() + b' ESMTP test')
        data, body = False, b''
        while True:
            l = r.line()
            if not l: break
            if data:
                if l in (b'.\r\n', b'.\n'):
                    data = False
                    with open(os.path.join(out, 'msg.%s.%d' % (ip, k)), 'wb') as f:
                        f.write(('X-TLS: %s\nX-Auth: %s\nX-Cmds: %s\n' % (rec['tls'], rec['auth'], ','.join(rec['cmds']))).encode() + body)
                    say(b'250 2.0.0 taken')
                else:
                    body += l
                continue
            w = l.split()
            cmd = w[0].upper().decode() if w else ''
            rec['cmds'].append(cmd)
            if cmd == 'EHLO':
                ext = [b'250-' + ip.encode(), b'250-8BITMIME']
                if tls and not rec['tls']: ext.append(b'250-STARTTLS')
                if auth: ext.append(b'250-AUTH PLAIN')
                ext.append(b'250 SIZE 1000000')
                conn.sendall(b'\r\n'.join(ext) + b'\r\n')
            elif cmd == 'STARTTLS':
                if r.buf: rec['err'] = 'client pipelined after STARTTLS'; break
                if inject:
                    conn.sendall(b'220 2.0.0 go ahead\r\n250 2.0.0 injected\r\n')
                    time.sleep(0.5); break
                say(b'220 2.0.0 go ahead')
                if garbage:
                    conn.sendall(b'this is not TLS at all\r\n' * 20); time.sleep(1); break
                try:
                    conn = tls.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError) as e:
                    rec['err'] = 'handshake: %s' % e; break
                rec['tls'] = '%s %s' % (conn.version(), conn.cipher()[0])
                rec['sni'] = getattr(conn, 'sni', None) or ''
                r = Lines(conn)
            elif cmd == 'AUTH':
                ok = len(w) == 3 and w[1].upper() == b'PLAIN' and base64.b64decode(w[2]) == b'\0' + user + b'\0' + pw
                rec['auth'] = ('%s in %s' % (user.decode(), 'tls' if rec['tls'] else 'clear')) if ok else 'bad'
                say(b'235 2.7.0 ok' if ok else b'535 5.7.8 no')
            elif cmd == 'DATA': say(b'354 go on'); data = True
            elif cmd == 'QUIT': say(b'221 bye'); break
            else: say(b'250 ok')
    except OSError as e:
        rec['err'] = rec['err'] or str(e)
    try: conn.close()
    except OSError: pass
    with open(os.path.join(out, 'conn.%s.%d' % (ip, k)), 'w') as f:
        for key in ('cmds', 'tls', 'sni', 'auth', 'err'):
            v = rec[key]
            f.write('%s: %s\n' % (key, ','.join(v) if isinstance(v, list) else v))
    os.remove(busy)
def listen(ip, kw):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ip, 25)); s.listen(20)
    while True:
        c, _ = s.accept()
        threading.Thread(target=session, args=(c, ip), kwargs=kw, daemon=True).start()
for spec in sys.argv[5:]:
    ip, _, opts = spec.partition(':')
    kw, cert, tls13 = {}, None, False
    for o in filter(None, opts.split(',')):
        if o.startswith('cert='):
            cert = o[5:]
        elif o == 'tls13':
            tls13 = True
        else:
            kw[o] = True
    if cert:
        kw['tls'] = ctx(cert, tls13=tls13)
    threading.Thread(target=listen, args=(ip, kw), daemon=True).start()
time.sleep(0.5)
open(os.path.join(out, 'ready'), 'w').close()
while True:
    time.sleep(3600)
