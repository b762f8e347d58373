/**
 * EndpointSlices kept by the control plane (actors/endpointslice_controller.ts) through a real
 * API on a private nats-server, seen as a Kubernetes user sees them: kubectl and the API. Pods
 * are written as a kubelet would report them (an IP, Ready or not), with no containers run.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRestHarness, type RestHarness } from "../helpers/rest_harness.ts";
import { waitFor } from "../helpers/api.ts";
import { startControlPlane, type ControlPlane } from "../../runtime/control_plane.ts";
import type { EndpointSlice, Pod } from "../../model/types.ts";
import { MANAGED_BY_LABEL, MIRRORING_CONTROLLER, SERVICE_NAME_LABEL, SLICE_CONTROLLER } from "../../actors/endpointslice_decide.ts";

let h: RestHarness;
let cp: ControlPlane;

beforeAll(async () => {
  h = await startRestHarness();
  const now = new Date().toISOString();
  await h.test.api.create("nodes", {
    apiVersion: "v1", kind: "Node", metadata: { name: "node-1", labels: { "topology.kubernetes.io/zone": "zone-a" } }, spec: {},
    status: { allocatable: { cpu: "4", memory: "8Gi", pods: "110" }, conditions: [{ type: "Ready", status: "True", lastHeartbeatTime: now, lastTransitionTime: now }] },
  });
  cp = await startControlPlane({ client: h.test.remote, scheduledEvents: false, nodeGracePeriodMs: 600_000 });
}, 30_000);

afterAll(async () => {
  await cp?.stop();
  await h?.stop();
});

const slicesOf = async (service: string, ns = "default") =>
  (await h.test.api.list("endpointslices", { namespace: ns, labelSelector: `${SERVICE_NAME_LABEL}=${service}` })).items;
const addresses = (slices: EndpointSlice[]) => slices.flatMap((s) => s.endpoints.map((e) => e.addresses[0])).sort();

/** A pod bound to node-1 and reported by its "kubelet" with `ip`, Ready or not. */
async function runningPod(name: string, ip: string, labels: Record<string, string>, ready = true): Promise<Pod> {
  const api = h.test.api;
  await api.create("pods", {
    apiVersion: "v1", kind: "Pod", metadata: { name, labels },
    spec: { nodeName: "node-1", terminationGracePeriodSeconds: 30, containers: [{ name: "c", image: "berth/busybox", ports: [{ name: "http", containerPort: 8080 }] }] },
  }, "default");
  return await setReady(name, ip, ready);
}

async function setReady(name: string, ip: string, ready: boolean): Promise<Pod> {
  const p = await h.test.api.get("pods", name, "default");
  return await h.test.api.updateStatus("pods", { ...p, status: { phase: "Running", podIP: ip, hostIP: "127.0.0.1", conditions: [{ type: "Ready", status: ready ? "True" : "False" }] } });
}

