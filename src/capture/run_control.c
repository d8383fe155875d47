/* run_control.c - what every packet reader of a capture shares: the stop flag and the handles a
 * stop must break out of (set from a signal handler or another thread), the checks every
 * libpcap handle gets before it is read (link type, filter), and how the reader threads split
 * the caps. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "capture_int.h"
#include "tlsaudit/common.h"
#include "tlsaudit/packet.h"

/* Lock-free atomics: safe in a signal handler and between threads. */
static atomic_int stop_requested;
static atomic_int reload_requested;   /* a SIGHUP not yet taken (several merge into one reload) */
static atomic_uint wakes;             /* ta__capture_wake calls (readers without a handle) */
/* The handles a stop or a wake breaks out of. A thread that wakes them (the writer: a reload, a
 * live tick) holds watch_mu while it uses a handle, and ta__capture_watch takes it too, so a
 * handle is never woken after the thread that reads it has unwatched it and may close it. The
 * signal handler cannot take a lock: it only reads the atomics, and runs on the main thread (the
 * other threads block SIGINT and SIGTERM), which is also the one that unwatches and closes a
 * file's handle, so it sees either the open handle or NULL. */
static _Atomic(pcap_t *) watched[TA_MAX_WORKERS];
static pthread_mutex_t watch_mu = PTHREAD_MUTEX_INITIALIZER;

/* pcap_breakloop on every watched handle. */
static void break_watched(void)
{
    for (unsigned i = 0; i < TA_MAX_WORKERS; i++) {
        pcap_t *p = atomic_load(&watched[i]);
        if (p)
            pcap_breakloop(p);
    }
}

/* See capture_int.h. */
bool ta__capture_stopping(void)
{
    return atomic_load_explicit(&stop_requested, memory_order_relaxed) != 0;
}

/* See capture_int.h. pcap_breakloop sets a flag and (Linux) writes an eventfd: both
 * async-signal-safe, and it may be called from another thread than the one in the loop. */
void ta__capture_stop(void)
{
    atomic_store(&stop_requested, 1);
    break_watched();
}

/* See capture_int.h. */
unsigned ta__capture_wakes(void)
{
    return atomic_load_explicit(&wakes, memory_order_acquire);
}

/* See capture_int.h. */
void ta__capture_wake(void)
{
    atomic_fetch_add_explicit(&wakes, 1, memory_order_release);
    pthread_mutex_lock(&watch_mu);
    break_watched();
    pthread_mutex_unlock(&watch_mu);
}

/* See capture_int.h. */
void ta__capture_watch(unsigned i, pcap_t *p)
{
    if (i >= TA_MAX_WORKERS)
        return;
    pthread_mutex_lock(&watch_mu);
    atomic_store(&watched[i], p);
    pthread_mutex_unlock(&watch_mu);
}

static void on_signal(int sig)
{
    if (sig == SIGHUP) {
        atomic_store(&reload_requested, 1);
        return;
    }
    ta__capture_stop();
}

/* See capture_int.h. */
bool ta__capture_reload_take(void)
{
    return atomic_exchange(&reload_requested, 0) != 0;
}

/* See capture_int.h. */
int ta__capture_thread(pthread_t *th, void *(*fn)(void *), void *arg)
{
    sigset_t block, old;
    int rc;

    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    rc = pthread_create(th, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* See capture_int.h. */
void ta__capture_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* A reload must not end a read: without SA_RESTART, a SIGHUP that lands while `-r` blocks
     * on a pipe or FIFO (tcpdump -w - | tlsaudit capture -r -) fails the read, and libpcap
     * takes that for the end of the file. SIGINT and SIGTERM still interrupt it: they stop. */
    sa.sa_flags = SA_RESTART;
    sigaction(SIGHUP, &sa, NULL);
}

/* See capture_int.h. */
int ta__capture_prepare(pcap_t *p, const char *name, const char *filter, int *dlt, char *errbuf)
{
    struct bpf_program prog;

    *dlt = pcap_datalink(p);
    if (!ta_decode_linktype_supported(*dlt)) {
        const char *n = pcap_datalink_val_to_name(*dlt);
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: unsupported link type %s (%d)", name,
                 n ? n : "unknown", *dlt);
        return TA_ERR_IO;
    }
    if (!filter)
        return TA_OK;
    if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0 || pcap_setfilter(p, &prog) < 0) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: filter '%s': %s", name, filter, pcap_geterr(p));
        return TA_ERR_IO;
    }
    pcap_freecode(&prog);
    return TA_OK;
}

/* See capture_int.h. */
uint32_t ta__capture_share(uint32_t total, unsigned n, uint32_t floor)
{
    uint32_t v = total / n;
    if (total == 0)
        return 0;
    return v < floor ? floor : v;
}
