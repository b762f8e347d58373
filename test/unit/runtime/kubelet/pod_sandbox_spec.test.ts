import { describe, expect, test } from "vitest";
import type { Pod } from "../../../../model/types.ts";
import { podHostnameAndDomain, sandboxSpec } from "../../../../runtime/kubelet/pod_spec.ts";

const pod = (name: string, spec: Partial<Pod["spec"]> = {}, namespace = "db"): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace, uid: "u1" },
  spec: { containers: [{ name: "c", image: "berth/busybox" }], ...spec },
});

describe("pod sandbox: hostname and domain", () => {
  test("the hostname is spec.hostname, else the pod's name", () => {
    expect(podHostnameAndDomain(pod("web-0"))).toEqual({ hostname: "web-0" });
    expect(podHostnameAndDomain(pod("web-0", { hostname: "primary" }))).toEqual({ hostname: "primary" });
  });

  test("a long pod name is cut to 63 characters without a trailing '-' or '.', as the kubelet does", () => {
    const name = `${"a".repeat(61)}-.b-c`;
    expect(podHostnameAndDomain(pod(name)).hostname).toBe("a".repeat(61));
    expect(podHostnameAndDomain(pod("x".repeat(63))).hostname).toBe("x".repeat(63));
  });

  test("spec.subdomain gives the domain <subdomain>.<ns>.svc.<cluster domain>", () => {
    expect(podHostnameAndDomain(pod("web-0", { hostname: "web-0", subdomain: "web" }))).toEqual({ hostname: "web-0", domainname: "web.db.svc.cluster.local" });
    expect(podHostnameAndDomain(pod("p", { subdomain: "s" }, "default"), "example.internal")).toEqual({ hostname: "p", domainname: "s.default.svc.example.internal" });
  });

  test("the sandbox spec carries them, whatever the DNS policy", () => {
    const p = pod("web-0", { hostname: "web-0", subdomain: "web", dnsPolicy: "Default" });
    const spec = sandboxSpec(p, "n1", "127.0.0.1", { servers: ["10.213.0.1"], search: [] });
    expect(spec).toMatchObject({ hostname: "web-0", domainname: "web.db.svc.cluster.local" });
    expect(spec.dns).toBeUndefined();
    expect(sandboxSpec(pod("plain"), "n1", "127.0.0.1")).not.toHaveProperty("domainname");
  });
});
