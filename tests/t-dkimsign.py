#!/usr/bin/python3
"""postern-dkimsign on its own (doc/dkim.md, postern-dkimsign(8)): a
scratch home with the program, a stub postern-queue that records what it
is handed (message on fd 0, envelope on fd 1, and writes a reply back on
fd 1 as the real one writes its queue id), and a fake postern-dkim on
HOME/run/dkim/socket that signs with keys made here (PyNaCl for Ed25519,
python3-cryptography for RSA).  The signed messages are checked with
dkimpy (python3-dkim) against those keys; the refusals: no From, two
From, a group, a domain without keys (unsigned, logged with -v), the key
holder absent, closing, answering nonsense or a bad signature length (exit
74), control/databytes (31), an abandoned message (no envelope: nothing
queued).  Runs against POSTERN_BUILD's program (the ASan build too)."""
import base64, os, re, shutil, socket, subprocess, sys, tempfile, threading, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smtptest import BUILD
from tap import check, done

import dkim
import nacl.signing
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

HOME = tempfile.mkdtemp(prefix='postern-dkimsign.', dir='/tmp')
for d in ('bin', 'control', 'run/dkim', 'stub'):
    os.makedirs(os.path.join(HOME, d))
shutil.copy(os.path.join(BUILD, 'bin', 'postern-dkimsign'), os.path.join(HOME, 'bin'))
STUB = '''#!/bin/sh
d=$(dirname "$0")/../stub
cat > "$d/msg.tmp" || exit 54
cat <&1 > "$d/env.tmp" || exit 54
[ -s "$d/env.tmp" ] || { rm -f "$d/msg.tmp" "$d/env.tmp"; exit 54; }
mv "$d/msg.tmp" "$d/msg" && mv "$d/env.tmp" "$d/env" && printf 'ID123' >&1
'''
with open(os.path.join(HOME, 'bin', 'postern-queue'), 'w') as f:
    f.write(STUB)
os.chmod(os.path.join(HOME, 'bin', 'postern-queue'), 0o755)
SOCK = os.path.join(HOME, 'run', 'dkim', 'socket')
with open(os.path.join(HOME, 'control', 'dkimdomains'), 'w') as f:
    f.write('# the fake key holder has these\nexample.test ed1\nexample.test rsa1\n')

