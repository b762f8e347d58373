import { describe, expect, test } from "vitest";
import type { Pod } from "../../../../model/types.ts";
import { parseResolvConf, podDns, podHostnameAndDomain, sandboxSpec } from "../../../../runtime/kubelet/pod_spec.ts";

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

describe("pod sandbox: resolver and /etc/hosts, as the kubelet makes them", () => {
  const cluster = { servers: ["10.213.0.1"], search: [] };
  const node = () => ({ servers: ["192.0.2.53"], search: ["corp.example"], options: ["timeout:2"] });

  test("ClusterFirst: the cluster DNS, the namespace's search list and ndots:5; dnsConfig adds nameservers and searches after them and overrides options by name", () => {
    expect(podDns(pod("p"), cluster, node)).toEqual({ servers: ["10.213.0.1"], search: ["db.svc.cluster.local", "svc.cluster.local", "cluster.local"], options: ["ndots:5"] });
    const p = pod("p", { dnsConfig: { nameservers: ["192.0.2.1", "10.213.0.1"], searches: ["extra.example", "cluster.local"], options: [{ name: "ndots", value: "2" }, { name: "edns0" }] } });
    expect(podDns(p, cluster, node)).toEqual({
      servers: ["10.213.0.1", "192.0.2.1"],
      search: ["db.svc.cluster.local", "svc.cluster.local", "cluster.local", "extra.example"],
      options: ["ndots:2", "edns0"],
    });
  });

  test("ClusterFirstWithHostNet is ClusterFirst; without a cluster DNS, ClusterFirst is Default: the engine's copy of the node's resolver, or with dnsConfig the node's resolver plus it", () => {
    expect(podDns(pod("p", { dnsPolicy: "ClusterFirstWithHostNet" }), cluster, node)?.servers).toEqual(["10.213.0.1"]);
    expect(podDns(pod("p"), undefined, node)).toBeUndefined();
    expect(podDns(pod("p", { dnsPolicy: "Default" }), cluster, node)).toBeUndefined();
    expect(podDns(pod("p", { dnsPolicy: "Default", dnsConfig: { searches: ["x.example"] } }), cluster, node)).toEqual({ servers: ["192.0.2.53"], search: ["corp.example", "x.example"], options: ["timeout:2"] });
  });

  test("None: only dnsConfig; at most 3 nameservers and 32 searches are written", () => {
    const servers = ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"];
    expect(podDns(pod("p", { dnsPolicy: "None", dnsConfig: { nameservers: servers, options: [{ name: "rotate" }] } }), cluster, node)).toEqual({ servers: servers.slice(0, 3), search: [], options: ["rotate"] });
    const searches = Array.from({ length: 40 }, (_, i) => `s${i}.example`);
    expect(podDns(pod("p", { dnsPolicy: "None", dnsConfig: { nameservers: ["192.0.2.1"], searches } }), cluster, node)?.search).toHaveLength(32);
  });

  test("the node's resolv.conf: nameservers but loopback stubs, the last search (or domain) line, options; comments skipped", () => {
    expect(parseResolvConf("# generated\nnameserver 127.0.0.53\nnameserver 192.0.2.53 ; main\nnameserver ::1\nsearch a.example b.example\noptions edns0 trust-ad\n")).toEqual({
      servers: ["192.0.2.53"], search: ["a.example", "b.example"], options: ["edns0", "trust-ad"],
    });
  });

  test("hostAliases become one /etc/hosts line per hostname", () => {
    const p = pod("p", { hostAliases: [{ ip: "127.0.0.1", hostnames: ["foo.local", "bar.local"] }, { ip: "10.1.2.3", hostnames: ["baz"] }, { ip: "10.9.9.9" }] });
    expect(sandboxSpec(p, "n1", "127.0.0.1").extraHosts).toEqual([{ hostname: "foo.local", ip: "127.0.0.1" }, { hostname: "bar.local", ip: "127.0.0.1" }, { hostname: "baz", ip: "10.1.2.3" }]);
    expect(sandboxSpec(pod("q"), "n1", "127.0.0.1")).not.toHaveProperty("extraHosts");
  });
});

describe("container mounts", () => {
  test("a subPath of an emptyDir is the runtime's to prepare; a hostPath's is a path; HostToContainer is rslave", async () => {
    const { containerSpec } = await import("../../../../runtime/kubelet/pod_spec.ts");
    const p = pod("p", {
      volumes: [{ name: "e", emptyDir: {} }, { name: "h", hostPath: { path: "/srv" } }],
      containers: [{ name: "c", image: "berth/busybox", env: [{ name: "X", value: "x1" }], volumeMounts: [
        { name: "e", mountPath: "/a", subPath: "one" },
        { name: "e", mountPath: "/b", subPathExpr: "two/$(X)" },
        { name: "h", mountPath: "/h", subPath: "logs", mountPropagation: "HostToContainer" },
      ] }],
    });
    const spec = containerSpec(p, p.spec.containers[0], { node: "n1", sandboxId: "s", restartCount: 0, fields: { podIP: "", hostIP: "", nodeName: "n1" } });
    expect(spec.mounts).toEqual([
      { type: "volume", source: expect.stringMatching(/-e$/), target: "/a", readOnly: undefined, subPath: "one" },
      { type: "volume", source: expect.stringMatching(/-e$/), target: "/b", readOnly: undefined, subPath: "two/x1" },
      { type: "bind", source: "/srv/logs", target: "/h", readOnly: undefined, propagation: "rslave" },
    ]);
  });
});

describe("setHostnameAsFQDN", () => {
  test("the hostname is the pod's FQDN when it has a subdomain, as the kubelet sets it; one over 64 characters is the kubelet's error", () => {
    expect(podHostnameAndDomain(pod("web-0", { subdomain: "web", setHostnameAsFQDN: true }))).toEqual({ hostname: "web-0.web.db.svc.cluster.local" });
    expect(podHostnameAndDomain(pod("web-0", { setHostnameAsFQDN: true }))).toEqual({ hostname: "web-0" });
    expect(() => podHostnameAndDomain(pod("x".repeat(40), { subdomain: "web", setHostnameAsFQDN: true }))).toThrow(/is too long \(64 characters is the max, 65 characters requested\)/);
  });
});
