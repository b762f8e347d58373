/**
 * batch/v1 Jobs with `completionMode: Indexed` at the API's edge: Kubernetes' validateJobSpec and
 * ValidateJob for Indexed jobs (completions required, parallelism at most 100000, a name whose
 * highest `<job>-<index>` is a DNS label), the mode immutable, what stays refused, and the
 * describer's "Completed Indexes".
 */
import { describe, expect, it } from "vitest";
import { causesOf, expectCause } from "../../../helpers/validation_causes.ts";
import type { Job } from "../../../../model/types.ts";
import { jobUpdateProblems } from "../../../../runtime/api/validation_rules.ts";
import { capIndexesList } from "../../../../runtime/cli/describe.ts";
import { unknownFields } from "../../../../runtime/api/openapi.ts";

const job = (spec: Record<string, unknown> = {}, name = "work") => ({
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: { name },
  spec: { completionMode: "Indexed", ...spec, template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "i" }] } } },
});

describe("jobs - completionMode Indexed (Kubernetes' validateJobSpec)", () => {
  it("is accepted with completions, and with neither completions nor parallelism (defaulted to completions 1)", () => {
    expect(causesOf("jobs", job({ completions: 5, parallelism: 2 }))).toEqual([]);
    expect(causesOf("jobs", job())).toEqual([]);
    expect(causesOf("jobs", job({ completionMode: "NonIndexed", parallelism: 3 }))).toEqual([]);
  });

  it("requires completions once parallelism is given", () => {
    expectCause(causesOf("jobs", job({ parallelism: 2 })), "spec.completions", "FieldValueRequired", "Required value: when completion mode is Indexed");
  });

  it("caps parallelism at 100000, and leaves completions to the int32 limit as Kubernetes", () => {
    expectCause(causesOf("jobs", job({ completions: 5, parallelism: 100_001 })), "spec.parallelism", "FieldValueInvalid", "Invalid value: 100001: must be less than or equal to 100000 when completion mode is Indexed");
    expect(causesOf("jobs", job({ completions: 5, parallelism: 100_000 }))).toEqual([]);
    expect(causesOf("jobs", job({ completions: 1_000_000, parallelism: 10 }, "w"))).toEqual([]);
  });

  it("refuses a name whose last index would not make a DNS label hostname", () => {
    const name = "j".repeat(62);
    expectCause(causesOf("jobs", job({ completions: 10 }, name)), "metadata.name", "FieldValueInvalid", new RegExp(`will not able to create pod with invalid DNS label: ${name}-9$`));
    expect(causesOf("jobs", job({ completions: 1 }, "j".repeat(61)))).toEqual([]);
    expectCause(causesOf("jobs", job({ completions: 2 }, "a.b")), "metadata.name", "FieldValueInvalid", /invalid DNS label: a\.b-1/);
  });

  it("refuses other modes with the supported values", () => {
    expectCause(causesOf("jobs", job({ completionMode: "Ordered", completions: 1 })), "spec.completionMode", "FieldValueNotSupported", /"NonIndexed", "Indexed"/);
  });

  it("in a CronJob's job template, requires completions (no default there)", () => {
    const cj = {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "nightly" },
      spec: { schedule: "0 1 * * *", jobTemplate: { spec: job().spec } },
    };
    expectCause(causesOf("cronjobs", cj), "spec.jobTemplate.spec.completions", "FieldValueRequired", "Required value: when completion mode is Indexed");
  });

  it("still refuses the per-index back-off and success policies Berth does not run", () => {
    for (const field of ["backoffLimitPerIndex", "maxFailedIndexes", "successPolicy"]) {
      expectCause(causesOf("jobs", job({ completions: 3, [field]: field === "successPolicy" ? { rules: [] } : 1 })), `spec.${field}`, "FieldValueForbidden");
    }
  });

  it("declares status.completedIndexes, so a job read back (kubectl replace) passes strict field validation", () => {
    expect(unknownFields("Job", { ...job({ completions: 3 }), status: { succeeded: 2, completedIndexes: "0,2" } })).toEqual([]);
  });

  it("keeps the completion mode immutable", () => {
    const current = job({ completions: 3 }) as unknown as Job;
    const next = { ...current, spec: { ...current.spec, completionMode: "NonIndexed" as const } };
    expect(jobUpdateProblems(current, next).map((c) => c.field)).toEqual(["spec.completionMode"]);
  });
});

describe("describe job - Completed Indexes (kubectl's capIndexesListOrNone)", () => {
  it("shows <none> when empty, and cuts a long list after the first comma past 50 characters", () => {
    expect(capIndexesList(undefined, 50)).toBe("<none>");
    expect(capIndexesList("1,3-5,7", 50)).toBe("1,3-5,7");
    const long = Array.from({ length: 40 }, (_, i) => String(i * 3)).join(",");
    const shown = capIndexesList(long, 50);
    expect(shown.endsWith(",...")).toBe(true);
    expect(long.startsWith(shown.slice(0, -3))).toBe(true);
    expect(shown.length - 4).toBeGreaterThanOrEqual(50);
  });
});
