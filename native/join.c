/* runts-init: joining a running container (exec): the parent's side of OP_JOIN, the
 * --pidfd-socket connection, and LISTEN_PID for socket activation. */
#include "init.h"
#include <sys/un.h>

int listen_pid_self;

/* Whether /proc/PID/stat names a live process whose start time (field 22) is want:
 * runts recorded the init's at create, so a process that got its pid since fails. */
static int is_started_at(pid_t pid, const char *want) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  /* comm (field 2) may hold spaces and parentheses: count from after the last ')'. */
  char *p = strrchr(buf, ')');
  if (!p || p[1] != ' ') return 0;
  p += 2;
  if (*p == 'Z' || *p == 'X') return 0;
  for (int i = 0; i < 19 && p; i++) {
    p = strchr(p, ' ');
    if (p) p++;
  }
  if (!p) return 0;
  size_t len = strcspn(p, " ");
  return len == strlen(want) && strncmp(p, want, len) == 0;
}

/* OP_JOIN in the parent: the cgroup is opened on the host; the init is pinned by a pidfd
 * (proved to be the init by its start time, read after pidfd_open) and every namespace
 * but the cgroup one is joined through it at once, the user namespace first by the
 * kernel's own order. */
void prepare_join(const struct op *join, struct birth *b) {
  if (join->argc != 6) fail("join", "", EPROTO, "malformed join op");
  uint64_t ns = u_arg(join, 0);
  b->cgroup = s_arg(join, 1);
  pid_t pid = (pid_t)u_arg(join, 2);
  const char *start = s_arg(join, 3);
  b->foreground = u_arg(join, 4) ? FOREGROUND_WAIT : 0;
  set_initial_affinity(&join->args[5]);
  b->cgfd = open_cgroup(b->cgroup);
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0); /* close-on-exec by itself */
  if (pidfd < 0 && errno != ESRCH) fail("pidfd_open", "the container's init", errno, NULL);
  if (pidfd < 0 || !is_started_at(pid, start)) fail("exec", "", 0, "the container's init has exited (the container is stopped)");
  b->child_setns = ns & CLONE_NEWCGROUP;
  ns &= ~(uint64_t)CLONE_NEWCGROUP;
  if (ns && setns(pidfd, (int)ns) < 0) {
    if (errno == ESRCH) fail("exec", "", 0, "the container's init has exited (the container is stopped)");
    fail("setns", "namespaces of the container's init", errno, NULL);
  }
  b->initfd = pidfd;
}

int connect_pidfd_socket(const char *path) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) fail("--pidfd-socket", path, ENAMETOOLONG, NULL);
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("--pidfd-socket: socket", path, errno, NULL);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) fail("--pidfd-socket: connect", path, errno, NULL);
  return fd;
}

/* The pidfd with SCM_RIGHTS and name as the payload, as runc sends it. */
void send_pidfd(int sock_fd, int pidfd, const char *name) {
  if (send_fd(sock_fd, name, pidfd) < 0) fail("--pidfd-socket: send pidfd", "", errno, NULL);
}

/* Ops the parent carried out before the clone (OP_PIDFD_SOCKET): nothing left for the init. */
void op_parent_side(const struct op *op) { (void)op; }

void op_listen_pid(const struct op *op) {
  (void)op;
  listen_pid_self = 1;
}
