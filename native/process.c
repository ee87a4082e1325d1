/* runts-init: Process attributes: sysctl files, capabilities, user and groups, rlimits, cwd,
 * umask, no_new_privs, personality, scheduler, I/O priority, affinity,
 * hostname and domain name. */
#include "init.h"

void op_write_file(const struct op *op) {
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

void op_caps(const struct op *op) {
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

void op_user(const struct op *op) {
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

void op_rlimit(const struct op *op) {
  struct rlimit rl = {.rlim_cur = (rlim_t)u_arg(op, 1), .rlim_max = (rlim_t)u_arg(op, 2)};
  int resource = (int)u_arg(op, 0);
  if (setrlimit(resource, &rl) < 0) {
    char detail[64];
    snprintf(detail, sizeof detail, "error setting rlimit type %d", resource);
    fail("setrlimit", "", errno, detail);
  }
}

void op_chdir(const struct op *op) {
  const char *path = s_arg(op, 0);
  if (chdir(path) < 0) fail("chdir to cwd", path, errno, NULL);
  /* The directory must be inside the root: a cwd reached through a leaked fd
   * would show up as unreachable (CVE-2024-21626). */
  char buf[4096];
  if (!getcwd(buf, sizeof buf)) fail("getcwd", path, errno, "cwd is outside the container root");
}

void op_affinity(const struct op *op) {
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

void op_sched(const struct op *op) {
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

void op_hostname(const struct op *op) {
  const char *n = s_arg(op, 0);
  if (sethostname(n, strlen(n)) < 0) fail("sethostname", n, errno, NULL);
}

void op_domainname(const struct op *op) {
  const char *n = s_arg(op, 0);
  if (setdomainname(n, strlen(n)) < 0) fail("setdomainname", n, errno, NULL);
}

void op_umask(const struct op *op) { umask((mode_t)u_arg(op, 0)); }

void op_no_new_privs(const struct op *op) {
  (void)op;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail("prctl no_new_privs", "", errno, NULL);
}

void op_personality(const struct op *op) {
  if (personality((unsigned long)u_arg(op, 0)) < 0) fail("personality", "", errno, NULL);
}

void op_ioprio(const struct op *op) {
  if (syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, (int)u_arg(op, 0)) < 0) fail("ioprio_set", "", errno, NULL);
}
