/**
 * Fuzzing the NATS API on a real nats-server: random bytes, random JSON and mutated valid
 * requests on every API subject (both the unrestricted and the node-scoped face). Every
 * request must be answered with an object or a Status that is not a 500, the server must keep
 * answering, and the guarded objects must be byte-for-byte intact afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { RESOURCES } from "../../model/types.ts";
import { VERBS } from "../../runtime/subjects.ts";
import { startTestApi, type TestApi } from "../helpers/api.ts";
import { changed, snapshot, type Snapshot } from "../helpers/fuzz_snapshot.ts";
import { deepJson } from "../helpers/deep_inputs.ts";

const BOGUS_RESOURCES = ["toString", "constructor", "__proto__", "hasOwnProperty", "x"];
const RESOURCE_TOKENS = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...Object.keys(RESOURCES), "scale", "watches") }, { weight: 1, arbitrary: fc.constantFrom(...BOGUS_RESOURCES) });
const VERB_TOKENS = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...VERBS, "stop", "keepalive") }, { weight: 1, arbitrary: fc.constantFrom("frob", "constructor", "__proto__") });

const podSpec = { containers: [{ name: "main", image: "berth/busybox", command: ["sleep", "3600"] }] };
const templates: Record<string, unknown> = {
  pods: { apiVersion: "v1", kind: "Pod", metadata: { name: "fz-pod", namespace: "fuzz" }, spec: podSpec },
  services: { apiVersion: "v1", kind: "Service", metadata: { name: "fz-svc", namespace: "fuzz" }, spec: { selector: { a: "b" }, ports: [{ port: 80 }] } },
  replicationcontrollers: {
    apiVersion: "v1",
    kind: "ReplicationController",
    metadata: { name: "fz-rc", namespace: "fuzz" },
    spec: { replicas: 0, selector: { a: "b" }, template: { metadata: { labels: { a: "b" } }, spec: podSpec } },
  },
  nodes: { apiVersion: "v1", kind: "Node", metadata: { name: "node-a" } },
  namespaces: { apiVersion: "v1", kind: "Namespace", metadata: { name: "fz-ns" } },
  endpoints: { apiVersion: "v1", kind: "Endpoints", metadata: { name: "fz-svc", namespace: "fuzz" }, subsets: [] },
  events: {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: "fz.1", namespace: "fuzz" },
    involvedObject: { kind: "Pod", name: "fz-pod" },
    reason: "R",
    message: "m",
    source: { host: "node-a" },
  },
};

/** Names the unrestricted fuzzer may use: never a guarded object's. */
const names = fc.constantFrom("fz-pod", "fz-svc", "fz-rc", "fz-ns", "fz.1", "node-a", "", "x", "UPPER", "a.b", "../etc", "default");
const namespaces = fc.constantFrom("fuzz", "default", "", "no-such", "kube-system", undefined);
const weird = fc.oneof(fc.anything(), fc.string(), fc.integer(), fc.constant(null), fc.constant(undefined), fc.constant({}), fc.constant([]));

function mutate(value: unknown, path: (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  if (!value || typeof value !== "object") return value;
  const [head, ...rest] = path;
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<string | number, unknown>;
  const key = Array.isArray(value) ? Number(head) % Math.max(1, value.length) : Object.keys(copy)[Number(head) % Math.max(1, Object.keys(copy).length)] ?? String(head);
  copy[key] = mutate(copy[key], rest, replacement);
  return copy;
}

/** A structurally plausible request body for any verb, with some fields mutated. */
const structured = fc.record(
  {
    object: fc.tuple(fc.constantFrom(...Object.keys(templates)), fc.array(fc.nat(6), { maxLength: 4 }), weird, fc.boolean()).map(([k, path, rep, doMutate]) =>
      doMutate ? mutate(templates[k], path, rep) : templates[k]
    ),
    name: fc.oneof(names, weird),
    namespace: fc.oneof(namespaces, weird),
    patch: fc.oneof(fc.constant({ metadata: { annotations: { a: "b" } } }), fc.constant([{ op: "add", path: "/metadata/labels", value: { x: "y" } }]), fc.constant({ status: { phase: "Running" } }), weird),
    patchType: fc.oneof(fc.constantFrom("merge", "json", "strategic", "apply"), weird),
    subresource: fc.oneof(fc.constantFrom("status", "scale"), weird),
    watchId: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{6,20}$/), weird),
    labelSelector: fc.oneof(fc.constantFrom("a=b", "a in (b,c)", "!a", "a in (", "=", ",,,"), fc.string()),
    fieldSelector: fc.oneof(fc.constantFrom("spec.nodeName=node-a", "spec.nodeName==node-b", "metadata.name=x", "bogus=1", "spec.nodeName=node-a,metadata.name=x"), fc.string()),
    limit: fc.oneof(fc.integer({ min: -2, max: 5 }), weird),
    continue: fc.oneof(fc.constantFrom("eyJhZnRlciI6ImEifQ==", "!!!"), fc.string()),
    gracePeriodSeconds: fc.oneof(fc.integer({ min: -1, max: 30 }), weird),
    preconditions: fc.oneof(fc.record({ uid: fc.string(), resourceVersion: fc.string() }), weird),
    replicas: fc.oneof(fc.integer({ min: -1, max: 3 }), weird),
    resourceVersion: fc.oneof(fc.constantFrom("0", "1", "-1", "abc", "99999999999999999999"), weird),
    node: fc.oneof(fc.constantFrom("node-a", "node-b", "", "Bad Node", "a.b"), weird),
    uid: fc.oneof(fc.constantFrom("", "no-such-uid"), weird),
  },
  { requiredKeys: [] },
);

