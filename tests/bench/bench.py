#!/usr/bin/env python3
"""The workloads of `make bench`, against servers tests/bench/run.sh has
started, and the table.

    bench.py OUT.md FLOOR_BIN FLOOR_DIR NAME=PORT,NEWDIR,RCPT,ROOTPID,INJECT[,CTL] ...

NEWDIR is the test user's Maildir/new, ROOTPID the process whose tree is the
server (memory, strace), INJECT a program taking RCPT with the message on
stdin (the server's sendmail), CTL a program taking `hold` (stop local
deliveries, keep accepting), `release` (start them again) and `queued`
(print how many messages wait), for the backlog workload.  The first server is postern; every ratio is
postern's figure divided by the peer's.  Settings from the environment:
BENCH_QUICK=1 (N=300, one run, 100 latency samples), BENCH_N, BENCH_RUNS,
BENCH_LATENCY, BENCH_CONC ("1 10 50"), BENCH_SIZES ("1024 102400").

Timing: a Linux inotify watch on Maildir/new (IN_CREATE for link(2),
IN_MOVED_TO for rename(2)) stamps each arrival as it happens, so the clock
stops at the Nth file without polling the directory."""
import ctypes
import os
import platform
import select
import signal
import smtplib
import statistics
import struct
import subprocess
import sys
import threading
import time

QUICK = os.environ.get('BENCH_QUICK') == '1'
N = int(os.environ.get('BENCH_N', 300 if QUICK else 2000))
RUNS = int(os.environ.get('BENCH_RUNS', 1 if QUICK else 3))
LAT = int(os.environ.get('BENCH_LATENCY', 100 if QUICK else 500))
CONC = [int(c) for c in os.environ.get('BENCH_CONC', '1 10 50').split()]
SIZES = [int(s) for s in os.environ.get('BENCH_SIZES', '1024 102400').split()]
INJ_PAR = 4
# The SMTP workload whose CPU per message is measured: the first size at
# the second concurrency (10 connections by default).
CPU_SIZE, CPU_CONC = SIZES[0], CONC[min(1, len(CONC) - 1)]
SMTP_SOURCE = '/usr/sbin/smtp-source'
# A run that has not delivered half of N after this many seconds is cut:
# its figure is the rate over the messages delivered so far (marked * in
# the table).  Any other run goes on to N (for at most 900 s).
CUT = float(os.environ.get('BENCH_CUT', 20))
CUTS = set()
# A message the client saw accepted that has not arrived STALL seconds after
# the client finished and the last arrival: lost, reported, never waited for.
STALL = float(os.environ.get('BENCH_STALL', 30))
LOST = []

libc = ctypes.CDLL(None, use_errno=True)
IN_MOVED_TO, IN_CREATE = 0x80, 0x100


class Watch:
    """Arrivals in one directory, each stamped when the kernel reports it."""

    def __init__(self, d):
        self.fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0 or libc.inotify_add_watch(self.fd, d.encode(), IN_CREATE | IN_MOVED_TO) < 0:
            raise OSError(ctypes.get_errno(), 'inotify on ' + d)
        self.poll = select.poll()
        self.poll.register(self.fd, select.POLLIN)
        self.count = 0
        self.first = self.last = None

    def pump(self, timeout_ms):
        """Reads what is there (waiting up to timeout_ms); returns arrivals."""
        if not self.poll.poll(timeout_ms):
            return 0
        now = time.monotonic()
        try:
            buf = os.read(self.fd, 1 << 20)
        except BlockingIOError:
            return 0
        n, off = 0, 0
        while off + 16 <= len(buf):
            _, mask, _, ln = struct.unpack_from('iIII', buf, off)
            name = buf[off + 16:off + 16 + ln].rstrip(b'\0')
            off += 16 + ln
            if mask & (IN_CREATE | IN_MOVED_TO) and not name.startswith(b'.'):
                n += 1
        self.count += n
        if n:
            self.last = now
            if self.first is None:
                self.first = now
        return n

    def wait_for(self, count, deadline):
        while self.count < count and time.monotonic() < deadline:
            self.pump(50)
        return self.count >= count

    def wait_all(self, count, deadline, client):
        """wait_for, giving up STALL s after both the client's exit and
        the last arrival."""
        while not self.wait_for(count, min(deadline, time.monotonic() + 1)):
            now = time.monotonic()
            if now >= deadline:
                return False
            if client.poll() is not None and now - max(self.last or 0, client.exited) > STALL:
                return False
        return True

    def close(self):
        os.close(self.fd)


