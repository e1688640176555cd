import { describe, expect, it } from "vitest";
import { assets, template } from "../test/fixtures";
import { answerMap, checkReading, isShown, keyAction, slotGroups, slotKey, slotOfField, slots } from "./checklist";

describe("checklist slots", () => {
  it("repeats per-asset sections once per asset of the type, in form order", () => {
    const groups = slotGroups(template, assets);
    expect(groups.map((g) => [g.section.key, g.asset?.code ?? ""])).toEqual([
      ["general", ""],
      ["pumps", "PUMP-1"],
      ["pumps", "PUMP-2"],
    ]);
    const pressure = slots(template, assets).filter((s) => s.item.key === "pump.pressure");
    expect(pressure.map((s) => s.assetId)).toEqual(["a-p1", "a-p2"]);
    expect(pressure[0].key).toBe(slotKey("pump.pressure", "a-p1"));
  });

  it("has no slots for a per-asset section without assets of its type", () => {
    const groups = slotGroups(template, assets.filter((a) => a.asset_type !== "fire_pump"));
    expect(groups.map((g) => g.section.key)).toEqual(["general"]);
  });
});

describe("conditional items (mirror of the core's is_shown)", () => {
  const shown = (item: string, asset: string, answers: Record<string, unknown>) => isShown(template, item, asset, answers);

  it("shows an item only when its condition holds", () => {
    expect(shown("panel", "", {})).toBe(true);
    expect(shown("panel.fault", "", {})).toBe(false);
    expect(shown("panel.fault", "", { [slotKey("panel", "")]: "pass" })).toBe(false);
    expect(shown("panel.fault", "", { [slotKey("panel", "")]: "fail" })).toBe(true);
  });

  it("reads conditions of per-asset items for the same asset", () => {
    const answers = { [slotKey("pump.leak", "a-p1")]: "fail", [slotKey("pump.leak", "a-p2")]: "pass" };
    expect(shown("pump.leak.where", "a-p1", answers)).toBe(true);
    expect(shown("pump.leak.where", "a-p2", answers)).toBe(false);
  });

  it("holds for a multiple choice when any chosen option is listed", () => {
    expect(shown("hazards.detail", "", { [slotKey("hazards", "")]: ["none"] })).toBe(false);
    expect(shown("hazards.detail", "", { [slotKey("hazards", "")]: ["none", "wiring"] })).toBe(true);
  });

  it("is transitive: hidden when the condition's own condition fails", () => {
    const answers = { [slotKey("hazards", "")]: ["wiring"], [slotKey("hazards.detail", "")]: "B1" };
    expect(shown("hazards.where", "", answers)).toBe(true);
    // The stored detail stays, but its own item is hidden again: so is the item depending on it.
    expect(shown("hazards.where", "", { ...answers, [slotKey("hazards", "")]: ["none"] })).toBe(false);
  });

  it("builds the answer map from stored answers", () => {
    const map = answerMap([{ item_key: "pump.leak", asset_id: "a-p1", value: "fail" }]);
    expect(map).toEqual({ [slotKey("pump.leak", "a-p1")]: "fail" });
  });
});

describe("readings checked as typed", () => {
  const limits = { min: 0.2, max: 1.2 };
  it("flags text that is not a number the core would accept", () => {
    for (const text of ["abc", "0,35", "1.2.3", "0x10", "1 000", "Infinity", "NaN", "."]) {
      expect(checkReading(text, limits).state, text).toBe("nan");
    }
  });
  it("accepts what the core parses", () => {
    for (const text of ["0.35", " 0.35 ", "+0.5", ".5", "1.", "5e-1"]) {
      expect(checkReading(text, limits).state, text).toBe("ok");
    }
  });
  it("marks readings outside the limits, limits themselves inside", () => {
    expect(checkReading("0.1", limits)).toEqual({ state: "low", value: 0.1, limit: 0.2 });
    expect(checkReading("1.5", limits)).toEqual({ state: "high", value: 1.5, limit: 1.2 });
    expect(checkReading("0.2", limits).state).toBe("ok");
    expect(checkReading("1.2", limits).state).toBe("ok");
    expect(checkReading("", limits).state).toBe("empty");
    expect(checkReading("-3", {}).state).toBe("ok");
    expect(checkReading("1", { min: 0, max: 0 }).state).toBe("high");
  });
});

describe("keyboard path", () => {
  it("P, F and N answer pass/fail items, in either case", () => {
    expect(keyAction({ key: "p" }, "pass_fail", "row")).toEqual({ type: "set", value: "pass" });
    expect(keyAction({ key: "F" }, "pass_fail", "row")).toEqual({ type: "set", value: "fail" });
    expect(keyAction({ key: "n" }, "pass_fail", "row")).toEqual({ type: "set", value: "na" });
    expect(keyAction({ key: "x" }, "pass_fail", "row")).toBeNull();
  });
  it("letters typed into a text field, and shortcuts with modifiers, are left alone", () => {
    expect(keyAction({ key: "p" }, "text", "text")).toBeNull();
    expect(keyAction({ key: "f" }, "numeric", "text")).toBeNull();
    expect(keyAction({ key: "p", ctrlKey: true }, "pass_fail", "row")).toBeNull();
    expect(keyAction({ key: "Enter", isComposing: true }, "text", "text")).toBeNull();
  });
  it("Enter and ↓ go to the next item, ↑ to the previous; date inputs keep their arrows", () => {
    expect(keyAction({ key: "Enter" }, "numeric", "text")).toEqual({ type: "next" });
    expect(keyAction({ key: "ArrowDown" }, "pass_fail", "row")).toEqual({ type: "next" });
    expect(keyAction({ key: "ArrowUp" }, "text", "text")).toEqual({ type: "prev" });
    expect(keyAction({ key: "ArrowUp" }, "date", "date")).toBeNull();
    expect(keyAction({ key: "Enter" }, "date", "date")).toEqual({ type: "next" });
  });
  it("digits choose options of choice items", () => {
    expect(keyAction({ key: "2" }, "multiple_choice", "row")).toEqual({ type: "toggle", index: 1 });
    expect(keyAction({ key: "1" }, "single_choice", "row")).toEqual({ type: "toggle", index: 0 });
    expect(keyAction({ key: "0" }, "single_choice", "row")).toBeNull();
    expect(keyAction({ key: "2" }, "pass_fail", "row")).toBeNull();
  });
});

describe("problems name slots", () => {
  it("maps the core's field names to slots", () => {
    expect(slotOfField("site.exits", assets)).toBe(slotKey("site.exits", ""));
    expect(slotOfField("pump.pressure (asset PUMP-2)", assets)).toBe(slotKey("pump.pressure", "a-p2"));
    expect(slotOfField("pump.pressure (asset NOPE)", assets)).toBeNull();
  });
});
