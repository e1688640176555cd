import { describe, expect, it } from "vitest";
import { closeFormProblem, lastMonth, newFormProblem, percent, receivedAt } from "./complaints";

const now = new Date(2026, 11, 6, 9, 30); // 6 Dec 2026, 09:30 local

describe("complaint helpers", () => {
  it("statistics default to last month, across a new year", () => {
    expect(lastMonth(now)).toBe("2026-11");
    expect(lastMonth(new Date(2027, 0, 3))).toBe("2026-12");
  });

  it("a complaint received today is now, an earlier day noon, a later day refused", () => {
    expect(receivedAt("2026-12-06", now)).toBe(now.toISOString());
    expect(receivedAt("", now)).toBe(now.toISOString());
    expect(receivedAt("2026-11-20", now)).toBe(new Date(2026, 10, 20, 12, 0).toISOString());
    expect(receivedAt("2026-12-07", now)).toBeNull();
  });

  it("the new form names what is missing first", () => {
    expect(newFormProblem({ customerId: null, description: "x", receivedDay: "" }, now)).toBe("complaints.need_customer");
    expect(newFormProblem({ customerId: "c", description: "  ", receivedDay: "" }, now)).toBe("complaints.need_description");
    expect(newFormProblem({ customerId: "c", description: "late", receivedDay: "2027-01-01" }, now)).toBe("complaints.need_received");
    expect(newFormProblem({ customerId: "c", description: "late", receivedDay: "2026-12-01" }, now)).toBeNull();
  });

  it("a serious complaint waits for the written reply before anything else", () => {
    const base = { result: "fixed", informedDay: "2026-12-05", serious: true, hasWrittenReply: false };
    expect(closeFormProblem(base, now)).toBe("complaints.need_reply");
    expect(closeFormProblem({ ...base, hasWrittenReply: true }, now)).toBeNull();
    expect(closeFormProblem({ ...base, serious: false, result: " " }, now)).toBe("complaints.need_result");
    expect(closeFormProblem({ ...base, serious: false, informedDay: "" }, now)).toBe("complaints.need_informed");
    expect(closeFormProblem({ ...base, serious: false, informedDay: "2026-12-09" }, now)).toBe("complaints.need_informed");
  });

  it("shares read as whole percentages", () => {
    expect(percent(0.5)).toBe("50%");
    expect(percent(2 / 3)).toBe("67%");
    expect(percent(null)).toBe("—");
  });
});
