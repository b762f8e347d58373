// Entry of a DNS worker process (runtime/dns/dns_workers.ts). Plain JavaScript so it starts
// under any loader: it registers tsx (as bin/berth.js does) and then runs dns_worker_main.ts,
// which tells the owner it is ready; nothing is sent to it before that.
import { register } from "tsx/esm/api";

register();
const { runDnsWorker } = await import("./dns_worker_main.ts");
runDnsWorker();
