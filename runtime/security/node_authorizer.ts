/**
 * What a node may ask of the API — Berth's Node authorizer and NodeRestriction admission, as
 * pure decisions over a typed request (runtime/security/api_request.ts).
 *
 * The node name comes from the subject the request arrived on (`berth.node.<node>.api.v1.…`),
 * which nats-server lets only that node's identity publish to; a name in the body is never
 * trusted. Rules (each denial names its rule, so a 403 says exactly what was refused):
 *
 *   read        get/list/watch namespaces, services, endpoints, nodes, events
 *   pods.read   list/watch pods only with the field selector `spec.nodeName=<self>`;
 *               get a pod only if it is bound to self
 *   node.self   create/update/updateStatus/patch the Node named <self>; never delete a Node
 *   pod.status  updateStatus, or patch with subresource status, of a pod bound to self
 *   pod.annotations  a merge/strategic patch touching only metadata.annotations of a pod bound to self
 *   pod.delete  delete a pod bound to self that already has a deletionTimestamp (the node
 *               finishes a graceful deletion someone else started)
 *   events      create events; update/patch events this node reported (source.host = self)
 *   everything else (creating pods, replication controllers, services, scale, other nodes'
 *   objects, ...) is denied.
 *
 * Checks that depend on the stored object return `needObject`; the caller fetches the object,
 * runs `check`, and then writes only if the object is still at the revision it checked, so a
 * pod cannot change hands between the check and the write.
 */
import type { AnyObject, Resource } from "../../model/types.ts";
import type { ApiRequest } from "./api_request.ts";

export type Verdict = { type: "allow" } | { type: "deny"; rule: string; message: string };

/** The decision for one request: final, or dependent on the stored object or the result. */
export type NodeDecision =
  | Verdict
  /** Fetch `resource/name`, then `check` it; write pinned to the revision that was checked. */
  | { type: "needObject"; resource: Resource; name: string; namespace?: string; check: (current: AnyObject) => Verdict }
  /** Run the read, then `check` what it returns before replying. */
  | { type: "checkResult"; check: (result: AnyObject) => Verdict };

const ALLOW: Verdict = { type: "allow" };
const READABLE = new Set<Resource>(["namespaces", "services", "endpoints", "nodes", "events"]);

function deny(node: string, rule: string, message: string): Verdict {
  return { type: "deny", rule, message: `node "${node}" may not ${message} (rule ${rule})` };
}

function meta(o: unknown): { name?: string; namespace?: string } {
  const m = (o as { metadata?: unknown } | null)?.metadata;
  if (!m || typeof m !== "object") return {};
  const { name, namespace } = m as { name?: unknown; namespace?: unknown };
  return { name: typeof name === "string" ? name : undefined, namespace: typeof namespace === "string" ? namespace : undefined };
}

function boundTo(o: AnyObject): string | undefined {
  return (o as { spec?: { nodeName?: string } }).spec?.nodeName;
}

/** True when `selector` requires `spec.nodeName=<node>` (alone or with other requirements). */
export function selectsOwnPods(selector: string | undefined, node: string): boolean {
  if (!selector) return false;
  return selector.split(",").some((req) => {
    const m = /^\s*spec\.nodeName\s*==?\s*(.*?)\s*$/.exec(req);
    return m !== null && m[1] === node;
  });
}

/** True when a merge/strategic patch touches nothing but `metadata.annotations`. */
export function onlyAnnotations(patch: unknown): boolean {
  if (!patch || typeof patch !== "object" || Array.isArray(patch)) return false;
  const top = Object.keys(patch);
  if (top.length !== 1 || top[0] !== "metadata") return false;
  const m = (patch as { metadata: unknown }).metadata;
  if (!m || typeof m !== "object" || Array.isArray(m)) return false;
  const keys = Object.keys(m);
  return keys.length === 1 && keys[0] === "annotations";
}

function reporter(o: unknown): string[] {
  const e = o as { source?: { host?: unknown }; reportingInstance?: unknown } | null;
  const out: string[] = [];
  if (e && typeof e === "object") {
    if (e.source && typeof e.source === "object" && e.source.host !== undefined) out.push(String(e.source.host));
    if (e.reportingInstance !== undefined) out.push(String(e.reportingInstance));
  }
  return out;
}

