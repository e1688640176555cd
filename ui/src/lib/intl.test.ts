import { describe, expect, it } from "vitest";
import { dateTimeFormat, numberFormat } from "./intl";

describe("cached Intl formatters", () => {
  it("gives the same formatter for the same language and options", () => {
    const a = dateTimeFormat("en", { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    expect(dateTimeFormat("en", { hour: "2-digit", minute: "2-digit", hourCycle: "h23" })).toBe(a);
    expect(numberFormat("zh-CN", { style: "percent" })).toBe(numberFormat("zh-CN", { style: "percent" }));
  });

  it("keeps languages and options apart", () => {
    const en = dateTimeFormat("en", { dateStyle: "medium" });
    const zh = dateTimeFormat("zh-CN", { dateStyle: "medium" });
    expect(zh).not.toBe(en);
    expect(dateTimeFormat("en", { dateStyle: "short" })).not.toBe(en);
    const day = new Date(2026, 2, 14, 12);
    expect(en.format(day)).toBe(new Intl.DateTimeFormat("en", { dateStyle: "medium" }).format(day));
    expect(zh.format(day)).toBe(new Intl.DateTimeFormat("zh-CN", { dateStyle: "medium" }).format(day));
  });
});
