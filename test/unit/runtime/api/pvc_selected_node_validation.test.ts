/**
 * The node a PersistentVolumeClaim was placed on (`volume.kubernetes.io/selected-node`) holds its
 * volume: the API lets the annotation be set on a claim that has none, and refuses any change or
 * removal after, so one claim never gets two volumes.
 */
import { describe, expect, it } from "vitest";
import { type PersistentVolumeClaim, SELECTED_NODE_ANNOTATION } from "../../../../model/types.ts";
import { pvcUpdateProblems } from "../../../../runtime/api/validation_rules.ts";

const claim = (annotations?: Record<string, string>): PersistentVolumeClaim => ({
  apiVersion: "v1",
  kind: "PersistentVolumeClaim",
  metadata: { name: "data", namespace: "default", ...(annotations ? { annotations } : {}) },
  spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, storageClassName: "local", volumeMode: "Filesystem" },
  status: { phase: "Pending" },
});
const FORBIDDEN = [{ reason: "FieldValueForbidden", field: `metadata.annotations[${SELECTED_NODE_ANNOTATION}]`, message: 'Forbidden: the claim\'s volume is on node "sa"' }];

describe("claim updates - the selected node", () => {
  it("may be set on a claim that has none", () => {
    expect(pvcUpdateProblems(claim(), claim({ [SELECTED_NODE_ANNOTATION]: "sa" }))).toEqual([]);
    expect(pvcUpdateProblems(claim({ other: "x" }), claim({ other: "x", [SELECTED_NODE_ANNOTATION]: "sa" }))).toEqual([]);
  });

  it("once set, is neither changed nor removed; other annotations stay free", () => {
    const placed = claim({ [SELECTED_NODE_ANNOTATION]: "sa" });
    expect(pvcUpdateProblems(placed, claim({ [SELECTED_NODE_ANNOTATION]: "sb" }))).toEqual(FORBIDDEN);
    expect(pvcUpdateProblems(placed, claim({ [SELECTED_NODE_ANNOTATION]: "" }))).toEqual(FORBIDDEN);
    expect(pvcUpdateProblems(placed, claim())).toEqual(FORBIDDEN);
    expect(pvcUpdateProblems(placed, claim({ other: "x" }))).toEqual(FORBIDDEN);
    expect(pvcUpdateProblems(placed, claim({ [SELECTED_NODE_ANNOTATION]: "sa", other: "x" }))).toEqual([]);
  });
});
