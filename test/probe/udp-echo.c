/* A UDP echo server for test/integration/network.test.ts (busybox has no UDP server):
 * udp-echo PORT answers each datagram with "echo:" and the datagram. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1]))};
  if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) return perror("udp-echo"), 1;
  for (;;) {
    char buf[1500] = "echo:";
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    ssize_t n = recvfrom(fd, buf + 5, sizeof buf - 5, 0, (struct sockaddr *)&peer, &len);
    if (n >= 0) sendto(fd, buf, (size_t)n + 5, 0, (struct sockaddr *)&peer, len);
  }
}
