/**
 * A pod's volumes, the rules that relate their fields (kube-apiserver's validateVolumes,
 * validateProjectedVolumeSource and validateProjectionSources): unique names; exactly one source
 * per volume, a source Kubernetes has and Berth does not serve refused by name; item paths that
 * stay inside the volume; and a projected volume's sources — one kind each, no two writing one
 * path, token lives between ten minutes and 2^32 seconds.
 *
 * Field types and formats are the schema pass's (validation_schemas.ts); these read the raw input
 * defensively, as every cross-field rule does.
 */
import { configKeyProblem } from "./validation_config.ts";
import { MAX_EXPIRATION_SECONDS, MIN_EXPIRATION_SECONDS } from "./token_request.ts";
import { arr, CAUSE, type Causes, type Obj, obj } from "./validation_util.ts";

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

const VOLUME_SOURCES = ["emptyDir", "hostPath", "persistentVolumeClaim", "configMap", "secret", "downwardAPI", "projected"];
/** Kubernetes volume sources Berth does not implement: named so that the error says so instead of "no volume type". */
const UNSUPPORTED_SOURCES = [
  "nfs", "iscsi", "gcePersistentDisk", "awsElasticBlockStore",
  "azureDisk", "azureFile", "cephfs", "rbd", "cinder", "csi", "ephemeral", "fc", "flexVolume", "flocker",
  "gitRepo", "glusterfs", "photonPersistentDisk", "portworxVolume", "quobyte", "scaleIO", "storageos", "vsphereVolume",
];

const PROJECTIONS = ["configMap", "secret", "downwardAPI", "serviceAccountToken"];
/** Projection kinds Kubernetes has and Berth does not serve, with why. */
const PROJECTIONS_NOT_SERVED: Record<string, string> = {
  clusterTrustBundle: "it serves no ClusterTrustBundles",
  podCertificate: "it serves no PodCertificateRequests and no signers to issue pod certificates",
};

/**
 * The rules of `spec.volumes` at `at` (`spec.volumes`, `spec.template.spec.volumes`); returns the
 * names declared, for the mounts to be checked against.
 */
export function volumeRules(c: Causes, volumes: unknown, at: string): Set<string> {
  const names = new Set<string>();
  arr(volumes).forEach((v, i) => {
    const vol = obj(v);
    if (!vol) return;
    const name = str(vol.name);
    const path = `${at}[${i}]`;
    if (name !== undefined && name !== "") {
      if (names.has(name)) c.add(CAUSE.duplicate, `${path}.name`, name);
      names.add(name);
    }
    const given = VOLUME_SOURCES.filter((s) => vol[s] !== undefined);
    const unsupported = UNSUPPORTED_SOURCES.filter((s) => vol[s] !== undefined);
    if (given.length === 0 && unsupported.length > 0) {
      c.add(CAUSE.notSupported, path, unsupported[0], `Berth supports the volume types ${VOLUME_SOURCES.map((s) => `"${s}"`).join(", ")}`);
    } else if (given.length === 0) {
      c.add(CAUSE.required, path, undefined, "must specify a volume type");
    } else if (given.length + unsupported.length > 1) {
      c.add(CAUSE.forbidden, `${path}.${[...given, ...unsupported][1]}`, undefined, "may not specify more than 1 volume type");
    }
    itemRules(c, vol, path);
    const projected = obj(vol.projected);
    if (projected) projectedRules(c, projected, `${path}.projected`);
  });
  return names;
}

/**
 * Why a path inside a volume is refused (kube's ValidateLocalNonReservedPath): absolute, with a
 * `..` element, or starting with `..` (the atomic writer's own names, `..data`, begin so).
 */
function localPathProblem(p: string): string | undefined {
  if (p.startsWith("/")) return "must be a relative path";
  if (p.split("/").includes("..")) return "must not contain '..'";
  if (p.startsWith("..")) return "must not start with '..'";
  return undefined;
}

/** An item of a ConfigMap/Secret source: its path inside the volume, its key a valid one. */
function keyToPathRules(c: Causes, item: Obj | undefined, at: string): void {
  const p = str(item?.path);
  const bad = p === undefined ? undefined : localPathProblem(p);
  if (bad) c.add(CAUSE.invalid, `${at}.path`, p, bad);
  const key = str(item?.key);
  const badKey = key === undefined ? undefined : configKeyProblem(key);
  if (badKey) c.add(CAUSE.invalid, `${at}.key`, key, badKey);
}

/**
 * A downward API item: its path inside the volume, exactly one of its two references (kube's
 * validateDownwardAPIVolumeFile words, reported at the item rather than at its volume or source).
 */
