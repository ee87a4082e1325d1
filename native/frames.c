/* runts-init: Frames on the control socket and exec.fifo, bounds-checked op arguments, fail(). */
#include "init.h"

static void put_u32(char *p, uint32_t v) { memcpy(p, &v, 4); }

/* Writes one frame to fd: the control socket or, after WAIT_START, exec.fifo. */
static int send_frame(int fd, uint32_t type, uint32_t argc, const char *const *data, const uint32_t *lens) {
  size_t total = 8;
  for (uint32_t i = 0; i < argc; i++) total += 4 + lens[i];
  char *buf = malloc(total + 4);
  if (!buf) _exit(120);
  put_u32(buf, (uint32_t)total);
  put_u32(buf + 4, type);
  put_u32(buf + 8, argc);
  size_t off = 12;
  for (uint32_t i = 0; i < argc; i++) {
    put_u32(buf + off, lens[i]);
    memcpy(buf + off + 4, data[i], lens[i]);
    off += 4 + lens[i];
  }
  size_t done = 0;
  while (done < total + 4) {
    ssize_t n = fd == sock ? send(fd, buf + done, total + 4 - done, MSG_NOSIGNAL) : write(fd, buf + done, total + 4 - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += (size_t)n;
  }
  free(buf);
  return done == total + 4 ? 0 : -1;
}

void send_msg(uint32_t type, uint32_t argc, const char *const *data, const uint32_t *lens) {
  send_frame(sock, type, argc, data, lens);
}

void send_u64(uint32_t type, uint64_t v) {
  const char *d[1] = {(const char *)&v};
  uint32_t l[1] = {8};
  send_msg(type, 1, d, l);
}

void send_str(uint32_t type, const char *s) {
  const char *d[1] = {s};
  uint32_t l[1] = {(uint32_t)strlen(s)};
  send_msg(type, 1, d, l);
}

uint64_t cur_index;

/* Reports a failure and ends the process. errno 0 means "not a syscall error". Before
 * READY runts reads the socket; from WAIT_START on, `runts start` reads exec.fifo. */
void __attribute__((noreturn)) fail(const char *op, const char *path, int err, const char *detail) {
  uint64_t e = (uint64_t)err;
  const char *d[5] = {op, path ? path : "", (const char *)&e, detail ? detail : "", (const char *)&cur_index};
  uint32_t l[5] = {(uint32_t)strlen(op), (uint32_t)strlen(d[1]), 8, (uint32_t)strlen(d[3]), 8};
  if (startfifo >= 0 && send_frame(startfifo, MSG_ERROR, 5, d, l) == 0) _exit(1);
  if (ready_sent) dprintf(2, "runts-init: %s %s: %s%s%s\n", op, d[1], detail ? detail : "", detail && err ? ": " : "", err ? strerror(err) : "");
  else send_msg(MSG_ERROR, 5, d, l);
  _exit(1);
}

static int read_full(int fd, void *buf, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = read(fd, (char *)buf + done, len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    done += (size_t)n;
  }
  return 0;
}

/* Parses a frame payload [type, argc, args...] of exactly len bytes. */
int parse_frame(const char *p, uint32_t len, struct op *out) {
  if (len < 8) return -1;
  memcpy(&out->code, p, 4);
  memcpy(&out->argc, p + 4, 4);
  if (out->argc > MAX_ARGS || out->argc > (len - 8) / 4) return -1;
  out->args = calloc(out->argc ? out->argc : 1, sizeof(struct arg));
  if (!out->args) return -1;
  uint32_t off = 8;
  for (uint32_t i = 0; i < out->argc; i++) {
    if (len - off < 4) return -1;
    uint32_t alen;
    memcpy(&alen, p + off, 4);
    off += 4;
    if (alen > len - off) return -1;
    out->args[i].len = alen;
    out->args[i].data = malloc((size_t)alen + 1);
    if (!out->args[i].data) return -1;
    memcpy(out->args[i].data, p + off, alen);
    out->args[i].data[alen] = 0;
    off += alen;
  }
  return off == len ? 0 : -1;
}

int read_frame(struct op *out) {
  uint32_t len;
  if (read_full(sock, &len, 4) < 0) return -1;
  if (len > MAX_FRAME) return -1;
  char *buf = malloc(len ? len : 1);
  if (!buf || read_full(sock, buf, len) < 0) return -1;
  int r = parse_frame(buf, len, out);
  free(buf);
  return r;
}

/* ---- op arguments, bounds-checked ---- */

const char *cur_op = "plan";

const char *s_arg(const struct op *op, uint32_t i) {
  if (i >= op->argc) fail(cur_op, "", 0, "malformed plan: missing argument");
  if (strlen(op->args[i].data) != op->args[i].len) fail(cur_op, "", 0, "malformed plan: NUL in string");
  return op->args[i].data;
}

uint64_t u_arg(const struct op *op, uint32_t i) {
  if (i >= op->argc || op->args[i].len != 8) fail(cur_op, "", 0, "malformed plan: bad integer");
  uint64_t v;
  memcpy(&v, op->args[i].data, 8);
  return v;
}

/* A NULL-terminated string vector from args [from, from+n). */
char **v_arg(const struct op *op, uint32_t from, uint64_t n) {
  if (from > op->argc || n > op->argc - from) fail(cur_op, "", 0, "malformed plan: bad vector");
  char **v = calloc(n + 1, sizeof(char *));
  if (!v) fail(cur_op, "", ENOMEM, NULL);
  for (uint64_t i = 0; i < n; i++) v[i] = (char *)s_arg(op, from + (uint32_t)i);
  return v;
}
