import { describe, expect, it } from "vitest";
import type { ConfigMap, Pod, Secret } from "../../../../model/types.ts";
import { buildEnv, type ConfigObjects, formatMap } from "../../../../runtime/kubelet/env.ts";
import { volumeFiles } from "../../../../runtime/kubelet/volume_files.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const text = (u: Uint8Array) => new TextDecoder().decode(u);
const fields = { podIP: "10.0.0.7", hostIP: "127.0.0.1", nodeName: "node-1", allocatable: { cpu: 2, memory: 4 * 2 ** 30 } };

function pod(spec: Partial<Pod["spec"]>): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "web", namespace: "ns1", uid: "u-1", labels: { app: "web", tier: "a" }, annotations: { note: 'say "hi"' } },
    spec: { containers: [{ name: "c", image: "i" }], ...spec },
  };
}

function objs(cms: ConfigMap[] = [], secrets: Secret[] = [], missing: string[] = []): ConfigObjects {
  return {
    configmaps: new Map([...cms.map((c) => [c.metadata.name, c] as const), ...missing.map((n) => [n, null] as const)]),
    secrets: new Map([...secrets.map((s) => [s.metadata.name, s] as const), ...missing.map((n) => [n, null] as const)]),
  };
}
const cm = (name: string, data: Record<string, string>): ConfigMap => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data });
const secret = (name: string, data: Record<string, string>): Secret => ({ apiVersion: "v1", kind: "Secret", metadata: { name }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])) });

