/* FNV-1a, 64 bits: a fast hash for names and keys that no one picks to
 * collide (postern-listen's table of client addresses, postern-pop3d's
 * UIDLs of unsafe names, postern-smtpd's sending-limit file names).  Not
 * for anything an attacker chooses and gains by colliding. */
#ifndef POSTERN_FNV_H
#define POSTERN_FNV_H
#include <stddef.h>

unsigned long long fnv1a64(const void *p, size_t n);
#endif
