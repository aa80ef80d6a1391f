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
#define POOL_MAX 256   /* files kept; beyond this postern-clean unlinks */
#define POOL_NAME_MAX 80

/* postern-queue: renames a pooled file to `to` (relative to the queue
 * directory) and returns it opened O_WRONLY and empty, or -1 when the pool
 * is missing, empty or not ours (the caller then creates the file as
 * before).  *moved is set when `to` exists afterwards, even on -1, so the
 * caller's clean-up removes it. */
int pool_take(const char *to, int *moved);

/* postern-clean: moves the file `from` to pool/.NAME, empties it there,
 * then offers it as pool/NAME; or unlinks it when the pool is missing or
 * full.  1 when `from` is gone, 0 with errno when it is still there. */
int pool_put(const char *from, const char *name);

/* postern-clean: counts the pool's files (at start, and now and then), and
 * removes any pool/.NAME a crash left half-way through pool_put. */
void pool_count(void);
#endif