/** The same fields with only sensible values for `resource`: requests that mostly pass validation. */
const sane = (resource: string) =>
  fc.record(
    {
      object: templates[resource] ? fc.constant(templates[resource]) : fc.constantFrom(...Object.values(templates)),
      name: names,
      namespace: namespaces,
      patch: fc.constantFrom({ metadata: { annotations: { a: "b" } } }, { metadata: { labels: { x: "y" } } }, { status: { phase: "Running" } }),
      patchType: fc.constantFrom("merge", "strategic"),
      subresource: fc.constantFrom("status", undefined),
      watchId: fc.stringMatching(/^[A-Za-z0-9_-]{6,20}$/),
      fieldSelector: fc.constantFrom("spec.nodeName=node-a", "spec.nodeName=node-b", undefined),
      gracePeriodSeconds: fc.constantFrom(0, 1),
      replicas: fc.constantFrom(0, 1),
      node: fc.constantFrom("node-a", "node-b"),
    },
    { requiredKeys: ["object", "name"] },
  );

const VALID_PAIRS: [string, string][] = [
  ...Object.keys(RESOURCES).flatMap((r) => VERBS.map((v) => [r, v] as [string, string])),
  ["scale", "get"],
  ["scale", "update"],
  ["watches", "keepalive"],
  ["watches", "stop"],
];
const target = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...VALID_PAIRS) }, { weight: 2, arbitrary: fc.tuple(RESOURCE_TOKENS, VERB_TOKENS) });

const encode = (b: unknown) => new TextEncoder().encode(JSON.stringify(b));
/** A subject's resource and verb with a body: random bytes, random JSON, mutated or sensible. */
const request = target.chain(([r, v]) =>
  fc.tuple(
    fc.constant(r),
    fc.constant(v),
    fc.oneof(
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }) },
      { weight: 1, arbitrary: fc.json().map((s) => new TextEncoder().encode(s)) },
      { weight: 3, arbitrary: structured.map(encode) },
      { weight: 4, arbitrary: sane(r).map(encode) },
    ),
  )
);

