/**
 * The few Kubernetes protobuf bodies kubectl sends that Berth must read: `DeleteOptions` (the
 * body of a DELETE) and policy/v1 `Eviction` (POST `pods/{name}/eviction`). kubectl's typed
 * clients (drain, among others) encode request bodies as `application/vnd.kubernetes.protobuf`
 * whatever discovery says, so refusing them with 415 breaks `kubectl drain`.
 *
 * Wire format (k8s.io/apimachinery/pkg/runtime/serializer/protobuf): the magic `k8s\0`, then a
 * `runtime.Unknown` { 1: TypeMeta { 1: apiVersion, 2: kind }, 2: raw bytes, 3: contentEncoding,
 * 4: contentType }, where `raw` is the object's own message. Only the fields Berth acts on are
 * decoded; others are skipped by wire type. Anything malformed is a 400 that says where.
 * `kubectl create deployment|job|cronjob|namespace|configmap|secret|service|quota|serviceaccount|poddisruptionbudget|role|clusterrole|rolebinding|clusterrolebinding`,
 * `kubectl create priorityclass|ingress`, `kubectl autoscale` (an autoscaling/v1 HorizontalPodAutoscaler), `kubectl auth can-i|whoami` (self reviews),
 * `kubectl create token` (a TokenRequest)
 * and Go programs whose client is set to protobuf (client-go's leader election: Lease) also send their objects this way:
 * objects are decoded by the schemas in protobuf_objects.ts.
 */
import { Buffer } from "node:buffer";
import { ApiError, BadRequestError } from "../../model/errors.ts";
import {
  clusterRole, configMap, cronJob, deployment, horizontalPodAutoscalerV1, horizontalPodAutoscalerV2, ingress, ingressClass, job, lease, namespace, networkPolicy, podDisruptionBudget, priorityClass, replicaSet, resourceQuota, role, roleBinding, secret,
  selfSubjectAccessReview, selfSubjectReview, selfSubjectRulesReview, service, serviceAccount, tokenRequest, type FieldSpec, type Schema,
} from "./protobuf_objects.ts";

export const PROTOBUF_MEDIA_TYPE = "application/vnd.kubernetes.protobuf";

const MAGIC = [0x6b, 0x38, 0x73, 0x00];

interface Field {
  no: number;
  /** Wire type 0: the varint value; 2: the bytes. */
  varint?: bigint;
  bytes?: Uint8Array;
}

/** Splits one message into its fields, in order (repeated fields appear several times). */
function fields(buf: Uint8Array, what: string): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): bigint => {
    let shift = 0n;
    let v = 0n;
    for (;;) {
      if (i >= buf.length) throw new BadRequestError(`the protobuf ${what} is truncated (in a varint at byte ${i})`);
      const b = buf[i++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
      if (shift > 63n) throw new BadRequestError(`the protobuf ${what} has a varint longer than 10 bytes at byte ${i}`);
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    switch (wire) {
      case 0:
        out.push({ no, varint: varint() });
        break;
      case 1:
        i += 8;
        break;
      case 2: {
        const len = Number(varint());
        if (i + len > buf.length) throw new BadRequestError(`the protobuf ${what} is truncated (field ${no} wants ${len} bytes at byte ${i})`);
        out.push({ no, bytes: buf.subarray(i, i + len) });
        i += len;
        break;
      }
      case 5:
        i += 4;
        break;
      default:
        throw new BadRequestError(`the protobuf ${what} has unsupported wire type ${wire} (field ${no})`);
    }
    if (i > buf.length) throw new BadRequestError(`the protobuf ${what} is truncated`);
  }
  return out;
}

const text = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : undefined);

