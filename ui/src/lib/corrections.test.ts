import { describe, expect, it } from "vitest";
import { assets, detail } from "../test/fixtures";
import { CORRECTABLE, correctionTargets, currentValue } from "./corrections";

describe("corrections from site", () => {
  it("offer the order's customer, its site and its assets, and only the whitelisted fields", () => {
    const d = detail();
    const targets = correctionTargets(d);
    expect(targets.map((t) => t.entity)).toEqual(["customers", "sites", ...assets.map(() => "assets")]);
    expect(targets[0]).toMatchObject({ id: "c1", name: "金桥国际商业广场" });
    expect(CORRECTABLE.customers).toEqual(["contact", "phone"]);
    expect(CORRECTABLE.sites).toEqual(["address"]);
    expect(CORRECTABLE.assets).toEqual(["model", "serial", "location"]);
  });

  it("show the value on file, or nothing when there is none", () => {
    const d = detail();
    const [customer, site] = correctionTargets(d);
    expect(currentValue(d, site, "address")).toBe("金桥路 1 号");
    expect(currentValue(d, customer, "phone")).toBeNull();
  });
});
