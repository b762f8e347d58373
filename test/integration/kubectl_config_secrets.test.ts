/**
 * kubectl (1.32) with ConfigMaps and Secrets against Berth's REST API: `create configmap`,
 * `create secret generic` / `docker-registry` (generated client-side, applied), tables as Kubernetes prints them, apply of a
 * manifest with pod spec fields of issue 14 (initContainers, envFrom, lifecycle, configMap /
 * secret / downwardAPI volumes) through OpenAPI validation, and a 422 naming `data[bad key]`.
 */
import { describe, expect, it } from "vitest";
import { kubectlRunners, useRestHarness } from "../helpers/rest_harness.ts";

const h = useRestHarness();
const { ok } = kubectlRunners(h);

describe("kubectl - ConfigMaps and Secrets", () => {
  it("kubectl - create configmap / secret and get them with Kubernetes' columns", async () => {
    // `kubectl create configmap|secret` post their objects as protobuf (decoded by the server).
    await ok(["create", "configmap", "app", "--from-literal=a=1", "--from-literal=b=2"]);
    await ok(["create", "secret", "generic", "db", "--from-literal=password=hunter2"]);
    await ok(["create", "secret", "docker-registry", "reg", "--docker-server=127.0.0.1:5000", "--docker-username=u", "--docker-password=p"]);
    expect(await ok(["get", "cm", "app"])).toMatch(/^NAME\s+DATA\s+AGE\napp\s+2\s+\d+s\n$/);
    const secrets = await ok(["get", "secrets"]);
    expect(secrets).toMatch(/^NAME\s+TYPE\s+DATA\s+AGE\n/);
    expect(secrets).toMatch(/\ndb\s+Opaque\s+1\s+/);
    expect(secrets).toMatch(/\nreg\s+kubernetes\.io\/dockerconfigjson\s+1\s+/);
    expect(await ok(["get", "secret", "db", "-o", "jsonpath={.data.password}"])).toBe(Buffer.from("hunter2").toString("base64"));
    const cfg = await ok(["get", "secret", "reg", "-o", "jsonpath={.data.\\.dockerconfigjson}"]);
    expect(JSON.parse(Buffer.from(cfg, "base64").toString())).toMatchObject({ auths: { "127.0.0.1:5000": { username: "u", password: "p" } } });
  });

  it("kubectl - create namespace, service and quota post protobuf and are stored as their JSON", async () => {
    await ok(["create", "namespace", "shop"]);
    expect(await ok(["get", "ns", "shop", "-o", "jsonpath={.status.phase}"])).toBe("Active");
    await ok(["create", "service", "clusterip", "web", "--tcp=80:8080", "-n", "shop"]);
    const svc = JSON.parse(await ok(["get", "svc", "web", "-n", "shop", "-o", "json"]));
    expect(svc.spec).toMatchObject({ type: "ClusterIP", selector: { app: "web" }, ports: [{ name: "80-8080", port: 80, protocol: "TCP", targetPort: 8080 }] });
    // Empty fields Go's marshaller wrote (clusterIP "") are dropped, as JSON's omitempty would.
    expect(svc.spec).not.toHaveProperty("clusterIP");
    await ok(["create", "service", "nodeport", "np", "--tcp=81:8081", "--node-port=30081", "-n", "shop"]);
    expect(await ok(["get", "svc", "np", "-n", "shop", "-o", "jsonpath={.spec.type} {.spec.ports[0].nodePort}"])).toBe("NodePort 30081");
    // An ExternalName service: a DNS alias, no address of its own (kubectl's columns show the alias).
    await ok(["create", "service", "externalname", "legacy", "--external-name", "db.example.com", "-n", "shop"]);
    expect(await ok(["get", "svc", "legacy", "-n", "shop"])).toMatch(/^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\nlegacy\s+ExternalName\s+<none>\s+db\.example\.com\s+<none>\s+\d+s\n$/);
    await ok(["create", "configmap", "bin", "--from-literal=k=v", "-n", "shop"]);
    expect(await ok(["get", "cm", "bin", "-n", "shop", "-o", "jsonpath={.data.k}"])).toBe("v");
    await ok(["create", "quota", "q", "--hard=pods=10,requests.memory=1Gi", "-n", "shop"]);
    expect(JSON.parse(await ok(["get", "quota", "q", "-n", "shop", "-o", "jsonpath={.spec.hard}"]))).toEqual({ pods: "10", "requests.memory": "1Gi" });
  });

  it("kubectl - an invalid key is refused with the field named", async () => {
    const r = await h.kubectl(["apply", "-f", "-"], { stdin: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad}\ndata:\n  \"bad key\": x\n" });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("data[bad key]");
  });

  it("kubectl - a pod using init containers, envFrom, hooks and projected volumes passes validation", async () => {
    const manifest = `
apiVersion: v1
kind: Pod
metadata: {name: full}
spec:
  initContainers:
  - name: setup
    image: berth/busybox:latest
    command: ["true"]
  containers:
  - name: app
    image: berth/busybox:latest
    envFrom:
    - prefix: CFG_
      configMapRef: {name: app}
    env:
    - name: PW
      valueFrom: {secretKeyRef: {name: db, key: password}}
    - name: MEM
      valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}
    lifecycle:
      preStop: {exec: {command: ["sleep", "1"]}}
    volumeMounts:
    - {name: cfg, mountPath: /etc/cfg}
    - {name: creds, mountPath: /creds}
    - {name: info, mountPath: /etc/info}
  volumes:
  - name: cfg
    configMap: {name: app, items: [{key: a, path: a.txt, mode: 0400}], defaultMode: 0644}
  - name: creds
    secret: {secretName: db, optional: true}
  - name: info
    downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}
`;
    await ok(["apply", "-f", "-"], manifest);
    const pod = JSON.parse(await ok(["get", "pod", "full", "-o", "json"]));
    expect(pod.spec.initContainers[0].name).toBe("setup");
    expect(pod.spec.volumes[0].configMap.items[0].mode).toBe(0o400);
  });
});
