import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import SyncStatus from "./SyncStatus.svelte";
import { i18n } from "./locale.svelte";
import { sync } from "./sync.svelte";
import type { SyncStatusView } from "./api";

const base: SyncStatusView = {
  enrolled: true,
  server_url: "https://fieldbook.example.com",
  technician: "li.wei",
  pending_changes: 3,
  pull_cursor: 40,
  last_success_at: null,
  last_attempt_at: null,
  last_error: null,
  revoked_reason: null,
  rejections: [{ seq: 9, entity: "work_orders", record_id: "WO-1001", reason: "the order is signed and locked" }],
  running: true,
  revocation: null,
  work_offline: false,
};

describe("SyncStatus", () => {
  let calls: string[];
  beforeEach(() => {
    calls = [];
    i18n.locale = "en";
  });
  afterEach(() => clearMocks());

  it("shows pending changes, refused changes on click, progress from events, and syncs now", async () => {
    mockIPC((cmd) => {
      calls.push(cmd);
      if (cmd === "sync_status" || cmd === "sync_now") return base;
      return 1;
    });
    render(SyncStatus);
    expect(await screen.findByText("3 changes to send")).toBeTruthy();
    expect(screen.getByText("Never synced")).toBeTruthy();

    await fireEvent.click(screen.getByRole("button", { name: "1 refused" }));
    expect(screen.getByRole("dialog").textContent).toContain("work_orders WO-1001: the order is signed and locked");

    sync.apply({ event: "started" });
    sync.apply({ event: "progress", pushed: 2, pulled: 10, bytes_up: 300, bytes_down: 1800 });
    expect(await screen.findByText(/Syncing: 2 sent, 10 received/)).toBeTruthy();
    expect((screen.getByRole("button", { name: "Sync now" }) as HTMLButtonElement).disabled).toBe(true);

    sync.apply({ event: "offline" });
    sync.apply({ event: "failed", kind: "unreachable", message: "cannot reach the server", retry_in_ms: 1000 });
    expect(await screen.findByText(/Cannot reach the office server/)).toBeTruthy();
    expect(screen.getByText("Offline")).toBeTruthy();

    await fireEvent.click(screen.getByRole("button", { name: "Sync now" }));
    await waitFor(() => expect(calls).toContain("sync_now"));
  });

  it("says when this laptop's clock runs ahead of the server's, in both languages", async () => {
    mockIPC((cmd) => (cmd === "sync_status" ? { ...base, clock_ahead_ms: 47 * 60_000 } : 1));
    render(SyncStatus);
    expect((await screen.findByTestId("sync-clock-ahead")).textContent).toContain("47 min ahead");
    i18n.locale = "zh-CN";
    await waitFor(() => expect(screen.getByTestId("sync-clock-ahead").textContent).toContain("快 47 分钟"));
  });

  it("warns about plain http:// and lists the records this laptop could not store", async () => {
    const refused = { entity: "work_orders", record_id: "WO-1009", feed_seq: 77, reason: "CHECK constraint failed: status", refused_at: "2026-03-02T08:00:00.000Z" };
    mockIPC((cmd) => (cmd === "sync_status" ? { ...base, rejections: [], insecure_http: true, pull_refused: [refused], pull_refused_total: 1 } : 1));
    render(SyncStatus);
    expect((await screen.findByTestId("sync-insecure")).textContent).toContain("http://");
    await fireEvent.click(screen.getByRole("button", { name: "1 not stored here" }));
    expect(screen.getByRole("dialog").textContent).toContain("work_orders WO-1009: CHECK constraint failed: status");
    i18n.locale = "zh-CN";
    await waitFor(() => expect(screen.getByTestId("sync-insecure").textContent).toContain("未加密"));
  });
});
