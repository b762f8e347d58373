import { describe, expect, it } from "vitest";
import { bytes, envelope, num } from "../../../helpers/protobuf_writer.ts";
import { decodeProtobufBody, UnsupportedProtobufKind } from "../../../../runtime/http/protobuf.ts";
import { BadRequestError } from "../../../../model/errors.ts";


/** What kubectl 1.32 sent for `kubectl create deployment web --image=berth/busybox:latest --replicas=3 -- httpd -f -p 8080` (captured). */
const CREATE_DEPLOYMENT =
  "azhzAAoVCgdhcHBzL3YxEgpEZXBsb3ltZW50EtMBCh8KA3dlYhIAGgAiACoAMgA4AEIAWgoKA2FwcBIDd2ViEqEBCAMSDAoKCgNhcHASA3dlYhqGAQocCgASABoAIgAqADIAOABCAFoKCgNhcHASA3dlYhJmEkgKB2J1c3lib3gSFGJlcnRoL2J1c3lib3g6bGF0ZXN0GgVodHRwZBoCLWYaAi1wGgQ4MDgwKgBCAGoAcgCAAQCIAQCQAQCiAQAaADIAQgBKAFIAWABgAGgAggEAigEAmgEAwgEAIgIKACgAOAAaDAgAEAAYACAAKAA4ABoAIgA=";

/** What kubectl 1.32 sent for `kubectl create job pi --image=berth/busybox:latest -- sh -c 'echo hello'` (captured). */
const CREATE_JOB =
  "azhzAAoPCghiYXRjaC92MRIDSm9iEpsBChIKAnBpEgAaACIAKgAyADgAQgASezJ5ChAKABIAGgAiACoAMgA4AEIAEmUSQgoCcGkSFGJlcnRoL2J1c3lib3g6bGF0ZXN0GgJzaBoCLWMaCmVjaG8gaGVsbG8qAEIAagByAIABAIgBAJABAKIBABoFTmV2ZXIyAEIASgBSAFgAYABoAIIBAIoBAJoBAMIBABoIIAAoADAAOgAaACIA";

// What kubectl 1.32 sent for `kubectl create cronjob hello --image=berth/busybox:latest --schedule="*/1 * * * *" -- sh -c 'date; echo hello'` (captured).
const CREATE_CRONJOB =
  "azhzAAoTCghiYXRjaC92MRIHQ3JvbkpvYhLRAQoVCgVoZWxsbxIAGgAiACoAMgA4AEIAErUBCgsqLzEgKiAqICogKhoAKqMBChUKBWhlbGxvEgAaACIAKgAyADgAQgASiQEyhgEKEAoAEgAaACIAKgAyADgAQgASchJLCgVoZWxsbxIUYmVydGgvYnVzeWJveDpsYXRlc3QaAnNoGgItYxoQZGF0ZTsgZWNobyBoZWxsbyoAQgBqAHIAgAEAiAEAkAEAogEAGglPbkZhaWx1cmUyAEIASgBSAFgAYABoAIIBAIoBAJoBAMIBABoAGgAiAA==";

/** What kubectl 1.32 sent for `kubectl create poddisruptionbudget web --selector=app=web --min-available=2` (captured). */
const CREATE_PDB_MIN =
  "azhzAAogCglwb2xpY3kvdjESE1BvZERpc3J1cHRpb25CdWRnZXQSOQoTCgN3ZWISABoAIgAqADIAOABCABIWCgYIABACGgASDAoKCgNhcHASA3dlYhoKCAAYACAAKAAwABoAIgA=";

/** What kubectl 1.32 sent for `kubectl create poddisruptionbudget api --selector=app=api --max-unavailable=50%` (captured). */
const CREATE_PDB_MAX =
  "azhzAAogCglwb2xpY3kvdjESE1BvZERpc3J1cHRpb25CdWRnZXQSPAoTCgNhcGkSABoAIgAqADIAOABCABIZEgwKCgoDYXBwEgNhcGkaCQgBEAAaAzUwJRoKCAAYACAAKAAwABoAIgA=";

