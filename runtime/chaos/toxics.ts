/**
 * Toxics on the path from the service proxy to each pod (Toxiproxy's model: every backend
 * connection passes through a fault proxy, normally in `pass` mode; a fault switches one pod's
 * proxies to delay, reset, blackhole or bandwidth).
 *
 * How the proxies get into the path without changing the service proxy: the harness's service
 * proxy reads EndpointSlices (and Endpoints, for other readers) through `wrap(api)`, which
 * rewrites each address's published host ports
 * (`berth.dev/host-endpoints`) to the ports of fault proxies in front of them, and the service
 * proxy is told that no pod IP is local, so it dials those host ports. Only the service path is
 * affected: probes, the node agents and the control plane still see the pods as they are.
 */
import type { ApiClient, Watch } from "../../model/client.ts";
import type { AnyObject, EndpointSlice, Endpoints } from "../../model/types.ts";
import { HOST_ENDPOINTS_ANNOTATION, type HostEndpoint, hostEndpointsOf } from "../../actors/service_endpoints.ts";
import { FaultProxy, type FaultMode } from "./fault_proxy.ts";

/** What `wrap` rewrites: the objects that carry `berth.dev/host-endpoints`. */
const REWRITTEN = new Set(["endpoints", "endpointslices"]);

/** The pod (uid, else name, else the address) behind each address of Endpoints or an EndpointSlice. */
function podsByAddress(o: AnyObject): Map<string, string> {
  const podOf = new Map<string, string>();
  if (o.kind === "EndpointSlice") {
    for (const e of (o as unknown as EndpointSlice).endpoints ?? []) {
      const ip = e.addresses?.[0];
      if (ip) podOf.set(ip, e.targetRef?.uid ?? e.targetRef?.name ?? ip);
    }
    return podOf;
  }
  for (const s of (o as unknown as Endpoints).subsets ?? []) {
    for (const a of [...(s.addresses ?? []), ...(s.notReadyAddresses ?? [])]) podOf.set(a.ip, a.targetRef?.uid ?? a.targetRef?.name ?? a.ip);
  }
  return podOf;
}

export class EndpointToxics {
  /** `hostIP:hostPort` → its fault proxy. */
  private readonly proxies = new Map<string, Promise<FaultProxy>>();
  /** Pod uid → keys of its proxies. */
  private readonly byPod = new Map<string, Set<string>>();
  private closed = false;

  private proxyFor(uid: string, hostIP: string, hostPort: number): Promise<FaultProxy> {
    const key = `${hostIP}:${hostPort}`;
    let p = this.proxies.get(key);
    if (!p) {
      p = FaultProxy.start({ upstream: { host: hostIP, port: hostPort } });
      this.proxies.set(key, p);
      p.catch(() => this.proxies.delete(key));
    }
    const keys = this.byPod.get(uid) ?? new Set();
    keys.add(key);
    this.byPod.set(uid, keys);
    return p;
  }

  /** Endpoints or an EndpointSlice as the service proxy should see them: host ports replaced by fault proxies. */
  async rewrite<T extends AnyObject>(o: T): Promise<T> {
    const hosts = hostEndpointsOf(o);
    if (this.closed || Object.keys(hosts).length === 0) return o;
    // The pod behind each address, so a fault on one pod reaches all of its proxies.
    const podOf = podsByAddress(o);
    const out: Record<string, HostEndpoint> = {};
    for (const [ip, h] of Object.entries(hosts)) {
      const hostIP = h.hostIP ?? "127.0.0.1";
      if (!/^127\./.test(hostIP)) {
        out[ip] = h;
        continue;
      }
      const ports: Record<string, number> = {};
      for (const [k, port] of Object.entries(h.hostPorts)) ports[k] = (await this.proxyFor(podOf.get(ip) ?? ip, hostIP, port)).port;
      out[ip] = { ...h, hostPorts: ports };
    }
    return { ...o, metadata: { ...o.metadata, annotations: { ...o.metadata.annotations, [HOST_ENDPOINTS_ANNOTATION]: JSON.stringify(out) } } } as T;
  }

  /** An `ApiClient` whose Endpoints and EndpointSlice reads (get, list, watch) are rewritten; everything else passes through. */
  wrap(api: ApiClient): ApiClient {
    const self = this;
    return new Proxy(api, {
      get(target, prop, receiver) {
        const orig = Reflect.get(target, prop, receiver);
        if (typeof orig !== "function") return orig;
        if (prop === "get") {
          return async (resource: string, ...rest: unknown[]) => {
            const o = await (orig as (...a: unknown[]) => Promise<AnyObject>).call(target, resource, ...rest);
            return REWRITTEN.has(resource) ? self.rewrite(o) : o;
          };
        }
        if (prop === "list") {
          return async (resource: string, ...rest: unknown[]) => {
            const l = await (orig as (...a: unknown[]) => Promise<{ items: AnyObject[] }>).call(target, resource, ...rest);
            return REWRITTEN.has(resource) ? { ...l, items: await Promise.all(l.items.map((i) => self.rewrite(i))) } : l;
          };
        }
        if (prop === "watch") {
          return async (resource: string, ...rest: unknown[]) => {
            const w = await (orig as (...a: unknown[]) => Promise<Watch>).call(target, resource, ...rest);
            if (!REWRITTEN.has(resource)) return w;
            return {
              stop: () => w.stop(),
              async *[Symbol.asyncIterator]() {
                for await (const ev of w) yield ev.type === "ADDED" || ev.type === "MODIFIED" ? { ...ev, object: await self.rewrite(ev.object) } : ev;
              },
            } satisfies Watch;
          };
        }
        return orig.bind(target);
      },
    });
  }

  /** Sets the mode of every proxy in front of a pod; returns how many there are. */
  async set(podUid: string, mode: FaultMode): Promise<number> {
    const keys = [...(this.byPod.get(podUid) ?? [])];
    for (const k of keys) (await this.proxies.get(k))?.setMode(mode);
    return keys.length;
  }

  async heal(podUid: string): Promise<void> {
    await this.set(podUid, { type: "pass" });
  }

  async stop(): Promise<void> {
    this.closed = true;
    const all = [...this.proxies.values()];
    this.proxies.clear();
    await Promise.all(all.map(async (p) => (await p.catch(() => undefined))?.stop()));
  }
}
