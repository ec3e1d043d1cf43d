/* The physical limit for the bulk benchmark: ICMP Echo Requests as hoptrace bulk sends them (IPv4, header
 * included, TTL-long payload), built once and sent in batches with sendmmsg(2) as fast as the kernel takes them.
 * Reads nothing. Prints "sent N in S s".
 *
 * usage: bare_sendmmsg SRC FIRST_DST DSTS COUNT TTL
 *   sends COUNT probes from SRC to FIRST_DST, FIRST_DST+1, ... (DSTS addresses, round robin) with TTL.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 128
#define MAX_LEN 300

static uint16_t checksum(const uint8_t *data, size_t len) {
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2) sum += (uint32_t)(data[i] << 8 | data[i + 1]);
    if (len & 1) sum += (uint32_t)data[len - 1] << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* An Echo Request of TTL `ttl` from `src` to `dst` into `p`; returns its length. */
static size_t probe(uint8_t *p, uint32_t src, uint32_t dst, uint8_t ttl, uint16_t seq) {
    size_t len = 20 + 8 + 2 + ttl;
    memset(p, 0, len);
    p[0] = 0x45;
    p[2] = (uint8_t)(len >> 8);
    p[3] = (uint8_t)len;
    p[4] = 0x12;
    p[5] = 0x34;
    p[8] = ttl;
    p[9] = 1;
    memcpy(p + 12, &src, 4);
    memcpy(p + 16, &dst, 4);
    uint16_t ip = checksum(p, 20);
    p[10] = (uint8_t)(ip >> 8);
    p[11] = (uint8_t)ip;
    uint8_t *icmp = p + 20;
    icmp[0] = 8;
    icmp[4] = 0x5d;
    icmp[5] = 0xc0;
    icmp[6] = (uint8_t)(seq >> 8);
    icmp[7] = (uint8_t)seq;
    uint16_t c = checksum(icmp, len - 20);
    icmp[2] = (uint8_t)(c >> 8);
    icmp[3] = (uint8_t)c;
    return len;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s SRC FIRST_DST DSTS COUNT TTL\n", argv[0]);
        return 2;
    }
    struct in_addr src, first;
    if (inet_pton(AF_INET, argv[1], &src) != 1 || inet_pton(AF_INET, argv[2], &first) != 1) {
        fprintf(stderr, "bad address\n");
        return 2;
    }
    long dsts = atol(argv[3]), count = atol(argv[4]);
    int ttl = atoi(argv[5]);
    if (dsts < 1 || count < 1 || ttl < 1 || ttl > 255) {
        fprintf(stderr, "bad number\n");
        return 2;
    }
    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
    if (fd < 0) {
        perror("socket");
        return 1;
    }
    int sndbuf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);

    static uint8_t packets[BATCH][MAX_LEN];
    struct sockaddr_in to[BATCH];
    struct iovec iov[BATCH];
    struct mmsghdr msgs[BATCH];
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    long sent = 0;
    uint32_t base = ntohl(first.s_addr);
    while (sent < count) {
        int n = count - sent < BATCH ? (int)(count - sent) : BATCH;
        for (int i = 0; i < n; i++) {
            uint32_t dst = htonl(base + (uint32_t)((sent + i) % dsts));
            size_t len = probe(packets[i], src.s_addr, dst, (uint8_t)ttl, (uint16_t)(sent + i));
            memset(&to[i], 0, sizeof to[i]);
            to[i].sin_family = AF_INET;
            to[i].sin_addr.s_addr = dst;
            iov[i].iov_base = packets[i];
            iov[i].iov_len = len;
            memset(&msgs[i], 0, sizeof msgs[i]);
            msgs[i].msg_hdr.msg_name = &to[i];
            msgs[i].msg_hdr.msg_namelen = sizeof to[i];
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int done = 0;
        while (done < n) {
            int r = sendmmsg(fd, msgs + done, (unsigned)(n - done), 0);
            if (r < 0) {
                usleep(50);
                continue;
            }
            done += r;
        }
        sent += n;
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    printf("sent %ld in %.3f s\n", sent, seconds);
    return 0;
}
