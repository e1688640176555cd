import { describe, expect, it } from "vitest";
import { fromLocalInput, isTextField, localDay, parseMerged, parseTemplateBody, showValue, toLocalInput } from "./values";

describe("local time inputs", () => {
  it("round-trips a datetime-local value through UTC", () => {
    const d = new Date(2026, 2, 14, 9, 5);
    expect(toLocalInput(d)).toBe("2026-03-14T09:05");
    expect(fromLocalInput("2026-03-14T09:05")).toBe(d.toISOString());
    expect(fromLocalInput("yesterday")).toBeNull();
  });
  it("names days relative to today", () => {
    expect(localDay(1, new Date(2026, 11, 31, 23))).toBe("2027-01-01");
    expect(localDay(-30, new Date(2026, 2, 14))).toBe("2026-02-12");
  });
});

describe("conflict values", () => {
  it("shows text as is and anything else as JSON", () => {
    expect(showValue("泵体漏水")).toBe("泵体漏水");
    expect(showValue(0.62)).toBe("0.62");
    expect(showValue(["a", "b"])).toBe('["a","b"]');
    expect(showValue(null)).toBe("—");
  });
  it("takes text fields as typed", () => {
    expect(isTextField("a", "b")).toBe(true);
    expect(parseMerged("  leak at seal ", true)).toEqual({ ok: true, value: "  leak at seal " });
  });
  it("parses non-text fields as JSON and says why not", () => {
    expect(isTextField(0.6, 0.62)).toBe(false);
    expect(isTextField("pass", null)).toBe(true);
    expect(parseMerged("0.61", false)).toEqual({ ok: true, value: 0.61 });
    expect(parseMerged('["blocked_exit"]', false)).toEqual({ ok: true, value: ["blocked_exit"] });
    expect(parseMerged("", false)).toEqual({ ok: false, error: "empty" });
    const bad = parseMerged("0,61", false);
    expect(bad.ok).toBe(false);
  });
});

describe("template body check", () => {
  it("accepts a body with sections of items", () => {
    const r = parseTemplateBody('{"title": {"zh": "表", "en": "Form"}, "sections": [{"key": "s", "items": []}]}');
    expect(r.ok).toBe(true);
  });
  it("names what is wrong", () => {
    expect(parseTemplateBody("[1]")).toEqual({ ok: false, error: "not_object" });
    expect(parseTemplateBody('{"sections": []}')).toEqual({ ok: false, error: "no_sections" });
    expect(parseTemplateBody('{"sections": [{"key": "s"}]}')).toEqual({ ok: false, error: "section 1: items" });
    const r = parseTemplateBody('{"sections": [');
    expect(r.ok).toBe(false);
  });
});
