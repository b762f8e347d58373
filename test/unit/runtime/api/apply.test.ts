import { describe, expect, it } from "vitest";
import { LAST_APPLIED_ANNOTATION, lastAppliedOn, sameObject, threeWayMerge } from "../../../../runtime/api/apply.ts";

// deno-lint-ignore no-explicit-any
type O = any;

const svcManifest = (extra: O = {}): O => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "web", namespace: "default", labels: { app: "web", ...extra.labels } },
  spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: 8080 }], ...extra.spec },
});

/** What the server stored for a manifest: defaults and an allocated ClusterIP added. */
function stored(m: O, rv = "5"): O {
  const o = structuredClone(m);
  o.metadata = { ...o.metadata, uid: "u1", resourceVersion: rv, creationTimestamp: "2026-12-02T00:00:00Z" };
  o.spec.clusterIP = "10.96.0.7";
  o.spec.clusterIPs = ["10.96.0.7"];
  o.spec.sessionAffinity = "None";
  o.spec.type = o.spec.type ?? "ClusterIP";
  o.spec.ports = o.spec.ports.map((p: O) => ({ protocol: "TCP", ...p }));
  return o;
}

describe("client-side apply (three-way merge)", () => {
  it("an unchanged manifest changes nothing: the server's ClusterIP and defaults stay, and it compares equal", () => {
    const m = svcManifest();
    const first = threeWayMerge(undefined, m, stored(m));
    const cur = stored(first as O);
    const again = threeWayMerge(lastAppliedOn(cur), m, cur);
    expect(sameObject(again, cur)).toBe(true);
    expect((again as O).spec.clusterIP).toBe("10.96.0.7");
    expect((again as O).spec.ports[0].protocol).toBe("TCP");
    expect((again as O).metadata.resourceVersion).toBe("5");
  });

  it("a changed field is written, a field dropped from the manifest is removed, fields others set are kept", () => {
    const m1 = svcManifest({ labels: { tier: "front" } });
    const cur = stored(threeWayMerge(undefined, m1, stored(m1)) as O);
    cur.metadata.labels.owner = "ops"; // set by someone else (kubectl label)
    const m2 = svcManifest({ spec: { sessionAffinity: "ClientIP" } }); // tier label dropped
    const next = threeWayMerge(lastAppliedOn(cur), m2, cur) as O;
    expect(next.metadata.labels).toEqual({ app: "web", owner: "ops" });
    expect(next.spec.sessionAffinity).toBe("ClientIP");
    expect(next.spec.clusterIP).toBe("10.96.0.7");
    expect(sameObject(next, cur)).toBe(false);
    expect(JSON.parse(next.metadata.annotations[LAST_APPLIED_ANNOTATION])).toEqual(m2);
  });

  it("lists with a merge key merge by element: a container's defaults survive, a removed container goes, one added by someone else stays", () => {
    const pod = (containers: O[]): O => ({ apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers } });
    const m1 = pod([{ name: "a", image: "x:1", ports: [{ containerPort: 80 }] }, { name: "b", image: "y:1" }]);
    const cur = structuredClone(threeWayMerge(undefined, m1, m1)) as O;
    cur.spec.containers[0].imagePullPolicy = "IfNotPresent";
    cur.spec.containers[0].ports[0].protocol = "TCP";
    cur.spec.containers.push({ name: "sidecar", image: "z:1" });
    const m2 = pod([{ name: "a", image: "x:2", ports: [{ containerPort: 80 }] }]);
    const next = threeWayMerge(lastAppliedOn(cur), m2, cur) as O;
    expect(next.spec.containers).toEqual([
      { name: "a", image: "x:2", ports: [{ containerPort: 80, protocol: "TCP" }], imagePullPolicy: "IfNotPresent" },
      { name: "sidecar", image: "z:1" },
    ]);
  });

  it("a ServiceAccount's imagePullSecrets are replaced whole (an atomic list, unlike a pod's): the manifest's list is what is kept", () => {
    const sa = (pulls: string[]): O => ({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "web" }, imagePullSecrets: pulls.map((name) => ({ name })) });
    const m1 = sa(["x", "y"]);
    const cur = structuredClone(threeWayMerge(undefined, m1, m1)) as O;
    cur.imagePullSecrets.push({ name: "z" }); // added by someone else
    const next = threeWayMerge(lastAppliedOn(cur), sa(["x"]), cur) as O;
    expect(next.imagePullSecrets).toEqual([{ name: "x" }]);
  });

  it("without a last-applied annotation (created by create, not apply) nothing is removed", () => {
    const cur = stored(svcManifest({ labels: { extra: "1" } }));
    const next = threeWayMerge(undefined, svcManifest(), cur) as O;
    expect(next.metadata.labels.extra).toBe("1");
    expect(lastAppliedOn(next)).toEqual(svcManifest());
  });
});
