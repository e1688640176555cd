import { describe, expect, it } from "vitest";
import { categoryFor, checkEntry, parseMinutes } from "./time";

describe("time entries", () => {
  it("reads minutes, hours:minutes and hours", () => {
    expect(parseMinutes("90")).toBe(90);
    expect(parseMinutes(" 1:30 ")).toBe(90);
    expect(parseMinutes("1.5h")).toBe(90);
    expect(parseMinutes("1:75")).toBeNull();
    expect(parseMinutes("abc")).toBeNull();
    expect(parseMinutes("")).toBeNull();
  });

  it("keeps internal work in category D", () => {
    expect(categoryFor("internal", "A")).toBe("D");
    expect(categoryFor("travel", "D")).toBe("B");
    expect(categoryFor("inspection", "A")).toBe("A");
    expect(checkEntry(60, "internal", "B", 0)).toEqual([{ kind: "internal" }]);
  });

  it("refuses minutes out of range and a day over 24 hours, naming what fits", () => {
    expect(checkEntry(0, "travel", "B", 0)).toEqual([{ kind: "minutes" }]);
    expect(checkEntry(null, "travel", "B", 0)).toEqual([{ kind: "minutes" }]);
    expect(checkEntry(1441, "travel", "B", 0)).toEqual([{ kind: "minutes" }]);
    expect(checkEntry(200, "travel", "B", 1300)).toEqual([{ kind: "day", total: 1500, left: 140 }]);
    // Editing an entry does not count its old minutes twice.
    expect(checkEntry(200, "travel", "B", 1300, 100)).toEqual([]);
    expect(checkEntry(140, "travel", "B", 1300)).toEqual([]);
  });
});
