import { describe, expect, it } from "vitest";
import { HollowRuntime } from "../../../../runtime/containers/hollow.ts";
import { imageIdOf, ImagePuller, pulledMessage } from "../../../../runtime/kubelet/image_puller.ts";
import { goDuration } from "../../../../runtime/kubelet/go_duration.ts";
import { secretCredentials } from "../../../../runtime/kubelet/image_credentials.ts";
import { ImagePullError, type RegistryAuth } from "../../../../model/container_runtime.ts";
import type { Container, Pod } from "../../../../model/types.ts";

const pod = (name: string, extra: Partial<Pod["spec"]> = {}): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "default", uid: name },
  spec: { containers: [{ name: "c", image: "x" }], ...extra },
});
const ctr = (image: string, imagePullPolicy?: Container["imagePullPolicy"]): Container => ({ name: "c", image, ...(imagePullPolicy ? { imagePullPolicy } : {}) });

/** A hollow runtime whose pulls wait on a gate, and which records the credentials each pull got. */
class GatedRuntime extends HollowRuntime {
  release!: () => void;
  readonly gate = new Promise<void>((r) => (this.release = r));
  readonly auths: (RegistryAuth | undefined)[] = [];
  override async pullImage(image: string, auth?: RegistryAuth): Promise<void> {
    this.auths.push(auth);
    await this.gate;
    return super.pullImage(image, auth);
  }
}

