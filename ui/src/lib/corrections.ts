// What a technician may correct from site (the core's entity::CORRECTABLE) and the records of an
// order they may correct: its customer, its site and the site's assets the order shows.
import type { WorkOrderDetail } from "./api";

export type CorrectableEntity = "customers" | "sites" | "assets";

export const CORRECTABLE: Record<CorrectableEntity, string[]> = {
  customers: ["contact", "phone"],
  sites: ["address"],
  assets: ["model", "serial", "location"],
};

export interface CorrectionTarget {
  key: string;
  entity: CorrectableEntity;
  id: string;
  name: string;
}

export function correctionTargets(d: WorkOrderDetail): CorrectionTarget[] {
  return [
    { key: `customers/${d.customer.id}`, entity: "customers", id: d.customer.id, name: d.customer.name },
    { key: `sites/${d.site.id}`, entity: "sites", id: d.site.id, name: d.site.name },
    ...d.assets.map((a) => ({ key: `assets/${a.id}`, entity: "assets" as const, id: a.id, name: `${a.code} ${a.name}` })),
  ];
}

/** The field's value as this laptop has it. */
export function currentValue(d: WorkOrderDetail, t: CorrectionTarget, field: string): string | null {
  const rec: Record<string, unknown> | undefined =
    t.entity === "customers" ? (d.customer as unknown as Record<string, unknown>) : t.entity === "sites" ? (d.site as unknown as Record<string, unknown>) : (d.assets.find((a) => a.id === t.id) as unknown as Record<string, unknown>);
  const v = rec?.[field];
  return typeof v === "string" && v !== "" ? v : null;
}
