/**
 * `POST /api/v1/namespaces/{ns}/serviceaccounts/{name}/token` with an authentication.k8s.io/v1
 * `TokenRequest` body: a bound service-account token, as kube-apiserver's TokenREST
 * (pkg/registry/core/serviceaccount/storage/token.go) issues it. Nothing is stored.
 *
 *   no signing key ──▶ 404 (kube-apiserver serves no token route then), saying why
 *   decode the body (kind, apiVersion, field types) ──▶ 400 when it is not a TokenRequest
 *   metadata.name / namespace, when given, match the URL ──▶ 422
 *   read the service account ──▶ 404 as the store says it
 *   default audiences ([issuer]) and expirationSeconds (3600); 600 ≤ expirationSeconds ≤ 2^32 ──▶ 422
 *   boundObjectRef: a Pod (running as this service account; its node is recorded too), a Secret
 *     or a Node, read from the store ──▶ 404; any other kind ──▶ 400; a uid that is not the
 *     object's ──▶ 409
 *   sign ──▶ 201 TokenRequest { spec as defaulted, status { token, expirationTimestamp } }
 *
 * server.ts reads the body (JSON, or the protobuf kubectl's typed client sends: protobuf.ts) and
 * calls `serveTokenRequest` for a POST on that route.
 */
import type { ApiClient } from "../../model/client.ts";
import { ApiError, BadRequestError, ConflictError, InvalidError, NotFoundError } from "../../model/errors.ts";
import type { Node, Pod } from "../../model/types.ts";
import type { BoundObject, ServiceAccountTokens } from "../auth/sa_tokens.ts";
import { CAUSE, Causes } from "./validation_util.ts";
import { podServiceAccount } from "../../model/pod_references.ts";

const GROUP = "authentication.k8s.io";
const API_VERSION = `${GROUP}/v1`;
const KIND = "TokenRequest";

/** kube's SetDefaults_TokenRequestSpec: one hour. */
export const DEFAULT_EXPIRATION_SECONDS = 3600;
/** kube's validation.MinTokenAgeSec: ten minutes. */
export const MIN_EXPIRATION_SECONDS = 600;
/** The longest validity kube's ValidateTokenRequest allows: 2^32 seconds. */
export const MAX_EXPIRATION_SECONDS = 2 ** 32;

/** What a server without a signing key answers (kube-apiserver does not serve the route then). */
export const NO_SIGNING_KEY = "the API server was started without a service-account signing key, so it cannot issue service account tokens";

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : undefined);
const absent = (v: unknown) => v === undefined || v === null;

/** `spec.boundObjectRef` as sent: every field optional, as in BoundObjectReference. */
interface BoundObjectRef {
  kind?: string;
  apiVersion?: string;
  name?: string;
  uid?: string;
}

/** The fields of a TokenRequest body that are acted on, with their JSON types checked. */
interface DecodedRequest {
  name?: string;
  namespace?: string;
  audiences: string[];
  expirationSeconds?: number;
  boundObjectRef?: BoundObjectRef;
}

