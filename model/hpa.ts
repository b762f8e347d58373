/**
 * autoscaling/v2 HorizontalPodAutoscaler defaults, as Kubernetes' SetDefaults_HorizontalPodAutoscaler
 * (pkg/apis/autoscaling/v2/defaults.go) fills them in, shared by the API (which stores them) and
 * the autoscaler (which reads a behavior the API left unset the same way kube-controller-manager does).
 *
 * What the API stores: `minReplicas` 1; no metrics → cpu at 80 % of the pods' requests; a
 * `behavior` only when the user gave one, and then each direction's unset parts from the defaults
 * below. A scale-down stabilization window is never stored: unset, it is the controller's
 * `--horizontal-pod-autoscaler-downscale-stabilization` (300 s), `DOWNSCALE_STABILIZATION_SECONDS`.
 */
import type { HorizontalPodAutoscalerBehavior, HPAScalingRules, MetricSpec } from "./types.ts";

/** The metric of an HPA created without one (autoscaling.DefaultCPUUtilization). */
export const DEFAULT_HPA_METRIC: MetricSpec = { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } };

/** Scale up: no stabilization, the larger of 4 pods or 100 % per 15 s. */
export const DEFAULT_SCALE_UP: Readonly<HPAScalingRules> = {
  stabilizationWindowSeconds: 0,
  selectPolicy: "Max",
  policies: [{ type: "Pods", value: 4, periodSeconds: 15 }, { type: "Percent", value: 100, periodSeconds: 15 }],
};

/** Scale down: 100 % per 15 s; the stabilization window is left unset (see DOWNSCALE_STABILIZATION_SECONDS). */
export const DEFAULT_SCALE_DOWN: Readonly<HPAScalingRules> = {
  selectPolicy: "Max",
  policies: [{ type: "Percent", value: 100, periodSeconds: 15 }],
};

/** kube-controller-manager's default scale-down stabilization window, for rules that leave it unset. */
export const DOWNSCALE_STABILIZATION_SECONDS = 300;

/**
 * One direction's rules with every unset part taken from `defaults` (Kubernetes' copyHPAScalingRules):
 * a given `policies` list is kept as given, even empty (validation refuses that).
 */
export function scalingRulesWithDefaults(rules: HPAScalingRules | undefined, defaults: Readonly<HPAScalingRules>): HPAScalingRules {
  const out: HPAScalingRules = { ...rules };
  if (out.stabilizationWindowSeconds === undefined && defaults.stabilizationWindowSeconds !== undefined) out.stabilizationWindowSeconds = defaults.stabilizationWindowSeconds;
  out.selectPolicy ??= defaults.selectPolicy;
  out.policies = (out.policies ?? defaults.policies ?? []).map((p) => ({ ...p }));
  return out;
}

/** A behavior with both directions filled in, as the API stores a behavior the user gave. */
export function behaviorWithDefaults(b: HorizontalPodAutoscalerBehavior): HorizontalPodAutoscalerBehavior {
  return { ...b, scaleUp: scalingRulesWithDefaults(b.scaleUp, DEFAULT_SCALE_UP), scaleDown: scalingRulesWithDefaults(b.scaleDown, DEFAULT_SCALE_DOWN) };
}
