// The OCI features document (runtime-spec features.md): what this build of runts
// implements, read from the tables the planners use, so that it cannot claim more.
import { MOUNT_OPTION_NAMES } from "./plan/mounts.ts";
import { CAPABILITIES } from "./plan/capabilities.ts";
import { CLONE_FLAGS } from "./plan/namespaces.ts";
import { MPOL_FLAGS, MPOL_MODES } from "./plan/mempolicy.ts";
import { UNSUPPORTED } from "./plan/unsupported.ts";
import { SPEC_VERSION, VERSION } from "./version.ts";

/** The hooks runts runs: prestart and createRuntime in create, createContainer and
 * startContainer in the init (OP_HOOK), poststart in start, poststop in delete. */
const HOOKS = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"];

/** Enabled unless create refuses the field (src/plan/unsupported.ts): the row goes when it lands. */
const enabled = (field: string) => ({ enabled: !UNSUPPORTED.some((u) => u.field === field) });

export function features(): Record<string, unknown> {
  return {
    ociVersionMin: "1.0.0",
    ociVersionMax: SPEC_VERSION,
    hooks: HOOKS,
    mountOptions: MOUNT_OPTION_NAMES,
    linux: {
      namespaces: Object.keys(CLONE_FLAGS).sort(),
      capabilities: [...CAPABILITIES],
      // Only the v2 hierarchy, through cgroupfs (src/cgroups/v2.ts).
      cgroup: { v1: false, v2: true, systemd: false, systemdUser: false, rdma: false },
      seccomp: enabled("linux.seccomp"),
      apparmor: enabled("process.apparmorProfile"),
      selinux: enabled("process.selinuxLabel"),
      intelRdt: enabled("linux.intelRdt"),
      mountExtensions: { idmap: { enabled: true } },
      netDevices: { enabled: false },
      memoryPolicy: { modes: Object.keys(MPOL_MODES), flags: Object.keys(MPOL_FLAGS) },
    },
    annotations: { "org.opencontainers.runts.version": VERSION },
  };
}
