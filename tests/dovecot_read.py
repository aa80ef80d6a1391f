#!/usr/bin/env python3
"""Dovecot reads a Maildir postern delivered, through IMAP, as its owner:
Dovecot's own imap program (no daemon, no port: PREAUTH on a pipe), driven
by Python's imaplib.  Dovecot takes a file's size with CRLF line ends from
its ,W= field without reading the file, so a ,W= that is off makes it cut
the message short or fail the FETCH, disconnect the client and rename the
file; this checks that it does none of that.

    dovecot_read.py MAILDIR USER

For every message in MAILDIR/new: RFC822.SIZE, the length of BODY[] and
the name's ,W= agree, BODY[] is the file with each bare LF sent as CRLF
(and a NUL as 0x80, as Dovecot sends it),
and the name is kept (Dovecot moves it to cur/ with ":2," added).
Nothing on Dovecot's stderr but its "Disconnected" line.  Prints a line
per problem and a summary; exit 0 when there is none, 1 otherwise, 77
when Dovecot's imap is not installed."""
import imaplib
import os
import pwd
import re
import shlex
import shutil
import sys
import tempfile

IMAP = '/usr/lib/dovecot/imap'


def main():
    maildir, user = sys.argv[1:3]
    if not os.access(IMAP, os.X_OK):
        print('no %s (tests/deps.sh installs dovecot-imapd)' % IMAP)
        return 77
    names = sorted(os.listdir(os.path.join(maildir, 'new')))
    files = {n: open(os.path.join(maildir, 'new', n), 'rb').read() for n in names}
    conf_dir = tempfile.mkdtemp(prefix='postern-dovecot.')
    os.chmod(conf_dir, 0o755)
    conf = os.path.join(conf_dir, 'dovecot.conf')
    err = os.path.join(conf_dir, 'stderr')
    with open(conf, 'w') as f:
        f.write('mail_location = maildir:%s\nssl = no\n' % maildir)
    os.chmod(conf, 0o644)
    home = os.path.dirname(os.path.abspath(maildir))
    cmd = 'setpriv --reuid=%s --regid=%d --init-groups env -i HOME=%s USER=%s %s -c %s 2> %s' % (
        shlex.quote(user), pwd.getpwnam(user).pw_gid, shlex.quote(home), shlex.quote(user), IMAP,
        shlex.quote(conf), shlex.quote(err))
    problems = []
    try:
        c = imaplib.IMAP4_stream(cmd)
        typ, data = c.select('INBOX', readonly=False)
        count = int(data[0])
        if count != len(names):
            problems.append('INBOX holds %d messages, new/ held %d' % (count, len(names)))
        for i in range(1, count + 1):
            typ, data = c.fetch(str(i), '(UID RFC822.SIZE BODY.PEEK[])')
            if typ != 'OK' or not data or not isinstance(data[0], tuple):
                problems.append('message %d: FETCH said %s %r' % (i, typ, data))
                continue
            meta, body = data[0]
            size = int(re.search(rb'RFC822\.SIZE (\d+)', meta).group(1))
            name = names[i - 1] if i <= len(names) else '?'
            w = re.search(r',W=(\d+)', name)
            # IMAP has no NUL outside BINARY: Dovecot sends one as 0x80
            want = re.sub(rb'(?<!\r)\n', b'\r\n', files.get(name, b'')).replace(b'\0', b'\x80')
            if not w or int(w.group(1)) != size:
                problems.append('%s: RFC822.SIZE %d, the name says otherwise' % (name, size))
            if len(body) != size or body != want:
                problems.append('%s: BODY[] is %d bytes, RFC822.SIZE %d, the file with CRLF %d%s' % (
                    name, len(body), size, len(want), '' if body == want else ', and differs'))
        c.logout()
    except (imaplib.IMAP4.error, OSError, ValueError, AttributeError) as e:
        problems.append('IMAP: %s' % e)
    kept = sorted(n[:-len(':2,')] for n in os.listdir(os.path.join(maildir, 'cur')) if n.endswith(':2,'))
    if kept != names:
        problems.append('names in cur/ %s, in new/ before %s' % (kept, names))
    with open(err) as f:
        for line in f:
            if 'Disconnected:' not in line:
                problems.append('dovecot: ' + line.rstrip())
    shutil.rmtree(conf_dir, ignore_errors=True)
    for p in problems:
        print(p)
    print('dovecot read %d messages, %d problems' % (len(names), len(problems)))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
