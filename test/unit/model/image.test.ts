import { describe, expect, it } from "vitest";
import {
  credentialsFor,
  defaultPullPolicy,
  DockerConfigError,
  keyMatchesImage,
  parseDockerConfig,
  parseImageRef,
  shouldPull,
  withDefaultTag,
} from "../../../model/image.ts";

const b64 = (s: string) => btoa(s);

describe("image references", () => {
  it("splits registry host, repository, tag and digest as Docker does", () => {
    expect(parseImageRef("busybox")).toEqual({ registry: "docker.io", repository: "library/busybox" });
    expect(parseImageRef("berth/busybox:latest")).toEqual({ registry: "docker.io", repository: "berth/busybox", tag: "latest" });
    expect(parseImageRef("127.0.0.1:5000/team/app:v2")).toEqual({ registry: "127.0.0.1:5000", repository: "team/app", tag: "v2" });
    expect(parseImageRef("localhost/app")).toEqual({ registry: "localhost", repository: "app" });
    expect(parseImageRef("reg.example.com/app@sha256:abc")).toEqual({ registry: "reg.example.com", repository: "app", digest: "sha256:abc" });
    expect(parseImageRef("reg:5000/app:1@sha256:abc")).toEqual({ registry: "reg:5000", repository: "app", tag: "1", digest: "sha256:abc" });
  });

  it("adds :latest only when neither tag nor digest is given (Docker would pull every tag)", () => {
    expect(withDefaultTag("127.0.0.1:5000/app")).toBe("127.0.0.1:5000/app:latest");
    expect(withDefaultTag("app:v1")).toBe("app:v1");
    expect(withDefaultTag("app@sha256:abc")).toBe("app@sha256:abc");
  });
});

describe("pull policy", () => {
  it("defaults as Kubernetes: :latest or no tag → Always, another tag or a digest → IfNotPresent", () => {
    expect(defaultPullPolicy("busybox")).toBe("Always");
    expect(defaultPullPolicy("busybox:latest")).toBe("Always");
    expect(defaultPullPolicy("127.0.0.1:5000/app")).toBe("Always");
    expect(defaultPullPolicy("127.0.0.1:5000/app:v1")).toBe("IfNotPresent");
    expect(defaultPullPolicy("app@sha256:abc")).toBe("IfNotPresent");
    expect(defaultPullPolicy("app:latest@sha256:abc")).toBe("Always");
  });

  it("decides pull / present / neverPull as the kubelet", () => {
    expect(shouldPull("Always", true)).toBe("pull");
    expect(shouldPull("IfNotPresent", true)).toBe("present");
    expect(shouldPull("IfNotPresent", false)).toBe("pull");
    expect(shouldPull("Never", true)).toBe("present");
    expect(shouldPull("Never", false)).toBe("neverPull");
  });
});

describe("registry credentials from secrets", () => {
  it("reads .dockerconfigjson with username/password, and `auth` wins when both are given", () => {
    const cfg = { auths: { "127.0.0.1:5000": { username: "u", password: "p" }, "https://reg.example.com/v1/": { username: "x", password: "y", auth: b64("alice:s3:cret") } } };
    const creds = parseDockerConfig("kubernetes.io/dockerconfigjson", { ".dockerconfigjson": b64(JSON.stringify(cfg)) });
    expect(creds).toEqual([
      { key: "127.0.0.1:5000", username: "u", password: "p", serveraddress: "127.0.0.1:5000" },
      { key: "https://reg.example.com/v1/", username: "alice", password: "s3:cret", serveraddress: "reg.example.com" },
    ]);
  });

  it("reads the legacy .dockercfg (the auths map itself)", () => {
    const cfg = { "https://index.docker.io/v1/": { auth: b64("bob:pw"), email: "b@x" } };
    expect(parseDockerConfig("kubernetes.io/dockercfg", { ".dockercfg": b64(JSON.stringify(cfg)) })).toEqual([
      { key: "https://index.docker.io/v1/", username: "bob", password: "pw", serveraddress: "docker.io" },
    ]);
  });

  it("says what and where for bad input", () => {
    expect(() => parseDockerConfig("Opaque", {})).toThrow(DockerConfigError);
    expect(() => parseDockerConfig("kubernetes.io/dockerconfigjson", {})).toThrow(/data\[\.dockerconfigjson\]: missing/);
    expect(() => parseDockerConfig("kubernetes.io/dockerconfigjson", { ".dockerconfigjson": "%%%" })).toThrow(/not valid base64/);
    expect(() => parseDockerConfig("kubernetes.io/dockerconfigjson", { ".dockerconfigjson": b64("{") })).toThrow(/not valid JSON/);
    expect(() => parseDockerConfig("kubernetes.io/dockerconfigjson", { ".dockerconfigjson": b64("{}") })).toThrow(/\.auths: must be an object/);
    expect(() => parseDockerConfig("kubernetes.io/dockercfg", { ".dockercfg": b64(JSON.stringify({ h: { auth: b64("nocolon") } })) })).toThrow(/\[h\]\.auth: must decode to username:password/);
  });
});

describe("credential matching (the kubelet's keyring)", () => {
  it("matches host and port exactly, with or without scheme and path", () => {
    expect(keyMatchesImage("127.0.0.1:5000", "127.0.0.1:5000/app:v1")).toBe(true);
    expect(keyMatchesImage("http://127.0.0.1:5000/v2/", "127.0.0.1:5000/app:v1")).toBe(true);
    expect(keyMatchesImage("https://127.0.0.1:5000/v1/team", "127.0.0.1:5000/team/app:v1")).toBe(true);
    expect(keyMatchesImage("https://127.0.0.1:5000/v1/team", "127.0.0.1:5000/other/app:v1")).toBe(false);
    expect(keyMatchesImage("http://127.0.0.1:5000", "127.0.0.1:5000/app")).toBe(true);
    expect(keyMatchesImage("127.0.0.1:5001", "127.0.0.1:5000/app")).toBe(false);
    expect(keyMatchesImage("127.0.0.1", "127.0.0.1:5000/app")).toBe(false);
    expect(keyMatchesImage("reg.example.com/team", "reg.example.com/team/app:1")).toBe(true);
    expect(keyMatchesImage("reg.example.com/team", "reg.example.com/teamx/app:1")).toBe(false);
  });

  it("globs a host label with * and maps Docker Hub's legacy key to docker.io images", () => {
    expect(keyMatchesImage("*.example.com", "reg.example.com/app")).toBe(true);
    expect(keyMatchesImage("*.example.com", "a.b.example.com/app")).toBe(false);
    expect(keyMatchesImage("https://index.docker.io/v1/", "busybox")).toBe(true);
    expect(keyMatchesImage("https://index.docker.io/v1/", "127.0.0.1:5000/busybox")).toBe(false);
  });

  it("orders matching credentials most specific first and drops the rest", () => {
    const c = (key: string) => ({ key, username: key, password: "", serveraddress: "" });
    const got = credentialsFor("reg.example.com/team/app", [c("reg.example.com"), c("other.com"), c("reg.example.com/team")]);
    expect(got.map((x) => x.key)).toEqual(["reg.example.com/team", "reg.example.com"]);
  });
});
