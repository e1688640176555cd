import { describe, expect, it } from "vitest";
import { dayExample, formatDayInput, parseDayInput, parseTimeInput } from "./dates";

describe("date fields in the chosen language", () => {
  it("show a day the way each language writes it", () => {
    expect(formatDayInput("2026-12-05", "zh-CN")).toBe("2026-12-05");
    expect(formatDayInput("2026-12-05", "en")).toBe("5 Dec 2026");
    expect(formatDayInput("", "en")).toBe("");
    expect(formatDayInput(null, "zh-CN")).toBe("");
  });

  it("read back what they show, in both languages", () => {
    for (const locale of ["zh-CN", "en"] as const) {
      for (const iso of ["2026-12-05", "2024-02-29", "2026-01-31"]) {
        expect(parseDayInput(formatDayInput(iso, locale), locale)).toBe(iso);
      }
      expect(parseDayInput(dayExample(locale), locale)).toBe("2026-12-05");
    }
  });

  it("accept the Chinese ways of writing a day", () => {
    for (const t of ["2026-12-05", "2026/12/5", "2026.12.5", "2026年12月5日", "2026 年 12 月 5 日", "2026年12月5号", " 2026-12-5 "]) {
      expect(parseDayInput(t, "zh-CN"), t).toBe("2026-12-05");
    }
  });

  it("accept unambiguous English days", () => {
    for (const t of ["5 Dec 2026", "5 December 2026", "5th Dec. 2026", "Dec 5, 2026", "December 5 2026", "dec 5 2026", "2026-12-05"]) {
      expect(parseDayInput(t, "en"), t).toBe("2026-12-05");
    }
  });

  it("refuse ambiguous and impossible days", () => {
    for (const locale of ["zh-CN", "en"] as const) {
      for (const t of ["12/05/2026", "05/12/2026", "2026-02-30", "2025-02-29", "2026-13-01", "2026-00-10", "tomorrow", "2026", "5 Dex 2026"]) {
        expect(parseDayInput(t, locale), `${locale} ${t}`).toBeNull();
      }
    }
    expect(parseDayInput("5 Dec 2026", "zh-CN")).toBeNull();
    expect(parseDayInput("2026年12月5日", "en")).toBeNull();
    expect(parseDayInput("   ", "en")).toBe("");
  });

  it("read 24-hour times", () => {
    expect(parseTimeInput("16:30")).toBe("16:30");
    expect(parseTimeInput("9:05")).toBe("09:05");
    expect(parseTimeInput("16.30")).toBe("16:30");
    expect(parseTimeInput("1630")).toBe("16:30");
    expect(parseTimeInput("16点30")).toBe("16:30");
    expect(parseTimeInput("")).toBe("");
    for (const t of ["24:00", "12:60", "4pm", "16:3", "abc"]) expect(parseTimeInput(t), t).toBeNull();
  });
});
