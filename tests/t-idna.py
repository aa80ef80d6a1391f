#!/usr/bin/env python3
"""postern's A-labels (src/lib/idna.c, through the unit test's -e filter)
against Python's own Punycode codec (RFC 3492, written by others), for
5,000 random names: labels of lowercase ASCII, hyphens inside (two
together in the third and fourth characters refused), Latin,
Greek, Cyrillic, CJK and emoji code points, one to four labels.  Names
the encoder must refuse (bad UTF-8, labels too long once encoded) are
checked to be refused, and no name Python encodes is."""
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import check, done  # noqa: E402

SRC = os.environ.get('POSTERN_SRC', os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FILTER = os.path.join(os.environ.get('POSTERN_ASAN_BUILD', os.path.join(SRC, 'build-asan')), 'units', 'idna')
RANGES = [(0x61, 0x7a), (0x30, 0x39), (0xe0, 0xff), (0x3b1, 0x3c9), (0x430, 0x44f), (0x4e00, 0x9fff),
          (0x3040, 0x30ff), (0xac00, 0xd7a3), (0x1f300, 0x1f5ff)]


def label(rng):
    n = rng.randint(1, 24)
    cps = []
    for _ in range(n):
        lo, hi = rng.choice(RANGES)
        cps.append(chr(rng.randint(lo, hi)))
    s = ''.join(cps)
    if len(s) > 3 and rng.random() < 0.3:  # one or two hyphens inside, never first or last
        k = rng.randint(1, len(s) - 3)
        s = s[:k] + '-' * rng.randint(1, 2) + s[k + 1:]
    return s


def python_ascii(name):
    out = []
    for lab in name.split('.'):
        if all(ord(c) < 128 for c in lab):
            out.append(lab)
        elif lab[2:4] == '--':  # RFC 5891 4.2.3.1, by character
            return 'BAD'
        else:
            out.append('xn--' + lab.encode('punycode').decode('ascii'))
    if any(len(x) > 63 for x in out) or len('.'.join(out)) > 253:
        return 'BAD'
    return '.'.join(out)


def main():
    if not check(os.access(FILTER, os.X_OK), 'the unit filter is built (%s: make asan)' % FILTER):
        done()
    rng = random.Random(20261202)
    names = ['.'.join(label(rng) for _ in range(rng.randint(1, 4))) for _ in range(5000)]
    bad_utf8 = [b'b\xc3.example', b'\xc0\xaf.example', b'\xed\xa0\x80.example', b'x\xf4\x90\x80\x80']
    data = b''.join(n.encode('utf-8') + b'\n' for n in names) + b''.join(b + b'\n' for b in bad_utf8)
    r = subprocess.run([FILTER, '-e'], input=data, capture_output=True, timeout=120)
    got = r.stdout.decode('ascii', 'replace').split('\n')[:-1]
    check(r.returncode == 0 and len(got) == len(names) + len(bad_utf8),
          'the filter answered every line (%d of %d), exit %d' % (len(got), len(names) + len(bad_utf8), r.returncode))
    want = [python_ascii(n) for n in names]
    wrong = [(n, g, w) for n, g, w in zip(names, got, want) if g != w]
    for n, g, w in wrong[:5]:
        print('# %r: postern %s, Python %s' % (n, g, w))
    encoded = sum(1 for w in want if w != 'BAD')
    check(not wrong, '%d random names (%d encodable, %d too long once encoded): postern agrees with Python\'s '
          'Punycode codec on every one (%d differ)' % (len(names), encoded, len(names) - encoded, len(wrong)))
    check(encoded > len(names) // 2 and len(names) - encoded > 10, 'both kinds were drawn (%d encodable)' % encoded)
    check(got[len(names):] == ['BAD'] * len(bad_utf8), 'malformed UTF-8 is refused: %r' % got[len(names):])
    done()


main()