describe("container env (kubelet makeEnvironmentVariables)", () => {
  it("env - envFrom (with prefix), then env in order; env wins and may refer to earlier values", () => {
    const p = pod({});
    const c = {
      name: "c",
      image: "i",
      envFrom: [{ configMapRef: { name: "cfg" } }, { prefix: "S_", secretRef: { name: "sec" } }],
      env: [
        { name: "MODE", value: "override" },
        { name: "URL", value: "http://$(HOST):$(PORT)" },
        { name: "PW", valueFrom: { secretKeyRef: { name: "sec", key: "pw" } } },
        { name: "LEVEL", valueFrom: { configMapKeyRef: { name: "cfg", key: "level" } } },
      ],
    };
    const r = buildEnv(p, c, fields, { HOST: "svc" }, objs([cm("cfg", { MODE: "base", level: "debug", PORT: "80" })], [secret("sec", { pw: "s3" })]));
    expect(r).toEqual({ type: "ok", env: { HOST: "svc", MODE: "override", level: "debug", PORT: "80", S_pw: "s3", URL: "http://svc:80", PW: "s3", LEVEL: "debug" } });
  });

  it("env - downward API fields and resources (divisor, rounded up; an unset limit is the node's allocatable)", () => {
    const c = {
      name: "c",
      image: "i",
      resources: { limits: { cpu: "250m", memory: "100Mi" }, requests: { memory: "64Mi" } },
      env: [
        { name: "N", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        { name: "NS", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
        { name: "UID", valueFrom: { fieldRef: { fieldPath: "metadata.uid" } } },
        { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: "NOTE", valueFrom: { fieldRef: { fieldPath: "metadata.annotations['note']" } } },
        { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
        { name: "SA", valueFrom: { fieldRef: { fieldPath: "spec.serviceAccountName" } } },
        { name: "IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
        { name: "HOST", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } },
        { name: "CPU", valueFrom: { resourceFieldRef: { resource: "limits.cpu" } } },
        { name: "CPU_M", valueFrom: { resourceFieldRef: { resource: "limits.cpu", divisor: "1m" } } },
        { name: "MEM", valueFrom: { resourceFieldRef: { resource: "requests.memory", divisor: "1Mi" } } },
        { name: "MEM_LIMIT", valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Mi" } } },
        { name: "CPU_REQ", valueFrom: { resourceFieldRef: { resource: "requests.cpu", divisor: "1m" } } },
      ],
    };
    const r = buildEnv(pod({}), c, fields, {}, objs());
    expect(r).toEqual({
      type: "ok",
      env: { N: "web", NS: "ns1", UID: "u-1", APP: "web", NOTE: 'say "hi"', NODE: "node-1", SA: "default", IP: "10.0.0.7", HOST: "127.0.0.1", CPU: "1", CPU_M: "250", MEM: "64", MEM_LIMIT: "100", CPU_REQ: "250" },
    });
    const noLimit = buildEnv(pod({}), { name: "c", image: "i", env: [{ name: "M", valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Gi" } } }] }, fields, {}, objs());
    expect(noLimit).toEqual({ type: "ok", env: { M: "4" } });
  });

  it("env - a missing object or key is the kubelet's CreateContainerConfigError message, unless optional", () => {
    const p = pod({});
    const one = (env: NonNullable<Pod["spec"]["containers"][0]["env"]>, o = objs([cm("y", { a: "1" })], [secret("x", { a: "1" })], ["gone"])) => buildEnv(p, { name: "c", image: "i", env }, fields, {}, o);
    expect(one([{ name: "A", valueFrom: { secretKeyRef: { name: "gone", key: "k" } } }])).toEqual({ type: "error", message: 'secret "gone" not found' });
    expect(one([{ name: "A", valueFrom: { configMapKeyRef: { name: "gone", key: "k" } } }])).toEqual({ type: "error", message: 'configmap "gone" not found' });
    expect(one([{ name: "A", valueFrom: { configMapKeyRef: { name: "y", key: "k" } } }])).toEqual({ type: "error", message: "couldn't find key k in ConfigMap ns1/y" });
    expect(one([{ name: "A", valueFrom: { secretKeyRef: { name: "x", key: "k" } } }])).toEqual({ type: "error", message: "couldn't find key k in Secret ns1/x" });
    expect(one([{ name: "A", valueFrom: { secretKeyRef: { name: "gone", key: "k", optional: true } } }, { name: "B", value: "b" }])).toEqual({ type: "ok", env: { B: "b" } });
    expect(buildEnv(p, { name: "c", image: "i", envFrom: [{ secretRef: { name: "gone" } }] }, fields, {}, objs([], [], ["gone"]))).toEqual({ type: "error", message: 'secret "gone" not found' });
    expect(buildEnv(p, { name: "c", image: "i", envFrom: [{ configMapRef: { name: "gone", optional: true } }] }, fields, {}, objs([], [], ["gone"]))).toEqual({ type: "ok", env: {} });
  });
});

describe("projected volume files", () => {
  it("volumes - a ConfigMap: every key, or the items with their paths and modes; defaultMode", () => {
    const o = objs([{ ...cm("cfg", { a: "1", b: "2" }), binaryData: { bin: b64("\u0001") } }]);
    const all = volumeFiles(pod({}), { name: "v", configMap: { name: "cfg", defaultMode: 0o400 } }, o, fields);
    expect(all.type === "ok" && all.files.map((f) => [f.path, text(f.content), f.mode])).toEqual([["a", "1", 0o400], ["b", "2", 0o400], ["bin", "\u0001", 0o400]]);
    const some = volumeFiles(pod({}), { name: "v", configMap: { name: "cfg", items: [{ key: "b", path: "x/b.txt", mode: 0o600 }] } }, o, fields);
    expect(some.type === "ok" && some.files.map((f) => [f.path, text(f.content), f.mode])).toEqual([["x/b.txt", "2", 0o600]]);
    expect(volumeFiles(pod({}), { name: "v", configMap: { name: "cfg", items: [{ key: "zz", path: "z" }] } }, o, fields)).toEqual({ type: "error", message: "configmap references non-existent config key: zz" });
  });

  it("volumes - a missing Secret is an error unless optional (then the volume is empty); values are decoded", () => {
    const o = objs([], [secret("s", { token: "t0k" })], ["nope"]);
    expect(volumeFiles(pod({}), { name: "v", secret: { secretName: "nope" } }, o, fields)).toEqual({ type: "error", message: 'secret "nope" not found' });
    expect(volumeFiles(pod({}), { name: "v", secret: { secretName: "nope", optional: true } }, o, fields)).toEqual({ type: "ok", files: [] });
    const r = volumeFiles(pod({}), { name: "v", secret: { secretName: "s" } }, o, fields);
    expect(r.type === "ok" && r.files.map((f) => [f.path, text(f.content), f.mode])).toEqual([["token", "t0k", 0o644]]);
  });

  it("volumes - downward API: labels and annotations in Kubernetes' key=\"value\" form", () => {
    const r = volumeFiles(pod({}), {
      name: "v",
      downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }, { path: "ann", fieldRef: { fieldPath: "metadata.annotations" } }, { path: "name", fieldRef: { fieldPath: "metadata.name" } }] },
    }, objs(), fields);
    expect(r.type === "ok" && r.files.map((f) => [f.path, text(f.content)])).toEqual([["labels", 'app="web"\ntier="a"'], ["ann", 'note="say \\"hi\\""'], ["name", "web"]]);
    expect(formatMap(undefined)).toBe("");
  });
});
