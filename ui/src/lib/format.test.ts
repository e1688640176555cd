import { describe, expect, it } from "vitest";
import { formatDay, formatYuan, parseYuan } from "./format";

describe("formats", () => {
  it("reads yuan as typed into cents, refusing what is not an amount", () => {
    expect(parseYuan("560")).toBe(56000);
    expect(parseYuan(" ¥1,200.5 ")).toBe(120050);
    expect(parseYuan("")).toBe(0);
    expect(parseYuan("12.345")).toBeNull();
    expect(parseYuan("-5")).toBeNull();
    expect(parseYuan("abc")).toBeNull();
  });
  it("shows money and days in the chosen language", () => {
    expect(formatYuan(56000, "zh-CN")).toBe("¥560.00");
    expect(formatYuan(56000, "en")).toBe("¥560.00");
    expect(formatDay("2026-03-14", "zh-CN")).toBe("2026年3月14日");
    expect(formatDay("2026-03-14", "en")).toBe("Mar 14, 2026");
  });
});
