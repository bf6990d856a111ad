import { describe, expect, it } from "vitest";
import { embeddedV4, isBlockedAddress } from "./ip-policy.ts";

describe("SSRF address policy", () => {
  it.each([
    "127.0.0.1",
    "127.255.0.9",
    "10.0.0.1",
    "172.16.5.4",
    "172.31.255.255",
    "192.168.1.1",
    "100.64.0.1",
    "100.127.255.254",
    "169.254.169.254",
    "0.0.0.0",
    "0.1.2.3",
    "224.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::ffff:169.254.169.254",
    "64:ff9b::a00:1",
    "2002:7f00:1::",
    "[::1]",
    "not-an-ip",
  ])("refuses %s", (ip) => {
    expect(isBlockedAddress(ip)).toBe(true);
  });

  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "172.32.0.1",
    "100.128.0.1",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
    "2a00:1450:4001::200e",
  ])("allows %s", (ip) => {
    expect(isBlockedAddress(ip)).toBe(false);
  });

  it("unwraps IPv4 embedded in IPv6", () => {
    expect(embeddedV4("::ffff:10.1.2.3")).toBe("10.1.2.3");
    expect(embeddedV4("2002:c0a8:101::1")).toBe("192.168.1.1");
    expect(embeddedV4("2606:4700::1")).toBeNull();
  });
});
