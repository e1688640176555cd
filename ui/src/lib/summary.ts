/** What the customer is asked to sign: the order's results in numbers, from its full record. */
import type { WorkOrderDetail } from "./api";
import type { Item } from "./checklist";

export interface SignSummary {
  pass: number;
  fail: number;
  na: number;
  readings: number;
  otherAnswers: number;
  findings: number;
  repairs: number;
  parts: { sku: string; quantity: number }[];
  labourMinutes: number;
  feeCents: number;
  feeCollectedCents: number;
}

export function signSummary(d: WorkOrderDetail): SignSummary {
  const kinds = new Map<string, Item["kind"]>();
  for (const s of d.template?.sections ?? []) for (const i of s.items) kinds.set(i.key, i.kind);
  const s: SignSummary = {
    pass: 0,
    fail: 0,
    na: 0,
    readings: 0,
    otherAnswers: 0,
    findings: d.findings.length,
    repairs: d.repairs.length,
    parts: [],
    labourMinutes: 0,
    feeCents: 0,
    feeCollectedCents: 0,
  };
  for (const a of d.answers) {
    const kind = kinds.get(a.item_key);
    if (kind === "pass_fail") {
      if (a.value === "pass") s.pass++;
      else if (a.value === "fail") s.fail++;
      else s.na++;
    } else if (kind === "numeric") s.readings++;
    else s.otherAnswers++;
  }
  const parts = new Map<string, number>();
  for (const r of d.repairs) {
    s.labourMinutes += r.labour_minutes;
    s.feeCents += r.fee_cents;
    if (r.fee_collected) s.feeCollectedCents += r.fee_cents;
    for (const p of r.parts) parts.set(p.sku, (parts.get(p.sku) ?? 0) + p.quantity);
  }
  s.parts = [...parts].map(([sku, quantity]) => ({ sku, quantity }));
  return s;
}
