/**
 * Boots the live page: one EventSource on /ui/api/feed, every message applied to the store, and
 * at most one render per animation frame however many messages arrive in it.
 */
import { render } from "preact";
import type { FeedMessage } from "../../runtime/ui/view.ts";
import { App } from "./app.tsx";
import { ClusterStore } from "./store.ts";

type Conn = "connecting" | "live" | "reconnecting" | "signed-out";

const store = new ClusterStore();
const root = document.getElementById("app")!;
// The shell's "Connecting…" placeholder is not Preact's: clear it, or render would keep it.
root.textContent = "";
let conn: Conn = "connecting";
let scheduled = false;
let drawnOnce = false;

function draw(): void {
  scheduled = false;
  render(<App store={store} conn={conn} />, root);
  if (!drawnOnce && store.synced) {
    drawnOnce = true;
    // The first picture of the whole cluster is on screen after the next frame.
    requestAnimationFrame(() => performance.mark("berth:drawn"));
  }
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(draw);
}

function connect(): void {
  const es = new EventSource("/ui/api/feed");
  es.onopen = () => {
    conn = "live";
    schedule();
  };
  es.onmessage = (e) => {
    const msg = JSON.parse(e.data as string) as FeedMessage;
    if (msg.type === "snapshot") performance.mark("berth:snapshot");
    store.apply(msg);
    schedule();
  };
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) {
      // The server refused the stream (the session ended, or the server is gone): ask whether
      // we are still signed in before trying again.
      void fetch("/ui/api/feed", { method: "HEAD", credentials: "same-origin" }).then(
        (r) => {
          conn = r.status === 401 ? "signed-out" : "reconnecting";
          schedule();
          if (r.status !== 401) setTimeout(connect, 2000);
        },
        () => {
          conn = "reconnecting";
          schedule();
          setTimeout(connect, 2000);
        },
      );
    } else {
      conn = "reconnecting";
    }
    schedule();
  };
}

// Leaving and entering pods change class after their moment; look twice a second.
setInterval(() => {
  if (store.expire()) schedule();
}, 250);

connect();
schedule();
