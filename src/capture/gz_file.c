/* gz_file.c - gzip-compressed capture files (tcpdump -z gzip, rotated .pcap.gz and .pcapng.gz),
 * read through zlib as a stdio stream, so libpcap reads them like any other file (tshark and
 * Zeek read them too). Decompression is streamed: nothing is unpacked to disk or into memory. */
#define _GNU_SOURCE  /* fopencookie */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zlib.h>

#include "capture_int.h"

#define TA_GZ_BUFFER (256u * 1024u)  /* zlib's input buffer (its default is 8 KiB) */

/* One open file: the zlib stream and the name its errors are reported under. */
struct gz_cookie {
    gzFile gz;
    bool said;         /* the error was logged once */
    char path[256];
};

/* Does the file at path begin with the gzip magic bytes (RFC 1952 2.3.1)? Only a regular file
 * is looked at: reading the first bytes of a FIFO would take them from the capture. */
bool ta__gz_is(const char *path)
{
    unsigned char m[2];
    struct stat sb;
    FILE *f;
    bool gz = false;

    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || !(f = fopen(path, "rb")))
        return false;
    gz = fread(m, 1, sizeof(m), f) == sizeof(m) && m[0] == 0x1f && m[1] == 0x8b;
    fclose(f);
    return gz;
}

/* A read error becomes EIO for libpcap ("error reading dump file"); what zlib found (a corrupt
 * stream, an unexpected end) is logged once under the file's name. */
static ssize_t gz_read(void *cookie, char *buf, size_t n)
{
    struct gz_cookie *c = cookie;
    int r = gzread(c->gz, buf, n > INT_MAX ? INT_MAX : (unsigned)n);
    int zerr = Z_OK;
    const char *msg;

    if (r >= 0)
        return r;
    msg = gzerror(c->gz, &zerr);
    if (!c->said && zerr == Z_ERRNO)
        TA_LOG(TA_LOG_ERROR, "%s: %s", c->path, strerror(errno));
    else if (!c->said)
        TA_LOG(TA_LOG_ERROR, "not a valid gzip stream: %s", msg);  /* msg names the file */
    c->said = true;
    errno = EIO;
    return -1;
}

/* Only ftell is answered (progress): the compressed bytes read, to compare with the file size. */
static int gz_seek(void *cookie, off64_t *off, int whence)
{
    if (whence != SEEK_CUR || *off != 0) {
        errno = ESPIPE;
        return -1;
    }
    *off = (off64_t)gzoffset(((struct gz_cookie *)cookie)->gz);
    return 0;
}

static int gz_close(void *cookie)
{
    struct gz_cookie *c = cookie;
    int rc = gzclose_r(c->gz) == Z_OK ? 0 : -1;

    free(c);
    return rc;
}

FILE *ta__gz_fopen(const char *path, char *pe)
{
    cookie_io_functions_t io = { .read = gz_read, .write = NULL, .seek = gz_seek,
                                 .close = gz_close };
    struct gz_cookie *c = calloc(1, sizeof(*c));
    FILE *f = NULL;

    errno = 0;
    if (c)
        c->gz = gzopen(path, "rb");
    if (!c || !c->gz) {
        snprintf(pe, PCAP_ERRBUF_SIZE, "%s: %s", path, errno ? strerror(errno) : "out of memory");
        free(c);
        return NULL;
    }
    snprintf(c->path, sizeof(c->path), "%s", path);
    (void)gzbuffer(c->gz, TA_GZ_BUFFER);
    f = fopencookie(c, "rb", io);
    if (!f) {
        snprintf(pe, PCAP_ERRBUF_SIZE, "%s: %s", path, strerror(errno));
        gzclose_r(c->gz);
        free(c);
    }
    return f;
}
