// One interface over the two cgroup drivers (youki's libcgroups in spirit): v2 (a pure
// unified host) and v1 (a legacy or hybrid host: a cgroup in every v1 hierarchy, plus the
// unified one where it exists). The commands on an existing container use only this.
import type { CgroupLayout } from "./layout.ts";
import { V1Cgroups } from "./v1.ts";
import { V2Cgroups } from "./v2.ts";

/** Where a container's cgroups are, as state.json keeps them. */
export interface CgroupPaths {
  /** The cgroup in the unified (v2) hierarchy; "" on a legacy host. */
  cgroupDir: string;
  /** v1 controller -> the container's cgroup in that hierarchy (v1 and hybrid hosts). */
  cgroupV1?: Record<string, string>;
}

export interface Cgroups {
  readonly paths: CgroupPaths;
  /** Every directory of the container, each once (v1 controllers may share a hierarchy). */
  dirs(): string[];
  /** Refuses cgroups that hold processes or child cgroups: someone else's. */
  assertFree(): void;
  create(): void;
  /** SIGKILLs every process of the container. */
  kill(): void;
  /** Removes every cgroup of the container (thawed first), waiting for killed processes to leave. */
  remove(): void;
  /** Host pids of every process in the container's cgroups. */
  procs(): number[];
  /** Freezes or thaws, returning once the kernel reports it done. */
  setFrozen(frozen: boolean): void;
  isFrozen(): boolean;
  /** The files the init writes itself to, as its first step (v1: no CLONE_INTO_CGROUP). */
  joinFiles(): string[];
}

export function cgroupsOf(p: CgroupPaths): Cgroups {
  return p.cgroupV1 ? new V1Cgroups(p) : new V2Cgroups(p);
}

/** The container's cgroups at relative path rel on a host with this layout. */
export function cgroupPathsFor(layout: CgroupLayout, rel: string): CgroupPaths {
  const cgroupDir = layout.unified ? `${layout.unified}/${rel}` : "";
  if (layout.mode === "unified") return { cgroupDir };
  const cgroupV1: Record<string, string> = {};
  for (const [ctrl, mnt] of Object.entries(layout.v1)) cgroupV1[ctrl] = `${mnt}/${rel}`;
  return { cgroupDir, cgroupV1 };
}
