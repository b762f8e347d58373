/**
 * ResourceQuota through every face: REST discovery (shortName `quota`), kubectl 1.32 `get quota`
 * and `describe quota`, a 403 `exceeded quota` as kubectl prints it, the NATS API, the berth CLI
 * (`berth get quota`, `berth describe quota`), and the default quota `berth up` creates once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startRestHarness, type RestHarness } from "../helpers/rest_harness.ts";
import { call } from "../helpers/http_client.ts";
import { describeCmd, getCmd } from "../../runtime/cli/verbs.ts";
import { DEFAULT_QUOTA_ANNOTATION, DEFAULT_QUOTA_HARD, ensureDefaultQuota } from "../../runtime/default_quota.ts";

let h: RestHarness;

beforeAll(async () => {
  h = await startRestHarness();
}, 30_000);
afterAll(async () => {
  await h?.stop();
});

const quotaYaml = `apiVersion: v1
kind: ResourceQuota
metadata:
  name: small
  namespace: default
spec:
  hard:
    pods: "2"
    services: "5"
    limits.memory: 1Gi
`;

describe("ResourceQuota over REST, kubectl, NATS and the berth CLI", () => {
  it("quota - discovery lists resourcequotas with shortName quota", async () => {
    const r = await call({ baseUrl: h.http.url, ca: h.caPem, token: h.token }, "GET", "/api/v1");
    const rq = r.json().resources.find((x: { name: string }) => x.name === "resourcequotas");
    expect(rq).toMatchObject({ kind: "ResourceQuota", namespaced: true, shortNames: ["quota"], singularName: "resourcequota" });
    expect(rq.verbs).toEqual(expect.arrayContaining(["create", "get", "list", "watch", "update", "patch", "delete"]));
  });

  it("quota - kubectl creates, gets and describes a quota, and prints the 403 of a create over it", async () => {
    const file = join(h.dir, "quota.yaml");
    await writeFile(file, quotaYaml);
    const applied = await h.kubectl(["apply", "-f", file]);
    expect(applied.stderr).toBe("");
    expect(applied.stdout).toContain("resourcequota/small created");
    const pod = (name: string) => ["run", name, "--image=berth/busybox", "--restart=Never", "--overrides", JSON.stringify({ spec: { containers: [{ name, image: "berth/busybox", resources: { limits: { memory: "256Mi" } } }] } })];
    expect((await h.kubectl(pod("a"))).code).toBe(0);
    expect((await h.kubectl(pod("b"))).code).toBe(0);
    const refused = await h.kubectl(pod("c"));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('pods "c" is forbidden: exceeded quota: small, requested: pods=1, used: pods=2, limited: pods=2');
    const got = await h.kubectl(["get", "quota"]);
    expect(got.stdout).toMatch(/^NAME\s+AGE\s+REQUEST\s+LIMIT\n/);
    expect(got.stdout).toMatch(/small\s+\S+\s+pods: 2\/2, services: 0\/5\s+limits\.memory: 512Mi\/1Gi/);
    const described = await h.kubectl(["describe", "quota", "small"]);
    expect(described.code).toBe(0);
    expect(described.stdout).toMatch(/Name:\s+small/);
    expect(described.stdout).toMatch(/Resource\s+Used\s+Hard/);
    expect(described.stdout).toMatch(/pods\s+2\s+2/);
    expect(described.stdout).toMatch(/limits\.memory\s+512Mi\s+1Gi/);
  });

  it("quota - the NATS API and the berth CLI serve quotas (berth get quota, berth describe quota)", async () => {
    const q = await h.test.remote.get("resourcequotas", "small", "default");
    expect(q.status?.used?.pods).toBe("2");
    let out = "";
    await getCmd(h.test.remote, ["quota"], {}, (s) => (out += s));
    expect(out).toMatch(/NAME\s+AGE\s+REQUEST\s+LIMIT/);
    expect(out).toMatch(/small\s+\S+\s+pods: 2\/2, services: 0\/5\s+limits\.memory: 512Mi\/1Gi/);
    out = "";
    await describeCmd(h.test.remote, ["quota", "small"], {}, (s) => (out += s));
    expect(out).toMatch(/Resource\s+Used\s+Hard\n/);
    expect(out).toMatch(/pods\s+2\s+2\n/);
    expect(out).toMatch(/services\s+0\s+5\n/);
    await h.test.api.delete("resourcequotas", "small", "default");
  });

  it("quota - berth up's default quota is created once, a user's change stays, and a deleted one does not come back", async () => {
    const api = h.test.api;
    expect(await ensureDefaultQuota(api)).toBe("created");
    const q = await api.get("resourcequotas", "default-quota", "default");
    expect(q.spec?.hard).toEqual(DEFAULT_QUOTA_HARD);
    expect(q.status?.used?.pods).toBe("2");
    expect((await api.get("namespaces", "default")).metadata.annotations?.[DEFAULT_QUOTA_ANNOTATION]).toBeTruthy();
    await api.patch("resourcequotas", "default-quota", { spec: { hard: { pods: "5000" } } }, { namespace: "default" });
    expect(await ensureDefaultQuota(api)).toBe("exists");
    expect((await api.get("resourcequotas", "default-quota", "default")).spec?.hard?.pods).toBe("5000");
    await api.delete("resourcequotas", "default-quota", "default");
    expect(await ensureDefaultQuota(api)).toBe("skipped");
    await expect(api.get("resourcequotas", "default-quota", "default")).rejects.toMatchObject({ code: 404 });
  });
});
