/*
 * probe: a tiny static program placed at /bin/probe in the test rootfs. It reports what a
 * process sees from inside a container, as JSON, so integration tests can compare runts
 * with runc.  Build: gcc -static -O2 -Wall -Wextra -o probe probe.c
 *
 *   probe info                 one JSON object describing this process (see test/lib/harness.ts ProbeInfo)
 *   probe stat PATH...         JSON array of lstat results
 *   probe read PATH            file contents on stdout ("errno N" on stderr, exit 1, on failure)
 *   probe write PATH DATA      open(O_WRONLY)+write; prints "ok" or "errno N"; exit 0 either way
 *   probe sysctl KEY           contents of /proc/sys/KEY (dots become slashes)
 *   probe sleep SECONDS        sleeps (fractions allowed), exits 0
 *   probe exit CODE            exits with CODE
 *   probe pause [READYFILE]    handles SIGTERM/SIGINT/SIGHUP/SIGUSR1/SIGUSR2; once handlers are
 *                              installed, creates READYFILE (if given); on a signal prints
 *                              "signal N" and exits 100+N
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ifaddrs.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* ---------- JSON output helpers ---------- */

static int need_comma;

static void jstr(const char *s) {
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"': fputs("\\\"", stdout); break;
    case '\\': fputs("\\\\", stdout); break;
    case '\n': fputs("\\n", stdout); break;
    case '\r': fputs("\\r", stdout); break;
    case '\t': fputs("\\t", stdout); break;
    case '\b': fputs("\\b", stdout); break;
    case '\f': fputs("\\f", stdout); break;
    default:
      if (*p < 0x20 || *p == 0x7f) printf("\\u%04x", *p);
      else putchar(*p);
    }
  }
  putchar('"');
}

static void sep(void) {
  if (need_comma) putchar(',');
  need_comma = 1;
}
static void key(const char *k) { sep(); jstr(k); putchar(':'); need_comma = 0; }
static void open_obj(void) { sep(); putchar('{'); need_comma = 0; }
static void close_obj(void) { putchar('}'); need_comma = 1; }
static void open_arr(void) { sep(); putchar('['); need_comma = 0; }
static void close_arr(void) { putchar(']'); need_comma = 1; }
static void vstr(const char *s) { sep(); jstr(s); }
static void vint(long long v) { sep(); printf("%lld", v); }
static void vuint(unsigned long long v) { sep(); printf("%llu", v); }
static void kstr(const char *k, const char *v) { key(k); vstr(v); }
static void kint(const char *k, long long v) { key(k); vint(v); }
static void kuint(const char *k, unsigned long long v) { key(k); vuint(v); }

/* ---------- small file helpers ---------- */

/* Reads a whole file into a malloc'd NUL-terminated buffer; NULL (errno set) on failure. */
static char *slurp(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (len + 1 >= cap) { cap *= 2; buf = realloc(buf, cap); }
    ssize_t n = read(fd, buf + len, cap - len - 1);
    if (n < 0) { if (errno == EINTR) continue; int e = errno; free(buf); close(fd); errno = e; return NULL; }
    if (n == 0) break;
    len += (size_t)n;
  }
  close(fd);
  buf[len] = 0;
  return buf;
}

/* Value of "Name:\t..." in /proc/self/status (whitespace-trimmed), into out. */
static int status_field(const char *status, const char *name, char *out, size_t outlen) {
  size_t nl = strlen(name);
  for (const char *line = status; line && *line;) {
    const char *end = strchr(line, '\n');
    size_t ll = end ? (size_t)(end - line) : strlen(line);
    if (ll > nl && strncmp(line, name, nl) == 0 && line[nl] == ':') {
      const char *v = line + nl + 1;
      while (v < line + ll && (*v == ' ' || *v == '\t')) v++;
      size_t vl = (size_t)(line + ll - v);
      while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) vl--;
      if (vl >= outlen) vl = outlen - 1;
      memcpy(out, v, vl);
      out[vl] = 0;
      return 0;
    }
    line = end ? end + 1 : NULL;
  }
  out[0] = 0;
  return -1;
}

