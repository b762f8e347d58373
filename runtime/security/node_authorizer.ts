/**
 * What a node may ask of the API — Berth's Node authorizer and NodeRestriction admission, as
 * pure decisions over a typed request (runtime/security/api_request.ts).
 *
 * The node name comes from the subject the request arrived on (`berth.node.<node>.api.v1.…`),
 * which nats-server lets only that node's identity publish to; a name in the body is never
 * trusted. Rules (each denial names its rule, so a 403 says exactly what was refused):
 *
 *   read        get/list/watch namespaces, services, endpoints, endpointslices (the node's
 *               service proxy reads them, as kube-proxy with system:node-proxier), nodes, events,
 *               persistentvolumeclaims (a node watches every claim and keeps to those placed on
 *               it: Kubernetes lets a node get only its pods' claims, but has no reclaim on nodes)
 *   pods.read   list/watch pods only with the field selector `spec.nodeName=<self>`;
 *               get a pod only if it is bound to self
 *   config.read get a Secret or ConfigMap (or list/watch one, by `metadata.name=<name>` in its
 *               namespace) only if a pod bound to self references it — in a volume, an env
 *               var, envFrom or imagePullSecrets (Kubernetes' graph-based Node authorizer)
 *   node.self   create/update/updateStatus/patch the Node named <self>; never delete a Node
 *   node.labels ... but never set, change or remove node-restriction.kubernetes.io/ labels, nor
 *               kubernetes.io/ or k8s.io/ labels other than the kubelet's own (hostname, os,
 *               arch, zone/region, instance type, [*.]kubelet.kubernetes.io/, [*.]node.kubernetes.io/)
 *               — so not node-role.kubernetes.io/ either (Kubernetes' NodeRestriction)
 *   node.taints ... nor change its taints once registered (NodeRestriction again)
 *   pod.status  updateStatus, or patch with subresource status, of a pod bound to self
 *   pod.annotations  a merge/strategic patch touching only metadata.annotations of a pod bound to self
 *   pod.delete  delete a pod bound to self that already has a deletionTimestamp (the node
 *               finishes a graceful deletion someone else started)
 *   volume.release  update a PersistentVolumeClaim being deleted whose volume is on self
 *               (volume.kubernetes.io/selected-node) only to take off its finalizer
 *               berth.dev/local-volume once the node has removed the volume — nothing else
 *   events      create events reported by self (source.host = self, reportingInstance absent
 *               or self) about its own Node or a pod bound to it; update/patch events it
 *               reported, never changing who reported them or what they are about
 *               (stricter than Kubernetes, whose NodeRestriction leaves events alone)
 *   everything else (creating pods, replication controllers, services, scale, other nodes'
 *   objects, ...) is denied.
 *
 * Checks that depend on the stored object return `needObject`; the caller fetches the object,
 * runs `check`, and then writes only if the object is still at the revision it checked, so a
 * pod cannot change hands between the check and the write.
 */
import { type AnyObject, LOCAL_VOLUME_FINALIZER, type Pod, type Resource, SELECTED_NODE_ANNOTATION } from "../../model/types.ts";
import { podReferences, podServiceAccount } from "../../model/pod_references.ts";
import type { ApiRequest } from "./api_request.ts";

export type Verdict = { type: "allow" } | { type: "deny"; rule: string; message: string };

/** The decision for one request: final, or dependent on the stored object or the result. */
export type NodeDecision =
  | Verdict
  /** Fetch `resource/name`, then `check` it; write pinned to the revision that was checked. */
  | {
    type: "needObject";
    resource: Resource;
    name: string;
    namespace?: string;
    check: (current: AnyObject) => Verdict;
    /**
     * Set when the check reads only what never changes for one uid (a pod's binding): then any
     * copy of the object with this uid that the check allows is as good as the stored one.
     */
    uid?: string;
  }
  /** Run the read, then `check` what it returns before replying. */
  | { type: "checkResult"; check: (result: AnyObject) => Verdict }
  /** List the pods bound to the node, then `check` them (the request runs only if allowed). */
  | { type: "needNodePods"; check: (pods: Pod[]) => Verdict };

const ALLOW: Verdict = { type: "allow" };
const READABLE = new Set<Resource>(["namespaces", "services", "endpoints", "endpointslices", "nodes", "events", "persistentvolumeclaims"]);

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

