/**
 * Deeply nested inputs for the fuzz tier, JSON and YAML, at a few depths past the bound
 * (MAX_NESTING_DEPTH, 100): bare, inside a manifest's labels, behind YAML anchors and tags, as
 * block indentation and as `- - -` sequences. Every input edge must refuse each of them with a
 * 400 that says "nests deeper" — before its parser runs — and keep serving.
 */
const DEPTHS = [101, 1_000, 20_000];

export interface DeepInput {
  name: string;
  text: string;
}

const jsonArrays = (d: number) => "[".repeat(d) + "]".repeat(d);
const jsonObjects = (d: number) => '{"a":'.repeat(d) + "1" + "}".repeat(d);
const jsonMixed = (d: number) => Array.from({ length: d }, (_, i) => (i % 2 ? '{"k":' : "[")).join("") + "0" + Array.from({ length: d }, (_, i) => (i % 2 ? "}" : "]")).reverse().join("");

/** JSON documents: a bare nest, and a Pod whose labels hold one. */
export function deepJson(): DeepInput[] {
  return DEPTHS.flatMap((d) => [
    { name: `json arrays ${d}`, text: jsonArrays(d) },
    { name: `json objects ${d}`, text: jsonObjects(d) },
    { name: `json pod labels ${d}`, text: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"deep","labels":${jsonMixed(d)}},"spec":{"containers":[{"name":"c","image":"i"}]}}` },
  ]);
}

/** YAML documents: flow, block indentation (capped at 2,000: n levels take n²/2 bytes), dashes, anchors and tags. */
export function deepYaml(): DeepInput[] {
  return DEPTHS.flatMap((d) => [
    { name: `yaml flow ${d}`, text: `apiVersion: v1\nkind: Pod\nmetadata:\n  name: deep\n  labels: ${jsonMixed(d)}\n` },
    { name: `yaml dashes ${d}`, text: "- ".repeat(d) + "x\n" },
    { name: `yaml anchor+tag ${d}`, text: `a: &x !!seq ${"[".repeat(d)}${"]".repeat(d)}\nb: *x\n` },
    { name: `yaml block ${Math.min(d, 2_000)}`, text: Array.from({ length: Math.min(d, 2_000) }, (_, i) => " ".repeat(i) + "k:").join("\n") + " 1\n" },
  ]);
}
