#!/usr/bin/env python3
"""What control/dkimverify costs a message (make bench; doc/dkim.md, "Cost").

postern-dkimverify is run as postern-smtpd runs it (message on fd 0,
the envelope on fd 1, a socket), N times a case, and execs a stand-in
postern-queue (a static program that reads the message and exits, built
here), so that the figures are the filter's own: its exec, holding the
message, the key lookups, the hashes and the signatures' arithmetic.
The stand-in run alone, N times, is the baseline taken off.  The keys
come from unbound in a network namespace of this script's own, as a
resolver's cache would give them after the first message (the inner
loop runs inside the namespace, so no `ip netns exec` is counted).
Messages are signed by dkimpy (relaxed/relaxed, as most signers do).

Cases: unsigned; RSA-2048; Ed25519; both (as postern-dkimsign signs), at
1 KB and 100 KB; and both with DMARC (control/dmarc 1: -p 1 and an SPF
pass handed over, a p=reject record at _dmarc.bench.test), at 1 KB.  CPU is user+system of the children (getrusage), wall
the loop's own clock, both per message.

Environment: POSTERN_BUILD (build), BENCH_DKIM_N (300),
BENCH_DKIM_OUT (tests/bench/dkimverify-results.md).  Run as root (the
namespace); about a minute.
"""
import os, platform, resource, shutil, socket, statistics, subprocess, sys, tempfile, time

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(SRC, 'tests'))
BUILD = os.environ.get('POSTERN_BUILD') or os.path.join(SRC, 'build')
if not os.path.isabs(BUILD):
    BUILD = os.path.join(SRC, BUILD)
N = int(os.environ.get('BENCH_DKIM_N', '300'))
OUT = os.environ.get('BENCH_DKIM_OUT') or os.path.join(SRC, 'tests', 'bench', 'dkimverify-results.md')

STANDIN = r'''
#include <unistd.h>
int main(void)
{
	static char b[65536];
	while (read(0, b, sizeof b) > 0)
		;
	return 0;
}
'''


def txt(value):
    """a TXT record's data in strings of at most 255 bytes"""
    return ' '.join('"%s"' % value[i:i + 255] for i in range(0, len(value), 255))


