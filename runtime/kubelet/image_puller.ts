/**
 * The kubelet's image manager: makes a container's image present as its `imagePullPolicy` says,
 * with the kubelet's Events, and pulls each image at most once at a time per node.
 *
 *   ensure(pod, container)
 *     ├─ policy (model/image.ts shouldPull) ── present ──▶ "already present on machine"
 *     │                                     ── neverPull ─▶ ErrImageNeverPull
 *     └─ pull ─▶ credentials (ImageCredentialProvider → keys matching the image)
 *                 └─ one pull per (image, credentials) in flight; later askers wait on it
 *                    ──▶ Pulling / Pulled (duration, size) or Failed (the registry's message)
 *
 * Repositories the node ships with (`preloaded`, by default `berth/busybox`, the base and infra
 * image, any tag) are never pulled: they come from no registry (`npm run setup` imports them),
 * so `Always` — the default for `:latest` — is treated as `IfNotPresent` for them. That is
 * Berth's one departure from the kubelet here; Kubernetes' own answer for loaded images (kind,
 * minikube) is to tell users to set `imagePullPolicy: IfNotPresent`.
 */
import { type ContainerRuntime, ImagePullError, RuntimeUnavailableError } from "../../model/container_runtime.ts";
import {
  credentialsFor,
  defaultPullPolicy,
  parseImageRef,
  type PullPolicy,
  type RegistryCredential,
  shouldPull,
  withDefaultTag,
} from "../../model/image.ts";
import type { Container, Pod } from "../../model/types.ts";
import type { PodEvent } from "../../actors/pod.ts";
import { INFRA_IMAGE } from "../containers/docker.ts";
import { goDuration } from "./go_duration.ts";

/**
 * The registry credentials a pod may use (the kubelet's keyring for the pod: its
 * `imagePullSecrets`, plus whatever the node has). The default gives none: anonymous pulls.
 */
export type ImageCredentialProvider = (pod: Pod) => Promise<RegistryCredential[]>;

export const noCredentials: ImageCredentialProvider = () => Promise.resolve([]);

/** How making an image present went. `imageID` is the status field's value. */
export type ImageOutcome =
  | { type: "ready"; imageID: string; events: PodEvent[] }
  | { type: "neverPull"; message: string; events: PodEvent[] }
  | { type: "failed"; message: string; events: PodEvent[] };

export interface ImagePullerOptions {
  credentials?: ImageCredentialProvider;
  /** Repositories never pulled, any tag (see the file comment). Default: the infra image's. */
  preloaded?: string[];
  /** Milliseconds clock, for the durations in the Pulled event. */
  now?: () => number;
}

interface PullResult {
  ok: boolean;
  message?: string;
  /** How long the pull itself took, ms. */
  pullMs: number;
}

/** The Pulled message for a pull, as the kubelet writes it. */
export function pulledMessage(image: string, pullMs: number, totalMs: number, size: number): string {
  return `Successfully pulled image "${image}" in ${goDuration(pullMs)} (${goDuration(totalMs)} including waiting). Image size: ${size} bytes.`;
}

/** The imageID of a local image as Kubernetes on Docker shows it: the digest it was pulled by, or the image ID. */
export function imageIdOf(runtimeKind: string, image: string, info: { id: string; repoDigests: string[] }): string {
  const ref = parseImageRef(image);
  const digest = info.repoDigests.find((d) => {
    const r = parseImageRef(d);
    return r.registry === ref.registry && r.repository === ref.repository;
  }) ?? info.repoDigests[0];
  if (runtimeKind !== "docker") return `${runtimeKind}://${info.id}`;
  return digest ? `docker-pullable://${digest}` : `docker://${info.id}`;
}

/** `registry/repository`, without tag or digest. */
function repoOf(image: string): string {
  const r = parseImageRef(image);
  return `${r.registry}/${r.repository}`;
}

export class ImagePuller {
  private readonly inflight = new Map<string, Promise<PullResult>>();
  private readonly preloaded: Set<string>;
  private readonly credentials: ImageCredentialProvider;
  private readonly now: () => number;

