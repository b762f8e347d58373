// The package entry for Node: registers tsx's loader, then re-exports the TypeScript sources.
// (Deno and TypeScript tooling use mod.ts directly through the "deno"/"types" conditions.)
import { register } from "tsx/esm/api";

register();
const mod = await import("../mod.ts");
export const { Cluster, Api, NatsApiClient, KvStore, startNatsServer, parseManifests } = mod;
export default mod;
