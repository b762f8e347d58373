/**
 * Berth's layering, checked by `npm test` (scripts/deps-check.sh → dependency-cruiser):
 *
 *   model/    object types, errors, the client interface, names and keys, selectors,
 *             quantities, the container runtime contract — imports nothing of ours, no packages;
 *   actors/   xstate machines and pure decisions — import only model/ and xstate;
 *   runtime/  the I/O, grouped by part — may import actors/ and model/, never bin/, bench/ or test/;
 *   and no file-level import cycle anywhere (the live page's browser code in ui/src included).
 *
 * See docs/architecture.md.
 */
module.exports = {
  forbidden: [
    {
      name: "model-imports-nothing",
      comment: "The model layer imports nothing of ours (and no package): it is what every other layer shares.",
      severity: "error",
      from: { path: "^model/" },
      to: { pathNot: "^model/", dependencyTypesNot: ["core"] },
    },
    {
      name: "model-no-io-builtins",
      comment: "The model layer does no I/O: no node: built-ins.",
      severity: "error",
      from: { path: "^model/" },
      to: { dependencyTypes: ["core"] },
    },
    {
      name: "actors-only-model-and-xstate",
      comment: "Actors reach the world only through injected logic: they import the model and xstate, never dockerode, dns2, NATS, node: modules or runtime/.",
      severity: "error",
      from: { path: "^actors/" },
      to: { pathNot: ["^actors/", "^model/", "(^|/)node_modules/xstate/"] },
    },
    {
      name: "runtime-not-up",
      comment: "runtime/ never imports the entry points, benchmarks or tests.",
      severity: "error",
      from: { path: "^(runtime|actors|model)/" },
      to: { path: "^(bin|bench|test|mod\\.ts)" },
    },
    {
      name: "no-circular",
      comment: "No file-level import cycle.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^dist/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    moduleSystems: ["es6"],
  },
};
