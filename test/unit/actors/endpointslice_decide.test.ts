/**
 * EndpointSlice decisions (actors/endpointslice_decide.ts), against Kubernetes' endpointslice
 * and endpointslicemirroring controllers: which pods become which endpoints with which
 * conditions, how a port set splits into slices of at most 100, that living endpoints keep their
 * slice, the placeholder, and mirroring an Endpoints object.
 */
import { describe, expect, it } from "vitest";
import type { EndpointSlice, Endpoints, Pod, Service } from "../../../model/types.ts";
import { HOST_PORTS_ANNOTATION } from "../../../model/pod.ts";
import { HOST_ENDPOINTS_ANNOTATION } from "../../../actors/service_endpoints.ts";
import {
  endpointsFromEndpoints,
  endpointsFromPods,
  HEADLESS_LABEL,
  MANAGED_BY_LABEL,
  MIRRORING_CONTROLLER,
  reconcileSlices,
  SERVICE_NAME_LABEL,
  SLICE_CONTROLLER,
  sliceLabels,
  sliceManagerOf,
} from "../../../actors/endpointslice_decide.ts";

const svc = (spec: Partial<Service["spec"]> = {}, labels?: Record<string, string>): Service => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "web", namespace: "shop", uid: "svc-uid", ...(labels ? { labels } : {}) },
  spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http" }], clusterIP: "10.96.0.10", ...spec },
});

let n = 0;
const pod = (ip: string | undefined, o: { ready?: boolean; deleting?: boolean; phase?: string; port?: number; node?: string; labels?: Record<string, string>; ns?: string } = {}): Pod => {
  n++;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: `web-${n}`, namespace: o.ns ?? "shop", uid: `pod-${n}`, labels: o.labels ?? { app: "web" }, ...(o.deleting ? { deletionTimestamp: "2026-12-05T00:00:00Z" } : {}) },
    spec: { nodeName: o.node ?? "node-1", containers: [{ name: "c", image: "i", ports: [{ name: "http", containerPort: o.port ?? 8080 }] }] },
    status: {
      phase: (o.phase ?? "Running") as "Running",
      ...(ip ? { podIP: ip } : {}),
      conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True" }],
    },
  };
};
const zones = (node: string) => ({ "node-1": "zone-a" } as Record<string, string>)[node];
const opts = (s: Service) => ({ manager: SLICE_CONTROLLER, labels: sliceLabels(s, SLICE_CONTROLLER), placeholder: true });

describe("EndpointSlices from a Service's pods", () => {
  it("makes one endpoint per matching pod with an IP: conditions, node, zone, targetRef; resolved named ports", () => {
    const s = svc();
    const ready = pod("10.1.0.2");
    const notReady = pod("10.1.0.3", { ready: false });
    const terminating = pod("10.1.0.4", { deleting: true });
    const groups = endpointsFromPods(s, [ready, notReady, terminating, pod(undefined), pod("10.1.0.5", { phase: "Succeeded" }), pod("10.1.0.6", { labels: { app: "other" } }), pod("10.1.0.7", { ns: "other" })], zones);
    expect(groups).toHaveLength(1);
    expect(groups[0].ports).toEqual([{ name: "http", port: 8080, protocol: "TCP" }]);
    expect(groups[0].endpoints).toEqual([
      { addresses: ["10.1.0.2"], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: "Pod", namespace: "shop", name: ready.metadata.name, uid: ready.metadata.uid }, nodeName: "node-1", zone: "zone-a" },
      { addresses: ["10.1.0.3"], conditions: { ready: false, serving: false, terminating: false }, targetRef: { kind: "Pod", namespace: "shop", name: notReady.metadata.name, uid: notReady.metadata.uid }, nodeName: "node-1", zone: "zone-a" },
      // A terminating pod stays, serving as its readiness says, never ready (kube's terminating condition).
      { addresses: ["10.1.0.4"], conditions: { ready: false, serving: true, terminating: true }, targetRef: { kind: "Pod", namespace: "shop", name: terminating.metadata.name, uid: terminating.metadata.uid }, nodeName: "node-1", zone: "zone-a" },
    ]);
  });

  it("groups pods by the ports they resolve, and publishNotReadyAddresses makes every endpoint ready", () => {
    const s = svc({ publishNotReadyAddresses: true });
    const groups = endpointsFromPods(s, [pod("10.1.0.2", { port: 8080, ready: false }), pod("10.1.0.3", { port: 9090 })], zones);
    expect(groups.map((g) => g.ports[0].port).sort()).toEqual([8080, 9090]);
    expect(groups.every((g) => g.endpoints[0].conditions?.ready === true)).toBe(true);
  });

  it("labels slices with the service name and manager over the Service's own labels, headless ones too", () => {
    expect(sliceLabels(svc({}, { tier: "front", [SERVICE_NAME_LABEL]: "spoof" }), SLICE_CONTROLLER)).toEqual({ tier: "front", [SERVICE_NAME_LABEL]: "web", [MANAGED_BY_LABEL]: SLICE_CONTROLLER });
    expect(sliceLabels(svc({ clusterIP: "None" }), SLICE_CONTROLLER)[HEADLESS_LABEL]).toBe("");
    expect(sliceManagerOf(svc())).toBe(SLICE_CONTROLLER);
    expect(sliceManagerOf(svc({ selector: undefined }))).toBe(MIRRORING_CONTROLLER);
    expect(sliceManagerOf(svc({ type: "ExternalName", externalName: "example.com" }))).toBeUndefined();
  });
});

