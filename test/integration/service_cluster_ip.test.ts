import { describe, expect, it } from "vitest";
import net from "node:net";
import { execFileSync } from "node:child_process";
import { ClusterIpAssigner, loopbackAddressFor } from "../../runtime/net/cluster_ip.ts";

const loAddresses = () => execFileSync("ip", ["-o", "-4", "addr", "show", "dev", "lo"]).toString();

describe("ClusterIP assignment on lo (root)", () => {
  it("adds a /32 on lo that a listener can bind and the host can reach, and removes only its own", async () => {
    expect(process.getuid?.(), "this test needs root, as `berth up` on this machine has").toBe(0);
    const ip = `10.199.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250) + 2}`;
    const assigner = new ClusterIpAssigner({ assign: true });
    expect(assigner.mode).toBe("assigned");
    expect(await assigner.acquire(ip)).toBe(ip);
    expect(await assigner.acquire(ip)).toBe(ip); // a second user of the same address
    try {
      expect(loAddresses()).toContain(`${ip}/32`);
      const server = net.createServer((s) => s.end("hi"));
      await new Promise<void>((r) => server.listen(0, ip, () => r()));
      const port = (server.address() as net.AddressInfo).port;
      const reply = await new Promise<string>((resolve, reject) => {
        let d = "";
        net.connect(port, ip).on("data", (x) => (d += x)).on("end", () => resolve(d)).on("error", reject);
      });
      expect(reply).toBe("hi");
      await new Promise<void>((r) => server.close(() => r()));
      await assigner.release(ip);
      expect(loAddresses(), "still held by its second user").toContain(`${ip}/32`);
      await assigner.release(ip);
      expect(loAddresses()).not.toContain(`${ip}/32`);
    } finally {
      await assigner.releaseAll();
    }
    expect(assigner.owned).toEqual([]);
  });

  it("leaves alone an address it did not add", async () => {
    const ip = `10.199.251.${Math.floor(Math.random() * 250) + 2}`;
    execFileSync("ip", ["addr", "add", `${ip}/32`, "dev", "lo"]);
    try {
      const assigner = new ClusterIpAssigner({ assign: true });
      await assigner.acquire(ip);
      await assigner.releaseAll();
      expect(loAddresses()).toContain(`${ip}/32`);
    } finally {
      execFileSync("ip", ["addr", "del", `${ip}/32`, "dev", "lo"]);
    }
  });

  it("in loopback mode adds nothing and maps to a 127.x stand-in", async () => {
    const calls: string[][] = [];
    const assigner = new ClusterIpAssigner({ assign: false, runIp: async (a) => void calls.push(a) });
    expect(await assigner.acquire("10.96.3.4")).toBe("127.96.3.4");
    await assigner.releaseAll();
    expect(calls).toEqual([]);
    expect(loopbackAddressFor("127.0.0.9")).toBe("127.0.0.9");
  });
});
