/**
 * Service environment variables on real Docker (issue 5, item 5): a pod gets
 * `NAME_SERVICE_HOST`, `NAME_SERVICE_PORT`, `NAME_SERVICE_PORT_<PORTNAME>` for the services of its
 * namespace that had a ClusterIP when its containers were first created; its own env wins on a
 * clash; `$(VAR)` in command/args sees them; the set stays fixed for the pod's life.
 */
import Docker from "dockerode";
import { afterEach, describe, expect, test } from "vitest";
import type { Service } from "../../model/types.ts";
import { LABELS } from "../../model/container_runtime.ts";
import { podExec, podLogs } from "../../runtime/kubelet/pod_containers.ts";
import { containerStatus, getPod, pod, usePodEnv, waitFor, waitRunning } from "../helpers/pod_fixture.ts";

const env = usePodEnv();
const created: { name: string; namespace: string }[] = [];

// Registered after usePodEnv, so it runs before the env's clean-up.
afterEach(async () => {
  for (const s of created.splice(0)) await env.api.delete("services", s.name, s.namespace).catch(() => {});
});

// Service IPs are data only here: nothing connects to them.
async function service(name: string, spec: Service["spec"], namespace = "default"): Promise<void> {
  await env.api.create("services", { apiVersion: "v1", kind: "Service", metadata: { name, namespace }, spec }, namespace);
  created.push({ name, namespace });
}

function parseEnv(text: string): Record<string, string> {
  return Object.fromEntries(text.split("\n").filter((l) => l.includes("=")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
}

async function logsOf(name: string): Promise<string> {
  const p = await getPod(env.api, name);
  let out = "";
  for await (const c of await podLogs(env.rt, p, "c")) out += new TextDecoder().decode(c.data);
  return out;
}

describe("service environment variables on Docker", () => {
  test("enableServiceLinks: false keeps the services' variables out; the pod's own env stays", async () => {
    await service("linked", { clusterIP: "10.97.1.10", selector: { app: "l" }, ports: [{ port: 80 }] });
    await env.api.create("pods", pod("unlinked", env.node, {
      restartPolicy: "Never",
      enableServiceLinks: false,
      containers: [{ name: "c", image: "berth/busybox", command: ["env"], env: [{ name: "OWN", value: "yes" }] }],
    }));
    await waitFor(async () => (await getPod(env.api, "unlinked")).status?.phase === "Succeeded", "unlinked Succeeded", 20_000);
    const vars = parseEnv(await logsOf("unlinked"));
    expect(vars.OWN).toBe("yes");
    expect(Object.keys(vars).filter((k) => k.startsWith("LINKED_"))).toEqual([]);
  });

  test("a pod created after a service sees its variables, its own env wins, and $(VAR) expands them", async () => {
    await service("backend-service", { clusterIP: "10.97.1.7", selector: { app: "b" }, ports: [{ name: "http", port: 80 }, { name: "metrics", port: 9100 }] });
    await service("clash", { clusterIP: "10.97.1.8", selector: { app: "c" }, ports: [{ port: 81 }] });
    await service("headless", { clusterIP: "None", selector: { app: "h" }, ports: [{ port: 82 }] });
    await service("elsewhere", { clusterIP: "10.97.1.9", selector: { app: "e" }, ports: [{ port: 83 }] }, "kube-system");
    await env.api.create("pods", pod("printer", env.node, {
      restartPolicy: "Never",
      containers: [{
        name: "c",
        image: "berth/busybox",
        command: ["sh", "-c", "env; echo EXPANDED=$(BACKEND_SERVICE_SERVICE_HOST):$(BACKEND_SERVICE_SERVICE_PORT_METRICS)"],
        env: [{ name: "CLASH_SERVICE_HOST", value: "mine" }, { name: "URL", value: "http://$(BACKEND_SERVICE_SERVICE_HOST):$(BACKEND_SERVICE_SERVICE_PORT)/" }],
      }],
    }));
    await waitFor(async () => (await getPod(env.api, "printer")).status?.phase === "Succeeded", "printer Succeeded", 20_000);
    const out = await logsOf("printer");
    const vars = parseEnv(out);
    expect(vars).toMatchObject({
      BACKEND_SERVICE_SERVICE_HOST: "10.97.1.7",
      BACKEND_SERVICE_SERVICE_PORT: "80",
      BACKEND_SERVICE_SERVICE_PORT_HTTP: "80",
      BACKEND_SERVICE_SERVICE_PORT_METRICS: "9100",
      CLASH_SERVICE_HOST: "mine",
      CLASH_SERVICE_PORT: "81",
      URL: "http://10.97.1.7:80/",
      EXPANDED: "10.97.1.7:9100",
    });
    expect(Object.keys(vars).filter((k) => k.startsWith("HEADLESS_") || k.startsWith("ELSEWHERE_"))).toEqual([]);
  });

  test("the variables are fixed when the pod's containers are first created: a later service does not appear on restart", async () => {
    await service("early", { clusterIP: "10.97.2.7", selector: { app: "x" }, ports: [{ port: 8080 }] });
    await env.api.create("pods", pod("keeper", env.node, { containers: [{ name: "c", image: "berth/busybox", command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1 & wait; done"] }] }));
    const first = await waitRunning(env.api, "keeper");
    await service("late", { clusterIP: "10.97.2.8", selector: { app: "y" }, ports: [{ port: 8081 }] });
    // The container dies and is restarted by the pod actor: same pod, a new container.
    const [c] = await env.rt.listContainers({ [LABELS.podUid]: first.metadata.uid!, [LABELS.container]: "c" });
    await new Docker().getContainer(c.id).kill();
    const again = await waitFor(async () => {
      const p = await getPod(env.api, "keeper");
      const s = containerStatus(p, "c");
      return s?.state.running && s.restartCount === 1 ? p : undefined;
    }, "keeper restarted", 20_000);
    const r = await podExec(env.rt, again, "c", ["env"], 10_000);
    const vars = parseEnv(r.stdout);
    expect(vars.EARLY_SERVICE_HOST).toBe("10.97.2.7");
    expect(vars.LATE_SERVICE_HOST).toBeUndefined();
    // A pod created now sees both.
    await env.api.create("pods", pod("newer", env.node, { restartPolicy: "Never", containers: [{ name: "c", image: "berth/busybox", command: ["env"] }] }));
    await waitFor(async () => (await getPod(env.api, "newer")).status?.phase === "Succeeded", "newer Succeeded", 20_000);
    const newer = parseEnv(await logsOf("newer"));
    expect(newer).toMatchObject({ EARLY_SERVICE_HOST: "10.97.2.7", LATE_SERVICE_HOST: "10.97.2.8", LATE_SERVICE_PORT: "8081" });
  });
});
