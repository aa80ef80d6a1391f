#!/usr/bin/env python3
"""postern-dkimkey and postern-dkim, the DKIM key maker and key holder
(doc/dkim.md), on their own: a scratch HOME with copies of both
programs, secret/dkim/ postern-dkim's, keys made by postern-dkimkey (RSA
and Ed25519) and by the openssl command (RSA in PKCS#1 and PKCS#8, 4096
bits, Ed25519), and this script as postern-dkimsign: a real AF_UNIX
SOCK_SEQPACKET client, as root (a local user) or as another uid (a
forked child's, tests/service_test.py's ask_as, or a connection made
with that effective uid).  Checks the key files' owners and modes, the
refusal of a selector taken, the DNS record (-p prints it again; its p=
is the key openssl reads from the file), every signature verified with
the public key of the printed record (python3-cryptography:
RSASSA-PKCS1-v1_5 over the SHA-256 digest, Ed25519 over the 32 bytes),
the parent walk, N for a domain without keys, each protocol error
closing the connection, the idle timeout renewed at each record, the
uids served (postern-submit's or -u's, local users only with
control/dkimlocal 1, never one of postern's), a local uid's limit of 8
connections under way (none for -u's), names of keys whose record name
SELECTOR._domainkey.DOMAIN is 253 bytes (served) or 254 (refused by
both programs), an RSA or Ed25519 signature made faulty by a byte of the key
flipped in postern-dkim's memory (/proc/PID/mem) answered F, the keys
locked in memory, SIGHUP, the log lines, and exit 111 with the file (and
line) named for each bad control line and key.  Run as root; postern's users that do not exist are made with
useradd and removed at the end."""
import base64, hashlib, os, pwd, grp, re, shutil, signal, socket, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import service_test
from service_test import is_open, sanitized, recv_record as recv, send_record as send
from smtptest import BUILD, SRC, set_control
from tap import check, done, wait_for
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, utils

SUBMIT_STANDIN = 64381  # served with -u
LOCAL = 64382           # a uid in no passwd file: a local user
LOCAL2 = 64383          # another
D = tempfile.mkdtemp(prefix='postern-test-dkimkeys.')
os.chmod(D, 0o755)
for sub in ('bin', 'secret/dkim', 'run/dkim', 'control', 'made', 'logs'):
    os.makedirs(os.path.join(D, sub))
for sub in ('secret', 'run', 'control', 'made', 'logs'):
    os.chmod(os.path.join(D, sub), 0o755)
# copies, not links: HOME is found from /proc/self/exe, which resolves links
for prog in ('postern-dkim', 'postern-dkimkey'):
    shutil.copy(os.path.join(BUILD, 'bin', prog), os.path.join(D, 'bin', prog))
DKIM = os.path.join(D, 'bin', 'postern-dkim')
KEYMAKER = os.path.join(D, 'bin', 'postern-dkimkey')
KEYS = os.path.join(D, 'secret', 'dkim')
SOCK = os.path.join(D, 'run', 'dkim', 'socket')
CONTROL = os.path.join(D, 'control')
DOMAINS = os.path.join(CONTROL, 'dkimdomains')
MADE = os.path.join(D, 'made')
ENV = dict(os.environ)
ENV.pop('POSTERN_HOME', None)