static void errno_str(char *out, size_t len, int e) { snprintf(out, len, "errno %d", e); }

/* Decodes mountinfo octal escapes (\040 etc.) in place. */
static void unescape(char *s) {
  char *w = s;
  for (char *r = s; *r;) {
    if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
      *w++ = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));
      r += 4;
    } else {
      *w++ = *r++;
    }
  }
  *w = 0;
}

/* ---------- probe info ---------- */

static void info_mounts(void) {
  key("mounts");
  open_arr();
  char *mi = slurp("/proc/self/mountinfo");
  char *save = NULL;
  for (char *line = mi ? strtok_r(mi, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
    char *f[64];
    int n = 0;
    char *s2 = NULL;
    for (char *t = strtok_r(line, " ", &s2); t && n < 64; t = strtok_r(NULL, " ", &s2)) f[n++] = t;
    int dash = -1;
    for (int i = 6; i < n; i++) if (strcmp(f[i], "-") == 0) { dash = i; break; }
    if (n < 6 || dash < 0 || dash + 2 >= n) continue;
    open_obj();
    kint("id", atoll(f[0]));
    kint("parentId", atoll(f[1]));
    kstr("majorMinor", f[2]);
    unescape(f[3]); kstr("root", f[3]);
    unescape(f[4]); kstr("mountPoint", f[4]);
    kstr("options", f[5]);
    key("optional");
    open_arr();
    for (int i = 6; i < dash; i++) vstr(f[i]);
    close_arr();
    kstr("fsType", f[dash + 1]);
    unescape(f[dash + 2]); kstr("source", f[dash + 2]);
    kstr("superOptions", dash + 3 < n ? f[dash + 3] : "");
    close_obj();
  }
  free(mi);
  close_arr();
}

static void info_fds(void) {
  key("fds");
  open_arr();
  DIR *d = opendir("/proc/self/fd");
  if (d) {
    int self = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (e->d_name[0] == '.') continue;
      int fd = atoi(e->d_name);
      if (fd == self) continue;
      char p[64], target[4096];
      snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
      ssize_t l = readlink(p, target, sizeof target - 1);
      if (l < 0) errno_str(target, sizeof target, errno);
      else target[l] = 0;
      open_obj();
      kint("fd", fd);
      kstr("target", target);
      close_obj();
    }
    closedir(d);
  }
  close_arr();
}

