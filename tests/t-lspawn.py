#!/usr/bin/env python3
"""postern-lspawn on its own, with this script in postern-send's place on
its fds 0 and 1 (doc/pipes.md): a postern-send that writes a long run of
requests before it reads a single result must never find lspawn stuck
(postern-send writes with blocking writes; lspawn must keep reading them
while its results wait), every result must still arrive once, and a
postern-send that goes away must not kill lspawn.  The requests are for a
user that does not exist, which lspawn answers itself ('D', no such user),
so thousands of results come without a postern-local.  Run as root."""
import os, subprocess, sys, tempfile, threading, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smtptest import BUILD
from tap import check, done

LSPAWN = os.path.join(BUILD, 'bin', 'postern-lspawn')


def netstring(payload):
    return b'%d:%s,' % (len(payload), payload)


def request(user, jobs):
    """one request frame: USER, then JOB QID EXT RECIPIENT SENDER MAILPARAMS
    RCPTPARAMS a message"""
    p = user + b'\0'
    for j in jobs:
        p += b'%d\0' % j + b'1764489856.123456P4242R0123456789abcdef\0\0' + \
             user + b'@example.org\0sender@example.org\0RET=HDRS\0NOTIFY=NEVER\0'
    return netstring(p)


def frames(data):
    """the payloads of a run of netstrings, and what is left over"""
    out = []
    while True:
        colon = data.find(b':')
        if colon <= 0:
            break
        ln = int(data[:colon])
        if len(data) < colon + 1 + ln + 1:
            break
        out.append(data[colon + 1:colon + 1 + ln])
        data = data[colon + 2 + ln:]
    return out, data


D = tempfile.mkdtemp(prefix='postern-test.')
os.chmod(D, 0o755)
for sub in ('control', 'queue/mess', 'bin', 'vmail', 'alias'):
    os.makedirs(os.path.join(D, sub))
with open(os.path.join(D, 'control', 'lingerlocal'), 'w') as f:
    f.write('0\n')
ENV = dict(os.environ, POSTERN_HOME=D)
procs = []


def start():
    req_r, req_w = os.pipe()
    res_r, res_w = os.pipe()
    err = open(os.path.join(D, 'err.%d' % len(procs)), 'wb')
    p = subprocess.Popen([LSPAWN], stdin=req_r, stdout=res_w, stderr=err, env=ENV)
    procs.append(p)
    os.close(req_r)
    os.close(res_w)
    return p, req_w, res_r, err.name


try:
    # 1. 6,400 messages in 200 requests of 32, all written before any result
    # is read: about 420 KB of requests and 170 KB of results, each well
    # over a pipe's 64 KB.
    USER = b'ptnosuchuser'
    BATCHES, PER = 200, 32
    p, req_w, res_r, errname = start()
    all_written = threading.Event()
    written = [0]

    def writer():
        job = 1
        for _ in range(BATCHES):
            os.write(req_w, request(USER, range(job, job + PER)))
            written[0] += 1
            job += PER
        os.close(req_w)
        all_written.set()
    t = threading.Thread(target=writer, daemon=True)
    t.start()
    finished = all_written.wait(30)
    check(finished, 'a postern-send that writes %d requests before reading a result is never stopped '
          '(%d written in 30 s)' % (BATCHES, written[0]))
    data = b''
    res_r_file = os.fdopen(res_r, 'rb')
    if finished:
        data = res_r_file.read()
    got, rest = frames(data)
    check(rest == b'' and len(got) == BATCHES * PER,
          'then every result arrives: %d frames for %d messages' % (len(got), BATCHES * PER))
    jobs = sorted(int(g.split(b'\0')[0]) for g in got)
    check(jobs == list(range(1, BATCHES * PER + 1)), 'each job answered exactly once')
    check(got and all(g.split(b'\0')[1:3] == [b'D', b'no such user'] for g in got), 'each as D, no such user')
    try:
        rc = p.wait(10)
    except subprocess.TimeoutExpired:
        rc = None
    check(rc == 0, 'at the end of the requests, with its results written, lspawn exits 0 (%s)' % rc)

    # 2. postern-send gone: its end of the result pipe closed.  lspawn says so
    # once, keeps reading requests (so a writer is never stuck either), and
    # exits at their end without being killed by SIGPIPE.
    p, req_w, res_r, errname = start()
    os.close(res_r)
    ok = True
    try:
        for i in range(BATCHES):
            os.write(req_w, request(USER, range(1 + PER * i, 1 + PER * (i + 1))))
    except BrokenPipeError:
        ok = False
    os.close(req_w)
    check(ok, 'with postern-send\'s reading end closed, lspawn still reads every request')
    try:
        rc = p.wait(10)
    except subprocess.TimeoutExpired:
        rc = None
    with open(errname, 'rb') as f:
        err = f.read().decode('latin-1')
    check(rc == 0, 'and exits 0 at their end, not killed by SIGPIPE (%s)' % rc)
    check(err.count('unable to write to postern-send') == 1,
          'saying once that it cannot write to postern-send (%r)' % err[:200])
    # 3. A malformed request ends lspawn (111), but not before the answers
    # it owes: the request before it, read in the same pass, is answered.
    p, req_w, res_r, errname = start()
    os.write(req_w, request(USER, [7]) + netstring(b'only one field\0'))
    os.close(req_w)
    with os.fdopen(res_r, 'rb') as rf:
        got, rest = frames(rf.read())
    try:
        rc = p.wait(10)
    except subprocess.TimeoutExpired:
        rc = None
    check(rc == 111, 'a malformed request: lspawn exits 111 (%s)' % rc)
    check([g.split(b'\0')[:2] for g in got] == [[b'7', b'D']],
          'after answering the request before it (%r)' % got)
finally:
    for q in procs:
        if q.poll() is None:
            q.kill()
            q.wait()
    if not os.environ.get('POSTERN_KEEP'):
        subprocess.run(['rm', '-rf', D])

done()
