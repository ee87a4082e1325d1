/* runts-init: executes a plan computed by runts (TypeScript) inside a new container.
 *
 * It is started by runts from a sealed memfd, with the control socket as the fd
 * named in argv[1]. It reads one plan frame, clones the container init with the
 * requested namespaces straight into its cgroup, and the init then performs the
 * plan's ops in order up to execve. Every decision is made in TypeScript; these
 * files only interpret ops, report the pid, sync points and errors
 * (op, path, errno) back over the socket.
 *
 * This file is the parent: read the plan, run the parent's ops (userns.c), open host
 * paths, join namespaces, clone3 (OP_CLONE for a new container; OP_JOIN, in join.c, for
 * exec). */
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

/* What the parent prepared for the clone, by OP_CLONE (here) or OP_JOIN (join.c). */
static void prepare_clone(const struct op *clone, const struct op *init_ops, uint32_t ninit, struct birth *b) {
  b->flags = u_arg(clone, 0);
  const char *cgroup = s_arg(clone, 1), *state_dir = s_arg(clone, 2);
  rootfs_path = s_arg(clone, 3);
  b->foreground = (int)u_arg(clone, 4);
  if (clone->argc < 6 || (clone->argc - 6) % 2) fail("clone", "", EPROTO, "malformed clone op");
  set_initial_affinity(&clone->args[5]);

  /* Host paths are opened here, before any setns: a joined mount namespace may have
   * other things (or nothing) at these paths. */
  statedir = open(state_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (statedir < 0) fail("open state directory", state_dir, errno, NULL);
  b->cgroup = cgroup;
  b->cgfd = open_cgroup(cgroup);
  /* A rootless plan's ROOTFS clones the tree in the init, where it has the privilege to. */
  int init_clones_root = 0;
  for (uint32_t i = 0; i < ninit; i++)
    if (init_ops[i].code == OP_ROOTFS) {
      init_clones_root = init_ops[i].argc > 1 && u_arg(&init_ops[i], 1);
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
  for (uint32_t i = 0; i < njoin; i++) {
    if (u_arg(clone, 6 + 2 * i) == CLONE_NEWUSER) b->joined_userns = 1;
    if (setns(nsfds[i], (int)u_arg(clone, 6 + 2 * i)) < 0) fail("setns", s_arg(clone, 7 + 2 * i), errno, NULL);
    close(nsfds[i]);
  }
  free(nsfds);
}

void set_initial_affinity(const struct arg *cpus) {
  if (cpus->len && sched_setaffinity(0, cpus->len, (cpu_set_t *)cpus->data) < 0)
    fail("sched_setaffinity (execCPUAffinity.initial)", "", errno, NULL);
}

int open_cgroup(const char *cgroup) {
  if (!*cgroup) return -1;
  int fd = open(cgroup, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("open cgroup", cgroup, errno, NULL);
  return fd;
}

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
  /* The plan: the parent's ops, OP_CLONE (or OP_JOIN), the init's ops. */
  uint32_t c = 0;
  while (c < nops && known_parent_op(ops[c].code)) c++;
  if (c == nops || (ops[c].code != OP_CLONE && ops[c].code != OP_JOIN)) fail("plan", "", EPROTO, "plan does not start with clone or join");
  for (uint32_t i = c + 1; i < nops; i++)
    if (!known_op(ops[i].code)) fail("plan", "", EPROTO, "unknown op");

  /* Nothing in a namespace this process joins may read its memory or ptrace it. Except for a
   * caller without privileges whose plan makes a new user namespace: it writes the init's id
   * maps through /proc/PID, which a non-dumpable process's owner cannot (the init makes itself
   * non-dumpable once they are written), and it owns every namespace involved anyway. */
  int caller_writes_maps = geteuid() != 0 && ops[c].code == OP_CLONE && (u_arg(&ops[c], 0) & CLONE_NEWUSER);
  if (!caller_writes_maps && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) fail("prctl dumpable", "", errno, NULL);
  /* Parent-side ops that need the host: done before any setns. */
  int pidsock = -1;
  const char *pidfd_name = "";
  for (uint32_t i = 0; i < c; i++) {
    cur_index = i;
    parent_handlers[ops[i].code](&ops[i]);
  }
  for (uint32_t i = c + 1; i < nops; i++)
    if (ops[i].code == OP_PIDFD_SOCKET) {
      cur_index = i;
      pidsock = connect_pidfd_socket(s_arg(&ops[i], 0));
      pidfd_name = s_arg(&ops[i], 1);
    }

  struct birth b = {.cgfd = -1, .initfd = -1};
  cur_index = c;
  cur_op = ops[c].code == OP_CLONE ? "clone" : "join";
  if (ops[c].code == OP_CLONE) prepare_clone(&ops[c], &ops[c + 1], nops - c - 1, &b);
  else prepare_join(&ops[c], &b);
  console_prepare(ops, nops);

  if ((b.foreground & FOREGROUND_SUBREAPER) && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) fail("prctl subreaper", "", errno, NULL);
  /* The init starts its ops only after the parent has reported its pid, so that runts
   * always learns the pid before any sync point or READY. */
  int pidsent[2];
  if (pipe2(pidsent, O_CLOEXEC) < 0) fail("pipe", "", errno, NULL);

  /* Signals are runts' business: in the foreground it forwards them to the
   * container, so this process waits for the init without being interrupted. */
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);

  int pidfd = -1;
  struct clone_args ca;
  memset(&ca, 0, sizeof ca);
  ca.flags = b.flags | (b.cgfd >= 0 ? CLONE_INTO_CGROUP : 0) | (pidsock >= 0 ? CLONE_PIDFD : 0);
  ca.exit_signal = SIGCHLD;
  ca.cgroup = b.cgfd >= 0 ? (uint64_t)b.cgfd : 0;
  ca.pidfd = (uint64_t)(uintptr_t)&pidfd;
  pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
  if (pid < 0) fail("clone3", b.cgroup, errno, ops[c].code == OP_CLONE ? "creating the container's namespaces" : "joining the container");
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
    if (b.cgfd >= 0) close(b.cgfd);
    if (pidsock >= 0) close(pidsock);
    if (pidfd >= 0) close(pidfd);
    if (b.initfd >= 0) {
      if (b.child_setns && setns(b.initfd, (int)b.child_setns) < 0) fail("setns", "cgroup namespace of the container's init", errno, NULL);
      close(b.initfd);
    }
    if (b.flags & CLONE_NEWUSER) become_userns_root(1);
    else if (b.joined_userns) become_userns_root(0);
    for (uint32_t i = c + 1; i < nops; i++) {
      cur_op = "plan";
      cur_index = i;
      handlers[ops[i].code](&ops[i]);
    }
    _exit(0);
  }
  if (roottree >= 0) close(roottree);
  if (statedir >= 0) close(statedir);
  close_trees();
  if (b.cgfd >= 0) close(b.cgfd);
  if (b.initfd >= 0) close(b.initfd);
  if (pidsock >= 0) {
    send_pidfd(pidsock, pidfd, pidfd_name);
    close(pidsock);
    close(pidfd);
  }
  console_parent_after_clone();
  send_u64(MSG_PID, (uint64_t)pid);
  if (b.flags & CLONE_NEWUSER) wait_for_id_maps(pid);
  close(sock);
  if (write(pidsent[1], "1", 1) != 1) return 1;
  close(pidsent[0]);
  close(pidsent[1]);
  if (!(b.foreground & FOREGROUND_WAIT)) return 0;
  if (console_relaying()) return console_relay(pid);
  int status;
  /* As a subreaper it also reaps what is orphaned to it, until the init is gone. */
  pid_t reaped;
  while ((reaped = waitpid(b.foreground & FOREGROUND_SUBREAPER ? -1 : pid, &status, 0)) != pid)
    if (reaped < 0 && errno != EINTR) return 255;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}
