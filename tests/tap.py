"""TAP lines for the Python tests: check() prints "ok N - what" or "not ok
N - what" at once, done() the "# N tests, N failed" line and exits 1 when
any failed (tests/run.sh counts the lines)."""
import sys
import time

count = 0
failed = 0


def check(cond, desc):
    global count, failed
    count += 1
    print('%s %d - %s' % ('ok' if cond else 'not ok', count, desc))
    sys.stdout.flush()
    if not cond:
        failed += 1
    return cond


def wait_for(pred, secs=5.0):
    """pred() true within secs, polled every 50 ms"""
    end = time.time() + secs
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def done():
    print('# %d tests, %d failed' % (count, failed))
    sys.exit(1 if failed else 0)
