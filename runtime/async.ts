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
