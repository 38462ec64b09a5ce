import { refusedAddress, refusedUnder } from "./webhook-address";

describe("refusedAddress (the SSRF classifier)", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["::1", "loopback"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["fd12:3456::1", "private"],
    ["fc00::1", "private"],
    ["169.254.169.254", "metadata"],
    ["169.254.170.2", "metadata"],
    ["100.100.100.200", "metadata"],
    ["fd00:ec2::254", "metadata"],
    ["169.254.0.1", "link_local"],
    ["169.254.255.255", "link_local"],
    ["fd00::1", "private"],
    ["fdff:ffff::1", "private"],
    ["fe80::a9fe:a9fe", "link_local"],
    ["febf:ffff::1", "link_local"],
    ["fec0::1", "reserved"],
    ["fe80::1", "link_local"],
    ["fe80::1%eth0", "link_local"],
    ["100.64.0.1", "shared"],
    ["100.127.255.254", "shared"],
    ["0.0.0.0", "unspecified"],
    ["::", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["ff02::1", "multicast"],
    ["255.255.255.255", "reserved"],
    ["192.0.2.10", "reserved"],
    ["not-an-ip", "reserved"],
  ])("refuses %s as %s", (address, reason) => {
    expect(refusedAddress(address)).toBe(reason);
  });

  it.each([
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:10.0.0.1", "private"],
    ["::ffff:a9fe:a9fe", "metadata"],
    ["::ffff:169.254.169.254", "metadata"],
    ["::ffff:169.254.1.1", "link_local"],
    ["::ffff:100.64.0.1", "shared"],
    ["::ffff:6440:1", "shared"],
    ["::ffff:192.168.0.1", "private"],
    ["::ffff:0.0.0.0", "unspecified"],
    ["64:ff9b::7f00:1", "loopback"],
    ["64:ff9b::a9fe:a9fe", "metadata"],
    ["64:ff9b::a9fe:101", "link_local"],
    ["2002:c0a8:101::1", "private"],
    ["::127.0.0.1", "reserved"],
  ])("sees through the IPv6 forms of IPv4 addresses: %s is %s", (address, reason) => {
    expect(refusedAddress(address)).toBe(reason);
  });

  it.each(["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "93.184.216.34", "2606:4700:4700::1111", "2a00:1450:4007:80e::200e", "::ffff:8.8.8.8", "64:ff9b::808:808"])(
    "lets the public address %s through",
    (address) => {
      expect(refusedAddress(address)).toBeUndefined();
    },
  );
});

describe("refusedUnder (what each WEBHOOK_ALLOW_PRIVATE level lets through)", () => {
  /** Everything that is neither public nor loopback: refused at every level but the guard off. */
  const internal = [
    "169.254.169.254",
    "169.254.10.10",
    "fe80::1",
    "fd00::1",
    "fd00:ec2::254",
    "fc00::1",
    "100.64.0.1",
    "100.100.100.200",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "0.0.0.0",
    "::",
    "::ffff:169.254.169.254",
    "::ffff:a9fe:a9fe",
    "::ffff:10.0.0.1",
    "::ffff:100.64.0.1",
    "64:ff9b::a9fe:a9fe",
    "2002:a9fe:a9fe::1",
  ];
  const loopback = ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1", "::ffff:7f00:1"];

  it.each(internal)("development (loopback) still refuses %s", (address) => {
    expect(refusedUnder("loopback", address)).toBeDefined();
    expect(refusedUnder("none", address)).toBeDefined();
    expect(refusedUnder("all", address)).toBeUndefined();
  });

  it.each(loopback)("development (loopback) allows %s; production (none) refuses it", (address) => {
    expect(refusedUnder("loopback", address)).toBeUndefined();
    expect(refusedUnder("none", address)).toBe("loopback");
  });

  it.each(["8.8.8.8", "2606:4700:4700::1111"])("every level lets the public %s through", (address) => {
    for (const access of ["none", "loopback", "all"] as const) expect(refusedUnder(access, address)).toBeUndefined();
  });
});
