/**
 * What the page has selected and what it asks to confirm: shared by the picture (app.tsx) and
 * its panels (panels.tsx), so neither imports the other's types.
 */
import type { Action } from "./api.ts";

/** The object the details panel shows. */
export type Selected = { kind: "pod"; key: string } | { kind: "node"; name: string } | null;

/** An action waiting for the user's confirmation. */
export interface Confirm {
  title: string;
  text: string;
  confirmLabel: string;
  danger?: boolean;
  replicas?: number;
  action: (replicas?: number) => Action;
}
