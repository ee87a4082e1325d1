/* A --console-socket receiver for the terminal tests (Bun and Node cannot receive
 * SCM_RIGHTS). Usage: console-receiver SOCKET [INPUT [TIMEOUT_MS]]
 * Listens on SOCKET, accepts one connection, receives one message and prints a JSON line:
 * {"payload": the message text, "fds": number of fds received, "mode": st_mode of the fd,
 *  "rdev": "major:minor", "rows": N, "cols": N} (the window size of the pty master).
 * Then writes INPUT to the master and copies what the master gives to stdout until EOF/EIO
 * or TIMEOUT_MS (default 10000) pass. Exit status 0 once the message had one fd. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: console-receiver SOCKET [INPUT [TIMEOUT_MS]]\n");
    return 2;
  }
  long timeout = argc > 3 ? atol(argv[3]) : 10000;
  int ls = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", argv[1]);
  if (ls < 0 || bind(ls, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(ls, 1) < 0) {
    perror("console-receiver: listen");
    return 2;
  }
  int c = accept(ls, NULL, NULL);
  if (c < 0) {
    perror("console-receiver: accept");
    return 2;
  }
  char payload[4097];
  char control[CMSG_SPACE(4 * sizeof(int))];
  struct iovec iov = {.iov_base = payload, .iov_len = sizeof payload - 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  ssize_t n = recvmsg(c, &msg, 0);
  if (n < 0) {
    perror("console-receiver: recvmsg");
    return 2;
  }
  payload[n] = 0;
  int fds[4], nfds = 0;
  for (struct cmsghdr *h = CMSG_FIRSTHDR(&msg); h; h = CMSG_NXTHDR(&msg, h)) {
    if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS) continue;
    int k = (int)((h->cmsg_len - CMSG_LEN(0)) / sizeof(int));
    for (int i = 0; i < k && nfds < 4; i++) memcpy(&fds[nfds++], CMSG_DATA(h) + i * sizeof(int), sizeof(int));
  }
  struct stat st = {0};
  struct winsize ws = {0};
  if (nfds > 0) {
    fstat(fds[0], &st);
    ioctl(fds[0], TIOCGWINSZ, &ws);
  }
  printf("{\"payload\":\"%s\",\"fds\":%d,\"mode\":%u,\"rdev\":\"%u:%u\",\"rows\":%u,\"cols\":%u}\n", payload, nfds,
         st.st_mode, major(st.st_rdev), minor(st.st_rdev), ws.ws_row, ws.ws_col);
  fflush(stdout);
  if (nfds != 1) return 1;
  int m = fds[0];
  if (argc > 2 && write(m, argv[2], strlen(argv[2])) < 0) perror("console-receiver: write");
  long end = now_ms() + timeout;
  for (;;) {
    long left = end - now_ms();
    if (left <= 0) break;
    struct pollfd p = {.fd = m, .events = POLLIN};
    int r = poll(&p, 1, (int)left);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    char buf[4096];
    ssize_t k = read(m, buf, sizeof buf);
    if (k <= 0) break;
    fwrite(buf, 1, (size_t)k, stdout);
    fflush(stdout);
  }
  return 0;
}
