/* runts-init: The last steps: find the program, mark inherited fds close-on-exec, execve. */
#include "init.h"

void op_lookup(const struct op *op) {
  int err = ENOENT;
  for (uint32_t i = 1; i < op->argc; i++) {
    const char *cand = s_arg(op, i);
    struct stat st;
    if (stat(cand, &st) < 0) continue;
    if (S_ISREG(st.st_mode) && access(cand, X_OK) == 0) {
      exec_path = cand;
      return;
    }
    err = EACCES;
  }
  const char *name = s_arg(op, 0);
  fail("exec", name, err, strchr(name, '/') ? NULL : "executable file not found in $PATH");
}

/* Blocks until `runts start` opens exec.fifo for reading, writes one byte and keeps the
 * fifo open: execve closes it (O_CLOEXEC), which is the EOF `start` waits for, and a
 * failure before that is reported there (see fail). The fifo is reached through the
 * state directory opened on the host; its mode (0622) lets a non-root container user
 * open it for writing. */
/* Marks every fd from first up close-on-exec: leaked fds never reach the container, and
 * exec.fifo stays open for an execve error. Where close_range is missing (an old kernel,
 * a seccomp profile that predates it) /proc/self/fd lists the fds. */
static void cloexec_from(unsigned first) {
  if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  if (errno != ENOSYS && errno != EINVAL) fail("close_range", "", errno, NULL);
  DIR *d = opendir("/proc/self/fd");
  if (!d) fail("close fds (no close_range)", "/proc/self/fd", errno, NULL);
  for (struct dirent *e; (e = readdir(d));) {
    int fd = atoi(e->d_name);
    if (e->d_name[0] != '.' && fd >= (int)first && fd != dirfd(d) && fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
      fail("close fds (no close_range)", e->d_name, errno, NULL);
  }
  closedir(d);
}

void op_exec(const struct op *op) {
  uint64_t preserve = u_arg(op, 0), nargs = u_arg(op, 1);
  char **argv = v_arg(op, 2, nargs);
  char **envp = v_arg(op, 2 + (uint32_t)nargs, op->argc - 2 - nargs);
  const char *path = exec_path ? exec_path : argv[0];
  char listen_pid[32];
  if (listen_pid_self) {
    snprintf(listen_pid, sizeof listen_pid, "LISTEN_PID=%d", (int)getpid());
    for (char **e = envp; *e; e++)
      if (!strncmp(*e, "LISTEN_PID=", 11)) *e = listen_pid;
  }
  /* The control socket stays open to execve (close-on-exec): its EOF tells exec's runts
   * that the program runs, and an execve error still reaches runts on it. */
  cloexec_from(3 + (unsigned)preserve);
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, NULL);
  signal(SIGPIPE, SIG_DFL);
  execve(path, argv, envp);
  int err = errno;
  signal(SIGPIPE, SIG_IGN);
  fail("exec", path, err, seccomp_loaded ? "with the seccomp filter loaded (does linux.seccomp deny execve?)" : NULL);
}