/** Decides whether node `node` may make `req`. */
export function authorizeNodeRequest(node: string, req: ApiRequest): NodeDecision {
  switch (req.verb) {
    case "watchKeepalive":
    case "watchStop":
      return ALLOW; // the server confines watch control to the node's own watches
    case "getScale":
    case "updateScale":
      return deny(node, "scale", "read or change the scale of replication controllers");
    case "get":
      if (READABLE.has(req.resource)) return ALLOW;
      if (req.resource === "pods") {
        return {
          type: "checkResult",
          check: (pod) => (boundTo(pod) === node ? ALLOW : deny(node, "pods.read", `read pod "${req.name}", which is not bound to it`)),
        };
      }
      return deny(node, "read", `read ${req.resource}`);
    case "list":
    case "watch":
      if (READABLE.has(req.resource)) return ALLOW;
      if (req.resource === "pods") {
        return selectsOwnPods(req.opts.fieldSelector, node)
          ? ALLOW
          : deny(node, "pods.read", `${req.verb} pods without the field selector spec.nodeName=${node}`);
      }
      return deny(node, "read", `${req.verb} ${req.resource}`);
    case "create":
      if (req.resource === "nodes") {
        return meta(req.object).name === node ? ALLOW : deny(node, "node.self", `create a Node other than its own`);
      }
      if (req.resource === "events") {
        return reporter(req.object).every((h) => h === node)
          ? ALLOW
          : deny(node, "events", "create events reported by another node (source.host / reportingInstance)");
      }
      return deny(node, "create", `create ${req.resource}`);
    case "update":
    case "updateStatus": {
      const { name, namespace } = meta(req.object);
      if (req.resource === "nodes") {
        return name === node ? ALLOW : deny(node, "node.self", `${req.verb} Node "${name ?? ""}"`);
      }
      if (req.resource === "pods" && req.verb === "updateStatus" && name) {
        return {
          type: "needObject",
          resource: "pods",
          name,
          namespace,
          check: (pod) => (boundTo(pod) === node ? ALLOW : deny(node, "pod.status", `change the status of pod "${name}", which is not bound to it`)),
        };
      }
      if (req.resource === "events" && req.verb === "update" && name) {
        if (!reporter(req.object).every((h) => h === node)) return deny(node, "events", "rewrite an event as reported by another node");
        return {
          type: "needObject",
          resource: "events",
          name,
          namespace,
          check: (ev) => (reporter(ev).includes(node) ? ALLOW : deny(node, "events", `update event "${name}", which it did not report`)),
        };
      }
      return deny(node, req.verb === "update" ? "update" : "status", `${req.verb} ${req.resource}`);
    }
    case "patch": {
      if (req.resource === "nodes") {
        return req.name === node ? ALLOW : deny(node, "node.self", `patch Node "${req.name}"`);
      }
      if (req.patchType === "json" && (req.resource === "pods" || req.resource === "events")) {
        return deny(node, "patch.type", "use JSON patches (merge or strategic merge patches only, so the write can be pinned)");
      }
      if (req.resource === "pods") {
        if (req.subresource !== "status" && !onlyAnnotations(req.patch)) {
          return deny(node, "pod.annotations", `patch pod "${req.name}" beyond metadata.annotations (use the status subresource)`);
        }
        const rule = req.subresource === "status" ? "pod.status" : "pod.annotations";
        return {
          type: "needObject",
          resource: "pods",
          name: req.name,
          namespace: req.namespace,
          check: (pod) => (boundTo(pod) === node ? ALLOW : deny(node, rule, `patch pod "${req.name}", which is not bound to it`)),
        };
      }
      if (req.resource === "events") {
        const p = req.patch as Record<string, unknown> | null;
        if (p && typeof p === "object" && ("source" in p || "reportingInstance" in p || "reportingComponent" in p)) {
          return deny(node, "events", "change who reported an event");
        }
        return {
          type: "needObject",
          resource: "events",
          name: req.name,
          namespace: req.namespace,
          check: (ev) => (reporter(ev).includes(node) ? ALLOW : deny(node, "events", `patch event "${req.name}", which it did not report`)),
        };
      }
      return deny(node, "patch", `patch ${req.resource}`);
    }
    case "delete":
      if (req.resource === "pods") {
        return {
          type: "needObject",
          resource: "pods",
          name: req.name,
          namespace: req.namespace,
          check: (pod) => {
            if (boundTo(pod) !== node) return deny(node, "pod.delete", `delete pod "${req.name}", which is not bound to it`);
            if (!pod.metadata.deletionTimestamp) {
              return deny(node, "pod.delete", `delete pod "${req.name}" before its deletion was requested (no deletionTimestamp)`);
            }
            return ALLOW;
          },
        };
      }
      return deny(node, "delete", `delete ${req.resource}`);
  }
}
