/**
 * Slow-header (slowloris) clients against the REST server, as `berth up` serves it (HTTPS, real
 * store): C connections finish their TLS handshake, send a request line and then one header
 * line every few seconds, never ending the headers. Prints how many were refused by the
 * connection caps, how long the held ones lived (the header timeout must close them), and how
 * long an ordinary GET from another address takes meanwhile.
 *
 *   npx tsx bench/slow_headers.ts [--connections 3000] [--addresses 1] [--headers-timeout-ms 30000]
 *                                 [--per-address 512] [--total 4096]
 *
 * Client addresses are 127.0.0.10, .11, …: each is a different client for the per-address cap.
 */
import { connect as tcpConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { request } from "node:https";
import { cpus } from "node:os";
import { Api } from "../runtime/api/api.ts";
import { startNatsServer } from "../runtime/nats/server.ts";
import { connectNats } from "../runtime/nats/connection.ts";
import { KvStore } from "../runtime/store/kv_store.ts";
import { DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS_PER_ADDRESS, startHttpApi } from "../runtime/http/server.ts";
import { generateCa, generateServerCert, generateToken } from "../runtime/tls.ts";
import { numArg } from "./args.ts";

const connections = numArg("connections", 3000);
const addresses = numArg("addresses", 1);
const headersTimeoutMs = numArg("headers-timeout-ms", DEFAULT_HEADERS_TIMEOUT_MS);
const perAddress = numArg("per-address", DEFAULT_MAX_CONNECTIONS_PER_ADDRESS);
const total = numArg("total", DEFAULT_MAX_CONNECTIONS);

interface Conn {
  opened: number;
  handshaken?: number;
  closed?: number;
}

async function main() {
  const nats = await startNatsServer();
  const nc = await connectNats({ servers: nats.url, name: "berth-bench-slow-headers" });
  const api = await Api.open(await KvStore.open(nc));
  const ca = await generateCa();
  const cert = await generateServerCert(ca, { hosts: ["127.0.0.1"] });
  const token = generateToken();
  const http = await startHttpApi({
    api,
    token,
    tls: { cert: cert.certPem, key: cert.keyPem },
    headersTimeoutMs,
    maxConnectionsPerAddress: perAddress,
    maxConnections: total,
    log: () => {},
  });

  const conns: Conn[] = [];
  const open = (i: number) =>
    new Promise<void>((resolve) => {
      const c: Conn = { opened: Date.now() };
      conns.push(c);
      const tcp = tcpConnect({ host: "127.0.0.1", port: http.port, localAddress: `127.0.0.${10 + (i % addresses)}` });
      const tls = tlsConnect({ socket: tcp, ca: ca.certPem, host: "127.0.0.1" });
      let trickle: ReturnType<typeof setInterval> | undefined;
      const done = () => {
        if (c.closed) return;
        c.closed = Date.now();
        clearInterval(trickle);
        tcp.destroy();
        resolve();
      };
      // Read what comes: a paused socket would notice the server's FIN only at its next write.
      tls.on("data", () => {});
      tls.on("end", done);
      tls.on("error", done);
      tcp.on("error", done);
      tls.on("close", done);
      tcp.on("close", done);
      tls.on("secureConnect", () => {
        c.handshaken = Date.now();
        tls.write("GET /api/v1/namespaces HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        trickle = setInterval(() => tls.write(`X-Slow-${Date.now()}: 1\r\n`), 5_000);
        resolve();
      });
    });

  const t0 = Date.now();
  // In batches, so the listen backlog is not what refuses them.
  for (let i = 0; i < connections; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, connections - i) }, (_, j) => open(i + j)));
  }
  const allOpened = Date.now();
  const refused = conns.filter((c) => !c.handshaken).length;
  const held = conns.length - refused;

  const get = () =>
    new Promise<number>((resolve, reject) => {
      const start = performance.now();
      const req = request(`${http.url}/api/v1/namespaces`, { ca: ca.certPem, headers: { authorization: `Bearer ${token}` }, agent: false, localAddress: "127.0.0.250" }, (res) => {
        res.resume();
        res.on("end", () => (res.statusCode === 200 ? resolve(performance.now() - start) : reject(new Error(`GET answered ${res.statusCode}`))));
      });
      req.on("error", reject);
      req.end();
    });
  const gets: number[] = [];
  for (let i = 0; i < 5; i++) gets.push(await get());
  gets.sort((a, b) => a - b);
  const heldDuringGets = http.connections();

  while (conns.some((c) => !c.closed)) await new Promise((r) => setTimeout(r, 100));
  const lifetimes = conns.filter((c) => c.handshaken).map((c) => (c.closed! - c.handshaken!) / 1000);
  const longest = lifetimes.length ? Math.max(...lifetimes) : 0;

  console.log(`command: npx tsx bench/slow_headers.ts ${process.argv.slice(2).join(" ")}`.trim());
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, node ${process.version}`);
  console.log(`server: headers timeout ${headersTimeoutMs} ms, caps ${perAddress} per address / ${total} total`);
  console.log(`${connections} slow-header TLS connections from ${addresses} address(es), opened in ${((allOpened - t0) / 1000).toFixed(1)} s:`);
  console.log(`  refused by the caps: ${refused}; held: ${held} (server counted ${heldDuringGets} open during the GETs, those included)`);
  console.log(`  held ones closed by the server after ${Math.min(...lifetimes).toFixed(1)}–${longest.toFixed(1)} s (all gone ${((Date.now() - allOpened) / 1000).toFixed(1)} s after the last was opened)`);
  console.log(`  ordinary GET from another address meanwhile: median ${gets[2].toFixed(0)} ms, max ${gets[4].toFixed(0)} ms (5 requests, new connection each)`);

  await http.close();
  api.close();
  await nc.close();
  await nats.stop();
}

await main();