  constructor(private readonly rt: ContainerRuntime, opts: ImagePullerOptions = {}) {
    this.credentials = opts.credentials ?? noCredentials;
    this.preloaded = new Set((opts.preloaded ?? [INFRA_IMAGE]).map(repoOf));
    this.now = opts.now ?? Date.now;
  }

  /** Pulls in flight on this node (for tests). */
  get pulling(): number {
    return this.inflight.size;
  }

  /**
   * Makes the container's image present per its pull policy. Throws only what the engine
   * throws when it does not answer (`RuntimeUnavailableError`): the step is retried then.
   */
  async ensure(pod: Pod, c: Container): Promise<ImageOutcome> {
    const image = c.image;
    let policy: PullPolicy = c.imagePullPolicy ?? defaultPullPolicy(image);
    if (policy === "Always" && this.preloaded.has(repoOf(image))) policy = "IfNotPresent";
    const present = policy === "Always" ? false : (await this.rt.inspectImage(image)) !== undefined;
    const decision = shouldPull(policy, present);
    if (decision === "neverPull") {
      const message = `Container image "${image}" is not present with pull policy of Never`;
      return {
        type: "neverPull",
        message,
        events: [
          { type: "Warning", reason: "ErrImageNeverPull", message },
          { type: "Warning", reason: "Failed", message: "Error: ErrImageNeverPull" },
        ],
      };
    }
    if (decision === "present") {
      return {
        type: "ready",
        imageID: await this.imageID(image),
        events: [{ type: "Normal", reason: "Pulled", message: `Container image "${image}" already present on machine` }],
      };
    }
    const events: PodEvent[] = [{ type: "Normal", reason: "Pulling", message: `Pulling image "${image}"` }];
    const asked = this.now();
    const creds = credentialsFor(image, await this.credentials(pod));
    const result = await this.pullOnce(image, creds);
    if (!result.ok) {
      events.push({ type: "Warning", reason: "Failed", message: `Failed to pull image "${image}": ${result.message}` });
      events.push({ type: "Warning", reason: "Failed", message: "Error: ErrImagePull" });
      return { type: "failed", message: result.message ?? "pull failed", events };
    }
    const info = await this.rt.inspectImage(image);
    if (!info) {
      // Pulled, then removed before we looked (an image GC, a person): try again next sync.
      const message = `image "${image}" vanished right after its pull`;
      events.push({ type: "Warning", reason: "Failed", message: `Failed to pull image "${image}": ${message}` });
      return { type: "failed", message, events };
    }
    events.push({ type: "Normal", reason: "Pulled", message: pulledMessage(image, result.pullMs, this.now() - asked, info.size) });
    return { type: "ready", imageID: imageIdOf(this.rt.kind, image, info), events };
  }

  private async imageID(image: string): Promise<string> {
    const info = await this.rt.inspectImage(image);
    return info ? imageIdOf(this.rt.kind, image, info) : "";
  }

  /** One pull per image and credentials at a time: a second asker waits on the first's result. */
  private pullOnce(image: string, creds: RegistryCredential[]): Promise<PullResult> {
    const key = `${withDefaultTag(image)}\u0000${creds.map((c) => `${c.key}\u0001${c.username}\u0001${c.password}`).join("\u0000")}`;
    let p = this.inflight.get(key);
    if (!p) {
      p = this.pull(image, creds).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  /** Tries each matching credential in turn (the kubelet's order), or anonymously when none match. */
  private async pull(image: string, creds: RegistryCredential[]): Promise<PullResult> {
    const started = this.now();
    const attempts = creds.length ? creds : [undefined];
    let last: string | undefined;
    for (const cred of attempts) {
      try {
        await this.rt.pullImage(image, cred ? { username: cred.username, password: cred.password, serveraddress: cred.serveraddress } : undefined);
        return { ok: true, pullMs: this.now() - started };
      } catch (e) {
        if (!(e instanceof ImagePullError)) {
          if (e instanceof RuntimeUnavailableError) throw e;
          last = (e as Error).message;
          continue;
        }
        last = e.kind === "unauthorized"
          ? `${e.message} (the registry refused ${cred ? `the credentials for ${cred.key} (user ${JSON.stringify(cred.username)})` : "an anonymous pull: give the pod imagePullSecrets"})`
          : e.message;
      }
    }
    return { ok: false, message: last, pullMs: this.now() - started };
  }
}
