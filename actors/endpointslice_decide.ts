/**
 * What EndpointSlices a Service should have, and what to write to get there (pure): the
 * decisions of kube-controller-manager's endpointslice controller (pkg/controller/endpointslice,
 * for a Service with a selector: its endpoints come from its pods) and endpointslicemirroring
 * controller (for a Service without a selector: its endpoints are mirrored from the Endpoints
 * object its owner writes).
 *
 *   desired groups (one per port set) ──┐
 *   the slices this controller manages ─┴─▶ reconcileSlices ─▶ create / update / delete
 *
 * Slices carry `kubernetes.io/service-name`, `endpointslice.kubernetes.io/managed-by` and the
 * Service's own labels; they are named `<service>-<random>` (generateName) and owned by the
 * Service, so the garbage collector removes them with it. At most 100 endpoints a slice. An
 * endpoint stays in the slice it is in while it lives (consumers see fewer changes); new ones
 * fill the free room of existing slices before a new slice is made. A Service whose selector
 * matches no pod gets one empty "placeholder" slice, as in Kubernetes. Slices managed by anyone
 * else are never touched. No I/O, no clock.
 */
import type { Endpoint, EndpointSlice, EndpointSlicePort, Endpoints, Pod, Service } from "../model/types.ts";
import { isPodReady } from "../model/pod.ts";
import { HOST_ENDPOINTS_ANNOTATION, type HostEndpoint, backsService, endpointHostname, hostEndpointOf, hostEndpointsAnnotation, hostEndpointsOf, resolveTargetPort } from "./service_endpoints.ts";

export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
export const MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by";
/** The manager of slices made from a Service's pods. */
export const SLICE_CONTROLLER = "endpointslice-controller.k8s.io";
/** The manager of slices mirrored from the Endpoints of a Service without a selector. */
export const MIRRORING_CONTROLLER = "endpointslicemirroring-controller.k8s.io";
/** On an Endpoints object: do not mirror it (kube-apiserver sets it on its own `kubernetes` Endpoints). */
export const SKIP_MIRROR_LABEL = "endpointslice.kubernetes.io/skip-mirror";
/** On a headless Service's slices. */
export const HEADLESS_LABEL = "service.kubernetes.io/headless";
/** kube-controller-manager's `--max-endpoints-per-slice` default. */
export const MAX_ENDPOINTS_PER_SLICE = 100;
/** The endpointslicemirroring controller's `--mirroring-max-endpoints-per-subset` default. */
export const MAX_MIRRORED_ENDPOINTS_PER_SUBSET = 1000;
export const ZONE_LABEL = "topology.kubernetes.io/zone";

/** The endpoints of one port set. */
export interface SliceGroup {
  ports: EndpointSlicePort[];
  endpoints: Endpoint[];
  /**
   * Where each endpoint (by address) is published on its node, for proxies on other machines:
   * written on each slice as `berth.dev/host-endpoints`, for the slice's own endpoints.
   */
  hosts?: Record<string, HostEndpoint>;
}

/** Which controller manages a Service's slices: by its selector; none for an ExternalName alias. */
export function sliceManagerOf(svc: Service): typeof SLICE_CONTROLLER | typeof MIRRORING_CONTROLLER | undefined {
  if (svc.spec.type === "ExternalName") return undefined;
  return svc.spec.selector && Object.keys(svc.spec.selector).length > 0 ? SLICE_CONTROLLER : MIRRORING_CONTROLLER;
}

/** A port set's identity (its ports in a canonical order). */
export function portsKey(ports: readonly EndpointSlicePort[]): string {
  return JSON.stringify([...ports].map((p) => [p.name ?? "", p.protocol ?? "TCP", p.port ?? null, p.appProtocol ?? null]).sort());
}

/** An endpoint's identity across passes: its pod, else its first address. */
function endpointKey(e: Endpoint): string {
  return e.targetRef?.uid ? `uid:${e.targetRef.uid}` : e.targetRef?.name ? `ref:${e.targetRef.namespace ?? ""}/${e.targetRef.name}` : `ip:${e.addresses[0]}`;
}

const byAddress = (a: Endpoint, b: Endpoint) => (a.addresses[0] < b.addresses[0] ? -1 : a.addresses[0] > b.addresses[0] ? 1 : 0);

/**
 * The endpoints a Service's pods give (kube's podToEndpoint): every pod of its namespace its
 * selector matches that has an IP and has not finished, terminating ones included (ready false,
 * serving as its readiness says, terminating true), grouped by the ports the pod resolves.
 * `zoneOf` gives a node's zone label.
 */
