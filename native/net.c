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
