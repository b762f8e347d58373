import { describe, expect, it } from "vitest";
import { containerSecurity, needsImageUser } from "../../../../runtime/kubelet/security_context.ts";
import { securityConfig, volumeModeWithGroup, volumeOwnershipTar } from "../../../../runtime/containers/docker.ts";
import type { Container, Pod, PodSecurityContext, SecurityContext } from "../../../../model/types.ts";

const pod = (podSc?: PodSecurityContext, sc?: SecurityContext): { pod: Pod; c: Container } => {
  const c: Container = { name: "app", image: "img", ...(sc ? { securityContext: sc } : {}) };
  return { pod: { apiVersion: "v1", kind: "Pod", metadata: { name: "web", namespace: "shop", uid: "u-1" }, spec: { containers: [c], ...(podSc ? { securityContext: podSc } : {}) } }, c };
};

describe("securityContext - what the engine is told", () => {
  it("the container's settings win over the pod's; user is uid[:gid]; supplementalGroups and fsGroup are the groups; drop, read-only root and Unconfined seccomp carry over", () => {
    const { pod: p, c } = pod(
      { runAsUser: 1000, runAsGroup: 3000, supplementalGroups: [4000, 2000], fsGroup: 2000, seccompProfile: { type: "Unconfined" } },
      { runAsUser: 1001, readOnlyRootFilesystem: true, capabilities: { drop: ["all", "NET_RAW"] } },
    );
    expect(containerSecurity(p, c, undefined)).toEqual({
      type: "ok",
      security: { user: "1001:3000", groups: [4000, 2000], readOnlyRootFilesystem: true, dropCapabilities: ["ALL", "NET_RAW"], seccompUnconfined: true, volumeGroup: 2000 },
    });
    // The container's RuntimeDefault overrides the pod's Unconfined.
    const runtimeDefault = pod({ seccompProfile: { type: "Unconfined" } }, { seccompProfile: { type: "RuntimeDefault" } });
    expect(containerSecurity(runtimeDefault.pod, runtimeDefault.c, undefined)).toEqual({ type: "ok", security: {} });
    // Nothing asked, nothing told.
    const plain = pod();
    expect(containerSecurity(plain.pod, plain.c, "")).toEqual({ type: "ok", security: {} });
  });

  it("a runAsGroup alone keeps the image's user (root when it names none)", () => {
    const { pod: p, c } = pod({ runAsGroup: 5000 });
    expect(needsImageUser(p, c)).toBe(true);
    expect(containerSecurity(p, c, "app:app")).toMatchObject({ security: { user: "app:5000" } });
    expect(containerSecurity(p, c, "")).toMatchObject({ security: { user: "0:5000" } });
  });

  it("runAsNonRoot, as the kubelet's verifyRunAsNonRoot words it: runAsUser 0; an image user that is root, uid 0 or empty; a name that cannot be checked. A non-zero uid passes", () => {
    const who = '(pod: "web_shop(u-1)", container: app)';
    const zero = pod({ runAsNonRoot: true }, { runAsUser: 0 });
    expect(containerSecurity(zero.pod, zero.c, undefined)).toEqual({ type: "error", message: `container's runAsUser breaks non-root policy ${who}` });
    const fromImage = pod({}, { runAsNonRoot: true });
    expect(needsImageUser(fromImage.pod, fromImage.c)).toBe(true);
    for (const user of ["", "0", "0:0", "00"]) {
      expect(containerSecurity(fromImage.pod, fromImage.c, user), user).toEqual({ type: "error", message: `container has runAsNonRoot and image will run as root ${who}` });
    }
    for (const user of ["nginx", "root", "root:wheel"]) {
      expect(containerSecurity(fromImage.pod, fromImage.c, user), user).toEqual({ type: "error", message: `container has runAsNonRoot and image has non-numeric user (${user.split(":")[0]}), cannot verify user is non-root ${who}` });
    }
    expect(containerSecurity(fromImage.pod, fromImage.c, "101:101")).toEqual({ type: "ok", security: {} });
    const given = pod({ runAsNonRoot: true, runAsUser: 7 });
    expect(needsImageUser(given.pod, given.c)).toBe(false);
    expect(containerSecurity(given.pod, given.c, undefined)).toEqual({ type: "ok", security: { user: "7" } });
    // The container may turn the pod's policy off.
    const off = pod({ runAsNonRoot: true }, { runAsNonRoot: false });
    expect(containerSecurity(off.pod, off.c, "")).toEqual({ type: "ok", security: {} });
  });

  it("Docker's HostConfig: GroupAdd as strings, ReadonlyRootfs, CapDrop, and seccomp=unconfined beside no-new-privileges", () => {
    expect(securityConfig(undefined)).toEqual({});
    expect(securityConfig({ groups: [2000, 4000], readOnlyRootFilesystem: true, dropCapabilities: ["ALL"], seccompUnconfined: true })).toEqual({
      GroupAdd: ["2000", "4000"],
      ReadonlyRootfs: true,
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges", "seccomp=unconfined"],
    });
  });

  it("the fsGroup archive is one directory entry, v/, root's and the group's, mode 2775", async () => {
    const tar = await volumeOwnershipTar(2000);
    expect(tar.length).toBe(1536); // one header and the two zero blocks that end an archive
    const header = tar.subarray(0, 512);
    const field = (off: number, len: number) => header.subarray(off, off + len).toString("latin1").replace(/\0.*$/s, "").trim();
    expect(field(0, 100)).toBe("v/");
    expect(parseInt(field(100, 8), 8)).toBe(0o2775);
    expect(parseInt(field(108, 8), 8)).toBe(0);
    expect(parseInt(field(116, 8), 8)).toBe(2000);
    expect(field(156, 1)).toBe("5"); // a directory
  });

  it("fsGroup keeps a volume's permission and sticky bits and adds group rwx and setgid, from the engine's path stat (Go FileMode)", () => {
    const stat = (mode: number) => Buffer.from(JSON.stringify({ name: "v", size: 4096, mode, mtime: "", linkTarget: "" })).toString("base64");
    const dir = 2 ** 31; // os.ModeDir
    expect(volumeModeWithGroup(stat(dir + 0o755)).toString(8)).toBe("2775");
    expect(volumeModeWithGroup(stat(dir + 0o700)).toString(8)).toBe("2770");
    expect(volumeModeWithGroup(stat(dir + (1 << 20) + 0o777)).toString(8)).toBe("3777");
    expect(volumeModeWithGroup(undefined).toString(8)).toBe("2775");
    expect(volumeModeWithGroup("not base64 json").toString(8)).toBe("2775");
  });
});