class Server:
    def __init__(self, spec):
        name, rest = spec.split('=', 1)
        f = rest.split(',')
        port, new, rcpt, root, inject = f[:5]
        self.name, self.port, self.new, self.rcpt = name, int(port), new, rcpt
        self.root, self.inject = int(root), inject
        self.ctl = f[5] if len(f) > 5 else None
        self.peak = 0
        self.peak_pss = 0

    def clear(self):
        """Empties Maildir/new between runs by moving each file, truncated,
        to a directory beside the Maildir, not by unlinking it.  On ext4
        without a journal every new inode's allocation walks past each inode
        freed in the last minutes, so unlinking a run's 2,000 files would
        charge the next run's Maildir writes (any server's) for the harness's
        own clean-up (doc/performance.md, "Reading the table").  The scratch
        directory, with these, is removed after the benchmark."""
        kept = os.path.join(os.path.dirname(os.path.dirname(self.new)), 'bench-kept')
        os.makedirs(kept, exist_ok=True)
        for f in os.listdir(self.new):
            p = os.path.join(self.new, f)
            os.truncate(p, 0)
            os.rename(p, os.path.join(kept, f))


def proc_tree(root):
    kids = {}
    for p in os.listdir('/proc'):
        if not p.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % p) as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st[st.rindex(')') + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(p))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


TICK = os.sysconf('SC_CLK_TCK')


def cpu_by_comm(root):
    """{comm: CPU seconds} over the tree, each process with its reaped
    children (utime+stime+cutime+cstime): the sum over the tree only grows,
    whatever exits between two snapshots, as long as its parent reaps it."""
    out = {}
    for p in proc_tree(root):
        try:
            with open('/proc/%d/stat' % p) as f:
                st = f.read()
        except OSError:
            continue
        comm = st[st.index('(') + 1:st.rindex(')')]
        f = st[st.rindex(')') + 2:].split()
        out[comm] = out.get(comm, 0) + sum(int(x) for x in f[11:15]) / TICK
    return out


def rss_kb(pids, field='VmRSS'):
    """Sum of one field over pids: VmRSS, VmHWM (/proc/PID/status) or Pss
    (/proc/PID/smaps_rollup: shared pages divided among their sharers, so
    fifty copies of one program are not counted as fifty libcs)."""
    total = 0
    for p in pids:
        try:
            with open('/proc/%d/%s' % (p, 'smaps_rollup' if field == 'Pss' else 'status')) as f:
                for line in f:
                    if line.startswith(field + ':'):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


class Sampler(threading.Thread):
    """Every 100 ms, the sum of VmRSS over the tree of the server under load."""

    def __init__(self):
        super().__init__(daemon=True)
        self.srv = None
        self.stop = False

    def run(self):
        while not self.stop:
            s = self.srv
            if s is not None:
                pids = proc_tree(s.root)
                s.peak = max(s.peak, rss_kb(pids))
                s.peak_pss = max(s.peak_pss, rss_kb(pids, 'Pss'))
            time.sleep(0.1)


