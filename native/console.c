/* runts-init: terminals. The init makes the pty in the container's own devpts (its
 * /dev/ptmx, after pivot_root), binds the slave onto /dev/console and makes it its
 * controlling terminal and stdio, and sends the master over the console socket with
 * SCM_RIGHTS, as runc does. For a foreground `run` the socket's other end is runts-init's
 * parent, which relays between runts's stdio and the master until the init exits. */
#include "init.h"
#include <sys/signalfd.h>
#include <termios.h>

static int console_sock = -1; /* the init's end: the master is sent over it */
static int relay_sock = -1;   /* foreground: the parent's end */
static int relay_raw;         /* the parent puts its stdin (a terminal) in raw mode */

/* Before clone: takes the socket runts passed (create, run -d) or makes the pair the
 * parent relays through (foreground run). */
void console_prepare(const struct op *ops, uint32_t nops) {
  for (uint32_t i = 1; i < nops; i++) {
    if (ops[i].code != OP_CONSOLE) continue;
    cur_index = i;
    uint64_t mode = u_arg(&ops[i], 0);
    if (mode == CONSOLE_SOCKET) {
      int fd = (int)u_arg(&ops[i], 1);
      struct stat st;
      if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode)) fail("console socket", "", errno ? errno : ENOTSOCK, "the fd runts passed");
      if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) fail("console socket", "", errno, NULL);
      console_sock = fd;
    } else if (mode == CONSOLE_RELAY || mode == CONSOLE_RELAY_RAW) {
      int sv[2];
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) fail("console: socketpair", "", errno, NULL);
      relay_sock = sv[0];
      console_sock = sv[1];
      relay_raw = mode == CONSOLE_RELAY_RAW;
    } else {
      fail("console", "", EINVAL, "unknown console mode");
    }
  }
  cur_index = 0;
}

/* The parent after clone: the init holds the socket's end now. */
void console_parent_after_clone(void) {
  if (console_sock >= 0) close(console_sock);
  console_sock = -1;
}

int console_relaying(void) { return relay_sock >= 0; }

/* Sends fd with name as the payload (runc's utils.SendFd): the pty master, exec's pidfd. */
int send_fd(int sock_fd, const char *name, int fd) {
  char control[CMSG_SPACE(sizeof(int))];
  memset(control, 0, sizeof control);
  struct iovec iov = {.iov_base = (void *)name, .iov_len = strlen(name)};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  ssize_t n;
  do n = sendmsg(sock_fd, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n < 0 ? -1 : 0;
}

/* Receives one fd sent by send_fd; -1 when the peer closed without sending. */
static int recv_fd(int sock_fd) {
  char name[4096];
  char control[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {.iov_base = name, .iov_len = sizeof name};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  ssize_t n;
  do n = recvmsg(sock_fd, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n <= 0) return -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int))) {
      int fd;
      memcpy(&fd, CMSG_DATA(c), sizeof fd);
      return fd;
    }
  }
  return -1;
}

/* OP_CONSOLE [mode, socketFd, height, width, mountConsole]: in a container's init after
 * pivot_root, in an exec'd process after it joined the container. */
void op_console(const struct op *op) {
  uint64_t height = u_arg(op, 2), width = u_arg(op, 3), mount_console = u_arg(op, 4);
  /* exec joined the container's mount namespace: its root is the container's. */
  if (rootfd < 0 && (rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) fail("console: open /", "/", errno, NULL);
  if (relay_sock >= 0) close(relay_sock);
  relay_sock = -1;
  if (console_sock < 0) fail("console", "", EBADF, "no console socket");
  /* /dev/ptmx is the plan's symlink to pts/ptmx: the container's own devpts instance. */
  int master = open_in_root("/dev/ptmx", O_RDWR | O_NOCTTY);
  if (master < 0) fail("console: open", "/dev/ptmx", errno, "needs a devpts mount at /dev/pts");
  struct stat st;
  if (fstat(master, &st) < 0) fail("console: stat", "/dev/ptmx", errno, NULL);
  if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 || minor(st.st_rdev) != 2)
    fail("console", "/dev/ptmx", 0, "is not the pty multiplexer (char 5:2)");
  int unlock = 0, n;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0) fail("console: unlock pty", "/dev/ptmx", errno, NULL);
  if (ioctl(master, TIOCGPTN, &n) < 0) fail("console: pty number", "/dev/ptmx", errno, NULL);
  char name[64];
  snprintf(name, sizeof name, "/dev/pts/%d", n);
  /* The slave through the master, not by path: nothing in the image can stand in for it. */
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) fail("console: open pty slave", name, errno, NULL);
  if (height && width) {
    struct winsize ws = {.ws_row = (unsigned short)height, .ws_col = (unsigned short)width};
    if (ioctl(master, TIOCSWINSZ, &ws) < 0) fail("console: set size (process.consoleSize)", name, errno, NULL);
  }
  if (mount_console) {
    int target = open_target("/dev/console", TARGET_FILE | TARGET_NO_SYMLINKS);
    int tree = open_tree_fd(slave, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    if (tree < 0 || move_mount_fd(tree, target) < 0) fail("console: bind mount", "/dev/console", errno, name);
    close(tree);
    close(target);
  }
  /* runc sends the master's file name: the path it opened the pty multiplexer by. */
  if (send_fd(console_sock, "/dev/ptmx", master) < 0) fail("console: send the pty master", "", errno, "console socket");
  close(master);
  close(console_sock);
  console_sock = -1;
  if (setsid() < 0) fail("console: setsid", "", errno, NULL);
  for (int fd = 0; fd < 3; fd++)
    if (dup2(slave, fd) < 0) fail("console: dup pty to stdio", name, errno, NULL);
  close(slave);
  if (ioctl(0, TIOCSCTTY, 0) < 0) fail("console: make the pty the controlling terminal", name, errno, NULL);
}