static const struct { int res; const char *name; } rlimits[] = {
  {RLIMIT_CPU, "RLIMIT_CPU"}, {RLIMIT_FSIZE, "RLIMIT_FSIZE"}, {RLIMIT_DATA, "RLIMIT_DATA"},
  {RLIMIT_STACK, "RLIMIT_STACK"}, {RLIMIT_CORE, "RLIMIT_CORE"}, {RLIMIT_RSS, "RLIMIT_RSS"},
  {RLIMIT_NPROC, "RLIMIT_NPROC"}, {RLIMIT_NOFILE, "RLIMIT_NOFILE"}, {RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK"},
  {RLIMIT_AS, "RLIMIT_AS"}, {RLIMIT_LOCKS, "RLIMIT_LOCKS"}, {RLIMIT_SIGPENDING, "RLIMIT_SIGPENDING"},
  {RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE"}, {RLIMIT_NICE, "RLIMIT_NICE"}, {RLIMIT_RTPRIO, "RLIMIT_RTPRIO"},
  {RLIMIT_RTTIME, "RLIMIT_RTTIME"},
};

static void rlim_val(const char *k, rlim_t v) {
  key(k);
  if (v == RLIM_INFINITY) vstr("unlimited");
  else vuint((unsigned long long)v);
}

static void info_rlimits(void) {
  key("rlimits");
  open_obj();
  for (size_t i = 0; i < sizeof rlimits / sizeof rlimits[0]; i++) {
    struct rlimit rl;
    if (getrlimit(rlimits[i].res, &rl) != 0) continue;
    key(rlimits[i].name);
    open_obj();
    rlim_val("soft", rl.rlim_cur);
    rlim_val("hard", rl.rlim_max);
    close_obj();
  }
  close_obj();
}

static int prefix_len(const unsigned char *b, size_t n) {
  int c = 0;
  for (size_t i = 0; i < n; i++)
    for (int bit = 7; bit >= 0; bit--)
      if (b[i] & (1u << bit)) c++;
  return c;
}

static void info_ips(void) {
  key("ips");
  open_arr();
  struct ifaddrs *ifs = NULL;
  if (getifaddrs(&ifs) == 0) {
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
      if (!i->ifa_addr) continue;
      int fam = i->ifa_addr->sa_family;
      char addr[INET6_ADDRSTRLEN], out[256];
      int plen = 0;
      if (fam == AF_INET) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, addr, sizeof addr);
        if (i->ifa_netmask)
          plen = prefix_len((const unsigned char *)&((struct sockaddr_in *)i->ifa_netmask)->sin_addr, 4);
      } else if (fam == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, addr, sizeof addr);
        if (i->ifa_netmask)
          plen = prefix_len((const unsigned char *)&((struct sockaddr_in6 *)i->ifa_netmask)->sin6_addr, 16);
      } else {
        continue;
      }
      snprintf(out, sizeof out, "%s %s/%d", i->ifa_name, addr, plen);
      vstr(out);
    }
    freeifaddrs(ifs);
  }
  close_arr();
}

/* struct sched_attr from linux/sched/types.h, defined here to stay header-independent. */
struct probe_sched_attr {
  uint32_t size, sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime, sched_deadline, sched_period;
  uint32_t sched_util_min, sched_util_max;
};

static const char *policy_name(unsigned p) {
  switch (p) {
  case 0: return "SCHED_OTHER";
  case 1: return "SCHED_FIFO";
  case 2: return "SCHED_RR";
  case 3: return "SCHED_BATCH";
  case 5: return "SCHED_IDLE";
  case 6: return "SCHED_DEADLINE";
  default: return "unknown";
  }
}

static void info_sched(void) {
  key("sched");
  open_obj();
  struct probe_sched_attr a;
  memset(&a, 0, sizeof a);
  if (syscall(SYS_sched_getattr, 0, &a, (unsigned)sizeof a, 0) == 0) {
    kstr("policy", policy_name(a.sched_policy));
    kint("priority", a.sched_priority);
    kint("nice", a.sched_nice);
    kuint("flags", a.sched_flags);
    kuint("runtime", a.sched_runtime);
    kuint("deadline", a.sched_deadline);
    kuint("period", a.sched_period);
  } else {
    struct sched_param sp = {0};
    int pol = sched_getscheduler(0);
    sched_getparam(0, &sp);
    kstr("policy", pol < 0 ? "unknown" : policy_name((unsigned)pol & ~(unsigned)SCHED_RESET_ON_FORK));
    kint("priority", sp.sched_priority);
  }
  close_obj();
}

static void info_cpus(void) {
  cpu_set_t set;
  char buf[4096] = "";
  size_t len = 0;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; c++) {
      if (!CPU_ISSET(c, &set)) continue;
      int e = c;
      while (e + 1 < CPU_SETSIZE && CPU_ISSET(e + 1, &set)) e++;
      int n = e == c ? snprintf(buf + len, sizeof buf - len, "%s%d", len ? "," : "", c)
                     : snprintf(buf + len, sizeof buf - len, "%s%d-%d", len ? "," : "", c, e);
      if (n > 0 && (size_t)n < sizeof buf - len) len += (size_t)n;
      c = e;
    }
  } else {
    errno_str(buf, sizeof buf, errno);
  }
  kstr("cpus", buf);
}

