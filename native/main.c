/* runts-init: executes a plan computed by runts (TypeScript) inside a new container.
 *
 * It is started by runts from a sealed memfd, with the control socket as the fd
 * named in argv[1]. It reads one plan frame, clones the container init with the
 * requested namespaces straight into its cgroup, and the init then performs the
 * plan's ops in order up to execve. Every decision is made in TypeScript; these
 * files only interpret ops, report the pid, sync points and errors
 * (op, path, errno) back over the socket.
 *
 * This file is the parent: read the plan, open host paths, join namespaces, clone3. */
#include "init.h"

int sock = -1;
int rootfd = -1;
int roottree = -1;
const char *rootfs_path;
int statedir = -1;
struct arg hook_states[2];
int ready_sent;
int startfifo = -1;
const char *exec_path;

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "runts-init: started without a control socket (it is run by runts, not by hand)\n");
    return 2;
  }
  sock = atoi(argv[1]);
  /* Hooks that the init forks must not inherit the control socket. */
  if (fcntl(sock, F_SETFD, FD_CLOEXEC) < 0) {
    fprintf(stderr, "runts-init: control socket %s: %s\n", argv[1], strerror(errno));
    return 2;
  }
  struct op planframe;
  if (read_frame(&planframe) < 0 || planframe.code != MSG_PLAN) fail("plan", "", EPROTO, "malformed plan frame");
  uint32_t nops = planframe.argc;
  struct op *ops = calloc(nops ? nops : 1, sizeof(struct op));
  if (!ops) fail("plan", "", ENOMEM, NULL);
  for (uint32_t i = 0; i < nops; i++)
    if (parse_frame(planframe.args[i].data, planframe.args[i].len, &ops[i]) < 0) fail("plan", "", EPROTO, "malformed op");
  if (nops == 0 || ops[0].code != OP_CLONE) fail("plan", "", EPROTO, "plan does not start with clone");
  for (uint32_t i = 1; i < nops; i++)
    if (!known_op(ops[i].code) && ops[i].code != OP_CGROUP_JOIN) fail("plan", "", EPROTO, "unknown op");

  cur_op = "clone";
  uint64_t flags = u_arg(&ops[0], 0);
  const char *cgroup = s_arg(&ops[0], 1), *state_dir = s_arg(&ops[0], 2);
  rootfs_path = s_arg(&ops[0], 3);
  int foreground = u_arg(&ops[0], 4) != 0;
  if (ops[0].argc < 6 || (ops[0].argc - 6) % 2) fail("clone", "", EPROTO, "malformed clone op");
  if (ops[0].args[5].len) {
    if (sched_setaffinity(0, ops[0].args[5].len, (cpu_set_t *)ops[0].args[5].data) < 0)
      fail("sched_setaffinity (execCPUAffinity.initial)", "", errno, NULL);
  }

  /* Host paths are opened here, before any setns: a joined mount namespace may have
   * other things (or nothing) at these paths. */
  statedir = open(state_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (statedir < 0) fail("open state directory", state_dir, errno, NULL);
  int cgfd = -1;
  if (*cgroup) {
    cgfd = open(cgroup, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cgfd < 0) fail("open cgroup", cgroup, errno, NULL);
  }
  /* cgroup v1: the init joins each hierarchy through these `tasks` files, opened here
   * before any setns, as its first step. */
  uint32_t njoinfd = 0, joinop = 0;
  int *joinfds = NULL;
  for (uint32_t i = 1; i < nops; i++) {
    if (ops[i].code != OP_CGROUP_JOIN) continue;
    if (njoinfd) fail("plan", "", EPROTO, "more than one cgroup join");
    joinop = i;
    joinfds = realloc(joinfds, (njoinfd + ops[i].argc + 1) * sizeof(int));
    if (!joinfds) fail("cgroup join", "", ENOMEM, NULL);
    for (uint32_t k = 0; k < ops[i].argc; k++) {
      const char *path = s_arg(&ops[i], k);
      joinfds[njoinfd] = open(path, O_WRONLY | O_CLOEXEC);
      if (joinfds[njoinfd] < 0) fail("open cgroup", path, errno, NULL);
      njoinfd++;
    }
  }
  roottree = open_tree_fd(AT_FDCWD, rootfs_path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (roottree < 0) fail("open rootfs", rootfs_path, errno, NULL);

  uint32_t njoin = (ops[0].argc - 6) / 2;
  int *nsfds = calloc(njoin ? njoin : 1, sizeof(int));
  if (!nsfds) fail("clone", "", ENOMEM, NULL);
  for (uint32_t i = 0; i < njoin; i++) {
    const char *path = s_arg(&ops[0], 7 + 2 * i);
    nsfds[i] = open(path, O_RDONLY | O_CLOEXEC);
    if (nsfds[i] < 0) fail("open namespace", path, errno, NULL);
  }
  /* Existing namespaces to join (user first, as runts orders them). */
  for (uint32_t i = 0; i < njoin; i++) {
    if (setns(nsfds[i], (int)u_arg(&ops[0], 6 + 2 * i)) < 0) fail("setns", s_arg(&ops[0], 7 + 2 * i), errno, NULL);
    close(nsfds[i]);
  }
  free(nsfds);

  /* The init starts its ops only after the parent has reported its pid, so that runts
   * always learns the pid before any sync point or READY. */
  int pidsent[2];
  if (pipe2(pidsent, O_CLOEXEC) < 0) fail("pipe", "", errno, NULL);

  /* Signals are runts' business: in the foreground it forwards them to the
   * container, so this process waits for the init without being interrupted. */
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);

  struct clone_args ca;
  memset(&ca, 0, sizeof ca);
  ca.flags = flags | (cgfd >= 0 ? CLONE_INTO_CGROUP : 0);
  ca.exit_signal = SIGCHLD;
  ca.cgroup = cgfd >= 0 ? (uint64_t)cgfd : 0;
  pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
  if (pid < 0) fail("clone3", cgroup, errno, "creating the container's namespaces");
  if (pid == 0) {
    char go;
    close(pidsent[1]);
    if (read(pidsent[0], &go, 1) != 1) _exit(1);
    close(pidsent[0]);
    sigprocmask(SIG_SETMASK, &old, NULL);
    for (int s = 1; s < NSIG; s++) signal(s, SIG_DFL);
    /* The init writes to pipes whose reader may be gone (a hook's stdin, exec.fifo): a
     * write error, not a death. Hooks and the container's process get SIGPIPE back. */
    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) fail("prctl dumpable", "", errno, NULL);
    if (cgfd >= 0) close(cgfd);
    /* Its own (only) thread, by "0": the kernel then skips the global threadgroup lock
     * and its RCU grace period that writing another process's pid costs (~10-50 ms). */
    for (uint32_t k = 0; k < njoinfd; k++) {
      if (write(joinfds[k], "0", 1) != 1) fail("join cgroup", s_arg(&ops[joinop], k), errno, "writing the init to tasks");
      close(joinfds[k]);
    }
    for (uint32_t i = 1; i < nops; i++) {
      if (ops[i].code == OP_CGROUP_JOIN) continue;
      cur_op = "plan";
      cur_index = i;
      handlers[ops[i].code](&ops[i]);
    }
    _exit(0);
  }
  close(roottree);
  close(statedir);
  if (cgfd >= 0) close(cgfd);
  for (uint32_t k = 0; k < njoinfd; k++) close(joinfds[k]);
  free(joinfds);
  send_u64(MSG_PID, (uint64_t)pid);
  close(sock);
  if (write(pidsent[1], "1", 1) != 1) return 1;
  close(pidsent[0]);
  close(pidsent[1]);
  if (!foreground) return 0;
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return 255;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}
