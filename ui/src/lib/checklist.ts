/**
 * The checklist as the form shows it: the template's slots (sections repeated per asset of a
 * type), which conditional items are shown, readings checked as they are typed, and the
 * keyboard path through the form.
 *
 * This mirrors `fieldbook_core::checklist` for display only. The core stays the authority: every
 * answer is sent to it, it normalises or refuses it, and it decides what is missing and what is
 * a finding.
 */
import type { Asset, TextPair } from "./api";

export interface Choice {
  key: string;
  label: TextPair;
  finding?: boolean;
}

export interface Condition {
  item: string;
  any_of: unknown[];
}

export type ItemKind =
  | { kind: "pass_fail" }
  | { kind: "numeric"; unit: string; min?: number | null; max?: number | null }
  | { kind: "text" }
  | { kind: "single_choice"; options: Choice[] }
  | { kind: "multiple_choice"; options: Choice[] }
  | { kind: "photo" }
  | { kind: "date" };

export type Item = ItemKind & {
  key: string;
  label: TextPair;
  required?: boolean;
  show_if?: Condition | null;
};

export interface Section {
  key: string;
  title: TextPair;
  per_asset_type?: string | null;
  items: Item[];
}

export interface Template {
  code: string;
  version: number;
  title: TextPair;
  sections: Section[];
}

/** Answers by slot key. */
export type AnswerMap = Record<string, unknown>;

/** The key of one place an item is answered (item, and asset id for per-asset sections). */
export function slotKey(itemKey: string, assetId: string): string {
  return `${itemKey}|${assetId}`;
}

export interface SlotRow {
  key: string;
  item: Item;
  section: Section;
  /** The asset for per-asset sections, `null` otherwise. */
  asset: Asset | null;
  /** Empty when the item is not in a per-asset section. */
  assetId: string;
}

/** A section as the form shows it: once, or once per asset of its type. */
export interface SlotGroup {
  key: string;
  section: Section;
  asset: Asset | null;
  rows: SlotRow[];
}

/** Every slot of the template for an order with these assets, in form order (as the core). */
export function slotGroups(template: Template, assets: Asset[]): SlotGroup[] {
  const groups: SlotGroup[] = [];
  for (const section of template.sections) {
    const targets: (Asset | null)[] = section.per_asset_type
      ? assets.filter((a) => a.asset_type === section.per_asset_type)
      : [null];
    for (const asset of targets) {
      const assetId = asset?.id ?? "";
      groups.push({
        key: `${section.key}|${assetId}`,
        section,
        asset,
        rows: section.items.map((item) => ({ key: slotKey(item.key, assetId), item, section, asset, assetId })),
      });
    }
  }
  return groups;
}

export function slots(template: Template, assets: Asset[]): SlotRow[] {
  return slotGroups(template, assets).flatMap((g) => g.rows);
}

function find(template: Template, key: string): { section: Section; item: Item } | null {
  for (const section of template.sections) {
    const item = section.items.find((i) => i.key === key);
    if (item) return { section, item };
  }
  return null;
}

