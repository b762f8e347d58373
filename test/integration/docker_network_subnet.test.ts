/**
 * A Berth bridge that exists under its name with another subnet (left by an older Berth whose
 * slot ranges differed, or made by hand) is replaced when unused, and refused with a clear error
 * when containers use it — never silently reused with addresses nobody expects.
 */
import Docker from "dockerode";
import { afterAll, describe, expect, it } from "vitest";
import { DockerRuntime } from "../../runtime/containers/docker.ts";
import { requireDocker } from "../helpers/docker.ts";

const docker = new Docker();
const name = `berth-subnet-${process.pid}`;
const octet = 1 + (process.pid % 250);
const OLD = { Subnet: `10.219.${octet}.0/24`, Gateway: `10.219.${octet}.1` };
const NEW = { name, subnet: `10.220.${octet}.0/24`, gateway: `10.220.${octet}.1` };

afterAll(async () => {
  for (const c of await docker.listContainers({ all: true, filters: { label: [`berth-subnet-test=${process.pid}`] } })) await docker.getContainer(c.Id).remove({ force: true });
  await docker.getNetwork(name).remove().catch(() => {});
});

describe("Docker bridge subnet", () => {
  it("an unused bridge with another subnet is replaced; one in use is refused with what to do", async () => {
    await requireDocker();
    await docker.createNetwork({ Name: name, Driver: "bridge", IPAM: { Driver: "default", Config: [OLD] } });
    const holder = await docker.createContainer({ Image: "berth/busybox:latest", Cmd: ["sleep", "60"], Labels: { "berth-subnet-test": String(process.pid) }, HostConfig: { NetworkMode: name } });
    await holder.start();
    await expect(new DockerRuntime({ network: NEW }).ensureNetwork()).rejects.toThrow(new RegExp(`network ${name} exists with subnet 10\\.219\\.${octet}\\.0/24, not 10\\.220\\.${octet}\\.0/24, and containers use it`));
    await holder.remove({ force: true });
    await new DockerRuntime({ network: NEW }).ensureNetwork();
    const info = await docker.getNetwork(name).inspect();
    expect((info.IPAM?.Config ?? []).map((c) => c.Subnet)).toEqual([NEW.subnet]);
  });
});
