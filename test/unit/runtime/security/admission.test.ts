import { describe, expect, it } from "vitest";
import { checkAdmission, DEFAULT_POLICY } from "../../../../runtime/security/admission.ts";

const pod = (spec: Record<string, unknown>) => ({ apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "x" }], ...spec } });
const fields = (spec: Record<string, unknown>) => checkAdmission("pods", pod(spec), DEFAULT_POLICY).map((c) => `${c.field}: ${c.message}`);

describe("admission - securityContext", () => {
  it("what a chart writes passes: ids, runAsNonRoot, dropped capabilities, RuntimeDefault or Unconfined seccomp, empty seLinuxOptions and sysctls", () => {
    expect(fields({
      securityContext: { runAsUser: 1001, fsGroup: 1001, seccompProfile: { type: "Unconfined" }, seLinuxOptions: {}, sysctls: [] },
      containers: [{ name: "c", image: "x", securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, privileged: false, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" }, seLinuxOptions: { level: "" } } }],
    })).toEqual([]);
  });

  it("AppArmor RuntimeDefault and the Default procMount pass; other AppArmor profiles and an unmasked /proc are refused by field", () => {
    expect(fields({ securityContext: { appArmorProfile: { type: "RuntimeDefault" } }, containers: [{ name: "c", image: "x", securityContext: { procMount: "Default", appArmorProfile: { type: "RuntimeDefault" } } }] })).toEqual([]);
    expect(fields({
      securityContext: { appArmorProfile: { type: "Unconfined" } },
      containers: [{ name: "c", image: "x", securityContext: { procMount: "Unmasked", appArmorProfile: { type: "Localhost", localhostProfile: "p" } } }],
    })).toEqual([
      "spec.securityContext.appArmorProfile: Forbidden: Berth runs every container with the engine's default AppArmor profile (RuntimeDefault)",
      "spec.containers[0].securityContext.appArmorProfile: Forbidden: Berth runs every container with the engine's default AppArmor profile (RuntimeDefault)",
      "spec.containers[0].securityContext.procMount: Forbidden: Berth mounts /proc masked, as the Default procMount",
    ]);
  });

  it("what the nodes cannot grant or apply is refused by field, pod and container alike: privileged, escalation, added capabilities, a Localhost seccomp profile, SELinux labels, sysctls", () => {
    expect(fields({
      securityContext: { seccompProfile: { type: "Localhost", localhostProfile: "p.json" }, seLinuxOptions: { level: "s0:c1" }, sysctls: [{ name: "net.core.somaxconn", value: "1024" }] },
      initContainers: [{ name: "i", image: "x", securityContext: { privileged: true } }],
      containers: [{ name: "c", image: "x", securityContext: { allowPrivilegeEscalation: true, capabilities: { add: ["NET_ADMIN"] }, seccompProfile: { type: "Localhost", localhostProfile: "p.json" }, seLinuxOptions: { type: "spc_t" } } }],
    })).toEqual([
      "spec.securityContext.sysctls: Forbidden: Berth does not set sysctls",
      "spec.securityContext.seccompProfile: Forbidden: Berth does not load seccomp profiles from a node's files (RuntimeDefault and Unconfined are served)",
      "spec.securityContext.seLinuxOptions: Forbidden: Berth's nodes do not use SELinux labels",
      "spec.initContainers[0].securityContext.privileged: Forbidden: Berth does not run privileged containers",
      "spec.containers[0].securityContext.allowPrivilegeEscalation: Forbidden: privilege escalation is not allowed",
      "spec.containers[0].securityContext.seccompProfile: Forbidden: Berth does not load seccomp profiles from a node's files (RuntimeDefault and Unconfined are served)",
      "spec.containers[0].securityContext.seLinuxOptions: Forbidden: Berth's nodes do not use SELinux labels",
      "spec.containers[0].securityContext.capabilities.add: Forbidden: Berth does not add capabilities",
    ]);
  });
});
