import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import Unlock from "./Unlock.svelte";
import { i18n } from "../lib/locale.svelte";
import { sync } from "../lib/sync.svelte";

const status = {
  enrolled: false,
  server_url: null,
  technician: null,
  pending_changes: 0,
  pull_cursor: 0,
  last_success_at: null,
  last_attempt_at: null,
  last_error: null,
  revoked_reason: null,
  rejections: [],
  running: false,
  revocation: null,
  work_offline: true,
};

describe("Unlock", () => {
  let tried: string[];
  beforeEach(() => {
    tried = [];
    i18n.locale = "en";
  });
  afterEach(() => clearMocks());

  it("says a wrong passphrase is wrong, and unlocks with the right one", async () => {
    mockIPC((cmd, args) => {
      if (cmd === "sync_status") throw { kind: "store_locked", message: "enter the passphrase", problems: [] };
      if (cmd === "unlock_store") {
        const p = (args as { passphrase: string }).passphrase;
        tried.push(p);
        if (p !== "陈师傅 spring 2026") throw { kind: "wrong_passphrase", message: "wrong passphrase", problems: [] };
        return status;
      }
    });
    await sync.refresh();
    expect(sync.unlockNeeded).toBe("unlock");
    render(Unlock, { mode: "unlock" });
    const input = screen.getByLabelText("Passphrase") as HTMLInputElement;
    expect(input.type).toBe("password");

    await fireEvent.click(screen.getByTestId("unlock-submit"));
    expect((await screen.findByRole("alert")).textContent).toBe("Enter the passphrase.");
    expect(tried).toEqual([]);

    await fireEvent.input(input, { target: { value: "autumn" } });
    await fireEvent.click(screen.getByTestId("unlock-submit"));
    expect((await screen.findByRole("alert")).textContent).toContain("Wrong passphrase");

    await fireEvent.input(input, { target: { value: "陈师傅 spring 2026" } });
    await fireEvent.click(screen.getByTestId("unlock-submit"));
    await waitFor(() => expect(sync.unlockNeeded).toBe(null));
    expect(tried).toEqual(["autumn", "陈师傅 spring 2026"]);
  });

  it("asks for a new passphrase twice, at least 8 characters, in Chinese too", async () => {
    i18n.locale = "zh-CN";
    mockIPC((cmd, args) => {
      if (cmd === "unlock_store") {
        tried.push((args as { passphrase: string }).passphrase);
        return status;
      }
    });
    render(Unlock, { mode: "choose" });
    expect(screen.getByRole("heading").textContent).toBe("保护本机的 Fieldbook 数据");
    const [first, second] = [screen.getByTestId("unlock-passphrase"), screen.getByTestId("unlock-repeat")];
    await fireEvent.input(first, { target: { value: "short" } });
    await fireEvent.click(screen.getByTestId("unlock-submit"));
    expect((await screen.findByRole("alert")).textContent).toContain("至少 8 个字符");
    await fireEvent.input(first, { target: { value: "long enough now" } });
    await fireEvent.input(second, { target: { value: "long enough mow" } });
    await fireEvent.click(screen.getByTestId("unlock-submit"));
    expect((await screen.findByRole("alert")).textContent).toBe("两次输入的口令不一致。");
    expect(tried).toEqual([]);
    await fireEvent.input(second, { target: { value: "long enough now" } });
    await fireEvent.click(screen.getByTestId("unlock-submit"));
    await waitFor(() => expect(tried).toEqual(["long enough now"]));
  });
});
