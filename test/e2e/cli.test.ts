/**
 * The `berth` CLI end to end, under Node and under Deno: `up` starts a real cluster (private
 * nats-server with JetStream on disk), `apply`/`get`/`describe`/`delete` work against it, bad
 * manifests are rejected with the location and change nothing, `up` stops cleanly on SIGTERM
 * leaving no nats-server behind, and a restart with the same home keeps the objects.
 */
import { afterAll, describe, expect, it } from "vitest";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { lockBerthUpCluster } from "../helpers/berth_up_cluster.ts";
import { berth, berthUp, natsServersFor, tempHome, type RunningUp, type Runner } from "../helpers/cli.ts";
import { waitFor } from "../helpers/nats.ts";

const MANIFEST = `apiVersion: v1
kind: ReplicationController
metadata:
  name: web
spec:
  replicas: 2
  selector: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: httpd
        image: berth/busybox
        command: ["httpd", "-f", "-p", "8080"]
---
apiVersion: v1
kind: Pod
metadata:
  name: solo
  labels: {app: solo, tier: front}
spec:
  containers:
  - name: main
    image: berth/busybox
    command: ["sleep", "3600"]
`;

for (const runner of ["node", "deno"] as Runner[]) {
  describe(`berth CLI under ${runner}`, () => {
    const home = tempHome();
    let up: RunningUp | undefined;
    afterAll(async () => {
      await up?.stop();
      rmSync(home, { recursive: true, force: true });
    });

    it(`cli (${runner}) - up, apply, get, restart keeps the objects, down leaves nothing running`, async () => {
      up = await berthUp(runner, home, ["--nodes", "0"]);
      expect(up.output()).toMatch(/cluster ready/);
      const file = join(home, "app.yaml");
      writeFileSync(file, MANIFEST);

      const applied = berth(runner, home, ["apply", "-f", file]);
      expect(applied.stderr).toBe("");
      expect(applied.stdout).toBe("replicationcontroller/web created\npod/solo created\n");
      expect(applied.code).toBe(0);

      const again = berth(runner, home, ["apply", "-f", file]);
      expect(again.stdout).toBe("replicationcontroller/web unchanged\npod/solo unchanged\n");

      const table = berth(runner, home, ["get", "pods"]);
      expect(table.code).toBe(0);
      expect(table.stdout.split("\n")[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
      expect(table.stdout).toMatch(/^solo\s+0\/1\s+Pending/m);

      const json = JSON.parse(berth(runner, home, ["get", "rc", "web", "-o", "json"]).stdout);
      expect(json.spec.replicas).toBe(2);
      const selected = berth(runner, home, ["get", "pods", "-l", "tier=front", "-o", "name"]);
      expect(selected.stdout).toBe("pod/solo\n");

      const described = berth(runner, home, ["describe", "pod", "solo"]);
      expect(described.stdout).toMatch(/^Name:\s+solo$/m);
      expect(described.stdout).toMatch(/Image:\s+berth\/busybox/);

      // Bad input: rejected with where and what; nothing stored changes.
      const bad = join(home, "bad.yaml");
      writeFileSync(bad, MANIFEST + "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: Not_A_Name\nspec:\n  containers: []\n");
      const rejected = berth(runner, home, ["apply", "-f", bad]);
      expect(rejected.code).toBe(1);
      expect(rejected.stderr).toMatch(/bad\.yaml/);
      expect(rejected.stderr).toMatch(/metadata\.name/);
      const broken = berth(runner, home, ["apply", "-f", "-"], "kind: Pod\nmetadata: {name: x\n");
      expect(broken.code).toBe(1);
      expect(broken.stderr).toMatch(/<stdin>.*line/);
      expect(berth(runner, home, ["get", "pods", "-l", "app=solo", "-o", "name"]).stdout).toBe("pod/solo\n");
      expect(berth(runner, home, ["get", "pods", "-l", "app=Not_A_Name", "-o", "name"]).stdout).toBe("");
      // The control plane runs even without nodes: the RC made its two pods (Pending, unscheduled).
      const rcPods = berth(runner, home, ["get", "pods", "-l", "app=web", "-o", "name"]).stdout.trim().split("\n");
      expect(rcPods).toHaveLength(2);
      expect(rcPods.every((n) => /^pod\/web-[a-z0-9]{5}$/.test(n))).toBe(true);

      // Restart with the same home: JetStream on disk keeps every object.
      expect(natsServersFor(home).length).toBe(1);
      expect(await up.stop()).toBe(0);
      expect(natsServersFor(home)).toEqual([]);
      up = await berthUp(runner, home, ["--nodes", "0"]);
      expect(berth(runner, home, ["get", "pods", "-l", "app=solo", "-o", "name"]).stdout).toBe("pod/solo\n");
      // The same two RC pods, not two more: the controller sees what it made before the restart.
      expect(berth(runner, home, ["get", "pods", "-l", "app=web", "-o", "name"]).stdout.trim().split("\n").sort()).toEqual([...rcPods].sort());
      expect(JSON.parse(berth(runner, home, ["get", "rc", "web", "-o", "json"]).stdout).metadata.uid).toBe(json.metadata.uid);

      const deleted = berth(runner, home, ["delete", "pod", "solo"]);
      expect(deleted.stdout).toBe('pod "solo" deleted\n');
      expect(berth(runner, home, ["get", "pod", "solo"]).code).toBe(1);
      // kubectl's delete by selector and --all.
      const bySelector = berth(runner, home, ["delete", "pods", "-l", "app=web"]);
      expect(bySelector.stdout.trim().split("\n").sort()).toEqual(rcPods.map((n) => `pod "${n.replace(/^pod\//, "")}" deleted`).sort());
      expect(berth(runner, home, ["delete", "rc", "--all"]).stdout).toBe('replicationcontroller "web" deleted\n');
      const none = berth(runner, home, ["delete", "pods", "-l", "app=nothing"]);
      expect([none.code, none.stdout, none.stderr]).toEqual([0, "", "No resources found in default namespace.\n"]);
      expect(berth(runner, home, ["delete", "pods", "web-x", "--all"]).stderr).toMatch(/name cannot be provided/);

      const down = berth(runner, home, ["down"]);
      expect(down.code).toBe(0);
      expect(down.stdout).toMatch(/stopped the cluster/);
      expect(up.proc.exitCode ?? (await up.stop())).toBe(0);
      expect(natsServersFor(home)).toEqual([]);
    });
  });
}

describe("berth up killed with SIGKILL", () => {
  const home = tempHome();
  let up: RunningUp | undefined;
  afterAll(async () => {
    await up?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it("cli - a berth up killed with SIGKILL restarts on the same home with its objects and one nats-server", async () => {
    up = await berthUp("node", home, ["--nodes", "0"]);
    const file = join(home, "app.yaml");
    writeFileSync(file, MANIFEST);
    expect(berth("node", home, ["apply", "-f", file]).code).toBe(0);
    up.proc.kill("SIGKILL");
    await up.stop();
    // Its nats-server dies with it (started with the parent-death signal), leaving no orphan...
    await waitFor(() => natsServersFor(home).length === 0, "the killed up's nats-server to go");
    up = await berthUp("node", home, ["--nodes", "0"]);
    // ...and the new `up` finds the store on disk: one server, every object intact.
    expect(natsServersFor(home).length).toBe(1);
    expect(berth("node", home, ["get", "pods", "-l", "app=solo", "-o", "name"]).stdout).toBe("pod/solo\n");
    expect(JSON.parse(berth("node", home, ["get", "rc", "web", "-o", "json"]).stdout).spec.replicas).toBe(2);
    expect(await up.stop()).toBe(0);
    expect(natsServersFor(home)).toEqual([]);
  });
});

describe("berth down --purge", () => {
  const home = tempHome();
  let up: RunningUp | undefined;
  let unlock: (() => void) | undefined;
  afterAll(async () => {
    await up?.stop();
    unlock?.();
    rmSync(home, { recursive: true, force: true });
  });

  it("cli - down --purge deletes the workload first (RCs, Deployments and their ReplicaSets), so no container of the cluster is left running", async () => {
    // Clusters side by side take their own network slots, but two on two cores distort timings.
    unlock = await lockBerthUpCluster("cli.test.ts down --purge");
    up = await berthUp("node", home, ["--nodes", "1"]);
    const file = join(home, "app.yaml");
    // A Deployment too: deleting its pods alone, it would make them again.
    writeFileSync(file, `${MANIFEST}---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 1
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - {name: main, image: berth/busybox, command: ["sleep", "3600"]}
`);
    expect(berth("node", home, ["apply", "-f", file]).code).toBe(0);
    const clusterId = readFileSync(join(home, "cluster-id"), "utf8").trim();
    const containers = () =>
      spawnSync("/usr/bin/docker", ["ps", "-q", "--filter", `label=berth.cluster=${clusterId}`], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
    const deadline = Date.now() + 60_000;
    while (containers().length < 8 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250)); // 4 pods × (sandbox + app)
    expect(containers().length).toBe(8);
    // Each pod's sleep or httpd ignores SIGTERM: without --grace-period, 30 s each (in parallel).
    // 0 counts as 1, as kubectl's without --force: the objects must not go before the containers.
    const down = berth("node", home, ["down", "--purge", "--grace-period", "0"]);
    expect(down.code, down.stderr).toBe(0);
    // (The ReplicaSet may be gone with its Deployment before it is listed.)
    expect(down.stdout).toMatch(/deleted 1 deployment\(s\), (1 replica set\(s\), )?1 replication controller\(s\) and 4 pod\(s\)/);
    expect(containers()).toEqual([]);
    expect(up.proc.exitCode ?? (await up.stop())).toBe(0);
  });
});

describe("berth CLI usage errors", () => {
  const home = tempHome();
  it("cli - unknown commands, flags and resource types get a clear message and a non-zero exit", () => {
    // Exit code 1 for every error, as kubectl; a near miss gets kubectl's suggestion.
    const r1 = berth("node", home, ["frobnicate"]);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(/unknown command "frobnicate"/);
    const typo = berth("node", home, ["gte", "pods"]);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toMatch(/unknown command "gte"\n\nDid you mean this\?\n\tget/);
    const r2 = berth("node", home, ["get", "pods", "--bogus"]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/unknown flag --bogus/);
    const r3 = berth("node", home, ["get", "pods"]);
    expect(r3.code).toBe(1);
    expect(r3.stderr).toMatch(/no Berth cluster is running/);
    const r5 = berth("node", home, ["down", "--grace-period", "1"]);
    expect(r5.code).toBe(1);
    expect(r5.stderr).toMatch(/--grace-period applies to the pods --purge deletes: add --purge/);
    const r6 = berth("node", home, ["down", "--purge", "--grace-period", "1.5"]);
    expect(r6.code).toBe(1);
    expect(r6.stderr).toMatch(/--grace-period must be a whole number of seconds, 0 or more, got 1.5/);
    const r4 = berth("node", home, ["get", "--help"]);
    expect(r4.code).toBe(0);
    expect(r4.stdout).toMatch(/--selector/);
    rmSync(home, { recursive: true, force: true });
  });
});
