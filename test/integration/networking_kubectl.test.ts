/**
 * networking.k8s.io/v1 NetworkPolicy, Ingress and IngressClass as kubectl 1.32 users see them,
 * against the REST API over a real store (no control plane, no Docker):
 *
 *   - `kubectl apply --validate=strict` of what charts render (a Bitnami-style NetworkPolicy, a
 *     default IngressClass, a Service and an Ingress naming no class): created, with Berth's
 *     warning that nothing enforces or routes by them; the Ingress gets the default class;
 *   - `get` with kube-apiserver's columns, kubectl's describers and `berth describe`;
 *   - `kubectl create ingress` (a protobuf body);
 *   - kube's refusals: a changed controller ("field is immutable"), bad ports, peers, paths and
 *     backends, with nothing stored.
 */
import { describe, expect, it } from "vitest";
import { kubectlRunners, useRestHarness } from "../helpers/rest_harness.ts";
import { describeCmd } from "../../runtime/cli/verbs.ts";

const h = useRestHarness({}, 30_000);
const { ok, refused } = kubectlRunners(h, 60_000);

const CHART = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: redis
  labels: {app.kubernetes.io/name: redis}
spec:
  podSelector:
    matchLabels: {app.kubernetes.io/name: redis}
  policyTypes: [Ingress, Egress]
  egress:
  - {}
  ingress:
  - ports:
    - port: 6379
    - port: 9000
      endPort: 9100
      protocol: UDP
    from:
    - podSelector: {matchLabels: {redis-client: "true"}}
    - namespaceSelector: {matchLabels: {team: cache}}
      podSelector: {}
    - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
spec:
  controller: k8s.io/ingress-nginx
  parameters: {apiGroup: k8s.example.com, kind: IngressParameters, name: external-lb}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  annotations: {nginx.ingress.kubernetes.io/rewrite-target: /}
spec:
  tls:
  - hosts: [web.example.com]
    secretName: web-tls
  rules:
  - host: web.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: web
            port: {name: http}
