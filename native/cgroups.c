/* runts-init: cgroup v1 placement (OP_CGROUP_JOIN) and the late cgroup namespace. */
#include "init.h"

static int *joinfds;
static uint32_t njoinfd;
static const struct op *joinop;

/* The parent, before any setns: the `tasks` file of each v1 hierarchy, opened on the host. */
void cgroup_join_prepare(const struct op *ops, uint32_t nops) {
  for (uint32_t i = 1; i < nops; i++) {
    if (ops[i].code != OP_CGROUP_JOIN) continue;
    if (joinop) fail("plan", "", EPROTO, "more than one cgroup join");
    cur_index = i;
    joinop = &ops[i];
    joinfds = calloc(ops[i].argc ? ops[i].argc : 1, sizeof(int));
    if (!joinfds) fail("cgroup join", "", ENOMEM, NULL);
    for (; njoinfd < ops[i].argc; njoinfd++) {
      const char *path = s_arg(&ops[i], njoinfd);
      joinfds[njoinfd] = open(path, O_WRONLY | O_CLOEXEC);
      if (joinfds[njoinfd] < 0) fail("open cgroup", path, errno, NULL);
    }
  }
}

/* The new process, first of all: its own (only) thread, written as "0". The kernel then
 * skips the global threadgroup lock, whose RCU grace period moving another process's pid
 * costs (10-50 ms on a loaded host). */
void cgroup_join(void) {
  for (uint32_t k = 0; k < njoinfd; k++) {
    if (write(joinfds[k], "0", 1) != 1) fail("join cgroup", s_arg(joinop, k), errno, "writing the process to tasks");
    close(joinfds[k]);
  }
  njoinfd = 0;
}

/* The parent, after the clone. */
void cgroup_join_close(void) {
  for (uint32_t k = 0; k < njoinfd; k++) close(joinfds[k]);
  free(joinfds);
}

/* cgroup v1: a cgroup namespace is rooted at the cgroups the task is in when it is made;
 * the init is in its v1 cgroups only once it joined them (cgroup_join), so the namespace is
 * unshared here, as runc's init does, not by clone3. */
void op_unshare_cgroupns(const struct op *op) {
  (void)op;
  if (unshare(CLONE_NEWCGROUP) < 0) fail("unshare cgroup namespace", "", errno, NULL);
}
