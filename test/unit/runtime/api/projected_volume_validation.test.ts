/**
 * Projected volumes at the API (runtime/api/validation_volumes.ts, validation_schemas.ts,
 * defaults.ts): a chart's combined volume and kube's own `kube-api-access-*` volume are accepted,
 * a token's life defaults to an hour, and every refusal of kube-apiserver's
 * validateProjectionSources comes with its words; the projection kinds Berth does not serve are
 * refused by name.
 */
import { describe, expect, it } from "vitest";
import { InvalidError } from "../../../../model/errors.ts";
import type { Pod, StatusCause } from "../../../../model/types.ts";
import { applyDefaults } from "../../../../runtime/api/defaults.ts";
import { validate } from "../../../../runtime/api/validation.ts";

const pod = (projected: Record<string, unknown>, name = "all-in-one") => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web" },
  spec: {
    containers: [{ name: "app", image: "berth/busybox", volumeMounts: [{ name, mountPath: "/projected" }] }],
    volumes: [{ name, projected }],
  },
});

/** The causes `validate` reports for a pod, or [] when it is accepted. */
function causes(raw: unknown): StatusCause[] {
  try {
    validate("pods", raw);
    return [];
  } catch (e) {
    if (!(e instanceof InvalidError)) throw e;
    return e.causes;
  }
}

const V = "spec.volumes[0].projected";

describe("projected volumes - accepted", () => {
  it("projected volume - a ConfigMap key, a Secret, the pod's labels and an audience-bound token in one volume are accepted, the token's life defaulted to 3600 s", () => {
    const raw = pod({
      defaultMode: 0o440,
      sources: [
        { configMap: { name: "app-config", items: [{ key: "app.properties", path: "config/app.properties", mode: 0o400 }] } },
        { secret: { name: "db", items: [{ key: "password", path: "db/password" }], optional: true } },
        { downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }, { path: "cpu", resourceFieldRef: { containerName: "app", resource: "limits.cpu" } }] } },
        { serviceAccountToken: { audience: "vault", path: "vault-token" } },
      ],
    });
    expect(causes(raw)).toEqual([]);
    const stored = applyDefaults("pods", validate("pods", raw)) as Pod;
    expect(stored.spec.volumes![0].projected!.sources![3].serviceAccountToken).toEqual({ audience: "vault", path: "vault-token", expirationSeconds: 3600 });
    // A life given is kept.
    const given = applyDefaults("pods", validate("pods", pod({ sources: [{ serviceAccountToken: { path: "t", expirationSeconds: 7200 } }] }))) as Pod;
    expect(given.spec.volumes![0].projected!.sources![0].serviceAccountToken!.expirationSeconds).toBe(7200);
  });

  it("projected volume - kube's own kube-api-access volume, as `kubectl get pod -o yaml` prints it, is accepted", () => {
    const raw = pod({
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: "token" } },
        { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
        { downwardAPI: { items: [{ path: "namespace", fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } }] } },
      ],
    }, "kube-api-access-x7k2p");
    expect(causes(raw)).toEqual([]);
  });

  it("projected volume - the shortest and longest token lives kube allows are accepted", () => {
    expect(causes(pod({ sources: [{ serviceAccountToken: { path: "a", expirationSeconds: 600 } }, { serviceAccountToken: { path: "b", expirationSeconds: 2 ** 32 } }] }))).toEqual([]);
  });
});

