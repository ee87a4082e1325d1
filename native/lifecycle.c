/* runts-init: The init's conversation with runts: sync points, READY, exec.fifo, and the hooks
 * it runs in the container's namespaces. */
#include "init.h"

void op_wait_start(const struct op *op) {
  (void)op;
  int fd;
  do fd = openat(statedir, "exec.fifo", O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) fail("open exec.fifo", "", errno, NULL);
  if (write(fd, "0", 1) != 1) fail("write exec.fifo", "", errno, NULL);
  startfifo = fd;
  close(statedir);
  statedir = -1;
}

void op_sync(const struct op *op) {
  send_str(MSG_SYNC, s_arg(op, 0));
  struct op reply;
  if (read_frame(&reply) < 0) fail("sync", s_arg(op, 0), EPIPE, "runts went away");
  if (reply.code != MSG_CONTINUE) _exit(1);
  for (uint32_t i = 0; i < reply.argc && i < 2; i++) hook_states[i] = reply.args[i];
}

/* Milliseconds left until start + timeout seconds, for poll; -1 (no limit) without a
 * timeout (or with one beyond 68 years). */
static int ms_left(const struct timespec *start, uint64_t timeout) {
  if (!timeout || timeout > INT32_MAX) return -1;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  int64_t left = (int64_t)timeout * 1000 - ((int64_t)(now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000);
  return left > 0 ? (int)(left > INT32_MAX ? INT32_MAX : left) : 0;
}

static void __attribute__((noreturn)) hook_fail(pid_t pid, const char *kind, const char *path, int err, const char *detail) {
  kill(pid, SIGKILL);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
  fail(kind, path, err, detail);
}

/* Runs a hook with the state JSON on its stdin. The hook need not read it: the write is
 * non-blocking and stops when the hook exits, and the timeout covers it as well as the
 * wait (SIGPIPE is ignored in the init). */
void op_hook(const struct op *op) {
  const char *kind = s_arg(op, 0);
  const struct arg *state = &hook_states[u_arg(op, 1) != 0];
  const char *path = s_arg(op, 2);
  uint64_t timeout = u_arg(op, 3), nargs = u_arg(op, 4);
  char **argv = v_arg(op, 5, nargs);
  char **envp = v_arg(op, 5 + (uint32_t)nargs, op->argc - 5 - nargs);
  int in[2];
  if (pipe2(in, O_CLOEXEC) < 0) fail(kind, path, errno, "pipe");
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  pid_t pid = fork();
  if (pid < 0) fail(kind, path, errno, "fork");
  if (pid == 0) {
    signal(SIGPIPE, SIG_DFL);
    dup2(in[0], 0);
    execve(path, argv, envp);
    _exit(127);
  }
  close(in[0]);
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0) hook_fail(pid, kind, path, errno, "pidfd_open");
  if (fcntl(in[1], F_SETFL, O_NONBLOCK) < 0) hook_fail(pid, kind, path, errno, "pipe");
  size_t off = 0;
  for (;;) {
    if (off == state->len && in[1] >= 0) {
      close(in[1]);
      in[1] = -1;
    }
    struct pollfd p[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = in[1], .events = POLLOUT}};
    int n = poll(p, in[1] >= 0 ? 2 : 1, ms_left(&start, timeout));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) hook_fail(pid, kind, path, errno, "poll");
    if (n == 0) {
      char detail[64];
      snprintf(detail, sizeof detail, "timed out after %llu s", (unsigned long long)timeout);
      hook_fail(pid, kind, path, 0, detail);
    }
    if (p[0].revents) break;
    ssize_t w = write(in[1], state->data + off, state->len - off);
    if (w > 0) off += (size_t)w;
    else if (errno == EPIPE) off = state->len; /* the hook closed its stdin: it has all it wants */
    else if (errno != EAGAIN && errno != EINTR) hook_fail(pid, kind, path, errno, "write state to stdin");
  }
  if (in[1] >= 0) close(in[1]);
  close(pidfd);
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) fail(kind, path, errno, "wait");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    char detail[64];
    if (WIFEXITED(status)) snprintf(detail, sizeof detail, "exit status %d", WEXITSTATUS(status));
    else snprintf(detail, sizeof detail, "killed by signal %d", WTERMSIG(status));
    fail(kind, path, 0, detail);
  }
}

void op_ready(const struct op *op) {
  (void)op;
  send_msg(MSG_READY, 0, NULL, NULL);
  ready_sent = 1;
}