/** JSON equality for answer values (strings, numbers, booleans, lists). */
function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Whether a slot is shown given the answers: its condition (and its condition's condition…)
 * holds. A condition on an item of a per-asset section is read for the same asset.
 */
export function isShown(template: Template, itemKey: string, assetId: string, answers: AnswerMap): boolean {
  let key = itemKey;
  for (let i = 0; i < 64; i++) {
    const found = find(template, key);
    if (!found) return false;
    const cond = found.item.show_if;
    if (!cond) return true;
    const target = find(template, cond.item);
    if (!target) return false;
    const condAsset = target.section.per_asset_type ? assetId : "";
    const k = slotKey(cond.item, condAsset);
    if (!(k in answers)) return false;
    const v = answers[k];
    const holds = Array.isArray(v)
      ? v.some((c) => cond.any_of.some((x) => same(x, c)))
      : cond.any_of.some((x) => same(x, v));
    if (!holds) return false;
    key = cond.item;
  }
  return false;
}

/** A reading as typed: empty, not a number, or a number inside / below / above its limits. */
export type Reading =
  | { state: "empty" }
  | { state: "nan" }
  | { state: "ok"; value: number }
  | { state: "low"; value: number; limit: number }
  | { state: "high"; value: number; limit: number };

// The numbers the core accepts (Rust's f64 parsing of decimal text): no hex, no thousands
// separators, no decimal comma.
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function checkReading(text: string, limits: { min?: number | null; max?: number | null }): Reading {
  const t = text.trim();
  if (t === "") return { state: "empty" };
  if (!NUMBER.test(t)) return { state: "nan" };
  const value = Number(t);
  if (!Number.isFinite(value)) return { state: "nan" };
  if (limits.min != null && value < limits.min) return { state: "low", value, limit: limits.min };
  if (limits.max != null && value > limits.max) return { state: "high", value, limit: limits.max };
  return { state: "ok", value };
}

/** Whether a reading as typed is a finding (outside the item's limits). */
export function isOutOfLimits(r: Reading): boolean {
  return r.state === "low" || r.state === "high";
}

/** What a key press does on a checklist row. */
export type KeyAction =
  | { type: "next" }
  | { type: "prev" }
  | { type: "set"; value: "pass" | "fail" | "na" }
  | { type: "toggle"; index: number };

/** Where the key was pressed: on the row or a button (`row`), in a one-line text input
 * (`text`), or in a control that uses the arrow keys itself (`date`). */
export type KeyTarget = "row" | "text" | "date";

export interface KeyInput {
  key: string;
  ctrlKey?: boolean;
  altKey?: boolean;
  metaKey?: boolean;
  /** An input method is composing (Chinese input): never intercept. */
  isComposing?: boolean;
}

/**
 * The keyboard path through the form: Enter or ↓ to the next item, ↑ to the previous; on a
 * pass/fail item P, F, N answer pass, fail, not applicable; on a choice item 1–9 toggle an
 * option. Letters and digits typed into a text input are text, not commands.
 */
export function keyAction(e: KeyInput, kind: Item["kind"], target: KeyTarget): KeyAction | null {
  if (e.ctrlKey || e.altKey || e.metaKey || e.isComposing) return null;
  switch (e.key) {
    case "Enter":
      return { type: "next" };
    case "ArrowDown":
      return target === "date" ? null : { type: "next" };
    case "ArrowUp":
      return target === "date" ? null : { type: "prev" };
  }
  if (target !== "row") return null;
  const k = e.key.toLowerCase();
  if (kind === "pass_fail") {
    if (k === "p") return { type: "set", value: "pass" };
    if (k === "f") return { type: "set", value: "fail" };
    if (k === "n") return { type: "set", value: "na" };
  }
  if ((kind === "single_choice" || kind === "multiple_choice") && /^[1-9]$/.test(k)) {
    return { type: "toggle", index: Number(k) - 1 };
  }
  return null;
}

/**
 * Which slot a problem's field names: the core writes `item.key` or
 * `item.key (asset CODE)`. Returns the slot key, or null.
 */
export function slotOfField(field: string, assets: Asset[]): string | null {
  const m = /^(\S+?)(?: \(asset (.+)\))?$/.exec(field.trim());
  if (!m) return null;
  if (!m[2]) return slotKey(m[1], "");
  const asset = assets.find((a) => a.code === m[2] || a.id === m[2]);
  return asset ? slotKey(m[1], asset.id) : null;
}

/** The answer map of stored answers. */
export function answerMap(answers: { item_key: string; asset_id: string; value: unknown }[]): AnswerMap {
  const map: AnswerMap = {};
  for (const a of answers) map[slotKey(a.item_key, a.asset_id)] = a.value;
  return map;
}
