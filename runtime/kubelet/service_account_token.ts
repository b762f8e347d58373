/**
 * The ServiceAccount token volume every pod gets, as on Kubernetes — there kube's ServiceAccount
 * admission adds a `kube-api-access-*` projected volume to the pod, and the kubelet's projected
 * volume plugin and token manager fill it; on Berth the kubelet does both:
 *
 *   <podsDir>/<pod uid>/volumes/berth~service-account-token/kube-api-access/   (tmpfs, as a secret)
 *     token      a TokenRequest for the pod's ServiceAccount, bound to the pod, 3607 s of life;
 *                renewed once 80 % of its life has passed (or 24 h), in place
 *     ca.crt     key `ca.crt` of ConfigMap `kube-root-ca.crt` in the pod's namespace
 *     namespace  the pod's namespace
 *   bind-mounted read-only at /var/run/secrets/kubernetes.io/serviceaccount in every container and
 *   init container that mounts nothing at that path itself (a user's own mount there wins)
 *
 *   pod ──automount?──▶ spec.automountServiceAccountToken ?? account's ?? true
 *        │ account missing: no decision ──▶ FailedMount, retried
 *        ▼ yes
 *   token (cached per pod; renewed when due; a failed renewal keeps a token not yet expired)
 *        │ 404 account, ... ──▶ FailedMount, retried
 *        │ the API has no signing key (it issues no tokens: an Api opened without one) ──▶ the
 *        │   pod runs without a token volume, and so do the node's next pods for a minute
 *        ▼
 *   files written atomically (volumes_projected.ts) ──▶ mounted into the containers
 *
 * `ca.crt` is left out while the namespace has no `kube-root-ca.crt` (a cluster whose control
 * plane publishes no CA, e.g. one without TLS): kube's projected source is not optional, but a
 * pod held back for want of it would never start there; the file appears once it is published.
 *
 * The directory is not under `kubernetes.io~projected` with the pod's own projected volumes: the
 * volume is not in the pod's spec, so a volume of the pod may well be named `kube-api-access`
 * (kube's admission would name its own `kube-api-access-<random>` instead), and the two must not
 * share a directory.
 *
 * The pod's projected volumes ask for tokens too (a `serviceAccountToken` source: an audience, a
 * life); `PodTokens` holds each pod's tokens by (audience, expirationSeconds), as the kubelet's
 * token manager keys them, so a source asking what the token volume asks shares its token.
 *
 * The decisions — automount, which containers mount it, when a token is due, the files — are
 * pure and unit-tested; `PodTokens` holds the per-pod state and does the API calls. Nothing here
 * touches the disk: `ProjectedVolumes` writes, refreshes and removes the directory.
 */
import type { ApiClient } from "../../model/client.ts";
import type { MountSpec } from "../../model/container_runtime.ts";
import { ApiError } from "../../model/errors.ts";
import type { Log } from "../../model/log.ts";
import type { ConfigMap, Container, Pod, ServiceAccount, ServiceAccountTokenProjection, TokenRequest } from "../../model/types.ts";
import type { ProjectedFile } from "./atomic_writer.ts";
import { podServiceAccount } from "../../model/pod_references.ts";
import { DEFAULT_EXPIRATION_SECONDS, NO_SIGNING_KEY } from "../api/token_request.ts";

/** Where Kubernetes mounts the token (client-go's rest.InClusterConfig reads it there). */
export const SERVICE_ACCOUNT_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount";
/** The volume's name in events and on disk (kube names it `kube-api-access-<random>`). */
export const TOKEN_VOLUME = "kube-api-access";
/**
 * The directory, under a pod's `volumes/`, of its token volume: a plugin name of Berth's own, apart
 * from `kubernetes.io~projected` where the pod's own projected volumes live (see above).
 */
export const TOKEN_VOLUME_PLUGIN = "berth~service-account-token";
/** The key of the cluster CA in ConfigMap `kube-root-ca.crt` (ROOT_CA_CONFIGMAP). */
export const ROOT_CA_KEY = "ca.crt";
/** kube's admission asks 3607 s: one hour and a few seconds, so a token's age tells who made it. */
export const TOKEN_EXPIRATION_SECONDS = 3607;
/** The kubelet's token manager renews a token at most this old, whatever its life (maxTTL). */
export const TOKEN_MAX_TTL_MS = 24 * 3600 * 1000;
/** The jitter the token manager adds, so a node's tokens are not all renewed at one instant. */
export const TOKEN_MAX_JITTER_MS = 10_000;
/** kube's projected volume defaultMode: 420 (0644) for all three files. */
const MODE = 0o644;
/** How long a node takes the API's "no signing key" for an answer before asking again. */
export const NO_SIGNING_KEY_RECHECK_MS = 60_000;