/** Answers one TokenRequest create (see the diagram above); every refusal is an ApiError. */
export async function serveTokenRequest(opts: {
  /** Where the account and the bound object are read (only `get` is used). */
  api: Pick<ApiClient, "get">;
  tokens: ServiceAccountTokens | undefined;
  namespace: string;
  name: string;
  body: unknown;
  now?: Date;
}): Promise<{ status: number; body: Record<string, unknown> }> {
  const { api, tokens, namespace, name } = opts;
  // Not a 5xx: nothing is wrong with the server, it was configured without tokens.
  if (!tokens) throw new ApiError("NotFound", NO_SIGNING_KEY);
  const req = decode(opts.body);
  if (req.name !== undefined && req.name !== "" && req.name !== name) {
    throw invalid(name, (c) => c.add(CAUSE.invalid, "metadata.name", req.name, "must match the service account name if specified"));
  }
  if (req.namespace !== undefined && req.namespace !== "" && req.namespace !== namespace) {
    throw invalid(name, (c) => c.add(CAUSE.invalid, "metadata.namespace", req.namespace, "must match the service account namespace if specified"));
  }
  const sa = await api.get("serviceaccounts", name, namespace);
  const audiences = req.audiences.length ? req.audiences : [tokens.issuer];
  const expirationSeconds = req.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
  const causes = new Causes();
  if (expirationSeconds < MIN_EXPIRATION_SECONDS) causes.add(CAUSE.invalid, "spec.expirationSeconds", expirationSeconds, "may not specify a duration less than 10 minutes");
  if (expirationSeconds > MAX_EXPIRATION_SECONDS) causes.add(CAUSE.invalid, "spec.expirationSeconds", expirationSeconds, "may not specify a duration larger than 2^32 seconds");
  if (req.boundObjectRef && !req.boundObjectRef.name) causes.add(CAUSE.required, "spec.boundObjectRef.name", undefined);
  if (causes.list.length) throw new InvalidError(KIND, name, causes.list);

  const binding = req.boundObjectRef ? await boundObject(api, namespace, name, req.boundObjectRef) : undefined;
  const now = opts.now ?? new Date();
  const issued = await tokens.issue({
    namespace,
    serviceAccount: { name: sa.metadata.name, uid: sa.metadata.uid ?? "" },
    ...(binding ?? {}),
    audiences,
    expirationSeconds,
    now,
  });
  return {
    status: 201,
    body: {
      kind: KIND,
      apiVersion: API_VERSION,
      metadata: { name, namespace, creationTimestamp: rfc3339(now) },
      spec: { audiences, expirationSeconds, ...(req.boundObjectRef ? { boundObjectRef: req.boundObjectRef } : {}) },
      status: { token: issued.token, expirationTimestamp: issued.expirationTimestamp },
    },
  };
}

/**
 * The object a token is to be bound to, read from the store, and for a pod the node it runs on.
 * Only core kinds bind, whatever their version, as kube's `schema.FromAPIVersionAndKind` reads them.
 */
