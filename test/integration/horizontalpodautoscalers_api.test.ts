/**
 * autoscaling/v2 HorizontalPodAutoscalers as kubectl 1.32 users see them, against the REST API
 * over a real store: `kubectl autoscale` (which creates through autoscaling/v1, as a protobuf
 * body) storing the v2 object with kube-apiserver's defaults, `get hpa` with kube-apiserver's
 * columns, `create -f` of a memory AverageValue target with part of a behavior (the rest filled
 * in), updates of the spec (patch, edit, apply; the generation counts them), the status
 * subresource, the inputs refused with kube-apiserver's messages (and Berth's, where it has no
 * metrics) with nothing stored, `get -o yaml` read back by `replace`, `describe hpa` (kubectl's and
 * berth's), and quota's object count.
 *
 * No control plane runs here, so nothing depends on the autoscaler: an HPA keeps the empty status
 * kube-apiserver gives a new one, and the status the tables read is one this test writes through
 * the status subresource, as the autoscaler would. No Docker here.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRestHarness, type RestHarness } from "../helpers/rest_harness.ts";
import { describeCmd, getCmd } from "../../runtime/cli/verbs.ts";
import type { HorizontalPodAutoscaler, ResourceQuota } from "../../model/types.ts";

let h: RestHarness;
const editorBefore = process.env.KUBE_EDITOR;

const ok = (args: string[], stdin?: string): Promise<string> => h.kubectlOk(args, { stdin, timeoutMs: 60_000 });
/** A kubectl run that must fail; resolves with its stderr. */
const refused = (args: string[], stdin?: string): Promise<string> => h.kubectlFails(args, { stdin, timeoutMs: 60_000 });
const get = (name: string, ns = "default"): Promise<HorizontalPodAutoscaler> => h.test.api.get("horizontalpodautoscalers", name, ns);

/** An HPA as a user writes it, for the Deployment `web`. */
const manifest = (name: string, spec: string) => `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: ${name}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
${spec}
`;

const WEB_REF = { apiVersion: "apps/v1", kind: "Deployment", name: "web" };
const cpu = (percent: number) => ({ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: percent } } });
/** The empty status kube-apiserver stores for a new HPA (desiredReplicas is never omitted). */
const EMPTY_STATUS = { desiredReplicas: 0 };

beforeAll(async () => {
  // `kubectl edit` runs $KUBE_EDITOR on the object's YAML: here an editor that raises maxReplicas
  // from 6 to 8. The harness hands kubectl this environment.
  process.env.KUBE_EDITOR = "sed -i -e 's/^  maxReplicas: 6$/  maxReplicas: 8/'";
  h = await startRestHarness();
  await h.kubectlOk(["create", "deployment", "web", "--image=berth/busybox:latest", "--replicas=2"]);
}, 30_000);

afterAll(async () => {
  if (editorBefore === undefined) delete process.env.KUBE_EDITOR;
  else process.env.KUBE_EDITOR = editorBefore;
  await h?.stop();
});

