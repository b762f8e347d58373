// The package entry for Node: the compiled dist/mod.js, or — in a checkout whose dist/ is missing
// or older than the sources — mod.ts through tsx's loader (bin/dist.js). Deno uses mod.ts directly
// through the "deno" condition; TypeScript reads dist/mod.d.ts.
// An ES module cannot re-export a dynamic import's names wholesale, so every runtime export of
// mod.ts is named here; test/unit/package_entry.test.ts fails when the two lists differ.
import { distIsFresh, useSources } from "./dist.js";

let mod;
if (distIsFresh()) {
  mod = await import("../dist/mod.js");
} else {
  await useSources();
  mod = await import("../mod.ts");
}
export const {
  AlreadyExistsError,
  Api,
  ApiError,
  BadRequestError,
  Cluster,
  ConflictError,
  ExpiredError,
  GoneError,
  InvalidError,
  KvStore,
  Observability,
  NatsApiClient,
  NotFoundError,
  NotSentError,
  applyOne,
  chaos,
  fromStatus,
  isApiError,
  isStatus,
  listActors,
  outcomeUnknown,
  parseManifests,
  readClusterInfo,
  startClusterComponents,
  startNatsServer,
  startRestApi,
  toStatus,
  waitFor,
  waitForPodReady,
  waitForPodsReady,
  waitForReplicationController,
  waitForSet,
  WaitTimeoutError,
  watchActors,
} = mod;
export default mod;
