/**
 * The time screen's pure rules (the core checks every entry again): reading the minutes as
 * typed, the category internal work must have, and what still fits in a day of 24 hours.
 */
import type { Activity, Category } from "./api";

export const MINUTES_A_DAY = 24 * 60;

/** "90" → 90, "1:30" → 90, "1.5h" → 90; null when it is not a duration. */
export function parseMinutes(text: string): number | null {
  const t = text.trim().toLowerCase();
  let m: RegExpMatchArray | null;
  if ((m = t.match(/^(\d{1,4})$/))) return Number(m[1]);
  if ((m = t.match(/^(\d{1,2}):([0-5]\d)$/))) return Number(m[1]) * 60 + Number(m[2]);
  if ((m = t.match(/^(\d{1,2}(?:\.\d+)?)\s*h$/))) return Math.round(Number(m[1]) * 60);
  return null;
}

/** The category an activity starts with in the form: internal work is D. */
export function categoryFor(activity: Activity, current: Category): Category {
  return activity === "internal" ? "D" : current === "D" ? "B" : current;
}

export type TimeProblem =
  | { kind: "minutes" }
  | { kind: "internal" }
  | { kind: "day"; total: number; left: number };

/**
 * What is wrong with an entry before it is sent: `dayTotal` is the day's minutes as shown,
 * `replacing` the minutes of the entry being edited (not counted twice).
 */
export function checkEntry(minutes: number | null, activity: Activity, category: Category, dayTotal: number, replacing = 0): TimeProblem[] {
  const problems: TimeProblem[] = [];
  if (minutes === null || !Number.isInteger(minutes) || minutes < 1 || minutes > MINUTES_A_DAY) problems.push({ kind: "minutes" });
  if (activity === "internal" && category !== "D") problems.push({ kind: "internal" });
  if (minutes !== null && minutes >= 1 && minutes <= MINUTES_A_DAY) {
    const others = dayTotal - replacing;
    if (others + minutes > MINUTES_A_DAY) problems.push({ kind: "day", total: others + minutes, left: Math.max(0, MINUTES_A_DAY - others) });
  }
  return problems;
}
