/* runts-init: Loads the seccomp filter runts compiled (libseccomp, on the host) and, for a
 * filter that notifies, hands its notify fd to runts, which passes it on to the agent. */
#include "init.h"

int seccomp_loaded;

/* The notify fd travels after a MSG_SECCOMP_FD frame, on one byte of its own: runts reads
 * frames with read(2), which would drop the fd, and takes this byte with recvmsg(2). */
static void send_notify_fd(int fd) {
  send_msg(MSG_SECCOMP_FD, 0, NULL, NULL);
  if (send_fd(sock, "s", fd) < 0) fail("seccomp: send the notify fd to runts", "", errno, NULL);
  close(fd);
}

/* [bpf bytes, flags] */
void op_seccomp(const struct op *op) {
  if (op->argc < 2 || op->args[0].len == 0 || op->args[0].len % sizeof(struct sock_filter) != 0 ||
      op->args[0].len / sizeof(struct sock_filter) > BPF_MAXINSNS)
    fail("seccomp", "", EINVAL, "malformed filter");
  unsigned flags = (unsigned)u_arg(op, 1);
  struct sock_fprog prog = {
      .len = (unsigned short)(op->args[0].len / sizeof(struct sock_filter)),
      .filter = (struct sock_filter *)op->args[0].data,
  };
  long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (r < 0) {
    char detail[64];
    snprintf(detail, sizeof detail, "loading the filter (flags 0x%x)", flags);
    fail("seccomp", "", errno, detail);
  }
  seccomp_loaded = 1;
  if (flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) send_notify_fd((int)r);
}
