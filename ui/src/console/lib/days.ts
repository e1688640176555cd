/**
 * The daily-report review's pure rules (the server checks again): a day's state as the list
 * shows it, and whether a decision can be sent.
 */
import type { DayReview } from "./api";

export type DayState = "signed_off" | "returned" | "changed" | "none";

/** A signed-off day whose entries changed after the sign-off is "changed" until decided again. */
export function dayState(review: DayReview | null): DayState {
  if (!review) return "none";
  if (review.status === "signed_off" && review.changed_at) return "changed";
  return review.status;
}

/** A returned day needs a note for the technician; a sign-off needs time to sign off. */
export function decisionProblem(status: "signed_off" | "returned", note: string, entries: number): "note" | "empty" | null {
  if (status === "returned" && !note.trim()) return "note";
  if (status === "signed_off" && entries === 0) return "empty";
  return null;
}
