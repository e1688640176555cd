/** Dates, times, money and text pairs in the chosen language (Intl for all dates and numbers). */
import type { TextPair } from "./api";
import { formatDuration } from "./deadline";
import type { Locale } from "./i18n";
import { dateTimeFormat, numberFormat } from "./intl";

/** A moment as local date and time, e.g. `2026/3/14 16:30` or `Mar 14, 2026, 16:30`. */
export function formatDateTime(iso: string | null | undefined, locale: Locale): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return dateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short", hourCycle: "h23" }).format(d);
}

/** A local time of day, e.g. `16:30`. */
export function formatTime(iso: string | null | undefined, locale: Locale): string {
  if (!iso) return "—";
  return dateTimeFormat(locale, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date(iso));
}

/** A calendar day given as `YYYY-MM-DD`, e.g. `2026年3月14日` / `Mar 14, 2026`. */
export function formatDay(day: string | null | undefined, locale: Locale): string {
  if (!day) return "—";
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return day;
  // Noon local time: the same calendar day in every time zone.
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 12);
  return dateTimeFormat(locale, { dateStyle: "medium" }).format(d);
}

/** Yuan from cents, e.g. `¥560.00`. */
export function formatYuan(cents: number, locale: Locale): string {
  return numberFormat(locale, { style: "currency", currency: "CNY", currencyDisplay: "narrowSymbol" }).format(cents / 100);
}

/** Minutes as `1 h 35 min` / `1小时35分钟`. */
export function formatMinutes(minutes: number, locale: Locale): string {
  return formatDuration(Math.max(0, Math.round(minutes)), locale);
}

/** The half of a bilingual text for this language. */
export function pick(text: TextPair, locale: Locale): string {
  return locale === "en" ? text.en : text.zh;
}

/**
 * Yuan as typed (`560`, `560.5`, `¥ 1,200.00`) to cents; `null` when it is not an amount.
 * Empty text is zero.
 */
export function parseYuan(text: string): number | null {
  const t = text.replace(/[¥￥,\s]/g, "");
  if (t === "") return 0;
  if (!/^\d+(\.\d{0,2})?$/.test(t)) return null;
  return Math.round(Number(t) * 100);
}
