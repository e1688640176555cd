import { describe, expect, it } from "vitest";
import { LOCALES, categoryLabel, labelFor, messages, translate } from "./i18n";

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

describe("i18n keys used by the UI", () => {
  // Every literal key passed to t()/translate() in the sources exists (TypeScript checks this
  // too; the test keeps it true for `npm test` alone).
  const sources = import.meta.glob(["../**/*.svelte", "../**/*.ts", "!../**/*.test.ts"], {
    query: "?raw",
    import: "default",
    eager: true,
  }) as Record<string, string>;

  it("finds the sources", () => {
    expect(Object.keys(sources).length).toBeGreaterThan(20);
  });

  it("names only keys that exist", () => {
    const missing: string[] = [];
    for (const [file, text] of Object.entries(sources)) {
      for (const m of text.matchAll(/\bt\(\s*"([a-z_][\w.-]*)"/g)) {
        if (!(m[1] in messages.en)) missing.push(`${file}: ${m[1]}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("labels every service category in both languages", () => {
    expect(categoryLabel("zh-CN", "A")).toBe("A 有费服务");
    expect(categoryLabel("zh-CN", "D")).toBe("D 一般行政工作");
    expect(categoryLabel("en", "C")).toBe("C free (warranty)");
    expect(labelFor("zh-CN", "priority", "urgent")).toBe("紧急");
  });
});
