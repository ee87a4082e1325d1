// runts's nftables table as libnftables commands (pure). One table per bridge,
// `ip runts-BRIDGE`, never any other table: two maps of published ports (for every host
// address, and for one host address) looked up by DNAT in prerouting and output, and
// masquerade for the bridge's outbound traffic and for DNATed 127.0.0.1 traffic. The maps'
// elements (a container's ports) and the table's deletion are nft-netlink.ts's.
//
// nft's own syntax, not libnftables' JSON: the JSON parser of libnftables 1.0.6 (Debian
// bookworm) cannot declare a map whose data is `ipv4_addr . inet_service` ("Invalid map
// type"), which DNAT to address and port needs. Every interpolated value is checked before
// (bridge names by request.ts, addresses by ipv4.ts, ports are numbers).
import { formatSubnet, type Subnet } from "./ipv4.ts";

export const tableName = (bridge: string): string => `runts-${bridge}`;

const table = (bridge: string): string => `ip ${tableName(bridge)}`;

/** The bridge's table, maps, chains and rules: one transaction. */
export function tableCommands(bridge: string, subnet: Subnet): string {
  const t = table(bridge);
  const l4 = "meta l4proto { tcp, udp }";
  const dnatAny = `${l4} fib daddr type local dnat ip to meta l4proto . th dport map @pub`;
  const dnatAddr = `${l4} dnat ip to ip daddr . meta l4proto . th dport map @pubaddr`;
  return [
    `add table ${t}`,
    `add map ${t} pub { type inet_proto . inet_service : ipv4_addr . inet_service ; }`,
    `add map ${t} pubaddr { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service ; }`,
    `add chain ${t} prerouting { type nat hook prerouting priority -100 ; policy accept ; }`,
    `add chain ${t} output { type nat hook output priority -100 ; policy accept ; }`,
    `add chain ${t} postrouting { type nat hook postrouting priority 100 ; policy accept ; }`,
    `add rule ${t} prerouting ${dnatAny}`,
    `add rule ${t} prerouting ${dnatAddr}`,
    `add rule ${t} output ${dnatAny}`,
    `add rule ${t} output ${dnatAddr}`,
    `add rule ${t} postrouting ip saddr ${formatSubnet(subnet)} oifname != "${bridge}" masquerade`,
    // 127.0.0.1 cannot be a source on the bridge (route_localnet lets it be routed there).
    `add rule ${t} postrouting ip saddr 127.0.0.0/8 oifname "${bridge}" masquerade`,
  ].join("\n");
}
