/**
 * kube-apiserver's DefaultIngressClass admission (plugin/pkg/admission/network/defaultingressclass)
 * as pure functions: an Ingress created without `spec.ingressClassName` and without the legacy
 * `kubernetes.io/ingress.class` annotation gets the default IngressClass, the one annotated
 * `ingressclass.kubernetes.io/is-default-class: "true"`; of several, the newest (then the first by
 * name), as kube has chosen since 1.28.
 */
import { DEFAULT_INGRESS_CLASS_ANNOTATION, LEGACY_INGRESS_CLASS_ANNOTATION, type Ingress, type IngressClass } from "./types.ts";

/** The default class among `classes`, or undefined when none is marked default. */
export function defaultIngressClass(classes: Iterable<IngressClass>): IngressClass | undefined {
  const defaults = [...classes].filter((c) => c.metadata.annotations?.[DEFAULT_INGRESS_CLASS_ANNOTATION] === "true");
  const created = (c: IngressClass) => Date.parse(c.metadata.creationTimestamp ?? "") || 0;
  defaults.sort((a, b) => created(b) - created(a) || (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  return defaults[0];
}

/** True when admission would give `ing` the default class: it names none, in the field or the legacy annotation. */
export function wantsDefaultIngressClass(ing: Ingress): boolean {
  return ing.spec.ingressClassName === undefined && ing.metadata.annotations?.[LEGACY_INGRESS_CLASS_ANNOTATION] === undefined;
}

/** `ing` as admission leaves it on create: with the default class's name when it wants one and there is one. */
export function admitIngress(ing: Ingress, classes: Iterable<IngressClass>): Ingress {
  if (!wantsDefaultIngressClass(ing)) return ing;
  const def = defaultIngressClass(classes);
  return def ? { ...ing, spec: { ...ing.spec, ingressClassName: def.metadata.name } } : ing;
}