export function endpointsFromPods(svc: Service, pods: readonly Pod[], zoneOf: (node: string) => string | undefined): SliceGroup[] {
  const ns = svc.metadata.namespace ?? "default";
  const groups = new Map<string, SliceGroup>();
  for (const pod of pods) {
    if (!backsService(svc, pod)) continue;
    const ip = pod.status!.podIP!;
    const ports: EndpointSlicePort[] = [];
    for (const sp of svc.spec.ports ?? []) {
      const port = resolveTargetPort(sp, pod);
      if (port === undefined) continue;
      ports.push({ name: sp.name ?? "", port, protocol: sp.protocol ?? "TCP", ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
    }
    const terminating = !!pod.metadata.deletionTimestamp;
    const serving = svc.spec.publishNotReadyAddresses === true || isPodReady(pod);
    const hostname = endpointHostname(pod, svc);
    const zone = pod.spec.nodeName ? zoneOf(pod.spec.nodeName) : undefined;
    const endpoint: Endpoint = {
      addresses: [ip],
      conditions: { ready: serving && !terminating, serving, terminating },
      ...(hostname ? { hostname } : {}),
      targetRef: { kind: "Pod", namespace: pod.metadata.namespace ?? ns, name: pod.metadata.name, ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}) },
      ...(pod.spec.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      ...(zone ? { zone } : {}),
    };
    const key = portsKey(ports);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports, endpoints: [] }));
    g.endpoints.push(endpoint);
    const host = hostEndpointOf(pod, ports);
    if (host) (g.hosts ??= {})[ip] = host;
  }
  return [...groups.values()];
}

/**
 * The endpoints of an Endpoints object, for a Service without a selector (kube's mirroring):
 * one group per subset, ready addresses ready and serving, not-ready ones neither, at most
 * `MAX_MIRRORED_ENDPOINTS_PER_SUBSET` of each subset. Only IPv4 addresses (Berth's services are IPv4).
 */
export function endpointsFromEndpoints(ep: Endpoints): SliceGroup[] {
  const groups = new Map<string, SliceGroup>();
  const hosts = hostEndpointsOf(ep);
  for (const subset of ep.subsets ?? []) {
    const ports: EndpointSlicePort[] = (subset.ports ?? []).map((p) => ({ name: p.name ?? "", port: p.port, protocol: p.protocol ?? "TCP" }));
    const key = portsKey(ports);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports, endpoints: [] }));
    const add = (ready: boolean) => (a: NonNullable<typeof subset.addresses>[number]) => {
      if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(a.ip)) return;
      if (hosts[a.ip]) (g.hosts ??= {})[a.ip] = hosts[a.ip];
      g.endpoints.push({
        addresses: [a.ip],
        conditions: { ready, serving: ready, terminating: false },
        ...(a.hostname ? { hostname: a.hostname } : {}),
        ...(a.targetRef ? { targetRef: { ...a.targetRef } } : {}),
        ...(a.nodeName ? { nodeName: a.nodeName } : {}),
      });
    };
    const before = g.endpoints.length;
    (subset.addresses ?? []).forEach(add(true));
    (subset.notReadyAddresses ?? []).forEach(add(false));
    if (g.endpoints.length - before > MAX_MIRRORED_ENDPOINTS_PER_SUBSET) g.endpoints.length = before + MAX_MIRRORED_ENDPOINTS_PER_SUBSET;
  }
  return [...groups.values()];
}

/** What to write. Creates have `metadata.generateName` and no name. */
export interface SliceWrites {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
}

/** The labels every slice of `svc` managed by `manager` carries: the Service's own, then kube's. */
export function sliceLabels(svc: Service, manager: string, source?: Record<string, string>): Record<string, string> {
  const own = { ...(source ?? svc.metadata.labels ?? {}) };
  // A label a user put on the Service cannot take over the ones the controllers read.
  delete own[SERVICE_NAME_LABEL];
  delete own[MANAGED_BY_LABEL];
  return {
    ...own,
    [SERVICE_NAME_LABEL]: svc.metadata.name,
    [MANAGED_BY_LABEL]: manager,
    ...(svc.spec.clusterIP === "None" ? { [HEADLESS_LABEL]: "" } : {}),
  };
}

function sameSlice(a: EndpointSlice, b: EndpointSlice): boolean {
  return JSON.stringify(a.endpoints) === JSON.stringify(b.endpoints) && portsKey(a.ports ?? []) === portsKey(b.ports ?? []) &&
    (a.metadata.annotations?.[HOST_ENDPOINTS_ANNOTATION] ?? "") === (b.metadata.annotations?.[HOST_ENDPOINTS_ANNOTATION] ?? "") &&
    JSON.stringify(a.metadata.labels ?? {}) === JSON.stringify(b.metadata.labels ?? {}) && a.addressType === b.addressType &&
    JSON.stringify(a.metadata.ownerReferences ?? []) === JSON.stringify(b.metadata.ownerReferences ?? []);
}

