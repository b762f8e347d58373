/**
 * The ApiClient a request's handlers use when its user is not in system:masters: writes of
 * roles and bindings pass RBAC's escalation check (RestAuth.checkRbacWrite) with the object as
 * it would be stored. A patch is first applied as a dry run to learn that object, checked, and
 * then stored as an update conditional on the resourceVersion the dry run saw, so what is checked
 * is what is stored.
 */
import type { ApiClient, PatchOptions, WriteOptions } from "../../model/client.ts";
import type { UserInfo } from "../../model/rbac.ts";
import type { Resource } from "../../model/types.ts";
import type { RestAuth } from "./rest_auth.ts";

const RBAC_RESOURCES = new Set<Resource>(["roles", "clusterroles", "rolebindings", "clusterrolebindings"]);

export function rbacCheckedClient(api: ApiClient, auth: RestAuth, user: UserInfo): ApiClient {
  const guarded: Partial<ApiClient> = {
    async create(resource: Resource, obj: unknown, namespace?: string, opts?: WriteOptions) {
      if (RBAC_RESOURCES.has(resource)) await auth.checkRbacWrite(user, resource, obj, namespace);
      return await api.create(resource, obj, namespace, opts);
    },
    async update(resource: Resource, obj: unknown, opts?: WriteOptions) {
      if (RBAC_RESOURCES.has(resource)) await auth.checkRbacWrite(user, resource, obj, (obj as { metadata?: { namespace?: string } })?.metadata?.namespace);
      return await api.update(resource, obj, opts);
    },
    async patch(resource: Resource, name: string, patch: unknown, opts?: PatchOptions) {
      if (!RBAC_RESOURCES.has(resource)) return await api.patch(resource, name, patch, opts);
      const result = await api.patch(resource, name, patch, { ...opts, dryRun: true });
      await auth.checkRbacWrite(user, resource, result, opts?.namespace);
      if (opts?.dryRun) return result;
      return await api.update(resource, result);
    },
  } as Partial<ApiClient>;
  return new Proxy(api, {
    get(target, prop, receiver) {
      if (prop === "create" || prop === "update" || prop === "patch") return guarded[prop];
      const v = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}
