/*
 * syscalls: attempts syscalls from inside a container and reports what each did, as one
 * JSON object, so that seccomp tests compare runts with runc syscall by syscall.
 * Build: gcc -static -O2 -Wall -Wextra -o syscalls syscalls.c
 *
 *   syscalls NAME...    each NAME is one attempt of the table below, run in a child of its
 *                       own; prints {"NAME": "ok" | "errno N" | "trap" | "signal N", ...}
 *                       ("trap": SIGSYS caught, as SCMP_ACT_TRAP delivers it;
 *                        "signal N": killed, as SCMP_ACT_KILL* does with SIGSYS = 31)
 *   syscalls list       the names of the table, one per line
 *
 * Arguments are chosen so that a syscall the filter lets through fails harmlessly (EFAULT,
 * EBADF, EINVAL...) or has no effect outside the child.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define X32_SYSCALL_BIT 0x40000000L

/* A path below 4 GiB (static, non-PIE binary), so that a 32-bit syscall can take it. */
static char dir_path[] = "/tmp/syscalls-probe-dir";

/* int 0x80: the i386 entry, as an x86 binary makes syscalls (audit arch AUDIT_ARCH_I386). */
static long x86_syscall(long nr, long a, long b) {
  long r;
  __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b) : "memory");
  if (r < 0 && r > -4096) {
    errno = (int)-r;
    return -1;
  }
  return r;
}

static long clone_flags(unsigned long flags) {
  long r = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
  if (r == 0) _exit(0);
  if (r > 0) waitpid((pid_t)r, NULL, 0);
  return r;
}

static long try_mkdir(void) {
  long r = syscall(SYS_mkdir, dir_path, 0755);
  if (r == 0) rmdir(dir_path);
  return r;
}

struct attempt {
  const char *name;
  long (*run)(void);
};

#define A(n, expr) static long a_##n(void) { return (long)(expr); }
A(getpid, syscall(SYS_getpid))
A(mkdirat, syscall(SYS_mkdirat, AT_FDCWD, "/proc/self/nonexistent/x", 0755))
A(chmod, syscall(SYS_chmod, "/nonexistent", 0755))
A(unshare_user, syscall(SYS_unshare, CLONE_NEWUSER))
A(unshare_mount, syscall(SYS_unshare, CLONE_NEWNS))
A(unshare_net, syscall(SYS_unshare, CLONE_NEWNET))
A(clone_newuts, clone_flags(CLONE_NEWUTS))
A(clone_newuser, clone_flags(CLONE_NEWUSER))
A(clone_plain, clone_flags(0))
A(clone3, syscall(SYS_clone3, NULL, 0))
A(mount, syscall(SYS_mount, "none", "/nonexistent", "tmpfs", 0, NULL))
A(umount2, syscall(SYS_umount2, "/nonexistent", 0))
A(pivot_root, syscall(SYS_pivot_root, "/nonexistent", "/nonexistent"))
A(chroot, syscall(SYS_chroot, "/nonexistent"))
A(keyctl, syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* SESSION */, 0))
A(add_key, syscall(SYS_add_key, NULL, NULL, NULL, 0, 0))
A(request_key, syscall(SYS_request_key, NULL, NULL, NULL, 0))
A(ptrace, syscall(SYS_ptrace, 0 /* TRACEME */, 0, 0, 0))
A(personality_query, syscall(SYS_personality, 0xffffffffUL))
A(personality_linux, syscall(SYS_personality, 0))
A(personality_linux32, syscall(SYS_personality, 8))
A(personality_svr4, syscall(SYS_personality, 0x0001 | 0x0400000))
A(socket_inet, syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0))
A(socket_unix, syscall(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0))
A(socket_netlink_route, syscall(SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0))
A(socket_netlink_audit, syscall(SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 9))
A(socket_packet, syscall(SYS_socket, AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0))
A(acct, syscall(SYS_acct, "/nonexistent"))
A(reboot, syscall(SYS_reboot, 0, 0, 0, NULL))
A(swapon, syscall(SYS_swapon, "/nonexistent", 0))
A(setns, syscall(SYS_setns, -1L /* all 64 bits set */, 0))
A(bpf, syscall(SYS_bpf, -1, NULL, 0))
A(perf_event_open, syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0))
A(open_by_handle_at, syscall(SYS_open_by_handle_at, -1, NULL, 0))
A(kexec_load, syscall(SYS_kexec_load, 0, 0, NULL, 0))
A(init_module, syscall(SYS_init_module, NULL, 0, ""))
A(delete_module, syscall(SYS_delete_module, "", 0))
A(clock_settime, syscall(SYS_clock_settime, 0, NULL))
A(settimeofday, syscall(SYS_settimeofday, NULL, NULL))
A(ioperm, syscall(SYS_ioperm, 0, 0, 0))
A(syslog, syscall(SYS_syslog, 10 /* SIZE_BUFFER */, NULL, 0))
A(userfaultfd, syscall(SYS_userfaultfd, 0x7fffffff))
A(quotactl, syscall(SYS_quotactl, 0, NULL, 0, NULL))
A(lookup_dcookie, syscall(SYS_lookup_dcookie, 0, NULL, 0))
A(fanotify_init, syscall(SYS_fanotify_init, 0xffffffff, 0))
A(io_uring_setup, syscall(SYS_io_uring_setup, 0, NULL))
A(uname, syscall(SYS_uname, NULL))
A(futex_waitv, syscall(449 /* futex_waitv, newer than some profiles */, NULL, 0, 0, NULL, 0))
A(futex_waitv_x86, x86_syscall(449, 0, 0))
A(getpid_x86, x86_syscall(20 /* i386 getpid */, 0, 0))
A(mkdir_x86, x86_syscall(39 /* i386 mkdir */, (long)(uintptr_t)dir_path, 0755))
A(personality_svr4_x86, x86_syscall(136 /* i386 personality */, 0x0001 | 0x0400000, 0))
A(getpid_x32, syscall(X32_SYSCALL_BIT | SYS_getpid))
A(mkdir_x32, syscall(X32_SYSCALL_BIT | SYS_mkdir, dir_path, 0755))
#undef A

