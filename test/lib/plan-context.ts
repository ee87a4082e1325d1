/** Test doubles for the pure planners: host facts and a CreateContext (no root, no host reads). */
import type { CreateContext } from "../../src/plan/container.ts";
import type { HostFacts } from "../../src/plan/facts.ts";

/** files: what kind() and exists() know; passwd: the image's /etc/passwd; over: any other answer. */
export const fakeFacts = (files: Record<string, "dir" | "file"> = {}, passwd?: string, over: Partial<HostFacts> = {}): HostFacts => ({
  kind: (p) => files[p],
  lastCap: () => 40,
  exists: (p) => p in files,
  readInRoot: () => passwd,
  userNamespaceMaps: () => undefined,
  ...over,
});

export const planContext = (over: Partial<CreateContext> = {}): CreateContext => ({
  bundle: "/bundle",
  rootfs: "/bundle/rootfs",
  stateDir: "/run/runts/x",
  cgroupDir: "/sys/fs/cgroup/x",
  foreground: false,
  noPivot: false,
  preserveFds: 0,
  facts: fakeFacts(),
  ...over,
});
