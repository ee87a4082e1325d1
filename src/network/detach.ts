// delete's (and every failed create's) half of runts's networking: the container's veth,
// its published ports and its address go; the bridge and its table go with the last
// container on it. Each step tolerates what a killed create left half done.
import type { RuntsError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { removeBridge } from "./remove-bridge.ts";
import { release } from "./ipam.ts";
import { withIpam } from "./ipam-store.ts";
import type { Allocation } from "./ipam.ts";
import { unpublishBatch } from "./nft-netlink.ts";
import { tableName } from "./nft.ts";
import { openNfnl, openRtnl } from "./rtnl.ts";

const ENOENT = 2;

/** Deletes the container's published ports; a create killed before it published left none. */
function unpublish(a: Allocation): void {
  if (!a.ports.length) return;
  const nf = openNfnl();
  try {
    nf.batch("unpublish ports", tableName(a.bridge), unpublishBatch(a, nf.nextSeq()));
  } catch (err) {
    if ((err as RuntsError).errno !== ENOENT) throw err;
  } finally {
    nf.close();
  }
}

export function detach(root: string, id: string, log?: Logger): void {
  withIpam(root, (state, save) => {
    const r = release(state, id);
    if (!r.allocation) return;
    const a = r.allocation;
    const host = openRtnl();
    try {
      host.deleteLink(a.veth);
      if (r.lastOnBridge) {
        removeBridge(host, a.bridge);
        log?.debug(`network: removed bridge ${a.bridge} and its nftables table with its last container`);
      } else {
        unpublish(a);
      }
    } finally {
      host.close();
    }
    save(r.state);
  });
}
