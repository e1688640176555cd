/**
 * Pure helpers of the Complaints screen: the month whose statistics are due, the time a complaint
 * was received from the day the clerk typed, what a form still lacks. The server checks
 * everything again; these only spare a round trip and say it in the clerk's language.
 */
import type { ComplaintCategory, ComplaintSeverity, InformedHow } from "./api";
import { fromLocalInput, toLocalInput } from "./values";

export const CATEGORIES: ComplaintCategory[] = ["attitude", "timeliness", "quality", "parts", "charges", "other"];
export const SEVERITIES: ComplaintSeverity[] = ["normal", "serious"];
export const INFORMED: InformedHow[] = ["phone", "letter", "email", "visit"];

/** `YYYY-MM` of the month before `now` (local): the statistics due by the 10th of this month. */
export function lastMonth(now = new Date()): string {
  const d = new Date(now.getFullYear(), now.getMonth() - 1, 1);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}`;
}

/**
 * When the complaint was received, from the day typed (`YYYY-MM-DD`, local): today is now; an
 * earlier day (a letter entered late) is noon of that day; a later day is refused (`null`).
 */
export function receivedAt(day: string, now = new Date()): string | null {
  const today = toLocalInput(now).slice(0, 10);
  if (!day || day === today) return now.toISOString();
  if (day > today) return null;
  return fromLocalInput(`${day}T12:00`);
}

export interface NewForm {
  customerId: string | null;
  description: string;
  receivedDay: string;
}

/** The i18n key of what the new-complaint form lacks, or `null`. */
export function newFormProblem(f: NewForm, now = new Date()): "complaints.need_customer" | "complaints.need_description" | "complaints.need_received" | null {
  if (!f.customerId) return "complaints.need_customer";
  if (!f.description.trim()) return "complaints.need_description";
  if (receivedAt(f.receivedDay, now) === null) return "complaints.need_received";
  return null;
}

export interface CloseForm {
  result: string;
  informedDay: string;
  serious: boolean;
  hasWrittenReply: boolean;
}

/** The i18n key of why the complaint cannot close yet, or `null`. */
export function closeFormProblem(f: CloseForm, now = new Date()): "complaints.need_reply" | "complaints.need_result" | "complaints.need_informed" | null {
  if (f.serious && !f.hasWrittenReply) return "complaints.need_reply";
  if (!f.result.trim()) return "complaints.need_result";
  if (!f.informedDay || receivedAt(f.informedDay, now) === null) return "complaints.need_informed";
  return null;
}

/** A share as a whole percentage, `—` when there is none. */
export function percent(share: number | null): string {
  return share === null ? "—" : `${Math.round(share * 100)}%`;
}