/** Unwraps the `k8s\0` + runtime.Unknown envelope: the object's kind and its message bytes. */
export function unwrapEnvelope(body: Uint8Array): { apiVersion?: string; kind?: string; raw: Uint8Array } {
  if (body.length < 4 || MAGIC.some((m, i) => body[i] !== m)) {
    throw new BadRequestError(`the ${PROTOBUF_MEDIA_TYPE} body does not start with the Kubernetes protobuf magic "k8s\\0"`);
  }
  let apiVersion: string | undefined;
  let kind: string | undefined;
  let raw: Uint8Array = new Uint8Array();
  for (const f of fields(body.subarray(4), "envelope")) {
    if (f.no === 1 && f.bytes) {
      for (const t of fields(f.bytes, "TypeMeta")) {
        if (t.no === 1) apiVersion = text(t.bytes);
        if (t.no === 2) kind = text(t.bytes);
      }
    } else if (f.no === 2 && f.bytes) raw = f.bytes;
    else if (f.no === 3 && f.bytes && f.bytes.length) {
      throw new BadRequestError(`protobuf bodies with contentEncoding ${JSON.stringify(text(f.bytes))} are not supported`);
    }
  }
  return { apiVersion, kind, raw };
}

/** `DeleteOptions` as its JSON form (only the fields that are set). */
export function decodeDeleteOptions(raw: Uint8Array): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const dryRun: string[] = [];
  for (const f of fields(raw, "DeleteOptions")) {
    switch (f.no) {
      case 1:
        if (f.varint !== undefined) out.gracePeriodSeconds = Number(BigInt.asIntN(64, f.varint));
        break;
      case 2: {
        const pre: Record<string, string> = {};
        for (const p of fields(f.bytes ?? new Uint8Array(), "DeleteOptions.preconditions")) {
          if (p.no === 1 && p.bytes) pre.uid = text(p.bytes)!;
          if (p.no === 2 && p.bytes) pre.resourceVersion = text(p.bytes)!;
        }
        out.preconditions = pre;
        break;
      }
      case 3:
        if (f.varint !== undefined) out.orphanDependents = f.varint !== 0n;
        break;
      case 4:
        out.propagationPolicy = text(f.bytes);
        break;
      case 5:
        dryRun.push(text(f.bytes) ?? "");
        break;
      case 6:
        if (f.varint !== undefined) out.ignoreStoreReadErrorWithClusterBreakingPotential = f.varint !== 0n;
        break;
    }
  }
  if (dryRun.length) out.dryRun = dryRun;
  return out;
}

/** policy/v1 `Eviction` as its JSON form: metadata (name, namespace) and deleteOptions. */
export function decodeEviction(raw: Uint8Array): Record<string, unknown> {
  const metadata: Record<string, string> = {};
  let deleteOptions: Record<string, unknown> | undefined;
  for (const f of fields(raw, "Eviction")) {
    if (f.no === 1 && f.bytes) {
      for (const m of fields(f.bytes, "Eviction.metadata")) {
        if (m.no === 1 && m.bytes) metadata.name = text(m.bytes)!;
        if (m.no === 3 && m.bytes) metadata.namespace = text(m.bytes)!;
      }
    } else if (f.no === 2 && f.bytes) deleteOptions = decodeDeleteOptions(f.bytes);
  }
  return { apiVersion: "policy/v1", kind: "Eviction", metadata, ...(deleteOptions ? { deleteOptions } : {}) };
}

