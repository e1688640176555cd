import { describe, expect, it } from "vitest";
import type { SyncEvent, SyncStatusView } from "./api";
import {
  errorText,
  formatBytes,
  initialSync,
  kindOfMessage,
  lastSyncText,
  needsStatus,
  phase,
  phaseText,
  reduce,
  rejectionText,
  revocationText,
  withStatus,
  type SyncState,
} from "./sync";

function status(extra: Partial<SyncStatusView> = {}): SyncStatusView {
  return {
    enrolled: true,
    server_url: "https://fieldbook.example.com",
    technician: "li.wei",
    pending_changes: 0,
    pull_cursor: 12,
    last_success_at: null,
    last_attempt_at: null,
    last_error: null,
    revoked_reason: null,
    rejections: [],
    running: true,
    revocation: null,
    work_offline: false,
    ...extra,
  };
}

const run = (events: SyncEvent[], from: SyncState = withStatus(initialSync, status())) => events.reduce(reduce, from);

const finished = (extra: Partial<Extract<SyncEvent, { event: "finished" }>> = {}): SyncEvent => ({
  event: "finished",
  pushed: 2,
  applied: 2,
  duplicates: 0,
  conflicts: 0,
  rejected: [],
  pulled: 5,
  changed: 5,
  attachments_uploaded: 0,
  attachments_pending: [],
  bytes_up: 100,
  bytes_down: 2000,
  duration_ms: 40,
  ...extra,
});

describe("sync event reducer", () => {
  it("shows progress while syncing and clears it when finished", () => {
    let s = run([{ event: "started" }]);
    expect(phase(s)).toBe("syncing");
    expect(phaseText(s, "en")).toBe("Syncing: 0 sent, 0 received (0 B)");
    s = reduce(s, { event: "progress", pushed: 3, pulled: 120, bytes_up: 2048, bytes_down: 1024 * 1024 });
    expect(phaseText(s, "en")).toBe("Syncing: 3 sent, 120 received (1.0 MB)");
    expect(phaseText(s, "zh-CN")).toBe("正在同步：已发送 3 项，已接收 120 项（1.0 MB）");
    s = reduce(s, finished({ attachments_pending: [{ id: "a", reason: "cut" }, { id: "b", reason: "cut" }] }));
    expect(s.syncing).toBe(false);
    expect(s.progress).toBeNull();
    expect(s.attachmentsPending).toBe(2);
    expect(phase(s)).toBe("online");
  });

  it("goes offline on an unreachable server, keeps the error in words, and recovers", () => {
    let s = run([
      { event: "started" },
      { event: "offline" },
      { event: "failed", kind: "unreachable", message: "cannot reach the server at https://x: refused", retry_in_ms: 2000 },
    ]);
    expect(phase(s)).toBe("offline");
    expect(s.error?.kind).toBe("unreachable");
    expect(errorText(s.error!.kind, "zh-CN")).toContain("无法连接公司服务器");
    s = run([{ event: "online" }, { event: "started" }, finished()], s);
    expect(s.error).toBeNull();
    expect(phase(s)).toBe("online");
  });

  it("a failure that is not about the network is an error, not offline", () => {
    const s = run([{ event: "online" }, { event: "failed", kind: "protocol_unsupported", message: "please update", retry_in_ms: 300000 }]);
    expect(phase(s)).toBe("error");
    expect(errorText("protocol_unsupported", "en")).toMatch(/^Please update Fieldbook/);
    expect(errorText("something_new", "en")).toMatch(/Your changes are kept/);
  });

  it("re-reads the status only when the counts can have moved", () => {
    expect(needsStatus({ event: "progress", pushed: 1, pulled: 0, bytes_up: 1, bytes_down: 0 })).toBe(false);
    expect(needsStatus(finished())).toBe(true);
    expect(needsStatus({ event: "revoked", reason: "r", wipe: false })).toBe(true);
  });

  it("a stored error shows (with a guessed kind) until a sync clears it", () => {
    let s = withStatus(initialSync, status({ last_error: "cannot reach the server at https://x: timed out — your changes are kept" }));
    expect(s.error?.kind).toBe("unreachable");
    s = withStatus(s, status({ last_error: null, last_success_at: "2026-03-14T08:30:00Z" }));
    expect(s.error).toBeNull();
    expect(kindOfMessage("please update Fieldbook: …")).toBe("protocol_unsupported");
    expect(kindOfMessage("the server at https://x failed (502)")).toBe("server_failed");
    expect(kindOfMessage("boom")).toBe("other");
  });

  it("says the laptop is locked while it is past the office's offline limit, until it syncs", () => {
    const locked = withStatus(initialSync, status({ offline_lock: { since_last_sync_days: 9, limit_days: 7, last_synced_at: "2026-03-01T09:00:00.000Z" } }));
    expect(phase(locked)).toBe("locked");
    expect(phaseText(locked, "en")).toBe("Locked until it syncs");
    expect(phaseText(locked, "zh-CN")).toBe("已锁定，同步后解锁");
    expect(phase(run([{ event: "started" }], locked))).toBe("syncing");
  });

  it("names the states before enrolment and after revocation", () => {
    expect(phase(initialSync)).toBe("loading");
    expect(phaseText(withStatus(initialSync, status({ enrolled: false, server_url: null })), "zh-CN")).toBe("未连接公司服务器");
    const s = run([{ event: "revoked", reason: "laptop replaced", wipe: false }]);
    expect(phase(s)).toBe("revoked");
    expect(revocationText(s, "en")).toMatch(/Closing the data/);
    const kept = withStatus(s, status({ revoked_reason: "laptop replaced", pending_changes: 4, revocation: { local_data: "kept", unsynced: 4 } }));
    expect(revocationText(kept, "en")).toBe(
      "The office revoked this laptop's access. 4 unsynced changes are kept on this laptop until they sync or the office orders a wipe.",
    );
    expect(revocationText(kept, "zh-CN")).toContain("4 项未同步的更改保留在本机");
    const wiped = withStatus(s, status({ enrolled: false, revocation: { local_data: "wiped" } }));
    expect(revocationText(wiped, "en")).toMatch(/has been deleted/);
    expect(revocationText(withStatus(initialSync, status()), "en")).toBeNull();
  });
});

describe("sync formatting", () => {
  it("formats bytes", () => {
    expect(formatBytes(512, "en")).toBe("512 B");
    expect(formatBytes(12.4 * 1024, "en")).toBe("12 KB");
    expect(formatBytes(3.14 * 1024 * 1024, "en")).toBe("3.1 MB");
  });

  it("shows the last sync as a local time today and with the date otherwise", () => {
    const now = new Date(2026, 2, 14, 17, 0);
    const today = new Date(2026, 2, 14, 16, 30).toISOString();
    expect(lastSyncText(today, now, "en")).toBe("Last synced 16:30");
    expect(lastSyncText(today, now, "zh-CN")).toBe("上次同步 16:30");
    expect(lastSyncText(new Date(2026, 2, 12, 9, 5).toISOString(), now, "en")).toBe("Last synced Mar 12, 2026, 09:05");
    expect(lastSyncText(null, now, "zh-CN")).toBe("尚未同步");
  });

  it("words a refused change", () => {
    expect(rejectionText({ seq: 7, entity: "work_orders", record_id: "WO-1001", reason: "signed orders are locked" }, "en")).toBe(
      "work_orders WO-1001: signed orders are locked",
    );
  });
});
