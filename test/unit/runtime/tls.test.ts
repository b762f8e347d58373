import { describe, expect, it } from "vitest";
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { generateCa, generateServerCert, generateToken, tokenMatches, writeKubeconfig } from "../../../runtime/tls.ts";

describe("tls", () => {
  it("tls - the server certificate is signed by the CA and names the loopback hosts", async () => {
    const ca = await generateCa();
    const server = await generateServerCert(ca, { hosts: ["127.0.0.1", "localhost"] });
    const caCert = new X509Certificate(ca.certPem);
    const cert = new X509Certificate(server.certPem);
    expect(caCert.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(cert.checkHost("localhost")).toBe("localhost");
    expect(cert.checkHost("example.com")).toBeUndefined();
    expect(server.keyPem).toContain("BEGIN PRIVATE KEY");
    // A different CA does not verify it.
    const other = new X509Certificate((await generateCa()).certPem);
    expect(cert.verify(other.publicKey)).toBe(false);
  });

  it("tls - tokens are random and compared exactly", () => {
    const a = generateToken();
    expect(a).not.toBe(generateToken());
    expect(a.length).toBeGreaterThanOrEqual(40);
    expect(tokenMatches(a, a)).toBe(true);
    expect(tokenMatches(a + "x", a)).toBe(false);
    expect(tokenMatches("", a)).toBe(false);
    expect(tokenMatches(undefined, a)).toBe(false);
  });

  it("tls - writes a private kubeconfig carrying the CA data, server and token", async () => {
    const dir = await mkdtemp(join(tmpdir(), "berth-kubeconfig-"));
    const path = join(dir, "nested", "kubeconfig");
    const ca = await generateCa();
    await writeKubeconfig(path, { server: "https://127.0.0.1:6443", caPem: ca.certPem, token: "tok", clusterName: "berth" });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const cfg = parse(await readFile(path, "utf8"));
    expect(cfg["current-context"]).toBe("berth");
    expect(cfg.clusters[0].cluster.server).toBe("https://127.0.0.1:6443");
    expect(Buffer.from(cfg.clusters[0].cluster["certificate-authority-data"], "base64").toString()).toBe(ca.certPem);
    expect(cfg.users[0].user.token).toBe("tok");
    expect(cfg.contexts[0].context).toMatchObject({ cluster: "berth", user: cfg.users[0].name, namespace: "default" });
  });
});
