import { describe, expect, it } from "vitest";
import { changes, describeChange, formValues, missing } from "./books";

describe("the books' forms", () => {
  it("send only what an edit changed, an emptied field as null", () => {
    const rec = { id: "c1", code: "C-1", name: "金桥", contact: "陈", phone: "+86 21 5030 1234", email: null };
    const form = formValues("customers", rec);
    expect(changes("customers", rec, form)).toEqual({});
    form.phone = " +86 21 5030 9999 ";
    form.contact = "";
    expect(changes("customers", rec, form)).toEqual({ phone: "+86 21 5030 9999", contact: null });
  });

  it("send every given field of a new record, with its parent", () => {
    const form = formValues("sites", null, { customer_id: "c1" });
    expect(form.zone).toBe("urban");
    form.code = "S-1";
    form.name = "A 座";
    expect(changes("sites", null, form)).toEqual({ customer_id: "c1", code: "S-1", name: "A 座", zone: "urban" });
    expect(missing("sites", form)).toEqual(["address", "region"]);
  });

  it("compare covered assets as sets", () => {
    const rec = { id: "k1", number: "HT-1", customer_id: "c1", starts_on: "2026-01-01", ends_on: "2026-12-31", asset_ids: ["a2", "a1"] };
    const form = formValues("contracts", rec);
    form.asset_ids = ["a1", "a2"];
    expect(changes("contracts", rec, form)).toEqual({});
    form.asset_ids = ["a1"];
    expect(changes("contracts", rec, form)).toEqual({ asset_ids: ["a1"] });
  });

  it("read a trail entry as from → to", () => {
    expect(describeChange({ from: { phone: "1" }, to: { phone: "2" } })).toEqual(["phone: 1 → 2"]);
    expect(describeChange({ fields: { code: "C-1", email: null, deleted: false } })).toEqual(["code: C-1"]);
    expect(describeChange(null)).toEqual([]);
  });
});
