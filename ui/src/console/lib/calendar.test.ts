import { describe, expect, it } from "vitest";
import type { CalendarBody } from "./api";
import { bodyOf, formOf, parseIntervals } from "./calendar";

const DAY = [{ from: "08:30", to: "12:00" }, { from: "13:00", to: "17:30" }];
const BODY: CalendarBody = {
  utc_offset: "+08:00",
  week: { mon: DAY, tue: DAY, wed: DAY, thu: DAY, fri: DAY, sat: [], sun: [] },
  holidays: [{ date: "2026-10-01", name: "国庆节 National Day" }],
  make_up_days: [{ date: "2026-10-10", hours: DAY, name: "调休上班" }],
  policies: [
    { name: "urban", label_en: "Urban", label_zh: "市区", commitments: [{ kind: "on_site", within: { working_hours: 6 } }] },
    {
      name: "in_province",
      label_en: "In province",
      label_zh: "省内",
      commitments: [
        { kind: "accept", within: { clock_hours: 24 } },
        { kind: "phone_answer", within: { clock_hours: 48 } },
        { kind: "on_site", within: { working_days: 2 } },
      ],
    },
  ],
  zones: { urban: "urban", suburban: "urban" },
  contracts: { "HT-2025-017": "in_province" },
};

describe("service calendar form", () => {
  it("reads working intervals however they are typed", () => {
    expect(parseIntervals("08:30-12:00, 13:00-17:30")).toEqual(DAY);
    expect(parseIntervals("08:30 – 12:00，13:00~17:30")).toEqual(DAY);
    expect(parseIntervals("")).toEqual([]);
    expect(parseIntervals("8:30-12:00")).toBeNull();
    expect(parseIntervals("08:30-25:00")).toBeNull();
    expect(parseIntervals("mornings")).toBeNull();
  });

  it("turns a document into the form and back unchanged", () => {
    const form = formOf(BODY);
    expect(form.week.mon).toBe("08:30-12:00, 13:00-17:30");
    expect(form.week.sat).toBe("");
    expect(form.holidays).toBe("2026-10-01 国庆节 National Day");
    expect(form.make_up_days).toBe("2026-10-10 08:30-12:00 13:00-17:30 调休上班");
    expect(form.policies[1].spans.on_site).toEqual({ unit: "working_days", amount: "2" });
    expect(form.policies[0].spans.accept).toEqual({ unit: "", amount: "" });
    expect(bodyOf(form)).toEqual({ body: BODY });
  });

  it("names the line it cannot read", () => {
    const form = formOf(BODY);
    form.week.tue = "9 to 5";
    expect(bodyOf(form)).toEqual({ problem: { field: "tue", text: "9 to 5" } });
    const f2 = formOf(BODY);
    f2.holidays = "2026-10-01 National Day\n2026-02-30 nonsense";
    expect(bodyOf(f2)).toEqual({ problem: { field: "holidays", text: "2026-02-30 nonsense" } });
    const f3 = formOf(BODY);
    f3.make_up_days = "2026-10-10 08:30-12:00 13:00-25:00";
    expect(bodyOf(f3)).toEqual({ problem: { field: "make_up_days", text: "2026-10-10 08:30-12:00 13:00-25:00" } });
    const f4 = formOf(BODY);
    f4.policies[0].spans.on_site.amount = "six";
    expect(bodyOf(f4)).toEqual({ problem: { field: "urban on_site", text: "six" } });
  });

  it("drops contract rows without a number", () => {
    const form = formOf(BODY);
    form.contracts.push({ number: "  ", policy: "urban" });
    const out = bodyOf(form);
    expect("body" in out && out.body.contracts).toEqual({ "HT-2025-017": "in_province" });
  });
});
