/**
 * The Renewals screen's pure logic (#12): which steps a renewal may take next (the server
 * refuses the others, naming the missing step), how urgent a contract is, and the checks of the
 * step forms before anything is sent.
 */
import type { RenewalState, SentHow } from "./api";

export type StepKind = "notice_made" | "sent" | "visit_planned" | "renewed" | "lost";

/** The steps open from a state, in the order they are offered. */
export function nextSteps(state: RenewalState): StepKind[] {
  switch (state) {
    case "open":
      return ["notice_made"];
    case "notice_made":
      return ["notice_made", "sent"];
    case "sent":
    case "visit_planned":
      return ["visit_planned", "renewed", "lost"];
    case "renewed":
    case "lost":
      return [];
  }
}

/** How a row is marked: ended, within a week, or within the month. */
export function urgency(daysLeft: number, state: RenewalState): "done" | "ended" | "week" | "month" {
  if (state === "renewed" || state === "lost") return "done";
  if (daysLeft < 0) return "ended";
  return daysLeft <= 7 ? "week" : "month";
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The first problem of a step form (an i18n key), or null when it may be sent. */
export function stepProblem(
  kind: StepKind,
  f: { sentHow: SentHow | ""; sentDay: string; visitOn: string; visitBy: string; number: string; startsOn: string; endsOn: string; lostReason: string },
  today: string,
): string | null {
  switch (kind) {
    case "notice_made":
      return null;
    case "sent":
      if (!f.sentHow) return "renewals.need_how";
      if (!DAY.test(f.sentDay)) return "renewals.need_sent_day";
      if (f.sentDay > today) return "renewals.sent_future";
      return null;
    case "visit_planned":
      if (!DAY.test(f.visitOn)) return "renewals.need_visit_on";
      if (!f.visitBy.trim()) return "renewals.need_visit_by";
      return null;
    case "renewed":
      if (!f.number.trim()) return "renewals.need_number";
      if (!DAY.test(f.startsOn) || !DAY.test(f.endsOn)) return "renewals.need_dates";
      if (f.endsOn < f.startsOn) return "renewals.ends_before_start";
      return null;
    case "lost":
      return f.lostReason.trim() ? null : "renewals.need_reason";
  }
}

/** A renewal's proposed dates: the day after the old contract ends, for a year. */
export function proposedTerm(endsOn: string): { startsOn: string; endsOn: string } {
  const [y, m, d] = endsOn.split("-").map(Number);
  const start = new Date(Date.UTC(y, m - 1, d + 1));
  const end = new Date(Date.UTC(y + 1, m - 1, d));
  const iso = (t: Date) => t.toISOString().slice(0, 10);
  return { startsOn: iso(start), endsOn: iso(end) };
}

/** When the notice was sent: the day chosen, at the present time of day when it is today, else noon. */
export function sentAt(day: string, now: Date): string {
  const today = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}-${String(now.getDate()).padStart(2, "0")}`;
  if (day === today) return now.toISOString();
  const [y, m, d] = day.split("-").map(Number);
  return new Date(y, m - 1, d, 12, 0).toISOString();
}
