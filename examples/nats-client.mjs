// The NATS API from any program, with nothing of Berth's but the cluster's cluster.json
// (docs/nats-api.md): connect as the CLI's identity, create a pod, list, watch it, delete it.
//
//   node bin/berth.js up --runtime hollow &       # or any running cluster
//   node examples/nats-client.mjs                  # BERTH_HOME or ./.berth holds cluster.json
//
// Only @nats-io/transport-node is needed. npm test runs this file against a cluster
// (test/e2e/examples.test.ts).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";

const home = process.env.BERTH_HOME ?? ".berth";
const { natsUrl, natsUser: user, natsPassword: pass } = JSON.parse(readFileSync(join(home, "cluster.json"), "utf8"));

// Identity U reads replies only under _INBOX_U, so the client must use that inbox prefix.
const nc = await connect({ servers: natsUrl, user, pass, inboxPrefix: `_INBOX_${user}` });
const call = async (subject, body) => {
  const reply = (await nc.request(subject, JSON.stringify(body), { timeout: 10_000 })).json();
  if (reply.kind === "Status" && reply.status === "Failure") throw new Error(`${subject}: ${reply.code} ${reply.reason}: ${reply.message}`);
  return reply;
};

const name = `nats-example-${process.pid}`;
// A watch is opened on the caller's own subjects; its events arrive on berth.client.<user>.watch.<id>.
const watchId = `example-${process.pid}`; // 6-64 characters of [A-Za-z0-9_-]
const events = nc.subscribe(`berth.client.${user}.watch.${watchId}`);
await call(`berth.client.${user}.api.v1.pods.watch`, { watchId, fieldSelector: `metadata.name=${name}` });

const created = await call("berth.api.v1.pods.create", {
  object: { apiVersion: "v1", kind: "Pod", metadata: { name }, spec: { containers: [{ name: "c", image: "berth/busybox", command: ["sleep", "3600"] }] } },
});
console.log(`created pod ${created.metadata.name} (uid ${created.metadata.uid})`);

const list = await call("berth.api.v1.pods.list", { labelSelector: "" });
console.log(`pods: ${list.items.map((p) => p.metadata.name).join(", ")}`);

for await (const m of events) {
  const ev = m.json();
  if (ev.type === "ADDED") {
    console.log(`watch: ${ev.type} pod/${ev.object.metadata.name}`);
    break;
  }
}

await call("berth.api.v1.pods.delete", { name, gracePeriodSeconds: 0 });
console.log(`deleted pod ${name}`);
await call(`berth.client.${user}.api.v1.watches.stop`, { watchId });
await nc.close();
