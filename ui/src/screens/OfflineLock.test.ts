import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import App from "../App.svelte";
import { i18n } from "../lib/locale.svelte";
import type { SyncStatusView } from "../lib/api";

const unlocked: SyncStatusView = {
  enrolled: true,
  server_url: "https://fieldbook.example.com",
  technician: "li.wei",
  pending_changes: 2,
  pull_cursor: 40,
  last_success_at: "2026-03-01T09:00:00.000Z",
  last_attempt_at: null,
  last_error: null,
  revoked_reason: null,
  rejections: [],
  offline_lock_days: 7,
  offline_lock: null,
  running: true,
  revocation: null,
  work_offline: false,
};

const locked: SyncStatusView = {
  ...unlocked,
  offline_lock: { since_last_sync_days: 9, limit_days: 7, last_synced_at: "2026-03-01T09:00:00.000Z" },
};

describe("the offline lock screen", () => {
  let calls: string[];
  beforeEach(() => {
    calls = [];
    i18n.locale = "en";
  });
  afterEach(() => clearMocks());

  it("hides every screen with records, says why in both languages, and a sync unlocks", async () => {
    let status = locked;
    mockIPC((cmd) => {
      calls.push(cmd);
      if (cmd === "sync_now") status = { ...unlocked, pending_changes: 0, last_success_at: "2026-03-10T09:00:00.000Z" };
      if (cmd === "sync_status" || cmd === "sync_now") return status;
      if (cmd === "today_orders") return [];
      return null;
    });
    render(App);
    const text = await screen.findByTestId("offline-lock-text");
    expect(text.textContent).toBe(
      "This laptop has not reached the server for 9 days (limit 7, set by your office). Connect to the network and sync to unlock; your unsynced work is kept.",
    );
    expect(screen.getByTestId("offline-lock-pending").textContent).toContain("2 changes are waiting");
    // No screen that would ask the shell for records is on screen.
    expect(calls).not.toContain("today_orders");
    await fireEvent.click(screen.getByTestId("nav-daily"));
    expect(screen.getByTestId("offline-lock")).toBeTruthy();
    expect(calls).not.toContain("daily_report");

    i18n.locale = "zh-CN";
    await waitFor(() =>
      expect(screen.getByTestId("offline-lock-text").textContent).toBe(
        "本机已有 9 天未连接服务器（公司规定上限 7 天）。请连接网络并同步以解锁；尚未同步的工作会保留。",
      ),
    );
    i18n.locale = "en";
    await fireEvent.click(screen.getByTestId("nav-today"));

    await fireEvent.click(screen.getByTestId("offline-lock-sync"));
    await waitFor(() => expect(calls).toContain("sync_now"));
    await waitFor(() => expect(screen.queryByTestId("offline-lock")).toBeNull());
    await waitFor(() => expect(calls).toContain("today_orders"));
  });

  it("replaces the screen as soon as a command is refused for the lock", async () => {
    let status: SyncStatusView = unlocked;
    mockIPC((cmd) => {
      calls.push(cmd);
      if (cmd === "sync_status") return status;
      if (cmd === "today_orders") {
        // The limit passed while the app was open.
        status = locked;
        throw { kind: "offline_locked", message: "this laptop has not reached the server for 9 day(s)", problems: [] };
      }
      return null;
    });
    render(App);
    expect(await screen.findByTestId("offline-lock")).toBeTruthy();
    expect(calls.filter((c) => c === "sync_status").length).toBeGreaterThanOrEqual(2);
  });
});
