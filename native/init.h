/* Shared by the files of runts-init: the parsed plan, the process-wide state of the
 * container init, and the functions one file offers the others. Each file is one concern
 * (frames, paths, mounts, devices, process, seccomp, lifecycle, exec, net, ops, main). */
#ifndef RUNTS_INIT_H
#define RUNTS_INIT_H
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
#include <linux/mount.h>
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

/* The process-wide state of the init (defined in main.c, cur_* in frames.c). */
extern int sock;     /* the control socket to runts */
extern int rootfd;   /* the container's root: the rootfs mount, once attached */
extern int roottree; /* detached copy of the rootfs tree, cloned on the host before any setns */
extern const char *rootfs_path; /* where the rootfs is attached in the container's mount namespace */
extern int statedir; /* the container's state directory on the host (O_PATH) */
extern struct arg hook_states[2]; /* state JSON for createContainer (0) and startContainer (1) hooks */
extern int ready_sent;    /* after READY runts no longer listens on the socket */
extern int startfifo; /* exec.fifo, from WAIT_START until execve closes it (O_CLOEXEC) */
extern const char *exec_path; /* chosen by OP_LOOKUP */
extern uint64_t cur_index; /* the plan op being run, for errors */
extern const char *cur_op;
extern void (*const handlers[])(const struct op *);

/* open_target's create argument (OP_MOUNT, OP_BIND) */
#define TARGET_DIR 1
#define TARGET_FILE 2
#define TARGET_NO_SYMLINKS 4

/* OP_MOUNT's cover argument */
#define COVER_MODE 1
#define COVER_CONTENTS 2

/* OP_CLONE's foreground field: wait for the process and exit with its status; also reap
 * what is orphaned to this process (run's subreaper). */
#define FOREGROUND_WAIT 1
#define FOREGROUND_SUBREAPER 2

/* What the parent prepares for clone3: by OP_CLONE (main.c) or OP_JOIN (join.c). */
struct birth {
  uint64_t flags;       /* CLONE_NEW* for clone3 */
  const char *cgroup;   /* for errors */
  int cgfd;             /* CLONE_INTO_CGROUP target, or -1 */
  int foreground;       /* FOREGROUND_* bits */
  int initfd;           /* OP_JOIN: pidfd of the container's init, or -1 */
  uint64_t child_setns; /* namespaces the new process joins through initfd itself */
  int joined_userns;    /* OP_CLONE joined an existing user namespace by path */
};

/* main.c */
void set_initial_affinity(const struct arg *cpus);
int open_cgroup(const char *cgroup);

/* join.c */
void prepare_join(const struct op *join, struct birth *b);
int connect_pidfd_socket(const char *path);
void send_pidfd(int sock, int pidfd, const char *name);
void op_parent_side(const struct op *op);
void op_listen_pid(const struct op *op);
extern int listen_pid_self;

/* frames.c */
void __attribute__((noreturn)) fail(const char *op, const char *path, int err, const char *detail);
int parse_frame(const char *p, uint32_t len, struct op *out);
int read_frame(struct op *out);
void send_msg(uint32_t type, uint32_t argc, const char *const *data, const uint32_t *lens);
void send_str(uint32_t type, const char *s);
void send_u64(uint32_t type, uint64_t v);
const char *s_arg(const struct op *op, uint32_t i);
uint64_t u_arg(const struct op *op, uint32_t i);
char **v_arg(const struct op *op, uint32_t from, uint64_t n);

/* paths.c */
int open_in_root(const char *path, int flags);
int open_parent(const char *op, const char *path, const char **name, int mkdirs);
/* open_parent with extra openat2 RESOLVE_* flags (RESOLVE_NO_SYMLINKS: refused with a clear error). */
int open_parent_ex(const char *op, const char *path, const char **name, int mkdirs, uint64_t resolve);
int open_target(const char *target, uint64_t create);
void mkdir_in_root(const char *path, mode_t mode);
void fd_path(char *buf, size_t len, int fd);

/* mounts.c */
int open_tree_fd(int dfd, const char *path, unsigned flags);
int move_mount_fd(int from, int to);
void op_rootfs(const struct op *op);
void op_mount(const struct op *op);
void op_bind(const struct op *op);
void op_setattr(const struct op *op);
void op_pivot_root(const struct op *op);
void op_move_root(const struct op *op);
void op_mask(const struct op *op);
void op_readonly(const struct op *op);
void op_remount_root_ro(const struct op *op);

/* devices.c */
void op_mknod(const struct op *op);
void op_bind_dev(const struct op *op);
void op_symlink(const struct op *op);
void op_mkdir(const struct op *op);

/* process.c */
void op_write_file(const struct op *op);
void op_caps(const struct op *op);
void op_user(const struct op *op);
void op_rlimit(const struct op *op);
void op_chdir(const struct op *op);
void op_umask(const struct op *op);
void op_no_new_privs(const struct op *op);
void op_personality(const struct op *op);
void op_sched(const struct op *op);
void op_ioprio(const struct op *op);
void op_affinity(const struct op *op);
void op_hostname(const struct op *op);
void op_domainname(const struct op *op);

/* lifecycle.c */
void op_sync(const struct op *op);
void op_ready(const struct op *op);
void op_wait_start(const struct op *op);
void op_hook(const struct op *op);

/* seccomp.c */
extern int seccomp_loaded;
void op_seccomp(const struct op *op);

/* exec.c */
void op_lookup(const struct op *op);
void op_exec(const struct op *op);

/* net.c */
void op_loopback_up(const struct op *op);

/* console.c */
int send_fd(int sock_fd, const char *name, int fd);
void console_prepare(const struct op *ops, uint32_t nops);
void console_parent_after_clone(void);
int console_relaying(void);
int console_relay(pid_t pid);
void op_console(const struct op *op);

/* mempolicy.c */
void op_mempolicy(const struct op *op);
/* userns.c: the parent's ops (before clone3), and the init's half of idmapped mounts */
#define MAX_TREES 256
void op_time_offsets(const struct op *op);
void op_idmap_tree(const struct op *op);
void op_attach_tree(const struct op *op);
void close_trees(void);
void wait_for_id_maps(pid_t init);
void become_userns_root(int required);

/* ops.c */
int known_op(uint32_t code);
int known_parent_op(uint32_t code);
extern void (*const parent_handlers[])(const struct op *);

#endif
