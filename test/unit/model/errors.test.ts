import { describe, expect, it } from "vitest";
import { AlreadyExistsError, ConflictError, NotFoundError } from "../../../model/errors.ts";

describe("errors - names as kube-apiserver gives them", () => {
  it("a resource of a named group is qualified by it (deployments.apps), with the group in the details; core resources are not", () => {
    const missing = new NotFoundError("deployments", "web");
    expect(missing.message).toBe('deployments.apps "web" not found');
    expect(missing.toStatus()).toMatchObject({ code: 404, reason: "NotFound", details: { name: "web", group: "apps", kind: "deployments" } });
    expect(new AlreadyExistsError("cronjobs", "nightly").message).toBe('cronjobs.batch "nightly" already exists');
    expect(new ConflictError("horizontalpodautoscalers", "api").message).toBe(
      'Operation cannot be fulfilled on horizontalpodautoscalers.autoscaling "api": the object has been modified; please apply your changes to the latest version and try again',
    );
    const pod = new NotFoundError("pods", "x");
    expect(pod.message).toBe('pods "x" not found');
    expect(pod.toStatus().details).toEqual({ name: "x", kind: "pods" });
    // Anything else (a name not in RESOURCES) is shown as given.
    expect(new NotFoundError("widgets", "w").message).toBe('widgets "w" not found');
  });
});
