/* A message's unique-id listing (RFC 1939 7, UIDL): its Maildir unique
 * name, the file name before ':', which stays the same when a reader moves
 * the file from new/ to cur/ or changes its flags.  RFC 1939 allows 1 to
 * 70 bytes of 0x21 to 0x7E; a unique name outside that (postern's own
 * names grow past 70 with a long host name) is replaced by '~' and the 16
 * hex digits of its 64-bit FNV-1a hash: the same name gives the same id in
 * every session, and unlike any name a Maildir writer makes, which starts
 * with the time. */
#ifndef POSTERN_POP3D_UIDL_H
#define POSTERN_POP3D_UIDL_H
#include <stddef.h>

#define UIDL_MAX 70
/* The length of name's unique part: the bytes before its first ':'. */
size_t uidl_uniq_len(const char *name, size_t len);
/* Writes the id of a unique name (n bytes) to out; returns its length. */
size_t uidl_make(char out[UIDL_MAX], const char *uniq, size_t n);
#endif
