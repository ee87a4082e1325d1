// The pure planners of runts's networking: requests from annotations and flags, IPAM,
// subnets, nftables commands and the generated /etc files.
import { describe, expect, test } from "bun:test";
import { hostnameFile, hostsFile, resolvConf } from "../../src/network/etc-files.ts";
import { allocate, emptyIpam, release, vethName, type IpamState } from "../../src/network/ipam.ts";
import { formatIpv4, freeSubnet, parseIpv4, parseSubnet, routesOf } from "../../src/network/ipv4.ts";
import { tableCommands } from "../../src/network/nft.ts";
import { networkRequest, type NetworkFlags } from "../../src/network/request.ts";
import { planContainer } from "../../src/plan/container.ts";
import { planContext } from "../lib/plan-context.ts";
import { defaultSpec } from "../../src/spec/defaultSpec.ts";
import type { Spec } from "../../src/spec/types.ts";

const noFlags: NetworkFlags = { publish: [] };
const netns = [{ type: "mount" as const }, { type: "network" as const }];

describe("networkRequest", () => {
  test("nothing asked, or none: nothing configured", () => {
    expect(networkRequest(undefined, noFlags, netns)).toBeUndefined();
    expect(networkRequest({ "run.runts.network": "none" }, noFlags, netns)).toBeUndefined();
    expect(networkRequest({ other: "x" }, noFlags, [{ type: "mount" }])).toBeUndefined();
  });

  test("annotations, and flags that replace them", () => {
    expect(networkRequest({ "run.runts.ports": "8080:80,127.0.0.1:5353:53/udp" }, noFlags, netns)).toEqual({
      bridge: "runts0",
      ports: [
        { hostPort: 8080, containerPort: 80, protocol: "tcp" },
        { hostIp: "127.0.0.1", hostPort: 5353, containerPort: 53, protocol: "udp" },
      ],
      portsSource: "annotation run.runts.ports",
    });
    const r = networkRequest({ "run.runts.network": "a", "run.runts.ip": "10.1.1.1" }, { network: "br1", publish: ["1:2", "3:4/udp"], ip: "10.88.0.9" }, netns);
    expect(r).toEqual({
      bridge: "br1",
      ports: [
        { hostPort: 1, containerPort: 2, protocol: "tcp" },
        { hostPort: 3, containerPort: 4, protocol: "udp" },
      ],
      portsSource: "flag --publish",
      ip: "10.88.0.9",
      ipSource: "flag --ip",
    });
    expect(networkRequest({ "run.runts.subnet": "10.50.0.0/24" }, noFlags, netns)?.subnet).toEqual({ base: parseIpv4("10.50.0.0")!, prefix: 24 });
  });

  const bad: [Record<string, string>, NetworkFlags, string][] = [
    [{ "run.runts.ports": "80" }, noFlags, 'annotation run.runts.ports: malformed port mapping "80"'],
    [{}, { publish: ["1:2:3:4"] }, 'flag --publish: malformed port mapping "1:2:3:4"'],
    [{}, { publish: ["0:80"] }, "flag --publish: host port 0 is out of range"],
    [{}, { publish: ["80:65536"] }, "flag --publish: container port 65536 is out of range"],
    [{}, { publish: ["80:+1"] }, 'flag --publish: container port "+1" is not a port number'],
    [{}, { publish: ["80:80/sctp"] }, 'flag --publish: unknown protocol "sctp"'],
    [{}, { publish: ["80:80/tcp/x"] }, "flag --publish: malformed port mapping"],
    [{}, { publish: ["80:80,"] }, "flag --publish: empty port mapping"],
    [{}, { publish: ["80:80", "80:81"] }, "flag --publish: host port 80/tcp is published twice"],
    [{}, { publish: ["host:80:80"] }, 'flag --publish: host address "host"'],
    [{}, { network: "a/b", publish: [] }, 'flag --network: bad bridge name "a/b"'],
    [{}, { network: "-x", publish: [] }, "flag --network: bad bridge name"],
    [{}, { network: "0123456789abcdef", publish: [] }, "flag --network: bad bridge name"],
    [{ "run.runts.network": 'a"; flush ruleset' }, noFlags, "annotation run.runts.network: bad bridge name"],
    [{}, { ip: "10.0.0", publish: [] }, 'flag --ip: "10.0.0" is not an IPv4 address'],
    [{ "run.runts.subnet": "10.0.0.1/16" }, noFlags, "annotation run.runts.subnet"],
    [{ "run.runts.network": "none", "run.runts.ports": "1:2" }, noFlags, 'annotation run.runts.ports: needs a network, but annotation run.runts.network is "none"'],
  ];
  for (const [a, f, want] of bad) {
    test(`refused: ${want}`, () => expect(() => networkRequest(a, f, netns)).toThrow(want));
  }

  test("a network namespace joined by path, or none at all, is refused", () => {
    expect(() => networkRequest({ "run.runts.network": "br" }, noFlags, [{ type: "network", path: "/run/netns/x" }])).toThrow(
      'annotation run.runts.network: the config joins the network namespace "/run/netns/x"',
    );
    expect(() => networkRequest({}, { publish: ["1:2"] }, [{ type: "mount" }])).toThrow("flag --publish: the config has no network namespace of its own");
  });
});

