"""A network namespace of ip netns's, entered by this thread for a while
(tests/t-submission.py, tests/t-dnsbl.py): a socket opened inside stays
there after the thread comes back."""
import contextlib, ctypes, os

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


@contextlib.contextmanager
def netns(name):
    """this thread in network namespace name (ip netns's) until the block
    ends; a socket opened inside stays there"""
    back = os.open('/proc/thread-self/ns/net', os.O_RDONLY)
    there = os.open('/run/netns/' + name, os.O_RDONLY)
    try:
        if libc.setns(there, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), 'setns ' + name)
        yield
    finally:
        if libc.setns(back, CLONE_NEWNET) != 0:
            raise SystemExit('cannot return to my own network namespace')
        os.close(back)
        os.close(there)