/** The API's answer when it issues no tokens at all (runtime/api/token_request.ts). */
export function isNoSigningKey(e: unknown): boolean {
  return e instanceof ApiError && e.reason === "NotFound" && e.message === NO_SIGNING_KEY;
}

export { podServiceAccount };

/** Whether a pod gets a token: decided, or the account must be read to know. */
export type Automount = { type: "mount" } | { type: "skip" } | { type: "error"; message: string };

/**
 * kube's ServiceAccount admission (`shouldAutomount`): the pod's `automountServiceAccountToken`
 * when set, else the account's when set, else true. `account` is the pod's ServiceAccount (null:
 * it does not exist, so nothing can be decided — the pod waits for it, as kube refuses it), or
 * undefined when it was not read (enough when the pod decides by itself; see `podDecides`).
 */
export function automount(pod: Pod, account: ServiceAccount | null | undefined): Automount {
  const own = pod.spec.automountServiceAccountToken;
  if (own !== undefined) return { type: own ? "mount" : "skip" };
  if (account === null) {
    return { type: "error", message: `failed to fetch token: serviceaccounts "${podServiceAccount(pod)}" not found` };
  }
  if (account === undefined) return { type: "error", message: `the service account "${podServiceAccount(pod)}" was not read` };
  return { type: account.automountServiceAccountToken === false ? "skip" : "mount" };
}

/** True when the pod's own spec settles `automount` (its ServiceAccount need not be read). */
export function podDecides(pod: Pod): boolean {
  return pod.spec.automountServiceAccountToken !== undefined;
}

/** A mount path as compared: without trailing slashes (`/a/b/` and `/a/b` are one mount point). */
function samePath(a: string, b: string): boolean {
  const norm = (p: string) => p.replace(/\/+$/, "") || "/";
  return norm(a) === norm(b);
}

/**
 * The token volume's mount for container `c` (app or init), or undefined when the container
 * mounts something at the token's path itself: kube's admission then leaves that container alone.
 */
export function tokenMount(c: Container, source: string): MountSpec | undefined {
  if ((c.volumeMounts ?? []).some((vm) => samePath(vm.mountPath, SERVICE_ACCOUNT_MOUNT_PATH))) return undefined;
  return { type: "bind", source, target: SERVICE_ACCOUNT_MOUNT_PATH, readOnly: true };
}

/** What the token manager remembers of a token: when it expires and the life it was asked for. */
export interface IssuedToken {
  token: string;
  /** RFC 3339. */
  expirationTimestamp: string;
  expirationSeconds: number;
}

/**
 * kube's token manager `requiresRefresh`: a token is renewed once it is older than 24 h, or once
 * less than 20 % of its life is left — each moved earlier by `jitterMs` (0 to 10 s, random, so
 * a node's tokens spread out). Unparseable times are due (a fresh token is asked for).
 */
export function tokenRefreshDue(t: IssuedToken, now: number, jitterMs = 0): boolean {
  const exp = Date.parse(t.expirationTimestamp);
  if (!Number.isFinite(exp)) return true;
  const life = t.expirationSeconds * 1000;
  const issued = exp - life;
  if (now > issued + TOKEN_MAX_TTL_MS - jitterMs) return true;
  return now > exp - life * 0.2 - jitterMs;
}

/** True once the token's expiration has passed (it may no longer stand in for a fresh one). */
export function tokenExpired(t: IssuedToken, now: number): boolean {
  const exp = Date.parse(t.expirationTimestamp);
  return !Number.isFinite(exp) || now >= exp;
}

export type TokenFilesResult = { type: "ok"; files: ProjectedFile[] } | { type: "error"; message: string };

const utf8 = (s: string) => new TextEncoder().encode(s);

/**
 * The volume's files: the token, `ca.crt` from the namespace's `kube-root-ca.crt` ConfigMap
 * (`ca`: null when it does not exist — then, or without the key, there is no `ca.crt`; see the
 * diagram), and the pod's namespace.
 */
export function tokenVolumeFiles(pod: Pod, token: string, ca: ConfigMap | null): TokenFilesResult {
  const pem = ca?.data?.[ROOT_CA_KEY] ?? (ca?.binaryData?.[ROOT_CA_KEY] !== undefined ? Buffer.from(ca.binaryData[ROOT_CA_KEY], "base64").toString("utf8") : undefined);
  return {
    type: "ok",
    files: [
      ...(pem !== undefined ? [{ path: ROOT_CA_KEY, content: utf8(pem), mode: MODE }] : []),
      { path: "namespace", content: utf8(pod.metadata.namespace ?? "default"), mode: MODE },
      { path: "token", content: utf8(token), mode: MODE },
    ],
  };
}

