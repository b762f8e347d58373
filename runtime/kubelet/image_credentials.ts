/**
 * Registry credentials for a pod from its `imagePullSecrets`, as the kubelet builds its keyring:
 * each named Secret of the pod's namespace with type `kubernetes.io/dockerconfigjson` or
 * `kubernetes.io/dockercfg` is parsed (model/image.ts) into per-registry credentials. A Secret
 * that is missing or malformed is logged and skipped — the pull may still succeed anonymously,
 * and fails with the registry's own answer otherwise — as the kubelet does.
 *
 * The Secret lookup is one injected function (`SecretLookup`), so the node agent can read
 * Secrets however the API offers them; `apiSecretLookup` reads them through the ApiClient.
 */
import type { ApiClient } from "../../model/client.ts";
import { ApiError } from "../../model/errors.ts";
import { parseDockerConfig, type RegistryCredential } from "../../model/image.ts";
import type { Log } from "../../model/log.ts";
import type { Pod, Resource } from "../../model/types.ts";
import type { ImageCredentialProvider } from "./image_puller.ts";

/** A Secret as far as credentials need it (base64 `data`, as the API stores it). */
export interface PullSecret {
  type?: string;
  data?: Record<string, string>;
}

/** Reads one Secret; resolves undefined when it does not exist. */
export type SecretLookup = (namespace: string, name: string) => Promise<PullSecret | undefined>;

/**
 * Reads Secrets through the API client (`client.get("secrets", name, namespace)`). The resource
 * name is passed untyped so this compiles whether or not the Secret resource is registered.
 */
export function apiSecretLookup(client: ApiClient): SecretLookup {
  return async (namespace, name) => {
    try {
      return (await client.get("secrets" as Resource, name, namespace)) as unknown as PullSecret;
    } catch (e) {
      if (e instanceof ApiError && e.code === 404) return undefined;
      throw e;
    }
  };
}

/** The credentials provider reading a pod's `imagePullSecrets` through `lookup`. */
export function secretCredentials(lookup: SecretLookup, log: Log = () => {}): ImageCredentialProvider {
  return async (pod: Pod): Promise<RegistryCredential[]> => {
    const namespace = pod.metadata.namespace ?? "default";
    const out: RegistryCredential[] = [];
    for (const ref of pod.spec.imagePullSecrets ?? []) {
      let secret: PullSecret | undefined;
      try {
        secret = await lookup(namespace, ref.name);
      } catch (e) {
        log("image pull secret not readable; pulling without it", { namespace, secret: ref.name, error: String(e) });
        continue;
      }
      if (!secret) {
        log("image pull secret not found; pulling without it", { namespace, secret: ref.name });
        continue;
      }
      try {
        out.push(...parseDockerConfig(secret.type ?? "", secret.data ?? {}));
      } catch (e) {
        log("image pull secret unusable; pulling without it", { namespace, secret: ref.name, error: (e as Error).message });
      }
    }
    return out;
  };
}