static const struct attempt attempts[] = {
#define E(n) {#n, a_##n},
    E(getpid) {"mkdir", try_mkdir}, E(mkdirat) E(chmod) E(unshare_user) E(unshare_mount) E(unshare_net)
    E(clone_newuts) E(clone_newuser) E(clone_plain) E(clone3) E(mount) E(umount2) E(pivot_root) E(chroot)
    E(keyctl) E(add_key) E(request_key) E(ptrace) E(personality_query) E(personality_linux)
    E(personality_linux32) E(personality_svr4) E(socket_inet) E(socket_unix) E(socket_netlink_route)
    E(socket_netlink_audit) E(socket_packet) E(acct) E(reboot) E(swapon) E(setns) E(bpf) E(perf_event_open)
    E(open_by_handle_at) E(kexec_load) E(init_module) E(delete_module) E(clock_settime) E(settimeofday)
    E(ioperm) E(syslog) E(userfaultfd) E(quotactl) E(lookup_dcookie) E(fanotify_init) E(io_uring_setup)
    E(uname) E(futex_waitv) E(futex_waitv_x86) E(getpid_x86) E(mkdir_x86) E(personality_svr4_x86) E(getpid_x32) E(mkdir_x32)
#undef E
};

#define EXIT_TRAPPED 250
#define EXIT_OK 251

static void on_sigsys(int sig) {
  (void)sig;
  _exit(EXIT_TRAPPED);
}

static const struct attempt *find(const char *name) {
  for (size_t i = 0; i < sizeof attempts / sizeof *attempts; i++)
    if (strcmp(attempts[i].name, name) == 0) return &attempts[i];
  return NULL;
}

/* Runs one attempt in a child: its exit status says what happened. */
static void report(const struct attempt *a) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) {
    printf("\"fork failed: errno %d\"", errno);
    return;
  }
  if (pid == 0) {
    signal(SIGSYS, on_sigsys);
    errno = 0;
    long r = a->run();
    _exit(r >= 0 ? EXIT_OK : (errno & 0xff));
  }
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
  if (WIFSIGNALED(st)) printf("\"signal %d\"", WTERMSIG(st));
  else if (WEXITSTATUS(st) == EXIT_OK) printf("\"ok\"");
  else if (WEXITSTATUS(st) == EXIT_TRAPPED) printf("\"trap\"");
  else printf("\"errno %d\"", WEXITSTATUS(st));
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "list") == 0) {
    for (size_t i = 0; i < sizeof attempts / sizeof *attempts; i++) puts(attempts[i].name);
    return 0;
  }
  if (argc < 2) {
    fprintf(stderr, "usage: syscalls NAME... | syscalls list\n");
    return 2;
  }
  putchar('{');
  for (int i = 1; i < argc; i++) {
    const struct attempt *a = find(argv[i]);
    if (!a) {
      fprintf(stderr, "syscalls: unknown attempt %s\n", argv[i]);
      return 2;
    }
    printf("%s\"%s\":", i > 1 ? "," : "", a->name);
    report(a);
  }
  puts("}");
  return 0;
}
