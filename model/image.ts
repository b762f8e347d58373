/**
 * Container image references, pull policy and registry credentials, as the kubelet treats them.
 * Pure: no I/O, no package. `atob` is a global in Node and Deno alike.
 *
 *   - `parseImageRef`: `[host[:port]/]path[:tag][@digest]`, Docker's rule for the host (the first
 *     component is a registry host when it has a `.` or a `:`, or is `localhost`; otherwise the
 *     image lives on Docker Hub);
 *   - `defaultPullPolicy`: Kubernetes' defaulting (`:latest` or no tag → `Always`, else
 *     `IfNotPresent`; a digest without a tag → `IfNotPresent`);
 *   - `shouldPull`: the kubelet's decision for a policy and whether the image is present;
 *   - `parseDockerConfig`: the data of a `kubernetes.io/dockerconfigjson` (`.dockerconfigjson`)
 *     or legacy `kubernetes.io/dockercfg` (`.dockercfg`) Secret → one credential per registry key;
 *   - `credentialsFor`: the credentials whose key matches an image, matched as the kubelet's
 *     keyring does (host with port, optional scheme, path prefix, `*` globs per host label).
 */

export type PullPolicy = "Always" | "IfNotPresent" | "Never";

export interface ImageRef {
  /** The registry host with its port, `docker.io` for Docker Hub images. */
  registry: string;
  /** The repository path inside the registry (`library/x` for official Hub images). */
  repository: string;
  tag?: string;
  digest?: string;
}

const DOCKER_HUB = "docker.io";

/** Splits an image reference; a reference with neither tag nor digest has neither here. */
export function parseImageRef(image: string): ImageRef {
  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const slash = rest.indexOf("/");
  const first = slash >= 0 ? rest.slice(0, slash) : "";
  const isHost = first !== "" && (first.includes(".") || first.includes(":") || first === "localhost");
  const registry = isHost ? first : DOCKER_HUB;
  let repository = isHost ? rest.slice(slash + 1) : rest;
  if (registry === DOCKER_HUB && !repository.includes("/")) repository = `library/${repository}`;
  return { registry, repository, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** The reference with `:latest` added when it names neither tag nor digest (Docker would pull every tag). */
export function withDefaultTag(image: string): string {
  const r = parseImageRef(image);
  return r.tag === undefined && r.digest === undefined ? `${image}:latest` : image;
}

/** Kubernetes' default `imagePullPolicy` for an image (pkg/apis/core/v1/defaults.go). */
export function defaultPullPolicy(image: string): PullPolicy {
  const r = parseImageRef(image);
  if (r.digest !== undefined && r.tag === undefined) return "IfNotPresent";
  return r.tag === undefined || r.tag === "latest" ? "Always" : "IfNotPresent";
}

/** What the kubelet does for a policy: `pull`, use the local image, or fail (`Never`, absent). */
export function shouldPull(policy: PullPolicy, present: boolean): "pull" | "present" | "neverPull" {
  if (policy === "Always") return "pull";
  if (present) return "present";
  return policy === "Never" ? "neverPull" : "pull";
}

/** One registry credential, as Docker's `X-Registry-Auth` takes it. */
export interface RegistryCredential {
  /** The key it was stored under (`https://host:5000/v1/`, `host:5000`, `*.example.com`...). */
  key: string;
  username: string;
  password: string;
  /** The registry host (with port) the engine is told, from the key. */
  serveraddress: string;
}

/** A secret's data that is not a valid docker config; `field` says where. */
export class DockerConfigError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = "DockerConfigError";
    this.field = field;
  }
}

/** The secret types carrying registry credentials, and the data key of each. */
export const DOCKER_CONFIG_KEYS = {
  "kubernetes.io/dockerconfigjson": ".dockerconfigjson",
  "kubernetes.io/dockercfg": ".dockercfg",
} as const;

function b64(s: string, field: string): string {
  try {
    const bin = atob(s.replace(/\s+/g, ""));
    return new TextDecoder().decode(Uint8Array.from(bin, (ch) => ch.charCodeAt(0)));
  } catch {
    throw new DockerConfigError(field, "not valid base64");
  }
}

/**
 * The credentials in a registry Secret. `data` is the Secret's `data` (base64 values, as the API
 * stores them); `type` says which key holds the config. A `kubernetes.io/dockercfg` holds the
 * `auths` map itself, a `kubernetes.io/dockerconfigjson` holds `{ "auths": {...} }`. An entry
 * gives `username`+`password`, or `auth` (base64 `user:password`), which wins as in the kubelet.
 */
