/* runts-init: executes a plan computed by runts (TypeScript) inside a new container.
 *
 * It is started by runts from a sealed memfd, with the control socket as the fd
 * named in argv[1]. It reads one plan frame, clones the container init with the
 * requested namespaces straight into its cgroup, and the init then performs the
 * plan's ops in order up to execve. Every decision is made in TypeScript; these
 * files only interpret ops, report the pid, sync points and errors
 * (op, path, errno) back over the socket.
 *
 * This file is the parent: read the plan, run the parent's ops (userns.c), open host paths,
 * join namespaces, clone3. */
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
  /* The plan: the parent's ops, OP_CLONE, the init's ops. */
  uint32_t c = 0;
  while (c < nops && known_parent_op(ops[c].code)) c++;
  if (c == nops || ops[c].code != OP_CLONE) fail("plan", "", EPROTO, "plan does not start with clone");
  for (uint32_t i = c + 1; i < nops; i++)
    if (!known_op(ops[i].code)) fail("plan", "", EPROTO, "unknown op");
  for (uint32_t i = 0; i < c; i++) {
    cur_index = i;
    parent_handlers[ops[i].code](&ops[i]);
  }

  cur_op = "clone";
  cur_index = c;
  struct op *clone = &ops[c];
  uint64_t flags = u_arg(clone, 0);
  const char *cgroup = s_arg(clone, 1), *state_dir = s_arg(clone, 2);
  rootfs_path = s_arg(clone, 3);
  int foreground = u_arg(clone, 4) != 0;
  if (clone->argc < 6 || (clone->argc - 6) % 2) fail("clone", "", EPROTO, "malformed clone op");
  if (clone->args[5].len) {
    if (sched_setaffinity(0, clone->args[5].len, (cpu_set_t *)clone->args[5].data) < 0)
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
  /* A rootless plan's ROOTFS clones the tree in the init, where it has the privilege to. */
  int init_clones_root = 0;
  for (uint32_t i = c + 1; i < nops; i++)
    if (ops[i].code == OP_ROOTFS) {
      init_clones_root = ops[i].argc > 1 && u_arg(&ops[i], 1);
      break;
    }
  if (!init_clones_root) {
    roottree = open_tree_fd(AT_FDCWD, rootfs_path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    if (roottree < 0) fail("open rootfs", rootfs_path, errno, NULL);
  }

  uint32_t njoin = (clone->argc - 6) / 2;
  int *nsfds = calloc(njoin ? njoin : 1, sizeof(int));
  if (!nsfds) fail("clone", "", ENOMEM, NULL);
  for (uint32_t i = 0; i < njoin; i++) {
    const char *path = s_arg(clone, 7 + 2 * i);
    nsfds[i] = open(path, O_RDONLY | O_CLOEXEC);
    if (nsfds[i] < 0) fail("open namespace", path, errno, NULL);
  }
  /* Existing namespaces to join (user first, as runts orders them). */
  int joined_userns = 0;
  for (uint32_t i = 0; i < njoin; i++) {
    if (u_arg(clone, 6 + 2 * i) == CLONE_NEWUSER) joined_userns = 1;
    if (setns(nsfds[i], (int)u_arg(clone, 6 + 2 * i)) < 0) fail("setns", s_arg(clone, 7 + 2 * i), errno, NULL);
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
    if (flags & CLONE_NEWUSER) become_userns_root(1);
    else if (joined_userns) become_userns_root(0);
    for (uint32_t i = c + 1; i < nops; i++) {
      cur_op = "plan";
      cur_index = i;
      handlers[ops[i].code](&ops[i]);
    }
    _exit(0);
  }
  if (roottree >= 0) close(roottree);
  close(statedir);
  if (cgfd >= 0) close(cgfd);
  close_trees();
  send_u64(MSG_PID, (uint64_t)pid);
  if (flags & CLONE_NEWUSER) wait_for_id_maps(pid);
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
