/**
 * A `Cluster` in a process of its own, for tests that kill it: starts the cluster (private
 * nats-server under `<home>/nats`), writes one object so JetStream has files on disk, prints
 * `ready`, then waits until it is killed. Run: `node --import tsx test/helpers/cluster_child.ts HOME`.
 */
import { Cluster } from "../../runtime/cluster.ts";

const home = process.argv[2];
if (!home) throw new Error("usage: cluster_child.ts HOME");
const cluster = await Cluster.start({ home });
await cluster.api.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "written" } });
process.stdout.write(`ready ${process.pid}\n`);
setInterval(() => {}, 1 << 30);