/** What a token is asked for with: its audience ("": the API server's own) and its life. */
export interface TokenSpec {
  audience: string;
  expirationSeconds: number;
}

/** The token volume's token: the API's audience, kube's admission's 3607 s. */
export const TOKEN_VOLUME_SPEC: TokenSpec = { audience: "", expirationSeconds: TOKEN_EXPIRATION_SECONDS };

/** The token a projected volume's `serviceAccountToken` source asks for (kube's defaults: the API's audience, 3600 s). */
export function projectionTokenSpec(src: ServiceAccountTokenProjection): TokenSpec {
  return { audience: src.audience ?? "", expirationSeconds: src.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS };
}

/** How a pod's tokens are told apart: by audience and life (the token manager's key, within one pod). */
export function tokenSpecKey(spec: TokenSpec): string {
  return `${spec.expirationSeconds}/${spec.audience}`;
}

/**
 * The TokenRequest the kubelet sends for a pod's token (bound to the pod, so it dies with it): no
 * `audiences` for the API's own, as the kubelet's projected volume plugin asks.
 */
export function podTokenRequest(pod: Pod, spec: TokenSpec = TOKEN_VOLUME_SPEC): unknown {
  return {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenRequest",
    spec: {
      ...(spec.audience ? { audiences: [spec.audience] } : {}),
      expirationSeconds: spec.expirationSeconds,
      boundObjectRef: { kind: "Pod", apiVersion: "v1", name: pod.metadata.name, uid: pod.metadata.uid },
    },
  };
}

/** A token answer, why there is none (the FailedMount's text), or that the API issues no tokens. */
export type TokenResult = { type: "ok"; token: string } | { type: "error"; message: string } | { type: "noSigningKey" };

export interface PodTokensOptions {
  client: Pick<ApiClient, "get" | "createToken">;
  log?: Log;
  now?: () => number;
  /** 0..TOKEN_MAX_JITTER_MS; random by default. */
  jitterMs?: () => number;
  /**
   * How long a ServiceAccount read for one pod's decision answers for the next pods of that
   * account (default 10 s): a burst of pods costs one read, not one each. kube's admission, too,
   * decides from a cache of accounts; a missing account is never remembered.
   */
  accountTtlMs?: number;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * The node's per-pod token state (the kubelet's token manager, plus the automount decision kube's
 * admission makes once per pod): one decision per pod, and per pod and token spec (audience,
 * life) one token held and at most one request in flight. `forget` drops a pod's state; `prune`
 * the state of pods no longer wanted.
 */
export class PodTokens {
  /** Pod uid → whether it mounts a token (decided once: kube's admission fixes it at creation). */
  private readonly decisions = new Map<string, boolean>();
  private readonly deciding = new Map<string, Promise<Automount>>();
  /** Pod uid → its tokens by `tokenSpecKey` (present once a token of the pod was asked for). */
  private readonly tokens = new Map<string, Map<string, IssuedToken>>();
  /** `<uid> <tokenSpecKey>` → the request in flight. */
  private readonly fetching = new Map<string, Promise<TokenResult>>();
  /** `<namespace>/<account>` → its read (in flight or done) and when it was made. */
  private readonly accounts = new Map<string, { read: Promise<ServiceAccount>; at: number }>();
  private readonly now: () => number;
  private readonly jitter: () => number;
  /** Until when the API is taken to issue no tokens (its last answer said so). */
  private noSigningKeyUntil = 0;

  constructor(private readonly opts: PodTokensOptions) {
    this.now = opts.now ?? Date.now;
    this.jitter = opts.jitterMs ?? (() => Math.random() * TOKEN_MAX_JITTER_MS);
  }

  /** The decision already made for the pod, if any (true: it has a token volume). */
  decided(uid: string): boolean | undefined {
    return this.decisions.get(uid);
  }

  /** Whether the pod mounts a token; reads its ServiceAccount only when the pod does not say. */
  automount(pod: Pod): Promise<Automount> {
    const uid = pod.metadata.uid ?? pod.metadata.name;
    const known = this.decisions.get(uid);
    if (known !== undefined) return Promise.resolve({ type: known ? "mount" : "skip" });
    // The API issues no tokens: this pod runs without one (decided once, as for every pod).
    if (this.now() < this.noSigningKeyUntil) {
      this.decisions.set(uid, false);
      return Promise.resolve({ type: "skip" });
    }
    let p = this.deciding.get(uid);
    if (!p) {
      p = this.decide(pod).then((d) => {
        if (d.type !== "error") this.decisions.set(uid, d.type === "mount");
        return d;
      }).finally(() => this.deciding.delete(uid));
      this.deciding.set(uid, p);
    }
    return p;
  }