static void info_ns(void) {
  static const char *names[] = {"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"};
  key("ns");
  open_obj();
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char p[64], t[256];
    snprintf(p, sizeof p, "/proc/self/ns/%s", names[i]);
    ssize_t l = readlink(p, t, sizeof t - 1);
    if (l < 0) continue;
    t[l] = 0;
    kstr(names[i], t);
  }
  close_obj();
}

static int cmd_info(void) {
  char *status = slurp("/proc/self/status");
  char v[256], buf[4096];
  open_obj();
  kint("pid", getpid());
  kint("ppid", getppid());
  kint("uid", getuid());
  kint("gid", getgid());
  kint("euid", geteuid());
  kint("egid", getegid());

  key("groups");
  open_arr();
  gid_t groups[1024];
  int ng = getgroups(1024, groups);
  for (int i = 0; i < ng; i++) vint(groups[i]);
  close_arr();

  status_field(status ? status : "", "Umask", v, sizeof v);
  kstr("umask", v);
  if (getcwd(buf, sizeof buf)) kstr("cwd", buf);
  else { errno_str(buf, sizeof buf, errno); kstr("cwd", buf); }

  struct utsname u;
  uname(&u);
  kstr("hostname", u.nodename);
  kstr("domainname", u.domainname);

  ssize_t l = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (l < 0) errno_str(buf, sizeof buf, errno);
  else buf[l] = 0;
  kstr("exe", buf);

  static const char *capf[][2] = {{"inh", "CapInh"}, {"prm", "CapPrm"}, {"eff", "CapEff"}, {"bnd", "CapBnd"}, {"amb", "CapAmb"}};
  key("caps");
  open_obj();
  for (int i = 0; i < 5; i++) {
    status_field(status ? status : "", capf[i][1], v, sizeof v);
    kstr(capf[i][0], v);
  }
  close_obj();
  status_field(status ? status : "", "NoNewPrivs", v, sizeof v);
  kint("noNewPrivs", atoll(v));
  status_field(status ? status : "", "Seccomp", v, sizeof v);
  kint("seccomp", atoll(v));
  if (status_field(status ? status : "", "Seccomp_filters", v, sizeof v) == 0) kint("seccompFilters", atoll(v));
  status_field(status ? status : "", "SigBlk", v, sizeof v);
  kstr("sigBlk", v);
  status_field(status ? status : "", "SigIgn", v, sizeof v);
  kstr("sigIgn", v);
  free(status);

  char *oom = slurp("/proc/self/oom_score_adj");
  kint("oomScoreAdj", oom ? atoll(oom) : 0);
  free(oom);

  key("cgroup");
  open_arr();
  char *cg = slurp("/proc/self/cgroup");
  char *save = NULL;
  for (char *line = cg ? strtok_r(cg, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) vstr(line);
  free(cg);
  close_arr();

  info_mounts();
  info_fds();
  info_rlimits();

  key("env");
  open_arr();
  for (char **e = environ; e && *e; e++) vstr(*e);
  close_arr();

  info_ips();
  kint("personality", personality(0xffffffff));
  errno = 0;
  int nice = getpriority(PRIO_PROCESS, 0);
  kint("nice", nice);
  kint("ioprio", syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0));
  info_sched();
  info_cpus();
  info_ns();
  close_obj();
  putchar('\n');
  return fflush(stdout) == 0 ? 0 : 1;
}

/* ---------- other subcommands ---------- */

static int cmd_stat(int argc, char **argv) {
  open_arr();
  for (int i = 0; i < argc; i++) {
    struct stat st;
    open_obj();
    kstr("path", argv[i]);
    if (lstat(argv[i], &st) != 0) {
      key("exists"); sep(); fputs("false", stdout);
      kint("errno", errno);
      close_obj();
      continue;
    }
    key("exists"); sep(); fputs("true", stdout);
    const char *t = S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "dir" : S_ISCHR(st.st_mode) ? "chr"
                  : S_ISBLK(st.st_mode) ? "blk" : S_ISFIFO(st.st_mode) ? "fifo" : S_ISSOCK(st.st_mode) ? "sock"
                  : S_ISLNK(st.st_mode) ? "link" : "unknown";
    kstr("type", t);
    char m[16];
    snprintf(m, sizeof m, "%04o", (unsigned)(st.st_mode & 07777));
    kstr("mode", m);
    kint("uid", st.st_uid);
    kint("gid", st.st_gid);
    kint("major", major(st.st_rdev));
    kint("minor", minor(st.st_rdev));
    kint("size", st.st_size);
    if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t l = readlink(argv[i], target, sizeof target - 1);
      if (l >= 0) { target[l] = 0; kstr("target", target); }
    }
    close_obj();
  }
  close_arr();
  putchar('\n');
  return 0;
}