describe("reconciling slices", () => {
  const s = svc();
  const pods = (count: number, from = 0) => Array.from({ length: count }, (_, i) => pod(`10.2.${Math.floor((from + i) / 250)}.${((from + i) % 250) + 1}`));
  /** What the API would hold after the writes: creates named in order. */
  const apply = (existing: EndpointSlice[], w: ReturnType<typeof reconcileSlices>) => {
    const byName = new Map(existing.map((x) => [x.metadata.name, x]));
    for (const d of w.delete) byName.delete(d.metadata.name);
    for (const u of w.update) byName.set(u.metadata.name, u);
    w.create.forEach((c, i) => byName.set(`web-new${byName.size}-${i}`, { ...c, metadata: { ...c.metadata, name: `web-new${byName.size}-${i}` } }));
    return [...byName.values()];
  };

  it("splits a port set into slices of at most 100, owned by the Service, named by generateName", () => {
    const w = reconcileSlices(s, endpointsFromPods(s, pods(250), zones), [], opts(s));
    expect(w.create.map((x) => x.endpoints.length)).toEqual([100, 100, 50]);
    expect(w.update).toEqual([]);
    expect(w.delete).toEqual([]);
    const one = w.create[0];
    expect(one.addressType).toBe("IPv4");
    expect(one.metadata.generateName).toBe("web-");
    expect(one.metadata.ownerReferences).toEqual([{ apiVersion: "v1", kind: "Service", name: "web", uid: "svc-uid", controller: true, blockOwnerDeletion: true }]);
    expect(one.metadata.labels).toEqual({ [SERVICE_NAME_LABEL]: "web", [MANAGED_BY_LABEL]: SLICE_CONTROLLER });
  });

  it("writes nothing when nothing changed, and keeps living endpoints in their slice when one goes", () => {
    const all = pods(150, 1000);
    let state = apply([], reconcileSlices(s, endpointsFromPods(s, all, zones), [], opts(s)));
    expect(reconcileSlices(s, endpointsFromPods(s, all, zones), state, opts(s))).toEqual({ create: [], update: [], delete: [] });
    const where = (ip: string) => state.find((x) => x.endpoints.some((e) => e.addresses[0] === ip))?.metadata.name;
    const survivor = all[120].status!.podIP!;
    const before = where(survivor);
    // One pod of the first slice goes, one new one comes: it fills the free place, nothing moves.
    const next = [...all.slice(1), ...pods(1, 5000)];
    const w = reconcileSlices(s, endpointsFromPods(s, next, zones), state, opts(s));
    expect(w.create).toEqual([]);
    expect(w.delete).toEqual([]);
    expect(w.update.length).toBeGreaterThanOrEqual(1);
    state = apply(state, w);
    expect(where(survivor)).toBe(before);
    expect(state.reduce((k, x) => k + x.endpoints.length, 0)).toBe(150);
    expect(state.every((x) => x.endpoints.length <= 100)).toBe(true);
  });

  it("keeps one empty placeholder slice when no pod matches, and reuses it for the first endpoints", () => {
    const w = reconcileSlices(s, [], [], opts(s));
    expect(w.create).toHaveLength(1);
    expect(w.create[0].endpoints).toEqual([]);
    expect(w.create[0].ports).toEqual([]);
    const state = apply([], w);
    expect(reconcileSlices(s, [], state, opts(s))).toEqual({ create: [], update: [], delete: [] });
    // Endpoints arrive with a port set: the placeholder (another port set) goes, a slice is made.
    const w2 = reconcileSlices(s, endpointsFromPods(s, pods(2, 7000), zones), state, opts(s));
    expect(w2.create).toHaveLength(1);
    expect(w2.delete.map((x) => x.metadata.name)).toEqual([state[0].metadata.name]);
    // All gone again: the last slice becomes the placeholder instead of being deleted.
    const state2 = apply(state, w2);
    const w3 = reconcileSlices(s, [], state2, opts(s));
    expect(w3.create).toEqual([]);
    expect(w3.delete).toEqual([]);
    expect(w3.update).toHaveLength(1);
    expect(w3.update[0].endpoints).toEqual([]);
  });

  it("deletes slices of a port set no longer served and ones of another address type", () => {
    const state = apply([], reconcileSlices(s, endpointsFromPods(s, pods(3, 8000), zones), [], opts(s)));
    const v6 = { ...state[0], metadata: { ...state[0].metadata, name: "web-v6" }, addressType: "IPv6" as const };
    const s2 = svc({ ports: [{ name: "metrics", port: 9100, targetPort: 9100 }] });
    const w = reconcileSlices(s2, endpointsFromPods(s2, pods(3, 8100), zones), [...state, v6], opts(s2));
    expect(w.create).toHaveLength(1);
    expect(w.create[0].ports).toEqual([{ name: "metrics", port: 9100, protocol: "TCP" }]);
    expect(w.delete.map((x) => x.metadata.name).sort()).toEqual([state[0].metadata.name, "web-v6"].sort());
  });
});

