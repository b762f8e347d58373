import { describe, expect, it } from "vitest";
import { parseRoute, pathSegments } from "../../../../runtime/http/routes.ts";

describe("routes - raw paths are never normalised", () => {
  it("routes - a dot segment, raw or percent-encoded, is refused instead of resolved", () => {
    for (const p of [
      "/api/v1/namespaces/victim/pods/%2e%2e",
      "/api/v1/namespaces/victim/pods/%2E%2E",
      "/api/v1/namespaces/victim/pods/..",
      "/api/v1/namespaces/victim/pods/.%2e",
      "/api/v1/namespaces/victim/pods/%2e",
      "/api/v1/namespaces/victim/pods/.",
      "/api/v1/namespaces/victim/pods/x/%2e%2e/%2e%2e",
      "/api/v1/namespaces/victim/pods/",
      "/api//v1/pods",
      "/healthz/..",
    ]) {
      expect(parseRoute(p), p).toMatchObject({ type: "badPath" });
    }
  });

  it("routes - each segment is decoded exactly once", () => {
    expect(pathSegments("/api/v1/namespaces/a%252e%252e")).toEqual(["api", "v1", "namespaces", "a%2e%2e"]);
    expect(parseRoute("/api/v1/namespaces/default/pods/%2561")).toMatchObject({ type: "resource", name: "%61" });
    expect(parseRoute("/api/v1/namespaces/default/pods/%zz")).toMatchObject({ type: "badPath" });
    expect(parseRoute("api/v1/pods")).toMatchObject({ type: "badPath" });
  });

  it("routes - ordinary paths route as before", () => {
    expect(parseRoute("/api/v1/namespaces/victim/pods/web")).toEqual({ type: "resource", resource: "pods", namespace: "victim", name: "web", watchPrefix: false });
    expect(parseRoute("/api/v1/namespaces/victim")).toEqual({ type: "resource", resource: "namespaces", name: "victim", watchPrefix: false });
    expect(parseRoute("/api/v1/watch/pods")).toMatchObject({ type: "resource", resource: "pods", watchPrefix: true });
    expect(parseRoute("/version")).toEqual({ type: "static", path: "version" });
    expect(parseRoute("/readyz")).toEqual({ type: "health", endpoint: "readyz" });
    expect(parseRoute("/livez/store")).toEqual({ type: "health", endpoint: "livez", check: "store" });
    expect(parseRoute("/")).toEqual({ type: "notFound" });
  });
});

describe("routes - older versions", () => {
  it("routes - autoscaling/v1 reaches the stored autoscaling/v2 horizontalpodautoscalers, marked as the older version; v2 is unmarked; other older paths are not found", () => {
    expect(parseRoute("/apis/autoscaling/v2/namespaces/d/horizontalpodautoscalers/web")).toEqual({ type: "resource", resource: "horizontalpodautoscalers", namespace: "d", name: "web", watchPrefix: false });
    expect(parseRoute("/apis/autoscaling/v1/namespaces/d/horizontalpodautoscalers")).toEqual({ type: "resource", resource: "horizontalpodautoscalers", namespace: "d", watchPrefix: false, olderVersion: "autoscaling/v1" });
    expect(parseRoute("/apis/autoscaling/v1/horizontalpodautoscalers")).toMatchObject({ resource: "horizontalpodautoscalers", olderVersion: "autoscaling/v1" });
    expect(parseRoute("/apis/autoscaling/v1/namespaces/d/horizontalpodautoscalers/web/status")).toMatchObject({ subresource: "status", olderVersion: "autoscaling/v1" });
    expect(parseRoute("/apis/autoscaling/v2beta2/namespaces/d/horizontalpodautoscalers")).toEqual({ type: "notFound" });
    expect(parseRoute("/apis/autoscaling/v1/namespaces/d/deployments")).toEqual({ type: "notFound" });
  });
});
