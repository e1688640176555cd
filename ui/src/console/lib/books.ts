/**
 * The office's books (#12), as the Customers screen edits them: the fields of each kind of
 * record in form order (the server's `console::books::KINDS`), what a form changed (only that
 * is sent, so an edit never overwrites a field someone else changed meanwhile), and how a trail
 * entry's change reads.
 */

export type BookKind = "customers" | "sites" | "assets" | "contracts";

export type FieldInput = "text" | "date" | "zone" | "email" | "tel" | "assets";

/** Fields the console edits, in form order; `parent` fields are set by where the form is. */
export const FIELDS: Record<BookKind, { name: string; input: FieldInput; required?: boolean; parent?: boolean }[]> = {
  customers: [
    { name: "code", input: "text", required: true },
    { name: "name", input: "text", required: true },
    { name: "contact", input: "text" },
    { name: "phone", input: "tel" },
    { name: "email", input: "email" },
  ],
  sites: [
    { name: "customer_id", input: "text", required: true, parent: true },
    { name: "code", input: "text", required: true },
    { name: "name", input: "text", required: true },
    { name: "address", input: "text", required: true },
    { name: "region", input: "text", required: true },
    { name: "zone", input: "zone", required: true },
  ],
  assets: [
    { name: "site_id", input: "text", required: true, parent: true },
    { name: "code", input: "text", required: true },
    { name: "asset_type", input: "text", required: true },
    { name: "name", input: "text", required: true },
    { name: "model", input: "text" },
    { name: "serial", input: "text" },
    { name: "location", input: "text" },
    { name: "installed_on", input: "date" },
    { name: "warranty_ends", input: "date" },
  ],
  contracts: [
    { name: "number", input: "text", required: true },
    { name: "customer_id", input: "text", required: true, parent: true },
    { name: "starts_on", input: "date", required: true },
    { name: "ends_on", input: "date", required: true },
    { name: "asset_ids", input: "assets" },
  ],
};

export type BookRecord = Record<string, unknown> & { id?: string };

/** The form's values of a record: text for every field, a list for covered assets. */
export function formValues(kind: BookKind, record: BookRecord | null, parent: Record<string, string> = {}): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const f of FIELDS[kind]) {
    const v = record?.[f.name] ?? parent[f.name];
    if (f.input === "assets") out[f.name] = Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
    else if (f.input === "zone") out[f.name] = typeof v === "string" && v ? v : "urban";
    else out[f.name] = typeof v === "string" ? v : "";
  }
  return out;
}

function same(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    const x = Array.isArray(a) ? [...a].sort() : [];
    const y = Array.isArray(b) ? [...b].sort() : [];
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  const norm = (v: unknown) => (typeof v === "string" ? v.trim() : v ?? "");
  return norm(a) === norm(b);
}

/**
 * What to send: for a new record every field (empty ones as null), for an edit only the fields
 * the form changed (an emptied field as null). `{}` means nothing changed.
 */
export function changes(kind: BookKind, record: BookRecord | null, form: Record<string, string | string[]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of FIELDS[kind]) {
    const v = form[f.name];
    const value = Array.isArray(v) ? v : typeof v === "string" && v.trim() !== "" ? v.trim() : null;
    if (record === null) {
      if (value !== null) out[f.name] = value;
    } else if (!same(record[f.name] ?? "", value ?? "")) {
      out[f.name] = value;
    }
  }
  return out;
}

/** A required field left empty, named before anything is sent (the server checks again). */
export function missing(kind: BookKind, form: Record<string, string | string[]>): string[] {
  return FIELDS[kind].filter((f) => f.required && !f.parent && (typeof form[f.name] !== "string" || (form[f.name] as string).trim() === "")).map((f) => f.name);
}

/** A trail entry's change as "field: from → to" lines (or the new fields of a created record). */
export function describeChange(detail: unknown): string[] {
  if (!detail || typeof detail !== "object") return [];
  const d = detail as { from?: Record<string, unknown>; to?: Record<string, unknown>; fields?: Record<string, unknown> };
  const show = (v: unknown) => (v === null || v === undefined || v === "" ? "—" : Array.isArray(v) ? v.join(", ") : String(v));
  if (d.to) return Object.keys(d.to).map((k) => `${k}: ${show(d.from?.[k])} → ${show(d.to?.[k])}`);
  if (d.fields) return Object.entries(d.fields).filter(([k, v]) => k !== "deleted" && k !== "merged_into" && v !== null).map(([k, v]) => `${k}: ${show(v)}`);
  return [];
}
