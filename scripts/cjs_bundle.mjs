// esbuild options of the read verbs' one-file CommonJS bundle (dist/cli/main.cjs, entry
// runtime/cli/read_main.ts), which bin/berth.js runs for `get` and `describe` with V8's code
// cache (bin/dist.js runCjsBundle). Shared by the
// build (scripts/build.mjs) and the start-up test (test/unit/runtime/cli/startup_imports.test.ts).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

/**
 * Node modules that Node itself has not loaded when a script starts, and that a `get` needs late
 * or never: the bundle requires them on first use of one of their exports rather than when it
 * loads (`node:child_process` alone took 5–15 ms of every `berth get`, for `berth dashboard`;
 * `node:net` 5–8 ms, which the NATS client needs only for a server given by host name).
 */
const LAZY_BUILTINS = ["child_process", "crypto", "dgram", "dns", "http", "http2", "https", "net", "os", "readline", "tls", "worker_threads", "zlib"];
const LAZY = new RegExp(`^(node:)?(${LAZY_BUILTINS.join("|")})$`);

/**
 * Packages bundled but loaded on first use for the same reason: the NATS client loads its NKey
 * signer (and tweetnacl's tables) when it loads, and only NKey or JWT authentication uses it.
 */
const LAZY_PACKAGES = ["@nats-io/nkeys"];
const LAZY_PACKAGE = new RegExp(`^(${LAZY_PACKAGES.map((p) => p.replace(/[/.]/g, "\\$&")).join("|")})$`);

/** A module whose exports are getters that require `specifier` on first use. */
function lazyModule(specifier, names, esModule) {
  return `let m;\nconst load = () => (m ??= require(${JSON.stringify(specifier)}));\n${esModule ? 'Object.defineProperty(exports, "__esModule", { value: true });\n' : ""}for (const k of ${JSON.stringify(names)}) Object.defineProperty(exports, k, { enumerable: true, get: () => load()[k] });\n`;
}

/** Each import of a LAZY_PACKAGES package gets an object whose getters require it on first use. */
const lazyPackages = {
  name: "lazy-packages",
  setup(build) {
    build.onResolve({ filter: LAZY_PACKAGE }, (a) => (a.namespace === "lazy-package" ? undefined : { path: a.path, namespace: "lazy-package", pluginData: { resolveDir: a.resolveDir } }));
    build.onLoad({ filter: /.*/, namespace: "lazy-package" }, (a) => {
      const real = createRequire(join(a.pluginData.resolveDir, "x.js"))(a.path);
      return { loader: "js", resolveDir: a.pluginData.resolveDir, contents: lazyModule(a.path, Object.keys(real).filter((k) => k !== "default"), real.__esModule === true) };
    });
  },
};

/**
 * The NATS client packages the read verbs import (through runtime/nats/connection.ts and
 * runtime/api/nats_client.ts) resolve to runtime/nats/lite.ts instead: a small client with the
 * same names for what one request/reply command uses, so the bundle holds no copy of the full
 * client (310 KB) to read and restore at every `berth get`. The other commands keep the full one.
 * So does connection.ts's transport module (its `connect` is lite's `connect` there).
 */
const NATS_PACKAGES = /^(@nats-io\/(nats-core|transport-node)|\.\/coalescing_transport\.(ts|js))$/;
function liteNats(entry) {
  const lite = entry.replace(/runtime\/cli\/read_main\.(ts|js)$/, "runtime/nats/lite.$1");
  if (lite === entry) throw new Error(`cjs bundle: cannot place runtime/nats/lite beside ${entry}`);
  return {
    name: "lite-nats",
    setup(build) {
      build.onResolve({ filter: NATS_PACKAGES }, () => ({ path: lite }));
    },
  };
}

/** Each import of a LAZY_BUILTINS module gets an object whose getters require it on first use. */
const lazyBuiltins = {
  name: "lazy-builtins",
  setup(build) {
    build.onResolve({ filter: LAZY }, (a) => (a.namespace === "lazy-builtin" ? { path: a.path, external: true } : { path: a.path.replace(/^node:/, ""), namespace: "lazy-builtin" }));
    build.onLoad({ filter: /.*/, namespace: "lazy-builtin" }, (a) => {
      const names = Object.keys(createRequire(import.meta.url)(`node:${a.path}`)).filter((k) => k !== "default");
      return { loader: "js", contents: lazyModule(`node:${a.path}`, names, false) };
    });
  },
};

/**
 * Our code and the NATS client are inside (one file to read and compile); the other packages stay
 * external, loaded from node_modules when a command needs them. `import.meta.url` is the bundle's
 * own URL, so paths relative to it resolve as from the ES chunks in the same directory. Dynamic
 * `import()` becomes `require()`: a vm script restored from V8's code cache loses its dynamic
 * import callback in Node 20 ("A dynamic import callback was not specified"), and the callback
 * that would serve it is experimental there and warns on stderr.
 */
export function cjsBundleOptions(root, entry, outfile) {
  const deps = Object.keys(JSON.parse(readFileSync(join(root, "package.json"), "utf8")).dependencies);
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: "cjs",
    platform: "node",
    target: "node20",
    supported: { "dynamic-import": false },
    external: deps.filter((d) => !d.startsWith("@nats-io/")),
    define: { "import.meta.url": "__berthImportMetaUrl", "import.meta.main": "false" },
    banner: { js: 'var __berthImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
    plugins: [liteNats(entry), lazyBuiltins, lazyPackages],
    logLevel: "error",
  };
}
