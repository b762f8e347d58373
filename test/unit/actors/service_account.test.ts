import { describe, expect, it } from "vitest";
import { missingDefaults } from "../../../actors/service_account.ts";
import type { Namespace, ServiceAccount } from "../../../model/types.ts";

const ns = (name: string, extra: Partial<Namespace> = {}): Namespace => ({ apiVersion: "v1", kind: "Namespace", metadata: { name }, ...extra });
const sa = (name: string, namespace: string): ServiceAccount => ({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace } });

describe("service account controller - missingDefaults", () => {
  it("names the namespaces without a `default` account, leaving out those being deleted", () => {
    const namespaces = [
      ns("default"),
      ns("team"),
      ns("other"),
      ns("going", { metadata: { name: "going", deletionTimestamp: "2026-12-03T00:00:00Z" } }),
      ns("terminating", { status: { phase: "Terminating" } }),
    ];
    const accounts = [sa("default", "default"), sa("builder", "team"), sa("default", "elsewhere")];
    expect(missingDefaults(namespaces, accounts)).toEqual(["other", "team"]);
    expect(missingDefaults([], accounts)).toEqual([]);
  });
});
