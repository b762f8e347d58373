/**
 * The harness's own nats-server (JetStream on disk), which it can restart and pause: restart
 * stops the process and starts a new one on the same port with the same store directory, so
 * clients reconnect to the same address and find their streams; pause stops the process with
 * SIGSTOP (its sockets stay open and silent) and resume sends SIGCONT.
 */
import { startNatsServer, type NatsServerHandle } from "../nats/server.ts";

export class NatsControlError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "NatsControlError";
  }
}

export class NatsControl {
  private handle?: NatsServerHandle;
  private paused = false;

  private constructor(readonly dir: string, readonly port: number, handle: NatsServerHandle) {
    this.handle = handle;
  }

  /** Starts nats-server with its store in `dir` on a free loopback port. */
  static async start(dir: string): Promise<NatsControl> {
    const h = await startNatsServer({ dir });
    return new NatsControl(dir, h.port, h);
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return !!this.handle;
  }

  get pid(): number | undefined {
    return this.handle?.pid;
  }

  /** Stops the server (SIGTERM, as an operator would). Idempotent. */
  async down(): Promise<void> {
    const h = this.handle;
    if (!h) return;
    this.resume();
    this.handle = undefined;
    await h.stop();
  }

  /** Starts it again on the same port and store. Idempotent. Retries while the port is still held. */
  async up(): Promise<void> {
    if (this.handle) return;
    let last: unknown;
    for (let i = 0; i < 40; i++) {
      try {
        this.handle = await startNatsServer({ dir: this.dir, port: this.port });
        return;
      } catch (e) {
        last = e;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    throw new NatsControlError(`nats-server did not come back on port ${this.port}`, { cause: last });
  }

  /** SIGSTOP: the process freezes with its connections open. Idempotent. */
  pause(): void {
    if (!this.handle || this.paused) return;
    process.kill(this.handle.pid, "SIGSTOP");
    this.paused = true;
  }

  /** SIGCONT. Idempotent. */
  resume(): void {
    if (!this.handle || !this.paused) return;
    process.kill(this.handle.pid, "SIGCONT");
    this.paused = false;
  }

  /** Resumes and restarts as needed so the server is up and running. */
  async heal(): Promise<void> {
    this.resume();
    await this.up();
  }

  async stop(): Promise<void> {
    await this.down();
  }
}
