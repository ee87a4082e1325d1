// delete's (and every failed create's) half of runts's networking: the container's veth,
// its published ports and its address go; the bridge and its table go with the last
// container on it. Each step tolerates what a killed create left half done.
import type { Logger } from "../log.ts";
import { removeBridge } from "./bridge.ts";
import { release } from "./ipam.ts";
import { withIpam } from "./ipam-store.ts";
import { unpublishCommands } from "./nft.ts";
import { runNft } from "./nftables.ts";
import { openRtnl } from "./rtnl.ts";

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
        // One by one: a create killed before it published left none of them.
        for (const p of a.ports) {
          try {
            runNft("unpublish port", a.bridge, unpublishCommands({ ...a, ports: [p] }));
          } catch {}
        }
      }
    } finally {
      host.close();
    }
    save(r.state);
  });
}
