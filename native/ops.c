/* runts-init: The op table: OP_* code -> handler. OP_CLONE is the parent's (main.c). */
#include "init.h"

/* The ops the init runs; OP_CLONE is the parent's. An op without a handler is refused
 * before anything is done. */
void (*const handlers[])(const struct op *) = {
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
    [OP_PIDFD_SOCKET] = op_parent_side,
    [OP_LISTEN_PID] = op_listen_pid,
    [OP_CONSOLE] = op_console,
    [OP_MEMPOLICY] = op_mempolicy,
    [OP_ATTACH_TREE] = op_attach_tree,
};

/* The ops the parent runs on the host, before OP_CLONE. */
void (*const parent_handlers[])(const struct op *) = {
    [OP_TIME_OFFSETS] = op_time_offsets,
    [OP_IDMAP_TREE] = op_idmap_tree,
};

int known_op(uint32_t code) { return code < sizeof handlers / sizeof *handlers && handlers[code]; }

int known_parent_op(uint32_t code) { return code < sizeof parent_handlers / sizeof *parent_handlers && parent_handlers[code]; }
