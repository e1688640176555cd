import { describe, expect, it } from "vitest";
import { nextSteps, proposedTerm, sentAt, stepProblem, urgency } from "./renewals";

const blank = { sentHow: "" as const, sentDay: "", visitOn: "", visitBy: "", number: "", startsOn: "", endsOn: "", lostReason: "" };

describe("renewal helpers", () => {
  it("offers only the steps the server accepts next", () => {
    expect(nextSteps("open")).toEqual(["notice_made"]);
    expect(nextSteps("notice_made")).toEqual(["notice_made", "sent"]);
    expect(nextSteps("sent")).toEqual(["visit_planned", "renewed", "lost"]);
    expect(nextSteps("visit_planned")).toEqual(["visit_planned", "renewed", "lost"]);
    expect(nextSteps("renewed")).toEqual([]);
    expect(nextSteps("lost")).toEqual([]);
  });

  it("marks ended, this week's and this month's contracts; decided ones are done", () => {
    expect(urgency(-1, "sent")).toBe("ended");
    expect(urgency(0, "open")).toBe("week");
    expect(urgency(7, "open")).toBe("week");
    expect(urgency(8, "open")).toBe("month");
    expect(urgency(-3, "renewed")).toBe("done");
  });

  it("names the first missing thing of each form", () => {
    const today = "2026-12-06";
    expect(stepProblem("notice_made", blank, today)).toBeNull();
    expect(stepProblem("sent", blank, today)).toBe("renewals.need_how");
    expect(stepProblem("sent", { ...blank, sentHow: "post" }, today)).toBe("renewals.need_sent_day");
    expect(stepProblem("sent", { ...blank, sentHow: "post", sentDay: "2026-12-07" }, today)).toBe("renewals.sent_future");
    expect(stepProblem("sent", { ...blank, sentHow: "fax", sentDay: "2026-12-06" }, today)).toBeNull();
    expect(stepProblem("visit_planned", { ...blank, visitOn: "2026-12-10" }, today)).toBe("renewals.need_visit_by");
    expect(stepProblem("renewed", { ...blank, number: "HT-1", startsOn: "2027-01-01", endsOn: "2026-12-31" }, today)).toBe("renewals.ends_before_start");
    expect(stepProblem("renewed", { ...blank, number: "HT-1", startsOn: "2027-01-01", endsOn: "2027-12-31" }, today)).toBeNull();
    expect(stepProblem("lost", { ...blank, lostReason: "  " }, today)).toBe("renewals.need_reason");
  });

  it("proposes a year from the day after the end, across month and leap-year ends", () => {
    expect(proposedTerm("2026-12-31")).toEqual({ startsOn: "2027-01-01", endsOn: "2027-12-31" });
    expect(proposedTerm("2027-02-28")).toEqual({ startsOn: "2027-03-01", endsOn: "2028-02-28" });
  });

  it("a notice sent today is now; an earlier day at noon", () => {
    const now = new Date(2026, 11, 6, 9, 30);
    expect(sentAt("2026-12-06", now)).toBe(now.toISOString());
    expect(sentAt("2026-12-01", now)).toBe(new Date(2026, 11, 1, 12, 0).toISOString());
  });
});