def msg(size, k, eol='\n'):
    """A message of about size bytes: LF for sendmail, CRLF for SMTP."""
    head = ('From: bench@source.example\nTo: bench@bench.example\nSubject: bench %d\n'
            'Message-ID: <bench-%d-%d@source.example>\n\n' % (k, k, time.time_ns()))
    line = 'The quick brown fox jumps over the lazy dog, again and again and again.\n'
    body = (line * (size // len(line) + 1))[:size].rsplit('\n', 1)[0] + '\n'
    return (head + body).replace('\n', eol).encode()


def smtp_run(s, n, size, conc, cpu=None):
    s.clear()
    w = Watch(s.new)
    c0 = cpu_by_comm(s.root)
    t0 = time.monotonic()
    p = subprocess.Popen([SMTP_SOURCE, '-s', str(conc), '-m', str(n), '-l', str(size),
                          '-f', 'bench@source.example', '-t', s.rcpt, '-M', 'source.example',
                          '127.0.0.1:%d' % s.port], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ok = w.wait_for(n, t0 + CUT) or (w.count >= n / 2 and w.wait_all(n, t0 + 900, exit_clock(p)))
    if not ok and p.poll() == 0:
        LOST.append('%s: smtp %d bytes x %d: %d of %d accepted messages never arrived' % (
            s.name, size, conc, n - w.count, n))
        sys.stderr.write(LOST[-1] + '\n')
    if not ok:
        p.kill()
        p.wait()
        rate = w.count / (w.last - t0) if w.count else None
        drain(w)
        w.close()
        CUTS.add((s.name, 'smtp', size, conc))
        return rate
    err = p.communicate()[1]
    w.close()
    if cpu is not None:
        time.sleep(0.5)  # the last processes exit and are reaped
        c1 = cpu_by_comm(s.root)
        # every name of either snapshot: a process that exited moved its
        # time into its parent's, so only the total is exact
        for k in set(c0) | set(c1):
            cpu[k] = cpu.get(k, 0) + (c1.get(k, 0) - c0.get(k, 0)) / n
    if p.returncode != 0:
        sys.stderr.write('%s: smtp-source -s %d -l %d: rc=%s, %d of %d delivered: %s\n' %
                         (s.name, conc, size, p.returncode, w.count, n, err.decode(errors='replace')[-300:]))
        return None
    return n / (w.last - t0)


class exit_clock:
    """A Popen whose .exited is when poll() first saw it end."""

    def __init__(self, p):
        self.p, self.exited = p, None

    def poll(self):
        r = self.p.poll()
        if r is not None and self.exited is None:
            self.exited = time.monotonic()
        return r


def drain(w):
    """After a cut run: until the server's queue is empty (nothing arrives
    for 3 s), so the next run counts only its own messages."""
    t = time.monotonic()
    while time.monotonic() - t < 300:
        if w.pump(3000) == 0:
            return


def inject_all(s, n):
    """n messages of 2 KB through the server's sendmail, INJ_PAR at a time;
    returns the stderr of each that failed."""
    m = msg(2048, 0)
    fails = []

    def sender(count):
        for _ in range(count):
            r = subprocess.run([s.inject, s.rcpt], input=m, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if r.returncode:
                fails.append(r.stderr)
    ts = [threading.Thread(target=sender, args=(n // INJ_PAR,)) for _ in range(INJ_PAR)]
    for t in ts:
        t.start()
    return ts, fails


def inject_run(s, n):
    s.clear()
    w = Watch(s.new)
    per = n // INJ_PAR
    t0 = time.monotonic()
    ts, fails = inject_all(s, n)
    ok = w.wait_for(per * INJ_PAR - len(fails), t0 + 300)
    for t in ts:
        t.join()
    ok = w.wait_for(per * INJ_PAR - len(fails), t0 + 300)
    w.close()
    if fails or not ok:
        sys.stderr.write('%s: injection: %d failed (%r), %d delivered\n' % (s.name, len(fails), fails[:1], w.count))
        return None
    return per * INJ_PAR / (w.last - t0)


def ctl(s, what):
    r = subprocess.run([s.ctl, what], capture_output=True, text=True, timeout=120)
    if r.returncode:
        raise RuntimeError('%s %s: %s' % (s.ctl, what, r.stderr.strip()))
    return r.stdout


def backlog_run(s, n):
    """A backlog, as after an outage of local delivery: deliveries held, n
    messages queued through sendmail, then deliveries released.  Returns
    (rate from the release to the nth file in Maildir/new, the same from
    the first file: without the server's own restart or reload)."""
    if not s.ctl:
        return None, None
    s.clear()
    try:
        ctl(s, 'hold')
        ts, fails = inject_all(s, n)
        for t in ts:
            t.join()
        want = (n // INJ_PAR) * INJ_PAR - len(fails)
        deadline = time.monotonic() + 300
        while int(ctl(s, 'queued').strip() or 0) < want:
            if time.monotonic() > deadline:
                raise RuntimeError('only %s of %d queued after 300 s' % (ctl(s, 'queued').strip(), want))
            time.sleep(0.2)
        if os.listdir(s.new):
            raise RuntimeError('%d delivered while held' % len(os.listdir(s.new)))
        time.sleep(1)
        w = Watch(s.new)
        t0 = time.monotonic()
        ctl(s, 'release')
        ok = w.wait_for(want, t0 + 300)
        w.close()
    except (RuntimeError, ValueError, subprocess.TimeoutExpired) as e:
        sys.stderr.write('%s: backlog: %s\n' % (s.name, e))
        try:
            ctl(s, 'release')
        except (RuntimeError, subprocess.TimeoutExpired):
            pass
        return None, None
    if fails or not ok:
        sys.stderr.write('%s: backlog: %d failed, %d of %d delivered\n' % (s.name, len(fails), w.count, want))
        return None, None
    return want / (w.last - t0), (want - 1) / (w.last - w.first) if w.last > w.first else None


def latency_run(s, n):
    """Seconds from the 250 after DATA to the file in new/, one message at a
    time; a new connection every 50 messages (peers limit mails per session)."""
    s.clear()
    w = Watch(s.new)
    out = []
    c = None
    for i in range(n):
        if c is None or i % 50 == 0:
            if c is not None:
                c.quit()
            c = smtplib.SMTP('127.0.0.1', s.port, local_hostname='source.example', timeout=30)
            c.ehlo('source.example')
        have = w.count
        c.sendmail('bench@source.example', [s.rcpt], msg(1024, i, '\r\n'))
        t250 = time.monotonic()
        if not w.wait_for(have + 1, t250 + 30):
            sys.stderr.write('%s: latency: message %d not delivered in 30 s\n' % (s.name, i))
            return None
        out.append(max(0.0, w.last - t250))
    if c is not None:
        c.quit()
    w.close()
    out.sort()
    return out


TRACED = ('fsync', 'fdatasync', 'sync_file_range', 'syncfs', 'clone', 'clone3', 'fork', 'vfork',
          'execve', 'rename', 'renameat', 'renameat2', 'link', 'linkat')


def strace_run(s, n, out_dir):
    """strace -f on the whole tree while n messages go SMTP -> Maildir (one
    connection each); returns ({syscall: calls per message}, {program:
    {syscall: per message}})."""
    s.clear()
    pids = proc_tree(s.root)
    names = {}
    for p in pids:
        try:
            names[p] = open('/proc/%d/comm' % p).read().strip()
        except OSError:
            pass
    log = os.path.join(out_dir, 'strace.%s' % s.name)
    args = ['strace', '-f', '-qq', '-o', log, '-e', 'trace=' + ','.join(TRACED)]
    for p in pids:
        args += ['-p', str(p)]
    tr = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    w = Watch(s.new)
    r = subprocess.run([SMTP_SOURCE, '-s', '1', '-m', str(n), '-l', '1024', '-f', 'bench@source.example',
                        '-t', s.rcpt, '-M', 'source.example', '127.0.0.1:%d' % s.port],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    w.wait_for(n, time.monotonic() + 60)
    w.close()
    time.sleep(1.5)
    tr.send_signal(signal.SIGINT)
    tr.wait()
    if r.returncode or w.count < n:
        return None, None
    total, per_prog, pending = {}, {}, {}
    for line in open(log, errors='replace'):
        parts = line.split(None, 1)
        if len(parts) < 2 or not parts[0].isdigit():
            continue
        pid, rest = int(parts[0]), parts[1]
        if rest.startswith('<... '):
            call = rest[5:].split(None, 1)[0]
            start = pending.pop((pid, call), '')
        else:
            call = rest.split('(', 1)[0]
            start = rest
            if '<unfinished' in rest:
                pending[(pid, call)] = rest
                continue
        ret = rest.rsplit('=', 1)[-1].split()[0] if '=' in rest else ''
        if call not in TRACED or not ret.lstrip('-').isdigit() or int(ret) < 0:
            continue
        prog = names.get(pid, '?')
        if call == 'execve':
            prog = os.path.basename(start.split('"', 2)[1]) if '"' in start else prog
            names[pid] = prog
        elif call in ('clone', 'clone3', 'fork', 'vfork'):
            # a vfork-style child (posix_spawn) may exec before its parent's
            # clone returns: its own execve has named it then
            names.setdefault(int(ret), prog)
        key = {'fdatasync': 'fsync', 'clone3': 'clone', 'fork': 'clone', 'vfork': 'clone',
               'renameat': 'rename', 'renameat2': 'rename', 'linkat': 'link'}.get(call, call)
        total[key] = total.get(key, 0) + 1
        per_prog.setdefault(prog, {})
        per_prog[prog][key] = per_prog[prog].get(key, 0) + 1
    f = lambda d: {k: v / n for k, v in d.items()}
    return f(total), {p: f(d) for p, d in per_prog.items()}


def floor(binary, d, threads, cycles, keep=False):
    os.makedirs(d, exist_ok=True)
    out = subprocess.run([binary, d, str(threads), str(cycles)] + (['keep'] if keep else []),
                         capture_output=True, text=True).stdout
    return float(out.rsplit('per_second=', 1)[1])


NEAR_CYCLES = 400
NEAR = []  # every floor read beside a postern run, cycles/s


def near_floor(binary, d, res, key, rate):
    """The floor read again just after one of postern's throughput runs
    (1 thread, NEAR_CYCLES cycles, in a directory of its own whose files
    stay), and that run's rate as a share of it: on a virtual disk whose
    speed swings several times over from one minute to the next, a rate
    and a floor read minutes apart say little about each other."""
    if rate is None:
        return
    f = floor(binary, '%s-near%d' % (d, len(NEAR)), 1, NEAR_CYCLES, keep=True)
    NEAR.append(f)
    res.setdefault(('near',) + (key if isinstance(key, tuple) else (key,)), []).append(rate / f)


def process_floor(floor_bin, cycles=300):
    """What a process costs on this machine (process-floor.c, built beside
    fsync-floor): {'fork_ms', 'spawn_ms', 'fault_us'}, or None without it."""
    binary = os.path.join(os.path.dirname(floor_bin), 'process-floor')
    if not os.access(binary, os.X_OK):
        return None
    out = subprocess.run([binary, str(cycles)], capture_output=True, text=True).stdout
    try:
        return {k: float(v) for k, v in (w.split('=') for w in out.split())}
    except ValueError:
        return None


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def main():
    out_md, floor_bin, floor_dir = sys.argv[1:4]
    servers = [Server(a) for a in sys.argv[4:]]
    started = time.monotonic()
    res = {s.name: {} for s in servers}

    def note(s, key, v):
        res[s.name].setdefault(key, []).append(v)

    procs = [process_floor(floor_bin)]
    # Warm up: page cache, first fork of every program, process pools.
    for s in servers:
        for size in (1024, 102400):
            smtp_run(s, 20, size, 5)
    time.sleep(2)
    for s in servers:
        res[s.name]['idle'] = [rss_kb(proc_tree(s.root))]
        res[s.name]['idle_pss'] = [rss_kb(proc_tree(s.root), 'Pss')]
        res[s.name]['procs'] = [len(proc_tree(s.root))]

    sampler = Sampler()
    sampler.start()

    def rotate(k):
        k %= len(servers)
        return servers[k:] + servers[:k]

    step = 0
    for size in SIZES:
        for conc in CONC:
            for run in range(RUNS):
                for s in rotate(step):
                    sampler.srv = s
                    cpu = {} if (size, conc) == (CPU_SIZE, CPU_CONC) else None
                    note(s, ('smtp', size, conc), smtp_run(s, N, size, conc, cpu))
                    if s is servers[0]:
                        near_floor(floor_bin, floor_dir, res[s.name], ('smtp', size, conc),
                                   res[s.name][('smtp', size, conc)][-1])
                    if cpu:
                        note(s, 'cpu', sum(cpu.values()) * 1000)
                        res[s.name].setdefault('cpu_by', []).append(cpu)
                    sampler.srv = None
                step += 1
            print('# smtp %d bytes x %d: %s (%.0f s)' % (size, conc, ', '.join(
                '%s %s' % (s.name, fmt(med(res[s.name][('smtp', size, conc)]), 0)) for s in servers),
                time.monotonic() - started), flush=True)
    for run in range(RUNS):
        for s in rotate(step):
            sampler.srv = s
            note(s, 'inject', inject_run(s, N))
            if s is servers[0]:
                near_floor(floor_bin, floor_dir, res[s.name], 'inject', res[s.name]['inject'][-1])
            sampler.srv = None
        step += 1
    print('# injection: %s' % ', '.join('%s %s' % (s.name, fmt(med(res[s.name]['inject']), 0)) for s in servers),
          flush=True)
    for run in range(RUNS):
        for s in rotate(step):
            sampler.srv = s
            whole, drained = backlog_run(s, N)
            note(s, 'backlog', whole)
            note(s, 'backlog_first', drained)
            if s is servers[0]:
                f0 = len(NEAR)
                near_floor(floor_bin, floor_dir, res[s.name], 'backlog', whole)
                if len(NEAR) > f0 and drained is not None:
                    res[s.name].setdefault(('near', 'backlog_first'), []).append(drained / NEAR[-1])
            sampler.srv = None
        step += 1
    print('# backlog: %s' % ', '.join('%s %s' % (s.name, fmt(med(res[s.name]['backlog']), 0)) for s in servers),
          flush=True)
    for run in range(RUNS):
        for s in rotate(step):
            lat = latency_run(s, LAT) if LAT > 0 else None
            if lat:
                note(s, 'p50', lat[len(lat) // 2] * 1000)
                note(s, 'p99', lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000)
        step += 1
    sampler.stop = True
    time.sleep(2)
    for s in servers:
        res[s.name]['peak'] = [s.peak]
        res[s.name]['peak_pss'] = [s.peak_pss]
    f1 = med([floor(floor_bin, floor_dir, 1, 2000) for _ in range(RUNS)])
    f2 = med([floor(floor_bin, floor_dir, 2, 1000) for _ in range(RUNS)])
    procs.append(process_floor(floor_bin))
    traces = {s.name: strace_run(s, 20, os.path.dirname(floor_dir)) for s in servers}
    elapsed = time.monotonic() - started
    table = render(servers, res, f1, f2, traces, elapsed, procs)
    sys.stdout.write(table)
    with open(out_md, 'w') as f:
        f.write(table)
    if LOST:
        sys.exit(1)


def fmt(v, digits=0):
    if v is None:
        return 'n/a'
    return '%.*f' % (digits, v)


def render(servers, res, f1, f2, traces, elapsed, procs):
    p = servers[0]
    peers = servers[1:]
    m = lambda s, k: med(res[s.name].get(k, []))
    fstype = subprocess.run(['df', '--output=fstype,source', '/tmp'], capture_output=True, text=True).stdout.split()
    if fstype[-2] == 'ext4':
        # without a journal a fsync writes the inode itself and new files
        # search past recently deleted inodes: both cost far more CPU
        dev = os.path.basename(os.path.realpath(fstype[-1]))
        try:
            journals = os.listdir('/proc/fs/jbd2')
            if not any(j.startswith(dev + '-') for j in journals):
                fstype[-2] += ', no journal'
        except OSError:
            pass
    lines = [
        '# postern benchmark: SMTP and sendmail to Maildir, against Postfix and OpenSMTPD',
        '',
        'Written by `make bench` (tests/bench/run.sh); doc/performance.md explains',
        'every row.  Rerun to refresh.',
        '',
        '- Machine: %s, %d CPUs, Linux %s, /tmp on %s (%s).' % (
            platform.node(), os.cpu_count(), platform.release(), fstype[-1], fstype[-2]),
        '- Date: %s; the whole run took %.0f s.' % (time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()), elapsed),
        '- N=%d messages per run, %d run(s) per figure, median; servers alternated run by run.' % (N, RUNS),
        '- SMTP: `smtp-source -s C -m N -l SIZE` (one connection per message, C at a time), '
        'clock from the first connect to the Nth file in Maildir/new.',
        '- Backlog: local delivery held, N messages of 2 KB queued by sendmail, then released; '
        'clock from the release (postern: postern-send\'s service started; Postfix: defer_transports '
        'emptied, reload, postqueue -f; OpenSMTPD: smtpctl resume mda) to the Nth file in Maildir/new, '
        'and from the first file to the Nth.',
        '- `*`: at least one run had delivered fewer than N/2 after %.0f s (BENCH_CUT) and was cut; '
        'the figure is the rate over the messages delivered by then.' % CUT,
        '- Ratios are postern / peer: above 1 means postern is ahead for throughput, '
        'behind for latency, memory and syscalls.',
        '- fsync floor (fsync-floor.c, write 2 KB + fsync + rename + fsync dir): '
        '%s cycles/s with 1 thread, %s with 2, at the end of the run.' % (fmt(f1), fmt(f2)),
        '- The floor column: each of postern\'s runs over a floor read just after it (1 thread, %d cycles), '
        'median over the runs; those reads gave %s cycles/s (lowest-median-highest).' % (
            NEAR_CYCLES, '%s-%s-%s' % (fmt(min(NEAR)), fmt(med(NEAR)), fmt(max(NEAR))) if NEAR else 'n/a'),
        '- Process floor (process-floor.c, a static C program): %s.' % (
            '; '.join('at the %s of the run fork + exit %.2f ms, posix_spawn + exit %.2f ms, '
                      'a page fault %.1f us' % (when, p['fork_ms'], p['spawn_ms'], p['fault_us'])
                      for when, p in zip(('start', 'end'), procs) if p) or 'not measured'),
        '',
    ]
    head = '| workload | ' + ' | '.join(s.name for s in servers) + ' | ' + \
        ' | '.join('%s / %s' % (p.name, q.name) for q in peers) + ' | %s / floor |' % p.name
    lines += [head, '|' + '---|' * (2 + len(servers) + len(peers))]

    def row(label, key, digits=0, floor_ratio=False):
        vals = [m(s, key) for s in servers]
        cells = [fmt(v, digits) + ('*' if (s.name,) + key in CUTS else '')
                 if isinstance(key, tuple) else fmt(v, digits) for s, v in zip(servers, vals)]
        ratios = []
        for v in vals[1:]:
            ratios.append(fmt(vals[0] / v, 2) if vals[0] is not None and v else 'n/a')
        near = med(res[p.name].get(('near',) + (key if isinstance(key, tuple) else (key,)), []))
        fr = fmt(near, 2) if floor_ratio and near is not None else ''
        lines.append(tr([label] + cells + ratios + [fr]))

    for size in SIZES:
        for conc in CONC:
            row('SMTP %s x %d conn (msg/s)' % (ksize(size), conc), ('smtp', size, conc), floor_ratio=True)
    row('sendmail, %d parallel (msg/s)' % INJ_PAR, 'inject', floor_ratio=True)
    row('backlog of N queued, release to last (msg/s)', 'backlog', floor_ratio=True)
    row('backlog, first delivery to last (msg/s)', 'backlog_first', floor_ratio=True)
    row('CPU per message, SMTP %s x %d conn (ms)' % (ksize(CPU_SIZE), CPU_CONC), 'cpu', 2)
    row('latency p50, 250 to new/ (ms)', 'p50', 2)
    row('latency p99 (ms)', 'p99', 2)
    for key, label in (('idle', 'idle RSS, sum over all processes (MB)'),
                       ('peak', 'peak RSS sum, sampled every 100 ms under load (MB)'),
                       ('idle_pss', 'idle PSS, sum over all processes (MB)'),
                       ('peak_pss', 'peak PSS sum under load (MB)')):
        vals = [m(s, key) for s in servers]
        vals = [v / 1024 if v is not None else None for v in vals]
        ratios = [fmt(vals[0] / v, 2) if v else 'n/a' for v in vals[1:]]
        lines.append(tr([label] + [fmt(v, 1) for v in vals] + ratios + ['']))
    lines.append(tr(['processes when idle'] + [fmt(m(s, 'procs')) for s in servers] +
                    [fmt(m(p, 'procs') / m(q, 'procs'), 2) for q in peers] + ['']))
    for key, label in (('fsync', 'fsync+fdatasync per message (strace)'), ('clone', 'forks per message'),
                       ('execve', 'execs per message'), ('rename', 'renames per message'),
                       ('link', 'links per message')):
        vals = [traces[s.name][0].get(key, 0.0) if traces[s.name][0] is not None else None for s in servers]
        ratios = [fmt(vals[0] / v, 2) if vals[0] is not None and v else 'n/a' for v in vals[1:]]
        lines.append(tr([label] + [fmt(v, 1) for v in vals] + ratios + ['']))
    lines += ['', 'CPU per message by process (with the children it reaps), SMTP %s x %d conn, ms, median run '
              '(a process that had run before the run began and was reaped during it moves its CPU to its '
              'parent: its own figure can then be below zero, and the sum is still right):' % (
                  ksize(CPU_SIZE), CPU_CONC), '']
    for s in servers:
        runs = res[s.name].get('cpu_by', [])
        if not runs:
            continue
        keys = sorted(set(k for r in runs for k in r))
        items = ['%s %.2f' % (k, med([r.get(k, 0) * 1000 for r in runs])) for k in keys]
        lines.append('- %s: %s' % (s.name, ', '.join(i for i in items if not i.endswith(' 0.00'))))
    lines += ['', 'Per program, SMTP in to Maildir, strace -f over 20 messages (calls per message):', '']
    for s in servers:
        pp = traces[s.name][1]
        if not pp:
            lines.append('- %s: strace failed' % s.name)
            continue
        items = []
        for prog in sorted(pp):
            d = pp[prog]
            items.append('%s %s' % (prog, ' '.join('%s=%.1f' % (k, d[k]) for k in sorted(d))))
        lines.append('- %s: %s' % (s.name, '; '.join(items)))
    if LOST:
        lines += ['', '**Lost mail** (accepted with 250, never delivered):', ''] + ['- ' + x for x in LOST]
    return '\n'.join(lines) + '\n'


def tr(cells):
    return '| ' + ' | '.join(cells) + ' |'


def ksize(size):
    return '%d KB' % (size // 1024) if size % 1024 == 0 else '%d B' % size


if __name__ == '__main__':
    main()
