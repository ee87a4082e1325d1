// The container's /etc/hosts, /etc/hostname and /etc/resolv.conf (pure).

export function hostsFile(name: string, ip: string): string {
  return ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback", `${ip}\t${name}`, ""].join("\n");
}

export const hostnameFile = (name: string): string => `${name}\n`;

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|0:0:0:0:0:0:0:1)$/;

/**
 * The host's resolv.conf without the loopback nameservers (a resolver on the host's
 * 127.0.0.53 cannot answer from the container's namespace). Nothing is added in their
 * place: no resolver the user did not configure.
 */
export function resolvConf(host: string): { text: string; dropped: string[] } {
  const dropped: string[] = [];
  const lines = host.split("\n").filter((line) => {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m && LOOPBACK.test(m[1]!)) {
      dropped.push(m[1]!);
      return false;
    }
    return true;
  });
  return { text: lines.join("\n"), dropped };
}

/** The files runts writes into the state directory and bind-mounts read-only over these paths. */
export const ETC_FILES = ["/etc/hosts", "/etc/hostname", "/etc/resolv.conf"] as const;
