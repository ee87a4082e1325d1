/* runts-init: Paths inside the container root: openat2(RESOLVE_IN_ROOT), mkdir -p, mount targets. */
#include "init.h"

static int open_in_root_ex(const char *path, int flags, uint64_t resolve) {
  struct open_how how = {
      .flags = (uint64_t)(flags | O_CLOEXEC),
      .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | resolve,
  };
  return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

int open_in_root(const char *path, int flags) { return open_in_root_ex(path, flags, 0); }

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


/* Opens the directory that holds path's last component inside the root (creating it
 * first with mkdirs); *name is that component. */
int open_parent_ex(const char *op, const char *path, const char **name, int mkdirs, uint64_t resolve) {
  char parent[4096];
  if (split_parent(path, parent, sizeof parent, name) < 0) fail(op, path, EINVAL, NULL);
  if (mkdirs) mkdir_in_root(parent, 0755);
  int pfd = open_in_root_ex(parent, O_PATH | O_DIRECTORY, resolve);
  if (pfd < 0 && errno == ELOOP && resolve & RESOLVE_NO_SYMLINKS)
    fail(op, path, 0, "a directory on the way is a symlink (refused: only real directories are written here)");
  if (pfd < 0) fail(op, parent, errno, NULL);
  return pfd;
}

int open_parent(const char *op, const char *path, const char **name, int mkdirs) { return open_parent_ex(op, path, name, mkdirs, 0); }

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
void mkdir_in_root(const char *path, mode_t mode) {
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


/* Opens a mount target inside the root, creating it (TARGET_DIR or TARGET_FILE) when
 * missing. With TARGET_NO_SYMLINKS (proc, sysfs) no component may be a symlink. */
int open_target(const char *target, uint64_t create) {
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

void fd_path(char *buf, size_t len, int fd) { snprintf(buf, len, "/proc/self/fd/%d", fd); }