describe("subnets", () => {
  test("/proc/net/route is parsed, and the first default subnet free of its routes is picked", () => {
    const table = [
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
      "eth0\t00000000\t0100000A\t0003\t0\t0\t0\t00000000\t0\t0\t0",
      "eth0\t0000000A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0", // 10.0.0.0/16
      "podman0\t0000580A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0", // 10.88.0.0/16
      "",
    ].join("\n");
    const routes = routesOf(table);
    expect(routes.map((r) => `${formatIpv4(r.base)}/${r.prefix}`)).toEqual(["10.0.0.0/16", "10.88.0.0/16"]);
    expect(freeSubnet(routes, [])).toEqual(parseSubnet("10.89.0.0/16")!);
    expect(freeSubnet(routes, [parseSubnet("10.89.0.0/24")!])).toEqual(parseSubnet("10.90.0.0/16")!);
    // A host route covering all of 10/8 and 172.16/12 leaves nothing.
    expect(freeSubnet([parseSubnet("10.0.0.0/8")!, parseSubnet("172.16.0.0/12")!], [])).toBeUndefined();
  });
});

describe("IPAM", () => {
  const req = (over = {}) => ({ bridge: "runts0", ports: [], ...over });

  test("lowest free address; a new bridge the first time; release gives it back", () => {
    let s: IpamState = emptyIpam();
    const a = allocate(s, "a", req(), () => []);
    expect(a.newBridge).toBe(true);
    expect(a.allocation).toEqual({ bridge: "runts0", ip: "10.88.0.2", veth: vethName("a"), ports: [] });
    s = a.state;
    const b = allocate(s, "b", req(), () => []);
    expect(b.newBridge).toBe(false);
    expect(b.allocation.ip).toBe("10.88.0.3");
    s = b.state;
    const r = release(s, "a");
    expect(r.lastOnBridge).toBe(false);
    expect(allocate(r.state, "c", req(), () => []).allocation.ip).toBe("10.88.0.2");
    const last = release(release(s, "a").state, "b");
    expect(last.lastOnBridge).toBe(true);
    expect(last.state).toEqual(emptyIpam());
    expect(release(emptyIpam(), "zz")).toEqual({ state: emptyIpam(), lastOnBridge: false });
  });

  test("fixed addresses: inside the subnet, not the gateway or broadcast, not taken", () => {
    const s = allocate(emptyIpam(), "a", req({ ip: "10.88.0.7" }), () => []).state;
    expect(s.containers.a!.ip).toBe("10.88.0.7");
    const src = { ipSource: "flag --ip" };
    expect(() => allocate(s, "b", req({ ip: "10.88.0.7", ...src }), () => [])).toThrow("flag --ip: 10.88.0.7 is taken by container a");
    for (const ip of ["10.88.0.1", "10.88.255.255", "10.88.0.0", "10.89.0.2"]) {
      expect(() => allocate(s, "b", req({ ip, ...src }), () => [])).toThrow(`flag --ip: ${ip} is not a container address of bridge runts0's subnet 10.88.0.0/16`);
    }
  });

  test("a host port held by another container (on any bridge, any address overlap) is refused", () => {
    const p = (hostPort: number, protocol: "tcp" | "udp" = "tcp", hostIp?: string) => ({ hostPort, containerPort: 80, protocol, ...(hostIp && { hostIp }) });
    const s = allocate(emptyIpam(), "a", req({ ports: [p(8080), p(53, "udp", "127.0.0.1")] }), () => []).state;
    const src = { portsSource: "annotation run.runts.ports" };
    expect(() => allocate(s, "b", req({ bridge: "br2", ports: [p(8080)], ...src }), () => [])).toThrow(
      "annotation run.runts.ports: host port 8080/tcp is already published by container a (8080/tcp)",
    );
    expect(() => allocate(s, "b", req({ ports: [p(53, "udp")], ...src }), () => [])).toThrow("host port 53/udp is already published by container a (127.0.0.1:53/udp)");
    expect(allocate(s, "b", req({ ports: [p(8080, "udp"), p(53, "udp", "192.0.2.1"), p(53)] }), () => []).allocation.ports).toHaveLength(3);
  });

  test("a second bridge gets the next free subnet; a subnet that differs from the bridge's is refused", () => {
    const s = allocate(emptyIpam(), "a", req(), () => []).state;
    const b = allocate(s, "b", req({ bridge: "br2" }), () => []);
    expect(b.state.bridges.br2).toEqual({ subnet: "10.89.0.0/16" });
    expect(b.allocation.ip).toBe("10.89.0.2");
    expect(() => allocate(s, "c", req({ subnet: parseSubnet("10.70.0.0/24") }), () => [])).toThrow("bridge runts0 exists with subnet 10.88.0.0/16, not 10.70.0.0/24");
    const small = allocate(emptyIpam(), "x", req({ subnet: parseSubnet("10.70.0.0/30") }), () => []);
    expect(small.allocation.ip).toBe("10.70.0.2");
    expect(() => allocate(small.state, "y", req(), () => [])).toThrow("no free address in 10.70.0.0/30");
  });

  test("veth names fit IFNAMSIZ and differ per id", () => {
    expect(vethName("a")).toMatch(/^rt[0-9a-f]{13}$/);
    expect(vethName("a")).not.toBe(vethName("b"));
    expect(vethName("x".repeat(255)).length).toBe(15);
  });
});

