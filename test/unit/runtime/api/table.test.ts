import { describe, expect, it } from "vitest";
import { formatTable, humanDuration, toMetaTable, toTable } from "../../../../runtime/api/table.ts";
import type { CronJob, DaemonSet, Endpoints, Event, HorizontalPodAutoscaler, Job, MetricSpec, Node, PersistentVolumeClaim, Pod, PodDisruptionBudget, ReplicationController, Service, StatefulSet } from "../../../../model/types.ts";

const NOW = Date.parse("2025-01-01T12:00:00Z");
const created = (secondsAgo: number) => new Date(NOW - secondsAgo * 1000).toISOString();

function job(name: string, spec: Partial<Job["spec"]> = {}, status: Job["status"] = {}): Job {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace: "default", creationTimestamp: created(600) },
    spec: {
      selector: { matchLabels: { "batch.kubernetes.io/controller-uid": "u-1" } },
      template: { metadata: { labels: { "job-name": name } }, spec: { restartPolicy: "Never", containers: [{ name, image: "berth/busybox:latest" }] } },
      ...spec,
    },
    status,
  };
}
const cond = (type: string, status: "True" | "False" = "True") => ({ type, status });

function cronJob(name: string, spec: Partial<CronJob["spec"]> = {}, status: CronJob["status"] = {}): CronJob {
  return {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name, namespace: "default", creationTimestamp: created(3600) },
    spec: {
      schedule: "*/1 * * * *",
      concurrencyPolicy: "Allow",
      suspend: false,
      jobTemplate: { metadata: { name }, spec: { template: { spec: { restartPolicy: "OnFailure", containers: [{ name, image: "berth/busybox:latest" }] } } } },
      ...spec,
    },
    status,
  };
}

function daemonSet(name: string, template: Partial<DaemonSet["spec"]["template"]["spec"]> = {}, status?: DaemonSet["status"]): DaemonSet {
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name, namespace: "kube-system", creationTimestamp: created(5 * 3600) },
    spec: {
      selector: { matchLabels: { name } },
      template: { metadata: { labels: { name } }, spec: { containers: [{ name, image: "berth/busybox:latest" }], ...template } },
    },
    ...(status ? { status } : {}),
  };
}

function pod(name: string, extra: Partial<Pod> = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", creationTimestamp: created(300) },
    spec: { containers: [{ name: "a", image: "busybox" }, { name: "b", image: "busybox" }] },
    ...extra,
  };
}

