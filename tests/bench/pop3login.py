#!/usr/bin/env python3
"""POP3 login time against the size of the maildrop (make bench; doc/performance.md, "POP3").

postern-pop3d is started as postern-pspawn starts it (as root with
POSTERN_IDENTITY, fds 0 and 1 one end of a socketpair), and the clock runs
from its start to its first line, the +OK that carries the count and the
octets: the whole of the listing.  Two Maildirs of the same N messages of
SIZE bytes (LF lines, as postern-local writes them), one with plain unique
names (every file opened and read to count its size, as any name without
the fields, or before them) and one whose names carry ",S=" and ",W=" as
postern-local writes them now (one fstatat a file).
Warm: the page cache holds everything (median of RUNS); cold: after
`echo 3 > /proc/sys/vm/drop_caches`, directories and inodes included
(median of COLD runs; left out where the file cannot be written).

Environment: POSTERN_BUILD (build), BENCH_POP3_N (10000), BENCH_POP3_SIZE
(10240), BENCH_POP3_RUNS (5), BENCH_POP3_COLD (3), BENCH_POP3_OUT
(tests/bench/pop3-results.md).  Run as root; under 30 s.
"""
import os, platform, pwd, re, shutil, socket, statistics, subprocess, sys, tempfile, time

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get('POSTERN_BUILD') or os.path.join(SRC, 'build')
if not os.path.isabs(BUILD):
    BUILD = os.path.join(SRC, BUILD)
N = int(os.environ.get('BENCH_POP3_N', '10000'))
SIZE = int(os.environ.get('BENCH_POP3_SIZE', '10240'))
RUNS = int(os.environ.get('BENCH_POP3_RUNS', '5'))
COLD = int(os.environ.get('BENCH_POP3_COLD', '3'))
OUT = os.environ.get('BENCH_POP3_OUT') or os.path.join(SRC, 'tests', 'bench', 'pop3-results.md')
NAME = 'ptbpop3'


def wire_size(data):
    """the size as postern-pop3d sends it: each LF not after a CR one more"""
    w = len(data) + len(re.findall(rb'(?<!\r)\n', data))
    if data and not data.endswith(b'\n'):
        w += 1 if data.endswith(b'\r') else 2
    return w