function scalar(f: Field, type: Exclude<FieldSpec["type"], Schema>, what: string): unknown {
  switch (type) {
    case "string":
      return text(f.bytes) ?? "";
    case "bytes":
      return Buffer.from(f.bytes ?? new Uint8Array()).toString("base64");
    case "int":
      return f.varint === undefined ? 0 : Number(BigInt.asIntN(64, f.varint));
    case "bool":
      return f.varint !== undefined && f.varint !== 0n;
    case "quantity":
      return text(fields(f.bytes ?? new Uint8Array(), what).find((q) => q.no === 1)?.bytes) ?? "0";
    case "intOrString": {
      const parts = fields(f.bytes ?? new Uint8Array(), what);
      const isString = parts.some((p) => p.no === 1 && p.varint === 1n);
      if (isString) return text(parts.find((p) => p.no === 3)?.bytes) ?? "";
      const v = parts.find((p) => p.no === 2)?.varint;
      return v === undefined ? 0 : Number(BigInt.asIntN(64, v));
    }
    case "time": {
      const parts = fields(f.bytes ?? new Uint8Array(), what);
      const secs = Number(BigInt.asIntN(64, parts.find((p) => p.no === 1)?.varint ?? 0n));
      return secs === 0 ? undefined : new Date(secs * 1000).toISOString().replace(".000Z", "Z");
    }
    case "microTime": {
      // MicroTime { 1: seconds, 2: nanos }, written as Kubernetes does: UTC, six fractional digits.
      const parts = fields(f.bytes ?? new Uint8Array(), what);
      const secs = Number(BigInt.asIntN(64, parts.find((p) => p.no === 1)?.varint ?? 0n));
      const nanos = Number(BigInt.asIntN(32, parts.find((p) => p.no === 2)?.varint ?? 0n));
      return `${new Date(secs * 1000).toISOString().slice(0, 19)}.${String(Math.floor(nanos / 1000)).padStart(6, "0")}Z`;
    }
  }
}

const isZero = (v: unknown) => v === undefined || v === "" || v === 0 || v === false;

/** Decodes one message by its schema into the JSON form (see protobuf_objects.ts). */
export function decodeMessage(buf: Uint8Array, schema: Schema, what: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields(buf, what)) {
    const spec = schema[f.no];
    if (!spec) continue;
    const at = `${what}.${spec.name}`;
    if (spec.map) {
      const entry = fields(f.bytes ?? new Uint8Array(), at);
      const key = text(entry.find((e) => e.no === 1)?.bytes) ?? "";
      const valueField = entry.find((e) => e.no === 2) ?? { no: 2, bytes: new Uint8Array() };
      const map = (out[spec.name] ??= {}) as Record<string, unknown>;
      map[key] = scalar(valueField, spec.map, at);
      continue;
    }
    const value = typeof spec.type === "object" ? decodeMessage(f.bytes ?? new Uint8Array(), spec.type, at) : scalar(f, spec.type, at);
    if (spec.inline) {
      Object.assign(out, value as Record<string, unknown>);
    } else if (spec.repeated) {
      ((out[spec.name] ??= []) as unknown[]).push(value);
    } else if (spec.pointer || !isZero(value)) {
      out[spec.name] = value;
    }
  }
  return out;
}

