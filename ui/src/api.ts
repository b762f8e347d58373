/** The page's calls to its server: actions (with the CSRF token) and the log tail. */
import type { ScalableResource } from "../../model/types.ts";

/** What the server's action parser (runtime/ui/actions.ts) accepts. */
export type Action =
  | { action: "scale"; resource: ScalableResource; namespace: string; name: string; replicas: number }
  | { action: "deletePod"; namespace: string; name: string }
  | { action: "cordon" | "uncordon"; name: string };

const csrf = () => document.querySelector<HTMLMetaElement>('meta[name="berth-csrf"]')?.content ?? "";

/** Performs an action; resolves with the server's message, rejects with its Status message. */
export async function act(a: Action): Promise<string> {
  const res = await fetch("/ui/api/actions", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-Berth-CSRF": csrf() },
    body: JSON.stringify(a),
  });
  const body = (await res.json().catch(() => ({}))) as { message?: string };
  if (!res.ok) throw new Error(body.message ?? `HTTP ${res.status}`);
  return body.message ?? "done";
}

export async function signOut(): Promise<void> {
  await fetch("/ui/logout", { method: "POST", credentials: "same-origin", headers: { "X-Berth-CSRF": csrf() } });
  location.assign("/ui/");
}

/** Streams a container's log tail into `onText` until the signal aborts. */
export async function tailLogs(namespace: string, pod: string, container: string, onText: (s: string) => void, signal: AbortSignal): Promise<void> {
  const q = new URLSearchParams({ namespace, pod, container });
  const res = await fetch(`/ui/api/logs?${q}`, { credentials: "same-origin", signal });
  if (!res.ok || !res.body) {
    const body = (await res.json().catch(() => ({}))) as { message?: string };
    throw new Error(body.message ?? `HTTP ${res.status}`);
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    onText(value);
  }
}
