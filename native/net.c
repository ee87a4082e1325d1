/* runts-init: Network setup done by the init inside the container's network namespace. */
#include "init.h"

void op_loopback_up(const struct op *op) {
  (void)op;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) fail("loopback up", "lo", errno, NULL);
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) fail("loopback up", "lo", errno, NULL);
  close(fd);
}

/* Hands runts a NETLINK_ROUTE socket of the container's network namespace and an fd of the
 * namespace itself (for the veth peer), then waits while runts configures eth0 through them:
 * runts never enters the namespace. */
void op_netns_socket(const struct op *op) {
  (void)op;
  int fds[2];
  fds[0] = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fds[0] < 0) fail("netlink socket", "", errno, NULL);
  fds[1] = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (fds[1] < 0) fail("open network namespace", "/proc/self/ns/net", errno, NULL);
  send_msg(MSG_NETNS, 0, NULL, NULL);
  if (send_fd(sock, "n", fds[0]) < 0 || send_fd(sock, "n", fds[1]) < 0) fail("send network namespace socket", "", errno, NULL);
  close(fds[0]);
  close(fds[1]);
  struct op reply;
  if (read_frame(&reply) < 0) fail("network setup", "", EPIPE, "runts went away");
  if (reply.code != MSG_CONTINUE) _exit(1);
}
