import { describe, expect, it } from "vitest";
import { LOCALES, actionLabel, fieldLabel, label, messages, translate, wordTables } from "./i18n";

describe("console i18n", () => {
  it("has every string in both languages, none empty", () => {
    const keys = Object.keys(messages.en).sort();
    expect(keys.length).toBeGreaterThan(200);
    for (const locale of LOCALES) {
      expect(Object.keys(messages[locale]).sort()).toEqual(keys);
      for (const [key, text] of Object.entries(messages[locale])) {
        expect(text.trim(), `${locale} ${key}`).not.toBe("");
      }
    }
  });

  it("translates every user-facing string into Chinese (only names may stay the same)", () => {
    const same = Object.keys(messages.en).filter(
      (k) => messages.en[k as keyof typeof messages.en] === messages["zh-CN"][k as keyof typeof messages.en],
    );
    expect(same.sort()).toEqual(["locale.en", "locale.zh-CN"]);
  });

  it("uses the same placeholders in both languages", () => {
    const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const [key, text] of Object.entries(messages.en)) {
      expect(names(messages["zh-CN"][key as keyof typeof messages.en]), key).toEqual(names(text));
    }
  });

  it("fills placeholders and leaves a missing one visible", () => {
    expect(translate("en", "calls.registered", { number: "C-1", deadline: "16:00" })).toBe("Registered C-1; respond by 16:00.");
    expect(translate("zh-CN", "orders.shown", { count: 3 })).toBe("已显示 3 张");
    expect(translate("en", "orders.shown")).toBe("{count} shown");
  });

  it("has both languages for every domain word, and passes unknown words through", () => {
    for (const [kind, table] of Object.entries(wordTables)) {
      for (const [word, pair] of Object.entries(table)) {
        expect(pair[0].trim(), `${kind}.${word} en`).not.toBe("");
        expect(pair[1].trim(), `${kind}.${word} zh`).not.toBe("");
      }
    }
    expect(label("zh-CN", "status", "on_site")).toBe("到场");
    expect(label("en", "zone", "suburban")).toBe("suburban");
    expect(label("en", "status", "someday")).toBe("someday");
    expect(actionLabel("zh-CN", "approved")).toBe("审核通过");
    expect(fieldLabel("en", "repair_records", "fault")).toBe("Repair record · fault");
  });
});

describe("console i18n keys used by the screens", () => {
  const sources = import.meta.glob(["../**/*.svelte", "../**/*.ts", "!../**/*.test.ts"], {
    query: "?raw",
    import: "default",
    eager: true,
  }) as Record<string, string>;

  it("finds the console's sources", () => {
    expect(Object.keys(sources).some((f) => f.endsWith("Conflicts.svelte"))).toBe(true);
  });

  it("names only keys that exist", () => {
    const missing: string[] = [];
    for (const [file, text] of Object.entries(sources)) {
      for (const m of text.matchAll(/\btr\(\s*"([a-z_][\w.-]*)"/g)) {
        if (!(m[1] in messages.en)) missing.push(`${file}: ${m[1]}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
