/**
 * The config.json that `runts spec` writes: exactly what `runc spec` (1.1.x) writes, key order
 * included, except `ociVersion` ("1.2.0") and `hostname` ("runts").
 * `runts spec` serialises it with JSON.stringify(spec, null, "\t").
 *
 * Pure: every call returns a fresh object that the caller may mutate.
 */

const DEFAULT_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

const MASKED_PATHS = [
  "/proc/acpi",
  "/proc/asound",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/sys/firmware",
  "/proc/scsi",
];

const READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

export interface DefaultSpecOptions {
  /** Like `runc spec --rootless`: user namespace mapping the caller to root, no network namespace,
   *  /sys rbound instead of mounted, no uid=/gid= mount options, no linux.resources. */
  rootless?: boolean;
  /** Host ids mapped to container root in rootless mode; default: the caller's effective ids
   *  (what runc uses). */
  hostUid?: number;
  hostGid?: number;
}

export function defaultSpec(opts: DefaultSpecOptions = {}): Record<string, unknown> {
  const rootless = opts.rootless === true;

  const mounts: Record<string, unknown>[] = [
    { destination: "/proc", type: "proc", source: "proc" },
    {
      destination: "/dev",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: rootless
        ? ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]
        : ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    {
      destination: "/dev/shm",
      type: "tmpfs",
      source: "shm",
      options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
    },
    {
      destination: "/dev/mqueue",
      type: "mqueue",
      source: "mqueue",
      options: ["nosuid", "noexec", "nodev"],
    },
    rootless
      ? {
          destination: "/sys",
          type: "none",
          source: "/sys",
          options: ["rbind", "nosuid", "noexec", "nodev", "ro"],
        }
      : {
          destination: "/sys",
          type: "sysfs",
          source: "sysfs",
          options: ["nosuid", "noexec", "nodev", "ro"],
        },
    {
      destination: "/sys/fs/cgroup",
      type: "cgroup",
      source: "cgroup",
      options: ["nosuid", "noexec", "nodev", "relatime", "ro"],
    },
  ];

  const linux: Record<string, unknown> = {};
  if (rootless) {
    const uid = opts.hostUid ?? process.geteuid?.() ?? 0;
    const gid = opts.hostGid ?? process.getegid?.() ?? 0;
    linux.uidMappings = [{ containerID: 0, hostID: uid, size: 1 }];
    linux.gidMappings = [{ containerID: 0, hostID: gid, size: 1 }];
    linux.namespaces = [
      { type: "pid" },
      { type: "ipc" },
      { type: "uts" },
      { type: "mount" },
      { type: "user" },
    ];
  } else {
    linux.resources = { devices: [{ allow: false, access: "rwm" }] };
    linux.namespaces = [
      { type: "pid" },
      { type: "network" },
      { type: "ipc" },
      { type: "uts" },
      { type: "mount" },
    ];
  }
  linux.maskedPaths = [...MASKED_PATHS];
  linux.readonlyPaths = [...READONLY_PATHS];

  return {
    ociVersion: "1.2.0",
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ["sh"],
      env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
      cwd: "/",
      capabilities: {
        bounding: [...DEFAULT_CAPS],
        effective: [...DEFAULT_CAPS],
        permitted: [...DEFAULT_CAPS],
        ambient: [...DEFAULT_CAPS],
      },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: "rootfs", readonly: true },
    hostname: "runts",
    mounts,
    linux,
  };
}
