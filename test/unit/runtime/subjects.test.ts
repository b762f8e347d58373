/**
 * Subjects built in one place: private inboxes per identity, and the reply subjects a server may
 * answer to.
 */
import { describe, expect, it } from "vitest";
import { inboxOwner, isInboxSubject, subjects } from "../../../runtime/subjects.ts";
import { nodeUser } from "../../../runtime/nats/auth.ts";
import { mayReplyTo } from "../../../runtime/api/nats_server.ts";

describe("subjects", () => {
  it("inboxes - every identity has its own prefix; a node's is its identity's, so a node named like another identity cannot share it", () => {
    expect(subjects.inboxPrefix("berth-cli")).toBe("_INBOX_berth-cli");
    expect(subjects.nodeInboxPrefix("a")).toBe(subjects.inboxPrefix(nodeUser("a")));
    expect(subjects.nodeInboxPrefix("berth-cli")).not.toBe(subjects.inboxPrefix("berth-cli"));
    expect(() => subjects.inboxPrefix("a.b")).toThrow(/invalid/);
    expect(() => subjects.inboxPrefix(">")).toThrow(/invalid/);
  });

  it("replies - only inbox subjects, and on a scoped face only the requester's own inbox", () => {
    expect(isInboxSubject("_INBOX.abc.def")).toBe(true);
    expect(isInboxSubject("_INBOX_berth-cli.abc")).toBe(true);
    for (const s of ["$KV.berth-state.pods.default.x", "$JS.API.STREAM.DELETE.KV_berth-state", "berth.node.a.api.v1.pods.delete", "_INBOX", "_INBOX.", "_INBOX..x", "_INBOXX.x", "_INBOX.*", "_INBOX.>"]) {
      expect(isInboxSubject(s), s).toBe(false);
    }
    expect(inboxOwner("_INBOX_berth-cli.x")).toBe("berth-cli");
    expect(inboxOwner("_INBOX.x")).toBeUndefined();
    const nodeFace = subjects.nodeApi("a", "pods", "get");
    expect(mayReplyTo(nodeFace, `${subjects.nodeInboxPrefix("a")}.x.y`)).toBe(true);
    expect(mayReplyTo(nodeFace, `${subjects.inboxPrefix("berth-control-plane")}.x.y`)).toBe(false);
    expect(mayReplyTo(nodeFace, `${subjects.nodeInboxPrefix("b")}.x.y`)).toBe(false);
    const clientFace = subjects.clientApi("berth-cli", "pods", "watch");
    expect(mayReplyTo(clientFace, "_INBOX_berth-cli.x")).toBe(true);
    expect(mayReplyTo(clientFace, "_INBOX_berth-external.x")).toBe(false);
    expect(mayReplyTo(subjects.api("pods", "get"), "$KV.berth-state.pods.default.x")).toBe(false);
    expect(mayReplyTo(subjects.api("pods", "get"), "_INBOX_berth-external.x")).toBe(true);
  });
});
