import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { parseManifests, validateManifests } from "../../../../runtime/api/manifest.ts";
import { computeEndpoints } from "../../../../actors/service_endpoints.ts";
import type { Pod, ReplicationController, Service } from "../../../../model/types.ts";

describe("the seed example (examples/myapp.yaml)", () => {
  it("is valid and its service selects the backend pods by their named port", () => {
    const docs = parseManifests(readFileSync(new URL("../../../../examples/myapp.yaml", import.meta.url), "utf8"), "examples/myapp.yaml");
    const objs = validateManifests(docs);
    const rc = objs.find((o) => o.kind === "ReplicationController") as ReplicationController;
    const svc = objs.find((o) => o.kind === "Service") as Service;
    expect(rc.spec.replicas).toBe(3);
    const pod: Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "backend-x", namespace: "default", labels: rc.spec.template!.metadata!.labels },
      spec: rc.spec.template!.spec,
      status: { podIP: "10.213.0.5", conditions: [{ type: "Ready", status: "True" }] },
    };
    const ep = computeEndpoints({ ...svc, metadata: { ...svc.metadata, namespace: "default" } }, [pod]);
    expect(ep.subsets?.[0].addresses?.[0].ip).toBe("10.213.0.5");
    expect(ep.subsets?.[0].ports?.[0].port).toBe(80);
  });
});
