/* The wire protocol between runts (TypeScript) and runts-init. The TypeScript twin
 * of this file is src/helper/protocol.ts: change both together.
 *
 * Every message is a frame: u32 length (little endian) of the rest, then
 *   u32 type, u32 argc, argc x (u32 len, len bytes).
 * Strings carry no NUL; integers are 8-byte little-endian fields.
 * The plan is one frame of type MSG_PLAN whose args are the ops, each op itself
 * encoded as a frame payload (type = opcode). */
#ifndef RUNTS_PROTOCOL_H
#define RUNTS_PROTOCOL_H

#define MAX_FRAME (16u << 20)
#define MAX_ARGS 65536u

/* runts -> helper */
enum {
  MSG_PLAN = 1,
  MSG_CONTINUE = 2, /* answer to MSG_SYNC: [hook states...] */
  MSG_ABORT = 3,
  MSG_IDMAPPED = 50, /* after MSG_PID of an init in a new user namespace: its id maps are written */
};

/* helper -> runts */
enum {
  MSG_PID = 101,   /* [pid] */
  MSG_ERROR = 102, /* [op, path, errno, detail, index of the op in the plan] */
  MSG_SYNC = 103,  /* [name] */
  MSG_READY = 104, /* [] */
  MSG_SECCOMP_FD = 130, /* [] then one byte carrying the notify fd (SCM_RIGHTS) */
};

/* Ops. A plan is the parent's ops (OP_TIME_OFFSETS, OP_IDMAP_TREE: run on the host
 * before clone3), then OP_CLONE; the rest run in the container init, in order. */
enum {
  OP_CLONE = 1,        /* (or OP_JOIN) [flags, cgroupDir, stateDir, rootfs, foreground (1 wait | 2 subreaper), initialCpuSet, (nsType, nsPath)...]
                        * every path is opened (the rootfs tree cloned) before any setns */
  OP_SYNC = 2,         /* [name] */
  OP_READY = 3,        /* [] */
  OP_ROOTFS = 4,       /* [propagation, cloneHere] make / private/slave, attach the rootfs tree at its path
                        * (cloneHere: the init clones it, not the parent; rootless, in a new mount namespace) */
  OP_MOUNT = 5,        /* [source, target, fstype, flags, data, create: 1 dir | 2 file | 4 no symlinks,
                          cover: if target existed, 1 give the new root its mode | 2 copy its contents in] */
  OP_BIND = 6,         /* [source, target, recursive, create] */
  OP_SETATTR = 7,      /* [target, attrSet, attrClr, propagation, recursive] */
  OP_MKNOD = 8,        /* [path, mode, major, minor, uid, gid, hostFallback] replaces the image's entry */
  OP_BIND_DEV = 9,     /* [path, hostPath, type (S_IFCHR...), major, minor] hostPath must be that node */
  OP_SYMLINK = 10,     /* [target, linkpath] replaces the image's entry */
  OP_PIVOT_ROOT = 11,  /* [] */
  OP_MOVE_ROOT = 12,   /* [] (--no-pivot: MS_MOVE + chroot) */
  OP_MASK = 13,        /* [path] */
  OP_READONLY = 14,    /* [path] */
  OP_HOSTNAME = 15,    /* [name] */
  OP_DOMAINNAME = 16,  /* [name] */
  OP_WRITE_FILE = 17,  /* [path, value] (sysctl, oom_score_adj): path resolved in the container */
  OP_RLIMIT = 18,      /* [resource, soft, hard] */
  OP_USER = 19,        /* [uid, gid, groups...] */
  OP_UMASK = 20,       /* [mask] */
  OP_CAPS = 21,        /* [bounding, effective, permitted, inheritable, ambient, lastCap] */
  OP_NO_NEW_PRIVS = 22,/* [] */
  OP_CHDIR = 23,       /* [path] */
  OP_LOOKUP = 24,      /* [name, candidates...] pick the first executable regular file */
  OP_WAIT_START = 25,  /* [] block on <stateDir>/exec.fifo until `runts start` */
  OP_HOOK = 26,        /* [kind, stateIndex, path, timeout, nargs, args..., env...] */
  OP_EXEC = 27,        /* [preserveFds, nargs, args..., env...] */
  OP_REMOUNT_ROOT_RO = 28, /* [] */
  OP_PERSONALITY = 29, /* [domain] */
  OP_SECCOMP = 30,     /* [bpf bytes, seccomp(2) flags]: with SECCOMP_FILTER_FLAG_NEW_LISTENER
                        * the notify fd goes to runts (MSG_SECCOMP_FD) */
  OP_SCHED = 31,       /* [policy, priority, nice, flags, runtime, deadline, period] */
  OP_IOPRIO = 32,      /* [value] */
  OP_AFFINITY = 33,    /* [mask bytes] */
  OP_MKDIR = 34,       /* [path, mode] */
  OP_LOOPBACK_UP = 35, /* [] bring up lo in the container's new network namespace */
  /* exec (join.c) */
  OP_JOIN = 40,         /* [nsFlags, cgroupDir, initPid, initStartTime, foreground, initialCpuSet]
                         * a plan's first op instead of OP_CLONE: the cgroup is opened on the host, the
                         * init is pinned by a pidfd checked against its start time, then setns(pidfd,
                         * nsFlags) joins all its namespaces at once; the cgroup namespace is joined by
                         * the new process (CLONE_INTO_CGROUP is checked against the caller's) */
  OP_PIDFD_SOCKET = 41, /* [path, name] the parent connects to path before any setns and sends the new
                         * process's pidfd (CLONE_PIDFD) with SCM_RIGHTS, payload name (runc 1.2+) */
  OP_LISTEN_PID = 42,   /* [] OP_EXEC sets LISTEN_PID to the process's own pid (socket activation) */
  OP_CONSOLE = 50,     /* [mode, socketFd, height, width, mountConsole] the pty (bound onto /dev/console),
                        * the process's controlling terminal and stdio; the master sent over the socket */
  OP_MEMPOLICY = 51,   /* [mode | flags, node mask bytes] set_mempolicy (linux.memoryPolicy) */
  /* user and time namespaces (userns.c) */
  OP_TIME_OFFSETS = 80, /* parent: [offsets "clock secs nanosecs\n"...] unshare a time namespace for the init */
  OP_IDMAP_TREE = 81,   /* parent: [source, recursive, idmapRecursive, uidmap, gidmap] an idmapped detached clone */
  OP_ATTACH_TREE = 82,  /* [tree (n-th OP_IDMAP_TREE), target, create] */
};

/* OP_CONSOLE's mode */
enum {
  CONSOLE_SOCKET = 0,    /* socketFd is the console socket runts connected (--console-socket) */
  CONSOLE_RELAY = 1,     /* foreground run: runts-init's parent relays runts's stdio */
  CONSOLE_RELAY_RAW = 2, /* the same, with runts's stdin (a terminal) in raw mode */
};

#endif