describe("tables", () => {
  it("table - pods show READY, STATUS, RESTARTS and AGE, wide adds IP and NODE", () => {
    const running = pod("web-1", {
      spec: { nodeName: "node-1", containers: [{ name: "a", image: "busybox" }, { name: "b", image: "busybox" }] },
      status: {
        phase: "Running",
        podIP: "10.0.0.5",
        containerStatuses: [
          { name: "a", ready: true, restartCount: 2, image: "busybox", state: { running: {} }, lastState: { terminated: { exitCode: 1, finishedAt: created(60) } } },
          { name: "b", ready: false, restartCount: 1, image: "busybox", state: { waiting: { reason: "CrashLoopBackOff" } } },
        ],
      },
    });
    const pending = pod("web-2");
    const table = toTable("pods", [running, pending], { now: NOW });
    expect(table.columns.map((c) => c.name)).toEqual(["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node"]);
    expect(table.rows[0].cells).toEqual(["web-1", "1/2", "CrashLoopBackOff", "3 (60s ago)", "5m", "10.0.0.5", "node-1"]);
    expect(table.rows[1].cells).toEqual(["web-2", "0/2", "Pending", "0", "5m", "<none>", "<none>"]);
    expect(formatTable(table)).toBe(
      "NAME    READY   STATUS             RESTARTS      AGE\n" +
        "web-1   1/2     CrashLoopBackOff   3 (60s ago)   5m\n" +
        "web-2   0/2     Pending            0             5m\n",
    );
    expect(formatTable(table, { wide: true }).split("\n")[0]).toBe("NAME    READY   STATUS             RESTARTS      AGE   IP         NODE");
  });

  it("table - a pod being deleted shows Terminating", () => {
    const p = pod("x", { status: { phase: "Running" } });
    p.metadata.deletionTimestamp = created(1);
    expect(toTable("pods", [p], { now: NOW }).rows[0].cells[2]).toBe("Terminating");
  });

  it("table - replication controllers, services, endpoints, nodes, events and namespaces", () => {
    const rc: ReplicationController = {
      apiVersion: "v1", kind: "ReplicationController", metadata: { name: "web", creationTimestamp: created(7200) },
      spec: { replicas: 3, selector: { app: "web" } }, status: { replicas: 2, readyReplicas: 1 },
    };
    expect(toTable("replicationcontrollers", [rc], { now: NOW, wide: false }).rows[0].cells).toEqual(["web", 3, 2, 1, "120m"]);

    const svc: Service = {
      apiVersion: "v1", kind: "Service", metadata: { name: "web", creationTimestamp: created(10) },
      spec: { type: "NodePort", clusterIP: "10.96.0.20", ports: [{ port: 80, nodePort: 30080 }, { port: 53, protocol: "UDP" }] },
    };
    expect(toTable("services", [svc], { now: NOW, wide: false }).rows[0].cells).toEqual(["web", "NodePort", "10.96.0.20", "<none>", "80:30080/TCP,53/UDP", "10s"]);

    const ep: Endpoints = {
      apiVersion: "v1", kind: "Endpoints", metadata: { name: "web", creationTimestamp: created(10) },
      subsets: [{ addresses: ["1", "2", "3", "4"].map((i) => ({ ip: `10.0.0.${i}` })), ports: [{ port: 80 }] }],
    };
    expect(toTable("endpoints", [ep], { now: NOW }).rows[0].cells[1]).toBe("10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more...");

    const node: Node = {
      apiVersion: "v1", kind: "Node", metadata: { name: "n1", creationTimestamp: created(3 * 86400), labels: { "node-role.kubernetes.io/control-plane": "" } },
      spec: { unschedulable: true },
      status: { conditions: [{ type: "Ready", status: "True" }], nodeInfo: { kubeletVersion: "v1.32.0-berth" } },
    };
    expect(toTable("nodes", [node], { now: NOW, wide: false }).rows[0].cells).toEqual(["n1", "Ready,SchedulingDisabled", "control-plane", "3d", "v1.32.0-berth"]);

    const ev: Event = {
      apiVersion: "v1", kind: "Event", metadata: { name: "web.1", namespace: "default", creationTimestamp: created(30) },
      involvedObject: { kind: "Pod", name: "web-1" }, reason: "Started", message: "Started container", type: "Normal", lastTimestamp: created(20),
    };
    const evTable = toTable("events", [ev], { now: NOW, wide: false });
    expect(evTable.columns.map((c) => c.name)).toEqual(["Last Seen", "Type", "Reason", "Object", "Message"]);
    expect(evTable.rows[0].cells).toEqual(["20s", "Normal", "Started", "pod/web-1", "Started container"]);

    expect(toTable("namespaces", [{ apiVersion: "v1", kind: "Namespace", metadata: { name: "default", creationTimestamp: created(5) } }], { now: NOW }).rows[0].cells)
      .toEqual(["default", "Active", "5s"]);
  });

  it("table - jobs show STATUS, COMPLETIONS, DURATION and AGE, wide adds CONTAINERS, IMAGES and SELECTOR", () => {
    const done = job("pi", { completions: 1, parallelism: 1 }, { succeeded: 1, startTime: created(300), completionTime: created(283), conditions: [cond("Complete")] });
    const table = toTable("jobs", [done], { now: NOW });
    expect(table.columns.map((c) => c.name)).toEqual(["Name", "Status", "Completions", "Duration", "Age", "Containers", "Images", "Selector"]);
    expect(table.columns.map((c) => c.priority)).toEqual([0, 0, 0, 0, 0, 1, 1, 1]);
    expect(table.rows[0].cells).toEqual(["pi", "Complete", "1/1", "17s", "10m", "pi", "berth/busybox:latest", "batch.kubernetes.io/controller-uid=u-1"]);
    expect(formatTable(table)).toBe("NAME   STATUS     COMPLETIONS   DURATION   AGE\npi     Complete   1/1           17s        10m\n");
  });

  it("table - a job's COMPLETIONS: succeeded of completions, and a work queue needs one (of its parallelism above 1)", () => {
    const completions = (spec: Partial<Job["spec"]>, succeeded?: number) => toTable("jobs", [job("j", spec, succeeded === undefined ? {} : { succeeded })], { now: NOW }).rows[0].cells[2];
    expect(completions({ completions: 5, parallelism: 2 }, 3)).toBe("3/5");
    expect(completions({ completions: 0 })).toBe("0/0");
    expect(completions({ parallelism: 3 }, 1)).toBe("1/1 of 3");
    expect(completions({ parallelism: 1 })).toBe("0/1");
    expect(completions({ parallelism: 0 })).toBe("0/1");
    expect(completions({})).toBe("0/1");
  });

  it("table - a job's DURATION: empty before it starts, time since start while running, start to completion once complete", () => {
    const duration = (status: Job["status"]) => toTable("jobs", [job("j", {}, status)], { now: NOW }).rows[0].cells[3];
    expect(duration({})).toBe("");
    expect(duration({ startTime: created(45) })).toBe("45s");
    expect(duration({ startTime: created(4 * 3600) })).toBe("4h");
    expect(duration({ startTime: created(3600), completionTime: created(3600 - 150) })).toBe("2m30s");
    // A failed job has no completion time: its duration keeps counting, as kubectl prints it.
    expect(duration({ startTime: created(100), conditions: [cond("Failed")] })).toBe("100s");
    // A start time after the clock (skew between machines) is 0s, a little, or <invalid>, a lot.
    expect(duration({ startTime: new Date(NOW + 500).toISOString() })).toBe("0s");
    expect(duration({ startTime: new Date(NOW + 5000).toISOString() })).toBe("<invalid>");
  });

  it("table - a job's STATUS: Complete, Failed, Terminating, Suspended, FailureTarget, else Running; only True conditions count", () => {
    const status = (conditions: NonNullable<Job["status"]>["conditions"], deleting = false) => {
      const j = job("j", {}, { conditions });
      if (deleting) j.metadata.deletionTimestamp = created(1);
      return toTable("jobs", [j], { now: NOW }).rows[0].cells[1];
    };
    expect(status(undefined)).toBe("Running");
    expect(status([cond("Complete")])).toBe("Complete");
    expect(status([cond("Failed")])).toBe("Failed");
    expect(status([cond("Suspended")])).toBe("Suspended");
    expect(status([cond("Suspended", "False")])).toBe("Running");
    expect(status([cond("Complete", "False"), cond("Failed")])).toBe("Failed");
    expect(status([cond("FailureTarget")])).toBe("FailureTarget");
    // Finished beats being deleted; being deleted beats suspended.
    expect(status([cond("Complete")], true)).toBe("Complete");
    expect(status([cond("Suspended")], true)).toBe("Terminating");
    expect(status(undefined, true)).toBe("Terminating");
  });

  it("table - cronjobs show SCHEDULE, TIMEZONE, SUSPEND, ACTIVE, LAST SCHEDULE and AGE, wide the job template's CONTAINERS, IMAGES and SELECTOR", () => {
    const never = cronJob("hello");
    const table = toTable("cronjobs", [never], { now: NOW });
    expect(table.columns.map((c) => c.name)).toEqual(["Name", "Schedule", "Timezone", "Suspend", "Active", "Last Schedule", "Age", "Containers", "Images", "Selector"]);
    expect(table.columns.map((c) => c.type)).toEqual(["string", "string", "string", "boolean", "integer", "string", "string", "string", "string", "string"]);
    expect(table.columns.map((c) => c.priority)).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
    // Never run, no time zone, no selector in the template (the API makes one per job).
    expect(table.rows[0].cells).toEqual(["hello", "*/1 * * * *", "<none>", "False", 0, "<none>", "60m", "hello", "berth/busybox:latest", "<none>"]);
    expect(formatTable(table)).toBe(
      "NAME    SCHEDULE      TIMEZONE   SUSPEND   ACTIVE   LAST SCHEDULE   AGE\n" +
      "hello   */1 * * * *   <none>     False     0        <none>          60m\n",
    );
  });

  it("table - a cronjob's TIMEZONE, SUSPEND, ACTIVE (running jobs) and LAST SCHEDULE (an age)", () => {
    const ran = cronJob("nightly", {
      schedule: "@daily", timeZone: "Europe/Oslo", suspend: true,
      jobTemplate: { spec: { selector: { matchLabels: { app: "n" } }, template: { spec: { restartPolicy: "Never", containers: [{ name: "a", image: "x" }, { name: "b", image: "y" }] } } } },
    }, {
      active: [{ kind: "Job", name: "nightly-29000000", namespace: "default" }, { kind: "Job", name: "nightly-29001440", namespace: "default" }],
      lastScheduleTime: created(45),
    });
    expect(toTable("cronjobs", [ran], { now: NOW }).rows[0].cells).toEqual(["nightly", "@daily", "Europe/Oslo", "True", 2, "45s", "60m", "a,b", "x,y", "app=n"]);
    // Suspend unset (an object not defaulted) prints as the printer's <unset>.
    expect(toTable("cronjobs", [cronJob("raw", { suspend: undefined })], { now: NOW }).rows[0].cells[3]).toBe("<unset>");
    expect(formatTable(toTable("cronjobs", [ran], { now: NOW }), { wide: true })).toBe(
      "NAME      SCHEDULE   TIMEZONE      SUSPEND   ACTIVE   LAST SCHEDULE   AGE   CONTAINERS   IMAGES   SELECTOR\n" +
      "nightly   @daily     Europe/Oslo   True      2        45s             60m   a,b          x,y      app=n\n",
    );
  });

  it("table - daemonsets show DESIRED, CURRENT, READY, UP-TO-DATE, AVAILABLE, NODE SELECTOR and AGE, wide adds CONTAINERS, IMAGES and SELECTOR", () => {
    const ds = daemonSet("fluentd", {}, { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 1, numberAvailable: 2, numberMisscheduled: 0 });
    const table = toTable("daemonsets", [ds], { now: NOW });
    expect(table.columns.map((c) => c.name)).toEqual(["Name", "Desired", "Current", "Ready", "Up-to-date", "Available", "Node Selector", "Age", "Containers", "Images", "Selector"]);
    expect(table.columns.map((c) => c.type)).toEqual(["string", "integer", "integer", "integer", "integer", "integer", "string", "string", "string", "string", "string"]);
    expect(table.columns.map((c) => c.priority)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
    expect(table.rows[0].cells).toEqual(["fluentd", 3, 3, 2, 1, 2, "<none>", "5h", "fluentd", "berth/busybox:latest", "name=fluentd"]);
    expect(formatTable(table)).toBe(
      "NAME      DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   NODE SELECTOR   AGE\n" +
      "fluentd   3         3         2       1            2           <none>          5h\n",
    );
    expect(formatTable(table, { wide: true }).split("\n")[0]).toBe(
      "NAME      DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   NODE SELECTOR   AGE   CONTAINERS   IMAGES                 SELECTOR",
    );
  });

  it("table - a daemonset without a status counts 0 everywhere; NODE SELECTOR is the template's, sorted by key as labels.FormatLabels", () => {
    const ds = daemonSet("agent", { nodeSelector: { "kubernetes.io/os": "linux", disktype: "ssd" }, containers: [{ name: "a", image: "x" }, { name: "b", image: "y" }] });
    expect(toTable("daemonsets", [ds], { now: NOW }).rows[0].cells).toEqual(["agent", 0, 0, 0, 0, 0, "disktype=ssd,kubernetes.io/os=linux", "5h", "a,b", "x,y", "name=agent"]);
  });

  it("table - statefulsets show READY as ready/desired and AGE, wide adds CONTAINERS and IMAGES (no SELECTOR, as kube-apiserver's printer)", () => {
    const sts: StatefulSet = {
      apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "web", namespace: "default", creationTimestamp: created(90) },
      spec: {
        replicas: 3, selector: { matchLabels: { app: "web" } },
        template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "nginx", image: "nginx:1" }, { name: "sidecar", image: "busybox" }] } },
      },
      status: { replicas: 2, readyReplicas: 1 },
    };
    const table = toTable("statefulsets", [sts], { now: NOW });
    expect(table.columns.map((c) => c.name)).toEqual(["Name", "Ready", "Age", "Containers", "Images"]);
    expect(table.columns.map((c) => c.priority)).toEqual([0, 0, 0, 1, 1]);
    expect(table.rows[0].cells).toEqual(["web", "1/3", "90s", "nginx,sidecar", "nginx:1,busybox"]);
    expect(formatTable(table)).toBe("NAME   READY   AGE\nweb    1/3     90s\n");
    // Without a status (the controller has not written one): 0 ready.
    expect(toTable("statefulsets", [{ ...sts, status: undefined }], { now: NOW }).rows[0].cells[1]).toBe("0/3");
  });

  it("table - claims show kube-apiserver's columns: capacity and access modes only once bound, the class, VOLUMEATTRIBUTESCLASS <unset>, wide VOLUMEMODE", () => {
    const claim = (extra: Partial<PersistentVolumeClaim> = {}, spec: Partial<PersistentVolumeClaim["spec"]> = {}): PersistentVolumeClaim => ({
      apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "data-web-0", namespace: "default", creationTimestamp: created(300) },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, storageClassName: "local", volumeMode: "Filesystem", ...spec },
      status: { phase: "Pending" },
      ...extra,
    });
    const table = toTable("persistentvolumeclaims", [
      claim(),
      claim({ status: { phase: "Bound", capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOncePod", "ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce"] } }, { volumeName: "pvc-1234" }),
      claim({ metadata: { name: "going", namespace: "default", creationTimestamp: created(300), deletionTimestamp: created(1) }, status: { phase: "Bound" } }, { volumeName: "pvc-5678", volumeMode: undefined }),
    ], { now: NOW });
    expect(table.columns.map((c) => c.name)).toEqual(["Name", "Status", "Volume", "Capacity", "Access Modes", "StorageClass", "VolumeAttributesClass", "Age", "VolumeMode"]);
    expect(table.columns.map((c) => c.priority)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(table.rows.map((r) => r.cells)).toEqual([
      ["data-web-0", "Pending", "", "", "", "local", "<unset>", "5m", "Filesystem"],
      ["data-web-0", "Bound", "pvc-1234", "1Gi", "RWO,ROX,RWX,RWOP", "local", "<unset>", "5m", "Filesystem"],
      // A bound claim without a recorded capacity prints Kubernetes' zero quantity.
      ["going", "Terminating", "pvc-5678", "0", "", "local", "<unset>", "5m", "<unset>"],
    ]);
    expect(formatTable(table).split("\n")[0]).toBe("NAME         STATUS        VOLUME     CAPACITY   ACCESS MODES       STORAGECLASS   VOLUMEATTRIBUTESCLASS   AGE");
  });

  it("table - poddisruptionbudgets show MIN AVAILABLE, MAX UNAVAILABLE (N/A when not set), ALLOWED DISRUPTIONS from the status (0 without one) and AGE", () => {
    const budget = (spec: PodDisruptionBudget["spec"], status?: PodDisruptionBudget["status"], name = "web"): PodDisruptionBudget => ({
      apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name, namespace: "default", creationTimestamp: created(45) },
      spec: { selector: { matchLabels: { app: name } }, ...spec },
      ...(status ? { status } : {}),
    });
    const table = toTable("poddisruptionbudgets", [
      budget({ minAvailable: 2 }, { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 }),
      budget({ maxUnavailable: "50%" }, undefined, "api"),
      budget({ minAvailable: "0%" }, { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 }, "zero"),
      budget({}, undefined, "none"),
    ], { now: NOW });
    expect(table.columns.map((c) => c.name)).toEqual(["Name", "Min Available", "Max Unavailable", "Allowed Disruptions", "Age"]);
    expect(table.columns.map((c) => [c.type, c.priority])).toEqual([["string", 0], ["string", 0], ["string", 0], ["integer", 0], ["string", 0]]);
    expect(table.rows.map((r) => r.cells)).toEqual([
      ["web", "2", "N/A", 1, "45s"],
      ["api", "N/A", "50%", 0, "45s"],
      ["zero", "0%", "N/A", 0, "45s"],
      ["none", "N/A", "N/A", 0, "45s"],
    ]);
    expect(formatTable(table)).toBe(
      "NAME   MIN AVAILABLE   MAX UNAVAILABLE   ALLOWED DISRUPTIONS   AGE\n" +
      "web    2               N/A               1                     45s\n" +
      "api    N/A             50%               0                     45s\n" +
      "zero   0%              N/A               0                     45s\n" +
      "none   N/A             N/A               0                     45s\n",
    );
    // A count of 0 is a bound, not an unset field.
    expect(toTable("poddisruptionbudgets", [budget({ maxUnavailable: 0 })], { now: NOW }).rows[0].cells[2]).toBe("0");
  });

  it("table - horizontalpodautoscalers show REFERENCE (Kind/name), TARGETS as kubectl words them, MINPODS, MAXPODS, REPLICAS (the status' current, 0 without one) and AGE", () => {
    const cpu: MetricSpec = { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } };
    const memory: MetricSpec = { type: "Resource", resource: { name: "memory", target: { type: "AverageValue", averageValue: "100Mi" } } };
    const hpa = (name: string, spec: Partial<HorizontalPodAutoscaler["spec"]>, status?: HorizontalPodAutoscaler["status"]): HorizontalPodAutoscaler => ({
      apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: { name, namespace: "default", creationTimestamp: created(90) },
      spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" }, minReplicas: 1, maxReplicas: 5, metrics: [cpu], ...spec },
      ...(status ? { status } : {}),
    });
    const table = toTable("horizontalpodautoscalers", [
      hpa("fresh", {}, { desiredReplicas: 0 }),
      hpa("busy", { minReplicas: 2 }, { currentReplicas: 3, desiredReplicas: 4, currentMetrics: [{ type: "Resource", resource: { name: "cpu", current: { averageUtilization: 40, averageValue: "20m" } } }] }),
      hpa("mem", { metrics: [memory], scaleTargetRef: { kind: "StatefulSet", name: "db" } }, { currentReplicas: 1, desiredReplicas: 1, currentMetrics: [{ type: "Resource", resource: { name: "memory", current: { averageValue: "10Mi" } } }] }),
      hpa("many", { metrics: [cpu, memory, { type: "ContainerResource", containerResource: { name: "cpu", container: "app", target: { type: "Utilization", averageUtilization: 60 } } }] }),
    ], { now: NOW });
    expect(table.columns.map((c) => c.name)).toEqual(["Name", "Reference", "Targets", "MinPods", "MaxPods", "Replicas", "Age"]);
    expect(table.columns.every((c) => c.priority === 0)).toBe(true);
    expect(table.rows.map((r) => r.cells)).toEqual([
      ["fresh", "Deployment/web", "cpu: <unknown>/80%", "1", 5, 0, "90s"],
      ["busy", "Deployment/web", "cpu: 40%/80%", "2", 5, 3, "90s"],
      ["mem", "StatefulSet/db", "memory: 10Mi/100Mi", "1", 5, 1, "90s"],
      ["many", "Deployment/web", "cpu: <unknown>/80%, memory: <unknown>/100Mi + 1 more...", "1", 5, 0, "90s"],
    ]);
    expect(formatTable(table)).toBe(
      "NAME    REFERENCE        TARGETS                                                   MINPODS   MAXPODS   REPLICAS   AGE\n" +
      "fresh   Deployment/web   cpu: <unknown>/80%                                        1         5         0          90s\n" +
      "busy    Deployment/web   cpu: 40%/80%                                              2         5         3          90s\n" +
      "mem     StatefulSet/db   memory: 10Mi/100Mi                                        1         5         1          90s\n" +
      "many    Deployment/web   cpu: <unknown>/80%, memory: <unknown>/100Mi + 1 more...   1         5         0          90s\n",
    );
    // A ContainerResource names its resource as a Resource does; no metrics is <none>; an unset minReplicas <unset>.
    const container = hpa("c", { minReplicas: undefined, metrics: [{ type: "ContainerResource", containerResource: { name: "memory", container: "app", target: { type: "AverageValue", averageValue: "64Mi" } } }] },
      { desiredReplicas: 1, currentMetrics: [{ type: "ContainerResource", containerResource: { name: "memory", container: "app", current: { averageValue: "70Mi" } } }] });
    expect(toTable("horizontalpodautoscalers", [container, hpa("none", { metrics: [] })], { now: NOW }).rows.map((r) => r.cells.slice(2, 4))).toEqual([["memory: 70Mi/64Mi", "<unset>"], ["<none>", "1"]]);
  });

  it("table - pods' wide columns stay IP and NODE", () => {
    expect(toTable("pods", [pod("p")], { now: NOW }).columns.filter((c) => c.priority === 1).map((c) => c.name)).toEqual(["IP", "Node"]);
  });

  it("table - the wire Table carries partial metadata per row by default", () => {
    const t = toMetaTable(toTable("pods", [pod("a")], { now: NOW }), { resourceVersion: "7" });
    expect(t).toMatchObject({ kind: "Table", apiVersion: "meta.k8s.io/v1", metadata: { resourceVersion: "7" } });
    expect(t.rows[0].object).toEqual({ kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: pod("a").metadata });
    expect(t.columnDefinitions[0]).toMatchObject({ name: "Name", format: "name", priority: 0 });
  });

  it("table - formats a namespace column and no headers on request", () => {
    const out = formatTable(toTable("pods", [pod("a")], { now: NOW }), { showNamespace: true, noHeaders: true });
    expect(out).toBe("default   a   0/2   Pending   0   5m\n");
  });

  it("table - human durations match kubectl's", () => {
    const cases: [number, string][] = [
      [-5000, "<invalid>"], [-500, "0s"], [0, "0s"], [119_000, "119s"], [120_000, "2m"], [150_000, "2m30s"],
      [600_000, "10m"], [179 * 60_000, "179m"], [3 * 3600_000, "3h"], [3.5 * 3600_000, "3h30m"], [30 * 3600_000, "30h"],
      [50 * 3600_000, "2d2h"], [72 * 3600_000, "3d"], [30 * 86400_000, "30d"], [800 * 86400_000, "2y70d"], [3000 * 86400_000, "8y"],
    ];
    for (const [ms, want] of cases) expect(humanDuration(ms), String(ms)).toBe(want);
  });
});