static int cmd_read(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) { fprintf(stderr, "errno %d\n", errno); return 1; }
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) { if (errno == EINTR) continue; fprintf(stderr, "errno %d\n", errno); return 1; }
    if (n == 0) break;
    if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) return 1;
  }
  close(fd);
  return fflush(stdout) == 0 ? 0 : 1;
}

static int cmd_write(const char *path, const char *data) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) { printf("errno %d\n", errno); return 0; }
  size_t len = strlen(data), off = 0;
  while (off < len) {
    ssize_t n = write(fd, data + off, len - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      printf("errno %d\n", errno);
      close(fd);
      return 0;
    }
    off += (size_t)n;
  }
  if (close(fd) != 0) { printf("errno %d\n", errno); return 0; }
  printf("ok\n");
  return 0;
}

static int cmd_sysctl(const char *k) {
  char path[4096];
  int n = snprintf(path, sizeof path, "/proc/sys/%s", k);
  if (n < 0 || (size_t)n >= sizeof path) { fprintf(stderr, "key too long\n"); return 2; }
  for (char *p = path + strlen("/proc/sys/"); *p; p++) if (*p == '.') *p = '/';
  return cmd_read(path);
}

static volatile sig_atomic_t got_signal;
static void on_signal(int s) { got_signal = s; }

static int cmd_pause(const char *readyfile) {
  static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2};
  sigset_t block, old;
  sigemptyset(&block);
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(sigs[i], &sa, NULL);
    sigaddset(&block, sigs[i]);
  }
  sigprocmask(SIG_BLOCK, &block, &old);
  if (readyfile) {
    int fd = open(readyfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) { fprintf(stderr, "readyfile: errno %d\n", errno); return 2; }
    close(fd);
  }
  sigset_t wait = old;
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigdelset(&wait, sigs[i]);
  while (!got_signal) sigsuspend(&wait);
  printf("signal %d\n", (int)got_signal);
  fflush(stdout);
  return 100 + got_signal;
}

static int cmd_sleep(const char *arg) {
  double s = strtod(arg, NULL);
  if (s < 0) s = 0;
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
  return 0;
}

static int usage(void) {
  fprintf(stderr, "usage: probe info | stat PATH... | read PATH | write PATH DATA | sysctl KEY |"
                  " sleep SECONDS | exit CODE | pause [READYFILE]\n");
  return 2;
}

int main(int argc, char **argv) {
  if (argc < 2) return usage();
  const char *c = argv[1];
  if (strcmp(c, "info") == 0) return cmd_info();
  if (strcmp(c, "stat") == 0) return cmd_stat(argc - 2, argv + 2);
  if (strcmp(c, "read") == 0 && argc == 3) return cmd_read(argv[2]);
  if (strcmp(c, "write") == 0 && argc == 4) return cmd_write(argv[2], argv[3]);
  if (strcmp(c, "sysctl") == 0 && argc == 3) return cmd_sysctl(argv[2]);
  if (strcmp(c, "sleep") == 0 && argc == 3) return cmd_sleep(argv[2]);
  if (strcmp(c, "exit") == 0 && argc == 3) return atoi(argv[2]);
  if (strcmp(c, "pause") == 0 && argc <= 3) return cmd_pause(argc == 3 ? argv[2] : NULL);
  return usage();
}