ED = nacl.signing.SigningKey.generate()
RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RECORDS = {
    'ed1._domainkey.example.test': 'v=DKIM1; k=ed25519; p=' + base64.b64encode(bytes(ED.verify_key)).decode(),
    'rsa1._domainkey.example.test': 'v=DKIM1; k=rsa; p=' + base64.b64encode(RSA.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode(),
}


def dnsfunc(name, timeout=5):
    if isinstance(name, bytes):
        name = name.decode()
    return RECORDS.get(name.rstrip('.'), '').encode()


class Fake:
    """postern-dkim as doc/dkim.md has it; mode changes how it misbehaves"""
    def __init__(self):
        self.mode = 'ok'
        self.asked = []
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.s.bind(SOCK)
        self.s.listen(16)
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            c, _ = self.s.accept()
            try:
                self.serve(c)
            except OSError:
                pass
            c.close()

    def serve(self, c):
        d = c.recv(4096)
        self.asked.append(d)
        if self.mode == 'close':
            return
        if self.mode == 'silent':  # accepts, reads the D, never answers
            time.sleep(5)
            return
        if self.mode == 'garbage':
            c.send(b'Kexample.test')
            return
        dom = d[1:].decode()
        while dom and dom != 'example.test' and '.' in dom:
            dom = dom.split('.', 1)[1] if dom.count('.') > 1 else ''
        if dom != 'example.test':
            c.send(b'N')
            return
        c.send(b'Kexample.test\0eed1\0rrsa1\0')
        while True:
            r = c.recv(4096)
            if not r:
                return
            self.asked.append(r)
            if r[0:1] != b'S' or len(r) != 34:
                return
            if self.mode == 'refuse':
                c.send(b'Fno')
                continue
            if r[1:2] == b'e':
                sig = ED.sign(r[2:]).signature
            else:
                sig = RSA.sign(r[2:], padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
            if self.mode == 'short':
                sig = sig[:-1]
            c.send(b'G' + sig)


FAKE = Fake()


def sign(msg, args=('-v',), envelope=b'Fa@example.test\0Tb@example.test\0\0', env=None):
    """runs postern-dkimsign with msg on fd 0 and one end of a socket pair
    on fd 1: (exit code, stderr, what the stub queued, what came back)"""
    for n in ('msg', 'env'):
        try:
            os.unlink(os.path.join(HOME, 'stub', n))
        except FileNotFoundError:
            pass
    a, b = socket.socketpair()
    e = dict(os.environ if env is None else env)
    e['POSTERN_HOME'] = HOME
    p = subprocess.Popen([os.path.join(HOME, 'bin', 'postern-dkimsign')] + list(args), stdin=subprocess.PIPE,
                         stdout=b.fileno(), stderr=subprocess.PIPE, env=e)
    b.close()
    try:
        p.stdin.write(msg)
        p.stdin.close()
    except BrokenPipeError:
        pass
    if envelope is not None:
        try:
            a.sendall(envelope)
        except (BrokenPipeError, ConnectionResetError):
            pass  # it left before reading it (a usage error: exit 81)
    a.shutdown(socket.SHUT_WR)
    back = b''
    a.settimeout(60)
    while True:
        try:
            x = a.recv(4096)
        except ConnectionResetError:  # it left with the envelope unread
            break
        if not x:
            break
        back += x
    err = p.stderr.read()
    p.wait()
    a.close()
    try:
        queued = open(os.path.join(HOME, 'stub', 'msg'), 'rb').read()
    except FileNotFoundError:
        queued = None
    return p.returncode, err.decode(errors='replace'), queued, back


def verdicts(m):
    m = re.sub(rb'\r?\n', b'\r\n', m)
    n = len(re.findall(rb'(?im)^dkim-signature:', m.split(b'\r\n\r\n', 1)[0]))
    out = []
    for i in range(n):
        v = dkim.DKIM(m)
        try:
            out.append(bool(v.verify(idx=i, dnsfunc=dnsfunc)))
        except Exception as ex:
            print('# dkimpy: %s' % ex)
            out.append(False)
    return out


MSG = (b'Received: from client (client [10.0.0.1]) by mx; Mon, 30 Nov 2026 12:00:00 +0000\n'
       b'From: Alice <alice@example.test>\nTo: bob@elsewhere.test\nSubject:  a   test \n'
       b'Date: Mon, 30 Nov 2026 12:00:00 +0000\nMessage-ID: <1@example.test>\n\n'
       b'Hello,  world \t\n\nbye\n\n\n')

try:
    code, err, q, back = sign(MSG)
    check(code == 0 and back == b'ID123', 'signed and handed to postern-queue, whose answer comes back on fd 1')
    check(q is not None and q.endswith(MSG) and q.count(b'DKIM-Signature:') == 2,
          'the queue gets two DKIM-Signature fields and then the message byte for byte')
    check(q is not None and open(os.path.join(HOME, 'stub', 'env'), 'rb').read() == b'Fa@example.test\0Tb@example.test\0\0',
          'the envelope reaches postern-queue untouched')
    check(q is not None and verdicts(q) == [True, True], 'dkimpy verifies both (Ed25519 and RSA)')
    check(re.search(r'dkim signed d=example\.test s=ed1 a=ed25519-sha256 s=rsa1 a=rsa-sha256', err) is not None,
          '-v logs what signed')
    check(FAKE.asked[-3][:1] == b'D' and FAKE.asked[-3][1:] == b'example.test', 'it asked for the From domain')
    if q:
        bad = q.replace(b'bye', b'Bye')
        check(verdicts(bad) == [False, False], 'a changed body fails both')
        head = q.split(b'\n\n', 1)[0]
        long = [l for l in head.split(b'\nReceived:')[0].split(b'\n') if len(l) > 78]
        check(not long, 'the signature fields fold within 78 characters a line')
        if long:
            print('# %r' % long)

    code, err, q, back = sign(MSG, args=())
    check(code == 0 and q is not None and q.count(b'DKIM-Signature:') == 2 and err == '',
          'without -v it signs and says nothing')

    sub = MSG.replace(b'alice@example.test', b'alice@lists.Example.TEST.')
    code, err, q, back = sign(sub)
    check(code == 0 and q is not None and verdicts(q) == [True, True] and b'd=example.test' in q,
          'a subdomain (in any case, with a trailing dot) is signed by the parent\'s keys')

    # crlf-stored and odd bodies still verify
    for what, m in (('an empty body', MSG.split(b'\n\n', 1)[0] + b'\n\n'),
                    ('no body at all', MSG.split(b'\n\n', 1)[0] + b'\n'),
                    ('a last line without LF', MSG + b'tail'),
                    ('folded fields', MSG.replace(b'Subject:  a   test \n', b'Subject: a\n\tfolded\n  subject\n')),
                    ('200 KB of body', MSG + b''.join(b'line %d \t with  runs\n' % i for i in range(10000))),
                    ('8-bit text', MSG + 'caf\u00e9 \u00fcber\n'.encode())):
        code, err, q, back = sign(m)
        check(code == 0 and q is not None and verdicts(q) == [True, True], '%s: signed, and verifies' % what)

    for what, m, why in (('no From', MSG.replace(b'From: Alice <alice@example.test>\n', b''), 'no_single_from_address'),
                         ('two From fields', MSG.replace(b'To:', b'From: x@example.test\nTo:'), 'no_single_from_address'),
                         ('two addresses', MSG.replace(b'<alice@example.test>', b'a@example.test, b@example.test'),
                          'no_single_from_address'),
                         ('a group', MSG.replace(b'Alice <alice@example.test>', b'g: a@example.test;'),
                          'no_single_from_address'),
                         ('a domain without keys', MSG.replace(b'example.test>', b'other.test>'), 'no_key'),
                         ('a header line that is no field', MSG.replace(b'To:', b'garbage line\nTo:'),
                          'header_unreadable'),
                         ('a NUL in the header', MSG.replace(b'Subject:', b'Sub\0ject:'), 'header_unreadable'),
                         ('an empty message', b'', 'empty')):
        code, err, q, back = sign(m)
        check(code == 0 and q == m and 'dkim unsigned why=' + why in err,
              '%s: queued unsigned, unchanged, logged why=%s' % (what, why))

    for mode, what in (('close', 'closes without an answer'), ('garbage', 'answers nonsense'),
                       ('refuse', 'refuses to sign'), ('short', 'sends a signature of the wrong length')):
        FAKE.mode = mode
        code, err, q, back = sign(MSG)
        check(code == 74 and q is None and back == b'' and 'unable to sign' in err,
              'the key holder %s: exit 74, nothing queued' % what)
    # -t (postern-send's bounces): a key holder that never answers holds
    # the signer that long, not its own 30 s a record
    FAKE.mode = 'silent'
    t0 = time.time()
    code, err, q, back = sign(MSG, args=('-v', '-t', '1'))
    took = time.time() - t0
    check(code == 52 and q is None and took < 4,
          '-t 1, a key holder that never answers: exit 52 after %.1f s, nothing queued' % took)
    FAKE.mode = 'ok'
    code, err, q, back = sign(MSG, args=('-v', '-t', '15'))
    check(code == 0 and q is not None and b'DKIM-Signature' in q, '-t 15 and an answering key holder: signed and queued')
    for bad in ('0', 'x', '86401', ''):
        code, err, q, back = sign(MSG, args=('-t', bad))
        check(code == 81 and q is None, '-t %r: a usage error (81)' % bad)
    os.rename(SOCK, SOCK + '.away')
    code, err, q, back = sign(MSG)
    check(code == 74 and q is None and 'unable to connect to postern-dkim' in err, 'no key holder: exit 74')
    os.rename(SOCK + '.away', SOCK)

    with open(os.path.join(HOME, 'control', 'databytes'), 'w') as f:
        f.write('1000\n')
    code, err, q, back = sign(MSG + b'x' * 70000)
    check(code == 31 and q is None, 'over control/databytes and 64 KB: exit 31, nothing queued')
    code, err, q, back = sign(MSG + b'x' * 1000)
    check(code == 0 and q is not None, 'under it: queued (the 64 KB allowance as postern-queue\'s)')
    os.unlink(os.path.join(HOME, 'control', 'databytes'))

    n = len(FAKE.asked)
    code, err, q, back = sign(MSG, envelope=None)
    check(q is None and code == 54 and len(FAKE.asked) == n,
          'a caller that gives up (no envelope): exit 54, nothing queued, the key holder not asked')
    r, w = os.pipe()
    os.close(w)
    p = subprocess.run([os.path.join(HOME, 'bin', 'postern-dkimsign')], input=MSG, stdout=r,
                       stderr=subprocess.PIPE, env=dict(os.environ, POSTERN_HOME=HOME))
    os.close(r)
    check(p.returncode == 54 and len(FAKE.asked) == n, 'the same with the envelope on a closed pipe (postern-inject)')

    # who may sign what: -d, the login's domains (postern-smtpd -a gives them)
    code, err, q, back = sign(MSG, args=('-v', '-d', 'Example.Test'))
    check(code == 0 and q is not None and verdicts(q) == [True, True], '-d example.test: its From is signed')
    code, err, q, back = sign(sub, args=('-v', '-d', 'example.test'))
    check(code == 0 and q is not None and verdicts(q) == [True, True], 'and a subdomain of it')
    n = len(FAKE.asked)
    code, err, q, back = sign(MSG, args=('-v', '-d', 'other.test', '-d', 'xexample.test'))
    check(code == 0 and q == MSG and 'why=not_a_login_domain from_domain=example.test' in err and len(FAKE.asked) == n,
          '-d other.test: a From at example.test goes unsigned, the key holder not asked')
    code, err, q, back = sign(MSG, args=('-d', 'bad..name'))
    check(code == 81 and q is None, 'a malformed -d: exit 81')
    # -f, a single address control/senderlogins gives a login: that From
    # exactly (any case, a display name and comments around it), no other
    code, err, q, back = sign(MSG.replace(b'Alice <alice@', b'Alice (the shop) <ALICE@'),
                              args=('-v', '-d', 'other.test', '-f', 'alice@Example.Test'))
    check(code == 0 and q is not None and verdicts(q) == [True, True], '-f alice@example.test: that From is signed')
    n = len(FAKE.asked)
    for frm, what in ((b'bob@example.test', 'another address at its domain'), (b'alice@sub.example.test', 'a subdomain'),
                      (b'"alice"@example.test', 'the local part quoted'), (b'xalice@example.test', 'a longer local part')):
        code, err, q, back = sign(MSG.replace(b'alice@example.test', frm), args=('-v', '-d', 'other.test', '-f',
                                                                                 'alice@example.test'))
        check(code == 0 and q is not None and b'DKIM-Signature' not in q and 'why=not_a_login_domain' in err and
              len(FAKE.asked) == n, '-f alice@example.test: %s goes unsigned, the key holder not asked' % what)
    for bad in ('alice', '@example.test', 'a"b@example.test', 'alice@bad..name'):
        code, err, q, back = sign(MSG, args=('-f', bad))
        check(code == 81 and q is None, 'a malformed -f (%s): exit 81' % bad)

    # a domain without keys never waits on the key holder
    os.rename(SOCK, SOCK + '.away')
    code, err, q, back = sign(MSG.replace(b'example.test>', b'other.test>'))
    check(code == 0 and q is not None and 'why=no_key' in err,
          'no key in control/dkimdomains for the From domain: unsigned, postern-dkim not needed')
    os.rename(SOCK + '.away', SOCK)

    code, err, q, back = sign(MSG, args=('-x',))
    check(code == 100 and 'usage' in err, 'an unknown option: usage, 100')
finally:
    shutil.rmtree(HOME, ignore_errors=True)
done()
