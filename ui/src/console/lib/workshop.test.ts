import { describe, expect, it } from "vitest";
import { checkCard, checkNeedsNote, parseParts } from "./workshop";

describe("workshop forms", () => {
  it("reads parts as name × quantity, one per line, a missing quantity being one", () => {
    expect(parseParts("GST200 主板 × 2\n\n保险丝 x 3\n电源线")).toEqual({
      parts: [{ name: "GST200 主板", quantity: 2 }, { name: "保险丝", quantity: 3 }, { name: "电源线", quantity: 1 }],
      badLine: null,
    });
    expect(parseParts("主板 × 0").badLine).toBe(1);
    expect(parseParts("ok\n × 2").badLine).toBe(2);
  });

  it("a repair card needs whole minutes and what was done, and names the bad parts line", () => {
    const bad = checkCard({ minutes: "1.5", done: " ", repairedBy: "", parts: "主板 × 1\n× 9" });
    expect(bad.body).toBeNull();
    expect(bad.problems).toEqual([{ key: "minutes" }, { key: "done" }, { key: "parts", line: 2 }]);
    const good = checkCard({ minutes: " 95 ", done: " 换主板 ", repairedBy: " 陈师傅 ", parts: "主板 × 1" });
    expect(good.body).toEqual({ minutes: 95, done: "换主板", parts: [{ name: "主板", quantity: 1 }], repaired_by: "陈师傅" });
    expect(checkCard({ minutes: "30", done: "fuse", repairedBy: "", parts: "" }).body).toEqual({ minutes: 30, done: "fuse", parts: [] });
  });

  it("sending back needs a note, passing does not", () => {
    expect(checkNeedsNote("sent_back", "  ")).toBe(true);
    expect(checkNeedsNote("sent_back", "burn-in too short")).toBe(false);
    expect(checkNeedsNote("passed", "")).toBe(false);
  });
});