describe("fuzz: NATS API", () => {
  let t: TestApi;
  let nc: NatsConnection;
  let guarded: Snapshot;
  const failures: string[] = [];
  const outcomes = new Map<string, number>();

  let asked = 0;

  const ask = async (subject: string, data: Uint8Array) => {
    asked++;
    const m = await nc.request(subject, data, { timeout: 10_000 });
    let reply: { kind?: string; code?: number; message?: string };
    try {
      reply = m.json();
    } catch {
      failures.push(`${subject}: reply is not JSON`);
      return;
    }
    const face = subject.startsWith("berth.node.") ? "node" : "api";

    const outcome = `${face} ${reply?.kind === "Status" ? reply.code : "ok"}`;
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    if (typeof reply !== "object" || reply === null) failures.push(`${subject}: reply is not an object`);
    else if (reply.kind === "Status" && (typeof reply.code !== "number" || reply.code >= 500)) {
      failures.push(`${subject} ${new TextDecoder().decode(data).slice(0, 200)} → ${reply.code} ${reply.message}`);
    }
  };

  beforeAll(async () => {
    t = await startTestApi();
    nc = await connect({ servers: t.natsUrl });
    const api = t.api;
    for (const ns of ["guarded", "fuzz"]) await api.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    await api.create("nodes", { apiVersion: "v1", kind: "Node", metadata: { name: "node-z" } });
    for (const name of ["g-1", "g-2"]) {
      const p = await api.create("pods", { apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "guarded" }, spec: podSpec });
      await api.update("pods", { ...p, spec: { ...p.spec, nodeName: "node-z" } });
    }
    await api.create("pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "g-unbound", namespace: "guarded" }, spec: podSpec });
    await api.create("replicationcontrollers", { ...(templates.replicationcontrollers as object), metadata: { name: "g-rc", namespace: "guarded" } });
    await api.create("services", { ...(templates.services as object), metadata: { name: "g-svc", namespace: "guarded" } });
    await api.create("events", { ...(templates.events as object), metadata: { name: "g.1", namespace: "guarded" }, source: { host: "node-z" } });
    guarded = await snapshot(api);
  });
  afterAll(async () => {
    await nc?.close();
    await t?.stop();
  });

  it("fuzz nats - random and mutated bodies on every unrestricted API subject: no 500s, guarded objects intact", async () => {
    await fc.assert(
      fc.asyncProperty(request, async ([r, v, data]) => {
        await ask(`berth.api.v1.${r}.${v}`, data);
      }),
      { numRuns: 2500, interruptAfterTimeLimit: 60_000 },
    );
    expect(failures).toEqual([]);
  });

  it("fuzz nats - the same on node-scoped subjects, with guarded names: a node changes nothing it does not own", async () => {
    const guardedNames = fc.constantFrom("g-1", "g-2", "g-unbound", "g-rc", "g-svc", "g.1", "node-z", "guarded");
    // Requests aimed at the guarded objects (bound to node-z): a node must not change them.
    const aimed = target.chain(([r, v]) =>
      fc.tuple(fc.constant(r), fc.constant(v), fc.tuple(sane(r), guardedNames, fc.constantFrom("guarded", undefined)).map(([b, name, ns]) => {
        const tpl = (templates[r] ?? templates.pods) as { metadata: object; spec?: object };
        const object = { ...tpl, metadata: { ...tpl.metadata, name, namespace: ns }, spec: { ...tpl.spec, nodeName: "node-a" }, status: { phase: "Failed" } };
        return encode({ ...b, name, namespace: ns, object });
      }))
    );
    const nodeRequest = fc.oneof(request, aimed);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("node-a", "node-b"), nodeRequest, async (n, [r, v, data]) => {
        await ask(`berth.node.${n}.api.v1.${r}.${v}`, data);
      }),
      { numRuns: 2500, interruptAfterTimeLimit: 60_000 },
    );
    expect(failures).toEqual([]);
    const after = await snapshot(t.api);
    // Only objects that existed before and are guarded (namespace "guarded", node "node-z").
    const lost = changed(guarded, after, (k) => k.includes("/guarded/") || k.endsWith("/node-z") || k === "namespaces//guarded");
    expect(lost).toEqual([]);
  });

  it("fuzz nats - deeply nested bodies, bare or as object/patch/opts, on both faces are a 400 naming the nesting", async () => {
    const wrong: string[] = [];
    const enc = (s: string) => new TextEncoder().encode(s);
    for (const d of deepJson()) {
      const bodies: [string, Uint8Array][] = [
        ["pods.create", enc(d.text)],
        ["pods.create", enc(`{"namespace":"fuzz","object":${d.text}}`)],
        ["pods.update", enc(`{"object":${d.text}}`)],
        ["pods.patch", enc(`{"name":"deep","namespace":"fuzz","patchType":"merge","patch":${d.text}}`)],
        ["pods.list", enc(`{"namespace":"fuzz","labelSelector":${d.text}}`)],
        ["scale.update", enc(`{"name":"deep","replicas":${d.text}}`)],
        ["watches.keepalive", enc(`{"watchId":${d.text}}`)],
      ];
      for (const [rv, data] of bodies) {
        for (const subject of [`berth.api.v1.${rv}`, `berth.node.node-a.api.v1.${rv}`]) {
          const m = await nc.request(subject, data, { timeout: 10_000 });
          const reply = m.json<{ code?: number; message?: string }>();
          if (reply.code !== 400 || !/nests deeper than 100 levels/.test(reply.message ?? "")) wrong.push(`${subject} ${d.name}: ${reply.code} ${reply.message}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect((await t.remote.get("namespaces", "default")).metadata.name).toBe("default");
  });

  it("fuzz nats - afterwards the server answers and every guarded object is intact", async () => {
    expect(asked).toBeGreaterThanOrEqual(4000);
    // The outcome mix, for docs/security.md.
    console.log("fuzz nats outcomes", JSON.stringify(Object.fromEntries([...outcomes].sort())));
    const ok = await t.remote.get("namespaces", "default");
    expect(ok.metadata.name).toBe("default");
    const after = await snapshot(t.api);
    const lost = changed(guarded, after, (k) => k.includes("/guarded/") || k.endsWith("/node-z") || k === "namespaces//guarded");
    expect(lost).toEqual([]);
  });
});
