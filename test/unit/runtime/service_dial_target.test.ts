import { describe, expect, it } from "vitest";
import { dialTarget } from "../../../runtime/service_proxy.ts";

describe("service proxy dial target", () => {
  const local = (ip: string) => ip.startsWith("172.30.");
  it("dials the pod IP when it is on a local network", () => {
    expect(dialTarget({ ip: "172.30.0.4", port: 80, hostIP: "127.0.0.1", hostPort: 32001, pod: "p" }, local)).toEqual({ host: "172.30.0.4", port: 80, key: "p" });
  });
  it("dials the published host port for a pod elsewhere", () => {
    expect(dialTarget({ ip: "10.254.0.4", port: 80, hostIP: "127.0.0.1", hostPort: 32001 }, local)).toEqual({ host: "127.0.0.1", port: 32001, key: "10.254.0.4:80" });
  });
  it("leaves out a pod that is neither local nor published", () => {
    expect(dialTarget({ ip: "10.254.0.4", port: 80 }, local)).toBeUndefined();
  });
});
