/** Small timing helpers whose timers never keep a stopping process alive. */

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Resolves when `p` settles (its outcome ignored) or after `ms`, whichever comes first. The
 * timer is cleared either way, so a bounded wait never holds the event loop open afterwards.
 */
export async function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([p.then(() => {}, () => {}), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Shutdown steps of a component that starts several parts: each part pushes its stop as it
 * starts; `run()` stops them newest first, logging (not throwing) a step that fails so the
 * others still run. Safe to run twice (the second run finds nothing).
 */
export class Cleanups {
  private readonly steps: (() => Promise<unknown> | unknown)[] = [];

  constructor(private readonly onError: (error: unknown) => void) {}

  push(...steps: (() => Promise<unknown> | unknown)[]): void {
    this.steps.push(...steps);
  }

  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch (e) {
        this.onError(e);
      }
    }
  }
}
