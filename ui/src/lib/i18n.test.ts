import { describe, expect, it } from "vitest";
import { LOCALES, labelFor, messages, translate } from "./i18n";

describe("i18n", () => {
  it("has every string in every language, none empty", () => {
    const keys = Object.keys(messages.en).sort();
    for (const locale of LOCALES) {
      expect(Object.keys(messages[locale]).sort()).toEqual(keys);
      for (const [key, text] of Object.entries(messages[locale])) {
        expect(text.trim(), `${locale} ${key}`).not.toBe("");
      }
    }
  });

  it("uses the same placeholders in both languages", () => {
    const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const [key, text] of Object.entries(messages.en)) {
      expect(names(messages["zh-CN"][key as keyof typeof messages.en]), key).toEqual(names(text));
    }
  });

  it("fills placeholders", () => {
    expect(translate("en", "day.count", { count: 3, breached: 1 })).toBe(
      "3 work orders, 1 past their response deadline",
    );
    expect(translate("zh-CN", "day.count", { count: 3, breached: 1 })).toBe(
      "共 3 张工单，1 张已超过响应时限",
    );
    // A missing parameter stays visible rather than printing "undefined".
    expect(translate("en", "day.title")).toBe("Work orders for {day}");
  });

  it("labels the core's words and passes unknown ones through", () => {
    expect(labelFor("zh-CN", "kind", "patrol_inspection")).toBe("定期巡检");
    expect(labelFor("en", "status", "en_route")).toBe("En route");
    expect(labelFor("en", "status", "someday")).toBe("someday");
  });
});