/** The labels a kubelet may set on its own Node (k8s.io/kubelet/pkg/apis IsKubeletLabel). */
const KUBELET_LABELS = new Set([
  "kubernetes.io/hostname",
  "kubernetes.io/os",
  "kubernetes.io/arch",
  "beta.kubernetes.io/os",
  "beta.kubernetes.io/arch",
  "beta.kubernetes.io/instance-type",
  "node.kubernetes.io/instance-type",
  "topology.kubernetes.io/zone",
  "topology.kubernetes.io/region",
  "failure-domain.beta.kubernetes.io/zone",
  "failure-domain.beta.kubernetes.io/region",
]);

const inDomain = (prefix: string, domain: string) => prefix === domain || prefix.endsWith(`.${domain}`);

/** True when a node may not set, change or remove label `key` on its own Node (NodeRestriction). */
export function isNodeRestrictedLabel(key: string): boolean {
  const slash = key.indexOf("/");
  if (slash < 0) return false;
  const prefix = key.slice(0, slash);
  if (inDomain(prefix, "node-restriction.kubernetes.io")) return true;
  if (!inDomain(prefix, "kubernetes.io") && !inDomain(prefix, "k8s.io")) return false;
  return !(KUBELET_LABELS.has(key) || inDomain(prefix, "kubelet.kubernetes.io") || inDomain(prefix, "node.kubernetes.io"));
}

type Labels = Record<string, unknown>;

function labelsOf(o: unknown): Labels {
  const l = (o as { metadata?: { labels?: unknown } } | null)?.metadata?.labels;
  return l && typeof l === "object" && !Array.isArray(l) ? (l as Labels) : {};
}

/** Keys added, removed or changed between two label maps. */
function modifiedLabels(next: Labels, prev: Labels): string[] {
  const keys = new Set([...Object.keys(next), ...Object.keys(prev)]);
  return [...keys].filter((k) => !(Object.hasOwn(next, k) && Object.hasOwn(prev, k) && next[k] === prev[k])).sort();
}

