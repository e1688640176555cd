/**
 * The service calendar screen's form, as plain text fields an admin types into, and its
 * conversion to and from the calendar document the server validates (docs/console-api.md,
 * "Service calendar"). Only what a text field cannot say is checked here (a time range, a date);
 * the server names every other problem (overlaps, a day both holiday and make-up, unknown
 * policies…).
 */
import type { CalendarBody, CommitmentKind, Interval, Policy, Span, SpanUnit, WeekdayKey } from "./api";

export const WEEKDAYS: WeekdayKey[] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
export const COMMITMENTS: CommitmentKind[] = ["accept", "phone_answer", "on_site"];
export const SPAN_UNITS: SpanUnit[] = ["working_hours", "clock_hours", "calendar_days", "working_days"];

export interface SpanField {
  /** "": no such commitment. */
  unit: SpanUnit | "";
  amount: string;
}

export interface PolicyForm {
  name: string;
  label_en: string;
  label_zh: string;
  spans: Record<CommitmentKind, SpanField>;
}

export interface CalendarForm {
  utc_offset: string;
  /** "08:30-12:00, 13:00-17:30" per weekday; empty: not worked. */
  week: Record<WeekdayKey, string>;
  /** One a line: "2026-10-01 国庆节". */
  holidays: string;
  /** One a line: "2026-10-10 08:30-12:00 13:00-17:30 调休". */
  make_up_days: string;
  policies: PolicyForm[];
  zones: { urban: string; suburban: string };
  contracts: { number: string; policy: string }[];
}

/** Where the form cannot be read, and the text in question. */
export interface FormProblem {
  field: string;
  text: string;
}

const RANGE = /^(\d{2}:\d{2})\s*[-–~]\s*(\d{2}:\d{2})$/;
const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function range(token: string): Interval | null {
  const m = RANGE.exec(token.trim());
  if (!m || !TIME.test(m[1]) || !TIME.test(m[2])) return null;
  return { from: m[1], to: m[2] };
}

/** "08:30-12:00, 13:00-17:30" → intervals; null when a part is not a range of times. */
export function parseIntervals(text: string): Interval[] | null {
  const tokens = text.replace(/\s*[-–~]\s*/g, "-").split(/[,，;\s]+/).filter(Boolean);
  const out: Interval[] = [];
  for (const t of tokens) {
    const r = range(t);
    if (!r) return null;
    out.push(r);
  }
  return out;
}

export function showIntervals(list: Interval[]): string {
  return list.map((i) => `${i.from}-${i.to}`).join(", ");
}

function validDate(s: string): boolean {
  if (!DATE.test(s)) return false;
  const d = new Date(`${s}T12:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

function lines(text: string): string[] {
  return text.split("\n").map((l) => l.trim()).filter(Boolean);
}

export function spanOf(s: SpanField): Span | null {
  if (!s.unit) return null;
  return { [s.unit]: Number(s.amount) };
}

function spanField(span: Span | undefined): SpanField {
  if (!span) return { unit: "", amount: "" };
  const [unit, amount] = Object.entries(span)[0] as [SpanUnit, number];
  return { unit, amount: String(amount) };
}

export function formOf(body: CalendarBody): CalendarForm {
  const week = Object.fromEntries(WEEKDAYS.map((d) => [d, showIntervals(body.week[d] ?? [])])) as Record<WeekdayKey, string>;
  return {
    utc_offset: body.utc_offset,
    week,
    holidays: body.holidays.map((h) => `${h.date} ${h.name}`.trim()).join("\n"),
    make_up_days: body.make_up_days.map((m) => `${m.date} ${m.hours.map((i) => `${i.from}-${i.to}`).join(" ")} ${m.name}`.trim()).join("\n"),
    policies: body.policies.map((p) => ({
      name: p.name,
      label_en: p.label_en,
      label_zh: p.label_zh,
      spans: Object.fromEntries(COMMITMENTS.map((k) => [k, spanField(p.commitments.find((c) => c.kind === k)?.within)])) as Record<CommitmentKind, SpanField>,
    })),
    zones: { ...body.zones },
    contracts: Object.entries(body.contracts ?? {}).map(([number, policy]) => ({ number, policy })),
  };
}

/** The document to publish, or the first thing the form cannot say. */
export function bodyOf(form: CalendarForm): { body: CalendarBody } | { problem: FormProblem } {
  const week = {} as Record<WeekdayKey, Interval[]>;
  for (const d of WEEKDAYS) {
    const list = parseIntervals(form.week[d]);
    if (!list) return { problem: { field: d, text: form.week[d] } };
    week[d] = list;
  }
  const holidays = [];
  for (const line of lines(form.holidays)) {
    const [date, ...name] = line.split(/\s+/);
    if (!validDate(date)) return { problem: { field: "holidays", text: line } };
    holidays.push({ date, name: name.join(" ") });
  }
  const make_up_days = [];
  for (const line of lines(form.make_up_days)) {
    const [date, ...rest] = line.split(/\s+/);
    if (!validDate(date)) return { problem: { field: "make_up_days", text: line } };
    const hours: Interval[] = [];
    const name: string[] = [];
    for (const token of rest) {
      const r = range(token);
      if (r && name.length === 0) hours.push(r);
      else if (/^\d{2}:\d{2}/.test(token)) return { problem: { field: "make_up_days", text: line } };
      else name.push(token);
    }
    make_up_days.push({ date, hours, name: name.join(" ") });
  }
  const policies: Policy[] = [];
  for (const p of form.policies) {
    const commitments = [];
    for (const kind of COMMITMENTS) {
      const s = p.spans[kind];
      if (!s.unit) continue;
      if (!/^\d+$/.test(s.amount.trim())) return { problem: { field: `${p.name} ${kind}`, text: s.amount } };
      commitments.push({ kind, within: { [s.unit]: Number(s.amount.trim()) } as Span });
    }
    policies.push({ name: p.name.trim(), label_en: p.label_en.trim(), label_zh: p.label_zh.trim(), commitments });
  }
  const contracts: Record<string, string> = {};
  for (const c of form.contracts) {
    if (c.number.trim()) contracts[c.number.trim()] = c.policy;
  }
  return { body: { utc_offset: form.utc_offset.trim(), week, holidays, make_up_days, policies, zones: { ...form.zones }, contracts } };
}

export function emptyPolicy(): PolicyForm {
  return {
    name: "",
    label_en: "",
    label_zh: "",
    spans: { accept: { unit: "", amount: "" }, phone_answer: { unit: "", amount: "" }, on_site: { unit: "working_hours", amount: "6" } },
  };
}
