/* How many messages one postern-local delivers (postern-send gathers them,
 * postern-lspawn opens them, postern-local takes them as fd 3, 4, ...):
 * doc/pipes.md.  Each is an open file in postern-local and four
 * arguments, so the ceiling keeps both small. */
#ifndef POSTERN_LOCALBATCH_H
#define POSTERN_LOCALBATCH_H
#define LOCAL_BATCH_MAX 32
#endif
