/**
 * securityContext on real Docker: a pod that runs as a user and groups of its own, with a
 * read-only root filesystem, every capability dropped and an emptyDir its fsGroup may write
 * (the volume's top directory is the group's, group-writable and setgid); an emptyDir any user
 * may write, empty whatever the image has at its path; and runAsNonRoot
 * refusing an image that runs as root, or a runAsUser of 0, with the kubelet's
 * CreateContainerConfigError and messages.
 */
import { describe, expect, test } from "vitest";
import { podExec } from "../../runtime/kubelet/pod_containers.ts";
import { DockerRuntime } from "../../runtime/containers/docker.ts";
import { dockerCli } from "../helpers/docker.ts";
import { containerStatus, eventsFor, getPod, pod, usePodEnv, waitFor, waitRunning } from "../helpers/pod_fixture.ts";

const BB = "berth/busybox";
const env = usePodEnv();

describe("securityContext on Docker", () => {
  test("runAsUser, runAsGroup, supplementalGroups and fsGroup set the process's ids; the emptyDir is the fsGroup's to write; the root filesystem is read-only; no capability is left", async () => {
    await env.api.create("pods", pod("secure", env.node, {
      securityContext: { runAsUser: 1000, runAsGroup: 3000, supplementalGroups: [4000], fsGroup: 2000 },
      volumes: [{ name: "data", emptyDir: {} }],
      containers: [{
        name: "c",
        image: BB,
        // Fails at once (and never gets Running) unless uid 1000 may write the volume.
        command: ["sh", "-c", "touch /data/made-by-app && exec sleep 3600"],
        volumeMounts: [{ name: "data", mountPath: "/data" }],
        securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
      }],
    }));
    const p = await waitRunning(env.api, "secure");
    const run = async (cmd: string) => (await podExec(env.rt, p, "c", ["sh", "-c", cmd])).stdout.trim();
    const id = await run("id");
    expect(id).toMatch(/^uid=1000 gid=3000 groups=/);
    expect(id).toMatch(/groups=.*\b2000\b/);
    expect(id).toMatch(/groups=.*\b4000\b/);
    // The emptyDir's 0777 with the group's bits and setgid, as the kubelet leaves it.
    expect(await run("stat -c %g:%a /data")).toBe("2000:2777");
    // setgid: what the app writes there belongs to the fsGroup.
    expect(await run("stat -c %u:%g /data/made-by-app")).toBe("1000:2000");
    expect(await run("touch /not-allowed 2>&1; echo exit=$?")).toMatch(/Read-only file system[\s\S]*exit=1/);
    expect(await run("grep CapEff /proc/1/status")).toMatch(/^CapEff:\s+0+$/);
    expect(await run("grep NoNewPrivs /proc/1/status")).toMatch(/^NoNewPrivs:\s+1$/);
  });

  test("without fsGroup an emptyDir starts empty and world-writable, as the kubelet makes it: a non-root container writes one mounted where the image has files, and sees none of them", async () => {
    await env.api.create("pods", pod("scratch", env.node, {
      volumes: [{ name: "cache", emptyDir: {} }, { name: "usr", emptyDir: {} }],
      containers: [{
        name: "c",
        image: BB,
        // /cache is not in the image; /usr is, with files (the engine would copy them in).
        command: ["sh", "-c", "touch /cache/made-by-app /usr/made-by-app && exec sleep 3600"],
        volumeMounts: [{ name: "cache", mountPath: "/cache" }, { name: "usr", mountPath: "/usr" }],
        securityContext: { runAsUser: 1000 },
      }],
    }));
    const p = await waitRunning(env.api, "scratch");
    const run = async (cmd: string) => (await podExec(env.rt, p, "c", ["sh", "-c", cmd])).stdout.trim();
    expect(await run("stat -c %u:%g:%a /cache /usr")).toBe("0:0:777\n0:0:777");
    expect(await run("ls -A /usr")).toBe("made-by-app");
  });

  test("a new volume is 0777 whether its mode is set on the engine's filesystem or, for an engine elsewhere, through a helper container", () => Promise.all([true, false].map(async (inPlace) => {
    const name = `berth-test-mode-${inPlace ? "here" : "helper"}-${process.pid}`;
    try {
      await new DockerRuntime({ volumeModeInPlace: inPlace }).createVolume(name, {});
      const out = dockerCli(["run", "--rm", "--user", "1000", "--mount", `type=volume,src=${name},dst=/v,volume-nocopy`, BB, "sh", "-c", "stat -c %a /v && touch /v/x && echo wrote"]);
      expect(out.trim().split("\n")).toEqual(["777", "wrote"]);
    } finally {
      dockerCli(["volume", "rm", "-f", name]);
    }
  })));

  test("one emptyDir mounted several times by subPath (as Bitnami charts do) gives each mount its own directory, writable by any user; subPathExpr expands the environment", async () => {
    await env.api.create("pods", pod("subpaths", env.node, {
      volumes: [{ name: "empty-dir", emptyDir: {} }],
      containers: [{
        name: "c",
        image: BB,
        command: ["sh", "-c", "touch /tmp/t /conf/c /logs/l && exec sleep 3600"],
        env: [{ name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
        volumeMounts: [
          { name: "empty-dir", mountPath: "/tmp", subPath: "tmp-dir" },
          { name: "empty-dir", mountPath: "/conf", subPath: "app-conf-dir" },
          { name: "empty-dir", mountPath: "/logs", subPathExpr: "logs/$(POD)" },
          { name: "empty-dir", mountPath: "/all", readOnly: true },
        ],
        securityContext: { runAsUser: 1001 },
      }],
    }));
    const p = await waitRunning(env.api, "subpaths");
    const run = async (cmd: string) => (await podExec(env.rt, p, "c", ["sh", "-c", cmd])).stdout.trim();
    expect(await run("ls /conf; echo -; ls /tmp; echo -; ls /all | sort | tr '\\n' ' '; echo; ls /all/logs")).toBe("c\n-\nt\n-\napp-conf-dir logs tmp-dir \nsubpaths");
    expect(await run("stat -c %a /all/tmp-dir /all/app-conf-dir")).toBe("777\n777");
  });

  test("a subPath that a container turned into a symlink out of the volume is a CreateContainerConfigError, and nothing of the node is mounted", async () => {
    await env.api.create("pods", pod("escape", env.node, {
      volumes: [{ name: "v", emptyDir: {} }],
      initContainers: [{ name: "plant", image: BB, command: ["ln", "-s", "/", "/v/esc"], volumeMounts: [{ name: "v", mountPath: "/v" }] }],
      containers: [{ name: "c", image: BB, command: ["sleep", "3600"], volumeMounts: [{ name: "v", mountPath: "/host", subPath: "esc" }] }],
    }));
    const waiting = await waitFor(async () => {
      const w = containerStatus(await getPod(env.api, "escape"), "c")?.state.waiting;
      return w?.reason === "CreateContainerConfigError" ? w : undefined;
    }, "the config error", 30_000);
    expect(waiting.message).toContain('failed to prepare subPath "esc" of volume');
    expect(waiting.message).toContain("it leads out of the volume");
    expect(containerStatus(await getPod(env.api, "escape"), "c")?.containerID).toBeUndefined();
  });

  test("fsGroup is applied once, when the volume is first mounted: what an init container does to the volume stands for the app container", async () => {
    await env.api.create("pods", pod("owned", env.node, {
      securityContext: { fsGroup: 2000 },
      volumes: [{ name: "data", emptyDir: {} }],
      initContainers: [{ name: "prep", image: BB, command: ["sh", "-c", "chown 1000:2000 /data && chmod 770 /data"], volumeMounts: [{ name: "data", mountPath: "/data" }], securityContext: { runAsUser: 0 } }],
      containers: [{ name: "c", image: BB, command: ["sleep", "3600"], volumeMounts: [{ name: "data", mountPath: "/data" }], securityContext: { runAsUser: 1000 } }],
    }));
    const p = await waitRunning(env.api, "owned");
    expect((await podExec(env.rt, p, "c", ["stat", "-c", "%u:%g %a", "/data"])).stdout.trim()).toBe("1000:2000 770");
  });

  test("runAsNonRoot: an image that runs as root, or runAsUser 0, is a CreateContainerConfigError with the kubelet's message, and no container is made", async () => {
    await env.api.create("pods", pod("rooty", env.node, {
      containers: [{ name: "c", image: BB, command: ["sleep", "3600"], securityContext: { runAsNonRoot: true } }],
    }));
    await env.api.create("pods", pod("zero", env.node, {
      securityContext: { runAsNonRoot: true },
      containers: [{ name: "c", image: BB, command: ["sleep", "3600"], securityContext: { runAsUser: 0 } }],
    }));
    for (const [name, message] of [["rooty", "container has runAsNonRoot and image will run as root"], ["zero", "container's runAsUser breaks non-root policy"]] as const) {
      const waiting = await waitFor(async () => {
        const w = containerStatus(await getPod(env.api, name), "c")?.state.waiting;
        return w?.reason === "CreateContainerConfigError" ? w : undefined;
      }, `${name} waiting in CreateContainerConfigError`);
      const uid = (await getPod(env.api, name)).metadata.uid;
      expect(waiting.message).toBe(`${message} (pod: "${name}_default(${uid})", container: c)`);
      await waitFor(async () => (await eventsFor(env.api, name)).some((e) => e.reason === "Failed" && e.message === `Error: ${waiting.message}`), `${name}'s Failed event`);
      expect(containerStatus(await getPod(env.api, name), "c")?.containerID).toBeUndefined();
    }
  });
});