def message(i):
    head = b'From: bench@example.org\nTo: %s@example.org\nSubject: message %d\n\n' % (NAME.encode(), i)
    line = b'%05d the body of a benchmark message, a line of ordinary length.\n' % i
    body = line * ((SIZE - len(head)) // len(line) + 1)
    return head + body[:SIZE - len(head) - 1] + b'\n'


def fill(maildir, sized, uid, gid):
    for sub in ('tmp', 'new', 'cur'):
        os.makedirs(os.path.join(maildir, sub), 0o700)
    for i in range(N):
        data = message(i)
        name = '1700000000.M%06dP1R%016x.bench' % (i, i)
        if sized:
            name += ',S=%d,W=%d' % (len(data), wire_size(data))
        p = os.path.join(maildir, 'cur', name + ':2,S')
        with open(p, 'wb') as f:
            f.write(data)
        os.chown(p, uid, gid)
    for dp, dn, fn in os.walk(maildir):
        os.chown(dp, uid, gid)


def login(binary, home, ident):
    """seconds from the start of postern-pop3d to its +OK, and the +OK"""
    ours, theirs = socket.socketpair()
    env = {'POSTERN_IDENTITY': ident, 'USER': NAME, 'HOME': home, 'TCPREMOTEIP': '127.0.0.1',
           'POSTERN_HOME': os.path.dirname(os.path.dirname(binary)), 'PATH': '/usr/bin:/bin'}
    t0 = time.perf_counter()
    p = subprocess.Popen([binary], stdin=theirs.fileno(), stdout=theirs.fileno(), stderr=subprocess.DEVNULL, env=env)
    theirs.close()
    f = ours.makefile('rb')
    line = f.readline()
    took = time.perf_counter() - t0
    ours.sendall(b'QUIT\r\n')
    f.read()
    p.wait()
    f.close()
    ours.close()
    return took, line.decode('latin-1').strip()


def drop_caches():
    try:
        os.sync()
        with open('/proc/sys/vm/drop_caches', 'w') as f:
            f.write('3\n')
        return True
    except OSError:
        return False


def main():
    src = os.path.join(BUILD, 'bin', 'postern-pop3d')
    if not os.access(src, os.X_OK):
        print('pop3login.py: no %s: build first' % src, file=sys.stderr)
        return 111
    start = time.time()
    d = tempfile.mkdtemp(prefix='postern-bench-pop3.')
    os.chmod(d, 0o755)
    try:
        home = os.path.join(d, 'home')
        os.makedirs(os.path.join(home, 'bin'))
        os.makedirs(os.path.join(home, 'control'))
        for x in (home, os.path.join(home, 'bin'), os.path.join(home, 'control')):
            os.chmod(x, 0o755)
        binary = os.path.join(home, 'bin', 'postern-pop3d')
        shutil.copy(src, binary)
        os.chmod(binary, 0o755)
        if subprocess.run(['getent', 'passwd', NAME], stdout=subprocess.DEVNULL).returncode == 0:
            subprocess.run(['userdel', NAME], stderr=subprocess.DEVNULL)
        subprocess.run(['useradd', '--no-create-home', '--home-dir', os.path.join(d, 'plain'), '--shell',
                        '/bin/sh', '--user-group', NAME], check=True)
        pw = pwd.getpwnam(NAME)
        ident = '%d:%d:%d' % (pw.pw_uid, pw.pw_gid, pw.pw_gid)
        homes = {}
        for kind, sized in (('plain names', False), ('names with ,S= and ,W=', True)):
            h = os.path.join(d, 'sized' if sized else 'plain')
            os.makedirs(h)
            os.chown(h, pw.pw_uid, pw.pw_gid)
            fill(os.path.join(h, 'Maildir'), sized, pw.pw_uid, pw.pw_gid)
            homes[kind] = h
        rows = []
        answers = set()
        cold_ok = True
        for kind, h in homes.items():
            warm = []
            login(binary, h, ident)  # into the cache
            for _ in range(RUNS):
                t, ok = login(binary, h, ident)
                warm.append(t)
                answers.add(ok.split(' has ', 1)[-1])
            cold = []
            for _ in range(COLD):
                if not drop_caches():
                    cold_ok = False
                    break
                t, ok = login(binary, h, ident)
                cold.append(t)
                answers.add(ok.split(' has ', 1)[-1])
            rows.append((kind, statistics.median(warm), min(warm), max(warm),
                         statistics.median(cold) if cold else None, min(cold) if cold else None,
                         max(cold) if cold else None))
        if len(answers) != 1:
            print('not ok - the two maildrops were not counted alike: %r' % sorted(answers))
            return 1
        lines = ['POP3 login: postern-pop3d started as postern-pspawn starts it, to its +OK (the listing of %d messages'
                 ' of %d bytes: %s); warm: median of %d (min-max), cold: after drop_caches, median of %d.'
                 % (N, SIZE, answers.pop(), RUNS, COLD),
                 '%d CPUs, Linux %s, %s, %s UTC.' % (os.cpu_count(), platform.release(),
                                                     subprocess.run(['df', '--output=fstype', d], capture_output=True,
                                                                    text=True).stdout.split()[-1] + ' (scratch)',
                                                     time.strftime('%Y-%m-%d %H:%M', time.gmtime())),
                 '',
                 '| names | warm ms | cold ms |',
                 '|---|---:|---:|']
        for kind, wm, wlo, whi, cm, clo, chi in rows:
            cold = '%.1f (%.1f-%.1f)' % (cm * 1000, clo * 1000, chi * 1000) if cm is not None else 'n/a'
            lines.append('| %s | %.1f (%.1f-%.1f) | %s |' % (kind, wm * 1000, wlo * 1000, whi * 1000, cold))
        if not cold_ok:
            lines.append('')
            lines.append('Cold runs left out: /proc/sys/vm/drop_caches cannot be written here.')
        text = '\n'.join(lines) + '\n'
        with open(OUT, 'w') as f:
            f.write(text)
        print(text, end='')
        print('# %.1f s in all; table in %s' % (time.time() - start, OUT))
        return 0
    finally:
        subprocess.run(['userdel', NAME], stderr=subprocess.DEVNULL)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
