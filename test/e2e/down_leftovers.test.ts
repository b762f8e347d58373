/**
 * `berth down` for a home whose cluster is not running (stopped with Ctrl-C, say) tells of the
 * containers its pods left running — kept for the next `berth up` — and how to remove them, on
 * real Docker: a container labelled with the home's cluster id stands in for a pod's.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { berth, tempHome } from "../helpers/cli.ts";

const id = `down-${randomBytes(4).toString("hex")}`;
const label = `berth.cluster=${id}`;
const homes: string[] = [];
const running = () => execFileSync("docker", ["ps", "-q", "--filter", `label=${label}`], { encoding: "utf8" }).split("\n").filter(Boolean);

afterAll(() => {
  const ids = execFileSync("docker", ["ps", "-aq", "--filter", `label=${label}`], { encoding: "utf8" }).split("\n").filter(Boolean);
  if (ids.length) spawnSync("docker", ["rm", "-f", "-v", ...ids], { stdio: "ignore" });
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

describe("berth down without a running cluster", () => {
  it("down - says how many of the cluster's containers still run and how to remove them; the command it prints removes them", () => {
    const home = tempHome("berth-down-");
    homes.push(home);
    writeFileSync(join(home, "cluster-id"), `${id}\n`);
    execFileSync("docker", ["run", "-d", "--label", label, "berth/busybox:latest", "sleep", "600"], { stdio: "ignore" });
    expect(running()).toHaveLength(1);

    const r = berth("node", home, ["down"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`berth down: no cluster is running for ${home}\n`);
    expect(r.stdout).toContain("berth down: 1 container(s) of its pods are still running, kept for the next `berth up`");
    const remove = /`(docker rm -f -v \$\(docker ps -aq --filter label=[^)]+\))`/.exec(r.stdout)?.[1];
    expect(remove, r.stdout).toBe(`docker rm -f -v $(docker ps -aq --filter label=${label})`);

    execFileSync("sh", ["-c", remove!], { stdio: "ignore" });
    expect(running()).toEqual([]);
    const again = berth("node", home, ["down"]);
    expect(again.stdout).toBe(`berth down: no cluster is running for ${home}\n`);
  });

  it("down - a home without a cluster id (never started) says only that no cluster runs", () => {
    const home = tempHome("berth-down-");
    homes.push(home);
    const r = berth("node", home, ["down"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`berth down: no cluster is running for ${home}\n`);
  });
});
