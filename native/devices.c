/* runts-init: /dev entries: device nodes (mknod, or a verified bind of the host node), symlinks,
 * directories. */
#include "init.h"

/* The directory of a /dev entry is reached without any symlink (open_parent_ex with
 * RESOLVE_NO_SYMLINKS): an image whose /dev is a symlink into a bind-mounted volume would
 * otherwise have remove_entry delete that volume's files. */
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
  int pfd = open_parent_ex("bind device", path, &name, 1, RESOLVE_NO_SYMLINKS);
  remove_entry(pfd, name, path);
  int tfd = openat(pfd, name, O_CREAT | O_EXCL | O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (tfd < 0) fail("bind device: create target", path, errno, NULL);
  if (move_mount_fd(tree, tfd) < 0) fail("bind device", path, errno, host);
  close(tfd);
  close(pfd);
  close(tree);
  close(src);
}

void op_bind_dev(const struct op *op) {
  bind_device(s_arg(op, 1), s_arg(op, 0), (mode_t)u_arg(op, 2), makedev((unsigned)u_arg(op, 3), (unsigned)u_arg(op, 4)));
}

void op_mknod(const struct op *op) {
  const char *path = s_arg(op, 0);
  mode_t mode = (mode_t)u_arg(op, 1);
  dev_t dev = makedev((unsigned)u_arg(op, 2), (unsigned)u_arg(op, 3));
  const char *name;
  int pfd = open_parent_ex("mknod", path, &name, 1, RESOLVE_NO_SYMLINKS);
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

void op_symlink(const struct op *op) {
  const char *target = s_arg(op, 0), *link = s_arg(op, 1);
  const char *name;
  int pfd = open_parent_ex("symlink", link, &name, 0, RESOLVE_NO_SYMLINKS);
  remove_entry(pfd, name, link);
  if (symlinkat(target, pfd, name) < 0) fail("symlink", link, errno, target);
  close(pfd);
}

void op_mkdir(const struct op *op) { mkdir_in_root(s_arg(op, 0), (mode_t)u_arg(op, 1)); }
