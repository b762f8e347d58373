/**
 * The Node authorizer for Secrets and ConfigMaps (graph-based, as Kubernetes'): a node reads one
 * only while a pod bound to it references it — in a volume (a projected volume's sources too), env,
 * envFrom or imagePullSecrets.
 */
import { describe, expect, it } from "vitest";
import { authorizeNodeRequest, type NodeDecision, type Verdict } from "../../../../runtime/security/node_authorizer.ts";
import type { Pod } from "../../../../model/types.ts";

function onPods(d: NodeDecision, pods: Pod[]): Verdict {
  if (d.type !== "needNodePods") throw new Error(`expected needNodePods, got ${d.type}`);
  return d.check(pods);
}

const pod = (node: string, spec: Partial<Pod["spec"]>, ns = "default"): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: `p-${Math.random().toString(36).slice(2)}`, namespace: ns },
  spec: { nodeName: node, containers: [{ name: "c", image: "i" }], ...spec },
});

const get = (resource: "secrets" | "configmaps", name: string, namespace = "default") => authorizeNodeRequest("n1", { verb: "get", resource, name, namespace });

describe("node authorizer - Secrets and ConfigMaps", () => {
  it("config access - a Secret referenced by a pod bound to the node is readable (volume, env, envFrom, imagePullSecrets, init containers)", () => {
    const refs: Partial<Pod["spec"]>[] = [
      { volumes: [{ name: "v", secret: { secretName: "s" } }] },
      { containers: [{ name: "c", image: "i", env: [{ name: "A", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }] }] },
      { containers: [{ name: "c", image: "i", envFrom: [{ secretRef: { name: "s" } }] }] },
      { imagePullSecrets: [{ name: "s" }] },
      { initContainers: [{ name: "i", image: "i", env: [{ name: "A", valueFrom: { secretKeyRef: { name: "s", key: "k" } } }] }] },
    ];
    for (const spec of refs) expect(onPods(get("secrets", "s"), [pod("n1", spec)]).type).toBe("allow");
    expect(onPods(get("configmaps", "c"), [pod("n1", { volumes: [{ name: "v", configMap: { name: "c" } }] })]).type).toBe("allow");
  });

  it("config access - a ConfigMap and a Secret named by a projected volume's sources are readable, and nothing else of its", () => {
    const projected = pod("n1", {
      volumes: [{ name: "v", projected: { sources: [{ configMap: { name: "c" } }, { secret: { name: "s" } }, { serviceAccountToken: { path: "token", audience: "vault" } }] } }],
    });
    expect(onPods(get("configmaps", "c"), [projected]).type).toBe("allow");
    expect(onPods(get("secrets", "s"), [projected]).type).toBe("allow");
    expect(onPods(get("secrets", "c"), [projected]).type).toBe("deny");
    expect(onPods(get("configmaps", "s"), [projected]).type).toBe("deny");
  });

  it("config access - refused: no pod references it, the referencing pod is on another node or in another namespace", () => {
    const mine = pod("n1", { volumes: [{ name: "v", secret: { secretName: "other" } }] });
    const elsewhere = pod("n2", { volumes: [{ name: "v", secret: { secretName: "s" } }] });
    const otherNs = pod("n1", { volumes: [{ name: "v", secret: { secretName: "s" } }] }, "prod");
    for (const pods of [[], [mine], [elsewhere], [otherNs]]) {
      const v = onPods(get("secrets", "s"), pods);
      expect(v.type).toBe("deny");
      expect(v.type === "deny" && v.message).toBe('node "n1" may not read secret "default/s": no pod bound to it references it (rule config.read)');
    }
    // A ConfigMap of the same name is another object.
    expect(onPods(get("configmaps", "s"), [pod("n1", { volumes: [{ name: "v", secret: { secretName: "s" } }] })]).type).toBe("deny");
  });

  it("config access - list and watch only one object by name in a namespace, under the same rule", () => {
    const d = authorizeNodeRequest("n1", { verb: "list", resource: "secrets", opts: { namespace: "default" } });
    expect(d.type).toBe("deny");
    const all = authorizeNodeRequest("n1", { verb: "watch", resource: "configmaps", opts: { fieldSelector: "metadata.name=c" }, watchId: "w1xxxx" });
    expect(all.type).toBe("deny"); // no namespace: every namespace's "c"
    const one = authorizeNodeRequest("n1", { verb: "watch", resource: "configmaps", opts: { namespace: "default", fieldSelector: "metadata.name=c" }, watchId: "w1xxxx" });
    expect(onPods(one, [pod("n1", { containers: [{ name: "c", image: "i", envFrom: [{ configMapRef: { name: "c" } }] }] })]).type).toBe("allow");
  });

  it("config access - a node never writes Secrets or ConfigMaps", () => {
    for (const resource of ["secrets", "configmaps"] as const) {
      expect(authorizeNodeRequest("n1", { verb: "create", resource, object: { metadata: { name: "x" } } }).type).toBe("deny");
      expect(authorizeNodeRequest("n1", { verb: "update", resource, object: { metadata: { name: "x" } } }).type).toBe("deny");
      expect(authorizeNodeRequest("n1", { verb: "delete", resource, name: "x", opts: {} }).type).toBe("deny");
      expect(authorizeNodeRequest("n1", { verb: "patch", resource, name: "x", patch: {}, patchType: "merge" }).type).toBe("deny");
    }
  });
});
