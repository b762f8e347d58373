// The package entry for Node: registers tsx's loader, then re-exports the TypeScript sources.
// (Deno and TypeScript tooling use mod.ts directly through the "deno"/"types" conditions.)
// An ES module cannot re-export a dynamic import's names wholesale, so every runtime export of
// mod.ts is named here; test/unit/package_entry.test.ts fails when the two lists differ.
import { register } from "tsx/esm/api";

register();
const mod = await import("../mod.ts");
export const {
  AlreadyExistsError,
  Api,
  ApiError,
  BadRequestError,
  Cluster,
  ConflictError,
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
  watchActors,
} = mod;
export default mod;
