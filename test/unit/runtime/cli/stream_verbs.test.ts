/** `berth exec -it`'s flags and the exit code a stream's Status stands for. */
import { describe, expect, it } from "vitest";
import { parseArgs, type FlagSpec } from "../../../../runtime/cli/args.ts";
import { exitCodeOf } from "../../../../runtime/cli/stream_verbs.ts";
import { exitStatus } from "../../../../runtime/stream/frames.ts";

const specs: FlagSpec[] = [
  { name: "stdin", short: "i", type: "boolean", help: "" },
  { name: "tty", short: "t", type: "boolean", help: "" },
  { name: "container", short: "c", type: "string", help: "" },
];

describe("berth exec flags and exit codes", () => {
  it("bundled boolean short flags (-it) set each flag; a string flag keeps its inline value", () => {
    expect(parseArgs(["-it", "web", "--", "sh"], specs)).toEqual({ positional: ["web"], flags: { stdin: true, tty: true }, rest: ["sh"] });
    expect(parseArgs(["-cmain", "web"], specs).flags).toEqual({ container: "main" });
  });

  it("the exit code is the Status's ExitCode cause; other failures are 1 with their message", () => {
    expect(exitCodeOf(exitStatus(["true"], 0))).toEqual({ code: 0 });
    expect(exitCodeOf(exitStatus(["false"], 42))).toEqual({ code: 42 });
    expect(exitCodeOf({ status: "Failure", message: "node gone" })).toEqual({ code: 1, message: "node gone" });
    expect(exitCodeOf(undefined).code).toBe(1);
    expect(exitCodeOf(undefined, "no word from the other side for 20000 ms").message).toBe("the stream ended without a status (no word from the other side for 20000 ms)");
  });
});
