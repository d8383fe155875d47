/* view_dir.c - the work folder of a central view (central_view.c): made in TMPDIR, locked for the
 * life of the process that reads through it, and swept when its owner died.
 *
 * Why a lock and not a pid in the name: a query or report over the central store that is killed
 * (kill -9, OOM killer, power loss of a container) cannot delete its private SQLite copy, which
 * may hold gigabytes of a report's period. The next central read deletes such folders. It must
 * never delete a live one, and a pid says nothing across pid namespaces (containers sharing
 * /tmp) or after pid reuse; an flock on the folder is released by the kernel when its owner
 * dies, however it dies, so "the lock can be taken" means "nobody reads through it". A folder
 * younger than TA__VIEW_DIR_GRACE seconds is left alone too: its owner may be between mkdtemp
 * and flock. Only the names this layer creates are deleted, never anything else in the folder. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "central_int.h"

#define VIEW_PREFIX "tlsaudit-central-"
#define TA__VIEW_DIR_GRACE 60

static const char *const view_files[] = { "view.db", "view.db-wal", "view.db-shm",
                                          "view.db-journal" };

/* Delete the files of a view folder and the folder (it is empty then, or it is not ours and
 * rmdir fails, which is right). */
static void remove_files(const char *dir)
{
    char p[224];
    for (size_t i = 0; i < TA_ARRAY_LEN(view_files); i++) {
        snprintf(p, sizeof p, "%s/%s", dir, view_files[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* Sweep the view folders in tmp whose owner is gone: older than the grace period and not
 * locked. Returns how many were removed (for the message on stderr). */
static int sweep(const char *tmp)
{
    DIR *d = opendir(tmp);
    struct dirent *e;
    int n = 0;
    if (!d)
        return 0;
    time_t now = time(NULL);
    while ((e = readdir(d)) != NULL) {
        char dir[192];
        struct stat sb;
        if (strncmp(e->d_name, VIEW_PREFIX, strlen(VIEW_PREFIX)) != 0 ||
            strlen(e->d_name) != strlen(VIEW_PREFIX) + 6)
            continue;
        if ((size_t)snprintf(dir, sizeof dir, "%s/%s", tmp, e->d_name) >= sizeof dir)
            continue;
        /* O_NOFOLLOW: a symlink planted under our prefix is not followed */
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            continue;
        if (fstat(fd, &sb) == 0 && sb.st_uid == geteuid() && now - sb.st_mtime > TA__VIEW_DIR_GRACE &&
            flock(fd, LOCK_EX | LOCK_NB) == 0) {
            remove_files(dir);
            n++;
        }
        close(fd);
    }
    closedir(d);
    return n;
}

/* See central_int.h. */
int ta__view_dir_make(char *dir, size_t n, int *lockfd, char *errbuf)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp || strlen(tmp) + sizeof VIEW_PREFIX + 6 > n || strlen(tmp) > 120)
        tmp = "/tmp";
    *lockfd = -1;
    int swept = sweep(tmp);
    if (swept > 0)
        ta_fprint_errf(stderr, "tlsaudit: ", "removed %d work folder%s of central reads that did "
                       "not end (%s/" VIEW_PREFIX "*)", swept, swept == 1 ? "" : "s", tmp);
    snprintf(dir, n, "%s/" VIEW_PREFIX "XXXXXX", tmp);
    if (!mkdtemp(dir)) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: cannot make a work folder: %s", dir, strerror(errno));
        dir[0] = '\0';
        return TA_ERR_IO;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: cannot lock the work folder: %s", dir,
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        rmdir(dir);
        dir[0] = '\0';
        return TA_ERR_IO;
    }
    *lockfd = fd;
    return TA_OK;
}

/* See central_int.h. */
void ta__view_dir_remove(char *dir, int lockfd)
{
    if (dir[0])
        remove_files(dir);
    if (lockfd >= 0)
        close(lockfd);
    dir[0] = '\0';
}
