"""SRS addresses made as doc/srs.md describes them, in Python, for the
tests of the programs that read them back (tests/t-smtp-srs.py): written
from the document, not from src/lib/srs.c, so that a test of postern-smtpd
does not only check that the library agrees with itself.

    SRS0=<hash>=<TT>=<domain>=<local>@<srsdomain>
    SRS1=<hash>=<TT>=<first host>=<sep><rest of its SRS0>@<srsdomain>

<hash>: 8 characters of RFC 4648 base32, the low 40 bits of SipHash-2-4
under the key, 5 bits a character from the lowest, over the type digit
('0' or '1') and the lower-cased text after the hash and its '='; <TT>:
the day (days since 1970, modulo 1024) as two base32 characters, high
then low."""
import time

BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
MASK = (1 << 64) - 1


def _rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & MASK


def siphash24(key, msg):
    """SipHash-2-4 (Aumasson and Bernstein) of bytes msg under the 16-byte
    key, as an integer (the reference's output bytes, least significant
    first)."""
    k0 = int.from_bytes(key[:8], 'little')
    k1 = int.from_bytes(key[8:16], 'little')
    v = [k0 ^ 0x736f6d6570736575, k1 ^ 0x646f72616e646f6d, k0 ^ 0x6c7967656e657261, k1 ^ 0x7465646279746573]

    def sipround():
        v[0] = (v[0] + v[1]) & MASK; v[1] = _rotl(v[1], 13) ^ v[0]; v[0] = _rotl(v[0], 32)
        v[2] = (v[2] + v[3]) & MASK; v[3] = _rotl(v[3], 16) ^ v[2]
        v[0] = (v[0] + v[3]) & MASK; v[3] = _rotl(v[3], 21) ^ v[0]
        v[2] = (v[2] + v[1]) & MASK; v[1] = _rotl(v[1], 17) ^ v[2]; v[2] = _rotl(v[2], 32)

    whole = len(msg) - len(msg) % 8
    words = [int.from_bytes(msg[i:i + 8], 'little') for i in range(0, whole, 8)]
    words.append(int.from_bytes(msg[whole:], 'little') | (len(msg) & 0xff) << 56)
    for m in words:
        v[3] ^= m
        sipround()
        sipround()
        v[0] ^= m
    v[2] ^= 0xff
    for _ in range(4):
        sipround()
    return v[0] ^ v[1] ^ v[2] ^ v[3]


def today():
    return int(time.time()) // 86400


def sign(key, kind, text):
    """the hash of an SRS<kind> address whose text after the hash is text"""
    h = siphash24(key, (kind + text.lower()).encode())
    return ''.join(BASE32[(h >> (5 * i)) & 31] for i in range(8))


def date(day):
    return BASE32[(day >> 5) & 31] + BASE32[day & 31]


def srs0(key, sender, srsdomain, day=None):
    """the SRS0 address sender (local@domain) leaves with, made on day"""
    day = today() if day is None else day
    local, domain = sender.rsplit('@', 1)
    text = '%s=%s=%s' % (date(day), domain, local)
    return 'SRS0=%s=%s@%s' % (sign(key, '0', text), text, srsdomain)


def srs1(key, srs0_address, srsdomain, day=None):
    """the SRS1 address another host's SRS0 address becomes here"""
    day = today() if day is None else day
    local, first = srs0_address.rsplit('@', 1)
    text = '%s=%s=%s' % (date(day), first, local[4:])  # "TT=first.host=" and "=HHHHHH=TT=..."
    return 'SRS1=%s=%s@%s' % (sign(key, '1', text), text, srsdomain)


def read_key(path):
    """the first key of a key file (secret/srs/key): its signing key"""
    lines = [l.strip() for l in open(path).read().splitlines()]
    return bytes.fromhex([l for l in lines if l and not l.startswith('#')][0])


def reverse(key, address, srsdomain, days):
    """the address an SRS address of srsdomain stands for, checked: its
    signature under key and a date among days; raises ValueError saying
    what is wrong"""
    local, _, domain = address.rpartition('@')
    if domain.lower() != srsdomain.lower():
        raise ValueError('not in ' + srsdomain)
    if local[:5].upper() not in ('SRS0=', 'SRS1=') or local[13:14] != '=':
        raise ValueError('not an SRS address')
    rest = local[14:]
    if local[5:13].upper() != sign(key, local[3], rest):
        raise ValueError('bad signature')
    tt, field, tail = rest.split('=', 2)
    if tt.upper() not in [date(d) for d in days]:
        raise ValueError('not dated ' + ' or '.join(map(str, days)) + ': ' + tt)
    if local[3] == '0':
        return tail + '@' + field
    return 'SRS0' + tail + '@' + field


if __name__ == '__main__':
    # srsaddr.py check KEYFILE ADDRESS WANT SRSDOMAIN: exit 0 if ADDRESS is
    #   signed with the key's first key, dated today or yesterday (SRS0),
    #   and stands for WANT; else a line on stderr saying why, exit 1
    # srsaddr.py make KEYFILE SENDER SRSDOMAIN DAYS_BACK: prints SENDER's
    #   SRS0 address dated DAYS_BACK days ago
    import sys
    if len(sys.argv) == 6 and sys.argv[1] == 'check':
        _, _, keyfile, address, want, srsdomain = sys.argv
        try:
            back = reverse(read_key(keyfile), address, srsdomain, (today(), today() - 1))
        except ValueError as e:
            sys.exit('%s: %s' % (address, e))
        if back != want:
            sys.exit('%s: stands for %s, not %s' % (address, back, want))
    elif len(sys.argv) == 6 and sys.argv[1] == 'make':
        _, _, keyfile, sender, srsdomain, back = sys.argv
        print(srs0(read_key(keyfile), sender, srsdomain, today() - int(back)))
    else:
        sys.exit('usage: srsaddr.py check KEYFILE ADDRESS WANT SRSDOMAIN | make KEYFILE SENDER SRSDOMAIN DAYS_BACK')
