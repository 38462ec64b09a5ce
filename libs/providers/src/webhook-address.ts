import net from "node:net";

/** Why an address is not a public internet address. */
export type RefusedReason = "unspecified" | "loopback" | "metadata" | "private" | "link_local" | "shared" | "multicast" | "reserved";

type Rule = [reason: RefusedReason, subnet: string, prefix: number];

/**
 * The address ranges a webhook may not reach outside development (SSRF): anything that is not a
 * public unicast address. IPv4-mapped IPv6 addresses (::ffff:10.0.0.1) match the IPv4 rules
 * (net.BlockList does that); NAT64 and 6to4 addresses are judged by the IPv4 address they embed.
 */
const RULES: Rule[] = [
  // Cloud instance metadata (credentials!), named first: AWS/GCP/Azure/OpenStack, AWS ECS task
  // metadata, Alibaba, Oracle, AWS over IPv6. Each also lies in a range below.
  ["metadata", "169.254.169.254", 32],
  ["metadata", "169.254.170.2", 32],
  ["metadata", "100.100.100.200", 32],
  ["metadata", "192.0.0.192", 32],
  ["metadata", "fd00:ec2::254", 128],
  ["unspecified", "0.0.0.0", 8],
  ["loopback", "127.0.0.0", 8],
  ["private", "10.0.0.0", 8],
  ["private", "172.16.0.0", 12],
  ["private", "192.168.0.0", 16],
  ["link_local", "169.254.0.0", 16],
  ["shared", "100.64.0.0", 10],
  ["reserved", "192.0.0.0", 24],
  ["reserved", "192.0.2.0", 24],
  ["reserved", "198.18.0.0", 15],
  ["reserved", "198.51.100.0", 24],
  ["reserved", "203.0.113.0", 24],
  ["multicast", "224.0.0.0", 4],
  ["reserved", "240.0.0.0", 4],
  ["unspecified", "::", 128],
  ["loopback", "::1", 128],
  ["private", "fc00::", 7],
  ["link_local", "fe80::", 10],
  ["reserved", "fec0::", 10],
  ["multicast", "ff00::", 8],
  ["reserved", "100::", 64],
  ["reserved", "2001::", 32],
  ["reserved", "2001:db8::", 32],
  // IPv4-compatible addresses (deprecated): ::a.b.c.d
  ["reserved", "::", 96],
];

const lists = new Map<RefusedReason, net.BlockList>();
for (const [reason, subnet, prefix] of RULES) {
  let list = lists.get(reason);
  if (!list) lists.set(reason, (list = new net.BlockList()));
  list.addSubnet(subnet, prefix, net.isIPv6(subnet) ? "ipv6" : "ipv4");
}

/** The IPv4 address a NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address stands for. */
function embeddedIpv4(address: string): string | undefined {
  const words = expandIpv6(address);
  if (!words) return undefined;
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  if (words.slice(0, 6).join(":") === [0x64, 0xff9b, 0, 0, 0, 0].join(":")) return v4(words[6]!, words[7]!);
  if (words[0] === 0x2002) return v4(words[1]!, words[2]!);
  return undefined;
}

/** The eight 16-bit words of an IPv6 address (with an embedded dotted IPv4 tail or not). */
function expandIpv6(address: string): number[] | undefined {
  let text = address.split("%")[0]!;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split(".").map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split("::") as [string, string | undefined];
  const part = (s: string | undefined) => (s ? s.split(":").map((w) => parseInt(w, 16)) : []);
  const left = part(head);
  const right = part(tail);
  const words = tail === undefined ? left : [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  return words.length === 8 && words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff) ? words : undefined;
}

/** Which non-public addresses a webhook may reach: none, loopback only (development), or all (guard off). */
export type PrivateAccess = "none" | "loopback" | "all";

/** The refusal for `address` under an access level, or undefined when it may be reached. */
export function refusedUnder(access: PrivateAccess, address: string): RefusedReason | undefined {
  if (access === "all") return undefined;
  const reason = refusedAddress(address);
  return reason === "loopback" && access === "loopback" ? undefined : reason;
}

/**
 * Why a webhook may not connect to this IP address, or undefined when it is a public address.
 * Anything that is not an IP address is refused as reserved.
 */
export function refusedAddress(address: string): RefusedReason | undefined {
  const family = net.isIP(address);
  if (family === 0) return "reserved";
  const type = family === 4 ? "ipv4" : "ipv6";
  for (const [reason, list] of lists) if (list.check(address, type)) return reason;
  if (family === 6) {
    const v4 = embeddedIpv4(address);
    if (v4) return refusedAddress(v4);
  }
  return undefined;
}
