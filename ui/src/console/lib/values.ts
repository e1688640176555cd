/**
 * Pure helpers behind the console's screens: datetime-local
 * conversion, and showing / parsing a conflict's values (JSON-aware for non-text fields).
 */
import { ApiError } from "./api";

/** `YYYY-MM-DDTHH:MM` in local time, as an `<input type="datetime-local">` holds it. */
export function toLocalInput(date: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}T${p(date.getHours())}:${p(date.getMinutes())}`;
}

/** A datetime-local value (local time) as an RFC 3339 UTC string; null when it is not one. */
export function fromLocalInput(value: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** Today as `YYYY-MM-DD` in local time, shifted by `days`. */
export function localDay(days = 0, now = new Date()): string {
  const d = new Date(now.getFullYear(), now.getMonth(), now.getDate() + days, 12);
  return toLocalInput(d).slice(0, 10);
}

/** A stored value as people read it: text as is, anything else as compact JSON. */
export function showValue(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/** Whether a value is an RFC 3339 moment (shown again in local time next to the stored text). */
export function isMoment(value: unknown): boolean {
  return typeof value === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value) && !Number.isNaN(new Date(value).getTime());
}

/** Whether a field holds text (typed as is) rather than JSON (numbers, lists, objects…). */
export function isTextField(...values: unknown[]): boolean {
  const present = values.filter((v) => v !== null && v !== undefined);
  return present.length > 0 && present.every((v) => typeof v === "string");
}

export type Parsed = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * The office's merged value: text fields take the text as typed; other fields must be valid
 * JSON (a number, `true`, a list…), and the parser's complaint is returned for display.
 */
export function parseMerged(text: string, textField: boolean): Parsed {
  if (textField) return { ok: true, value: text };
  const trimmed = text.trim();
  if (trimmed === "") return { ok: false, error: "empty" };
  try {
    return { ok: true, value: JSON.parse(trimmed) };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

/** The JSON text of a template body as edited, parsed, with a first structural check. */
export function parseTemplateBody(text: string): Parsed {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return { ok: false, error: "not_object" };
  const sections = (body as { sections?: unknown }).sections;
  if (!Array.isArray(sections) || sections.length === 0) return { ok: false, error: "no_sections" };
  for (const [i, s] of sections.entries()) {
    const items = (s as { items?: unknown })?.items;
    if (!Array.isArray(items)) return { ok: false, error: `section ${i + 1}: items` };
  }
  return { ok: true, value: body };
}

/** The server's message, or null when the failure was not the server's answer. */
export function serverMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  return e instanceof Error ? e.message : String(e);
}

/**
 * What stops a close exception from being recorded, checked before anything is uploaded (the
 * server checks again): a reason, and for a paper voucher a photo of the paper; a photo must be
 * an image of an accepted type and size. `null` when the form is complete.
 */
export function photoProblem(
  form: { kind: string; reason: string; photo: { type: string; size: number } | null },
  types: string[],
  maxBytes: number,
): "reason_required" | "photo_required" | "photo_type" | "photo_size" | null {
  if (!form.reason.trim()) return "reason_required";
  if (form.photo) {
    if (!types.includes(form.photo.type)) return "photo_type";
    if (form.photo.size > maxBytes) return "photo_size";
  } else if (form.kind === "paper_voucher") {
    return "photo_required";
  }
  return null;
}

/**
 * What stops a return visit from being recorded: who answered, and a note when the problem is
 * not solved (it becomes the new call's problem); a card by phone needs all four ratings.
 */
export function visitProblem(form: {
  answered_by: string;
  solved: boolean | null;
  note: string;
  card: { attitude: number | null; skill: number | null; arrival: number | null; promise: number | null } | null;
}): "answered_by" | "solved" | "note" | "card" | null {
  if (!form.answered_by.trim()) return "answered_by";
  if (form.solved === null) return "solved";
  if (!form.solved && !form.note.trim()) return "note";
  if (form.card && [form.card.attitude, form.card.skill, form.card.arrival, form.card.promise].some((v) => v === null || v < 1 || v > 4)) return "card";
  return null;
}
