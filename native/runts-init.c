/* runts-init: executes a plan computed by runts (TypeScript) inside a new container.
 *
 * It is started by runts from a sealed memfd, with the control socket as the fd
 * named in argv[1]. It reads one plan frame, clones the container init with the
 * requested namespaces straight into its cgroup, and the init then performs the
 * plan's ops in order up to execve. Every decision is made in TypeScript; this
 * file only interprets ops, reports the pid, sync points and errors
 * (op, path, errno) back over the socket. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "protocol.h"

struct arg {
  uint32_t len;
  char *data; /* NUL-terminated copy */
};

struct op {
  uint32_t code;
  uint32_t argc;
  struct arg *args;
};

static int sock = -1;
static int rootfd = -1;   /* the container's root: the rootfs mount, once attached */
static int roottree = -1; /* detached copy of the rootfs tree, cloned on the host before any setns */
static const char *rootfs_path; /* where the rootfs is attached in the container's mount namespace */
static int statedir = -1; /* the container's state directory on the host (O_PATH) */
static struct arg hook_states[2]; /* state JSON for createContainer (0) and startContainer (1) hooks */
static int ready_sent;    /* after READY runts no longer listens on the socket */
static int startfifo = -1; /* exec.fifo, from WAIT_START until execve closes it (O_CLOEXEC) */
static const char *exec_path; /* chosen by OP_LOOKUP */

/* ---- messages ---- */

static void put_u32(char *p, uint32_t v) { memcpy(p, &v, 4); }

