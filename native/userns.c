/* runts-init: user and time namespaces. The parent's ops (run on the host before clone3):
 * time namespace offsets, and idmapped mount trees, made from a throwaway user namespace
 * with the mount's mappings (an idmapped mount needs CAP_SYS_ADMIN over the source's
 * superblock, which the container init in its own user namespace lacks). The init's op
 * attaches such a tree; it inherits the tree's fd through clone3's copy of the fd table. */
#include "init.h"

/* The fds of the OP_IDMAP_TREE trees, in plan order (-1 once attached). */
static int trees[MAX_TREES];
static uint32_t ntrees;

void close_trees(void) {
  for (uint32_t i = 0; i < ntrees; i++)
    if (trees[i] >= 0) close(trees[i]);
}

/* [offsets] "monotonic S N\nboottime S N\n": a new time namespace for the init, which
 * takes the parent's time_ns_for_children; offsets can only be written before any process
 * is in it. */
void op_time_offsets(const struct op *op) {
  const char *offsets = s_arg(op, 0);
  if (unshare(CLONE_NEWTIME) < 0) fail("unshare time namespace", "", errno, NULL);
  int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail("open", "/proc/self/timens_offsets", errno, NULL);
  /* The kernel takes one clock per write. */
  for (const char *line = offsets; *line;) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) + 1 : strlen(line);
    if (write(fd, line, len) != (ssize_t)len) fail("write time offsets", "/proc/self/timens_offsets", errno, line);
    line += len;
  }
  close(fd);
}

static void write_map(pid_t pid, const char *file, const char *map) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail("idmapped mount: open", path, errno, NULL);
  size_t len = strlen(map);
  if (write(fd, map, len) != (ssize_t)len) fail("idmapped mount: write", path, errno, map);
  close(fd);
}

/* A user namespace fd with the given maps: a child unshares one and waits until its
 * namespace is opened; it never runs anything else. */
static int userns_with_maps(const char *uidmap, const char *gidmap) {
  int ready[2], done[2];
  if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(done, O_CLOEXEC) < 0) fail("idmapped mount: pipe", "", errno, NULL);
  pid_t pid = fork();
  if (pid < 0) fail("idmapped mount: fork", "", errno, NULL);
  if (pid == 0) {
    char c = 0;
    close(ready[0]);
    close(done[1]);
    if (unshare(CLONE_NEWUSER) < 0) _exit(1);
    if (write(ready[1], &c, 1) != 1) _exit(1);
    while (read(done[0], &c, 1) < 0 && errno == EINTR) {}
    _exit(0);
  }
  close(ready[1]);
  close(done[0]);
  char c;
  if (read(ready[0], &c, 1) != 1) fail("idmapped mount: unshare user namespace", "", EPERM, NULL);
  close(ready[0]);
  write_map(pid, "uid_map", uidmap);
  write_map(pid, "setgroups", "deny");
  write_map(pid, "gid_map", gidmap);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("idmapped mount: open", path, errno, NULL);
  close(done[1]);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
  return fd;
}

/* [source, recursive (rbind), idmapRecursive (ridmap), uidmap, gidmap]: a detached clone of
 * source, idmapped. Its fd stays open (close-on-exec) for OP_ATTACH_TREE. */
void op_idmap_tree(const struct op *op) {
  const char *source = s_arg(op, 0);
  int recursive = u_arg(op, 1) != 0, idmap_recursive = u_arg(op, 2) != 0;
  if (ntrees >= MAX_TREES) fail("idmapped mount", source, E2BIG, "too many idmapped mounts");
  int userns = userns_with_maps(s_arg(op, 3), s_arg(op, 4));
  int tree = open_tree_fd(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
  if (tree < 0) fail("idmapped mount: open source", source, errno, NULL);
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns};
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | (idmap_recursive ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0)
    fail("idmapped mount: mount_setattr MOUNT_ATTR_IDMAP", source, errno, NULL);
  close(userns);
  trees[ntrees++] = tree;
}

/* [tree (the n-th OP_IDMAP_TREE), target, create] */
void op_attach_tree(const struct op *op) {
  uint64_t n = u_arg(op, 0);
  const char *target = s_arg(op, 1);
  if (n >= ntrees) fail("attach idmapped mount", target, EINVAL, "malformed plan: no such tree");
  int tfd = open_target(target, u_arg(op, 2));
  if (move_mount_fd(trees[n], tfd) < 0) fail("idmapped mount", target, errno, NULL);
  close(trees[n]);
  trees[n] = -1;
  close(tfd);
}

/* After clone3 with CLONE_NEWUSER: runts writes the init's uid_map and gid_map (and
 * setgroups), then answers MSG_IDMAPPED; only then may the init run anything, since
 * without a mapping it owns no id. Anything else (runts gone) ends the init. */
void wait_for_id_maps(pid_t init) {
  struct op reply;
  if (read_frame(&reply) == 0 && reply.code == MSG_IDMAPPED) return;
  kill(init, SIGKILL);
  while (waitpid(init, NULL, 0) < 0 && errno == EINTR) {}
  _exit(1);
}

/* In the init, once it is in its user namespace: its ids are still the host's, which the
 * namespace may not map; become its root before anything else. A new namespace maps root
 * (the planner checks); a joined one may not (EINVAL), and the ids then stay as they are. */
void become_userns_root(int required) {
  if (setresgid(0, 0, 0) < 0 && (required || errno != EINVAL)) fail("become root in the user namespace", "setresgid", errno, NULL);
  if (setresuid(0, 0, 0) < 0 && (required || errno != EINVAL)) fail("become root in the user namespace", "setresuid", errno, NULL);
}
