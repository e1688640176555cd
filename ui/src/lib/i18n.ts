/**
 * Every user-visible string, in Simplified Chinese and English, and the pure `translate`
 * function. The reactive current locale lives in `locale.svelte.ts`.
 *
 * `en` defines the keys; `zhCN` is typed against it, so a string missing from either language
 * is a compile error (and a test failure).
 */

export type Locale = "zh-CN" | "en";
export const LOCALES: readonly Locale[] = ["zh-CN", "en"];

const en = {
  "app.title": "Fieldbook / 现场服务记录",
  "app.language": "Language / 语言",
  "locale.zh-CN": "中文 (简体)",
  "locale.en": "English",

  "today.title": "Today",
  "day.title": "Work orders for {day}",
  "day.label": "Day",
  "day.refresh": "Refresh",
  "day.loading": "Loading work orders…",
  "day.empty": "No work orders for this day.",
  "day.count": "{count} work orders, {breached} past their response deadline",
  "day.error": "Could not load the work orders",

  "col.number": "Work order",
  "col.kind": "Kind",
  "col.customer": "Customer",
  "col.site": "Site",
  "col.address": "Address",
  "col.status": "Status",
  "col.deadline": "Response deadline",
  "col.left": "Time left",

  "kind.patrol_inspection": "Patrol inspection",
  "kind.repair_call": "Repair call",
  "kind.maintenance": "Maintenance",

  "status.new": "New",
  "status.dispatched": "Dispatched",
  "status.en_route": "En route",
  "status.on_site": "On site",
  "status.completed": "Completed",
  "status.signed": "Signed by customer",

  "duration.dh": "{d} d {h} h",
  "duration.hm": "{h} h {m} min",
  "duration.m": "{m} min",
  "response.left": "{duration} left",
  "response.breached": "Overdue by {duration}",
  "response.met": "Arrived on time",
  "response.late": "Arrived {duration} late",
  "response.closed": "Closed",
} as const;

export type MessageKey = keyof typeof en;
type Messages = Record<MessageKey, string>;

const zhCN: Messages = {
  "app.title": "Fieldbook / 现场服务记录",
  "app.language": "语言 / Language",
  "locale.zh-CN": "中文 (简体)",
  "locale.en": "English",

  "today.title": "今日工单",
  "day.title": "{day} 的工单",
  "day.label": "日期",
  "day.refresh": "刷新",
  "day.loading": "正在加载工单…",
  "day.empty": "当天没有工单。",
  "day.count": "共 {count} 张工单，{breached} 张已超过响应时限",
  "day.error": "无法加载工单",

  "col.number": "工单号",
  "col.kind": "类型",
  "col.customer": "客户",
  "col.site": "现场",
  "col.address": "地址",
  "col.status": "状态",
  "col.deadline": "响应时限",
  "col.left": "剩余时间",

  "kind.patrol_inspection": "定期巡检",
  "kind.repair_call": "维修",
  "kind.maintenance": "保养",

  "status.new": "新建",
  "status.dispatched": "已派工",
  "status.en_route": "在途",
  "status.on_site": "到场",
  "status.completed": "已完工",
  "status.signed": "客户已签字",

  "duration.dh": "{d}天{h}小时",
  "duration.hm": "{h}小时{m}分钟",
  "duration.m": "{m}分钟",
  "response.left": "剩余 {duration}",
  "response.breached": "已超时 {duration}",
  "response.met": "按时到场",
  "response.late": "迟到 {duration}",
  "response.closed": "已关闭",
};

export const messages: Record<Locale, Messages> = { "zh-CN": zhCN, en };

export type Params = Record<string, string | number>;

/** The message for `key` in `locale`, with `{name}` placeholders filled from `params`. */
export function translate(locale: Locale, key: MessageKey, params: Params = {}): string {
  const text = messages[locale][key] ?? messages.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

/** Looks up a label for a value the core sends as a word (`repair_call`, `on_site`). */
export function labelFor(locale: Locale, prefix: "kind" | "status", word: string): string {
  const key = `${prefix}.${word}`;
  return key in messages[locale] ? translate(locale, key as MessageKey) : word;
}

export function isLocale(value: unknown): value is Locale {
  return typeof value === "string" && (LOCALES as readonly string[]).includes(value);
}
