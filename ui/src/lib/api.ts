/** Typed wrappers over the Tauri commands in src-tauri/src/commands.rs. */
import { invoke } from "@tauri-apps/api/core";

/** One line of a day's list (`fieldbook_core::model::WorkOrderSummary`). */
export interface WorkOrderSummary {
  id: string;
  number: string;
  kind: string;
  status: string;
  priority: string;
  category: string;
  technician: string | null;
  customer_name: string;
  site_name: string;
  address: string;
  zone: string;
  scheduled_on: string;
  reported_at: string;
  response_deadline: string;
  arrived_at: string | null;
  problem: string | null;
}

/** What every command rejects with (`CommandError` serialized). */
export interface CommandError {
  kind: string;
  message: string;
}

/** Normalises anything a rejected `invoke` may throw (also outside Tauri, e.g. `vite dev`). */
export function toCommandError(e: unknown): CommandError {
  if (e && typeof e === "object" && "kind" in e && "message" in e) {
    return { kind: String(e.kind), message: String(e.message) };
  }
  return { kind: "ipc", message: e instanceof Error ? e.message : String(e) };
}

/** The work orders scheduled on `day` (`YYYY-MM-DD`; the laptop's today when omitted). */
export function todayOrders(day?: string): Promise<WorkOrderSummary[]> {
  return invoke<WorkOrderSummary[]>("today_orders", { date: day ?? null });
}
