/**
 * Projected volumes through kubectl 1.32's strict field validation (the server's OpenAPI declares
 * them): a pod combining a ConfigMap, a Secret, the downward API and an audience-bound token, and
 * kube's own `kube-api-access-*` volume as `kubectl get pod -o yaml` prints it, apply and are
 * stored (the token's life defaulted); a misspelt field inside a source is an unknown field; a
 * source kind Berth does not serve and a token living too short are refused in words that name
 * them. No control plane and no Docker here (the node's side is projected_volume_docker.test.ts).
 */
import { describe, expect, it } from "vitest";
import { kubectlRunners, useRestHarness } from "../helpers/rest_harness.ts";

const h = useRestHarness({}, 30_000);
const { ok, refused } = kubectlRunners(h);

const pod = (name: string, sources: string) => `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {app: web}}
spec:
  containers:
  - name: app
    image: berth/busybox:latest
    volumeMounts:
    - {name: all-in-one, mountPath: /projected, readOnly: true}
  volumes:
  - name: all-in-one
    projected:
      defaultMode: 0440
      sources:
${sources}`;

const ALL_IN_ONE = `
      - configMap:
          name: app-config
          items: [{key: level, path: config/level}]
      - secret:
          name: db
          items: [{key: password, path: db/password, mode: 0400}]
          optional: true
      - downwardAPI:
          items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]
      - serviceAccountToken:
          audience: vault
          path: vault-token`;

describe.sequential("kubectl and projected volumes (REST, no control plane)", () => {
  it("kubectl apply of a pod with a projected volume of every served kind passes strict validation; the token's life defaults to 3600 s", async () => {
    expect(await ok(["apply", "-f", "-"], pod("combined", ALL_IN_ONE))).toBe("pod/combined created\n");
    const stored = await h.test.api.get("pods", "combined", "default");
    expect(stored.spec.volumes?.[0].projected).toEqual({
      defaultMode: 0o440,
      sources: [
        { configMap: { name: "app-config", items: [{ key: "level", path: "config/level" }] } },
        { secret: { name: "db", items: [{ key: "password", path: "db/password", mode: 0o400 }], optional: true } },
        { downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }] } },
        { serviceAccountToken: { audience: "vault", path: "vault-token", expirationSeconds: 3600 } },
      ],
    });
    // Applied again: kubectl sends the atomic `sources` list again (the stored one has the
    // defaulted life, as on Kubernetes), which defaults to the same spec: no immutable field moves.
    expect(await ok(["apply", "-f", "-"], pod("combined", ALL_IN_ONE))).toMatch(/^pod\/combined (configured|unchanged)\n$/);
    expect((await h.test.api.get("pods", "combined", "default")).spec).toEqual(stored.spec);
  });

  it("kubectl apply of kube's own kube-api-access volume, as kubectl get -o yaml prints it, passes strict validation", async () => {
    const manifest = `
apiVersion: v1
kind: Pod
metadata: {name: reapplied}
spec:
  containers:
  - name: app
    image: berth/busybox:latest
    volumeMounts:
    - {name: kube-api-access-x7k2p, mountPath: /var/run/secrets/kubernetes.io/serviceaccount, readOnly: true}
  volumes:
  - name: kube-api-access-x7k2p
    projected:
      defaultMode: 420
      sources:
      - serviceAccountToken: {expirationSeconds: 3607, path: token}
      - configMap:
          name: kube-root-ca.crt
          items: [{key: ca.crt, path: ca.crt}]
      - downwardAPI:
          items:
          - path: namespace
            fieldRef: {apiVersion: v1, fieldPath: metadata.namespace}
`;
    expect(await ok(["apply", "-f", "-"], manifest)).toBe("pod/reapplied created\n");
  });

  it("a misspelt field inside a projection is an unknown field under strict validation", async () => {
    const err = await refused(["apply", "-f", "-"], pod("typo", `
      - serviceAccountToken: {audiance: vault, path: t}`));
    expect(err).toContain('unknown field "spec.volumes[0].projected.sources[0].serviceAccountToken.audiance"');
  });

  it("a clusterTrustBundle source is refused by name, a token living under ten minutes in kube's words; nothing is stored", async () => {
    const bundle = await refused(["apply", "-f", "-"], pod("bundle", `
      - clusterTrustBundle: {signerName: example.com/signer, labelSelector: {}, path: ca.pem}`));
    expect(bundle).toContain("spec.volumes[0].projected.sources[0].clusterTrustBundle: Forbidden: not supported by Berth (it serves no ClusterTrustBundles)");
    const short = await refused(["apply", "-f", "-"], pod("short", `
      - serviceAccountToken: {path: t, expirationSeconds: 60}`));
    expect(short).toContain("spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes");
    expect((await h.kubectl(["get", "pods", "bundle", "short"])).stderr).toContain('pods "bundle" not found');
  });
});
