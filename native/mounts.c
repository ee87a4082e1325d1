/* runts-init: Mounts: the rootfs, new filesystems, binds and their attributes, pivot_root,
 * masked and read-only paths. */
#include "init.h"

int open_tree_fd(int dfd, const char *path, unsigned flags) {
  return (int)syscall(SYS_open_tree, dfd, path, flags);
}

int move_mount_fd(int from, int to) {
  return (int)syscall(SYS_move_mount, from, "", to, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

static int setattr_fd(int fd, uint64_t set, uint64_t clr, uint64_t propagation, int recursive) {
  struct mount_attr attr = {.attr_set = set, .attr_clr = clr, .propagation = propagation};
  return (int)syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr);
}

/* [propagation, cloneHere]: the rootfs is the tree cloned on the host; the container's mount
 * namespace (maybe a joined one) only provides the place where it is attached until
 * pivot_root. A rootless parent cannot clone it: the init does, in its new mount namespace
 * (a copy of the host's: the path is the same). */
void op_rootfs(const struct op *op) {
  uint64_t propagation = u_arg(op, 0);
  if (mount(NULL, "/", NULL, (unsigned long)propagation, NULL) < 0) fail("make / private", "/", errno, NULL);
  if (op->argc > 1 && u_arg(op, 1)) {
    roottree = open_tree_fd(AT_FDCWD, rootfs_path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    if (roottree < 0) fail("open rootfs", rootfs_path, errno, NULL);
  }
  /* The clone shares the host mounts' peer groups: give it the same propagation as "/"
   * (mount_setattr takes the type alone, recursion is AT_RECURSIVE). */
  if (setattr_fd(roottree, 0, 0, propagation & ~(uint64_t)MS_REC, 1) < 0) fail("set rootfs propagation", rootfs_path, errno, NULL);
  int at = open(rootfs_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (at < 0) fail("open rootfs mount point", rootfs_path, errno, NULL);
  if (move_mount_fd(roottree, at) < 0) fail("attach rootfs", rootfs_path, errno, NULL);
  close(at);
  rootfd = roottree;
}


/* How deep tmpcopyup descends: each level costs a stack frame and three fds, and an image
 * can hold a tree deep enough to exhaust either. */
#define MAX_COPY_DEPTH 256

/* Copies the entries of directory src into directory dst (tmpcopyup): directories, regular
 * files, symlinks and other nodes, with their owner and mode. where names src for errors. */
static void copy_tree(int src, int dst, const char *where, int depth) {
  if (depth > MAX_COPY_DEPTH) fail("tmpcopyup", where, 0, "directory tree deeper than 256 levels (MAX_COPY_DEPTH)");
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
      copy_tree(s2, d2, path, depth + 1);
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
void op_mount(const struct op *op) {
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
    if (cover & COVER_CONTENTS) copy_tree(under, top, target, 1);
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

void op_bind(const struct op *op) { bind_at(s_arg(op, 0), s_arg(op, 1), u_arg(op, 2) != 0, u_arg(op, 3)); }

void op_setattr(const struct op *op) {
  const char *target = s_arg(op, 0);
  int fd = open_in_root(target, O_PATH);
  if (fd < 0) fail("set mount attributes", target, errno, NULL);
  if (setattr_fd(fd, u_arg(op, 1), u_arg(op, 2), u_arg(op, 3), u_arg(op, 4) != 0) < 0)
    fail("set mount attributes", target, errno, NULL);
  close(fd);
}

/* Removes whatever the image has at name in pfd (a file, a symlink, an empty directory):
 * the entries the plan puts in /dev replace the image's, which are never trusted. */
void op_pivot_root(const struct op *op) {
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

void op_move_root(const struct op *op) {
  (void)op;
  if (fchdir(rootfd) < 0) fail("move root: chdir", "", errno, NULL);
  if (mount(".", "/", NULL, MS_MOVE, NULL) < 0) fail("move root", "/", errno, NULL);
  if (chroot(".") < 0) fail("chroot", "", errno, NULL);
  if (chdir("/") < 0) fail("chroot: chdir /", "", errno, NULL);
}

void op_mask(const struct op *op) {
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

void op_readonly(const struct op *op) {
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

void op_remount_root_ro(const struct op *op) {
  (void)op;
  int fd = open("/", O_PATH | O_CLOEXEC);
  if (fd < 0 || setattr_fd(fd, MOUNT_ATTR_RDONLY, 0, 0, 0) < 0) fail("remount root read-only", "/", errno, NULL);
  close(fd);
}