/** The labels after a merge/strategic patch (`null` removes a key; `labels: null` removes all). */
function patchedLabels(current: Labels, patch: unknown): Labels {
  const m = (patch as { metadata?: { labels?: unknown } }).metadata;
  if (m === null) return {};
  if (!m || typeof m !== "object" || !("labels" in m)) return current;
  if (m.labels === null || typeof m.labels !== "object" || Array.isArray(m.labels)) return {};
  const out: Labels = { ...current };
  for (const [k, v] of Object.entries(m.labels as Labels)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

function labelVerdict(node: string, changed: string[]): Verdict {
  const bad = changed.filter(isNodeRestrictedLabel);
  return bad.length === 0
    ? ALLOW
    : deny(node, "node.labels", `set, change or remove the labels ${bad.join(", ")} on its Node: node-restriction.kubernetes.io/ labels, and kubernetes.io/ or k8s.io/ labels other than the kubelet's own (such as node-role.kubernetes.io/), are for administrators`);
}

function taintsOf(o: unknown): unknown {
  return (o as { spec?: { taints?: unknown } } | null)?.spec?.taints ?? [];
}

/** Does a merge/strategic patch name `spec.taints` (or replace `spec`)? */
function patchTouchesTaints(patch: unknown): boolean {
  const p = patch as { spec?: unknown };
  return p.spec === null || (!!p.spec && typeof p.spec === "object" && "taints" in p.spec);
}

/** Does a merge/strategic patch name `metadata.labels` (or replace `metadata`)? */
function patchTouchesLabels(patch: unknown): boolean {
  const p = patch as { metadata?: unknown };
  return p.metadata === null || (!!p.metadata && typeof p.metadata === "object" && "labels" in p.metadata);
}

/** The JSON pointers a JSON patch writes (`path`, and `from` of a move). */
function jsonPatchTargets(patch: unknown): string[][] {
  if (!Array.isArray(patch)) return [[]];
  const out: string[][] = [];
  for (const op of patch) {
    const o = op as { op?: unknown; path?: unknown; from?: unknown };
    for (const ptr of [o.path, o.op === "move" ? o.from : undefined]) {
      if (ptr === undefined) continue;
      out.push(typeof ptr === "string" ? ptr.split("/").slice(1).map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~")) : []);
    }
  }
  return out;
}

/** True when a pointer writes `path` itself, something inside it, or one of its parents. */
function overlaps(ptr: string[], path: string[]): boolean {
  const n = Math.min(ptr.length, path.length);
  for (let i = 0; i < n; i++) if (ptr[i] !== path[i]) return false;
  return true;
}

function jsonStable(v: unknown): string {
  return JSON.stringify(v ?? null);
}

/** The verdict on node `node`'s write of its own Node, given the stored one. */
function nodeWriteVerdict(node: string, current: AnyObject, nextLabels: Labels, nextTaints: unknown | undefined): Verdict {
  const labels = labelVerdict(node, modifiedLabels(nextLabels, labelsOf(current)));
  if (labels.type === "deny") return labels;
  if (nextTaints !== undefined && jsonStable(nextTaints) !== jsonStable(taintsOf(current))) {
    return deny(node, "node.taints", "change the taints of its Node (taints keep workloads away from a node; only administrators change them)");
  }
  return ALLOW;
}

interface Involved {
  kind?: unknown;
  name?: unknown;
  namespace?: unknown;
  uid?: unknown;
}

function involvedOf(o: unknown): Involved | undefined {
  const i = (o as { involvedObject?: unknown } | null)?.involvedObject;
  return i && typeof i === "object" && !Array.isArray(i) ? (i as Involved) : undefined;
}

function sameInvolved(a: Involved | undefined, b: Involved | undefined): boolean {
  return jsonStable([a?.kind, a?.name, a?.namespace ?? null, a?.uid ?? null]) === jsonStable([b?.kind, b?.name, b?.namespace ?? null, b?.uid ?? null]);
}

/** May node `node` create event `ev` (in namespace `ns`)? Needs the involved pod for pod events. */
function eventCreateDecision(node: string, ev: unknown, ns: string): NodeDecision {
  const host = (ev as { source?: { host?: unknown } } | null)?.source?.host;
  if (host !== node) {
    return deny(node, "events", `create an event whose source.host is ${host === undefined ? "missing" : JSON.stringify(host)} (it must be "${node}")`);
  }
  if (!reporter(ev).every((h) => h === node)) return deny(node, "events", "create events reported by another node (reportingInstance)");
  const io = involvedOf(ev);
  if (io?.kind === "Node") {
    return io.name === node ? ALLOW : deny(node, "events", `create an event about Node ${JSON.stringify(io.name)} (only about its own Node or pods bound to it)`);
  }
  if (io?.kind !== "Pod" || typeof io.name !== "string") {
    return deny(node, "events", `create an event about ${io ? `a ${String(io.kind)}` : "nothing"} (involvedObject must be its own Node or a pod bound to it)`);
  }
  const podNs = typeof io.namespace === "string" && io.namespace ? io.namespace : ns;
  if (podNs !== ns) return deny(node, "events", `create an event in namespace "${ns}" about a pod in namespace "${podNs}"`);
  const podName = io.name;
  return {
    type: "needObject",
    resource: "pods",
    name: podName,
    namespace: podNs,
    // spec.nodeName is set once (the bind) and never changes for a uid.
    ...(typeof io.uid === "string" && io.uid ? { uid: io.uid } : {}),
    check: (pod) => {
      if (boundTo(pod) !== node) return deny(node, "events", `create an event about pod "${podName}", which is not bound to it`);
      if (typeof io.uid === "string" && io.uid && io.uid !== pod.metadata.uid) {
        return deny(node, "events", `create an event about pod "${podName}" with uid ${io.uid}, which is not the pod of that name now`);
      }
      return ALLOW;
    },
  };
}


/** A node may read a ServiceAccount only while a pod bound to it runs as it (kube's Node authorizer). */
function serviceAccountRead(node: string, namespace: string, name: string): NodeDecision {
  return {
    type: "needNodePods",
    check: (pods) =>
      pods.some((p) => (p.metadata.namespace ?? "default") === namespace && boundTo(p) === node && podServiceAccount(p) === name)
        ? ALLOW
        : deny(node, "serviceaccount.read", `read serviceaccount "${namespace}/${name}": no pod bound to it runs as it`),
  };
}

/** The audiences a pod's own volumes ask tokens for (its projected `serviceAccountToken` sources). */
function podTokenAudiences(pod: Pod): Set<string> {
  const out = new Set<string>();
  for (const v of pod.spec.volumes ?? []) for (const s of v.projected?.sources ?? []) if (s.serviceAccountToken?.audience) out.add(s.serviceAccountToken.audience);
  return out;
}

/**
 * A node may ask for a ServiceAccount token only bound to a pod bound to it that runs as that
 * account (kube's Node authorizer and NodeRestriction admission), and only for the API's own
 * audience or one the pod's volumes name (kube's ServiceAccountNodeAudienceRestriction): a node
 * cannot mint a token for a service its pods do not use.
 */
function tokenDecision(node: string, name: string, namespace: string, request: unknown): NodeDecision {
  const spec = (request as { spec?: { audiences?: unknown; boundObjectRef?: { kind?: unknown; name?: unknown; uid?: unknown } } } | null)?.spec;
  const ref = spec?.boundObjectRef;
  const audiences = Array.isArray(spec?.audiences) ? spec.audiences.filter((a): a is string => typeof a === "string" && a !== "") : [];
  if (!ref || ref.kind !== "Pod" || typeof ref.name !== "string" || !ref.name) {
    return deny(node, "token", `request a token for serviceaccount "${namespace}/${name}" that is not bound to a pod`);
  }
  const podName = ref.name;
  const uid = typeof ref.uid === "string" && ref.uid ? ref.uid : undefined;
  return {
    type: "needObject",
    resource: "pods",
    name: podName,
    namespace,
    // spec.nodeName and serviceAccountName are set once and never change for a uid.
    ...(uid ? { uid } : {}),
    check: (pod) => {
      if (boundTo(pod) !== node) return deny(node, "token", `request a token bound to pod "${podName}", which is not bound to it`);
      if (podServiceAccount(pod as Pod) !== name) return deny(node, "token", `request a token for serviceaccount "${name}", which pod "${podName}" does not run as`);
      const named = podTokenAudiences(pod as Pod);
      const stray = audiences.filter((a) => !named.has(a));
      if (stray.length) return deny(node, "token.audience", `request a token for audience ${JSON.stringify(stray[0])}, which no volume of pod "${podName}" names`);
      return ALLOW;
    },
  };
}

/** The one name a field selector pins (`metadata.name=<name>`), if any. */
function selectedName(selector: string | undefined): string | undefined {
  for (const req of (selector ?? "").split(",")) {
    const m = /^\s*metadata\.name\s*==?\s*(.*?)\s*$/.exec(req);
    if (m && m[1]) return m[1];
  }
  return undefined;
}

/** A node may read a Secret/ConfigMap only while a pod bound to it references it. */
function configRead(node: string, resource: "configmaps" | "secrets", namespace: string, name: string): NodeDecision {
  const kind = resource === "secrets" ? "secret" : "configmap";
  return {
    type: "needNodePods",
    check: (pods) =>
      pods.some((p) => (p.metadata.namespace ?? "default") === namespace && boundTo(p) === node && podReferences(p)[resource].has(name))
        ? ALLOW
        : deny(node, "config.read", `read ${kind} "${namespace}/${name}": no pod bound to it references it`),
  };
}

/**
 * May node `node` replace claim `current` with `next`? Only a claim being deleted, placed on the
 * node, and only to take LOCAL_VOLUME_FINALIZER off it: every other finalizer, label,
 * annotation, owner and the spec stay as they are.
 */
export function volumeReleaseVerdict(node: string, current: AnyObject, next: unknown): Verdict {
  const name = current.metadata.name;
  const at = current.metadata.annotations?.[SELECTED_NODE_ANNOTATION];
  if (at !== node) return deny(node, "volume.release", `update persistentvolumeclaim "${name}", whose volume is not on it`);
  if (!current.metadata.deletionTimestamp) return deny(node, "volume.release", `update persistentvolumeclaim "${name}", which is not being deleted`);
  const had = current.metadata.finalizers ?? [];
  if (!had.includes(LOCAL_VOLUME_FINALIZER)) return deny(node, "volume.release", `update persistentvolumeclaim "${name}", which has no ${LOCAL_VOLUME_FINALIZER} finalizer`);
  const n = (next ?? {}) as { metadata?: Record<string, unknown>; spec?: unknown };
  const m = n.metadata ?? {};
  const same = (a: unknown, b: unknown) => jsonStable(a) === jsonStable(b);
  const keptFinalizers = had.filter((f) => f !== LOCAL_VOLUME_FINALIZER);
  if (!same(m.finalizers ?? [], keptFinalizers) || !same(m.labels ?? {}, current.metadata.labels ?? {}) || !same(m.annotations ?? {}, current.metadata.annotations ?? {}) ||
    !same(m.ownerReferences ?? [], current.metadata.ownerReferences ?? []) || !same(n.spec, (current as { spec?: unknown }).spec)) {
    return deny(node, "volume.release", `change persistentvolumeclaim "${name}" beyond taking its ${LOCAL_VOLUME_FINALIZER} finalizer off`);
  }
  return ALLOW;
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
    case "bind":
      return deny(node, "bind", "bind pods to nodes (the scheduler's call)");
    case "createToken":
      return tokenDecision(node, req.name, req.namespace, req.request);
    case "get":
      if (READABLE.has(req.resource)) return ALLOW;
      if (req.resource === "serviceaccounts") return serviceAccountRead(node, req.namespace ?? "default", req.name);
      if (req.resource === "configmaps" || req.resource === "secrets") return configRead(node, req.resource, req.namespace ?? "default", req.name);
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
      if (req.resource === "configmaps" || req.resource === "secrets") {
        const name = selectedName(req.opts.fieldSelector);
        if (!name || !req.opts.namespace) return deny(node, "config.read", `${req.verb} ${req.resource} other than one by name (fieldSelector metadata.name=<name> in a namespace)`);
        return configRead(node, req.resource, req.opts.namespace, name);
      }
      if (req.resource === "pods") {
        return selectsOwnPods(req.opts.fieldSelector, node)
          ? ALLOW
          : deny(node, "pods.read", `${req.verb} pods without the field selector spec.nodeName=${node}`);
      }
      return deny(node, "read", `${req.verb} ${req.resource}`);
    case "create":
      if (req.resource === "nodes") {
        if (meta(req.object).name !== node) return deny(node, "node.self", `create a Node other than its own`);
        return labelVerdict(node, Object.keys(labelsOf(req.object)).sort());
      }
      if (req.resource === "events") {
        return eventCreateDecision(node, req.object, req.namespace ?? meta(req.object).namespace ?? "default");
      }
      return deny(node, "create", `create ${req.resource}`);
    case "update":
    case "updateStatus": {
      const { name, namespace } = meta(req.object);
      if (req.resource === "nodes") {
        if (name !== node) return deny(node, "node.self", `${req.verb} Node "${name ?? ""}"`);
        // A status update keeps metadata and spec (runtime/api/api.ts): nothing to check.
        if (req.verb === "updateStatus") return ALLOW;
        const next = req.object;
        return { type: "needObject", resource: "nodes", name: node, check: (current) => nodeWriteVerdict(node, current, labelsOf(next), taintsOf(next)) };
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
      if (req.resource === "persistentvolumeclaims" && req.verb === "update" && name) {
        const next = req.object;
        return { type: "needObject", resource: "persistentvolumeclaims", name, namespace, check: (current) => volumeReleaseVerdict(node, current, next) };
      }
      if (req.resource === "events" && req.verb === "update" && name) {
        if (!reporter(req.object).every((h) => h === node)) return deny(node, "events", "rewrite an event as reported by another node");
        const next = involvedOf(req.object);
        return {
          type: "needObject",
          resource: "events",
          name,
          namespace,
          check: (ev) => {
            if (!reporter(ev).includes(node)) return deny(node, "events", `update event "${name}", which it did not report`);
            if (!sameInvolved(involvedOf(ev), next)) return deny(node, "events", `change what event "${name}" is about (involvedObject)`);
            return ALLOW;
          },
        };
      }
      return deny(node, req.verb === "update" ? "update" : "status", `${req.verb} ${req.resource}`);
    }
    case "patch": {
      if (req.resource === "nodes") {
        if (req.name !== node) return deny(node, "node.self", `patch Node "${req.name}"`);
        if (req.subresource === "status") return ALLOW; // status only (runtime/api/api.ts)
        if (req.patchType === "json") {
          const targets = jsonPatchTargets(req.patch);
          if (targets.some((t) => overlaps(t, ["metadata", "labels"]))) {
            return deny(node, "node.labels", "change its Node's labels with a JSON patch (use a merge patch, so the labels it changes can be checked)");
          }
          if (targets.some((t) => overlaps(t, ["spec", "taints"]))) return deny(node, "node.taints", "change the taints of its Node");
          return ALLOW;
        }
        const patch = req.patch;
        if (!patch || typeof patch !== "object" || Array.isArray(patch) || (!patchTouchesLabels(patch) && !patchTouchesTaints(patch))) return ALLOW;
        return {
          type: "needObject",
          resource: "nodes",
          name: node,
          check: (current) =>
            nodeWriteVerdict(node, current, patchedLabels(labelsOf(current), patch), patchTouchesTaints(patch) ? ((patch as { spec?: { taints?: unknown } }).spec?.taints ?? []) : undefined),
        };
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
        if (p && typeof p === "object" && "involvedObject" in p) return deny(node, "events", "change what an event is about (involvedObject)");
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
