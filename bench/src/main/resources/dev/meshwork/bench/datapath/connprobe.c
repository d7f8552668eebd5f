/*
 * Connection-setup probe for ServiceLatencyScenario, run inside pod namespaces; compiled by the
 * scenario with cc -O2 (a compiled client keeps interpreter overhead and pauses out of the
 * timed connect()).
 *
 *   connprobe serve PORT
 *       accepts TCP connections and closes them, until killed; prints "ready" once listening.
 *
 *   connprobe measure
 *       reads rounds from stdin, one per line: "HOST PORT WARMUP COUNT"; makes WARMUP + COUNT
 *       sequential connects (SYN sent to established) and prints, for the last COUNT,
 *       "median_ns p90_ns" followed by the thread CPU time of the whole round in ns
 *       (syscalls plus the softirq work the kernel ran in this thread's context).
 *       Every connect binds the next source port of 1024..65535, so no two connects of one
 *       process share a 4-tuple until the range wraps; sockets close with RST (linger 0), which
 *       leaves no TIME_WAIT behind.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FIRST_PORT 1024
#define LAST_PORT 65535

static uint64_t now_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int serve(int port)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
	if (bind(s, (struct sockaddr *)&addr, sizeof(addr)) || listen(s, 4096)) {
		perror("connprobe serve: bind/listen");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c >= 0)
			close(c);
	}
}

static int measure(void)
{
	static const struct linger abortive = { .l_onoff = 1, .l_linger = 0 };
	char host[64];
	int port, warmup, count;
	int next_port = FIRST_PORT;
	while (scanf("%63s %d %d %d", host, &port, &warmup, &count) == 4) {
		struct sockaddr_in target = { .sin_family = AF_INET, .sin_port = htons(port) };
		if (inet_pton(AF_INET, host, &target.sin_addr) != 1 || count < 1 || warmup < 0) {
			fprintf(stderr, "connprobe measure: bad round \"%s %d %d %d\"\n", host, port, warmup, count);
			return 1;
		}
		uint64_t *samples = calloc(count, sizeof(uint64_t));
		uint64_t cpu0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
		for (int i = 0; i < warmup + count; i++) {
			int c = socket(AF_INET, SOCK_STREAM, 0);
			struct sockaddr_in source = { .sin_family = AF_INET, .sin_port = htons(next_port) };
			next_port = next_port == LAST_PORT ? FIRST_PORT : next_port + 1;
			setsockopt(c, SOL_SOCKET, SO_LINGER, &abortive, sizeof(abortive));
			if (bind(c, (struct sockaddr *)&source, sizeof(source))) {
				perror("connprobe measure: bind");
				return 1;
			}
			uint64_t t0 = now_ns(CLOCK_MONOTONIC);
			if (connect(c, (struct sockaddr *)&target, sizeof(target))) {
				perror("connprobe measure: connect");
				return 1;
			}
			uint64_t t1 = now_ns(CLOCK_MONOTONIC);
			close(c);
			if (i >= warmup)
				samples[i - warmup] = t1 - t0;
		}
		uint64_t cpu = now_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
		qsort(samples, count, sizeof(uint64_t), compare_u64);
		printf("%llu %llu %llu\n", (unsigned long long)samples[count / 2],
		       (unsigned long long)samples[count * 9 / 10], (unsigned long long)cpu);
		fflush(stdout);
		free(samples);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "serve") == 0)
		return serve(atoi(argv[2]));
	if (argc == 2 && strcmp(argv[1], "measure") == 0)
		return measure();
	fprintf(stderr, "usage: connprobe serve PORT | connprobe measure (rounds on stdin)\n");
	return 2;
}
