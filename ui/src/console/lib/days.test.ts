import { describe, expect, it } from "vitest";
import { dayState, decisionProblem } from "./days";
import { parseHash } from "./route.svelte";

const review = (status: "signed_off" | "returned", changed_at: string | null = null) => ({
  id: "day:li.wei:2026-03-02",
  status,
  note: null,
  reviewed_by: "office",
  reviewed_at: "2026-03-03T09:00:00Z",
  minutes: 120,
  changed_at,
});

describe("daily report review", () => {
  it("tells a day's state, a change after sign-off first", () => {
    expect(dayState(null)).toBe("none");
    expect(dayState(review("signed_off"))).toBe("signed_off");
    expect(dayState(review("signed_off", "2026-03-03T10:00:00Z"))).toBe("changed");
    expect(dayState(review("returned", "2026-03-03T10:00:00Z"))).toBe("returned");
  });

  it("needs a note to return a day and time to sign one off", () => {
    expect(decisionProblem("returned", "  ", 3)).toBe("note");
    expect(decisionProblem("returned", "travel missing", 0)).toBeNull();
    expect(decisionProblem("signed_off", "", 0)).toBe("empty");
    expect(decisionProblem("signed_off", "", 2)).toBeNull();
  });

  it("routes to a technician's day", () => {
    const r = parseHash("#/daily-reports/li.wei?date=2026-03-02");
    expect([r.screen, r.id, r.params.get("date")]).toEqual(["daily-reports", "li.wei", "2026-03-02"]);
  });
});
