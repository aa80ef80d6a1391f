/* The PEM files a key holder reads at start: postern-keys' two
 * (HOME/secret/tls/cert.pem and key.pem) and postern-dkim's keys
 * (HOME/secret/dkim/).  Any problem with one ends the program (111) with
 * a line naming the file: a key holder that starts half-configured would
 * only move the failure to every signature it is asked for. */
#ifndef POSTERN_TLS_PEMFILE_H
#define POSTERN_TLS_PEMFILE_H
#include <sys/stat.h>
#include "str.h"
#include "pem.h"

#define PEM_FILE_MAX (1024 * 1024)

/* Reads path, a regular file of at most PEM_FILE_MAX bytes, into text;
 * *st is its fstat. */
void pem_read(const char *path, struct str *text, struct stat *st);
/* pem_walk (src/lib/pem.h) over text, ending the program with a line
 * naming path when it stops. */
void pem_decode(const char *path, const struct str *text, struct str *der, pem_each *each, void *ctx);
#endif
