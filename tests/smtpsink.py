"""A scripted SMTP server on loopback for the tests of postern's outbound
side (t-dsn.sh, t-srs.sh, t-srs-send.sh), so that what postern sent can be
checked byte for byte.

usage: smtpsink.py PORT CMDLOG [--dsn] [--tx TXLOG]

Every command line it is sent goes to CMDLOG as it came.  EHLO lists
8BITMIME and PIPELINING, and DSN with --dsn.  A recipient whose address
starts with "refuse" gets 550 at RCPT; the rest 250.  With --tx, each
transaction whose DATA it took is one line "from=<S> rcpt=<R1>,<R2>" in
TXLOG, and each refused recipient a line "refused <R>"."""
import socket
import sys
import threading

lock = threading.Lock()


def note(path, text):
    if path:
        with lock, open(path, 'a') as out:
            out.write(text + '\n')


def session(c, cmdlog, txlog, dsn):
    f = c.makefile('rb')

    def say(t):
        c.sendall(t.encode() + b'\r\n')
    say('220 sink ESMTP')
    sender, rcpts = None, []
    while True:
        line = f.readline()
        if not line:
            return
        cmd = line.rstrip(b'\r\n').decode('utf-8', 'replace')
        note(cmdlog, cmd)
        u = cmd.upper()
        if u.startswith('EHLO'):
            say('250-sink')
            say('250-8BITMIME')
            if dsn:
                say('250-DSN')
            say('250 PIPELINING')
        elif u.startswith('MAIL FROM:'):
            sender, rcpts = cmd[10:].split(' ')[0], []
            say('250 ok')
        elif u.startswith('RCPT TO:'):
            r = cmd[8:].split(' ')[0]
            if r.lower().startswith('<refuse'):
                note(txlog, 'refused ' + r)
                say('550 5.1.1 no such user here')
            else:
                rcpts.append(r)
                say('250 ok')
        elif u.startswith('DATA'):
            say('354 go on')
            while True:
                l = f.readline()
                if not l or l in (b'.\r\n', b'.\n'):
                    break
            note(txlog, 'from=%s rcpt=%s' % (sender, ','.join(rcpts)))
            say('250 2.0.0 taken')
        elif u.startswith('QUIT'):
            say('221 bye')
            return
        else:
            say('250 ok')


def main():
    args = sys.argv[1:]
    dsn = '--dsn' in args
    txlog = None
    if '--tx' in args:
        txlog = args[args.index('--tx') + 1]
        del args[args.index('--tx'):args.index('--tx') + 2]
    args = [a for a in args if a != '--dsn']
    if len(args) != 2:
        sys.exit('usage: smtpsink.py PORT CMDLOG [--dsn] [--tx TXLOG]')
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('127.0.0.1', int(args[0])))
    ls.listen(16)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=session, args=(c, args[1], txlog, dsn), daemon=True).start()


main()
