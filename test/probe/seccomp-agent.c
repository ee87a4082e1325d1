/*
 * seccomp-agent: a test seccomp agent, run on the host. It listens on a unix socket for
 * runtimes that hand over a container's notify fd the way runc does (one message: the
 * container process state as JSON, the fd as SCM_RIGHTS), appends each state JSON as one
 * line to STATEFILE, and answers every notified mkdir/mkdirat with -ERRNO; any other
 * notified syscall is let through (SECCOMP_USER_NOTIF_FLAG_CONTINUE).
 * Build: gcc -O2 -Wall -Wextra -o seccomp-agent seccomp-agent.c
 *
 *   seccomp-agent SOCKET ERRNO STATEFILE
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_FDS 32

static int take_fd(int conn, const char *statefile) {
  char buf[65536];
  union {
    struct cmsghdr h;
    char b[CMSG_SPACE(sizeof(int))];
  } control;
  struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf - 1};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.b, .msg_controllen = sizeof control.b};
  ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
  if (n <= 0) return -1;
  buf[n] = 0;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
    fprintf(stderr, "seccomp-agent: message without an fd: %s\n", buf);
    return -1;
  }
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  FILE *f = fopen(statefile, "a");
  if (f) {
    fprintf(f, "%s\n", buf);
    fclose(f);
  }
  return fd;
}

/* Answers one notification; -1 when the filter is gone (every process using it exited). */
static int answer(int fd, int err) {
  struct seccomp_notif req;
  struct seccomp_notif_resp resp;
  memset(&req, 0, sizeof req);
  if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) return errno == EINTR || errno == ENOENT ? 0 : -1;
  memset(&resp, 0, sizeof resp);
  resp.id = req.id;
  if (req.data.nr == SYS_mkdir || req.data.nr == SYS_mkdirat) resp.error = -err;
  else resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT) return -1;
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: seccomp-agent SOCKET ERRNO STATEFILE\n");
    return 2;
  }
  int err = atoi(argv[2]);
  int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", argv[1]);
  unlink(argv[1]);
  if (bind(ls, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(ls, 16) < 0) {
    perror("seccomp-agent: bind");
    return 1;
  }
  struct pollfd p[MAX_FDS + 1];
  int n = 0;
  p[0] = (struct pollfd){.fd = ls, .events = POLLIN};
  for (;;) {
    if (poll(p, (nfds_t)n + 1, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (p[0].revents & POLLIN) {
      int conn = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
      if (conn >= 0) {
        int fd = take_fd(conn, argv[3]);
        close(conn);
        if (fd >= 0 && n < MAX_FDS) p[++n] = (struct pollfd){.fd = fd, .events = POLLIN};
      }
    }
    for (int i = 1; i <= n; i++) {
      if (!p[i].revents) continue;
      if ((p[i].revents & POLLIN) && answer(p[i].fd, err) == 0) continue;
      close(p[i].fd);
      p[i--] = p[n--];
    }
  }
}