describe("EndpointSlices", () => {
  it("a Service's pods become its slice's endpoints, with kube's conditions, ports, zone and owner, and follow their changes", async () => {
    await runningPod("web-1", "10.1.0.11", { app: "web" });
    await runningPod("web-2", "10.1.0.12", { app: "web" }, false);
    await runningPod("other", "10.1.0.13", { app: "other" });
    const svc = await h.test.api.create("services", {
      apiVersion: "v1", kind: "Service", metadata: { name: "web", labels: { tier: "front" } },
      spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http", appProtocol: "http" }] },
    }, "default");
    const [slice] = await waitFor(async () => {
      const s = await slicesOf("web");
      return s.length === 1 && s[0].endpoints.length === 2 ? s : undefined;
    }, "the web Service's slice with both pods");
    expect(slice.metadata.name).toMatch(/^web-[a-z0-9]{5}$/);
    expect(slice.addressType).toBe("IPv4");
    expect(slice.metadata.labels).toEqual({ tier: "front", [SERVICE_NAME_LABEL]: "web", [MANAGED_BY_LABEL]: SLICE_CONTROLLER });
    expect(slice.metadata.ownerReferences).toEqual([{ apiVersion: "v1", kind: "Service", name: "web", uid: svc.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    expect(slice.ports).toEqual([{ name: "http", port: 8080, protocol: "TCP", appProtocol: "http" }]);
    const byIp = new Map(slice.endpoints.map((e) => [e.addresses[0], e]));
    expect(byIp.get("10.1.0.11")).toMatchObject({ conditions: { ready: true, serving: true, terminating: false }, nodeName: "node-1", zone: "zone-a", targetRef: { kind: "Pod", name: "web-1", namespace: "default" } });
    expect(byIp.get("10.1.0.12")?.conditions).toEqual({ ready: false, serving: false, terminating: false });

    await setReady("web-2", "10.1.0.12", true);
    await waitFor(async () => (await slicesOf("web"))[0]?.endpoints.every((e) => e.conditions?.ready), "web-2 ready in the slice");
    // A graceful delete: the pod stays in the slice as terminating (serving, not ready) until it is gone.
    await h.test.api.delete("pods", "web-1", "default");
    await waitFor(async () => (await slicesOf("web"))[0]?.endpoints.find((e) => e.addresses[0] === "10.1.0.11")?.conditions?.terminating === true, "web-1 terminating");
    expect((await slicesOf("web"))[0].endpoints.find((e) => e.addresses[0] === "10.1.0.11")?.conditions).toEqual({ ready: false, serving: true, terminating: true });
    await h.test.api.delete("pods", "web-1", "default", { gracePeriodSeconds: 0 });
    await waitFor(async () => addresses(await slicesOf("web")).join() === "10.1.0.12", "web-1 gone from the slice");
    // The same slice all along: endpoints change in place.
    expect((await slicesOf("web"))[0].metadata.name).toBe(slice.metadata.name);
  });

  it("a slice deleted or changed by someone else is put back; a selector that matches nothing leaves one empty slice", async () => {
    const [slice] = await slicesOf("web");
    await h.test.api.delete("endpointslices", slice.metadata.name, "default");
    await waitFor(async () => addresses(await slicesOf("web")).join() === "10.1.0.12", "a slice made again");
    const [again] = await slicesOf("web");
    await h.test.api.update("endpointslices", { ...again, endpoints: [] });
    await waitFor(async () => addresses(await slicesOf("web")).join() === "10.1.0.12", "the slice's endpoints put back");

    await h.test.api.create("services", { apiVersion: "v1", kind: "Service", metadata: { name: "nobody" }, spec: { selector: { app: "nobody" }, ports: [{ port: 80 }] } }, "default");
    const [placeholder] = await waitFor(async () => ((await slicesOf("nobody")).length === 1 ? slicesOf("nobody") : undefined), "the placeholder slice");
    expect(placeholder.endpoints).toEqual([]);
    expect(placeholder.ports ?? []).toEqual([]);
  });

  it("splits many endpoints into slices of at most 100", async () => {
    const api = h.test.api;
    for (let i = 0; i < 130; i++) await runningPod(`many-${i}`, `10.2.${Math.floor(i / 200)}.${(i % 200) + 1}`, { app: "many" });
    await api.create("services", { apiVersion: "v1", kind: "Service", metadata: { name: "many" }, spec: { selector: { app: "many" }, ports: [{ port: 80, targetPort: 8080 }] } }, "default");
    const slices = await waitFor(async () => {
      const s = await slicesOf("many");
      return addresses(s).length === 130 ? s : undefined;
    }, "130 endpoints in slices", 20_000);
    expect(slices.map((s) => s.endpoints.length).sort((a, b) => b - a)).toEqual([100, 30]);
    expect(new Set(addresses(slices)).size).toBe(130);
  });

  it("mirrors the Endpoints of a Service without a selector, and removes a Service's slices with it", async () => {
    const api = h.test.api;
    await api.create("services", { apiVersion: "v1", kind: "Service", metadata: { name: "db" }, spec: { ports: [{ name: "pg", port: 5432 }] } }, "default");
    await api.create("endpoints", {
      apiVersion: "v1", kind: "Endpoints", metadata: { name: "db", labels: { owner: "dba" } },
      subsets: [{ addresses: [{ ip: "192.168.7.10" }], notReadyAddresses: [{ ip: "192.168.7.11" }], ports: [{ name: "pg", port: 5432, protocol: "TCP" }] }],
    }, "default");
    const [mirror] = await waitFor(async () => ((await slicesOf("db")).length === 1 ? slicesOf("db") : undefined), "the mirrored slice");
    expect(mirror.metadata.labels).toEqual({ owner: "dba", [SERVICE_NAME_LABEL]: "db", [MANAGED_BY_LABEL]: MIRRORING_CONTROLLER });
    expect(mirror.ports).toEqual([{ name: "pg", port: 5432, protocol: "TCP" }]);
    expect(mirror.endpoints.map((e) => [e.addresses[0], e.conditions?.ready])).toEqual([["192.168.7.10", true], ["192.168.7.11", false]]);

    // A slice someone else manages is left alone, even for a Service that goes.
    await api.create("endpointslices", {
      apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice", metadata: { name: "db-manual", labels: { [SERVICE_NAME_LABEL]: "db", [MANAGED_BY_LABEL]: "someone-else" } },
      addressType: "IPv4", endpoints: [{ addresses: ["192.168.7.99"] }], ports: [{ name: "pg", port: 5432, protocol: "TCP" }],
    }, "default");
    await api.delete("services", "db", "default");
    await api.delete("services", "web", "default");
    await waitFor(async () => (await slicesOf("web")).length === 0 && (await slicesOf("db")).map((s) => s.metadata.name).join() === "db-manual", "the controllers' slices gone with their Services");
  });

  it("kubectl lists and shows them as on Kubernetes", async () => {
    const out = await h.kubectlOk(["get", "endpointslices", "-l", `${SERVICE_NAME_LABEL}=many`]);
    const [header, ...rows] = out.trim().split("\n");
    expect(header.split(/\s+/)).toEqual(["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"]);
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(r).toMatch(/^many-[a-z0-9]{5}\s+IPv4\s+8080\s+10\.2\.0\.\d+,10\.2\.0\.\d+,10\.2\.0\.\d+ \+ \d+ more\.\.\.\s+\S+$/);
    const yaml = await h.kubectlOk(["get", "endpointslices", "-l", `${SERVICE_NAME_LABEL}=nobody`, "-o", "yaml"]);
    expect(yaml).toContain("apiVersion: discovery.k8s.io/v1");
    expect(yaml).toContain(`endpointslice.kubernetes.io/managed-by: ${SLICE_CONTROLLER}`);
    expect(await h.kubectlOk(["api-resources", "--api-group", "discovery.k8s.io", "--no-headers"])).toMatch(/^endpointslices\s+discovery\.k8s\.io\/v1\s+true\s+EndpointSlice/m);
  });
});
