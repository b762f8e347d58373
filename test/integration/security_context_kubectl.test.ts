/**
 * securityContext through kubectl 1.32's strict field validation (the server's OpenAPI declares
 * it): a chart-style Deployment with a pod and a container securityContext applies and is stored
 * as written; what Berth's nodes cannot apply is refused by admission, naming the field; a field
 * Berth does not model is still an unknown field. No control plane and no Docker here (the
 * containers' side is test/integration/pod_security_context.test.ts).
 */
import { describe, expect, it } from "vitest";
import { deploymentYaml, useRestHarness } from "../helpers/rest_harness.ts";

const h = useRestHarness({}, 30_000);

const deployment = (containerSc: Record<string, unknown>) => deploymentYaml("app", {
  podSpec: { securityContext: { fsGroup: 1001, fsGroupChangePolicy: "Always", supplementalGroups: [], sysctls: [], seLinuxOptions: {} } },
  containerSpec: { securityContext: containerSc },
});

const CHART_SC = {
  runAsUser: 1001,
  runAsGroup: 1001,
  runAsNonRoot: true,
  privileged: false,
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
  seLinuxOptions: {},
};

describe.sequential("kubectl and securityContext (REST, no control plane)", () => {
  it("kubectl apply of a chart-style Deployment with pod and container securityContext passes strict validation and is stored as written", async () => {
    expect(await h.kubectlOk(["apply", "-f", "-"], { stdin: deployment(CHART_SC) })).toBe("deployment.apps/app created\n");
    const spec = (await h.test.api.get("deployments", "app", "default")).spec.template.spec;
    expect(spec.securityContext).toEqual({ fsGroup: 1001, fsGroupChangePolicy: "Always", supplementalGroups: [], sysctls: [], seLinuxOptions: {} });
    expect(spec.containers[0].securityContext).toEqual({
      runAsUser: 1001, runAsGroup: 1001, runAsNonRoot: true, privileged: false, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" }, seLinuxOptions: {},
    });
  });

  it("a Localhost seccomp profile is refused by admission, naming the field; an id out of range by validation; nothing is stored", async () => {
    const localhost = await h.kubectlFails(["apply", "-f", "-"], { stdin: deployment({ seccompProfile: { type: "Localhost", localhostProfile: "my.json" } }).replaceAll("name: app", "name: local") });
    expect(localhost).toContain("spec.template.spec.containers[0].securityContext.seccompProfile: Forbidden: Berth does not load seccomp profiles from a node's files");
    const negative = await h.kubectlFails(["apply", "-f", "-"], { stdin: deployment({ runAsUser: -1 }).replaceAll("name: app", "name: negative") });
    expect(negative).toContain("spec.template.spec.containers[0].securityContext.runAsUser: Invalid value: -1: must be between 0 and 2147483647, inclusive");
    expect((await h.kubectl(["get", "deployments", "local", "negative"])).stderr).toContain('deployments.apps "local" not found');
  });

  it("a misspelt securityContext field is an unknown field under strict validation (every field of kube's is declared)", async () => {
    const err = await h.kubectlFails(["apply", "-f", "-"], { stdin: deployment({ runAsUsr: 1000 }).replaceAll("name: app", "name: typo") });
    expect(err).toContain('unknown field "spec.template.spec.containers[0].securityContext.runAsUsr"');
  });
});