/** Decodes a protobuf request body of the kinds above into its JSON form, or a 415 naming the kind. */
export function decodeProtobufBody(body: Uint8Array): Record<string, unknown> {
  const { apiVersion, kind, raw } = unwrapEnvelope(body);
  switch (kind) {
    case "DeleteOptions":
      return { apiVersion: "meta.k8s.io/v1", kind: "DeleteOptions", ...decodeDeleteOptions(raw) };
    case "Eviction":
      return decodeEviction(raw);
    case "Deployment":
      return { apiVersion: "apps/v1", kind: "Deployment", ...decodeMessage(raw, deployment, "Deployment") };
    case "ReplicaSet":
      return { apiVersion: "apps/v1", kind: "ReplicaSet", ...decodeMessage(raw, replicaSet, "ReplicaSet") };
    case "Job":
      return { apiVersion: "batch/v1", kind: "Job", ...decodeMessage(raw, job, "Job") };
    case "CronJob":
      return { apiVersion: "batch/v1", kind: "CronJob", ...decodeMessage(raw, cronJob, "CronJob") };
    case "Namespace":
      return { apiVersion: "v1", kind: "Namespace", ...decodeMessage(raw, namespace, "Namespace") };
    case "ConfigMap":
      return { apiVersion: "v1", kind: "ConfigMap", ...decodeMessage(raw, configMap, "ConfigMap") };
    case "Secret":
      return { apiVersion: "v1", kind: "Secret", ...decodeMessage(raw, secret, "Secret") };
    case "Service":
      return { apiVersion: "v1", kind: "Service", ...decodeMessage(raw, service, "Service") };
    case "ResourceQuota":
      return { apiVersion: "v1", kind: "ResourceQuota", ...decodeMessage(raw, resourceQuota, "ResourceQuota") };
    case "ServiceAccount":
      return { apiVersion: "v1", kind: "ServiceAccount", ...decodeMessage(raw, serviceAccount, "ServiceAccount") };
    case "PodDisruptionBudget":
      return { apiVersion: "policy/v1", kind: "PodDisruptionBudget", ...decodeMessage(raw, podDisruptionBudget, "PodDisruptionBudget") };
    case "HorizontalPodAutoscaler":
      // Both versions: kubectl autoscale sends v1; a Go program's AutoscalingV2 client sends v2.
      return apiVersion === "autoscaling/v1"
        ? { apiVersion, kind, ...decodeMessage(raw, horizontalPodAutoscalerV1, "HorizontalPodAutoscaler") }
        : { apiVersion: "autoscaling/v2", kind, ...decodeMessage(raw, horizontalPodAutoscalerV2, "HorizontalPodAutoscaler") };
    case "Role":
    case "RoleBinding":
    case "ClusterRoleBinding":
    case "ClusterRole": {
      const schema = kind === "Role" ? role : kind === "ClusterRole" ? clusterRole : roleBinding;
      return { apiVersion: "rbac.authorization.k8s.io/v1", kind, ...decodeMessage(raw, schema, kind) };
    }
    case "PriorityClass":
      return { apiVersion: "scheduling.k8s.io/v1", kind, ...decodeMessage(raw, priorityClass, kind) };
    case "Lease":
      return { apiVersion: "coordination.k8s.io/v1", kind, ...decodeMessage(raw, lease, kind) };
    case "Ingress":
    case "IngressClass":
    case "NetworkPolicy": {
      const schema = kind === "Ingress" ? ingress : kind === "IngressClass" ? ingressClass : networkPolicy;
      return { apiVersion: "networking.k8s.io/v1", kind, ...decodeMessage(raw, schema, kind) };
    }
    case "SelfSubjectAccessReview":
      return { apiVersion: "authorization.k8s.io/v1", kind, ...decodeMessage(raw, selfSubjectAccessReview, kind) };
    case "SelfSubjectRulesReview":
      return { apiVersion: "authorization.k8s.io/v1", kind, ...decodeMessage(raw, selfSubjectRulesReview, kind) };
    case "SelfSubjectReview":
      // kubectl auth whoami tries v1, then v1beta1 and v1alpha1: the version is kept, so only v1 is answered.
      return { apiVersion: apiVersion ?? "authentication.k8s.io/v1", kind, ...decodeMessage(raw, selfSubjectReview, kind) };
    case "TokenRequest":
      // The version is kept: token_request.ts refuses any but authentication.k8s.io/v1 by name.
      return { apiVersion: apiVersion ?? "authentication.k8s.io/v1", kind, ...decodeMessage(raw, tokenRequest, kind) };
    default:
      throw new UnsupportedProtobufKind(kind);
  }
}

/** A protobuf body of a kind Berth does not decode (see decodeProtobufBody). */
export class UnsupportedProtobufKind extends ApiError {
  constructor(readonly protobufKind: string | undefined) {
    super("UnsupportedMediaType", `Berth reads ${PROTOBUF_MEDIA_TYPE} bodies only for DeleteOptions, Eviction, Deployment, ReplicaSet, Job, CronJob, Namespace, Service, ConfigMap, Secret, ResourceQuota, ServiceAccount, PodDisruptionBudget, HorizontalPodAutoscaler, the RBAC kinds (Role, ClusterRole, RoleBinding, ClusterRoleBinding), PriorityClass, Lease, Ingress, IngressClass, NetworkPolicy, kubectl auth's self reviews and TokenRequest, not ${protobufKind ?? "an object without a kind"}; send application/json`);
    this.name = "UnsupportedProtobufKind";
  }
}
