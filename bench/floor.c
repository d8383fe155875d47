/* floor.c - the bare libpcap read loop: pcap_open_offline + pcap_next_ex, counting packets and
 * bytes and nothing else. Every other tool in the benchmark is compared with this floor.
 * Usage: floor FILE */
#include <pcap/pcap.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE];
    if (argc != 2) {
        fprintf(stderr, "usage: floor FILE\n");
        return 2;
    }
    pcap_t *p = pcap_open_offline(argv[1], err);
    if (p == NULL) {
        fprintf(stderr, "floor: %s\n", err);
        return 1;
    }
    struct pcap_pkthdr *h;
    const u_char *data;
    unsigned long long packets = 0, bytes = 0;
    int rc;
    while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
        packets++;
        bytes += h->caplen;
    }
    if (rc == PCAP_ERROR)
        fprintf(stderr, "floor: %s\n", pcap_geterr(p));
    pcap_close(p);
    printf("packets=%llu bytes=%llu\n", packets, bytes);
    return rc == PCAP_ERROR ? 1 : 0;
}
