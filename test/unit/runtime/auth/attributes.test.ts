/** A REST request in RBAC's terms, as kube-apiserver's RequestInfo reads it. */
import { describe, expect, it } from "vitest";
import { requestAttributes } from "../../../../runtime/auth/attributes.ts";
import { parseRoute } from "../../../../runtime/http/routes.ts";

const attrs = (method: string, path: string, query = "", upgrade = false) => requestAttributes(method, parseRoute(path), new URLSearchParams(query), path, upgrade);

describe("request attributes", () => {
  it("the verb from the method, whether one object is named, and watch", () => {
    expect(attrs("GET", "/api/v1/namespaces/shop/pods")).toEqual({ type: "resource", verb: "list", apiGroup: "", resource: "pods", namespace: "shop" });
    expect(attrs("GET", "/api/v1/namespaces/shop/pods", "watch=true")).toMatchObject({ verb: "watch" });
    expect(attrs("GET", "/api/v1/watch/namespaces/shop/pods")).toMatchObject({ verb: "watch" });
    expect(attrs("GET", "/api/v1/namespaces/shop/pods/web")).toEqual({ type: "resource", verb: "get", apiGroup: "", resource: "pods", namespace: "shop", name: "web" });
    expect(attrs("POST", "/api/v1/namespaces/shop/pods")).toMatchObject({ verb: "create" });
    expect(attrs("PUT", "/api/v1/namespaces/shop/pods/web")).toMatchObject({ verb: "update" });
    expect(attrs("PATCH", "/api/v1/namespaces/shop/pods/web")).toMatchObject({ verb: "patch" });
    expect(attrs("DELETE", "/api/v1/namespaces/shop/pods/web")).toMatchObject({ verb: "delete" });
    expect(attrs("DELETE", "/api/v1/namespaces/shop/pods")).toMatchObject({ verb: "deletecollection" });
  });

  it("the group of a named group's resource; subresources; a namespace is its own namespace", () => {
    expect(attrs("GET", "/apis/apps/v1/namespaces/shop/deployments/web/scale")).toEqual({ type: "resource", verb: "get", apiGroup: "apps", resource: "deployments", subresource: "scale", namespace: "shop", name: "web" });
    expect(attrs("GET", "/apis/autoscaling/v1/namespaces/shop/horizontalpodautoscalers")).toMatchObject({ apiGroup: "autoscaling", resource: "horizontalpodautoscalers" });
    expect(attrs("GET", "/api/v1/nodes")).toEqual({ type: "resource", verb: "list", apiGroup: "", resource: "nodes" });
    expect(attrs("GET", "/api/v1/namespaces/shop")).toEqual({ type: "resource", verb: "get", apiGroup: "", resource: "namespaces", namespace: "shop", name: "shop" });
  });

  it("exec, attach and portforward are create on the subresource, upgraded or posted", () => {
    expect(attrs("GET", "/api/v1/namespaces/shop/pods/web/exec", "", true)).toMatchObject({ verb: "create", subresource: "exec" });
    expect(attrs("POST", "/api/v1/namespaces/shop/pods/web/portforward")).toMatchObject({ verb: "create", subresource: "portforward" });
    expect(attrs("GET", "/api/v1/namespaces/shop/pods/web/log")).toMatchObject({ verb: "get", subresource: "log" });
  });

  it("kubectl auth's reviews and metrics.k8s.io are resources of their groups; discovery and the rest are paths", () => {
    expect(attrs("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")).toEqual({ type: "resource", verb: "create", apiGroup: "authorization.k8s.io", resource: "selfsubjectaccessreviews" });
    expect(attrs("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews")).toMatchObject({ apiGroup: "authentication.k8s.io", resource: "selfsubjectreviews" });
    expect(attrs("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods")).toEqual({ type: "resource", verb: "list", apiGroup: "metrics.k8s.io", resource: "pods", namespace: "shop" });
    expect(attrs("GET", "/apis/metrics.k8s.io/v1beta1")).toEqual({ type: "nonResource", verb: "get", path: "/apis/metrics.k8s.io/v1beta1" });
    expect(attrs("GET", "/api")).toEqual({ type: "nonResource", verb: "get", path: "/api" });
    expect(attrs("GET", "/metrics")).toEqual({ type: "nonResource", verb: "get", path: "/metrics" });
    expect(attrs("HEAD", "/version")).toEqual({ type: "nonResource", verb: "get", path: "/version" });
  });
});
