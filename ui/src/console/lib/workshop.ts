/**
 * The Workshop screen's pure logic: the stages in step order, the repair card form's checks
 * (minutes, what was done, the parts lines "name × quantity") and the check form's. The server
 * checks everything again; these only say what is wrong before anything is sent.
 */
import type { WorkshopPart, WorkshopStage } from "./api";

export const STAGES: WorkshopStage[] = ["received", "in_workshop", "repaired", "sent_back", "passed", "goods_out", "returned"];

/** Parses the parts box: one part per line, "name × quantity" (x, X, * or × ; no quantity: 1). */
export function parseParts(text: string): { parts: WorkshopPart[]; badLine: number | null } {
  const parts: WorkshopPart[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const m = /^(.*?)(?:\s*[×xX*]\s*(\d+))?$/.exec(line);
    const name = (m?.[1] ?? "").trim();
    const quantity = m?.[2] ? Number(m[2]) : 1;
    if (!name || !Number.isInteger(quantity) || quantity < 1 || quantity > 10000 || name.length > 200) return { parts: [], badLine: i + 1 };
    parts.push({ name, quantity });
  }
  return { parts, badLine: null };
}

export interface CardForm {
  minutes: string;
  done: string;
  repairedBy: string;
  parts: string;
}

export type CardProblem = { key: "minutes" } | { key: "done" } | { key: "parts"; line: number };

/** The repair card as the server takes it, or what is wrong with the form. */
export function checkCard(f: CardForm): { problems: CardProblem[]; body: { minutes: number; done: string; parts: WorkshopPart[]; repaired_by?: string } | null } {
  const problems: CardProblem[] = [];
  const minutes = Number(f.minutes.trim());
  if (!f.minutes.trim() || !Number.isInteger(minutes) || minutes < 1 || minutes > 144000) problems.push({ key: "minutes" });
  const done = f.done.trim();
  if (!done) problems.push({ key: "done" });
  const { parts, badLine } = parseParts(f.parts);
  if (badLine !== null) problems.push({ key: "parts", line: badLine });
  if (problems.length) return { problems, body: null };
  const body: { minutes: number; done: string; parts: WorkshopPart[]; repaired_by?: string } = { minutes, done, parts };
  if (f.repairedBy.trim()) body.repaired_by = f.repairedBy.trim();
  return { problems, body };
}

/** Sending back needs a note; passing does not. */
export function checkNeedsNote(result: "passed" | "sent_back", note: string): boolean {
  return result === "sent_back" && !note.trim();
}
