/**
 * The CLI's duration flags (`berth up --hpa-sync-period 5s --usage-report-interval 2s`, and the
 * same on `berth control-plane` and `berth node`): Go durations, as Kubernetes' components take
 * them, handed to the command in milliseconds; anything else is a usage error naming the flag.
 */
import { describe, expect, it } from "vitest";
import { HPA_SYNC_PERIOD_MS } from "../../../../actors/hpa_controller.ts";
import { parseArgs, UsageError, usageOf } from "../../../../runtime/cli/args.ts";
import { multiCommands } from "../../../../runtime/cli/multi.ts";
import { UP_FLAGS } from "../../../../runtime/cli/up.ts";
import { DEFAULT_USAGE_INTERVAL_MS } from "../../../../runtime/kubelet/usage_reporter.ts";

const noop = () => {};
const multi = multiCommands([], noop, noop);

describe("duration flags", () => {
  it("berth up --hpa-sync-period and --usage-report-interval take Go durations, in ms; unset, they are left to the components' defaults", () => {
    const p = parseArgs(["--hpa-sync-period", "2s", "--usage-report-interval=1500ms", "--nodes", "2"], UP_FLAGS);
    expect(p.flags["hpa-sync-period"]).toBe(2000);
    expect(p.flags["usage-report-interval"]).toBe(1500);
    expect(parseArgs(["--hpa-sync-period", "1m30s"], UP_FLAGS).flags["hpa-sync-period"]).toBe(90_000);
    const unset = parseArgs([], UP_FLAGS).flags;
    expect(unset["hpa-sync-period"]).toBeUndefined();
    expect(unset["usage-report-interval"]).toBeUndefined();
  });

  it.each([
    ["15", "a bare number has no unit"],
    ["fast", "not a duration"],
    ["0s", "zero"],
    ["-5s", "negative"],
    ["0.5ms", "under a millisecond"],
    ["600h", "beyond what a Node timer can wait"],
  ])("berth up --hpa-sync-period %s is a usage error (%s) naming the flag and the value", (value) => {
    const parse = () => parseArgs(["--hpa-sync-period", value], UP_FLAGS);
    expect(parse).toThrow(UsageError);
    expect(parse).toThrow(`flag --hpa-sync-period needs a duration from 1ms to 596h, such as 15s, 500ms or 1m30s; got "${value}"`);
  });

  it("a duration flag without its value is a usage error", () => {
    expect(() => parseArgs(["--usage-report-interval"], UP_FLAGS)).toThrow("flag --usage-report-interval needs a value");
  });

  it("berth control-plane takes --hpa-sync-period and berth node --usage-report-interval, the same way", () => {
    expect(parseArgs(["--nats", "nats://127.0.0.1:4222", "--hpa-sync-period", "3s"], multi["control-plane"].flags).flags["hpa-sync-period"]).toBe(3000);
    expect(parseArgs(["--nats", "nats://127.0.0.1:4222", "--usage-report-interval", "4s"], multi.node.flags).flags["usage-report-interval"]).toBe(4000);
    expect(() => parseArgs(["--hpa-sync-period", "soon"], multi["control-plane"].flags)).toThrow(UsageError);
  });

  it("the help shows DURATION and the defaults the components use", () => {
    const help = usageOf(UP_FLAGS);
    expect(help).toMatch(new RegExp(`--hpa-sync-period DURATION .*\\(default ${HPA_SYNC_PERIOD_MS / 1000}s\\)`));
    expect(help).toMatch(new RegExp(`--usage-report-interval DURATION .*\\(default ${DEFAULT_USAGE_INTERVAL_MS / 1000}s\\)`));
    expect(usageOf(multi["control-plane"].flags)).toMatch(new RegExp(`--hpa-sync-period DURATION .*\\(default ${HPA_SYNC_PERIOD_MS / 1000}s\\)`));
    expect(usageOf(multi.node.flags)).toMatch(new RegExp(`--usage-report-interval DURATION .*\\(default ${DEFAULT_USAGE_INTERVAL_MS / 1000}s;`));
  });
});
