import dns from "node:dns";
import net from "node:net";

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

/** 127.0.0.0/8, ::1, and their IPv4-mapped forms. */
export function isLoopback(address: string): boolean {
  const family = net.isIP(address);
  return family !== 0 && LOOPBACK.check(address, family === 4 ? "ipv4" : "ipv6");
}

type LookupAnswer = string | dns.LookupAddress[];

/**
 * A connector for the webhook poster (its `connect` hook) that opens connections to loopback
 * only: any other address, given as a literal or resolved by the poster's lookup, is recorded in
 * `refused` and the connection fails before a packet leaves. Tests that hand a worker internal or
 * public addresses use it, so a broken SSRF guard can never send traffic off this machine.
 */
export function loopbackOnly(): { connect: (options: net.TcpNetConnectOpts) => net.Socket; refused: string[] } {
  const refused: string[] = [];
  const failing = (address: string) => {
    refused.push(address);
    const socket = new net.Socket();
    process.nextTick(() => socket.destroy(Object.assign(new Error(`the test connector refused ${address}: not loopback`), { code: "ECONNREFUSED" })));
    return socket;
  };
  const connect = (options: net.TcpNetConnectOpts): net.Socket => {
    const host = options.host ?? "localhost";
    if (net.isIP(host) !== 0) return isLoopback(host) ? net.connect(options) : failing(host);
    const lookup = options.lookup ?? dns.lookup;
    return net.connect({
      ...options,
      lookup: (hostname: string, lookupOptions: dns.LookupOptions, callback: (e: NodeJS.ErrnoException | null, a: LookupAnswer, f?: number) => void) => {
        lookup(hostname, lookupOptions, (error, address, family) => {
          if (error) return callback(error, address, family);
          const addresses = Array.isArray(address) ? address.map((a) => a.address) : [address];
          const outside = addresses.find((a) => !isLoopback(a));
          if (outside !== undefined) {
            refused.push(outside);
            return callback(Object.assign(new Error(`the test connector refused ${outside}: not loopback`), { code: "ECONNREFUSED" }), "", 0);
          }
          callback(null, address, family);
        });
      },
    });
  };
  return { connect, refused };
}
