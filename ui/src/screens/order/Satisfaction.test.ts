import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import Satisfaction from "./Satisfaction.svelte";
import { i18n } from "../../lib/locale.svelte";
import { detail } from "../../test/fixtures";

describe("Satisfaction card", () => {
  let sent: unknown[];
  beforeEach(() => {
    sent = [];
    mockIPC((cmd, args) => {
      if (cmd === "rate") sent.push(args);
      return null;
    });
  });
  afterEach(() => clearMocks());

  it("rates four criteria on four levels, in Chinese", async () => {
    i18n.locale = "zh-CN";
    render(Satisfaction, { props: { detail: detail(), onchanged: vi.fn() } });
    const save = screen.getByRole("button", { name: "提交" }) as HTMLButtonElement;
    expect(save.disabled).toBe(true);
    for (const [criterion, level] of [["态度", "很好"], ["技术", "好"], ["到达时间", "一般"], ["答应事情的办理", "很好"]]) {
      const group = screen.getByRole("group", { name: criterion });
      await fireEvent.click(group.querySelector(`input[value="${["差", "一般", "好", "很好"].indexOf(level) + 1}"]`)!);
    }
    await fireEvent.input(screen.getByLabelText("意见或建议"), { target: { value: " 很专业 " } });
    expect(save.disabled).toBe(false);
    await fireEvent.click(save);
    await waitFor(() => expect(sent).toHaveLength(1));
    expect(sent[0]).toEqual({ order: "wo-1", card: { attitude: 4, skill: 3, arrival: 2, promise: 4, comment: "很专业" } });
    expect(await screen.findByText(/已提交/)).toBeTruthy();
  });

  it("starts from the card already given", () => {
    i18n.locale = "en";
    render(Satisfaction, {
      props: { detail: detail({ satisfaction: { attitude: 3, skill: 4, arrival: 2, promise: 1, comment: "ok" } }), onchanged: vi.fn() },
    });
    const checked = [...document.querySelectorAll<HTMLInputElement>("input[type=radio]:checked")].map((i) => i.value);
    expect(checked).toEqual(["3", "4", "2", "1"]);
    expect((screen.getByLabelText("Suggestions or complaints") as HTMLTextAreaElement).value).toBe("ok");
  });
});
