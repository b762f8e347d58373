/**
 * Toxics on the path from the service proxy to each pod (Toxiproxy's model: every backend
 * connection passes through a fault proxy, normally in `pass` mode; a fault switches one pod's
 * proxies to delay, reset, blackhole or bandwidth).
 *
 * How the proxies get into the path without changing the service proxy: the harness's service
 * proxy reads pods through `wrap(api)`, which rewrites each pod's published host ports
 * (`berth.dev/host-ports`) to the ports of fault proxies in front of them, and the service proxy
 * is told that no pod IP is local, so it dials those host ports. Only the service path is
 * affected: probes and the node agents still reach the pods directly.
 */
import type { ApiClient, Watch } from "../../model/client.ts";
import type { AnyObject, Pod } from "../../model/types.ts";
import { FaultProxy, type FaultMode } from "./fault_proxy.ts";
import { HOST_PORTS_ANNOTATION } from "../../model/pod.ts";

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

  /** The pod as the service proxy should see it: host ports replaced by fault proxies. */
  async rewrite<T extends AnyObject>(o: T): Promise<T> {
    const pod = o as unknown as Pod;
    const raw = pod.metadata?.annotations?.[HOST_PORTS_ANNOTATION];
    const hostIP = pod.status?.hostIP ?? "127.0.0.1";
    if (!raw || this.closed || !/^127\./.test(hostIP)) return o;
    let ports: Record<string, number>;
    try {
      ports = JSON.parse(raw);
    } catch {
      return o;
    }
    const out: Record<string, number> = {};
    for (const [k, port] of Object.entries(ports)) out[k] = (await this.proxyFor(pod.metadata.uid ?? pod.metadata.name, hostIP, port)).port;
    return { ...o, metadata: { ...o.metadata, annotations: { ...o.metadata.annotations, [HOST_PORTS_ANNOTATION]: JSON.stringify(out) } } } as T;
  }

  /** An `ApiClient` whose pod reads (get, list, watch) are rewritten; everything else passes through. */
  wrap(api: ApiClient): ApiClient {
    const self = this;
    return new Proxy(api, {
      get(target, prop, receiver) {
        const orig = Reflect.get(target, prop, receiver);
        if (typeof orig !== "function") return orig;
        if (prop === "get") {
          return async (resource: string, ...rest: unknown[]) => {
            const o = await (orig as (...a: unknown[]) => Promise<AnyObject>).call(target, resource, ...rest);
            return resource === "pods" ? self.rewrite(o) : o;
          };
        }
        if (prop === "list") {
          return async (resource: string, ...rest: unknown[]) => {
            const l = await (orig as (...a: unknown[]) => Promise<{ items: AnyObject[] }>).call(target, resource, ...rest);
            return resource === "pods" ? { ...l, items: await Promise.all(l.items.map((i) => self.rewrite(i))) } : l;
          };
        }
        if (prop === "watch") {
          return async (resource: string, ...rest: unknown[]) => {
            const w = await (orig as (...a: unknown[]) => Promise<Watch>).call(target, resource, ...rest);
            if (resource !== "pods") return w;
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
