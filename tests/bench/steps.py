#!/usr/bin/env python3
"""Where one SMTP session's time goes, step by step: N sessions one after
the other (connect to greeting, HELO, MAIL, RCPT, DATA to 354, the message
to its 250, QUIT), each a new connection, 1 KB of body; prints p50 and mean
of each step in ms.  Any server: doc/performance.md compares postern's
steps with Postfix's this way.  Never part of make test.

    python3 tests/bench/steps.py PORT N RECIPIENT [HOST]"""
import socket, statistics, sys, time

if len(sys.argv) < 4:
    sys.exit(__doc__)
port, n, rcpt = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].encode()
host = sys.argv[4] if len(sys.argv) > 4 else '127.0.0.1'
body = b'Subject: steps\r\n\r\n' + b'x' * 1000 + b'\r\n.\r\n'
cmds = (('HELO', b'HELO steps.test\r\n'), ('MAIL', b'MAIL FROM:<steps@steps.test>\r\n'),
        ('RCPT', b'RCPT TO:<' + rcpt + b'>\r\n'), ('DATA to 354', b'DATA\r\n'),
        ('message to 250', body), ('QUIT', b'QUIT\r\n'))
steps = {k: [] for k in ['connect to greeting'] + [c[0] for c in cmds]}


def reply(s):
    """one whole reply, multi-line included; its code"""
    buf = b''
    while True:
        b = s.recv(4096)
        if not b:
            raise SystemExit('connection closed; so far: %r' % buf)
        buf += b
        lines = buf.split(b'\r\n')
        if len(lines) > 1 and len(lines[-2]) > 3 and lines[-2][3:4] == b' ':
            return int(lines[-2][:3])


for i in range(n):
    t0 = time.perf_counter()
    s = socket.create_connection((host, port))
    reply(s)
    steps['connect to greeting'].append(time.perf_counter() - t0)
    for name, c in cmds:
        t0 = time.perf_counter()
        s.sendall(c)
        code = reply(s)
        steps[name].append(time.perf_counter() - t0)
        if code >= 400:
            raise SystemExit('%s: %d' % (name, code))
    s.close()
total = 0.0
for k, v in steps.items():
    v.sort()
    total += v[len(v) // 2]
    print('%-20s p50 %6.3f ms  mean %6.3f ms' % (k, v[len(v) // 2] * 1000, statistics.mean(v) * 1000))
print('%-20s p50 %6.3f ms (sum of the steps)' % ('session', total * 1000))
