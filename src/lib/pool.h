/* queue/pool: emptied queue files kept for reuse (doc/queue.md, "The pool").
 *
 * Creating and deleting two inodes per message is what a busy queue spends
 * most of its kernel time on (doc/performance.md): ext4 without a journal
 * scans past every recently freed inode to find a free one.  So
 * postern-clean renames a finished message's files into pool/ and empties
 * them, and postern-queue renames one back into tmp/ instead of creating a
 * file.  Nothing in pool/ is ever read: every file is empty, and losing any
 * or all of them costs only speed.  Both programs run as postern-queue,
 * the only user that may enter pool/. */
#ifndef POSTERN_POOL_H
#define POSTERN_POOL_H

#define POOL_DIR "pool"
/* Files kept; beyond this postern-clean unlinks.  A burst that backs the
 * queue up by N messages takes 2N files, and every file made and unlinked
 * beyond the pool costs the inode scan: on the machine of
 * doc/performance.md the queue backed up by 190 messages under 10 SMTP
 * connections and by 1,200 under 50.  4096 empty files cost 4096 inodes
 * and a directory of about 250 KB. */
#define POOL_MAX 4096
#define POOL_NAME_MAX 80

/* postern-queue: renames a pooled file to `to` (relative to the queue
 * directory) and returns it opened O_WRONLY and empty, or -1 when the pool
 * is missing, empty or not ours (the caller then creates the file as
 * before).  *moved is set when `to` exists afterwards, even on -1, so the
 * caller's clean-up removes it. */
int pool_take(const char *to, int *moved);

/* postern-clean: moves the file `from` to pool/.NAME, empties it there,
 * then offers it as pool/NAME; or unlinks it when the pool is missing or
 * full, or when any other process still has it open (a delivery that kept
 * its descriptor must not see the next message written into it).  1 when
 * `from` is gone, 0 with errno when it is still there. */
int pool_put(const char *from, const char *name);

/* postern-clean: as pool_put, for a file in a directory postern-queue
 * never takes from and that no process has open for writing (a finished
 * message's mess/ID once its ID.env has left mess/): emptied where it is,
 * then offered under NAME with one rename instead of two. */
int pool_put_unshared(const char *from, const char *name);

/* postern-clean: counts the pool's files (at start, and now and then), and
 * removes any pool/.NAME a crash left half-way through pool_put. */
void pool_count(void);
#endif