describe("nftables table", () => {
  test("runts's own table only", () => {
    const t = tableCommands("runts0", parseSubnet("10.88.0.0/16")!);
    for (const line of t.split("\n")) expect(line).toMatch(/^add (table|map|chain|rule) ip runts-runts0\b/);
    expect(t).toContain("add map ip runts-runts0 pub { type inet_proto . inet_service : ipv4_addr . inet_service ; }");
    expect(t).toContain('add rule ip runts-runts0 postrouting ip saddr 10.88.0.0/16 oifname != "runts0" masquerade');
  });
});

describe("/etc files", () => {
  test("hosts and hostname", () => {
    expect(hostsFile("web", "10.88.0.2")).toBe("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.88.0.2\tweb\n");
    expect(hostnameFile("web")).toBe("web\n");
  });

  test("resolv.conf: loopback nameservers left out (and reported), nothing added", () => {
    const host = "# generated\nnameserver 127.0.0.53\nnameserver 192.0.2.53\n nameserver ::1\nsearch example.org\noptions edns0\n";
    expect(resolvConf(host)).toEqual({ text: "# generated\nnameserver 192.0.2.53\nsearch example.org\noptions edns0\n", dropped: ["127.0.0.53", "::1"] });
    expect(resolvConf("nameserver 127.0.0.1\n")).toEqual({ text: "", dropped: ["127.0.0.1"] });
  });
});

describe("plan", () => {
  test("NETNS_SOCKET right after CLONE and the /etc bind mounts after the config's mounts, only when asked", () => {
    const base = planContext();
    const spec = defaultSpec() as unknown as Spec;
    spec.process!.args = ["/bin/true"];
    spec.process!.terminal = false;
    expect(planContainer(spec, base).ops.some((o) => o.op === "NETNS_SOCKET")).toBe(false);
    const etc = { op: "BIND" as const, args: ["/s/hosts", "/etc/hosts", 0, 2] };
    const ops = planContainer(spec, { ...base, network: { etcOps: [etc] } }).ops;
    expect(ops[1]!.op).toBe("NETNS_SOCKET");
    expect(ops[2]!.op).toBe("ROOTFS");
    const at = ops.indexOf(etc);
    const lastConfigMount = ops.map((o) => o.origin ?? "").lastIndexOf(ops.filter((o) => o.origin?.startsWith("mounts[")).at(-1)!.origin!);
    expect(at).toBeGreaterThan(lastConfigMount);
    expect(at).toBeLessThan(ops.findIndex((o) => o.op === "PIVOT_ROOT"));
  });
});