describe.sequential("kubectl and autoscaling/v2 HorizontalPodAutoscalers (REST, no control plane)", () => {
  it("kubectl autoscale deployment web --min=2 --max=5 --cpu-percent=50 stores the autoscaling/v2 HPA kube-apiserver would: the target, the bounds, cpu at 50%, generation 1, the empty status", async () => {
    expect(await ok(["autoscale", "deployment", "web", "--min=2", "--max=5", "--cpu-percent=50"])).toBe("horizontalpodautoscaler.autoscaling/web autoscaled\n");
    const web = await get("web");
    expect(web.apiVersion).toBe("autoscaling/v2");
    expect(web.spec).toEqual({ scaleTargetRef: WEB_REF, minReplicas: 2, maxReplicas: 5, metrics: [cpu(50)] });
    expect(web.metadata.generation).toBe(1);
    expect(web.status).toEqual(EMPTY_STATUS);
    // Without --min and --cpu-percent the defaults fill them in: 1, and cpu at 80%. No behavior is made up.
    expect(await ok(["autoscale", "deployment/web", "--name=plain", "--max=3"])).toBe("horizontalpodautoscaler.autoscaling/plain autoscaled\n");
    expect((await get("plain")).spec).toEqual({ scaleTargetRef: WEB_REF, minReplicas: 1, maxReplicas: 3, metrics: [cpu(80)] });
    // The same object through the version kubectl autoscale wrote it in.
    const v1 = JSON.parse(await ok(["get", "--raw", "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/web"]));
    expect(v1).toMatchObject({ apiVersion: "autoscaling/v1", spec: { minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 50 }, status: { currentReplicas: 0, desiredReplicas: 0 } });
    expect(await ok(["get", "horizontalpodautoscalers.v1.autoscaling", "web", "-o", "jsonpath={.apiVersion} {.spec.targetCPUUtilizationPercentage}"])).toBe("autoscaling/v1 50");
    expect(await ok(["get", "horizontalpodautoscalers.v1.autoscaling", "--no-headers"])).toMatch(/^plain\s+Deployment\/web\s+cpu: <unknown>\/80%\s+1\s+3\s+0\s+\d+s\nweb\s+Deployment\/web\s+cpu: <unknown>\/50%\s+2\s+5\s+0\s+\d+s\n$/);
    // kubectl's own check, and kube-apiserver's for a zero cpu target (reported at the v2 field it becomes).
    expect(await refused(["autoscale", "deployment", "web", "--name=big", "--min=3", "--max=2"])).toMatch(/--max=MAXPODS must be larger or equal to --min=MINPODS/);
    expect(await refused(["autoscale", "deployment", "web", "--name=zero", "--max=2", "--cpu-percent=0"]))
      .toContain('The HorizontalPodAutoscaler "zero" is invalid: spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0');
    await ok(["delete", "hpa", "plain"]);
  });

  it("kubectl get hpa (and horizontalpodautoscalers, horizontalpodautoscalers.autoscaling) prints NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE; hpa is in `get all`", async () => {
    const table = await ok(["get", "hpa"]);
    expect(table).toMatch(/^NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE\n/);
    expect(table).toMatch(/\nweb\s+Deployment\/web\s+cpu: <unknown>\/50%\s+2\s+5\s+0\s+\d+s\n$/);
    expect(await ok(["get", "horizontalpodautoscalers", "--no-headers"])).toMatch(/^web\s+Deployment\/web\s+cpu: <unknown>\/50%\s+2\s+5\s+0\s+\d+s\n$/);
    expect(await ok(["get", "horizontalpodautoscalers.autoscaling", "web", "-o", "name"])).toBe("horizontalpodautoscaler.autoscaling/web\n");
    expect(await ok(["get", "hpa", "--field-selector", "metadata.name=web", "-o", "name"])).toBe("horizontalpodautoscaler.autoscaling/web\n");
    expect(await ok(["get", "hpa", "-A", "--no-headers"])).toMatch(/^default\s+web\s+Deployment\/web\s+/);
    expect(await ok(["get", "all", "-o", "name"])).toBe("deployment.apps/web\nhorizontalpodautoscaler.autoscaling/web\n");
    expect(await ok(["api-resources", "--api-group=autoscaling", "--no-headers"])).toMatch(/^horizontalpodautoscalers\s+hpa\s+autoscaling\/v2\s+true\s+HorizontalPodAutoscaler\n$/);
  });

  it("kubectl create -f of an HPA on memory (AverageValue) with part of a behavior: the rest of the behavior filled in as kube-apiserver does, TARGETS memory: <unknown>/100Mi", async () => {
    const mem = manifest("mem", `  minReplicas: 1
  maxReplicas: 4
  metrics:
  - type: Resource
    resource:
      name: memory
      target:
        type: AverageValue
        averageValue: 100Mi
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 60
      policies:
      - type: Pods
        value: 1
        periodSeconds: 30`);
    expect(await ok(["create", "-f", "-"], mem)).toBe("horizontalpodautoscaler.autoscaling/mem created\n");
    const created = await get("mem");
    expect(created.spec.metrics).toEqual([{ type: "Resource", resource: { name: "memory", target: { type: "AverageValue", averageValue: "100Mi" } } }]);
    expect(created.spec.behavior).toEqual({
      scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: "Max", policies: [{ type: "Pods", value: 4, periodSeconds: 15 }, { type: "Percent", value: 100, periodSeconds: 15 }] },
      scaleDown: { stabilizationWindowSeconds: 60, selectPolicy: "Max", policies: [{ type: "Pods", value: 1, periodSeconds: 30 }] },
    });
    expect(await ok(["get", "hpa", "mem", "--no-headers"])).toMatch(/^mem\s+Deployment\/web\s+memory: <unknown>\/100Mi\s+1\s+4\s+0\s+\d+s\n$/);
    // apply of the same manifest changes nothing: the stored defaults are the manifest's too.
    expect(await ok(["apply", "-f", "-"], mem)).toMatch(/^horizontalpodautoscaler\.autoscaling\/mem (configured|unchanged)\n$/);
    const after = await get("mem");
    expect(after.spec).toEqual(created.spec);
    expect(after.metadata.generation).toBe(1);
    // A typo is an unknown field under strict field validation.
    expect(await refused(["apply", "-f", "-"], manifest("typo", "  maxReplica: 3"))).toMatch(/unknown field "spec\.maxReplica"/);
  });

  it("the spec may change after creation (patch, edit, apply), each change one generation; the status stays; metadata alone leaves the generation", async () => {
    expect(await ok(["patch", "hpa", "web", "--type=merge", "-p", '{"spec":{"maxReplicas":6}}'])).toBe("horizontalpodautoscaler.autoscaling/web patched\n");
    let web = await get("web");
    expect(web.spec.maxReplicas).toBe(6);
    expect(web.metadata.generation).toBe(2);
    expect(web.status).toEqual(EMPTY_STATUS);

    expect(await ok(["edit", "hpa", "web"])).toBe("horizontalpodautoscaler.autoscaling/web edited\n");
    web = await get("web");
    expect(web.spec.maxReplicas).toBe(8);
    expect(web.metadata.generation).toBe(3);

    expect(await ok(["label", "hpa", "web", "team=a"])).toBe("horizontalpodautoscaler.autoscaling/web labeled\n");
    expect((await get("web")).metadata.generation).toBe(3);

    // A strategic merge patch (kubectl's default) replaces the metrics list whole, and adds a behavior (defaulted).
    expect(await ok(["patch", "hpa", "web", "-p", JSON.stringify({ spec: { metrics: [cpu(60)], behavior: { scaleUp: { selectPolicy: "Disabled" } } } })])).toBe("horizontalpodautoscaler.autoscaling/web patched\n");
    web = await get("web");
    expect(web.spec.metrics).toEqual([cpu(60)]);
    expect(web.spec.behavior?.scaleUp).toEqual({ stabilizationWindowSeconds: 0, selectPolicy: "Disabled", policies: [{ type: "Pods", value: 4, periodSeconds: 15 }, { type: "Percent", value: 100, periodSeconds: 15 }] });
    expect(web.spec.behavior?.scaleDown).toEqual({ selectPolicy: "Max", policies: [{ type: "Percent", value: 100, periodSeconds: 15 }] });
    expect(web.metadata.generation).toBe(4);

    // kubectl apply's three-way merge on an HPA made by apply.
    expect(await ok(["apply", "-f", "-"], manifest("applied", "  maxReplicas: 3"))).toBe("horizontalpodautoscaler.autoscaling/applied created\n");
    expect(await ok(["apply", "-f", "-"], manifest("applied", "  minReplicas: 2\n  maxReplicas: 4"))).toBe("horizontalpodautoscaler.autoscaling/applied configured\n");
    const applied = await get("applied");
    expect(applied.spec).toEqual({ scaleTargetRef: WEB_REF, minReplicas: 2, maxReplicas: 4, metrics: [cpu(80)] });
    expect(applied.metadata.generation).toBe(2);
    await ok(["delete", "hpa", "applied"]);
  });

  it("the status is written only through the status subresource: its writes keep the spec and the generation, a plain update keeps the status; the tables read it", async () => {
    const before = await get("web");
    const status = {
      observedGeneration: before.metadata.generation, lastScaleTime: "2026-12-04T10:00:00Z", currentReplicas: 3, desiredReplicas: 4,
      currentMetrics: [{ type: "Resource", resource: { name: "cpu", current: { averageUtilization: 90, averageValue: "45m" } } }],
      conditions: [
        { type: "AbleToScale", status: "True", reason: "SucceededRescale", message: "the HPA controller was able to update the target scale to 4", lastTransitionTime: "2026-12-04T10:00:00Z" },
        { type: "ScalingActive", status: "True", reason: "ValidMetricFound", message: "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)", lastTransitionTime: "2026-12-04T10:00:00Z" },
      ],
    };
    expect(await ok(["patch", "hpa", "web", "--subresource=status", "--type=merge", "-p", JSON.stringify({ status, spec: { maxReplicas: 99 } })])).toBe("horizontalpodautoscaler.autoscaling/web patched\n");
    const after = await get("web");
    expect(after.status).toEqual(status);
    expect(after.spec).toEqual(before.spec);
    expect(after.metadata.generation).toBe(before.metadata.generation);
    expect(JSON.parse(await ok(["get", "--raw", "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/web/status"])).status).toEqual(status);
    expect(await ok(["get", "hpa", "web", "--no-headers"])).toMatch(/^web\s+Deployment\/web\s+cpu: 90%\/60%\s+2\s+8\s+3\s+\d+s\n$/);
    // The v1 view shows the cpu measurement.
    expect(JSON.parse(await ok(["get", "--raw", "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/web"])).status).toMatchObject({ currentReplicas: 3, desiredReplicas: 4, currentCPUUtilizationPercentage: 90 });

    // Through the main resource, a status is ignored.
    expect(await ok(["patch", "hpa", "web", "--type=merge", "-p", '{"status":{"desiredReplicas":7}}'])).toBe("horizontalpodautoscaler.autoscaling/web patched (no change)\n");
    expect((await get("web")).status?.desiredReplicas).toBe(4);
    // A status write is validated as kube-apiserver's ValidateHorizontalPodAutoscalerStatusUpdate.
    expect(await refused(["patch", "hpa", "web", "--subresource=status", "--type=merge", "-p", '{"status":{"currentReplicas":-1}}']))
      .toContain('The HorizontalPodAutoscaler "web" is invalid: status.currentReplicas: Invalid value: -1: must be greater than or equal to 0');
    // A status sent with a create is dropped: the new HPA has the empty one.
    const withStatus = JSON.stringify({ apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: { name: "eager" }, spec: { scaleTargetRef: WEB_REF, maxReplicas: 2 }, status: { currentReplicas: 5, desiredReplicas: 5 } });
    expect(await ok(["create", "-f", "-"], withStatus)).toBe("horizontalpodautoscaler.autoscaling/eager created\n");
    expect((await get("eager")).status).toEqual(EMPTY_STATUS);
    await ok(["delete", "hpa", "eager"]);
  });

  it("invalid HPAs are refused with kube-apiserver's messages (Berth's where it has no metrics), and nothing is stored", async () => {
    const invalid = async (name: string, spec: string, pattern: RegExp) => {
      const stderr = await refused(["apply", "-f", "-"], manifest(name, spec));
      expect(stderr).not.toMatch(/unknown field/);
      expect(stderr).toMatch(new RegExp(`The HorizontalPodAutoscaler "${name}" is invalid: `));
      expect(stderr).toMatch(pattern);
    };
    await invalid("nomin", "  minReplicas: 0\n  maxReplicas: 3", /spec\.minReplicas: Invalid value: 0: must be greater than or equal to 1/);
    await invalid("below", "  minReplicas: 4\n  maxReplicas: 3", /spec\.maxReplicas: Invalid value: 3: must be greater than or equal to `minReplicas`/);
    await invalid("nomax", "  minReplicas: 1", /spec\.maxReplicas: Invalid value: 0: must be greater than 0/);
    await invalid("pods", "  maxReplicas: 3\n  metrics:\n  - type: Pods\n    pods:\n      metric: {name: requests_per_second}\n      target: {type: AverageValue, averageValue: \"10\"}",
      /spec\.metrics\[0\]\.type: Unsupported value: "Pods": Berth has no custom or external metrics API: only the metric types "ContainerResource", "Resource" are supported/);
    await invalid("external", "  maxReplicas: 3\n  metrics:\n  - type: External\n    external:\n      metric: {name: queue_length}\n      target: {type: Value, value: \"30\"}",
      /spec\.metrics\[0\]\.type: Unsupported value: "External": Berth has no custom or external metrics API/);
    await invalid("gpu", "  maxReplicas: 3\n  metrics:\n  - type: Resource\n    resource:\n      name: nvidia.com/gpu\n      target: {type: Utilization, averageUtilization: 50}",
      /spec\.metrics\[0\]\.resource\.name: Unsupported value: "nvidia\.com\/gpu": supported values: "cpu", "memory" \(Berth has metrics for cpu and memory only\)/);
    await invalid("value", "  maxReplicas: 3\n  metrics:\n  - type: Resource\n    resource:\n      name: memory\n      target: {type: Value, value: 100Mi}",
      /spec\.metrics\[0\]\.resource\.target\.averageUtilization: Required value: must set either a target raw value or a target utilization/);
    await invalid("both", "  maxReplicas: 3\n  metrics:\n  - type: Resource\n    resource:\n      name: cpu\n      target: {type: Utilization, averageUtilization: 50, averageValue: 100m}",
      /spec\.metrics\[0\]\.resource\.target\.averageValue: Forbidden: may not set both a target raw value and a target utilization/);
    await invalid("nocontainer", "  maxReplicas: 3\n  metrics:\n  - type: ContainerResource\n    containerResource:\n      name: cpu\n      target: {type: Utilization, averageUtilization: 50}",
      /spec\.metrics\[0\]\.containerResource\.container: Required value: must specify a container/);
    await invalid("slow", "  maxReplicas: 3\n  behavior:\n    scaleDown:\n      stabilizationWindowSeconds: 7200\n      policies:\n      - {type: Percent, value: 0, periodSeconds: 3600}",
      /spec\.behavior\.scaleDown\.stabilizationWindowSeconds: Invalid value: 7200: must be less than or equal to 3600.*spec\.behavior\.scaleDown\.policies\[0\]\.value: Invalid value: 0: must be greater than zero.*spec\.behavior\.scaleDown\.policies\[0\]\.periodSeconds: Invalid value: 3600: must be less than or equal to 1800/s);
    await invalid("nopolicy", "  maxReplicas: 3\n  behavior:\n    scaleUp:\n      policies: []", /spec\.behavior\.scaleUp\.policies: Required value: must specify at least one Policy/);
    const noName = await refused(["create", "-f", "-"], "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: noref}\nspec:\n  scaleTargetRef: {kind: Deployment}\n  maxReplicas: 2\n");
    expect(noName).toContain('The HorizontalPodAutoscaler "noref" is invalid: spec.scaleTargetRef.name: Required value');
    expect(await ok(["get", "hpa", "-o", "name"])).toBe("horizontalpodautoscaler.autoscaling/mem\nhorizontalpodautoscaler.autoscaling/web\n");

    // On an existing HPA too: the update is refused and the HPA stays as it was.
    const web = await get("web");
    expect(await refused(["patch", "hpa", "web", "--type=merge", "-p", '{"spec":{"minReplicas":9}}'])).toMatch(/spec\.maxReplicas: Invalid value: 8: must be greater than or equal to `minReplicas`/);
    expect((await get("web")).metadata.resourceVersion).toBe(web.metadata.resourceVersion);
  });

  it("kubectl get hpa -o yaml reads back: replace with it changes nothing, and an HPA made again from it (server fields taken off) is the same HPA", async () => {
    const yaml = await ok(["get", "hpa", "web", "-o", "yaml"]);
    expect(yaml).toMatch(/^apiVersion: autoscaling\/v2\nkind: HorizontalPodAutoscaler\n/);
    expect(yaml).toMatch(/^ {2}maxReplicas: 8$/m);
    expect(yaml).toMatch(/^ {2}desiredReplicas: 4$/m);
    const before = await get("web");
    expect(await ok(["replace", "-f", "-"], yaml)).toBe("horizontalpodautoscaler.autoscaling/web replaced\n");
    expect(await get("web")).toEqual(before);

    const json = JSON.parse(await ok(["get", "hpa", "web", "-o", "json"]));
    await ok(["delete", "hpa", "web"]);
    const { uid: _u, resourceVersion: _r, creationTimestamp: _c, generation: _g, ...metadata } = json.metadata;
    expect(await ok(["create", "-f", "-"], JSON.stringify({ ...json, metadata }))).toBe("horizontalpodautoscaler.autoscaling/web created\n");
    const again = await get("web");
    expect(again.spec).toEqual(before.spec);
    expect(again.metadata.labels).toEqual(before.metadata.labels);
    expect(again.metadata.generation).toBe(1);
    expect(again.status).toEqual(EMPTY_STATUS);
  });

  it("kubectl describe hpa (and berth describe hpa, berth get hpa) show the reference, each metric's current / target, the bounds, the behavior, the pods and the conditions", async () => {
    await ok(["patch", "hpa", "mem", "--subresource=status", "--type=merge", "-p", JSON.stringify({ status: {
      currentReplicas: 2, desiredReplicas: 2,
      currentMetrics: [{ type: "Resource", resource: { name: "memory", current: { averageValue: "10Mi" } } }],
      conditions: [{ type: "ScalingLimited", status: "False", reason: "DesiredWithinRange", message: "the desired count is within the acceptable range", lastTransitionTime: "2026-12-04T10:00:00Z" }],
    } })]);
    const text = await ok(["describe", "hpa", "mem"]);
    expect(text).toMatch(/^Name:\s+mem$/m);
    expect(text).toMatch(/^Reference:\s+Deployment\/web$/m);
    expect(text).toMatch(/^Metrics:\s+\( current \/ target \)\n {2}resource memory on pods:\s+10Mi \/ 100Mi$/m);
    expect(text).toMatch(/^Min replicas:\s+1\nMax replicas:\s+4\nBehavior:\n {2}Scale Up:\n {4}Stabilization Window: 0 seconds\n {4}Select Policy: Max\n {4}Policies:\n/m);
    expect(text).toMatch(/^ {2}Scale Down:\n {4}Stabilization Window: 60 seconds\n {4}Select Policy: Max\n {4}Policies:\n {6}- Type: Pods\s+Value: 1\s+Period: 30 seconds$/m);
    expect(text).toMatch(/^Deployment pods:\s+2 current \/ 2 desired$/m);
    expect(text).toMatch(/^Conditions:\n\s+Type\s+Status\s+Reason\s+Message\n\s+----\s+------\s+------\s+-------\n\s+ScalingLimited\s+False\s+DesiredWithinRange\s+the desired count is within the acceptable range$/m);
    expect(text).toMatch(/^Events:\s+<none>$/m);
    const fresh = await ok(["describe", "hpa", "web"]);
    expect(fresh).toMatch(/^ {2}resource cpu on pods {2}\(as a percentage of request\):\s+<unknown> \/ 60%$/m);
    expect(fresh).toMatch(/^Deployment pods:\s+0 current \/ 0 desired$/m);

    let out = "";
    await describeCmd(h.test.remote, ["hpa", "mem"], {}, (x) => (out += x));
    expect(out).toMatch(/^Name:\s+mem\nNamespace:\s+default\n/);
    expect(out).toMatch(/^ {2}resource memory on pods:\s+10Mi \/ 100Mi$/m);
    expect(out).toMatch(/^Deployment pods:\s+2 current \/ 2 desired$/m);
    expect(out).toMatch(/^\s+ScalingLimited\s+False\s+DesiredWithinRange\s+the desired count is within the acceptable range$/m);
    expect(out).toMatch(/^Events:\s+<none>$/m);

    out = "";
    await getCmd(h.test.remote, ["horizontalpodautoscalers"], {}, (x) => (out += x));
    expect(out).toMatch(/^NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE\nmem\s+Deployment\/web\s+memory: 10Mi\/100Mi\s+1\s+4\s+2\s+\S+\nweb\s+Deployment\/web\s+cpu: <unknown>\/60%\s+2\s+8\s+0\s+\S+\n$/);
    out = "";
    await getCmd(h.test.remote, ["hpa", "mem"], { output: "name" }, (x) => (out += x));
    expect(out).toBe("horizontalpodautoscaler.autoscaling/mem\n");
  });

  it("quota: count/horizontalpodautoscalers.autoscaling counts HPAs (kubectl autoscale's too)", async () => {
    await ok(["create", "namespace", "hpa-quota"]);
    await ok(["create", "deployment", "web", "-n", "hpa-quota", "--image=berth/busybox:latest"]);
    await ok(["create", "quota", "autoscalers", "-n", "hpa-quota", "--hard=count/horizontalpodautoscalers.autoscaling=1"]);
    expect(await ok(["autoscale", "deployment", "web", "-n", "hpa-quota", "--max=2"])).toBe("horizontalpodautoscaler.autoscaling/web autoscaled\n");
    expect(await refused(["apply", "-n", "hpa-quota", "-f", "-"], manifest("two", "  maxReplicas: 2")))
      .toMatch(/exceeded quota: autoscalers, requested: count\/horizontalpodautoscalers\.autoscaling=1, used: count\/horizontalpodautoscalers\.autoscaling=1, limited: count\/horizontalpodautoscalers\.autoscaling=1/);
    const q: ResourceQuota = await h.test.api.get("resourcequotas", "autoscalers", "hpa-quota");
    expect(q.status?.used).toEqual({ "count/horizontalpodautoscalers.autoscaling": "1" });
    // Deleting the namespace takes its HPAs with it.
    await ok(["delete", "namespace", "hpa-quota"]);
    expect(await h.test.api.list("horizontalpodautoscalers", { namespace: "hpa-quota" })).toMatchObject({ items: [] });
  });

  it("kubectl delete hpa removes it", async () => {
    expect(await ok(["delete", "hpa", "web", "mem"])).toBe('horizontalpodautoscaler.autoscaling "web" deleted\nhorizontalpodautoscaler.autoscaling "mem" deleted\n');
    expect(await ok(["get", "hpa", "-o", "name"])).toBe("");
  });
});