export function parseDockerConfig(type: string, data: Record<string, string>): RegistryCredential[] {
  const key = DOCKER_CONFIG_KEYS[type as keyof typeof DOCKER_CONFIG_KEYS];
  if (!key) throw new DockerConfigError("type", `${JSON.stringify(type)} is not a registry secret type (${Object.keys(DOCKER_CONFIG_KEYS).join(", ")})`);
  const raw = data[key];
  if (raw === undefined) throw new DockerConfigError(`data[${key}]`, "missing");
  let doc: unknown;
  try {
    doc = JSON.parse(b64(raw, `data[${key}]`));
  } catch (e) {
    if (e instanceof DockerConfigError) throw e;
    throw new DockerConfigError(`data[${key}]`, `not valid JSON (${(e as Error).message})`);
  }
  const auths = key === ".dockerconfigjson" ? (doc as { auths?: unknown })?.auths : doc;
  if (!auths || typeof auths !== "object" || Array.isArray(auths)) {
    throw new DockerConfigError(`data[${key}]${key === ".dockerconfigjson" ? ".auths" : ""}`, "must be an object of registry entries");
  }
  const out: RegistryCredential[] = [];
  for (const [k, v] of Object.entries(auths as Record<string, unknown>)) {
    const e = (v ?? {}) as { username?: unknown; password?: unknown; auth?: unknown };
    let username = typeof e.username === "string" ? e.username : "";
    let password = typeof e.password === "string" ? e.password : "";
    if (typeof e.auth === "string" && e.auth !== "") {
      const decoded = b64(e.auth, `data[${key}][${k}].auth`);
      const i = decoded.indexOf(":");
      if (i < 0) throw new DockerConfigError(`data[${key}][${k}].auth`, "must decode to username:password");
      username = decoded.slice(0, i);
      password = decoded.slice(i + 1);
    }
    out.push({ key: k, username, password, serveraddress: hostOfKey(k) });
  }
  return out;
}

/** `https://host:5000/v1/` → `host:5000`; Docker Hub's legacy keys → `docker.io`. */
function hostOfKey(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, "").split("/")[0];
  return host === "index.docker.io" || host === "registry-1.docker.io" ? DOCKER_HUB : host;
}

function splitHostPort(host: string): [string, string] {
  const i = host.lastIndexOf(":");
  return i >= 0 ? [host.slice(0, i), host.slice(i + 1)] : [host, ""];
}

/** Host labels match one by one; `*` in a key's label is a glob (as `*.example.com`). */
function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase().split(".");
  const h = host.toLowerCase().split(".");
  if (p.length !== h.length) return false;
  return p.every((label, i) => new RegExp(`^${label.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^.]*")}$`).test(h[i]));
}

/**
 * Whether a credential key applies to an image (the kubelet's `URLsMatch`): same host (globs
 * allowed), same port (none on both, or equal), and the key's path a prefix of the image's path.
 */
export function keyMatchesImage(key: string, image: string): boolean {
  const r = parseImageRef(image);
  const stripped = key.replace(/^[a-z]+:\/\//i, "");
  const slash = stripped.indexOf("/");
  let keyHost = slash >= 0 ? stripped.slice(0, slash) : stripped;
  // Docker (and the kubelet) take a `/v1/` or `/v2/` path as the host itself.
  const keyPath = slash >= 0 ? stripped.slice(slash + 1).replace(/^v[12](\/|$)/, "").replace(/\/+$/, "") : "";
  if (keyHost === "index.docker.io" || keyHost === "registry-1.docker.io") keyHost = DOCKER_HUB;
  const [kh, kp] = splitHostPort(keyHost);
  const [ih, ip] = splitHostPort(r.registry);
  if (kp !== ip || !hostMatches(kh, ih)) return false;
  if (keyPath === "") return true;
  return r.repository === keyPath || r.repository.startsWith(`${keyPath}/`);
}

/**
 * The credentials to try for an image, most specific key first (longest), as the kubelet's
 * keyring orders them. Empty: pull anonymously.
 */
export function credentialsFor(image: string, creds: RegistryCredential[]): RegistryCredential[] {
  return creds.filter((c) => keyMatchesImage(c.key, image)).sort((a, b) => b.key.length - a.key.length);
}
