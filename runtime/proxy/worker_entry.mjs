// Entry of a proxy worker process (runtime/proxy/worker_pool.ts). Plain JavaScript so it starts
// under any loader: it registers tsx (as bin/berth.js does) and then runs worker_main.ts, which
// tells the owner it is ready; nothing is sent to it before that.
import { register } from "tsx/esm/api";

register();
const { runWorker } = await import("./worker_main.ts");
runWorker();
