"""What the tests of postern-auth's two clients share (t-popup.py,
t-smtp-auth.py): a stand-in for postern-auth on HOME/run/auth/socket, and
a look into a process's memory for a password that should be gone."""
import os, socket, threading


class Listener:
    """A SOCK_SEQPACKET socket at path, open to every user (the client
    under test runs as its own user), each connection handed to
    self.serve(conn) on a thread of its own.  Subclasses say what serve
    does; requests and mode are theirs to use."""

    def __init__(self, path, mode):
        self.path, self.mode, self.requests = path, mode, []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.bind(path)
        os.chmod(path, 0o666)
        self.sock.listen(16)
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def receive(self, c):
        """(record, [fd]) of the one request on c, or None (c closed)"""
        c.settimeout(10)
        try:
            data, fds, _, _ = socket.recv_fds(c, 4096, 8)
        except OSError:
            c.close()
            return None
        return data, fds

    def serve(self, c):
        raise NotImplementedError


def in_memory(pid, needle):
    """needle in a writable mapping of pid (root reads /proc/PID/mem even
    of an undumpable process)"""
    found = False
    with open('/proc/%d/maps' % pid) as maps, open('/proc/%d/mem' % pid, 'rb', 0) as mem:
        for l in maps:
            addr, perms = l.split()[:2]
            if 'w' not in perms:
                continue
            lo, hi = (int(x, 16) for x in addr.split('-'))
            if hi - lo > 1 << 32:
                continue  # a sanitizer's shadow: reserved, never a buffer of ours
            for at in range(lo, hi, 1 << 24):
                try:
                    mem.seek(max(lo, at - len(needle)))
                    if needle in mem.read(min(hi, at + (1 << 24)) - max(lo, at - len(needle))):
                        found = True
                except OSError:
                    pass  # pages reserved but never mapped in
    return found
