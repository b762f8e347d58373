/**
 * Which files a ConfigMap, Secret, downward API or projected volume holds, from the objects and
 * pod fields it reads — or why it cannot be set up (the FailedMount's text). Pure: the objects are
 * fetched before (env.ts's `fetchConfigObjects`), a projected volume's tokens too
 * (service_account_token.ts's `PodTokens`); volumes_projected.ts writes what this returns.
 *
 * A projected volume is its sources' files together, each source read as the volume of its kind
 * would be (`items` or every key, `optional`), with the projected volume's `defaultMode`; where two
 * sources write one path the later wins, as in the kubelet's projected plugin.
 */
import type { DownwardAPIVolumeFile, KeyToPath, Pod, Volume } from "../../model/types.ts";
import type { ProjectedFile } from "./atomic_writer.ts";
import { type ConfigObjects, type DownwardFields, fieldValue, resourceValue } from "./env.ts";

export type FilesResult = { type: "ok"; files: ProjectedFile[] } | { type: "error"; message: string };

/** kube's default file mode of these volumes: 420 (0644). */
const DEFAULT_MODE = 0o644;

const utf8 = (s: string) => new TextEncoder().encode(s);
const b64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));
const ok = (files: ProjectedFile[]): FilesResult => ({ type: "ok", files });

function keyed(values: Record<string, Uint8Array>, items: KeyToPath[] | undefined, defaultMode: number, what: string, optional: boolean): FilesResult {
  if (!items || items.length === 0) {
    return ok(Object.keys(values).sort().map((k) => ({ path: k, content: values[k], mode: defaultMode })));
  }
  const files: ProjectedFile[] = [];
  for (const it of items) {
    const v = values[it.key];
    if (v === undefined) {
      if (optional) continue;
      return { type: "error", message: `${what} references non-existent config key: ${it.key}` };
    }
    files.push({ path: it.path, content: v, mode: it.mode ?? defaultMode });
  }
  return ok(files);
}

function configMapFiles(objs: ConfigObjects, name: string, items: KeyToPath[] | undefined, mode: number, optional: boolean): FilesResult {
  const cm = objs.configmaps.get(name) ?? null;
  if (!cm) return optional ? ok([]) : { type: "error", message: `configmap "${name}" not found` };
  const values: Record<string, Uint8Array> = {};
  for (const [k, s] of Object.entries(cm.data ?? {})) values[k] = utf8(s);
  for (const [k, s] of Object.entries(cm.binaryData ?? {})) values[k] = b64(s);
  return keyed(values, items, mode, "configmap", optional);
}

function secretFiles(objs: ConfigObjects, name: string, items: KeyToPath[] | undefined, mode: number, optional: boolean): FilesResult {
  const s = objs.secrets.get(name) ?? null;
  if (!s) return optional ? ok([]) : { type: "error", message: `secret "${name}" not found` };
  const values: Record<string, Uint8Array> = {};
  for (const [k, d] of Object.entries(s.data ?? {})) values[k] = b64(d);
  return keyed(values, items, mode, "secret", optional);
}

function downwardFiles(pod: Pod, items: DownwardAPIVolumeFile[] | undefined, mode: number, fields: DownwardFields): FilesResult {
  const files: ProjectedFile[] = [];
  for (const it of items ?? []) {
    let value: string | undefined;
    if (it.fieldRef) value = fieldValue(pod, it.fieldRef.fieldPath, fields);
    else if (it.resourceFieldRef) {
      const c = pod.spec.containers.find((x) => x.name === it.resourceFieldRef!.containerName) ?? pod.spec.containers[0];
      value = resourceValue(pod, c, it.resourceFieldRef, fields);
    }
    if (value === undefined) return { type: "error", message: `downwardAPI item ${it.path}: unsupported field` };
    files.push({ path: it.path, content: utf8(value), mode: it.mode ?? mode });
  }
  return ok(files);
}

/** True when a volume holds a Secret's keys or a token (so it lives on tmpfs). */
export function holdsSecrets(v: Volume): boolean {
  return !!v.secret || (v.projected?.sources ?? []).some((s) => s.secret || s.serviceAccountToken);
}

/**
 * The files of one volume of `pod`, or why it cannot be set up (FailedMount). `tokens`: for a
 * projected volume, the token of each `serviceAccountToken` source, by its index in `sources`.
 */
export function volumeFiles(pod: Pod, v: Volume, objs: ConfigObjects, fields: DownwardFields, tokens?: ReadonlyMap<number, string>): FilesResult {
  if (v.configMap) {
    const src = v.configMap;
    return configMapFiles(objs, src.name, src.items, src.defaultMode ?? DEFAULT_MODE, !!src.optional);
  }
  if (v.secret) {
    const src = v.secret;
    return secretFiles(objs, src.secretName, src.items, src.defaultMode ?? DEFAULT_MODE, !!src.optional);
  }
  if (v.downwardAPI) return downwardFiles(pod, v.downwardAPI.items, v.downwardAPI.defaultMode ?? DEFAULT_MODE, fields);
  if (v.projected) {
    const mode = v.projected.defaultMode ?? DEFAULT_MODE;
    const byPath = new Map<string, ProjectedFile>();
    for (const [i, src] of (v.projected.sources ?? []).entries()) {
      let r: FilesResult;
      if (src.configMap) r = configMapFiles(objs, src.configMap.name, src.configMap.items, mode, !!src.configMap.optional);
      else if (src.secret) r = secretFiles(objs, src.secret.name, src.secret.items, mode, !!src.secret.optional);
      else if (src.downwardAPI) r = downwardFiles(pod, src.downwardAPI.items, mode, fields);
      else if (src.serviceAccountToken) {
        const token = tokens?.get(i);
        // The caller fetches every source's token first; a missing one is its mistake, said plainly.
        if (token === undefined) return { type: "error", message: `no token was fetched for sources[${i}]` };
        r = ok([{ path: src.serviceAccountToken.path, content: utf8(token), mode }]);
      } else continue;
      if (r.type === "error") return r;
      for (const f of r.files) byPath.set(f.path, f);
    }
    return ok([...byPath.values()]);
  }
  return ok([]);
}