function downwardItemRules(c: Causes, item: Obj | undefined, at: string): void {
  if (!item) return;
  const p = str(item.path);
  const bad = p === undefined ? undefined : localPathProblem(p);
  if (bad) c.add(CAUSE.invalid, `${at}.path`, p, bad);
  const n = ["fieldRef", "resourceFieldRef"].filter((k) => item[k] !== undefined).length;
  if (n === 0) c.add(CAUSE.required, at, undefined, "one of fieldRef and resourceFieldRef is required");
  if (n === 2) c.add(CAUSE.invalid, at, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously");
}

/** `items` of configMap/secret/downwardAPI volumes: paths inside the volume, each once; keys valid. */
function itemRules(c: Causes, vol: Obj, path: string): void {
  for (const src of ["configMap", "secret", "downwardAPI"]) {
    const seen = new Set<string>();
    arr(obj(vol[src])?.items).forEach((it, j) => {
      const item = obj(it);
      const at = `${path}.${src}.items[${j}]`;
      if (src === "downwardAPI") downwardItemRules(c, item, at);
      else keyToPathRules(c, item, at);
      const p = str(item?.path);
      if (p === undefined) return;
      if (seen.has(p)) c.add(CAUSE.duplicate, `${at}.path`, p);
      seen.add(p);
    });
  }
}

/**
 * A projected volume's sources, as kube-apiserver's validateProjectionSources words it. Two
 * sources writing one path are refused at the volume (`conflicting duplicate paths`, showing the
 * ConfigMap's or Secret's name, or the downward API item's path); as in Kubernetes a token's path
 * is not among those compared, nor the keys a source without `items` projects (unknown until the
 * node reads the object): where two land on one path, the later source wins. Two deliberate
 * differences: a source of no kind is refused (Kubernetes accepts it and writes nothing: here it
 * is more likely a kind misspelt under non-strict field validation), and a token source's
 * missing or bad `path` is reported at that source (Kubernetes reports `<volume>.projected.path`).
 */
function projectedRules(c: Causes, projected: Obj, at: string): void {
  const paths = new Set<string>();
  const claim = (p: string | undefined, shownAs: unknown) => {
    if (!p) return;
    if (paths.has(p)) c.add(CAUSE.invalid, at, shownAs, "conflicting duplicate paths");
    paths.add(p);
  };
  arr(projected.sources).forEach((s, i) => {
    const src = obj(s);
    const sp = `${at}.sources[${i}]`;
    if (!src) return;
    const kinds = PROJECTIONS.filter((k) => src[k] !== undefined);
    const refused = Object.keys(PROJECTIONS_NOT_SERVED).filter((k) => src[k] !== undefined);
    for (const k of refused) c.add(CAUSE.forbidden, `${sp}.${k}`, undefined, `not supported by Berth (${PROJECTIONS_NOT_SERVED[k]})`);
    if (kinds.length + refused.length > 1) c.add(CAUSE.forbidden, sp, undefined, "may not specify more than 1 volume type");
    else if (kinds.length + refused.length === 0) c.add(CAUSE.required, sp, undefined, `must specify one of ${PROJECTIONS.map((k) => `"${k}"`).join(", ")}`);

    for (const kind of ["configMap", "secret"]) {
      const source = obj(src[kind]);
      arr(source?.items).forEach((it, j) => {
        const item = obj(it);
        keyToPathRules(c, item, `${sp}.${kind}.items[${j}]`);
        claim(str(item?.path), str(source?.name) ?? "");
      });
    }
    arr(obj(src.downwardAPI)?.items).forEach((it, j) => {
      const item = obj(it);
      downwardItemRules(c, item, `${sp}.downwardAPI.items[${j}]`);
      claim(str(item?.path), str(item?.path));
    });
    const token = obj(src.serviceAccountToken);
    if (token) {
      const tp = `${sp}.serviceAccountToken`;
      const exp = token.expirationSeconds;
      if (typeof exp === "number" && exp < MIN_EXPIRATION_SECONDS) c.add(CAUSE.invalid, `${tp}.expirationSeconds`, exp, "may not specify a duration less than 10 minutes");
      if (typeof exp === "number" && exp > MAX_EXPIRATION_SECONDS) c.add(CAUSE.invalid, `${tp}.expirationSeconds`, exp, "may not specify a duration larger than 2^32 seconds");
      const p = str(token.path);
      if (p === "" || token.path === undefined) c.add(CAUSE.required, `${tp}.path`, undefined);
      else if (p !== undefined && localPathProblem(p)) c.add(CAUSE.invalid, `${tp}.path`, p, localPathProblem(p));
    }
  });
}