def sh(*cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


# postern's users (conf-users): postern-dkim owns the keys and runs the
# service, and every one must exist for control/dkimlocal 1
with open(os.path.join(SRC, 'conf-users')) as f:
    CONF_USERS = [l.strip() for l in f if l.strip()]
MADE_USERS = []
for name in CONF_USERS:
    try:
        pwd.getpwnam(name)
    except KeyError:
        try:
            grp.getgrnam('postern-nofiles')
            group = ['-g', 'postern-nofiles']
        except KeyError:
            group = ['--user-group']
        if sh('useradd', '--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell',
              '/usr/sbin/nologin', *group, name).returncode == 0:
            MADE_USERS.append(name)
DK = pwd.getpwnam('postern-dkim')
SUBMIT = pwd.getpwnam('postern-submit')
SMTPD = pwd.getpwnam('postern-smtpd')
os.chown(KEYS, DK.pw_uid, DK.pw_gid)
os.chmod(KEYS, 0o700)
os.chown(os.path.join(D, 'run', 'dkim'), DK.pw_uid, DK.pw_gid)
os.chmod(os.path.join(D, 'run', 'dkim'), 0o755)


def as_user(uid, gid):
    def pre():
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    return pre


def keymaker(*args, uid=None):
    """postern-dkimkey ARGS (as root, or as uid): (exit code, stdout, stderr)"""
    r = subprocess.run([KEYMAKER] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV,
                       preexec_fn=as_user(uid, uid) if uid is not None else None, timeout=120)
    err = r.stderr.decode(errors='replace')
    if sanitized(err):
        print('# ' + err.replace('\n', '\n# '))
        return -1, r.stdout.decode(), err
    return r.returncode, r.stdout.decode(), err


def openssl(*args):
    return subprocess.run(('openssl',) + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True).stdout


def made(name):
    return os.path.join(MADE, name)


def keyfile(domain, selector):
    return os.path.join(KEYS, domain, selector)


def put(src, domain, selector, mode=0o600):
    """src (a file of made/) as the key HOME/secret/dkim/DOMAIN/SELECTOR,
    postern-dkim's"""
    d = os.path.join(KEYS, domain)
    os.makedirs(d, exist_ok=True)
    os.chown(d, DK.pw_uid, DK.pw_gid)
    os.chmod(d, 0o700)
    p = os.path.join(d, selector)
    if os.path.exists(p):
        os.unlink(p)
    shutil.copy(src, p)
    os.chown(p, DK.pw_uid, DK.pw_gid)
    os.chmod(p, mode)


def domains(*lines):
    set_control(CONTROL, 'dkimdomains', None if lines == (None,) else ''.join(l + '\n' for l in lines), newline=False)


def record_parts(out):
    """(the strings of a zone-file TXT record, their tags) or None"""
    m = re.match(r'^([a-z0-9._-]+)\._domainkey\.([a-z0-9.-]+)\. IN TXT \( ((?:"[^"]*"\s*)+)\)\n$', out)
    if not m:
        return None
    strings = re.findall(r'"([^"]*)"', m.group(3))
    tags = dict(t.strip().split('=', 1) for t in ''.join(strings).split(';') if t.strip())
    return m.group(1), m.group(2), strings, tags


def public_of_record(out):
    """the public key a record publishes (a cryptography object)"""
    _, _, _, tags = record_parts(out)
    raw = base64.b64decode(tags['p'])
    if tags['k'] == 'ed25519':
        return ed25519.Ed25519PublicKey.from_public_bytes(raw)
    return serialization.load_der_public_key(raw)


def public_of_file(path):
    with open(path, 'rb') as f:
        return serialization.load_pem_private_key(f.read(), None).public_key()


def verifies(pub, digest, sig):
    try:
        if isinstance(pub, ed25519.Ed25519PublicKey):
            pub.verify(sig, digest)
        else:
            pub.verify(sig, digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
        return True
    except Exception:
        return False


def Server(*args, uids=(SUBMIT_STANDIN,)):
    """postern-dkim -d FD [-u UID...] ARGS as postern-dkim, started and
    waited for (tests/service_test.py)"""
    u = []
    for x in uids:
        u += ['-u', str(x)]
    srv = service_test.Server([DKIM] + u + list(args), os.path.join(D, 'logs'), ENV,
                              preexec=as_user(DK.pw_uid, DK.pw_gid))
    servers.append(srv)
    return srv


def refuses(desc, want, uids=(SUBMIT_STANDIN,), code=111, user=True):
    """postern-dkim exits code at once with a fatal line holding want"""
    u = []
    for x in uids:
        u += ['-u', str(x)]
    r = subprocess.run([DKIM] + u, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, timeout=30,
                       preexec_fn=as_user(DK.pw_uid, DK.pw_gid) if user else None)
    err = r.stderr.decode(errors='replace')
    ok = r.returncode == code and 'postern-dkim: fatal: ' in err and want in err and not sanitized(err)
    check(ok, desc)
    if not ok:
        print('# exit %d: %s' % (r.returncode, err.strip()))


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(10)
    end = time.time() + 10
    while True:
        try:
            s.connect(SOCK)
            return s
        except BlockingIOError:  # the backlog is full (64): postern-dkim takes 16 at a time
            if time.time() > end:
                raise
            time.sleep(0.01)


def ask(rec):
    """one record on a new connection: (answer, the connection)"""
    s = connect()
    send(s, rec)
    return recv(s), s


def digest(i):
    return hashlib.sha256(b'message %d' % i).digest()


def d_as(uid, name=b'example.com'):
    """a D record from a child of uid (and gid uid): the answer, b'' when
    closed unread, None when the child failed"""
    return service_test.ask_as(SOCK, uid, uid, b'D' + name)


def connect_as(uid):
    """a connection made with the effective uid uid, the one postern-dkim
    is told (SO_PEERCRED); root again after it"""
    os.seteuid(uid)
    try:
        return connect()
    finally:
        os.seteuid(0)


def long_name(n, c):
    """a name of n bytes of labels of 63 c's (the last one shorter)"""
    labels = []
    while n > 64:
        labels.append(c * 63)
        n -= 64
    return '.'.join(labels + [c * n])


# SELECTOR._domainkey.DOMAIN of 253 bytes, the most a name may have, and
# of 254
LONG_D = long_name(200, 'l')
LONG_S = 's' * 41
LONG_T = 't' * 41
TOO_LONG_S = 's' * 42


def flip(pid, needle):
    """one byte in the middle of each copy of needle in the data and bss
    of the process pid (the mappings of its program file, and the
    anonymous one just after them) flipped, through /proc/PID/mem, as
    root: how many copies"""
    exe = os.readlink('/proc/%d/exe' % pid)
    regions, end = [], None
    with open('/proc/%d/maps' % pid) as f:
        for line in f:
            parts = line.split()
            lo, hi = (int(x, 16) for x in parts[0].split('-'))
            name = parts[5] if len(parts) > 5 else ''
            if parts[1].startswith('rw') and (name == exe or (name == '' and lo == end)):
                regions.append((lo, hi))
            end = hi if name == exe else None
    n = 0
    with open('/proc/%d/mem' % pid, 'r+b', buffering=0) as mem:
        for lo, hi in regions:
            mem.seek(lo)
            data = mem.read(hi - lo)
            at = data.find(needle)
            while at != -1:
                mid = lo + at + len(needle) // 2
                mem.seek(mid)
                mem.write(bytes([data[at + len(needle) // 2] ^ 0x10]))
                n += 1
                at = data.find(needle, at + 1)
    return n


def log_has(srv, text, secs=5):
    return wait_for(lambda: text in srv.log(), secs)


def rate(n, domain, alg):
    """ms a signature: connection, D, K, S and G, n in a row"""
    t = time.perf_counter()
    for i in range(n):
        s = connect()
        send(s, b'D' + domain)
        recv(s)
        send(s, b'S' + alg + digest(i))
        g = recv(s)
        s.close()
        if not g or g[:1] != b'G':
            return -1
    return (time.perf_counter() - t) * 1000 / n


signal.signal(signal.SIGPIPE, signal.SIG_IGN)
servers = []
try:
    # 1. postern-dkimkey makes keys, and prints their records.
    code, rsa_rec, err = keymaker('example.com', 'r1')
    check(code == 0, 'postern-dkimkey example.com r1: exit 0 (%s)' % err.strip()[:200])
    st = os.stat(keyfile('example.com', 'r1'))
    dst = os.stat(os.path.join(KEYS, 'example.com'))
    check(st.st_uid == DK.pw_uid and st.st_gid == DK.pw_gid and st.st_mode & 0o7777 == 0o600,
          'the key file is postern-dkim\'s (its primary group), mode 0600')
    check(dst.st_uid == DK.pw_uid and dst.st_gid == DK.pw_gid and dst.st_mode & 0o7777 == 0o700,
          'the directory example.com was made postern-dkim\'s, mode 0700')
    parts = record_parts(rsa_rec)
    check(parts is not None and parts[0] == 'r1' and parts[1] == 'example.com'
          and parts[2][0] == 'v=DKIM1; k=rsa; ' and all(len(x) <= 255 for x in parts[2]) and len(parts[2]) >= 3,
          'the record: r1._domainkey.example.com. IN TXT ( "v=DKIM1; k=rsa; " "p=..." ... ), strings of at most 255')
    print('# ' + rsa_rec.replace('\n', '\n# '))
    check('"example.com r1"' in err and 'control/dkimdomains' in err and 's6-svc -r' in err,
          'stderr: the line for control/dkimdomains, and the restart')
    text = openssl('pkey', '-in', keyfile('example.com', 'r1'), '-noout', '-text').decode()
    check('Private-Key: (2048 bit' in text, 'openssl reads the key: RSA, 2048 bits (the default)')
    spki = openssl('pkey', '-in', keyfile('example.com', 'r1'), '-pubout', '-outform', 'DER')
    check(base64.b64decode(parts[3]['p']) == spki, 'p= is the DER SubjectPublicKeyInfo openssl makes of the key file')
    with open(made('r1.spki'), 'wb') as f:
        f.write(base64.b64decode(parts[3]['p']))
    modulus = openssl('pkey', '-pubin', '-inform', 'DER', '-in', made('r1.spki'), '-noout', '-text').decode()
    check(modulus.split('Exponent')[0].split('Modulus:')[1] == text.split('publicExponent')[0].split('modulus:')[1]
          and 'Exponent: 65537' in modulus, 'openssl decodes p= to the key\'s modulus, exponent 65537')
    check(open(keyfile('example.com', 'r1')).read().startswith('-----BEGIN RSA PRIVATE KEY-----\n'),
          'the RSA key is written as "RSA PRIVATE KEY" (PKCS#1)')

    code, ed_rec, err = keymaker('-t', 'ed25519', 'Example.COM', 'E1')
    check(code == 0 and os.path.exists(keyfile('example.com', 'e1')),
          'postern-dkimkey -t ed25519 Example.COM E1: exit 0, names taken in lower case')
    st = os.stat(keyfile('example.com', 'e1'))
    check(st.st_uid == DK.pw_uid and st.st_mode & 0o7777 == 0o600, 'the Ed25519 key file: postern-dkim\'s, 0600')
    parts = record_parts(ed_rec)
    check(parts is not None and parts[0] == 'e1' and ''.join(parts[2]).startswith('v=DKIM1; k=ed25519; p=')
          and len(base64.b64decode(parts[3]['p'])) == 32, 'the record: k=ed25519, p= 32 bytes (RFC 8463)')
    print('# ' + ed_rec.replace('\n', '\n# '))
    text = openssl('pkey', '-in', keyfile('example.com', 'e1'), '-noout', '-text').decode()
    raw = openssl('pkey', '-in', keyfile('example.com', 'e1'), '-pubout', '-outform', 'DER')[-32:]
    check('ED25519 Private-Key' in text and raw == base64.b64decode(parts[3]['p']),
          'openssl reads the Ed25519 key, and its public key is p=')
    check(open(keyfile('example.com', 'e1')).read().startswith('-----BEGIN PRIVATE KEY-----\n'),
          'the Ed25519 key is written as PKCS#8 "PRIVATE KEY"')

    before = open(keyfile('example.com', 'r1'), 'rb').read()
    code, out, err = keymaker('-t', 'ed25519', 'example.com', 'r1')
    check(code == 100 and 'exists' in err and out == '' and open(keyfile('example.com', 'r1'), 'rb').read() == before,
          'a selector that has a key: exit 100, the key unchanged, no record')
    check(sorted(os.listdir(os.path.join(KEYS, 'example.com'))) == ['e1', 'r1'], 'no temporary file is left behind')
    code, out, err = keymaker('-p', 'example.com', 'r1')
    check(code == 0 and out == rsa_rec, '-p prints the RSA key\'s record again, the same')
    code, out, err = keymaker('-p', 'example.com', 'e1')
    check(code == 0 and out == ed_rec, '-p prints the Ed25519 key\'s record again, the same')
    code, out, err = keymaker('-p', 'example.com', 'nokey')
    check(code == 111 and 'unable to open' in err, '-p of a key that is not there: exit 111')
    code, out, err = keymaker('-p', 'example.com', 'r1', uid=SMTPD.pw_uid)
    check(code == 111 and out == '', '-p as another user (postern-smtpd), who cannot read the key: exit 111')
    code, out, err = keymaker('example.com', 'r9', uid=SMTPD.pw_uid)
    check(code == 100 and 'root' in err and not os.path.exists(keyfile('example.com', 'r9')),
          'a key made by a user other than root: exit 100')
    for args in ((), ('example.com',), ('-t', 'dsa', 'example.com', 'x'), ('-b', '1024', 'example.com', 'x'),
                 ('-b', '4097', 'example.com', 'x'), ('-t', 'ed25519', '-b', '2048', 'example.com', 'x'),
                 ('-p', '-t', 'rsa', 'example.com', 'r1'), ('com', 'x'), ('example.com', '../x'),
                 ('example..com', 'x'), ('example.com', 'a/b'), ('exa_mple.com', 'x'), ('example.com', '.x'),
                 ('a' * 64 + '.com', 'x'), ('example.com', 'x' * 64), ('-x', 'example.com', 'x')):
        code, out, err = keymaker(*args)
        check(code == 100 and out == '', 'postern-dkimkey %s: exit 100' % ' '.join(args))
    code, out, err = keymaker(LONG_D, TOO_LONG_S)
    check(code == 100 and out == '' and 'is over 253 bytes' in err and TOO_LONG_S + '._domainkey.' + LONG_D in err
          and not os.path.exists(os.path.join(KEYS, LONG_D)),
          'a selector of 42 bytes and a domain of 200: SELECTOR._domainkey.DOMAIN is 254 bytes, exit 100, '
          'nothing made')
    code, long_rec, err = keymaker(LONG_D, LONG_S)
    parts = record_parts(long_rec)
    check(code == 0 and parts is not None and parts[0] == LONG_S and parts[1] == LONG_D
          and len(LONG_S + '._domainkey.' + LONG_D) == 253,
          'a selector of 41 bytes and a domain of 200 (a record name of 253 bytes): made, its record printed')
    code, long_ed_rec, err = keymaker('-t', 'ed25519', LONG_D, LONG_T)
    check(code == 0, '... and an Ed25519 key beside it, of another selector of 41 bytes')
    code, sub_rec, err = keymaker('-t', 'ed25519', 'sub.example.com', 'k_2024.a')
    check(code == 0, 'a selector of two labels with "_" and a domain of three labels (sub.example.com k_2024.a)')

    # 2. Keys made by openssl: PKCS#1 and PKCS#8 RSA, 4096 bits, Ed25519,
    # and the ones postern-dkim refuses.
    openssl('genrsa', '-traditional', '-out', made('pkcs1'), '2048')
    openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', made('pkcs8'))
    openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:4096', '-out', made('rsa4096'))
    openssl('genpkey', '-algorithm', 'ed25519', '-out', made('ed'))
    openssl('genrsa', '-out', made('rsa1024'), '1024')
    openssl('genpkey', '-algorithm', 'ed25519', '-aes256', '-pass', 'pass:secret', '-out', made('ed-enc'))
    openssl('rsa', '-in', made('pkcs1'), '-aes256', '-traditional', '-passout', 'pass:secret', '-out', made('rsa-enc'))
    openssl('pkey', '-in', made('pkcs8'), '-pubout', '-out', made('public'))
    openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', made('ec'))
    openssl('genpkey', '-algorithm', 'ed448', '-out', made('ed448'))
    with open(made('two'), 'w') as f:
        f.write(open(made('ed')).read() + open(made('pkcs8')).read())
    open(made('empty'), 'w').close()
    check(open(made('pkcs1')).read().startswith('-----BEGIN RSA PRIVATE KEY-----')
          and open(made('pkcs8')).read().startswith('-----BEGIN PRIVATE KEY-----')
          and open(made('ed-enc')).read().startswith('-----BEGIN ENCRYPTED PRIVATE KEY-----')
          and 'Proc-Type: 4,ENCRYPTED' in open(made('rsa-enc')).read(),
          'openssl wrote PKCS#1, PKCS#8 and both encrypted forms')
    put(made('pkcs1'), 'pk1.example.net', 'a')
    put(made('pkcs8'), 'pk8.example.net', 'b')
    put(made('rsa4096'), 'big.example.net', 'c')
    put(made('ed'), 'pk8.example.net', 'd')

    # 3. What postern-dkim refuses at start: exit 111, the file named.
    domains('example.com r1')
    refuses('run as root: exit 100', 'refusing to run as root', code=100, user=False)
    bad = os.path.join(KEYS, 'bad.example.net')
    for src, mode, want, desc in (
            (made('pkcs1'), 0o640, ' may be read or written by its group or others', 'a group-readable key'),
            (made('pkcs1'), 0o604, ' may be read or written by its group or others', 'a world-readable key'),
            (made('rsa1024'), 0o600, ': the RSA key has 1024 bits: 2048 to 4096 are taken', 'an RSA key of 1024 bits'),
            (made('ed-enc'), 0o600, ' holds an encrypted key', 'an encrypted PKCS#8 key'),
            (made('rsa-enc'), 0o600, ' holds an encrypted key', 'an encrypted traditional RSA key (Proc-Type)'),
            (made('public'), 0o600, ' holds a PEM object that is not an RSA or Ed25519 private key: PUBLIC KEY',
             'a public key'),
            (made('ec'), 0o600, ': the key is an EC key', 'an EC key'),
            (made('ed448'), 0o600, ': the key cannot be used: it is neither RSA nor Ed25519', 'an Ed448 key'),
            (made('two'), 0o600, ' holds more than one private key', 'two keys in one file'),
            (made('empty'), 0o600, ' holds no private key', 'an empty file')):
        put(src, 'bad.example.net', 'x', mode)
        domains('example.com r1', 'bad.example.net x')
        refuses('%s: exit 111 naming it' % desc, os.path.join(bad, 'x') + want)
    domains('example.com r1', 'bad.example.net gone')
    refuses('a key file that is not there: exit 111 naming it', 'unable to open ' + os.path.join(bad, 'gone'))
    os.makedirs(os.path.join(bad, 'dir'))
    domains('example.com r1', 'bad.example.net dir')
    refuses('a key that is a directory: exit 111', os.path.join(bad, 'dir') + ' is not a regular file')
    for lines, want, desc in (
            (('example.com r1', 'example.com'), 'line 2: not DOMAIN SELECTOR', 'a line of one field'),
            (('# comment', '', 'example.com r1 extra'), 'line 3: not DOMAIN SELECTOR: more than two fields',
             'a line of three fields (after a comment and an empty line)'),
            (('example.com r1 # no trailing comments',), 'line 1: not DOMAIN SELECTOR', 'a comment after a line'),
            (('com r1',), 'line 1: the domain is not a name of two or more labels', 'a top-level domain (com)'),
            (('example..com r1',), 'line 1: the domain is not', 'an empty label'),
            (('exam_ple.com r1',), 'line 1: the domain is not', 'a domain with "_"'),
            (('example.com a/b',), 'line 1: the selector is not', 'a selector with "/"'),
            (('example.com ..',), 'line 1: the selector is not', 'the selector ".."'),
            (('example.com ' + 'x' * 64,), 'line 1: the selector is not', 'a label of 64 bytes'),
            (('example.com r1', LONG_D + ' ' + TOO_LONG_S),
             'line 2: SELECTOR._domainkey.DOMAIN, where the key\'s record is published, is over 253 bytes',
             'a selector of 42 bytes and a domain of 200 (a record name of 254 bytes)'),
            (('example.com r1', 'EXAMPLE.com R1'), 'line 2: the same domain and selector as an earlier line: r1',
             'a duplicate line (in another case)'),
            (('example.com r1', 'pk1.example.net a', 'example.com x1'), 'line 3: a second RSA key for example.com',
             'two RSA keys for one domain'),
            (('example.com e1', 'example.com x2'), 'line 2: a second Ed25519 key for example.com',
             'two Ed25519 keys for one domain'),
            (('example.com r1', 'example.com e1', 'example.com x3'), 'line 3: a third key for example.com',
             'three keys for one domain')):
        for sel, src in (('x1', made('pkcs8')), ('x2', made('ed')), ('x3', made('ed'))):
            put(src, 'example.com', sel)
        domains(*lines)
        refuses('%s: exit 111 naming the file and line' % desc, DOMAINS + ', ' + want)
    for sel in ('x1', 'x2', 'x3'):
        os.unlink(keyfile('example.com', sel))
    domains('example.com r1')
    set_control(CONTROL, 'dkimlocal', '2')
    refuses('control/dkimlocal 2: exit 111', 'control/dkimlocal is not 0 or 1')
    set_control(CONTROL, 'dkimlocal', 'yes')
    refuses('control/dkimlocal "yes": exit 111', 'control/dkimlocal is not 0 or 1')
    # this script, root, is a local user: served in 4 and 5 with
    # control/dkimlocal 1 (section 6 looks at whom each value serves)
    set_control(CONTROL, 'dkimlocal', '1')

    # 4. No keys: it runs all the same, and answers N.
    domains(None)
    srv = Server()
    check(srv.ready and log_has(srv, 'postern-dkim: keys n=0 why='),
          'no control/dkimdomains: ready all the same, logs keys n=0 and why')
    a, s = ask(b'Dexample.com')
    check(a == b'N' and recv(s) == b'', '... and answers N, then closes')
    s.close()
    check(srv.stop() == 0, '... and exits 0 at SIGTERM')
    domains('# only a comment', '')
    srv = Server()
    a, s = ask(b'Dexample.com')
    check(srv.ready and a == b'N' and 'keys n=0' in srv.log(), 'a dkimdomains of comments only: no keys, N')
    s.close()
    srv.stop()

    # 5. The record exchange.
    domains('# the keys of tests/t-dkimkeys.py', 'example.com r1', 'Example.com   e1', '',
            '\tpk1.example.net a ', 'pk8.example.net d', 'pk8.example.net b', 'big.example.net c',
            'sub.example.com k_2024.a')
    srv = Server()
    check(srv.ready, 'seven keys: ready')
    log = srv.log()
    check('postern-dkim: key d=example.com s=r1 a=rsa-sha256 bits=2048\n' in log
          and 'postern-dkim: key d=example.com s=e1 a=ed25519-sha256 bits=256\n' in log
          and 'postern-dkim: key d=big.example.net s=c a=rsa-sha256 bits=4096\n' in log
          and 'postern-dkim: keys n=7\n' in log and 'postern-dkim: ready socket=' + SOCK in log,
          'a line a key, then keys n=7 and the ready line')
    check((os.stat(SOCK).st_mode & 0o777) == 0o666, 'the socket is mode 0666 (the uid decides)')
    pub = {'r1': public_of_record(rsa_rec), 'e1': public_of_record(ed_rec), 'k_2024.a': public_of_record(sub_rec),
           'a': public_of_file(made('pkcs1')), 'b': public_of_file(made('pkcs8')),
           'c': public_of_file(made('rsa4096')), 'd': public_of_file(made('ed'))}

    def sign_all(name, want_k, sels):
        """D name, K checked against want_k, an S for each (letter,
        selector) of sels, every G verified, and the connection closed
        by postern-dkim once every key offered has had its S"""
        s = connect()
        send(s, b'D' + name)
        k = recv(s)
        ok = k == want_k
        for i, (letter, sel) in enumerate(sels):
            dg = digest(i)
            send(s, b'S' + letter + dg)
            g = recv(s)
            ok = ok and g is not None and g[:1] == b'G' and verifies(pub[sel], dg, g[1:])
        if len(sels) == want_k.count(b'\0') - 1:
            ok = ok and recv(s) == b''
        s.close()
        return ok, k

    ok, k = sign_all(b'example.com', b'Kexample.com\0rr1\0ee1\0', ((b'r', 'r1'), (b'e', 'e1')))
    check(ok, 'example.com: K with r r1 and e e1 in the file\'s order; each G verifies with the printed record\'s '
          'key; closed after the last')
    ok, k = sign_all(b'example.com', b'Kexample.com\0rr1\0ee1\0', ((b'e', 'e1'), (b'r', 'r1')))
    check(ok, 'the S records in the other order')
    ok, k = sign_all(b'a.b.example.com', b'Kexample.com\0rr1\0ee1\0', ((b'r', 'r1'),))
    check(ok, 'a.b.example.com: the parent example.com\'s keys (d=example.com); one S of two is fine')
    ok, k = sign_all(b'x.sub.example.com', b'Ksub.example.com\0ek_2024.a\0', ((b'e', 'k_2024.a'),))
    check(ok, 'x.sub.example.com: the nearest parent\'s key, sub.example.com, not example.com\'s')
    ok, k = sign_all(b'pk1.example.net', b'Kpk1.example.net\0ra\0', ((b'r', 'a'),))
    check(ok, 'an openssl PKCS#1 RSA key signs')
    ok, k = sign_all(b'pk8.example.net', b'Kpk8.example.net\0ed\0rb\0', ((b'r', 'b'), (b'e', 'd')))
    check(ok, 'an openssl PKCS#8 RSA key and an openssl Ed25519 key sign (K in the file\'s order: e first)')
    ok, k = sign_all(b'big.example.net', b'Kbig.example.net\0rc\0', ((b'r', 'c'),))
    check(ok, 'a 4096-bit RSA key signs (512 bytes)')
    s = connect()
    send(s, b'Dbig.example.net')
    recv(s)
    send(s, b'Sr' + digest(0))
    check(len(recv(s)) == 513, 'G of a 4096-bit key: 1 + 512 bytes')
    s.close()
    for name, desc in ((b'example.org', 'a domain without keys'), (b'example.net', 'example.net (only its children have keys)'),
                       (b'com', 'a top-level domain'), (b'net', 'net'), (b'xexample.com', 'a name that only ends like a domain')):
        a, s = ask(b'D' + name)
        check(a == b'N' and recv(s) == b'', 'D %s: N, then closed (%s)' % (name.decode(), desc))
        s.close()
    check(log_has(srv, 'postern-dkim: sign uid=0 d=example.com s=r1 a=rsa-sha256\n')
          and 'postern-dkim: sign uid=0 d=example.com s=e1 a=ed25519-sha256\n' in srv.log()
          and 'postern-dkim: sign uid=0 d=big.example.net s=c a=rsa-sha256\n' in srv.log(),
          'one line a signature: sign uid=0 d=DOMAIN s=SELECTOR a=ALGORITHM')
    check(srv.log().count('postern-dkim: sign ') == 11, 'eleven signatures, eleven lines')

    # Protocol errors: each closes the connection.
    time.sleep(1.1)  # a new second for the refusal lines (at most 5 a second)
    h = digest(7)
    cases = (
        ('S before D', [(b'Sr' + h, None)], 'S record before a K answer'),
        ('a second D', [(b'Dexample.com', b'K'), (b'Dexample.com', None)], 'a second D record'),
        ('an unknown record', [(b'Dexample.com', b'K'), (b'X' + h, None)], 'unknown record'),
        ('a digest of 31 bytes', [(b'Dexample.com', b'K'), (b'Sr' + h[:31], None)], 'malformed S record'),
        ('a digest of 33 bytes', [(b'Dexample.com', b'K'), (b'Sr' + h + b'x', None)], 'malformed S record'),
        ('a letter not offered', [(b'Dpk1.example.net', b'K'), (b'Se' + h, None)], 'S record for an algorithm not offered'),
        ('an unknown letter', [(b'Dexample.com', b'K'), (b'Sx' + h, None)], None),
        ('a second S for one key', [(b'Dexample.com', b'K'), (b'Sr' + h, b'G'), (b'Sr' + h, None)], None),
        ('S after N', [(b'Dexample.org', b'N'), (b'Sr' + h, None)], None),
        ('a D in upper case', [(b'DExample.com', None)], None),
        ('a D with a space', [(b'Dexa mple.com', None)], None),
        ('an empty D', [(b'D', None)], None),
        ('a D of 254 bytes', [(b'D' + b'a' * 250 + b'.com', None)], None),
        ('a D of 300 bytes', [(b'D' + b'a.' * 150, None)], None),
        ('a D with a NUL', [(b'Dexample.com\0', None)], None),
    )
    for i, (desc, steps, why) in enumerate(cases):
        s = connect()
        ok = True
        for rec, want in steps:
            send(s, rec)
            a = recv(s)
            ok = ok and (a == b'' if want is None else a is not None and a[:1] == want)
        check(ok, 'protocol error, %s: the connection is closed' % desc)
        s.close()
        if why and i < 4:
            check(log_has(srv, 'postern-dkim: refused uid=0 why="%s' % why), '... logged: refused uid=0 why="%s..."' % why)
    s = connect()
    r, w = os.pipe()
    send(s, b'Dexample.com', fds=(r,))
    check(recv(s) == b'', 'a D with a descriptor: closed')
    os.close(r)
    os.close(w)
    s.close()
    time.sleep(1.1)
    s = connect()
    send(s, b'Dexample.com')
    recv(s)
    send(s, b'Se' + h)
    recv(s)
    send(s, b'Se' + h)
    check(recv(s) == b'' and log_has(srv, 'refused uid=0 why="a second S record for one key"'),
          'a second S for one key: closed, logged')
    s.close()

    # The idle limit (5 s), renewed at each record: a silent peer is
    # closed, before and after D, one that sends a record every 3 s is not.
    quiet = connect()
    after_d = connect()
    send(after_d, b'Dexample.com')
    slow = connect()
    t0 = time.time()
    check(recv(after_d)[:1] == b'K', 'a connection that will be silent after its K')
    time.sleep(3)
    send(slow, b'Dexample.com')
    k = recv(slow)
    time.sleep(3)
    send(slow, b'Sr' + digest(1))
    g1 = recv(slow)
    quiet.settimeout(10)
    after_d.settimeout(10)
    check(recv(quiet) == b'' and recv(after_d) == b'' and 4 <= time.time() - t0 < 10,
          'silent connections are closed after about 5 s, before D and after it (%.1f s)' % (time.time() - t0))
    time.sleep(3)
    send(slow, b'Se' + digest(2))
    g2 = recv(slow)
    check(k[:1] == b'K' and g1[:1] == b'G' and g2[:1] == b'G' and verifies(pub['e1'], digest(2), g2[1:])
          and recv(slow) == b'', 'a record every 3 s: served to the end, 9 s in all')
    for c in (quiet, after_d, slow):
        c.close()
    check(log_has(srv, 'why="no D record in time"') and log_has(srv, 'why="no S record in time"'),
          'the timeouts logged: no D record in time, no S record in time')

    # Many at once: 40 connections, each D, then each S, from the -u uid
    # (postern-submit's stand-in: a local uid may have only 8 under way).
    conns = [connect_as(SUBMIT_STANDIN) for _ in range(40)]
    for c in conns:
        send(c, b'Dpk8.example.net')
    ks = [recv(c) for c in conns]
    for i, c in enumerate(conns):
        send(c, b'Sr' + digest(i))
    gs = [recv(c) for c in conns]
    check(all(k == b'Kpk8.example.net\0ed\0rb\0' for k in ks)
          and all(g and verifies(pub['b'], digest(i), g[1:]) for i, g in enumerate(gs)),
          '40 connections at once: each K and each G right')
    for c in conns:
        c.close()

    # Speed: a signature is a connection, D, K, S and G.
    n = 300
    ms_rsa = rate(n, b'example.com', b'r')
    ms_ed = rate(n, b'example.com', b'e')
    ms_big = rate(50, b'big.example.net', b'r')
    print('# ms a signature (connection, D, S), %d in a row: rsa-2048 %.3f, ed25519 %.3f, rsa-4096 %.3f (50)'
          % (n, ms_rsa, ms_ed, ms_big))
    check(ms_rsa > 0 and ms_ed > 0 and ms_big > 0, 'every one of %d signatures in a row answered G' % (2 * n + 50))

    secrets = []
    for p in (keyfile('example.com', 'r1'), keyfile('example.com', 'e1'), made('pkcs1'), made('ed')):
        body = ''.join(l for l in open(p).read().split('\n') if not l.startswith('-----'))
        secrets += [body[i:i + 16] for i in range(0, len(body) - 16, 16)]
    log = srv.log()
    check(not any(x in log for x in secrets), 'no piece of a key\'s base64 in the log')
    check(srv.stop() == 0 and not os.path.exists(SOCK), 'SIGTERM: exit 0, the socket removed')
    check(re.search(r'postern-dkim: stop signatures=\d+ none=\d+ refused=\d+\n', srv.log()) is not None,
          'the stop line counts signatures, N answers and refusals')

    # 6. Whom it serves: local users only with control/dkimlocal 1, never
    # one of postern's users but postern-submit.
    K = b'Kexample.com\0rr1\0'
    domains('example.com r1')
    set_control(CONTROL, 'dkimlocal', None)
    srv = Server()
    check(srv.ready and 'local=0' in srv.log(), '-u UID, control/dkimlocal absent (0): ready, local=0')
    check(d_as(SUBMIT_STANDIN) == K, 'the -u uid (postern-submit\'s stand-in): served')
    check(d_as(LOCAL) == b'', 'control/dkimlocal absent: a local uid (in no passwd file) is closed unread')
    a, s = ask(b'Dexample.com')
    check(a == b'', 'control/dkimlocal absent: root is closed unread')
    s.close()
    srv.stop()
    set_control(CONTROL, 'me', 'Example.COM')
    srv = Server(uids=())
    check(srv.ready and d_as(SUBMIT.pw_uid) == K, 'no -u, control/dkimlocal absent: postern-submit\'s uid served')
    check(d_as(LOCAL) == b'' and d_as(SMTPD.pw_uid) == b'', '... a local uid and postern-smtpd\'s: closed unread')
    send_uid = pwd.getpwnam('postern-send').pw_uid
    check(d_as(send_uid) == K, 'no -u: postern-send\'s uid (bounces) served for control/me\'s domain (any case)')
    check(d_as(send_uid, b'lists.example.com') == b'N',
          '... and answered N for any other, a subdomain with its parent\'s keys too')
    check(d_as(SUBMIT.pw_uid, b'lists.example.com') == K, '... which postern-submit is signed for (d= its parent)')
    srv.stop()
    set_control(CONTROL, 'me', None)
    set_control(CONTROL, 'dkimlocal', '1')
    srv = Server()
    check(srv.ready and 'local=1' in srv.log(), '-u UID, control/dkimlocal 1: ready, local=1')
    check(d_as(SUBMIT_STANDIN) == K, 'the -u uid: served')
    check(d_as(LOCAL) == K, 'control/dkimlocal 1: a local uid (in no passwd file) is served')
    check(d_as(SMTPD.pw_uid) == b'', 'postern-smtpd\'s uid: closed unread')
    check(d_as(DK.pw_uid) == b'', 'postern-dkim\'s own uid: closed unread')
    for name in CONF_USERS:
        if name != 'postern-submit' and d_as(pwd.getpwnam(name).pw_uid) != b'':
            check(False, '%s served' % name)
            break
    else:
        check(True, 'none of postern\'s users but postern-submit is served')
    check(log_has(srv, 'postern-dkim: refused uid=%d why="uid not served"' % SMTPD.pw_uid),
          'logged: refused uid=%d why="uid not served"' % SMTPD.pw_uid)
    s = connect_as(LOCAL)
    send(s, b'Dexample.com')
    recv(s)
    send(s, b'Sr' + digest(5))
    g = recv(s) or b''
    s.close()
    check(g[:1] == b'G' and verifies(pub['r1'], digest(5), g[1:])
          and log_has(srv, 'postern-dkim: sign uid=%d d=example.com s=r1 a=rsa-sha256\n' % LOCAL),
          'control/dkimlocal 1: a local user\'s signature, logged with its uid')
    check(srv.stop() == 0, 'exit 0')
    srv = Server(uids=())
    check(srv.ready, 'no -u: ready')
    check(d_as(SUBMIT.pw_uid) == K, 'postern-submit\'s uid: served')
    check(d_as(SMTPD.pw_uid) == b'', 'postern-smtpd\'s uid: closed unread')
    check(d_as(LOCAL) == K, 'a local uid: served')
    check(d_as(pwd.getpwnam('postern-send').pw_uid, b'example.org') == b'N',
          'control/dkimlocal 1: postern-send\'s uid is still limited to control/me\'s domain, not a local user\'s')
    srv.stop()
    set_control(CONTROL, 'dkimlocal', '0')
    srv = Server(uids=())
    check(srv.ready and 'local=0' in srv.log(), 'control/dkimlocal 0: ready, local=0')
    check(d_as(SUBMIT.pw_uid) == K, 'postern-submit\'s uid: served')
    check(d_as(LOCAL) == b'', 'a local uid: closed unread')
    srv.stop()
    srv = Server()
    check(d_as(SUBMIT_STANDIN) == K and d_as(SUBMIT.pw_uid) == b'',
          'control/dkimlocal 0 and -u: the -u uid only, not postern-submit\'s')
    check(srv.stop() == 0, 'exit 0')

    # 7. Long names, a local uid's share of the pending table, a faulty
    # RSA signature, SIGHUP.
    set_control(CONTROL, 'dkimlocal', '1')
    domains(LONG_D + ' ' + LONG_S, LONG_D + ' ' + LONG_T, 'example.com r1', 'example.com e1', 'pk1.example.net a')
    srv = Server()
    check(srv.ready, 'keys of a record name of 253 bytes: ready')
    lpub = {'r': public_of_record(long_rec), 'e': public_of_record(long_ed_rec)}
    want = b'K' + LONG_D.encode() + b'\0r' + LONG_S.encode() + b'\0e' + LONG_T.encode() + b'\0'
    for name in (LONG_D, 'x.' + LONG_D):
        s = connect()
        send(s, b'D' + name.encode())
        k = recv(s)
        ok = k == want
        for i, letter in enumerate((b'r', b'e')):
            send(s, b'S' + letter + digest(i))
            g = recv(s) or b''
            ok = ok and g[:1] == b'G' and verifies(lpub[letter.decode()], digest(i), g[1:])
        check(ok and recv(s) == b'', 'D of %d bytes: K of %d bytes (the domain and two selectors), each G verifies'
              % (len(name), len(want)))
        s.close()

    # The pending table: a local uid that keeps connections open without
    # a record may have 8 of them; the 64 slots stay for the others.
    idle = [connect_as(LOCAL) for _ in range(70)]
    time.sleep(0.5)
    kept = sum(1 for c in idle if is_open(c))
    check(kept == 8, 'a local uid opens 70 connections and sends nothing: 8 kept, the others closed at once (%d kept)'
          % kept)
    K2 = b'Kexample.com\0rr1\0ee1\0'
    check(d_as(SUBMIT_STANDIN) == K2, '... the -u uid (postern-submit\'s stand-in) is still answered K')
    check(d_as(LOCAL2) == K2, '... and so is another local uid')
    check(d_as(LOCAL) == b'', '... the local uid\'s own next connection is closed unread')
    check(log_has(srv, 'postern-dkim: refused uid=%d why="too many connections of the uid waiting"' % LOCAL),
          '... logged: refused uid=%d why="too many connections of the uid waiting"' % LOCAL)
    busy = [connect_as(SUBMIT_STANDIN) for _ in range(20)]
    time.sleep(0.5)
    check(all(is_open(c) for c in busy) and d_as(SUBMIT_STANDIN) == K2,
          'the -u uid has no such limit: 20 connections idle, all kept, and the 21st answered K')
    for c in idle + busy:
        c.close()

    with open('/proc/%d/status' % srv.p.pid) as f:
        locked = int(re.search(r'VmLck:\s+(\d+) kB', f.read()).group(1))
    # the sanitizer build's mlock does nothing (AddressSanitizer ignores it)
    with open(DKIM, 'rb') as f:
        asan = b'__asan_init' in f.read()
    check((locked > 0 or asan) and 'mlock' not in srv.log(),
          'the keys are locked in memory (VmLck %d kB%s), no warning' % (locked, ', sanitizer build' if asan else ''))

    def faulty(srv, domain, want_k, letter, what, logged_as):
        """one S for the key of letter after a byte of it was flipped:
        answered F and closed, logged, and postern-dkim exits 111; a fresh
        one then signs with every key as before"""
        s = connect()
        send(s, b'D' + domain)
        k = recv(s)
        send(s, b'S' + letter + digest(9))
        a = recv(s) or b''
        check(k == want_k and a[:1] == b'F' and recv(s) == b'',
              '%s: its signature does not verify: answered F, not G, and closed' % what)
        s.close()
        check(log_has(srv, 'postern-dkim: error uid=0 d=%s %s why="the signature made does not verify with the '
                      'public key' % (domain.decode(), logged_as)),
              '... logged: error ... why="the signature made does not verify..."')
        try:
            code = srv.p.wait(10)
        except subprocess.TimeoutExpired:
            code = None
        check(code == 111 and 'fatal: a signature did not verify' in srv.log(),
              '... and it exits 111, for s6 to start it again on the keys as they are on disk')
        srv = Server()
        ok, k = sign_all(b'example.com', b'Kexample.com\0rr1\0ee1\0', ((b'r', 'r1'), (b'e', 'e1')))
        check(srv.ready and ok, 'started again, every key signs as before')
        return srv

    # A faulty RSA signature is never sent: one byte of a key's dp (its
    # CRT exponent mod p) flipped in postern-dkim's memory makes every
    # signature of the key wrong mod p, which would give away p.
    with open(made('pkcs1'), 'rb') as f:
        dp = serialization.load_pem_private_key(f.read(), None).private_numbers().dmp1
    n = flip(srv.p.pid, dp.to_bytes((dp.bit_length() + 7) // 8, 'big'))
    check(n >= 1, 'the key pk1.example.net a\'s dp found in postern-dkim\'s memory, a byte of it flipped (%d)' % n)
    srv = faulty(srv, b'pk1.example.net', b'Kpk1.example.net\0ra\0', b'r', 'RSA', 's=a a=rsa-sha256')
    # Nor a faulty Ed25519 one: the public half of e1's secret key (the
    # 32 bytes every signature hashes in) flipped in memory; a signature
    # made with it beside a right one of the same hash gives the key away.
    with open(keyfile('example.com', 'e1'), 'rb') as f:
        edk = serialization.load_pem_private_key(f.read(), None)
    raw = serialization.Encoding.Raw
    sk = (edk.private_bytes(raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()) +
          edk.public_key().public_bytes(raw, serialization.PublicFormat.Raw))
    n = flip(srv.p.pid, sk)
    check(n >= 1, 'the key example.com e1 (seed and public half) found in postern-dkim\'s memory, the first byte of '
          'its public half flipped (%d)' % n)
    srv = faulty(srv, b'example.com', b'Kexample.com\0rr1\0ee1\0', b'e', 'Ed25519 (checked with the public key '
                 'held apart)', 's=e1 a=ed25519-sha256')
    # SIGHUP (s6-svc -h) ends it as SIGTERM does: s6 starts it again,
    # which rereads the keys.
    srv.p.send_signal(signal.SIGHUP)
    try:
        code = srv.p.wait(10)
    except subprocess.TimeoutExpired:
        code = None
    check(code == 0 and not os.path.exists(SOCK) and 'postern-dkim: stop signatures=' in srv.log()
          and not sanitized(srv.log()), 'SIGHUP: exit 0, the socket removed, the stop line')
    domains('example.com r1')
    srv = Server()
    check(srv.ready and 'keys n=1' in srv.log() and d_as(SUBMIT_STANDIN) == K,
          'started again, it has read control/dkimdomains anew')
    check(srv.stop() == 0, 'exit 0')
finally:
    for srv in servers:
        srv.stop()
    for name in MADE_USERS:
        sh('userdel', name)
    shutil.rmtree(D, ignore_errors=True)
done()