async function boundObject(api: Pick<ApiClient, "get">, namespace: string, saName: string, ref: BoundObjectRef): Promise<{ bound: BoundObject; node?: { name: string; uid?: string } }> {
  const apiVersion = ref.apiVersion ?? "";
  const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.lastIndexOf("/")) : "";
  const kind = ref.kind ?? "";
  const name = ref.name as string;
  let bound: BoundObject;
  let node: { name: string; uid?: string } | undefined;
  if (group === "" && kind === "Pod") {
    const pod = (await api.get("pods", name, namespace)) as Pod;
    // A pod that names no service account runs as "default" (kube's ServiceAccount admission sets it).
    if (podServiceAccount(pod) !== saName) {
      throw new BadRequestError(`cannot bind token for serviceaccount ${JSON.stringify(saName)} to pod running with different serviceaccount name.`);
    }
    bound = { kind: "Pod", name, uid: pod.metadata.uid ?? "" };
    if (pod.spec.nodeName) node = await nodeOfPod(api, pod.spec.nodeName);
  } else if (group === "" && kind === "Secret") {
    const secret = await api.get("secrets", name, namespace);
    bound = { kind: "Secret", name, uid: secret.metadata.uid ?? "" };
  } else if (group === "" && kind === "Node") {
    const n = (await api.get("nodes", name)) as Node;
    bound = { kind: "Node", name, uid: n.metadata.uid ?? "" };
  } else {
    // Go's GroupVersionKind.String(): "group/version, Kind=kind" ("/v1, Kind=ConfigMap" for the core group).
    const version = apiVersion.includes("/") ? apiVersion.slice(apiVersion.lastIndexOf("/") + 1) : apiVersion;
    throw new BadRequestError(`cannot bind token to object of type ${group}/${version}, Kind=${kind}`);
  }
  if (ref.uid && ref.uid !== bound.uid) {
    throw new ConflictError(kind, name, `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
  }
  return { bound, ...(node ? { node } : {}) };
}

/** The node a bound pod runs on: a node object that is gone still leaves its name in the token, as kube does. */
async function nodeOfPod(api: Pick<ApiClient, "get">, nodeName: string): Promise<{ name: string; uid?: string }> {
  try {
    const n = await api.get("nodes", nodeName);
    return { name: nodeName, ...(n.metadata.uid ? { uid: n.metadata.uid } : {}) };
  } catch (e) {
    if (e instanceof NotFoundError || (e instanceof ApiError && e.reason === "NotFound")) return { name: nodeName };
    throw e;
  }
}

/** An Invalid error of the TokenRequest with the causes `add` gathers. */
function invalid(name: string, add: (c: Causes) => void): InvalidError {
  const c = new Causes();
  add(c);
  return new InvalidError(KIND, name, c.list);
}

/**
 * The body as a TokenRequest: its kind and apiVersion, when given, must be these, and every field
 * read must have its JSON type (kube's decoder refuses the body otherwise, with 400).
 */
function decode(body: unknown): DecodedRequest {
  const b = obj(body);
  if (!b) throw new BadRequestError(`the body of serviceaccounts/token must be a ${KIND} object`);
  const givenVersion = typeof b.apiVersion === "string" && b.apiVersion !== "" ? b.apiVersion : API_VERSION;
  const givenKind = typeof b.kind === "string" && b.kind !== "" ? b.kind : KIND;
  if (givenVersion !== API_VERSION) throw new BadRequestError(`the API version in the data (${givenVersion}) does not match the expected API version (${API_VERSION})`);
  if (givenKind !== KIND) throw new BadRequestError(`${givenKind} in version "v1" cannot be handled as a ${KIND}: the kind in the body does not match the URL`);
  const bad = (field: string, want: string, got: unknown): never => {
    throw new BadRequestError(`${KIND} in version "v1" cannot be handled as a ${KIND}: ${field} must be ${want}, not ${JSON.stringify(got) ?? typeof got}`, [
      { reason: CAUSE.invalid, field, message: `must be ${want}` },
    ]);
  };
  const str = (v: unknown, field: string): string | undefined => (absent(v) ? undefined : typeof v === "string" ? v : bad(field, "a string", v));
  const object = (v: unknown, field: string): Obj | undefined => (absent(v) ? undefined : obj(v) ?? bad(field, "an object", v));

  const meta = object(b.metadata, "metadata") ?? {};
  const spec = object(b.spec, "spec") ?? {};
  const out: DecodedRequest = { audiences: [] };
  const name = str(meta.name, "metadata.name");
  const namespace = str(meta.namespace, "metadata.namespace");
  if (name !== undefined) out.name = name;
  if (namespace !== undefined) out.namespace = namespace;
  if (!absent(spec.audiences)) {
    if (!Array.isArray(spec.audiences)) bad("spec.audiences", "a list of strings", spec.audiences);
    out.audiences = (spec.audiences as unknown[]).map((a, i) => str(a, `spec.audiences[${i}]`) ?? bad(`spec.audiences[${i}]`, "a string", a));
  }
  if (!absent(spec.expirationSeconds)) {
    const e = spec.expirationSeconds;
    if (typeof e !== "number" || !Number.isInteger(e)) bad("spec.expirationSeconds", "an integer", e);
    out.expirationSeconds = e as number;
  }
  const ref = object(spec.boundObjectRef, "spec.boundObjectRef");
  if (ref) {
    const r: BoundObjectRef = {};
    for (const k of ["kind", "apiVersion", "name", "uid"] as const) {
      const v = str(ref[k], `spec.boundObjectRef.${k}`);
      if (v) r[k] = v;
    }
    out.boundObjectRef = r;
  }
  return out;
}

/** A time as Kubernetes writes it: UTC, whole seconds. */
function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}
