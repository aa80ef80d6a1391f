/* The room a file system has left, against control/queuefree: mail is
 * taken only while the queue's file system keeps that much free besides
 * the message, so that the mail already queued can still be delivered
 * (copied into Maildirs that often share the disk), bounced and logged
 * when the disk fills.  postern-smtpd asks at MAIL (452 4.3.1, RFC 1870
 * 6.1 and RFC 3463's "insufficient system storage"), postern-queue before
 * each commit against half of it (doc/queue.md, "Free space"). */
#ifndef POSTERN_ROOM_H
#define POSTERN_ROOM_H
#include <sys/statvfs.h>

#define QUEUEFREE_DEFAULT 104857600ULL /* 100 MB */
/* inodes kept free besides the bytes: a message takes two in the queue,
 * one in each Maildir it reaches */
#define ROOM_INODES_MIN 1000ULL

/* Bytes a non-root writer may still use, saturating. */
unsigned long long room_bytes(const struct statvfs *);
/* 1 when v has less than reserve + more bytes, or (on a file system that
 * counts inodes) fewer than ROOM_INODES_MIN inodes, left for a non-root
 * writer; 0 when there is room, and always when reserve is 0. */
int room_short(const struct statvfs *v, unsigned long long reserve, unsigned long long more);
#endif