describe("mirroring an Endpoints object (a Service without a selector)", () => {
  it("records where each endpoint is published on its node (berth.dev/host-endpoints), per slice and only its own endpoints", () => {
    const s = svc();
    const published = (ip: string, hostPort: number) => {
      const p = pod(ip);
      p.metadata.annotations = { [HOST_PORTS_ANNOTATION]: JSON.stringify({ "8080/TCP": hostPort }) };
      p.status!.hostIP = "192.168.1.5";
      return p;
    };
    const many = [published("10.3.0.1", 32001), pod("10.3.0.2"), ...Array.from({ length: 100 }, (_, i) => pod(`10.3.1.${i + 1}`)), published("10.3.2.1", 32002)];
    const w = reconcileSlices(s, endpointsFromPods(s, many, zones), [], { ...opts(s), maxPerSlice: 100 });
    const hosts = w.create.map((x) => JSON.parse(x.metadata.annotations?.[HOST_ENDPOINTS_ANNOTATION] ?? "{}"));
    // 103 endpoints sorted by address: 10.3.0.x and 10.3.1.1-98 in the first slice, the rest in the second.
    expect(hosts).toEqual([{ "10.3.0.1": { hostIP: "192.168.1.5", hostPorts: { "8080/TCP": 32001 } } }, { "10.3.2.1": { hostIP: "192.168.1.5", hostPorts: { "8080/TCP": 32002 } } }]);
    // The published pod goes: its slice loses the annotation, and keeps any other a user put there.
    const first = { ...w.create[0], metadata: { ...w.create[0].metadata, name: "web-a", annotations: { ...w.create[0].metadata.annotations, note: "mine" } } };
    const second = { ...w.create[1], metadata: { ...w.create[1].metadata, name: "web-b" } };
    const next = reconcileSlices(s, endpointsFromPods(s, many.slice(1), zones), [first, second], opts(s));
    const updated = next.update.find((x) => x.metadata.name === "web-a")!;
    expect(updated.metadata.annotations).toEqual({ note: "mine" });
    // Mirroring carries the Endpoints' host endpoints over to the slices.
    const ep: Endpoints = {
      apiVersion: "v1", kind: "Endpoints", metadata: { name: "web", namespace: "shop", annotations: { [HOST_ENDPOINTS_ANNOTATION]: JSON.stringify({ "10.4.0.1": { hostPorts: { "80/TCP": 30080 } } }) } },
      subsets: [{ addresses: [{ ip: "10.4.0.1" }, { ip: "10.4.0.2" }], ports: [{ port: 80, protocol: "TCP" }] }],
    };
    const mirrored = reconcileSlices(s, endpointsFromEndpoints(ep), [], { manager: MIRRORING_CONTROLLER, labels: {}, placeholder: false });
    expect(JSON.parse(mirrored.create[0].metadata.annotations![HOST_ENDPOINTS_ANNOTATION])).toEqual({ "10.4.0.1": { hostPorts: { "80/TCP": 30080 } } });
  });

  it("turns each subset into endpoints: ready addresses ready and serving, not-ready ones neither; no placeholder", () => {
    const ep: Endpoints = {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { name: "external", namespace: "shop" },
      subsets: [{ addresses: [{ ip: "192.168.1.10", hostname: "db-0" }], notReadyAddresses: [{ ip: "192.168.1.11" }], ports: [{ name: "pg", port: 5432, protocol: "TCP" }] }],
    };
    const groups = endpointsFromEndpoints(ep);
    expect(groups).toEqual([{
      ports: [{ name: "pg", port: 5432, protocol: "TCP" }],
      endpoints: [
        { addresses: ["192.168.1.10"], conditions: { ready: true, serving: true, terminating: false }, hostname: "db-0" },
        { addresses: ["192.168.1.11"], conditions: { ready: false, serving: false, terminating: false } },
      ],
    }]);
    const s = svc({ selector: undefined, ports: [{ name: "pg", port: 5432 }] });
    const w = reconcileSlices(s, groups, [], { manager: MIRRORING_CONTROLLER, labels: sliceLabels(s, MIRRORING_CONTROLLER, ep.metadata.labels), placeholder: false });
    expect(w.create).toHaveLength(1);
    expect(w.create[0].metadata.labels?.[MANAGED_BY_LABEL]).toBe(MIRRORING_CONTROLLER);
    expect(reconcileSlices(s, [], [], { manager: MIRRORING_CONTROLLER, labels: {}, placeholder: false })).toEqual({ create: [], update: [], delete: [] });
  });
});
