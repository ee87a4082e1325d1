/**
 * Seccomp profiles as test data: podman's default (/usr/share/containers/seccomp.json, Debian
 * golang-github-containers-common) converted to config.json's linux.seccomp as podman does
 * for an x86_64 container with a given capability set.
 */
import { readFileSync } from "node:fs";

export const PODMAN_PROFILE = "/usr/share/containers/seccomp.json";

interface Filter {
  arches?: string[];
  caps?: string[];
  minKernel?: string;
}

/** podman's conversion (containers/common pkg/seccomp): entries for amd64 and the given capabilities. */
export function podmanSeccomp(caps: string[], file = PODMAN_PROFILE): Record<string, unknown> {
  const p = JSON.parse(readFileSync(file, "utf8"));
  const arch = "amd64";
  const applies = (inc: Filter = {}, exc: Filter = {}): boolean =>
    (!inc.arches?.length || inc.arches.includes(arch)) &&
    (!inc.caps?.length || inc.caps.every((c) => caps.includes(c))) &&
    !exc.arches?.includes(arch) &&
    !(exc.caps ?? []).some((c) => caps.includes(c));
  const archMap = (p.archMap as { architecture: string; subArchitectures: string[] }[]).find((a) => a.architecture === "SCMP_ARCH_X86_64")!;
  return {
    defaultAction: p.defaultAction,
    ...(p.defaultErrnoRet !== undefined && { defaultErrnoRet: p.defaultErrnoRet }),
    architectures: [archMap.architecture, ...archMap.subArchitectures],
    syscalls: (p.syscalls as any[])
      .filter((s) => applies(s.includes, s.excludes))
      .map((s) => ({
        names: s.names,
        action: s.action,
        ...(s.errnoRet !== undefined && { errnoRet: s.errnoRet }),
        ...(s.args?.length && { args: s.args }),
      })),
  };
}
