import { describe, expect, it } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import DateInput from "./DateInput.svelte";

function field(locale: "zh-CN" | "en", value = "2026-12-05", kind: "day" | "time" = "day") {
  const changes: string[] = [];
  render(DateInput, { props: { id: "d", locale, value, kind, "aria-label": "day", onchange: (v: string) => changes.push(v) } });
  return { input: screen.getByLabelText("day") as HTMLInputElement, changes };
}

describe("DateInput", () => {
  it("shows the day in Chinese order in the Chinese UI, whatever the system's locale", () => {
    expect(field("zh-CN").input.value).toBe("2026-12-05");
  });

  it("shows an unambiguous English day in the English UI", () => {
    expect(field("en").input.value).toBe("5 Dec 2026");
  });

  it("takes a day typed the language's way and shows it back in the pattern", async () => {
    const { input, changes } = field("zh-CN");
    await fireEvent.input(input, { target: { value: "2027年1月9日" } });
    await fireEvent.change(input);
    expect(changes).toEqual(["2027-01-09"]);
    expect(input.value).toBe("2027-01-09");
    expect(input.getAttribute("aria-invalid")).toBeNull();
  });

  it("refuses an ambiguous day with a message in the chosen language, keeping the value", async () => {
    const zh = field("zh-CN");
    await fireEvent.input(zh.input, { target: { value: "12/05/2026" } });
    await fireEvent.change(zh.input);
    expect(zh.changes).toEqual([]);
    expect(zh.input.getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByRole("alert").textContent).toBe("“12/05/2026”不是有效日期，请按 2026-12-05 的格式输入。");
  });

  it("says how to write it in English too", async () => {
    const en = field("en");
    await fireEvent.input(en.input, { target: { value: "31 Feb 2026" } });
    await fireEvent.change(en.input);
    expect(en.changes).toEqual([]);
    expect(screen.getByRole("alert").textContent).toBe("“31 Feb 2026” is not a date. Type it as 5 Dec 2026.");
  });

  it("takes a 24-hour time", async () => {
    const { input, changes } = field("en", "09:00", "time");
    await fireEvent.input(input, { target: { value: "1630" } });
    await fireEvent.change(input);
    expect(changes).toEqual(["16:30"]);
    expect(input.value).toBe("16:30");
  });
});
