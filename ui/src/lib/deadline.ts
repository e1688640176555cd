/**
 * The response commitment clock: how long until (or since) a work order's response deadline,
 * and its wording. Pure functions of `now`, so they are testable and the list can re-render
 * them on a timer.
 */
import { translate, type Locale } from "./i18n";
import { dateTimeFormat } from "./intl";

export type ResponseState =
  /** Not yet on site, deadline ahead. */
  | { state: "open"; minutes: number }
  /** Not yet on site, deadline passed: the commitment is breached. */
  | { state: "breached"; minutes: number }
  /** Arrived before the deadline. */
  | { state: "met" }
  /** Arrived after the deadline. */
  | { state: "late"; minutes: number }
  /** Finished without a recorded arrival (e.g. imported history): no clock to show. */
  | { state: "closed" };

export interface DeadlineFields {
  response_deadline: string;
  arrived_at: string | null;
  status: string;
}

const MINUTE = 60_000;

export function responseState(order: DeadlineFields, now: Date): ResponseState {
  const deadline = Date.parse(order.response_deadline);
  if (order.arrived_at) {
    const late = Date.parse(order.arrived_at) - deadline;
    return late > 0 ? { state: "late", minutes: Math.ceil(late / MINUTE) } : { state: "met" };
  }
  if (order.status === "completed" || order.status === "signed") return { state: "closed" };
  const left = deadline - now.getTime();
  // Round towards "less time": never show more time left, or less overdue, than there is.
  return left >= 0
    ? { state: "open", minutes: Math.floor(left / MINUTE) }
    : { state: "breached", minutes: Math.ceil(-left / MINUTE) };
}

/** `2 h 5 min`, `1 d 3 h`, `45 min` (or `2小时5分钟`…). */
export function formatDuration(minutes: number, locale: Locale): string {
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  if (d > 0) return translate(locale, "duration.dh", { d, h });
  if (h > 0) return translate(locale, "duration.hm", { h, m });
  return translate(locale, "duration.m", { m });
}

export function formatResponse(s: ResponseState, locale: Locale): string {
  switch (s.state) {
    case "open":
      return translate(locale, "response.left", { duration: formatDuration(s.minutes, locale) });
    case "breached":
      return translate(locale, "response.breached", { duration: formatDuration(s.minutes, locale) });
    case "late":
      return translate(locale, "response.late", { duration: formatDuration(s.minutes, locale) });
    case "met":
      return translate(locale, "response.met");
    case "closed":
      return translate(locale, "response.closed");
  }
}

/**
 * The deadline as local wall-clock time in the language's own order: `3月14日 16:30` /
 * `Mar 14, 16:30` (a numeric `03/14` would read as day/month to some English readers).
 */
export function formatDeadline(iso: string, locale: Locale): string {
  return dateTimeFormat(locale, {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(new Date(iso));
}

/** The local calendar day as `YYYY-MM-DD` (what `today_orders` expects). */
export function localDay(now: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}
