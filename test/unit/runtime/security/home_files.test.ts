import { describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { placeOnce, readOrCreate, waitForFile } from "../../../../runtime/security/home_files.ts";
import { caFor } from "../../../../runtime/cluster_components.ts";
import { loadOrCreateEncryptionConfig } from "../../../../runtime/security/encryption.ts";
import { generateCa } from "../../../../runtime/tls.ts";

const home = () => mkdtempSync(join(tmpdir(), "berth-home-"));

describe("files a home makes on first use", () => {
  it("home files - placeOnce puts a new file in place, and a later writer gets the first one's content", () => {
    const h = home();
    const path = join(h, "token");
    expect(placeOnce(path, "first\n", 0o600)).toBe("first\n");
    // Another process that checked before the first placed its file, and links second.
    expect(placeOnce(path, "second\n", 0o600)).toBe("first\n");
    expect(readFileSync(path, "utf8")).toBe("first\n");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    // No temporary file is left behind, by the winner or the loser.
    expect(readdirSync(h)).toEqual(["token"]);
  });

  it("home files - readOrCreate makes a missing file once and reads an existing one", () => {
    const h = home();
    let made = 0;
    const make = () => `v${++made}`;
    expect(readOrCreate(join(h, "id"), make)).toBe("v1");
    expect(readOrCreate(join(h, "id"), make)).toBe("v1");
    expect(made).toBe(1);
  });

  it("home files - an encryption configuration made by another process first is the one used", () => {
    const h = home();
    const theirs = loadOrCreateEncryptionConfig(h);
    const ours = loadOrCreateEncryptionConfig(h);
    expect(ours).toEqual(theirs);
    expect(readdirSync(h)).toEqual(["encryption-config.yaml"]);
  });

  it("home files - waitForFile returns the content once another process writes it, undefined at the deadline", async () => {
    const h = home();
    const path = join(h, "later");
    setTimeout(() => writeFileSync(path, "here"), 100);
    expect(await waitForFile(path, 5_000)).toBe("here");
    expect(await waitForFile(join(h, "never"), 120)).toBeUndefined();
  });

  it("home files - a CA whose key another process placed first: its certificate is awaited and used", async () => {
    const h = home();
    const dir = join(h, "pki");
    mkdirSync(dir, { recursive: true });
    const winner = await generateCa({ commonName: "berth-ca" });
    // The winner has linked its key and is about to link its certificate.
    writeFileSync(join(dir, "ca.key"), winner.keyPem);
    setTimeout(() => writeFileSync(join(dir, "ca.crt"), winner.certPem), 150);
    expect(await caFor(h)).toEqual({ certPem: winner.certPem, keyPem: winner.keyPem });
  });

  it("home files - caFor makes one CA, keeps it, and refuses a certificate without its key", async () => {
    const h = home();
    const ca = await caFor(h);
    expect(await caFor(h)).toEqual(ca);
    expect(readdirSync(join(h, "pki")).sort()).toEqual(["ca.crt", "ca.key"]);
    const lone = home();
    mkdirSync(join(lone, "pki"));
    writeFileSync(join(lone, "pki", "ca.crt"), ca.certPem);
    await expect(caFor(lone)).rejects.toThrow(/ca\.crt exists without .*ca\.key/);
  });
});
