/**
 * What a `berth control-plane` copy prints about itself, read by tests that run copies as
 * processes: "control-plane <id> ready (…)", then "control-plane <id> leading (term N)" or
 * "control-plane <id> standby (<reason>)" at every change.
 */

/** The copy printed its own ready line (an error that merely contains "already" does not count). */
export function printedReady(out: string, id: string): boolean {
  return out.split("\n").some((l) => l.startsWith(`control-plane ${id} ready `));
}

/** The copy's latest leadership line says it leads. */
export function leadsNow(out: string): boolean {
  return / leading /.test(` ${out.split("\n").filter((l) => / leading | standby /.test(` ${l} `)).at(-1) ?? ""} `);
}
