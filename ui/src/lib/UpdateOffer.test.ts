import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import UpdateOffer from "./UpdateOffer.svelte";
import { i18n } from "./locale.svelte";
import { updates } from "./updates.svelte";
import type { UpdateView } from "./api";

const offered: UpdateView = {
  current_version: "0.1.0",
  off_reason: null,
  installed: "app_image",
  can_install: true,
  offered: { version: "0.2.0", notes_en: "Faster search", notes_zh: "搜索更快", notes: "Faster search\n\n搜索更快", date: "2026-12-06T05:00:00.000Z" },
  last_error: null,
  busy: false,
};

describe("UpdateOffer", () => {
  let calls: string[];
  beforeEach(() => {
    calls = [];
    i18n.locale = "en";
  });
  afterEach(() => clearMocks());

  it("offers the version with the notes in the technician's language, and says why it did not install", async () => {
    mockIPC((cmd) => {
      calls.push(cmd);
      if (cmd === "update_status") return offered;
      if (cmd === "install_update") throw { kind: "update_pending_changes", message: "Not installed: 2 change(s) typed on this laptop are not on the server yet.", problems: [] };
      return null;
    });
    updates.start();
    render(UpdateOffer);
    expect(await screen.findByText("Fieldbook 0.2.0 is available")).toBeTruthy();
    expect(screen.getByTestId("update-notes").textContent).toBe("Faster search");
    i18n.locale = "zh-CN";
    await waitFor(() => expect(screen.getByTestId("update-notes").textContent).toBe("搜索更快"));
    expect(screen.getByRole("button", { name: "安装并重启" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "稍后" })).toBeTruthy();
    i18n.locale = "en";

    await fireEvent.click(await screen.findByRole("button", { name: "Install and restart" }));
    const err = await screen.findByTestId("update-error");
    expect(err.dataset.kind).toBe("update_pending_changes");
    expect(err.textContent).toContain("changes typed on this laptop are not on the server yet");
    expect(calls).toContain("install_update");

    expect(updates.showOffer).toBe(true);
    await fireEvent.click(screen.getByRole("button", { name: "Later" }));
    expect(updates.showOffer).toBe(false);
  });
});
