/* The two PEM files postern-keys reads at start.  Any problem with them
 * ends the program (111) with a line naming the file: without them it has
 * nothing to serve, and a key holder that starts half-configured would only
 * move the failure to every handshake. */
#ifndef POSTERN_KEYS_PEM_H
#define POSTERN_KEYS_PEM_H
#include <sys/stat.h>
#include "str.h"
#include "../tls/pem.h"

#define PEM_FILE_MAX (1024 * 1024)

/* Reads path, a regular file of at most PEM_FILE_MAX bytes, into text;
 * *st is its fstat. */
void pem_read(const char *path, struct str *text, struct stat *st);
/* pem_walk (src/tls/pem.h) over text, ending the program with a line
 * naming path when it stops. */
void pem_decode(const char *path, const struct str *text, struct str *der, pem_each *each, void *ctx);
#endif