/** What kubectl 1.32 sent for `kubectl autoscale deployment web --min=2 --max=5 --cpu-percent=50` (captured): an autoscaling/v1 HPA. */
const AUTOSCALE_CPU =
  "azhzAAopCg5hdXRvc2NhbGluZy92MRIXSG9yaXpvbnRhbFBvZEF1dG9zY2FsZXISPwoTCgN3ZWISABoAIgAqADIAOABCABIiChoKCkRlcGxveW1lbnQSA3dlYhoHYXBwcy92MRACGAUgMhoEGAAgABoAIgA=";

/** What kubectl 1.32 sent for `kubectl autoscale deployment web --name=plain --max=3` (captured): no minimum, no cpu target. */
const AUTOSCALE_PLAIN =
  "azhzAAopCg5hdXRvc2NhbGluZy92MRIXSG9yaXpvbnRhbFBvZEF1dG9zY2FsZXISPQoVCgVwbGFpbhIAGgAiACoAMgA4AEIAEh4KGgoKRGVwbG95bWVudBIDd2ViGgdhcHBzL3YxGAMaBBgAIAAaACIA";

describe("protobuf bodies - what kubectl's typed clients send", () => {
  it("protobuf bodies - DeleteOptions: grace period, preconditions, propagation policy, dry run", () => {
    const raw = [...num(1, 0), ...bytes(2, [...bytes(1, "u-1"), ...bytes(2, "42")]), ...bytes(4, "Foreground"), ...bytes(5, "All")];
    expect(decodeProtobufBody(envelope("meta.k8s.io/v1", "DeleteOptions", raw))).toEqual({
      apiVersion: "meta.k8s.io/v1",
      kind: "DeleteOptions",
      gracePeriodSeconds: 0,
      preconditions: { uid: "u-1", resourceVersion: "42" },
      propagationPolicy: "Foreground",
      dryRun: ["All"],
    });
    // A negative int64 takes ten bytes on the wire.
    expect(decodeProtobufBody(envelope("meta.k8s.io/v1", "DeleteOptions", num(1, -1)))).toMatchObject({ gracePeriodSeconds: -1 });
    // Field 6: ignoreStoreReadErrorWithClusterBreakingPotential (the unsafe deletion of a corrupt object).
    expect(decodeProtobufBody(envelope("meta.k8s.io/v1", "DeleteOptions", num(6, 1)))).toMatchObject({ ignoreStoreReadErrorWithClusterBreakingPotential: true });
  });

  it("protobuf bodies - Eviction: the pod's name and namespace and its delete options", () => {
    const raw = [...bytes(1, [...bytes(1, "web-1"), ...bytes(2, ""), ...bytes(3, "shop")]), ...bytes(2, num(1, 5))];
    expect(decodeProtobufBody(envelope("policy/v1", "Eviction", raw))).toEqual({
      apiVersion: "policy/v1",
      kind: "Eviction",
      metadata: { name: "web-1", namespace: "shop" },
      deleteOptions: { gracePeriodSeconds: 5 },
    });
  });

  it("protobuf bodies - the Deployment of kubectl create deployment reads like its JSON", () => {
    expect(decodeProtobufBody(Buffer.from(CREATE_DEPLOYMENT, "base64"))).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", labels: { app: "web" } },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: "web" } },
        template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "busybox", image: "berth/busybox:latest", command: ["httpd", "-f", "-p", "8080"], resources: {} }] } },
        strategy: {},
      },
    });
  });

  it("protobuf bodies - the Job of kubectl create job reads like its JSON: one container named after the job, restartPolicy Never", () => {
    expect(decodeProtobufBody(Buffer.from(CREATE_JOB, "base64"))).toEqual({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "pi" },
      spec: {
        template: { metadata: {}, spec: { containers: [{ name: "pi", image: "berth/busybox:latest", command: ["sh", "-c", "echo hello"], resources: {} }], restartPolicy: "Never" } },
      },
    });
  });

  it("protobuf bodies - a Job's spec pointers keep explicit zeros; its status is not read", () => {
    const selector = bytes(1, [...bytes(1, "job-name"), ...bytes(2, "batch")]);
    const spec = [
      ...num(1, 0), // parallelism 0: a paused job
      ...num(2, 4), // completions
      ...num(3, 600), // activeDeadlineSeconds
      ...bytes(4, selector),
      ...num(5, 1), // manualSelector
      ...bytes(6, [...bytes(1, bytes(11, [...bytes(1, "job-name"), ...bytes(2, "batch")])), ...bytes(2, [...bytes(2, [...bytes(1, "w"), ...bytes(2, "img")]), ...bytes(3, "OnFailure")])]),
      ...num(7, 0), // backoffLimit 0: the first failure fails the job
      ...num(8, 30), // ttlSecondsAfterFinished
      ...bytes(9, "NonIndexed"),
      ...num(10, 0), // suspend false
    ];
    const status = [...num(4, 2), ...num(5, 1)];
    expect(decodeProtobufBody(envelope("batch/v1", "Job", [...bytes(1, bytes(1, "batch")), ...bytes(2, spec), ...bytes(3, status)]))).toEqual({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "batch" },
      spec: {
        parallelism: 0,
        completions: 4,
        activeDeadlineSeconds: 600,
        selector: { matchLabels: { "job-name": "batch" } },
        manualSelector: true,
        template: { metadata: { labels: { "job-name": "batch" } }, spec: { containers: [{ name: "w", image: "img" }], restartPolicy: "OnFailure" } },
        backoffLimit: 0,
        ttlSecondsAfterFinished: 30,
        completionMode: "NonIndexed",
        suspend: false,
      },
    });
  });

  it("protobuf bodies - the CronJob of kubectl create cronjob reads like its JSON: the schedule, a job template named after it, restartPolicy OnFailure", () => {
    expect(decodeProtobufBody(Buffer.from(CREATE_CRONJOB, "base64"))).toEqual({
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "hello" },
      spec: {
        schedule: "*/1 * * * *",
        jobTemplate: {
          metadata: { name: "hello" },
          spec: {
            template: {
              metadata: {},
              spec: { containers: [{ name: "hello", image: "berth/busybox:latest", command: ["sh", "-c", "date; echo hello"], resources: {} }], restartPolicy: "OnFailure" },
            },
          },
        },
      },
    });
  });

  it("protobuf bodies - a CronJob's pointer fields keep explicit zeros (suspend false, history limits 0); its status is not read", () => {
    const template = bytes(6, bytes(2, [...bytes(2, [...bytes(1, "w"), ...bytes(2, "img")]), ...bytes(3, "Never")]));
    const jobTemplate = [...bytes(1, bytes(11, [...bytes(1, "team"), ...bytes(2, "a")])), ...bytes(2, [...num(2, 1), ...num(3, 60), ...num(7, 2), ...template])];
    const spec = [
      ...bytes(1, "@hourly"),
      ...num(2, 0), // startingDeadlineSeconds 0
      ...bytes(3, "Forbid"),
      ...num(4, 0), // suspend false
      ...bytes(5, jobTemplate),
      ...num(6, 0), // successfulJobsHistoryLimit 0: keep none
      ...num(7, 5),
      ...bytes(8, "Europe/Oslo"),
    ];
    const status = [...bytes(1, [...bytes(1, "Job"), ...bytes(3, "nightly-1")]), ...bytes(4, num(1, 1_700_000_000))];
    expect(decodeProtobufBody(envelope("batch/v1", "CronJob", [...bytes(1, bytes(1, "nightly")), ...bytes(2, spec), ...bytes(3, status)]))).toEqual({
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "nightly" },
      spec: {
        schedule: "@hourly",
        startingDeadlineSeconds: 0,
        concurrencyPolicy: "Forbid",
        suspend: false,
        jobTemplate: {
          metadata: { labels: { team: "a" } },
          spec: { completions: 1, activeDeadlineSeconds: 60, backoffLimit: 2, template: { spec: { containers: [{ name: "w", image: "img" }], restartPolicy: "Never" } } },
        },
        successfulJobsHistoryLimit: 0,
        failedJobsHistoryLimit: 5,
        timeZone: "Europe/Oslo",
      },
    });
    // Go writes an unset concurrencyPolicy (a plain string) as "": left out, for the API to default.
    expect(decodeProtobufBody(envelope("batch/v1", "CronJob", [...bytes(2, [...bytes(1, "* * * * *"), ...bytes(3, "")])]))).toEqual({
      apiVersion: "batch/v1", kind: "CronJob", spec: { schedule: "* * * * *" },
    });
  });

  it("protobuf bodies - the PodDisruptionBudget of kubectl create poddisruptionbudget reads like its JSON: the one bound given, a count or a percentage, the selector", () => {
    expect(decodeProtobufBody(Buffer.from(CREATE_PDB_MIN, "base64"))).toEqual({
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "web" },
      spec: { minAvailable: 2, selector: { matchLabels: { app: "web" } } },
    });
    expect(decodeProtobufBody(Buffer.from(CREATE_PDB_MAX, "base64"))).toEqual({
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "api" },
      spec: { maxUnavailable: "50%", selector: { matchLabels: { app: "api" } } },
    });
  });

  it("protobuf bodies - a PodDisruptionBudget's pointers keep explicit zeros (minAvailable 0), the eviction policy and selector expressions are read; its status is not", () => {
    const intOrString = (v: number | string) => (typeof v === "number" ? [...num(1, 0), ...num(2, v), ...bytes(3, "")] : [...num(1, 1), ...num(2, 0), ...bytes(3, v)]);
    const selector = bytes(2, [...bytes(1, "tier"), ...bytes(2, "NotIn"), ...bytes(3, "canary")]);
    const spec = [...bytes(1, intOrString(0)), ...bytes(2, selector), ...bytes(4, "AlwaysAllow")];
    const status = [...num(1, 3), ...num(3, 1), ...num(4, 2)];
    expect(decodeProtobufBody(envelope("policy/v1", "PodDisruptionBudget", [...bytes(1, [...bytes(1, "db"), ...bytes(3, "shop")]), ...bytes(2, spec), ...bytes(3, status)]))).toEqual({
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "db", namespace: "shop" },
      spec: { minAvailable: 0, selector: { matchExpressions: [{ key: "tier", operator: "NotIn", values: ["canary"] }] }, unhealthyPodEvictionPolicy: "AlwaysAllow" },
    });
  });

  it("protobuf bodies - the autoscaling/v1 HorizontalPodAutoscaler of kubectl autoscale reads like its JSON: the target, the bounds given, the cpu target when given", () => {
    expect(decodeProtobufBody(Buffer.from(AUTOSCALE_CPU, "base64"))).toEqual({
      apiVersion: "autoscaling/v1",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "web" },
      spec: { scaleTargetRef: { kind: "Deployment", name: "web", apiVersion: "apps/v1" }, minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 50 },
    });
    expect(decodeProtobufBody(Buffer.from(AUTOSCALE_PLAIN, "base64"))).toEqual({
      apiVersion: "autoscaling/v1",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "plain" },
      spec: { scaleTargetRef: { kind: "Deployment", name: "web", apiVersion: "apps/v1" }, maxReplicas: 3 },
    });
  });

  it("protobuf bodies - an autoscaling/v2 HorizontalPodAutoscaler: metrics with quantity and pointer targets, a behavior with explicit zeros; custom metric sources read as present", () => {
    const quantity = (q: string) => bytes(1, q);
    const target = (type: string, extra: number[]) => [...bytes(1, type), ...extra];
    const cpu = [...bytes(1, "Resource"), ...bytes(4, [...bytes(1, "cpu"), ...bytes(2, target("Utilization", num(4, 60)))])];
    const mem = [...bytes(1, "ContainerResource"), ...bytes(7, [...bytes(1, "memory"), ...bytes(2, target("AverageValue", bytes(3, quantity("100Mi")))), ...bytes(3, "app")])];
    const pods = [...bytes(1, "Pods"), ...bytes(3, bytes(1, bytes(1, "qps")))];
    const rules = [...num(3, 0), ...bytes(1, "Min"), ...bytes(2, [...bytes(1, "Percent"), ...num(2, 10), ...num(3, 60)])];
    const spec = [...bytes(1, [...bytes(1, "StatefulSet"), ...bytes(2, "db")]), ...num(2, 1), ...num(3, 4), ...bytes(4, cpu), ...bytes(4, mem), ...bytes(4, pods), ...bytes(5, bytes(2, rules))];
    const status = [...num(3, 2), ...num(4, 3)];
    expect(decodeProtobufBody(envelope("autoscaling/v2", "HorizontalPodAutoscaler", [...bytes(1, bytes(1, "db")), ...bytes(2, spec), ...bytes(3, status)]))).toEqual({
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "db" },
      spec: {
        scaleTargetRef: { kind: "StatefulSet", name: "db" },
        minReplicas: 1,
        maxReplicas: 4,
        metrics: [
          { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 60 } } },
          { type: "ContainerResource", containerResource: { name: "memory", target: { type: "AverageValue", averageValue: "100Mi" }, container: "app" } },
          { type: "Pods", pods: {} },
        ],
        behavior: { scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: "Min", policies: [{ type: "Percent", value: 10, periodSeconds: 60 }] } },
      },
    });
  });

  it("protobuf bodies - bad input: no magic, truncation and unknown kinds are clear errors", () => {
    expect(() => decodeProtobufBody(Uint8Array.from([1, 2, 3, 4]))).toThrow(/magic/);
    const truncated = envelope("meta.k8s.io/v1", "DeleteOptions", bytes(4, "Background")).slice(0, -6);
    expect(() => decodeProtobufBody(truncated)).toThrow(BadRequestError);
    const pvc = () => decodeProtobufBody(envelope("v1", "PersistentVolumeClaim", []));
    expect(pvc).toThrow(UnsupportedProtobufKind);
    expect(pvc).toThrow(/not PersistentVolumeClaim; send application\/json/);
    expect(pvc).toThrow(/only for DeleteOptions, Eviction, Deployment, ReplicaSet, Job, CronJob, Namespace, /);
  });

  it("protobuf bodies - a Secret's data map holds bytes, base64 in its JSON; immutable is kept when false", () => {
    const entry = (no: number, k: string, v: number[] | string) => bytes(no, [...bytes(1, k), ...bytes(2, v)]);
    const raw = [...bytes(1, bytes(1, "db")), ...entry(2, "bin", [0, 255, 10]), ...bytes(3, "Opaque"), ...entry(4, "note", "hi"), ...num(5, 0)];
    expect(decodeProtobufBody(envelope("v1", "Secret", raw))).toEqual({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "db" },
      data: { bin: Buffer.from([0, 255, 10]).toString("base64") },
      type: "Opaque",
      stringData: { note: "hi" },
      immutable: false,
    });
  });

  it("protobuf bodies - the ServiceAccount of kubectl create serviceaccount: secrets, imagePullSecrets, automount kept when false", () => {
    const raw = [
      ...bytes(1, [...bytes(1, "builder"), ...bytes(3, "ci")]),
      ...bytes(2, [...bytes(1, "Secret"), ...bytes(3, "builder-token")]),
      ...bytes(3, bytes(1, "registry")),
      ...num(4, 0),
    ];
    expect(decodeProtobufBody(envelope("v1", "ServiceAccount", raw))).toEqual({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "builder", namespace: "ci" },
      secrets: [{ kind: "Secret", name: "builder-token" }],
      imagePullSecrets: [{ name: "registry" }],
      automountServiceAccountToken: false,
    });
  });
});