/**
 * The writes that turn `existing` (the slices of `svc` this `manager` wrote) into `groups`.
 * `placeholder`: keep one empty slice when there is no endpoint at all (the pod controller's
 * behaviour; the mirroring controller makes none). `labels`: what each slice is labelled.
 */
export function reconcileSlices(
  svc: Service,
  groups: readonly SliceGroup[],
  existing: readonly EndpointSlice[],
  opts: { manager: string; labels: Record<string, string>; placeholder: boolean; maxPerSlice?: number },
): SliceWrites {
  const max = opts.maxPerSlice ?? MAX_ENDPOINTS_PER_SLICE;
  const ns = svc.metadata.namespace ?? "default";
  const owner = { apiVersion: "v1", kind: "Service", name: svc.metadata.name, ...(svc.metadata.uid ? { uid: svc.metadata.uid } : { uid: "" }), controller: true, blockOwnerDeletion: true };
  const shape = (base: EndpointSlice | undefined, ports: EndpointSlicePort[], endpoints: Endpoint[], hosts?: Record<string, HostEndpoint>): EndpointSlice => {
    const sorted = [...endpoints].sort(byAddress);
    // The annotation lists this slice's own endpoints only; the slice's other annotations stay.
    const { [HOST_ENDPOINTS_ANNOTATION]: _old, ...others } = base?.metadata.annotations ?? {};
    const own = hosts ? Object.fromEntries(sorted.flatMap((e) => (hosts[e.addresses[0]] ? [[e.addresses[0], hosts[e.addresses[0]]]] : []))) : {};
    const annotations = { ...others, ...hostEndpointsAnnotation(own) };
    const withAnnotations = Object.keys(annotations).length ? { annotations } : {};
    const { annotations: _before, ...baseMeta } = base?.metadata ?? { name: "" };
    return {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: base
        ? { ...baseMeta, ...withAnnotations, labels: opts.labels, ownerReferences: [owner] }
        : { generateName: `${svc.metadata.name}-`, name: "", namespace: ns, ...withAnnotations, labels: opts.labels, ownerReferences: [owner] },
      addressType: "IPv4",
      endpoints: sorted,
      ports,
    };
  };
  const out: SliceWrites = { create: [], update: [], delete: [] };
  const byPorts = new Map<string, EndpointSlice[]>();
  for (const s of existing) {
    // A slice of another address type is not ours to keep (Berth serves IPv4).
    if (s.addressType !== "IPv4") { out.delete.push(s); continue; }
    const k = portsKey(s.ports ?? []);
    byPorts.set(k, [...(byPorts.get(k) ?? []), s]);
  }
  const total = groups.reduce((n, g) => n + g.endpoints.length, 0);
  const leftover: EndpointSlice[] = [];
  for (const g of groups) {
    if (g.endpoints.length === 0) continue;
    const k = portsKey(g.ports);
    const slices = [...(byPorts.get(k) ?? [])].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
    byPorts.delete(k);
    const wanted = new Map(g.endpoints.map((e) => [endpointKey(e), e]));
    // Each endpoint that lives on stays where it is (its current form); the rest fill free room.
    const kept = slices.map((s) => {
      const eps: Endpoint[] = [];
      for (const e of s.endpoints ?? []) {
        const key = endpointKey(e);
        const now = wanted.get(key);
        if (now && eps.length < max) { eps.push(now); wanted.delete(key); }
      }
      return { slice: s, eps };
    });
    const fresh = [...wanted.values()].sort(byAddress);
    for (const k2 of kept) while (fresh.length && k2.eps.length < max) k2.eps.push(fresh.shift()!);
    for (const { slice, eps } of kept) {
      if (eps.length === 0) { out.delete.push(slice); continue; }
      const next = shape(slice, g.ports, eps, g.hosts);
      if (!sameSlice(slice, next)) out.update.push(next);
    }
    while (fresh.length) out.create.push(shape(undefined, g.ports, fresh.splice(0, max), g.hosts));
  }
  for (const rest of byPorts.values()) leftover.push(...rest);
  if (total === 0 && opts.placeholder) {
    // One empty slice stands for "no endpoints" (kube's placeholder); any other is deleted.
    const keep = [...leftover, ...out.delete.filter((s) => s.addressType === "IPv4")].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))[0];
    const placeholder = shape(keep, [], []);
    if (!keep) out.create.push(placeholder);
    else if (!sameSlice(keep, placeholder)) out.update.push(placeholder);
    out.delete = out.delete.filter((s) => s !== keep);
    for (const s of leftover) if (s !== keep) out.delete.push(s);
    return out;
  }
  out.delete.push(...leftover);
  return out;
}