`;

/** kubectl 1.32 lists an Ingress backend's EndpointSlices, which Berth does not serve; berth describe shows the Endpoints instead. */
const withoutEndpoints = (s: string) => s.replace(/ \((<error: the server could not find the requested resource>|<none>|[\d.:,]+)\)/g, " (…)");

describe.sequential("kubectl, networking.k8s.io/v1 (REST, no control plane)", () => {
  it("kubectl apply --validate=strict of a chart's policy, class, Service and Ingress: created with Berth's warnings; the Ingress gets the default class", async () => {
    const r = await h.kubectl(["apply", "--validate=strict", "-f", "-"], { stdin: CHART });
    expect(r.stderr).toBe(
      "Warning: NetworkPolicy is stored but not enforced by Berth: pod traffic is not filtered\n" +
        "Warning: Ingress is stored but Berth runs no ingress controller: nothing routes by it; expose the Service as NodePort or LoadBalancer\n",
    );
    expect(r.stdout).toBe("networkpolicy.networking.k8s.io/redis created\ningressclass.networking.k8s.io/nginx created\nservice/web created\ningress.networking.k8s.io/web created\n");
    expect(await ok(["get", "ing", "web", "-o", "jsonpath={.spec.ingressClassName}|{.status}"])).toBe('nginx|{"loadBalancer":{}}');
    expect(await ok(["get", "netpol", "redis", "-o", "jsonpath={.spec.ingress[0].ports[0].protocol}"])).toBe("TCP");
  });

  it("kubectl get: kube-apiserver's columns for the three kinds", async () => {
    expect(await ok(["get", "netpol"])).toMatch(/^NAME\s+POD-SELECTOR\s+AGE\nredis\s+app\.kubernetes\.io\/name=redis\s+\S+\n$/);
    expect(await ok(["get", "ing"])).toMatch(/^NAME\s+CLASS\s+HOSTS\s+ADDRESS\s+PORTS\s+AGE\nweb\s+nginx\s+web\.example\.com\s+80, 443\s+\S+\n$/);
    expect(await ok(["get", "ingressclass"])).toMatch(/^NAME\s+CONTROLLER\s+PARAMETERS\s+AGE\nnginx\s+k8s\.io\/ingress-nginx\s+IngressParameters\.k8s\.example\.com\/external-lb\s+\S+\n$/);
  });

  it("kubectl describe and berth describe print the same (Ingress backends' endpoints aside)", async () => {
    for (const [kind, name] of [["networkpolicy", "redis"], ["ingressclass", "nginx"], ["ingress", "web"]]) {
      const kubectl = await ok(["describe", kind, name]);
      let berth = "";
      await describeCmd(h.test.remote, [kind, name], {}, (x) => (berth += x));
      expect(withoutEndpoints(berth)).toBe(withoutEndpoints(kubectl));
    }
    const policy = await ok(["describe", "netpol", "redis"]);
    expect(policy).toContain("    To Port Range: 9000-9100/UDP\n    From:\n      PodSelector: redis-client=true\n    From:\n      NamespaceSelector: team=cache\n      PodSelector: <none>\n");
    let berth = "";
    await describeCmd(h.test.remote, ["ingress", "web"], {}, (x) => (berth += x));
    expect(berth).toMatch(/\n  web\.example\.com  \n\s+\/   web:http \(<none>\)\n/);
  });

  it("kubectl create ingress (protobuf): rules, TLS and class as given", async () => {
    expect(await ok(["create", "ingress", "simple", "--class=other", "--rule=foo.com/bar*=svc1:8080,tls=my-cert", "--default-backend=defsvc:80"])).toBe("ingress.networking.k8s.io/simple created\n");
    expect(await ok(["get", "ing", "simple", "-o", "jsonpath={.spec.ingressClassName} {.spec.rules[0].http.paths[0].pathType} {.spec.rules[0].http.paths[0].path} {.spec.tls[0].secretName} {.spec.defaultBackend.service.port.number}"]))
      .toBe("other Prefix /bar my-cert 80");
  });

  it("an Ingress with the legacy class annotation gets no default class", async () => {
    await ok(["create", "ingress", "legacy", "--rule=/=svc:80", "--annotation=kubernetes.io/ingress.class=traefik"]);
    expect(await ok(["get", "ing", "legacy", "-o", "jsonpath=[{.spec.ingressClassName}]"])).toBe("[]");
  });

  it("an IngressClass's controller never changes: kube's 422, nothing stored", async () => {
    const changed = CHART.split("---\n")[1].replace("k8s.io/ingress-nginx", "traefik.io/ingress-controller");
    expect(await refused(["apply", "-f", "-"], changed)).toContain('The IngressClass "nginx" is invalid: spec.controller: Invalid value: "traefik.io/ingress-controller": field is immutable');
    expect(await ok(["get", "ingressclass", "nginx", "-o", "jsonpath={.spec.controller}"])).toBe("k8s.io/ingress-nginx");
  });

  it("kube's messages for a bad policy and a bad Ingress; nothing is stored", async () => {
    const badPolicy = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad}
spec:
  podSelector: {}
  ingress:
  - ports: [{port: http, endPort: 90}, {protocol: ICMP}]
    from: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.1.0.0/24]}, podSelector: {}}]
`;
    const out = await refused(["apply", "-f", "-"], badPolicy);
    expect(out).toContain('The NetworkPolicy "bad" is invalid: ');
    expect(out).toContain("spec.ingress[0].ports[0].endPort: Invalid value: 90: may not be specified when `port` is non-numeric");
    expect(out).toContain('spec.ingress[0].ports[1].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"');
    expect(out).toContain('spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "10.1.0.0/24": must be a strict subset of `cidr`');
    expect(out).toContain("spec.ingress[0].from[0]: Forbidden: may not specify both ipBlock and another peer");
    const badIngress = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: bad}
spec:
  rules:
  - host: 10.0.0.1
    http:
      paths:
      - {path: api, pathType: Prefix, backend: {service: {name: web}}}
      - {path: /, backend: {service: {name: web, port: {number: 80}}}}
`;
    const ingOut = await refused(["apply", "-f", "-"], badIngress);
    expect(ingOut).toContain('The Ingress "bad" is invalid: ');
    expect(ingOut).toContain('spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address');
    expect(ingOut).toContain('spec.rules[0].http.paths[0].path: Invalid value: "api": must be an absolute path');
    expect(ingOut).toContain("spec.rules[0].http.paths[0].backend: Required value: port name or number is required");
    expect(ingOut).toContain("spec.rules[0].http.paths[1].pathType: Required value: pathType must be specified");
    expect(await refused(["get", "netpol,ing", "bad"])).toContain("NotFound");
  });
});
