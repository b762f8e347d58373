/** The root CA publisher's decision: kube-root-ca.crt with the cluster CA in every live namespace. */
import { describe, expect, it } from "vitest";
import { ROOT_CA_DESCRIPTION, rootCaCommands } from "../../../actors/root_ca_publisher.ts";
import type { ConfigMap, Namespace } from "../../../model/types.ts";

const ns = (name: string, extra: Partial<Namespace> = {}): Namespace => ({ apiVersion: "v1", kind: "Namespace", metadata: { name }, ...extra });
const cm = (namespace: string, data: Record<string, string>, extra: Partial<ConfigMap["metadata"]> = {}): ConfigMap => ({
  apiVersion: "v1", kind: "ConfigMap", metadata: { name: "kube-root-ca.crt", namespace, resourceVersion: "7", ...extra }, data,
});
const CA = "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n";

describe("root CA publisher - rootCaCommands", () => {
  it("creates the ConfigMap, with kube's description, in every namespace without one; skips namespaces being deleted", () => {
    const cmds = rootCaCommands([ns("b"), ns("a"), ns("gone", { status: { phase: "Terminating" } }), ns("x", { metadata: { name: "x", deletionTimestamp: "2026-01-01T00:00:00Z" } })], [], CA);
    expect(cmds.map((c) => [c.type, c.namespace])).toEqual([["create", "a"], ["create", "b"]]);
    expect(cmds[0].configMap).toEqual({
      apiVersion: "v1", kind: "ConfigMap",
      metadata: { name: "kube-root-ca.crt", namespace: "a", annotations: { "kubernetes.io/description": ROOT_CA_DESCRIPTION } },
      data: { "ca.crt": CA },
    });
  });

  it("leaves a correct copy alone and puts an edited one back, keeping its resourceVersion for the update", () => {
    expect(rootCaCommands([ns("a")], [cm("a", { "ca.crt": CA })], CA)).toEqual([]);
    const edited = rootCaCommands([ns("a")], [cm("a", { "ca.crt": "forged", extra: "x" }, { labels: { keep: "me" } })], CA);
    expect(edited).toHaveLength(1);
    expect(edited[0]).toMatchObject({ type: "update", namespace: "a", configMap: { metadata: { resourceVersion: "7", labels: { keep: "me" } }, data: { "ca.crt": CA } } });
    expect(Object.keys(edited[0].configMap.data!)).toEqual(["ca.crt"]);
    // A new CA (the home's pki replaced) reaches every namespace.
    expect(rootCaCommands([ns("a")], [cm("a", { "ca.crt": CA })], "NEW")).toHaveLength(1);
  });

  it("ignores other ConfigMaps", () => {
    const other: ConfigMap = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", namespace: "a" }, data: { "ca.crt": CA } };
    expect(rootCaCommands([ns("a")], [other], CA).map((c) => c.type)).toEqual(["create"]);
  });
});
