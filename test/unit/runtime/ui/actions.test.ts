import { describe, expect, it } from "vitest";
import { BadRequestError } from "../../../../model/errors.ts";
import { parseAction } from "../../../../runtime/ui/actions.ts";

describe("ui actions", () => {
  it("accepts the four actions, defaulting the namespace; scale takes what serves /scale", () => {
    expect(parseAction({ action: "scale", name: "backend", replicas: 5 })).toEqual({ action: "scale", resource: "replicationcontrollers", namespace: "default", name: "backend", replicas: 5 });
    expect(parseAction({ action: "scale", resource: "deployments", name: "web", replicas: 2 })).toEqual({ action: "scale", resource: "deployments", namespace: "default", name: "web", replicas: 2 });
    expect(parseAction({ action: "scale", resource: "statefulsets", namespace: "db", name: "pg", replicas: 3 })).toEqual({ action: "scale", resource: "statefulsets", namespace: "db", name: "pg", replicas: 3 });
    expect(parseAction({ action: "deletePod", namespace: "team-a", name: "web-x1" })).toEqual({ action: "deletePod", namespace: "team-a", name: "web-x1" });
    expect(parseAction({ action: "cordon", name: "node-1" })).toEqual({ action: "cordon", name: "node-1" });
    expect(parseAction({ action: "uncordon", name: "node-1" })).toEqual({ action: "uncordon", name: "node-1" });
  });

  it.each([
    [null],
    [[]],
    [{ action: "exec", name: "x" }],
    [{ action: "scale", name: "backend", replicas: -1 }],
    [{ action: "scale", name: "backend", replicas: 1.5 }],
    [{ action: "scale", name: "backend", replicas: "3" }],
    [{ action: "scale", name: "backend", replicas: 10_001 }],
    [{ action: "scale", resource: "pods", name: "backend", replicas: 1 }],
    [{ action: "scale", resource: "Deployments", name: "backend", replicas: 1 }],
    // No /scale subresource: a DaemonSet runs one pod a node, a Job its completions.
    [{ action: "scale", resource: "daemonsets", name: "agent", replicas: 1 }],
    [{ action: "scale", resource: "jobs", name: "once", replicas: 1 }],
    [{ action: "deletePod", name: "../etc" }],
    [{ action: "deletePod", name: "Web" }],
    [{ action: "deletePod", namespace: "a/b", name: "web" }],
    [{ action: "cordon" }],
  ])("refuses %j with a 400", (body) => {
    expect(() => parseAction(body)).toThrow(BadRequestError);
  });
});