/* Writes one frame to fd: the control socket or, after WAIT_START, exec.fifo. */
static int send_frame(int fd, uint32_t type, uint32_t argc, const char *const *data, const uint32_t *lens) {
  size_t total = 8;
  for (uint32_t i = 0; i < argc; i++) total += 4 + lens[i];
  char *buf = malloc(total + 4);
  if (!buf) _exit(120);
  put_u32(buf, (uint32_t)total);
  put_u32(buf + 4, type);
  put_u32(buf + 8, argc);
  size_t off = 12;
  for (uint32_t i = 0; i < argc; i++) {
    put_u32(buf + off, lens[i]);
    memcpy(buf + off + 4, data[i], lens[i]);
    off += 4 + lens[i];
  }
  size_t done = 0;
  while (done < total + 4) {
    ssize_t n = fd == sock ? send(fd, buf + done, total + 4 - done, MSG_NOSIGNAL) : write(fd, buf + done, total + 4 - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += (size_t)n;
  }
  free(buf);
  return done == total + 4 ? 0 : -1;
}

static void send_msg(uint32_t type, uint32_t argc, const char *const *data, const uint32_t *lens) {
  send_frame(sock, type, argc, data, lens);
}

static void send_u64(uint32_t type, uint64_t v) {
  const char *d[1] = {(const char *)&v};
  uint32_t l[1] = {8};
  send_msg(type, 1, d, l);
}

static void send_str(uint32_t type, const char *s) {
  const char *d[1] = {s};
  uint32_t l[1] = {(uint32_t)strlen(s)};
  send_msg(type, 1, d, l);
}

static uint64_t cur_index; /* the plan op being run, for errors */

/* Reports a failure and ends the process. errno 0 means "not a syscall error". Before
 * READY runts reads the socket; from WAIT_START on, `runts start` reads exec.fifo. */
static void __attribute__((noreturn)) fail(const char *op, const char *path, int err, const char *detail) {
  uint64_t e = (uint64_t)err;
  const char *d[5] = {op, path ? path : "", (const char *)&e, detail ? detail : "", (const char *)&cur_index};
  uint32_t l[5] = {(uint32_t)strlen(op), (uint32_t)strlen(d[1]), 8, (uint32_t)strlen(d[3]), 8};
  if (startfifo >= 0 && send_frame(startfifo, MSG_ERROR, 5, d, l) == 0) _exit(1);
  if (ready_sent) dprintf(2, "runts-init: %s %s: %s%s%s\n", op, d[1], detail ? detail : "", detail && err ? ": " : "", err ? strerror(err) : "");
  else send_msg(MSG_ERROR, 5, d, l);
  _exit(1);
}

static int read_full(int fd, void *buf, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = read(fd, (char *)buf + done, len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    done += (size_t)n;
  }
  return 0;
}

/* Parses a frame payload [type, argc, args...] of exactly len bytes. */
static int parse_frame(const char *p, uint32_t len, struct op *out) {
  if (len < 8) return -1;
  memcpy(&out->code, p, 4);
  memcpy(&out->argc, p + 4, 4);
  if (out->argc > MAX_ARGS || out->argc > (len - 8) / 4) return -1;
  out->args = calloc(out->argc ? out->argc : 1, sizeof(struct arg));
  if (!out->args) return -1;
  uint32_t off = 8;
  for (uint32_t i = 0; i < out->argc; i++) {
    if (len - off < 4) return -1;
    uint32_t alen;
    memcpy(&alen, p + off, 4);
    off += 4;
    if (alen > len - off) return -1;
    out->args[i].len = alen;
    out->args[i].data = malloc((size_t)alen + 1);
    if (!out->args[i].data) return -1;
    memcpy(out->args[i].data, p + off, alen);
    out->args[i].data[alen] = 0;
    off += alen;
  }
  return off == len ? 0 : -1;
}

static int read_frame(struct op *out) {
  uint32_t len;
  if (read_full(sock, &len, 4) < 0) return -1;
  if (len > MAX_FRAME) return -1;
  char *buf = malloc(len ? len : 1);
  if (!buf || read_full(sock, buf, len) < 0) return -1;
  int r = parse_frame(buf, len, out);
  free(buf);
  return r;
}

/* ---- op arguments, bounds-checked ---- */

static const char *cur_op = "plan";

static const char *s_arg(const struct op *op, uint32_t i) {
  if (i >= op->argc) fail(cur_op, "", 0, "malformed plan: missing argument");
  if (strlen(op->args[i].data) != op->args[i].len) fail(cur_op, "", 0, "malformed plan: NUL in string");
  return op->args[i].data;
}

static uint64_t u_arg(const struct op *op, uint32_t i) {
  if (i >= op->argc || op->args[i].len != 8) fail(cur_op, "", 0, "malformed plan: bad integer");
  uint64_t v;
  memcpy(&v, op->args[i].data, 8);
  return v;
}

/* A NULL-terminated string vector from args [from, from+n). */
static char **v_arg(const struct op *op, uint32_t from, uint64_t n) {
  if (from > op->argc || n > op->argc - from) fail(cur_op, "", 0, "malformed plan: bad vector");
  char **v = calloc(n + 1, sizeof(char *));
  if (!v) fail(cur_op, "", ENOMEM, NULL);
  for (uint64_t i = 0; i < n; i++) v[i] = (char *)s_arg(op, from + (uint32_t)i);
  return v;
}

/* ---- paths inside the container root ---- */

static int open_in_root_ex(const char *path, int flags, uint64_t resolve) {
  struct open_how how = {
      .flags = (uint64_t)(flags | O_CLOEXEC),
      .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | resolve,
  };
  return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

static int open_in_root(const char *path, int flags) { return open_in_root_ex(path, flags, 0); }

static int split_parent(const char *path, char *parent, size_t plen, const char **name) {
  const char *slash = strrchr(path, '/');
  if (!slash || !slash[1]) return -1;
  size_t n = (size_t)(slash - path);
  if (n >= plen) return -1;
  memcpy(parent, path, n);
  parent[n] = 0;
  if (n == 0) strcpy(parent, "/");
  *name = slash + 1;
  return 0;
}

static void mkdir_in_root(const char *path, mode_t mode);

/* Opens the directory that holds path's last component inside the root (creating it
 * first with mkdirs); *name is that component. */
static int open_parent(const char *op, const char *path, const char **name, int mkdirs) {
  char parent[4096];
  if (split_parent(path, parent, sizeof parent, name) < 0) fail(op, path, EINVAL, NULL);
  if (mkdirs) mkdir_in_root(parent, 0755);
  int pfd = open_in_root(parent, O_PATH | O_DIRECTORY);
  if (pfd < 0) fail(op, parent, errno, NULL);
  return pfd;
}

/* If the first missing component of path is a symlink whose target does not exist yet,
 * rewrites buf to go through the link's target (inside the root) and returns 1. */
static int follow_dangling(char *buf, size_t size) {
  for (char *p = buf + 1;; p++) {
    if (*p != '/' && *p != 0) continue;
    char saved = *p;
    *p = 0;
    int fd = open_in_root(buf, O_PATH);
    if (fd >= 0) {
      close(fd);
      *p = saved;
      if (!saved) return 0;
      continue;
    }
    char parent[4096], target[4096];
    const char *name;
    int found = 0;
    if (errno == ENOENT && split_parent(buf, parent, sizeof parent, &name) == 0) {
      int pfd = open_in_root(parent, O_PATH | O_DIRECTORY);
      struct stat st;
      ssize_t n;
      if (pfd >= 0 && fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode) &&
          (n = readlinkat(pfd, name, target, sizeof target - 1)) > 0) {
        target[n] = 0;
        char next[8192];
        int len = target[0] == '/' ? snprintf(next, sizeof next, "%s%s%s", target, saved ? "/" : "", saved ? p + 1 : "")
                                   : snprintf(next, sizeof next, "%s/%s%s%s", parent, target, saved ? "/" : "", saved ? p + 1 : "");
        if (len < 0 || (size_t)len >= size) fail("resolve symlink", buf, ENAMETOOLONG, NULL);
        memcpy(buf, next, (size_t)len + 1);
        found = 1;
      }
      if (pfd >= 0) close(pfd);
    }
    if (!found) *p = saved;
    return found;
  }
}

static void follow_all_dangling(char *buf, size_t size, const char *path) {
  for (int hops = 0; follow_dangling(buf, size); hops++)
    if (hops > 40) fail("resolve symlink", path, ELOOP, NULL);
}

/* Creates every missing directory of path inside the root, like mkdir -p; a dangling
 * symlink on the way is followed inside the root and its target created. */
static void mkdir_in_root(const char *path, mode_t mode) {
  char buf[4096];
  if (strlen(path) >= sizeof buf) fail("mkdir", path, ENAMETOOLONG, NULL);
  strcpy(buf, path);
  follow_all_dangling(buf, sizeof buf, path);
  for (char *p = buf + 1;; p++) {
    if (*p != '/' && *p != 0) continue;
    char saved = *p;
    *p = 0;
    int fd = open_in_root(buf, O_PATH | O_DIRECTORY);
    if (fd < 0 && errno == ENOENT) {
      const char *name;
      int pfd = open_parent("mkdir", buf, &name, 0);
      if (mkdirat(pfd, name, mode) < 0 && errno != EEXIST) fail("mkdir", buf, errno, NULL);
      close(pfd);
      fd = open_in_root(buf, O_PATH | O_DIRECTORY);
    }
    if (fd < 0) fail("mkdir", buf, errno, NULL);
    close(fd);
    *p = saved;
    if (!saved) break;
  }
}

#define TARGET_DIR 1
#define TARGET_FILE 2
#define TARGET_NO_SYMLINKS 4

/* Opens a mount target inside the root, creating it (TARGET_DIR or TARGET_FILE) when
 * missing. With TARGET_NO_SYMLINKS (proc, sysfs) no component may be a symlink. */
static int open_target(const char *target, uint64_t create) {
  uint64_t resolve = create & TARGET_NO_SYMLINKS ? RESOLVE_NO_SYMLINKS : 0;
  int fd = open_in_root_ex(target, O_PATH, resolve);
  if (fd >= 0 || errno != ENOENT || !(create & (TARGET_DIR | TARGET_FILE))) {
    if (fd < 0 && errno == ELOOP && resolve) fail("mount", target, 0, "must be mounted on an ordinary directory, not through a symlink");
    if (fd < 0) fail("open mount target", target, errno, NULL);
    return fd;
  }
  char path[4096];
  if (strlen(target) >= sizeof path) fail("open mount target", target, ENAMETOOLONG, NULL);
  strcpy(path, target);
  if (!resolve) follow_all_dangling(path, sizeof path, target);
  if (create & TARGET_DIR) {
    mkdir_in_root(path, 0755);
  } else {
    const char *name;
    int pfd = open_parent("create mount target", path, &name, 1);
    int f = openat(pfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (f < 0 && errno != EEXIST) fail("create mount target", path, errno, NULL);
    if (f >= 0) close(f);
    close(pfd);
  }
  fd = open_in_root_ex(path, O_PATH, resolve);
  if (fd < 0) fail("open mount target", target, errno, NULL);
  return fd;
}

static void fd_path(char *buf, size_t len, int fd) { snprintf(buf, len, "/proc/self/fd/%d", fd); }

/* ---- the new mount API (fd based; works after pivot_root without a /proc) ---- */

static int open_tree_fd(int dfd, const char *path, unsigned flags) {
  return (int)syscall(SYS_open_tree, dfd, path, flags);
}

static int move_mount_fd(int from, int to) {
  return (int)syscall(SYS_move_mount, from, "", to, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

static int setattr_fd(int fd, uint64_t set, uint64_t clr, uint64_t propagation, int recursive) {
  struct mount_attr attr = {.attr_set = set, .attr_clr = clr, .propagation = propagation};
  return (int)syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr);
}

/* The rootfs is the tree cloned on the host; the container's mount namespace (maybe a
 * joined one) only provides the place where it is attached until pivot_root. */
static void op_rootfs(const struct op *op) {
  uint64_t propagation = u_arg(op, 0);
  if (mount(NULL, "/", NULL, (unsigned long)propagation, NULL) < 0) fail("make / private", "/", errno, NULL);
  /* The clone shares the host mounts' peer groups: give it the same propagation as "/"
   * (mount_setattr takes the type alone, recursion is AT_RECURSIVE). */
  if (setattr_fd(roottree, 0, 0, propagation & ~(uint64_t)MS_REC, 1) < 0) fail("set rootfs propagation", rootfs_path, errno, NULL);
  int at = open(rootfs_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (at < 0) fail("open rootfs mount point", rootfs_path, errno, NULL);
  if (move_mount_fd(roottree, at) < 0) fail("attach rootfs", rootfs_path, errno, NULL);
  close(at);
  rootfd = roottree;
}

#define COVER_MODE 1
#define COVER_CONTENTS 2

/* Copies the entries of directory src into directory dst (tmpcopyup): directories, regular
 * files, symlinks and other nodes, with their owner and mode. where names src for errors. */
static void copy_tree(int src, int dst, const char *where) {
  int dup_fd = fcntl(src, F_DUPFD_CLOEXEC, 0);
  DIR *dir = dup_fd < 0 ? NULL : fdopendir(dup_fd);
  if (!dir) fail("tmpcopyup: read directory", where, errno, NULL);
  static char buf[65536];
  struct dirent *e;
  while ((errno = 0, e = readdir(dir))) {
    const char *name = e->d_name;
    if (!strcmp(name, ".") || !strcmp(name, "..")) continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", where, name);
    struct stat st;
    if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0) fail("tmpcopyup: stat", path, errno, NULL);
    if (S_ISDIR(st.st_mode)) {
      if (mkdirat(dst, name, 0700) < 0) fail("tmpcopyup: mkdir", path, errno, NULL);
      int s2 = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      int d2 = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (s2 < 0 || d2 < 0) fail("tmpcopyup: open directory", path, errno, NULL);
      copy_tree(s2, d2, path);
      close(s2);
      close(d2);
    } else if (S_ISREG(st.st_mode)) {
      int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      int out = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (in < 0 || out < 0) fail("tmpcopyup: open", path, errno, NULL);
      ssize_t n;
      while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n) fail("tmpcopyup: write", path, errno ? errno : EIO, NULL);
      if (n < 0) fail("tmpcopyup: read", path, errno, NULL);
      close(in);
      close(out);
    } else if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t n = readlinkat(src, name, target, sizeof target - 1);
      if (n < 0) fail("tmpcopyup: readlink", path, errno, NULL);
      target[n] = 0;
      if (symlinkat(target, dst, name) < 0) fail("tmpcopyup: symlink", path, errno, NULL);
    } else if (mknodat(dst, name, st.st_mode, st.st_rdev) < 0) {
      fail("tmpcopyup: mknod", path, errno, NULL);
    }
    if (fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0) fail("tmpcopyup: chown", path, errno, NULL);
    /* After the chown, which clears set-id bits. */
    if (!S_ISLNK(st.st_mode) && fchmodat(dst, name, st.st_mode & 07777, 0) < 0) fail("tmpcopyup: chmod", path, errno, NULL);
  }
  if (errno) fail("tmpcopyup: read directory", where, errno, NULL);
  closedir(dir);
}

/* [source, target, fstype, flags, data, create, cover]: cover says what to take over from a
 * directory the new mount covers, if the target existed (COVER_*). */
static void op_mount(const struct op *op) {
  const char *source = s_arg(op, 0), *target = s_arg(op, 1), *fstype = s_arg(op, 2);
  uint64_t flags = u_arg(op, 3), create = u_arg(op, 5), cover = u_arg(op, 6);
  const char *data = s_arg(op, 4);
  int existed = 0;
  if (cover) {
    int probe = open_in_root(target, O_PATH);
    existed = probe >= 0;
    if (existed) close(probe);
  }
  int fd = open_target(target, create);
  char tpath[64];
  fd_path(tpath, sizeof tpath, fd);
  if (mount(source, tpath, fstype, (unsigned long)flags, *data ? data : NULL) < 0) {
    char detail[256];
    snprintf(detail, sizeof detail, "type %s, source %s%s%s", fstype, source, *data ? ", options " : "", data);
    fail("mount", target, errno, detail);
  }
  if (existed) {
    /* fd was opened before the mount: it still reaches the covered directory. */
    int under = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int top = open_in_root(target, O_RDONLY | O_DIRECTORY);
    struct stat st;
    if (under < 0 || top < 0 || fstat(under, &st) < 0) fail("mount: open covered directory", target, errno, NULL);
    if (cover & COVER_CONTENTS) copy_tree(under, top, target);
    if (cover & COVER_MODE && fchmod(top, st.st_mode & 07777) < 0) fail("mount: chmod", target, errno, NULL);
    close(under);
    close(top);
  }
  close(fd);
}

/* Bind-mounts a host path onto a target inside the root (a clone of the source tree
 * moved onto the target fd: no path string is ever handed to mount(2)). */
static void bind_at(const char *source, const char *target, int recursive, uint64_t create) {
  int tfd = open_target(target, create);
  int tree = open_tree_fd(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
  if (tree < 0) fail("bind mount: open source", source, errno, NULL);
  if (move_mount_fd(tree, tfd) < 0) fail("bind mount", target, errno, source);
  close(tree);
  close(tfd);
}

static void op_bind(const struct op *op) { bind_at(s_arg(op, 0), s_arg(op, 1), u_arg(op, 2) != 0, u_arg(op, 3)); }

static void op_setattr(const struct op *op) {
  const char *target = s_arg(op, 0);
  int fd = open_in_root(target, O_PATH);
  if (fd < 0) fail("set mount attributes", target, errno, NULL);
  if (setattr_fd(fd, u_arg(op, 1), u_arg(op, 2), u_arg(op, 3), u_arg(op, 4) != 0) < 0)
    fail("set mount attributes", target, errno, NULL);
  close(fd);
}

/* Removes whatever the image has at name in pfd (a file, a symlink, an empty directory):
 * the entries the plan puts in /dev replace the image's, which are never trusted. */
static void remove_entry(int pfd, const char *name, const char *path) {
  if (unlinkat(pfd, name, 0) == 0 || errno == ENOENT) return;
  if (errno == EISDIR && unlinkat(pfd, name, AT_REMOVEDIR) == 0) return;
  fail("remove existing", path, errno, NULL);
}

/* Bind-mounts the host's node host onto path (the image's entry replaced), once fstat on
 * the opened node shows the type and device the plan names: the node bound is the one
 * checked. */
static void bind_device(const char *host, const char *path, mode_t type, dev_t dev) {
  int src = open(host, O_PATH | O_CLOEXEC);
  struct stat st;
  if (src < 0 || fstat(src, &st) < 0) fail("bind device: open host node", host, errno, NULL);
  if ((st.st_mode & S_IFMT) != type || st.st_rdev != dev) {
    char detail[96];
    snprintf(detail, sizeof detail, "not the %s %u:%u the plan names", S_ISBLK(type) ? "block device" : S_ISCHR(type) ? "char device" : "fifo",
             major(dev), minor(dev));
    fail("bind device", host, 0, detail);
  }
  int tree = open_tree_fd(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  if (tree < 0) fail("bind device", host, errno, NULL);
  const char *name;
  int pfd = open_parent("bind device", path, &name, 1);
  remove_entry(pfd, name, path);
  int tfd = openat(pfd, name, O_CREAT | O_EXCL | O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (tfd < 0) fail("bind device: create target", path, errno, NULL);
  if (move_mount_fd(tree, tfd) < 0) fail("bind device", path, errno, host);
  close(tfd);
  close(pfd);
  close(tree);
  close(src);
}

static void op_bind_dev(const struct op *op) {
  bind_device(s_arg(op, 1), s_arg(op, 0), (mode_t)u_arg(op, 2), makedev((unsigned)u_arg(op, 3), (unsigned)u_arg(op, 4)));
}

static void op_mknod(const struct op *op) {
  const char *path = s_arg(op, 0);
  mode_t mode = (mode_t)u_arg(op, 1);
  dev_t dev = makedev((unsigned)u_arg(op, 2), (unsigned)u_arg(op, 3));
  const char *name;
  int pfd = open_parent("mknod", path, &name, 1);
  remove_entry(pfd, name, path);
  if (mknodat(pfd, name, mode, dev) < 0) {
    /* Where mknod is not allowed (a user namespace, a nodev mount) the plan may name the
     * host's node to bind-mount instead. */
    if (errno != EPERM || op->argc < 7 || !*s_arg(op, 6)) fail("mknod", path, errno, NULL);
    close(pfd);
    bind_device(s_arg(op, 6), path, mode & S_IFMT, dev);
    return;
  }
  if (fchownat(pfd, name, (uid_t)u_arg(op, 4), (gid_t)u_arg(op, 5), AT_SYMLINK_NOFOLLOW) < 0)
    fail("chown device", path, errno, NULL);
  /* mknod applies the umask; the config's mode is exact. */
  int fd = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  char p[64];
  fd_path(p, sizeof p, fd);
  if (fd < 0 || chmod(p, mode & 07777) < 0) fail("chmod device", path, errno, NULL);
  close(fd);
  close(pfd);
}

static void op_symlink(const struct op *op) {
  const char *target = s_arg(op, 0), *link = s_arg(op, 1);
  const char *name;
  int pfd = open_parent("symlink", link, &name, 0);
  remove_entry(pfd, name, link);
  if (symlinkat(target, pfd, name) < 0) fail("symlink", link, errno, target);
  close(pfd);
}

static void op_mkdir(const struct op *op) { mkdir_in_root(s_arg(op, 0), (mode_t)u_arg(op, 1)); }

static void op_pivot_root(const struct op *op) {
  (void)op;
  int oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (oldroot < 0) fail("pivot_root: open /", "/", errno, NULL);
  if (fchdir(rootfd) < 0) fail("pivot_root: chdir", "", errno, NULL);
  if (syscall(SYS_pivot_root, ".", ".") < 0) fail("pivot_root", "", errno, NULL);
  /* The old root is now stacked on top of the new one. Make it (and only it) a slave
   * before detaching it, so that the unmount does not propagate to the host. */
  if (fchdir(oldroot) < 0) fail("pivot_root: chdir to old root", "", errno, NULL);
  close(oldroot);
  if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) fail("pivot_root: make old root slave", "", errno, NULL);
  if (umount2(".", MNT_DETACH) < 0) fail("pivot_root: detach old root", "", errno, NULL);
  if (chdir("/") < 0) fail("pivot_root: chdir /", "", errno, NULL);
}

static void op_move_root(const struct op *op) {
  (void)op;
  if (fchdir(rootfd) < 0) fail("move root: chdir", "", errno, NULL);
  if (mount(".", "/", NULL, MS_MOVE, NULL) < 0) fail("move root", "/", errno, NULL);
  if (chroot(".") < 0) fail("chroot", "", errno, NULL);
  if (chdir("/") < 0) fail("chroot: chdir /", "", errno, NULL);
}

static void op_mask(const struct op *op) {
  const char *path = s_arg(op, 0);
  int fd = open_in_root(path, O_PATH | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return;
    fail("mask", path, errno, NULL);
  }
  struct stat st;
  if (fstat(fd, &st) < 0) fail("mask", path, errno, NULL);
  if (S_ISDIR(st.st_mode)) {
    int fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
    if (fs < 0) fail("mask: fsopen tmpfs", path, errno, NULL);
    if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) fail("mask: create tmpfs", path, errno, NULL);
    int mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    if (mnt < 0) fail("mask: fsmount tmpfs", path, errno, NULL);
    if (move_mount_fd(mnt, fd) < 0) fail("mask", path, errno, NULL);
    close(mnt);
    close(fs);
  } else {
    int null = open_in_root("/dev/null", O_PATH | O_NOFOLLOW);
    struct stat ns;
    if (null < 0 || fstat(null, &ns) < 0) fail("mask: open /dev/null", path, errno, NULL);
    if (!S_ISCHR(ns.st_mode) || major(ns.st_rdev) != 1 || minor(ns.st_rdev) != 3)
      fail("mask", path, 0, "/dev/null in the container is not the null device (char 1:3)");
    int tree = open_tree_fd(null, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
    if (tree < 0 || move_mount_fd(tree, fd) < 0) fail("mask", path, errno, NULL);
    close(tree);
    close(null);
  }
  close(fd);
}

static void op_readonly(const struct op *op) {
  const char *path = s_arg(op, 0);
  int fd = open_in_root(path, O_PATH | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return;
    fail("readonly path", path, errno, NULL);
  }
  int tree = open_tree_fd(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
  if (tree < 0) fail("readonly path: clone", path, errno, NULL);
  if (setattr_fd(tree, MOUNT_ATTR_RDONLY, 0, 0, 1) < 0)
    fail("readonly path: set read-only", path, errno, NULL);
  if (move_mount_fd(tree, fd) < 0) fail("readonly path", path, errno, NULL);
  close(tree);
  close(fd);
}

static void op_write_file(const struct op *op) {
  const char *path = s_arg(op, 0), *value = s_arg(op, 1);
  int fd = open_in_root(path, O_WRONLY | O_NOFOLLOW);
  if (fd < 0) fail("write", path, errno, value);
  if (write(fd, value, strlen(value)) < 0) fail("write", path, errno, value);
  close(fd);
}

/* ---- process attributes ---- */

static int capset_sets(uint64_t eff, uint64_t prm, uint64_t inh) {
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2] = {
      {.effective = (uint32_t)eff, .permitted = (uint32_t)prm, .inheritable = (uint32_t)inh},
      {.effective = (uint32_t)(eff >> 32), .permitted = (uint32_t)(prm >> 32), .inheritable = (uint32_t)(inh >> 32)},
  };
  return (int)syscall(SYS_capset, &h, d);
}

static void op_caps(const struct op *op) {
  uint64_t bnd = u_arg(op, 0), eff = u_arg(op, 1), prm = u_arg(op, 2), inh = u_arg(op, 3), amb = u_arg(op, 4);
  uint64_t last = u_arg(op, 5);
  /* After a switch to a non-root uid the effective set is empty; dropping from the
   * bounding set needs CAP_SETPCAP, so raise effective to permitted first. */
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct cur[2];
  if (syscall(SYS_capget, &h, cur) < 0) fail("capget", "", errno, NULL);
  uint64_t cur_prm = (uint64_t)cur[0].permitted | ((uint64_t)cur[1].permitted << 32);
  uint64_t cur_inh = (uint64_t)cur[0].inheritable | ((uint64_t)cur[1].inheritable << 32);
  if (capset_sets(cur_prm, cur_prm, cur_inh) < 0) fail("capset", "", errno, NULL);
  for (uint64_t c = 0; c <= last && c < 64; c++)
    if (!(bnd & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
      fail("drop bounding capability", "", errno, NULL);
  if (capset_sets(eff, prm, inh) < 0) fail("capset", "", errno, NULL);
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  /* As runc: an ambient capability the kernel refuses (not in permitted and
   * inheritable) is left out rather than failing the container. */
  for (uint64_t c = 0; c <= last && c < 64; c++)
    if (amb & (1ULL << c)) prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0);
}

/* As runc: where the user namespace denies setgroups(2) (/proc/self/setgroups says
 * "deny") the supplementary groups are left as they are; anywhere else a failure of
 * setgroups is an error. */
static int setgroups_denied(void) {
  int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return 0;
  char buf[16] = {0};
  if (fd < 0 || read(fd, buf, sizeof buf - 1) < 0) fail("setgroups", "/proc/self/setgroups", errno, NULL);
  close(fd);
  return strncmp(buf, "deny", 4) == 0;
}

static void op_user(const struct op *op) {
  uid_t uid = (uid_t)u_arg(op, 0);
  gid_t gid = (gid_t)u_arg(op, 1);
  uint32_t n = op->argc - 2;
  gid_t *groups = calloc(n ? n : 1, sizeof(gid_t));
  if (!groups) fail("setgroups", "", ENOMEM, NULL);
  for (uint32_t i = 0; i < n; i++) groups[i] = (gid_t)u_arg(op, 2 + i);
  if (!setgroups_denied() && setgroups(n, groups) < 0) fail("setgroups", "", errno, NULL);
  if (setresgid(gid, gid, gid) < 0) fail("setgid", "", errno, NULL);
  /* Keep the permitted set across the uid change; OP_CAPS sets the final sets. */
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail("prctl keepcaps", "", errno, NULL);
  if (setresuid(uid, uid, uid) < 0) fail("setuid", "", errno, NULL);
  prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
  free(groups);
}

static void op_rlimit(const struct op *op) {
  struct rlimit rl = {.rlim_cur = (rlim_t)u_arg(op, 1), .rlim_max = (rlim_t)u_arg(op, 2)};
  int resource = (int)u_arg(op, 0);
  if (setrlimit(resource, &rl) < 0) {
    char detail[64];
    snprintf(detail, sizeof detail, "error setting rlimit type %d", resource);
    fail("setrlimit", "", errno, detail);
  }
}

static void op_chdir(const struct op *op) {
  const char *path = s_arg(op, 0);
  if (chdir(path) < 0) fail("chdir to cwd", path, errno, NULL);
  /* The directory must be inside the root: a cwd reached through a leaked fd
   * would show up as unreachable (CVE-2024-21626). */
  char buf[4096];
  if (!getcwd(buf, sizeof buf)) fail("getcwd", path, errno, "cwd is outside the container root");
}

/* [name as given, candidates...]: the first executable regular file among the candidates. */
static void op_lookup(const struct op *op) {
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
static void op_wait_start(const struct op *op) {
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

static void op_sync(const struct op *op) {
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
static void op_hook(const struct op *op) {
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

static void op_seccomp(const struct op *op) {
  if (op->argc < 2 || op->args[0].len % sizeof(struct sock_filter) != 0) fail("seccomp", "", EINVAL, "malformed filter");
  struct sock_fprog prog = {
      .len = (unsigned short)(op->args[0].len / sizeof(struct sock_filter)),
      .filter = (struct sock_filter *)op->args[0].data,
  };
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned)u_arg(op, 1), &prog) < 0) fail("seccomp", "", errno, NULL);
}

static void op_affinity(const struct op *op) {
  if (op->argc < 1) fail("sched_setaffinity", "", EINVAL, NULL);
  if (sched_setaffinity(0, op->args[0].len, (cpu_set_t *)op->args[0].data) < 0) fail("sched_setaffinity", "", errno, NULL);
}

struct sched_attr_v1 {
  uint32_t size, policy;
  uint64_t flags;
  int32_t nice;
  uint32_t priority;
  uint64_t runtime, deadline, period;
};

static void op_sched(const struct op *op) {
  struct sched_attr_v1 a = {
      .size = sizeof a,
      .policy = (uint32_t)u_arg(op, 0),
      .priority = (uint32_t)u_arg(op, 1),
      .nice = (int32_t)u_arg(op, 2),
      .flags = u_arg(op, 3),
      .runtime = u_arg(op, 4),
      .deadline = u_arg(op, 5),
      .period = u_arg(op, 6),
  };
  if (syscall(SYS_sched_setattr, 0, &a, 0) < 0) fail("sched_setattr", "", errno, NULL);
}

static void op_loopback_up(const struct op *op) {
  (void)op;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) fail("loopback up", "lo", errno, NULL);
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) fail("loopback up", "lo", errno, NULL);
  close(fd);
}

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

static void op_exec(const struct op *op) {
  uint64_t preserve = u_arg(op, 0), nargs = u_arg(op, 1);
  char **argv = v_arg(op, 2, nargs);
  char **envp = v_arg(op, 2 + (uint32_t)nargs, op->argc - 2 - nargs);
  const char *path = exec_path ? exec_path : argv[0];
  close(sock);
  cloexec_from(3 + (unsigned)preserve);
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, NULL);
  signal(SIGPIPE, SIG_DFL);
  execve(path, argv, envp);
  int err = errno;
  signal(SIGPIPE, SIG_IGN);
  fail("exec", path, err, NULL);
}

static void op_ready(const struct op *op) {
  (void)op;
  send_msg(MSG_READY, 0, NULL, NULL);
  ready_sent = 1;
}

static void op_remount_root_ro(const struct op *op) {
  (void)op;
  int fd = open("/", O_PATH | O_CLOEXEC);
  if (fd < 0 || setattr_fd(fd, MOUNT_ATTR_RDONLY, 0, 0, 0) < 0) fail("remount root read-only", "/", errno, NULL);
  close(fd);
}

static void op_hostname(const struct op *op) {
  const char *n = s_arg(op, 0);
  if (sethostname(n, strlen(n)) < 0) fail("sethostname", n, errno, NULL);
}

static void op_domainname(const struct op *op) {
  const char *n = s_arg(op, 0);
  if (setdomainname(n, strlen(n)) < 0) fail("setdomainname", n, errno, NULL);
}

static void op_umask(const struct op *op) { umask((mode_t)u_arg(op, 0)); }

static void op_no_new_privs(const struct op *op) {
  (void)op;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail("prctl no_new_privs", "", errno, NULL);
}

static void op_personality(const struct op *op) {
  if (personality((unsigned long)u_arg(op, 0)) < 0) fail("personality", "", errno, NULL);
}

static void op_ioprio(const struct op *op) {
  if (syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, (int)u_arg(op, 0)) < 0) fail("ioprio_set", "", errno, NULL);
}

/* The ops the init runs; OP_CLONE is the parent's. An op without a handler is refused
 * before anything is done. */
static void (*const handlers[])(const struct op *) = {
    [OP_SYNC] = op_sync,
    [OP_READY] = op_ready,
    [OP_ROOTFS] = op_rootfs,
    [OP_MOUNT] = op_mount,
    [OP_BIND] = op_bind,
    [OP_SETATTR] = op_setattr,
    [OP_MKNOD] = op_mknod,
    [OP_BIND_DEV] = op_bind_dev,
    [OP_SYMLINK] = op_symlink,
    [OP_PIVOT_ROOT] = op_pivot_root,
    [OP_MOVE_ROOT] = op_move_root,
    [OP_MASK] = op_mask,
    [OP_READONLY] = op_readonly,
    [OP_HOSTNAME] = op_hostname,
    [OP_DOMAINNAME] = op_domainname,
    [OP_WRITE_FILE] = op_write_file,
    [OP_RLIMIT] = op_rlimit,
    [OP_USER] = op_user,
    [OP_UMASK] = op_umask,
    [OP_CAPS] = op_caps,
    [OP_NO_NEW_PRIVS] = op_no_new_privs,
    [OP_CHDIR] = op_chdir,
    [OP_LOOKUP] = op_lookup,
    [OP_WAIT_START] = op_wait_start,
    [OP_HOOK] = op_hook,
    [OP_EXEC] = op_exec,
    [OP_REMOUNT_ROOT_RO] = op_remount_root_ro,
    [OP_PERSONALITY] = op_personality,
    [OP_SECCOMP] = op_seccomp,
    [OP_SCHED] = op_sched,
    [OP_IOPRIO] = op_ioprio,
    [OP_AFFINITY] = op_affinity,
    [OP_MKDIR] = op_mkdir,
    [OP_LOOPBACK_UP] = op_loopback_up,
};

static int known_op(uint32_t code) { return code < sizeof handlers / sizeof *handlers && handlers[code]; }

/* ---- the parent: clone the init into its namespaces and cgroup ---- */

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
    if (!known_op(ops[i].code)) fail("plan", "", EPROTO, "unknown op");

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
    for (uint32_t i = 1; i < nops; i++) {
      cur_op = "plan";
      cur_index = i;
      handlers[ops[i].code](&ops[i]);
    }
    _exit(0);
  }
  close(roottree);
  close(statedir);
  if (cgfd >= 0) close(cgfd);
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
