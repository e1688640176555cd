/**
 * Calendar days and times of day as the chosen language writes them, for typing and showing in
 * text fields (desktop and console). `<input type="date">` follows the browser's or the
 * system's locale, not the app's language switch (a Chinese UI on an American system read
 * `12/05/2026`), so date fields are text in the language's own pattern instead:
 * zh-CN `2026-12-05` (also accepted: `2026/12/5`, `2026.12.5`, `2026年12月5日`),
 * en `5 Dec 2026` (also `Dec 5, 2026`, `5 December 2026`, `2026-12-05`). Numeric day/month orders
 * such as `12/05/2026` are refused as ambiguous. Values are ISO `YYYY-MM-DD` (days) and `HH:MM`
 * (24-hour times), what the API takes.
 */
import type { Locale } from "./i18n";

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const pad = (n: number) => String(n).padStart(2, "0");

/** `YYYY-MM-DD` when the numbers make a real calendar day, else null. */
function isoDay(year: number, month: number, day: number): string | null {
  if (year < 1900 || year > 2999 || month < 1 || month > 12 || day < 1) return null;
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > last) return null;
  return `${year}-${pad(month)}-${pad(day)}`;
}

function monthOf(word: string): number | null {
  const w = word.toLowerCase().replace(/\.$/, "");
  if (w.length < 3) return null;
  const i = MONTHS.findIndex((m) => w.startsWith(m) && "january february march april may june july august september october november december".split(" ")[MONTHS.indexOf(m)].startsWith(w));
  return i < 0 ? null : i + 1;
}

/** An ISO day as the language writes it in a date field: `2026-12-05` / `5 Dec 2026`. */
export function formatDayInput(iso: string | null | undefined, locale: Locale): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso ?? "");
  if (!m) return "";
  if (locale === "zh-CN") return `${m[1]}-${m[2]}-${m[3]}`;
  return `${Number(m[3])} ${MONTH_NAMES[Number(m[2]) - 1]} ${m[1]}`;
}

/** What a date field shows as an example of its pattern. */
export function dayExample(locale: Locale): string {
  return locale === "zh-CN" ? "2026-12-05" : "5 Dec 2026";
}

/**
 * A day as typed, in the language's patterns, to `YYYY-MM-DD`; `""` for an empty field, null
 * when it is not a day (or not one this language writes unambiguously).
 */
export function parseDayInput(text: string, locale: Locale): string | null {
  const t = text.trim().replace(/\s+/g, " ");
  if (t === "") return "";
  // Year first with numbers is unambiguous in both languages.
  let m = /^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})$/.exec(t);
  if (m) return isoDay(Number(m[1]), Number(m[2]), Number(m[3]));
  if (locale === "zh-CN") {
    m = /^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?$/.exec(t);
    return m ? isoDay(Number(m[1]), Number(m[2]), Number(m[3])) : null;
  }
  // `5 Dec 2026`, `5 December, 2026`
  m = /^(\d{1,2})(?:st|nd|rd|th)? ([A-Za-z]+\.?),? (\d{4})$/.exec(t);
  if (m) {
    const month = monthOf(m[2]);
    return month ? isoDay(Number(m[3]), month, Number(m[1])) : null;
  }
  // `Dec 5, 2026`, `December 5 2026`
  m = /^([A-Za-z]+\.?) (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})$/.exec(t);
  if (m) {
    const month = monthOf(m[1]);
    return month ? isoDay(Number(m[3]), month, Number(m[2])) : null;
  }
  return null;
}

/** A time of day as typed (`16:30`, `9:05`, `16.30`, `1630`) to `HH:MM`; `""` when empty, null when not a time. */
export function parseTimeInput(text: string): string | null {
  const t = text.trim();
  if (t === "") return "";
  const m = /^(\d{1,2})\s*[:.：点]\s*(\d{2})\s*分?$/.exec(t) ?? /^(\d{2})(\d{2})$/.exec(t);
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (h > 23 || min > 59) return null;
  return `${pad(h)}:${pad(min)}`;
}
