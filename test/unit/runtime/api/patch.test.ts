import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { applyPatch } from "../../../../runtime/api/patch.ts";
import { ApiError } from "../../../../model/errors.ts";

function errorOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("expected an ApiError");
}

describe("merge patch (RFC 7386)", () => {
  it("merge patch - follows the RFC's examples", () => {
    const cases: [unknown, unknown, unknown][] = [
      [{ a: "b" }, { a: "c" }, { a: "c" }],
      [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
      [{ a: "b" }, { a: null }, {}],
      [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
      [{ a: ["b"] }, { a: "c" }, { a: "c" }],
      [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
      [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
      [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
      [{ e: null }, { a: 1 }, { e: null, a: 1 }],
      [[1, 2], { a: "b", c: null }, { a: "b" }],
      [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    ];
    for (const [target, patch, want] of cases) expect(applyPatch(target, patch, "merge")).toEqual(want);
  });

  it("merge patch - replaces lists whole, even keyed ones", () => {
    const pod = { spec: { containers: [{ name: "a", image: "x" }, { name: "b", image: "y" }] } };
    expect(applyPatch(pod, { spec: { containers: [{ name: "a", image: "z" }] } }, "merge")).toEqual({
      spec: { containers: [{ name: "a", image: "z" }] },
    });
  });

  it("merge patch - never modifies its input", () => {
    fc.assert(
      fc.property(fc.object(), fc.object(), (target, patch) => {
        const before = JSON.stringify(target);
        applyPatch(target, patch, "merge");
        return JSON.stringify(target) === before;
      }),
    );
  });

  it("merge patch - is idempotent", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.dictionary(fc.string(), fc.jsonValue()), (target, patch) => {
        const once = applyPatch(target, patch, "merge");
        expect(applyPatch(once, patch, "merge")).toEqual(once);
      }),
    );
  });

  it("merge patch - rejects a body that is not an object with 400", () => {
    expect(errorOf(() => applyPatch({}, [1], "merge")).code).toBe(400);
  });
});

describe("json patch (RFC 6902)", () => {
  const doc = { metadata: { name: "p", labels: { app: "web" } }, spec: { containers: [{ name: "a" }, { name: "b" }] } };

  it("json patch - applies add, remove, replace, move, copy and test in order", () => {
    const out = applyPatch(
      doc,
      [
        { op: "test", path: "/metadata/name", value: "p" },
        { op: "add", path: "/metadata/labels/tier", value: "front" },
        { op: "replace", path: "/metadata/labels/app", value: "api" },
        { op: "add", path: "/spec/containers/1", value: { name: "mid" } },
        { op: "add", path: "/spec/containers/-", value: { name: "last" } },
        { op: "remove", path: "/spec/containers/0" },
        { op: "copy", from: "/metadata/labels", path: "/metadata/annotations" },
        { op: "move", from: "/metadata/annotations/tier", path: "/metadata/annotations/moved" },
      ],
      "json",
    );
    expect(out).toEqual({
      metadata: { name: "p", labels: { app: "api", tier: "front" }, annotations: { app: "api", moved: "front" } },
      spec: { containers: [{ name: "mid" }, { name: "b" }, { name: "last" }] },
    });
    expect(doc.spec.containers).toHaveLength(2); // input untouched
  });

  it("json patch - decodes ~0 and ~1 in pointers", () => {
    const out = applyPatch({ metadata: { annotations: { "a/b": "1", "c~d": "2" } } }, [
      { op: "replace", path: "/metadata/annotations/a~1b", value: "x" },
      { op: "remove", path: "/metadata/annotations/c~0d" },
    ], "json");
    expect(out).toEqual({ metadata: { annotations: { "a/b": "x" } } });
  });

  it("json patch - a failed test is 422 Invalid naming the operation index and path", () => {
    const err = errorOf(() =>
      applyPatch(doc, [{ op: "add", path: "/x", value: 1 }, { op: "test", path: "/metadata/name", value: "q" }], "json"),
    );
    expect(err.code).toBe(422);
    expect(err.reason).toBe("Invalid");
    expect(err.message).toContain("operation 1");
    expect(err.message).toContain("/metadata/name");
    expect(err.details?.causes?.[0]?.field).toBe("/metadata/name");
  });

  it("json patch - operations on missing paths are 422", () => {
    for (const op of [
      { op: "remove", path: "/metadata/nope" },
      { op: "replace", path: "/spec/containers/5", value: 1 },
      { op: "add", path: "/a/b/c", value: 1 },
      { op: "move", from: "/nope", path: "/x" },
      { op: "move", from: "/metadata", path: "/metadata/labels/x" },
      { op: "add", path: "/spec/containers/01", value: 1 },
    ]) {
      expect(errorOf(() => applyPatch(doc, [op], "json")).code, JSON.stringify(op)).toBe(422);
    }
  });

  it("json patch - malformed documents are 400", () => {
    for (const p of [
      { op: "add" },
      [{ op: "frobnicate", path: "/a" }],
      [{ op: "add", path: "/a" }],
      [{ op: "add", path: "a", value: 1 }],
      [{ op: "copy", path: "/a" }],
      ["add"],
    ]) {
      const err = errorOf(() => applyPatch(doc, p, "json"));
      expect(err.code, JSON.stringify(p)).toBe(400);
    }
  });
});

describe("strategic merge patch", () => {
  const pod = {
    metadata: { name: "p", labels: { app: "web" }, finalizers: ["a"] },
    spec: {
      containers: [
        {
          name: "web",
          image: "busybox",
          ports: [{ containerPort: 80, name: "http" }, { containerPort: 443 }],
          env: [{ name: "A", value: "1" }, { name: "B", value: "2" }],
          volumeMounts: [{ name: "data", mountPath: "/data" }],
        },
        { name: "sidecar", image: "busybox" },
      ],
      volumes: [{ name: "data", emptyDir: {} }],
    },
    status: { conditions: [{ type: "Ready", status: "False" }, { type: "Initialized", status: "True" }] },
  };

  it("strategic merge - merges containers by name, ports by containerPort, env by name", () => {
    const out = applyPatch(pod, {
      spec: {
        containers: [
          {
            name: "web",
            image: "busybox:2",
            ports: [{ containerPort: 80, protocol: "TCP" }, { containerPort: 8080 }],
            env: [{ name: "B", value: "two" }, { name: "C", value: "3" }],
          },
          { name: "new", image: "x" },
        ],
      },
    }, "strategic") as typeof pod;
    const web = out.spec.containers[0];
    expect(web.image).toBe("busybox:2");
    expect(web.ports).toEqual([{ containerPort: 80, name: "http", protocol: "TCP" }, { containerPort: 443 }, { containerPort: 8080 }]);
    expect(web.env).toEqual([{ name: "A", value: "1" }, { name: "B", value: "two" }, { name: "C", value: "3" }]);
    expect(web.volumeMounts).toEqual([{ name: "data", mountPath: "/data" }]);
    expect(out.spec.containers.map((c) => c.name)).toEqual(["web", "sidecar", "new"]);
  });

  it("strategic merge - merges conditions by type and volumes by name", () => {
    const out = applyPatch(pod, {
      spec: { volumes: [{ name: "cache", emptyDir: {} }] },
      status: { conditions: [{ type: "Ready", status: "True" }] },
    }, "strategic") as typeof pod;
    expect(out.spec.volumes.map((v) => v.name)).toEqual(["data", "cache"]);
    expect(out.status.conditions).toEqual([{ type: "Ready", status: "True" }, { type: "Initialized", status: "True" }]);
  });

  it("strategic merge - merges topology spread constraints by topologyKey, as the pod spec's patchMergeKey says", () => {
    const spec = { topologySpreadConstraints: [{ topologyKey: "zone", maxSkew: 1, whenUnsatisfiable: "DoNotSchedule" }, { topologyKey: "host", maxSkew: 1, whenUnsatisfiable: "ScheduleAnyway" }] };
    const out = applyPatch({ spec }, { spec: { topologySpreadConstraints: [{ topologyKey: "zone", maxSkew: 2 }] } }, "strategic");
    expect(out).toEqual({ spec: { topologySpreadConstraints: [{ topologyKey: "zone", maxSkew: 2, whenUnsatisfiable: "DoNotSchedule" }, spec.topologySpreadConstraints[1]] } });
  });

  it("strategic merge - merges service ports by port and replaces unkeyed lists", () => {
    const svc = { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }], externalIPs: ["1.1.1.1"] } };
    const out = applyPatch(svc, { spec: { ports: [{ port: 80, targetPort: 9090 }], externalIPs: ["2.2.2.2"] } }, "strategic");
    expect(out).toEqual({ spec: { ports: [{ port: 80, targetPort: 9090 }, { port: 443 }], externalIPs: ["2.2.2.2"] } });
  });

  it("strategic merge - honours $patch delete on list elements and maps", () => {
    const out = applyPatch(pod, {
      metadata: { labels: { $patch: "delete" } },
      spec: { containers: [{ name: "sidecar", $patch: "delete" }, { name: "web", env: [{ name: "A", $patch: "delete" }] }] },
    }, "strategic") as typeof pod;
    expect(out.metadata.labels).toBeUndefined();
    expect(out.spec.containers.map((c) => c.name)).toEqual(["web"]);
    expect(out.spec.containers[0].env).toEqual([{ name: "B", value: "2" }]);
  });

  it("strategic merge - honours $patch replace on lists and maps", () => {
    const out = applyPatch(pod, {
      metadata: { labels: { $patch: "replace", only: "this" } },
      spec: { containers: [{ $patch: "replace" }, { name: "solo", image: "x" }] },
    }, "strategic") as typeof pod;
    expect(out.metadata.labels).toEqual({ only: "this" });
    expect(out.spec.containers).toEqual([{ name: "solo", image: "x" }]);
  });

  it("strategic merge - null deletes a field; $retainKeys drops the others", () => {
    const out = applyPatch(pod, {
      spec: { volumes: [{ name: "data", $retainKeys: ["name", "hostPath"], hostPath: { path: "/tmp" } }] },
      status: null,
    }, "strategic") as Record<string, unknown> & typeof pod;
    expect(out.status).toBeUndefined();
    expect(out.spec.volumes).toEqual([{ name: "data", hostPath: { path: "/tmp" } }]);
  });

  it("strategic merge - $setElementOrder reorders, $deleteFromPrimitiveList removes, finalizers union", () => {
    const out = applyPatch(pod, {
      metadata: { finalizers: ["b", "a"], "$deleteFromPrimitiveList/finalizers": ["a"] },
      spec: { "$setElementOrder/containers": [{ name: "sidecar" }, { name: "web" }] },
    }, "strategic") as typeof pod;
    expect(out.spec.containers.map((c) => c.name)).toEqual(["sidecar", "web"]);
    expect(out.metadata.finalizers).toEqual(["b"]);
  });

  it("strategic merge - a ServiceAccount's imagePullSecrets are replaced whole, its secrets merge by name; a pod's imagePullSecrets merge by name", () => {
    const sa = { metadata: { name: "web" }, secrets: [{ name: "a" }, { name: "b" }], imagePullSecrets: [{ name: "x" }, { name: "y" }] };
    const out = applyPatch(sa, { secrets: [{ name: "c" }], imagePullSecrets: [{ name: "x" }] }, "strategic") as typeof sa;
    expect(out.imagePullSecrets).toEqual([{ name: "x" }]);
    expect(out.secrets.map((r) => r.name).sort()).toEqual(["a", "b", "c"]);
    const p = { metadata: { name: "p" }, spec: { imagePullSecrets: [{ name: "x" }], containers: [] } };
    const merged = applyPatch(p, { spec: { imagePullSecrets: [{ name: "y" }] } }, "strategic") as typeof p;
    expect(merged.spec.imagePullSecrets).toEqual([{ name: "x" }, { name: "y" }]);
  });

  it("strategic merge - what kubectl apply sends for an edited RC", () => {
    const rc = {
      metadata: { name: "web", annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}" } },
      spec: { replicas: 2, template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "a", env: [{ name: "X", value: "1" }] }] } } },
    };
    const out = applyPatch(rc, {
      metadata: { annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{\"v\":2}" } },
      spec: {
        replicas: 3,
        template: { spec: { $setElementOrder: undefined, "$setElementOrder/containers": [{ name: "web" }], containers: [{ name: "web", image: "b" }] } },
      },
    }, "strategic") as typeof rc;
    expect(out.spec.replicas).toBe(3);
    expect(out.spec.template.spec.containers).toEqual([{ name: "web", image: "b", env: [{ name: "X", value: "1" }] }]);
    expect(out.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]).toBe("{\"v\":2}");
  });

  it("strategic merge - a keyed element without its key is 400", () => {
    expect(errorOf(() => applyPatch(pod, { spec: { containers: [{ image: "x" }] } }, "strategic")).code).toBe(400);
  });

  it("strategic merge - agrees with merge patch when no lists are involved", () => {
    const noLists = fc.dictionary(fc.string().filter((k) => !k.startsWith("$")), fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.dictionary(fc.string().filter((k) => !k.startsWith("$")), fc.oneof(fc.string(), fc.constant(null)))));
    fc.assert(
      fc.property(noLists, noLists, (target, patch) => {
        expect(applyPatch(target, patch, "strategic")).toEqual(applyPatch(target, patch, "merge"));
      }),
    );
  });
});