  private async decide(pod: Pod): Promise<Automount> {
    if (podDecides(pod)) return automount(pod, undefined);
    const ns = pod.metadata.namespace ?? "default";
    try {
      return automount(pod, await this.account(ns, podServiceAccount(pod)));
    } catch (e) {
      if (e instanceof ApiError && e.reason === "NotFound") {
        // No account: the pod waits for it — unless the API issues no tokens at all, which only
        // a token request tells (then no account is needed: the pod runs without a token).
        if ((await this.request(pod, pod.metadata.uid ?? pod.metadata.name, TOKEN_VOLUME_SPEC)).type === "noSigningKey") return { type: "skip" };
        return automount(pod, null);
      }
      return { type: "error", message: `failed to read serviceaccount "${ns}/${podServiceAccount(pod)}": ${errorText(e)}` };
    }
  }

  /** A ServiceAccount, read at most once per `accountTtlMs` (a failed read is not kept). */
  private account(namespace: string, name: string): Promise<ServiceAccount> {
    const key = `${namespace}/${name}`;
    const now = this.now();
    const held = this.accounts.get(key);
    if (held && now - held.at < (this.opts.accountTtlMs ?? 10_000)) return held.read;
    const read = this.opts.client.get("serviceaccounts", name, namespace) as Promise<ServiceAccount>;
    const entry = { read, at: now };
    this.accounts.set(key, entry);
    read.catch(() => {
      if (this.accounts.get(key) === entry) this.accounts.delete(key);
    });
    return read;
  }

  /**
   * The pod's token for `spec` (by default the token volume's): the one held while it is not due
   * for renewal, else a new one. A renewal that fails keeps the held token while it has not
   * expired (the kubelet's token manager), and says so in the log; with none to keep, the failure
   * is the answer.
   */
  token(pod: Pod, spec: TokenSpec = TOKEN_VOLUME_SPEC): Promise<TokenResult> {
    const uid = pod.metadata.uid ?? pod.metadata.name;
    const key = tokenSpecKey(spec);
    let held = this.tokens.get(uid);
    if (!held) this.tokens.set(uid, (held = new Map()));
    const token = held.get(key);
    if (token && !tokenRefreshDue(token, this.now(), this.jitter())) return Promise.resolve({ type: "ok", token: token.token });
    const inFlight = `${uid} ${key}`;
    let p = this.fetching.get(inFlight);
    if (!p) {
      p = this.request(pod, uid, spec).finally(() => this.fetching.delete(inFlight));
      this.fetching.set(inFlight, p);
    }
    return p;
  }

  private async request(pod: Pod, uid: string, spec: TokenSpec): Promise<TokenResult> {
    const ns = pod.metadata.namespace ?? "default";
    const key = tokenSpecKey(spec);
    let tr: TokenRequest;
    try {
      tr = await this.opts.client.createToken(podServiceAccount(pod), ns, podTokenRequest(pod, spec));
    } catch (e) {
      if (isNoSigningKey(e)) {
        // No tokens for any pod: this one runs without a token volume, and the next ones are
        // not asked for for a while (each would cost the API a round trip for the same answer).
        this.noSigningKeyUntil = this.now() + NO_SIGNING_KEY_RECHECK_MS;
        this.decisions.set(uid, false);
        this.tokens.get(uid)?.delete(key);
        return { type: "noSigningKey" };
      }
      const held = this.tokens.get(uid)?.get(key);
      if (held && !tokenExpired(held, this.now())) {
        this.opts.log?.("service account token not renewed; keeping the current one", { pod: `${ns}/${pod.metadata.name}`, expires: held.expirationTimestamp, error: errorText(e) });
        return { type: "ok", token: held.token };
      }
      return { type: "error", message: `failed to fetch token: ${errorText(e)}` };
    }
    // Kept only while the pod's tokens are held: a pod forgotten meanwhile (cleaned up) keeps none.
    this.tokens.get(uid)?.set(key, {
      token: tr.status.token,
      expirationTimestamp: tr.status.expirationTimestamp,
      expirationSeconds: tr.spec?.expirationSeconds ?? spec.expirationSeconds,
    });
    return { type: "ok", token: tr.status.token };
  }

  /** Drops everything held for a pod (its volume is gone). */
  forget(uid: string): void {
    this.decisions.delete(uid);
    this.tokens.delete(uid);
  }

  /** Drops the state of every pod `wants` says no to, and accounts read long ago. */
  prune(wants: (uid: string) => boolean): void {
    for (const uid of new Set([...this.decisions.keys(), ...this.tokens.keys()])) if (!wants(uid)) this.forget(uid);
    const now = this.now();
    for (const [key, held] of this.accounts) if (now - held.at >= (this.opts.accountTtlMs ?? 10_000)) this.accounts.delete(key);
  }
}
