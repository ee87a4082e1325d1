/* runts-init: linux.memoryPolicy. set_mempolicy(2) applies to the calling thread and is
 * inherited across fork and execve: the init sets it before it execs the process. */
#include "init.h"

void op_mempolicy(const struct op *op) {
  uint64_t mode = u_arg(op, 0);
  if (op->argc < 2 || op->args[1].len % 8) fail("set_mempolicy", "", EPROTO, "malformed node mask");
  const struct arg *mask = &op->args[1];
  /* maxnode counts one past the last bit the kernel reads (it reads maxnode - 1 bits). */
  unsigned long maxnode = mask->len ? (unsigned long)mask->len * 8 + 1 : 0;
  if (syscall(SYS_set_mempolicy, (int)mode, mask->len ? (const unsigned long *)mask->data : NULL, maxnode) < 0)
    fail("set_mempolicy", "", errno, NULL);
}