def fixtures(d):
    """(records, {case: message}) with keys made here"""
    import dkim, nacl.signing, base64
    key = os.path.join(d, 'rsa.pem')
    subprocess.run(['openssl', 'genrsa', '-out', key, '2048'], check=True, stderr=subprocess.DEVNULL)
    pub = subprocess.run(['openssl', 'rsa', '-in', key, '-pubout', '-outform', 'DER'], check=True,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
    rsa_priv = open(key, 'rb').read()
    ed = nacl.signing.SigningKey.generate()
    ed_priv = base64.b64encode(bytes(ed))
    records = ['rsa._domainkey.bench.test. TXT %s' % txt('v=DKIM1; k=rsa; p=' + base64.b64encode(pub).decode()),
               'ed._domainkey.bench.test. TXT %s' % txt('v=DKIM1; k=ed25519; p=' +
                                                        base64.b64encode(bytes(ed.verify_key)).decode()),
               '_dmarc.bench.test. TXT "v=DMARC1; p=reject"']
    msgs = {}
    for size in (1024, 102400):
        line = b'The quick brown fox jumps over the lazy dog, again and again. 0123456789\r\n'
        body = (line * (size // len(line) + 1))[:size]
        m = (b'From: Alice <alice@bench.test>\r\nTo: bob@example.org\r\nSubject: bench\r\n'
             b'Date: Wed, 02 Dec 2026 12:00:00 +0000\r\nMessage-ID: <bench@bench.test>\r\n\r\n' + body)

        def sign(m, sel, priv, algo):
            return dkim.sign(m, sel.encode(), b'bench.test', priv, canonicalize=(b'relaxed', b'relaxed'),
                             include_headers=[b'from', b'to', b'subject', b'date', b'message-id'],
                             signature_algorithm=algo)
        k = '%d KB' % (size // 1024)
        r = sign(m, 'rsa', rsa_priv, b'rsa-sha256')
        e = sign(m, 'ed', ed_priv, b'ed25519-sha256')
        msgs['unsigned, ' + k] = m
        msgs['RSA-2048, ' + k] = r + m
        msgs['Ed25519, ' + k] = e + m
        msgs['both, ' + k] = e + r + m
        if size == 1024:
            msgs['both and DMARC, ' + k] = e + r + m
    # as the queue holds them
    return records, {c: m.replace(b'\r\n', b'\n') for c, m in msgs.items()}


def loop(argv, path, env):
    """CPU and wall per run of argv on the message at path, N runs"""
    env_s = b'Fa@bench.test\0Tb@example.org\0\0'
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    for _ in range(N):
        a, b = socket.socketpair()
        a.sendall(env_s)
        a.shutdown(socket.SHUT_WR)
        with open(path, 'rb') as f:
            p = subprocess.Popen(argv, stdin=f, stdout=b, env=env, close_fds=True)
        b.close()
        if p.wait() != 0:
            raise SystemExit('%s exited %d' % (argv[0], p.returncode))
        a.close()
    wall = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return cpu / N * 1000, wall / N * 1000


def inner(home, d, cases):
    """in the namespace: each case, alternated with the baseline, 3 rounds"""
    env = {'POSTERN_HOME': home, 'PATH': '/usr/bin:/bin'}
    verify = [os.path.join(home, 'bin', 'postern-dkimverify'), '-h', 'mx.bench.test']
    standin = [os.path.join(home, 'bin', 'postern-queue')]
    rows = []
    for case in cases:
        path = os.path.join(d, case.replace(', ', '-').replace(' ', ''))
        argv = verify + (['-p', '1', '-s', 'pass', '-f', 'bench.test'] if 'DMARC' in case else [])
        loop(argv, path, env)  # warm: the resolver's cache, the page cache
        base, filt = [], []
        for _ in range(3):
            base.append(loop(standin, path, env))
            filt.append(loop(argv, path, env))
        bc = statistics.median(x[0] for x in base)
        bw = statistics.median(x[1] for x in base)
        fc = statistics.median(x[0] for x in filt)
        fw = statistics.median(x[1] for x in filt)
        rows.append((case, fc - bc, fw - bw, bc))
    return rows


def main():
    if len(sys.argv) == 4 and sys.argv[1] == '--inner':
        import json
        home, d = sys.argv[2], sys.argv[3]
        cases = json.load(open(os.path.join(d, 'cases.json')))
        json.dump(inner(home, d, cases), sys.stdout)
        return
    if os.geteuid() != 0:
        raise SystemExit('tests/bench/dkimverify.py: run as root (a network namespace)')
    from dnsns import DnsNamespace
    import json
    d = tempfile.mkdtemp(prefix='postern-bench-dkim.')
    os.chmod(d, 0o755)
    home = os.path.join(d, 'home')
    os.makedirs(os.path.join(home, 'bin'))
    os.makedirs(os.path.join(home, 'control'))
    shutil.copy(os.path.join(BUILD, 'bin', 'postern-dkimverify'), os.path.join(home, 'bin'))
    with open(os.path.join(d, 'standin.c'), 'w') as f:
        f.write(STANDIN)
    subprocess.run(['cc', '-O2', '-static', '-o', os.path.join(home, 'bin', 'postern-queue'),
                    os.path.join(d, 'standin.c')], check=True)
    records, msgs = fixtures(d)
    for case, m in msgs.items():
        with open(os.path.join(d, case.replace(', ', '-').replace(' ', '')), 'wb') as f:
            f.write(m)
    with open(os.path.join(d, 'cases.json'), 'w') as f:
        json.dump(list(msgs), f)
    ns = DnsNamespace('ptbdk')
    try:
        why = ns.setup()
        if why:
            raise SystemExit('tests/bench/dkimverify.py: ' + why)
        ns.unbound_start(d, records)
        for _ in range(100):  # unbound up: it answers
            r = subprocess.run(['ip', 'netns', 'exec', ns.name, 'drill', '-Q', 'TXT', 'rsa._domainkey.bench.test',
                                '@127.0.0.1'], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            if r.returncode == 0 and r.stdout.strip():
                break
            time.sleep(0.1)
        t0 = time.monotonic()
        out = subprocess.run(['ip', 'netns', 'exec', ns.name, sys.executable, os.path.abspath(__file__), '--inner',
                              home, d], check=True, stdout=subprocess.PIPE).stdout
        rows = json.loads(out)
        took = time.monotonic() - t0
    finally:
        ns.cleanup()
        shutil.rmtree(d, ignore_errors=True)
    lines = ['# postern-dkimverify: what control/dkimverify costs a message',
             '',
             '%s, %s, %d CPUs, N=%d a case, median of 3 rounds alternated with the baseline; %.0f s.' % (
                 time.strftime('%Y-%m-%d %H:%M'), platform.machine(), os.cpu_count(), N, took),
             'Baseline (a static stand-in postern-queue alone): %.2f ms of CPU a message.' % rows[0][3],
             '',
             '| message | CPU ms | wall ms |',
             '|---|---|---|']
    for case, cpu, wall, _ in rows:
        lines.append('| %s | %.2f | %.2f |' % (case, cpu, wall))
    text = '\n'.join(lines) + '\n'
    with open(OUT, 'w') as f:
        f.write(text)
    sys.stdout.write(text)


if __name__ == '__main__':
    main()
