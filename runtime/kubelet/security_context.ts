/**
 * A container's securityContext, as the node applies it (pure): the pod's settings with the
 * container's own over them, as the kubelet merges them (DetermineEffectiveSecurityContext),
 * turned into what the engine is told (model/container_runtime.ts `ContainerSecurity`):
 *
 *   runAsUser / runAsGroup        the process's user (`uid[:gid]`; a group alone keeps the
 *                                 image's user)
 *   supplementalGroups, fsGroup   its supplementary groups; fsGroup also owns the top directory
 *                                 of each writable emptyDir and claim volume (group-writable,
 *                                 setgid), as the kubelet's SetVolumeOwnership does for a new
 *                                 volume (files already in it keep their group)
 *   readOnlyRootFilesystem        a read-only root filesystem
 *   capabilities.drop             capabilities taken away
 *   seccompProfile Unconfined     no seccomp filter (RuntimeDefault is the engine's default)
 *   runAsNonRoot                  checked here before the container is made, with the kubelet's
 *                                 messages: a runAsUser of 0, an image whose user is root, or
 *                                 one whose user is a name that cannot be checked, is a
 *                                 CreateContainerConfigError
 *
 * What the engine never grants (privileged, privilege escalation, added capabilities, a
 * Localhost seccomp profile, SELinux labels, sysctls) is refused by admission before a pod is
 * stored (runtime/security/admission.ts); every container runs with no_new_privs.
 */
import type { ContainerSecurity } from "../../model/container_runtime.ts";
import type { Container, Pod } from "../../model/types.ts";

export type SecurityDecision = { type: "ok"; security: ContainerSecurity } | { type: "error"; message: string };

/** How the kubelet names a pod in its messages (format.Pod): `name_namespace(uid)`. */
function formatPod(pod: Pod): string {
  return `${pod.metadata.name}_${pod.metadata.namespace ?? "default"}(${pod.metadata.uid ?? ""})`;
}

/** The user part of an image's `USER` (`name`, `uid`, `uid:gid`, `name:group`); "" is root. */
function imageUserPart(user: string | undefined): string {
  return (user ?? "").split(":")[0];
}

/**
 * What the engine is told for container `c` of `pod`, or why it may not run: `imageUser` is the
 * image's `USER` (ImageInfo.user), needed only to check runAsNonRoot without a runAsUser.
 */
export function containerSecurity(pod: Pod, c: Container, imageUser: string | undefined): SecurityDecision {
  const podSc = pod.spec.securityContext;
  const sc = c.securityContext;
  const runAsUser = sc?.runAsUser ?? podSc?.runAsUser;
  const runAsGroup = sc?.runAsGroup ?? podSc?.runAsGroup;
  const runAsNonRoot = sc?.runAsNonRoot ?? podSc?.runAsNonRoot;
  const who = `(pod: "${formatPod(pod)}", container: ${c.name})`;
  if (runAsNonRoot) {
    // The kubelet's verifyRunAsNonRoot.
    if (runAsUser !== undefined) {
      if (runAsUser === 0) return { type: "error", message: `container's runAsUser breaks non-root policy ${who}` };
    } else {
      // An image's user is a uid, or a name the kubelet cannot check (even "root").
      const user = imageUserPart(imageUser);
      if (user === "" || (/^\d+$/.test(user) && Number(user) === 0)) {
        return { type: "error", message: `container has runAsNonRoot and image will run as root ${who}` };
      }
      if (!/^\d+$/.test(user)) {
        return { type: "error", message: `container has runAsNonRoot and image has non-numeric user (${user}), cannot verify user is non-root ${who}` };
      }
    }
  }
  const security: ContainerSecurity = {};
  if (runAsUser !== undefined) security.user = runAsGroup !== undefined ? `${runAsUser}:${runAsGroup}` : String(runAsUser);
  else if (runAsGroup !== undefined) security.user = `${imageUserPart(imageUser) || "0"}:${runAsGroup}`;
  const groups = [...(podSc?.supplementalGroups ?? []), ...(podSc?.fsGroup !== undefined ? [podSc.fsGroup] : [])];
  if (groups.length) security.groups = [...new Set(groups)];
  if (sc?.readOnlyRootFilesystem) security.readOnlyRootFilesystem = true;
  const drop = sc?.capabilities?.drop ?? [];
  if (drop.length) security.dropCapabilities = drop.map((d) => d.toUpperCase());
  if ((sc?.seccompProfile ?? podSc?.seccompProfile)?.type === "Unconfined") security.seccompUnconfined = true;
  if (podSc?.fsGroup !== undefined) security.volumeGroup = podSc.fsGroup;
  return { type: "ok", security };
}

/** Whether `container` needs the image's user to decide (runAsNonRoot without a runAsUser, or a group alone). */
export function needsImageUser(pod: Pod, c: Container): boolean {
  const podSc = pod.spec.securityContext;
  const sc = c.securityContext;
  const runAsUser = sc?.runAsUser ?? podSc?.runAsUser;
  return runAsUser === undefined && ((sc?.runAsNonRoot ?? podSc?.runAsNonRoot) === true || (sc?.runAsGroup ?? podSc?.runAsGroup) !== undefined);
}
