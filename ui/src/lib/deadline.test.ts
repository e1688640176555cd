import { describe, expect, it } from "vitest";
import { formatDuration, formatResponse, localDay, responseState, formatDeadline } from "./deadline";

const now = new Date("2026-03-14T08:00:00Z");
const order = (deadline: string, arrived_at: string | null = null, status = "dispatched") => ({
  response_deadline: deadline,
  arrived_at,
  status,
});

describe("response deadline clock", () => {
  it("counts down to the deadline, rounding down", () => {
    const s = responseState(order("2026-03-14T10:05:59Z"), now);
    expect(s).toEqual({ state: "open", minutes: 125 });
    expect(formatResponse(s, "en")).toBe("2 h 5 min left");
    expect(formatResponse(s, "zh-CN")).toBe("剩余 2小时5分钟");
  });

  it("is breached once the deadline has passed without arrival, rounding up", () => {
    const s = responseState(order("2026-03-14T07:59:30Z"), now);
    expect(s).toEqual({ state: "breached", minutes: 1 });
    expect(formatResponse(s, "en")).toBe("Overdue by 1 min");
    expect(formatResponse(s, "zh-CN")).toBe("已超时 1分钟");
  });

  it("exactly at the deadline is not yet breached", () => {
    expect(responseState(order("2026-03-14T08:00:00Z"), now)).toEqual({ state: "open", minutes: 0 });
  });

  it("judges arrival against the deadline, not against now", () => {
    expect(responseState(order("2026-03-14T06:00:00Z", "2026-03-14T05:00:00Z"), now)).toEqual({ state: "met" });
    const late = responseState(order("2026-03-14T06:00:00Z", "2026-03-14T07:30:00Z"), now);
    expect(formatResponse(late, "en")).toBe("Arrived 1 h 30 min late");
  });

  it("shows no clock for finished orders without an arrival time", () => {
    expect(responseState(order("2026-03-01T06:00:00Z", null, "signed"), now)).toEqual({ state: "closed" });
  });

  it("formats days for long spans", () => {
    expect(formatDuration(60 * 27 + 10, "en")).toBe("1 d 3 h");
    expect(formatDuration(60 * 27 + 10, "zh-CN")).toBe("1天3小时");
    expect(formatDuration(45, "en")).toBe("45 min");
  });

  it("names the local day as YYYY-MM-DD", () => {
    expect(localDay(new Date(2026, 0, 5, 23, 59))).toBe("2026-01-05");
  });
});

describe("formatDeadline", () => {
  it("writes the day the way each language does, never as a bare number pair", () => {
    const iso = new Date(2026, 11, 5, 16, 30).toISOString();
    expect(formatDeadline(iso, "zh-CN")).toBe("12月5日 16:30");
    expect(formatDeadline(iso, "en")).toBe("Dec 5, 16:30");
  });
});