describe("image puller", () => {
  it("concurrent pulls of one image on a node are one pull; every pod gets its own Pulled event", async () => {
    const rt = new GatedRuntime({ images: [], pullable: ["127.0.0.1:5000/app:v1"] });
    const puller = new ImagePuller(rt);
    const all = Promise.all([1, 2, 3].map((i) => puller.ensure(pod(`p${i}`), ctr("127.0.0.1:5000/app:v1"))));
    await new Promise((r) => setTimeout(r, 10));
    expect(puller.pulling).toBe(1);
    rt.release();
    const out = await all;
    expect(rt.pulls).toEqual(["127.0.0.1:5000/app:v1"]);
    for (const o of out) {
      expect(o.type).toBe("ready");
      expect(o.events.map((e) => e.reason)).toEqual(["Pulling", "Pulled"]);
      expect(o.events[1].message).toMatch(/^Successfully pulled image "127\.0\.0\.1:5000\/app:v1" in \S+ \(\S+ including waiting\)\. Image size: 0 bytes\.$/);
    }
    expect(puller.pulling).toBe(0);
    // IfNotPresent now finds it: no second pull.
    const again = await puller.ensure(pod("p4"), ctr("127.0.0.1:5000/app:v1"));
    expect(again.events).toEqual([{ type: "Normal", reason: "Pulled", message: 'Container image "127.0.0.1:5000/app:v1" already present on machine' }]);
    expect(rt.pulls.length).toBe(1);
  });

  it("Always pulls every time; Never fails without pulling; the node's preloaded image is never pulled", async () => {
    const rt = new HollowRuntime({ images: ["berth/busybox:latest", "r:5000/a:v1"], pullable: ["r:5000/a:v1"] });
    const puller = new ImagePuller(rt);
    expect((await puller.ensure(pod("a"), ctr("r:5000/a:v1", "Always"))).type).toBe("ready");
    expect((await puller.ensure(pod("a"), ctr("r:5000/a:v1", "Always"))).type).toBe("ready");
    expect(rt.pulls).toEqual(["r:5000/a:v1", "r:5000/a:v1"]);
    const never = await puller.ensure(pod("b"), ctr("r:5000/b:v1", "Never"));
    expect(never).toMatchObject({ type: "neverPull", message: 'Container image "r:5000/b:v1" is not present with pull policy of Never' });
    expect((await puller.ensure(pod("c"), ctr("berth/busybox", "Always"))).type).toBe("ready");
    expect((await puller.ensure(pod("c"), ctr("berth/busybox"))).type).toBe("ready");
    expect(rt.pulls.length).toBe(2);
    // Any tag of the preloaded repository; but only that repository.
    const local = new HollowRuntime({ images: ["berth/busybox:v2"], pullable: ["berth/other:latest"] });
    expect((await new ImagePuller(local).ensure(pod("d"), ctr("berth/busybox:v2", "Always"))).type).toBe("ready");
    expect((await new ImagePuller(local).ensure(pod("d"), ctr("berth/other:latest"))).type).toBe("ready");
    expect(local.pulls).toEqual(["berth/other:latest"]);
  });

  it("a failed pull gives the registry's message in Failed events and ErrImagePull", async () => {
    const rt = new HollowRuntime({ images: [], pullable: [] });
    const out = await new ImagePuller(rt).ensure(pod("a"), ctr("r:5000/nope:v1"));
    expect(out.type).toBe("failed");
    expect(out.events.map((e) => [e.type, e.reason, e.message])).toEqual([
      ["Normal", "Pulling", 'Pulling image "r:5000/nope:v1"'],
      ["Warning", "Failed", 'Failed to pull image "r:5000/nope:v1": manifest for r:5000/nope:v1 not found: manifest unknown'],
      ["Warning", "Failed", "Error: ErrImagePull"],
    ]);
  });

  it("an auth failure says the registry refused which credentials, and tries every matching credential", async () => {
    class Refusing extends HollowRuntime {
      seen: (RegistryAuth | undefined)[] = [];
      override async pullImage(image: string, auth?: RegistryAuth): Promise<void> {
        this.seen.push(auth);
        if (auth?.password !== "right") throw new ImagePullError(image, "Error response from daemon: unauthorized: authentication required", "unauthorized");
        return super.pullImage(image, auth);
      }
    }
    const secrets: Record<string, { type: string; data: Record<string, string> }> = {
      wrong: { type: "kubernetes.io/dockerconfigjson", data: { ".dockerconfigjson": btoa(JSON.stringify({ auths: { "r:5000": { username: "u", password: "wrong" } } })) } },
      right: { type: "kubernetes.io/dockercfg", data: { ".dockercfg": btoa(JSON.stringify({ "http://r:5000/team": { username: "u", password: "right" } })) } },
    };
    const logged: string[] = [];
    const credentials = secretCredentials(async (_ns, name) => secrets[name], (m) => logged.push(m));
    const rt = new Refusing({ images: [], pullable: ["r:5000/team/app:v1"] });
    const bad = await new ImagePuller(rt, { credentials }).ensure(pod("a", { imagePullSecrets: [{ name: "wrong" }, { name: "missing" }] }), ctr("r:5000/team/app:v1"));
    expect(bad.type).toBe("failed");
    expect(bad.events[1].message).toBe('Failed to pull image "r:5000/team/app:v1": Error response from daemon: unauthorized: authentication required (the registry refused the credentials for r:5000 (user "u"))');
    expect(logged).toEqual(["image pull secret not found; pulling without it"]);
    const anon = await new ImagePuller(rt).ensure(pod("a"), ctr("r:5000/team/app:v1"));
    expect(anon.events[1].message).toContain("the registry refused an anonymous pull: give the pod imagePullSecrets");
    rt.seen = [];
    const good = await new ImagePuller(rt, { credentials }).ensure(pod("a", { imagePullSecrets: [{ name: "wrong" }, { name: "right" }] }), ctr("r:5000/team/app:v1"));
    expect(good.type).toBe("ready");
    // Most specific key first: the path-scoped "right" one.
    expect(rt.seen).toEqual([{ username: "u", password: "right", serveraddress: "r:5000" }]);
  });

  it("writes durations as Go does, and the imageID as Kubernetes on Docker shows it", () => {
    expect(goDuration(0)).toBe("0s");
    expect(goDuration(512.9)).toBe("512ms");
    expect(goDuration(1200)).toBe("1.2s");
    expect(goDuration(1234)).toBe("1.234s");
    expect(goDuration(62_345)).toBe("1m2.345s");
    expect(pulledMessage("a:1", 1200, 1500, 42)).toBe('Successfully pulled image "a:1" in 1.2s (1.5s including waiting). Image size: 42 bytes.');
    expect(imageIdOf("docker", "r:5000/a:v1", { id: "sha256:1", repoDigests: ["other/x@sha256:9", "r:5000/a@sha256:2"] })).toBe("docker-pullable://r:5000/a@sha256:2");
    expect(imageIdOf("docker", "berth/busybox", { id: "sha256:1", repoDigests: [] })).toBe("docker://sha256:1");
  });
});
