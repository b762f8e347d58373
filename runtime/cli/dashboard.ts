/**
 * `berth dashboard`: prints (and with --open, opens) a one-time sign-in link for the live page
 * the API server serves under /ui/ — as `minikube dashboard --url` or Jupyter do.
 *
 * It reads the cluster's kubeconfig (`<home>/kubeconfig`, written by `berth up` and by
 * `berth control-plane --rest-port`), asks the API server for a single-use code with the bearer
 * token, and prints the link. The link works once, within a minute; the page also accepts the
 * token itself.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { createRequire } from "node:module";
import { UsageError, type Command, type FlagSpec } from "./args.ts";
import { homeDir } from "./connect.ts";

type Out = (s: string) => void;

/** Where and how to reach the REST API, from a kubeconfig. */
export interface ApiAccess {
  server: string;
  token: string;
  caPem?: string;
}

/** Reads the current context's server, CA and token from kubeconfig YAML. */
export function accessFromKubeconfig(text: string): ApiAccess {
  // yaml is loaded here, not at start-up: the other commands never need it.
  const { parse } = createRequire(import.meta.url)("yaml") as typeof import("yaml");
  const doc = parse(text) as {
    "current-context"?: string;
    contexts?: { name: string; context: { cluster: string; user: string } }[];
    clusters?: { name: string; cluster: { server: string; "certificate-authority-data"?: string } }[];
    users?: { name: string; user: { token?: string } }[];
  };
  const ctx = doc.contexts?.find((c) => c.name === doc["current-context"]) ?? doc.contexts?.[0];
  const cluster = doc.clusters?.find((c) => c.name === ctx?.context.cluster) ?? doc.clusters?.[0];
  const user = doc.users?.find((u) => u.name === ctx?.context.user) ?? doc.users?.[0];
  if (!cluster?.cluster.server || !user?.user.token) throw new Error("the kubeconfig names no server with a bearer token");
  const ca = cluster.cluster["certificate-authority-data"];
  return { server: cluster.cluster.server.replace(/\/+$/, ""), token: user.user.token, caPem: ca ? Buffer.from(ca, "base64").toString("utf8") : undefined };
}

/** Asks the API server for a one-time sign-in link. */
export function requestLoginLink(access: ApiAccess): Promise<{ url: string; expiresAt: string }> {
  const target = new URL("/ui/login-codes", access.server);
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      { method: "POST", headers: { Authorization: `Bearer ${access.token}`, "Content-Length": 0 }, ...(access.caPem ? { ca: access.caPem } : {}), timeout: 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          if (res.statusCode !== 201) return reject(new Error(`the API server answered ${res.statusCode}: ${text.slice(0, 200)}`));
          const body = JSON.parse(text) as { path: string; expiresAt: string };
          resolve({ url: `${access.server}${body.path}`, expiresAt: body.expiresAt });
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("the API server did not answer within 10 s")));
    req.on("error", (e) => reject(new Error(`cannot reach the API server at ${access.server}: ${e.message}`)));
    req.end();
  });
}

export function dashboardCommands(conn: FlagSpec[], out: Out, err: Out): Record<string, Command> {
  return {
    dashboard: {
      summary: "print (or --open) a one-time link to the live page of the cluster",
      usage: "berth dashboard [--home DIR | --kubeconfig FILE] [--open]",
      flags: [
        conn.find((f) => f.name === "home")!,
        { name: "kubeconfig", type: "string", help: "kubeconfig of the cluster (default <home>/kubeconfig)" },
        { name: "open", type: "boolean", help: "also open the link in the desktop's browser (xdg-open)" },
        conn.find((f) => f.name === "help")!,
      ],
      async run(p) {
        const path = typeof p.flags.kubeconfig === "string" ? p.flags.kubeconfig : join(homeDir(p.flags.home), "kubeconfig");
        if (!existsSync(path)) {
          throw new UsageError(`no kubeconfig at ${path}: start a cluster with \`berth up\` (or \`berth control-plane --rest-port N --home DIR\`), or pass --home / --kubeconfig`);
        }
        const { url, expiresAt } = await requestLoginLink(accessFromKubeconfig(readFileSync(path, "utf8")));
        out(`${url}\n`);
        err(`berth dashboard: the link signs in once, until ${expiresAt}; afterwards sign in with the cluster token. The server's certificate is signed by the cluster CA (pki/ca.crt in the home).\n`);
        if (p.flags.open) {
          const opener = process.platform === "darwin" ? "open" : "xdg-open";
          await new Promise<void>((resolve) => {
            const child = spawn(opener, [url], { stdio: "ignore", detached: true });
            child.on("error", (e) => {
              err(`berth dashboard: could not run ${opener} (${e.message}); open the link above yourself\n`);
              resolve();
            });
            child.on("spawn", () => {
              child.unref();
              resolve();
            });
          });
        }
      },
    },
  };
}
