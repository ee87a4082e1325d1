/* runts-init: cgroup steps the init takes itself. (OP_CGROUP_JOIN is the parent's: main.c.) */
#include "init.h"

/* cgroup v1: a cgroup namespace is rooted at the cgroups the task is in when it is made;
 * the init is in its v1 cgroups only once the parent has written its pid (OP_CGROUP_JOIN),
 * so the namespace is unshared here, as runc's init does, not by clone3. */
void op_unshare_cgroupns(const struct op *op) {
  (void)op;
  if (unshare(CLONE_NEWCGROUP) < 0) fail("unshare cgroup namespace", "", errno, NULL);
}