/* ---- the foreground relay (runts-init's parent, in the host's namespaces) ---- */

static int write_all(int fd, const char *p, size_t len) {
  while (len) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static void copy_size(int master) {
  struct winsize ws;
  if (ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) ioctl(master, TIOCSWINSZ, &ws);
}

static int exit_status(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

static int wait_exit(pid_t pid) {
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return 255;
  return exit_status(status);
}

/* Relays stdin -> master and master -> stdout until the init exits, then drains the
 * master; returns the init's exit status. With a terminal on stdin: raw mode (restored on
 * the way out) and its size, again on every SIGWINCH. Without one, the end of stdin is
 * passed on as the pty's end-of-file character. All signals are blocked in this process. */
int console_relay(pid_t pid) {
  int master = recv_fd(relay_sock);
  close(relay_sock);
  relay_sock = -1;
  if (master < 0) return wait_exit(pid); /* the init failed before its console: runts reports why */
  struct termios saved;
  int raw = relay_raw && tcgetattr(0, &saved) == 0;
  if (raw) {
    struct termios t = saved;
    cfmakeraw(&t);
    tcsetattr(0, TCSANOW, &t);
    copy_size(master);
  }
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGWINCH);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
  char in[4096], out[16384];
  size_t pending = 0, off = 0; /* stdin bytes not yet taken by the master */
  int in_open = 1, master_open = 1, status = -1;
  char last = '\n';
  while (status < 0) {
    struct pollfd p[3] = {
        {.fd = sfd, .events = POLLIN},
        {.fd = master_open ? master : -1, .events = POLLIN | (pending ? POLLOUT : 0)},
        {.fd = in_open && !pending ? 0 : -1, .events = POLLIN},
    };
    if (poll(p, 3, sfd < 0 ? 100 : -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (p[1].revents & POLLIN) {
      ssize_t n = read(master, out, sizeof out);
      if (n > 0) write_all(1, out, (size_t)n);
      else if (n == 0 || (errno != EAGAIN && errno != EINTR)) master_open = 0;
    } else if (p[1].revents & (POLLHUP | POLLERR)) {
      master_open = 0;
    }
    if (pending && (p[1].revents & POLLOUT)) {
      ssize_t n = write(master, in + off, pending);
      if (n > 0) {
        off += (size_t)n;
        pending -= (size_t)n;
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        pending = 0;
      }
    }
    if (p[2].revents) {
      ssize_t n = read(0, in, sizeof in);
      if (n > 0) {
        pending = (size_t)n;
        off = 0;
        last = in[n - 1];
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        in_open = 0;
        struct termios t;
        if (!raw && master_open && tcgetattr(master, &t) == 0 && (t.c_lflag & ICANON)) {
          /* EOF on a line with text only ends the line: a second one ends the input. */
          in[0] = in[1] = (char)t.c_cc[VEOF];
          pending = last == '\n' ? 1 : 2;
          off = 0;
        }
      }
    }
    if (sfd >= 0 && (p[0].revents & POLLIN)) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
        if (si.ssi_signo == SIGWINCH && raw) copy_size(master);
    }
    /* Also reaps what a subreaper inherits (run without --no-subreaper). */
    int st;
    for (pid_t r; (r = waitpid(-1, &st, WNOHANG)) > 0;)
      if (r == pid) status = exit_status(st);
  }
  /* What the container wrote before it exited is still in the master. */
  for (ssize_t n; master_open && (n = read(master, out, sizeof out)) > 0;) write_all(1, out, (size_t)n);
  if (raw) tcsetattr(0, TCSANOW, &saved);
  close(master);
  if (sfd >= 0) close(sfd);
  return status < 0 ? wait_exit(pid) : status;
}