describe("projected volumes - refused in kube-apiserver's words", () => {
  it("projected volume - a source of two kinds is refused (each source is one kind)", () => {
    expect(causes(pod({ sources: [{ configMap: { name: "c" }, secret: { name: "s" } }] }))).toEqual([
      { reason: "FieldValueForbidden", field: `${V}.sources[0]`, message: "Forbidden: may not specify more than 1 volume type" },
    ]);
  });

  it("projected volume - a source of no kind is refused (Kubernetes would write nothing for it)", () => {
    expect(causes(pod({ sources: [{ configmap: { name: "c" } }] }))).toEqual([
      { reason: "FieldValueRequired", field: `${V}.sources[0]`, message: 'Required value: must specify one of "configMap", "secret", "downwardAPI", "serviceAccountToken"' },
    ]);
  });

  it("projected volume - clusterTrustBundle and podCertificate sources are refused by name", () => {
    expect(causes(pod({ sources: [{ clusterTrustBundle: { signerName: "example.com/signer", path: "ca.pem" } }, { podCertificate: { signerName: "example.com/signer", keyType: "ED25519" } }] }))).toEqual([
      { reason: "FieldValueForbidden", field: `${V}.sources[0].clusterTrustBundle`, message: "Forbidden: not supported by Berth (it serves no ClusterTrustBundles)" },
      { reason: "FieldValueForbidden", field: `${V}.sources[1].podCertificate`, message: "Forbidden: not supported by Berth (it serves no PodCertificateRequests and no signers to issue pod certificates)" },
    ]);
  });

  it("projected volume - two sources writing one path: conflicting duplicate paths, naming the ConfigMap or Secret, or the downward API path", () => {
    const c = causes(pod({
      sources: [
        { configMap: { name: "cfg", items: [{ key: "a", path: "same" }, { key: "b", path: "labels" }] } },
        { secret: { name: "creds", items: [{ key: "a", path: "same" }] } },
        { downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }] } },
      ],
    }));
    expect(c).toEqual([
      { reason: "FieldValueInvalid", field: V, message: 'Invalid value: "creds": conflicting duplicate paths' },
      { reason: "FieldValueInvalid", field: V, message: 'Invalid value: "labels": conflicting duplicate paths' },
    ]);
  });

  it("projected volume - item and token paths must stay inside the volume", () => {
    const c = causes(pod({
      sources: [
        { configMap: { name: "cfg", items: [{ key: "a", path: "/etc/a" }, { key: "b", path: "x/../../b" }, { key: "c", path: "..c" }] } },
        { downwardAPI: { items: [{ path: "../labels", fieldRef: { fieldPath: "metadata.labels" } }] } },
        { serviceAccountToken: { path: "/token" } },
        { serviceAccountToken: { path: "../token" } },
      ],
    }));
    expect(c).toEqual([
      { reason: "FieldValueInvalid", field: `${V}.sources[0].configMap.items[0].path`, message: 'Invalid value: "/etc/a": must be a relative path' },
      { reason: "FieldValueInvalid", field: `${V}.sources[0].configMap.items[1].path`, message: "Invalid value: \"x/../../b\": must not contain '..'" },
      { reason: "FieldValueInvalid", field: `${V}.sources[0].configMap.items[2].path`, message: "Invalid value: \"..c\": must not start with '..'" },
      { reason: "FieldValueInvalid", field: `${V}.sources[1].downwardAPI.items[0].path`, message: "Invalid value: \"../labels\": must not contain '..'" },
      { reason: "FieldValueInvalid", field: `${V}.sources[2].serviceAccountToken.path`, message: 'Invalid value: "/token": must be a relative path' },
      { reason: "FieldValueInvalid", field: `${V}.sources[3].serviceAccountToken.path`, message: "Invalid value: \"../token\": must not contain '..'" },
    ]);
  });

  it("projected volume - a token's life is between ten minutes and 2^32 seconds", () => {
    expect(causes(pod({ sources: [{ serviceAccountToken: { path: "a", expirationSeconds: 599 } }, { serviceAccountToken: { path: "b", expirationSeconds: 2 ** 32 + 1 } }] }))).toEqual([
      { reason: "FieldValueInvalid", field: `${V}.sources[0].serviceAccountToken.expirationSeconds`, message: "Invalid value: 599: may not specify a duration less than 10 minutes" },
      { reason: "FieldValueInvalid", field: `${V}.sources[1].serviceAccountToken.expirationSeconds`, message: "Invalid value: 4294967297: may not specify a duration larger than 2^32 seconds" },
    ]);
  });

  it("projected volume - a token's path is required; a ConfigMap's and a Secret's name too", () => {
    expect(causes(pod({ sources: [{ serviceAccountToken: { audience: "vault" } }, { serviceAccountToken: { path: "" } }, { configMap: { name: "" } }, { secret: {} }] }))).toEqual([
      { reason: "FieldValueRequired", field: `${V}.sources[2].configMap.name`, message: "Required value" },
      { reason: "FieldValueRequired", field: `${V}.sources[3].secret.name`, message: "Required value" },
      { reason: "FieldValueRequired", field: `${V}.sources[0].serviceAccountToken.path`, message: "Required value" },
      { reason: "FieldValueRequired", field: `${V}.sources[1].serviceAccountToken.path`, message: "Required value" },
    ]);
  });

  it("projected volume - a downward API item names exactly one of fieldRef and resourceFieldRef; modes are file modes", () => {
    const c = causes(pod({
      defaultMode: 0o1777,
      sources: [{ downwardAPI: { items: [{ path: "x", fieldRef: { fieldPath: "metadata.name" }, resourceFieldRef: { resource: "limits.cpu" } }] } }],
    }));
    expect(c).toEqual([
      { reason: "FieldValueInvalid", field: `${V}.defaultMode`, message: "Invalid value: 1023: must be less than or equal to 511" },
      { reason: "FieldValueInvalid", field: `${V}.sources[0].downwardAPI.items[0]`, message: 'Invalid value: "resource": fieldRef and resourceFieldRef can not be specified simultaneously' },
    ]);
    expect(causes(pod({ sources: [{ downwardAPI: { items: [{ path: "x" }] } }] }))).toEqual([
      { reason: "FieldValueRequired", field: `${V}.sources[0].downwardAPI.items[0]`, message: "Required value: one of fieldRef and resourceFieldRef is required" },
    ]);
  });

  it("projected volume - the same rules hold in a controller's pod template", () => {
    const deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web" },
      spec: {
        selector: { matchLabels: { app: "web" } },
        template: { metadata: { labels: { app: "web" } }, spec: { ...pod({ sources: [{ serviceAccountToken: { path: "t", expirationSeconds: 60 } }] }).spec } },
      },
    };
    try {
      validate("deployments", deployment);
      expect.unreachable("the deployment should be refused");
    } catch (e) {
      expect((e as InvalidError).causes).toEqual([
        { reason: "FieldValueInvalid", field: "spec.template.spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds", message: "Invalid value: 60: may not specify a duration less than 10 minutes" },
      ]);
    }
  });
});
