/**
 * Typed wrappers over the Tauri commands in src-tauri/src/commands.rs: the only place the UI
 * talks to the desktop shell. The types mirror what `fieldbook_core` serializes.
 */
import { invoke as tauriInvoke } from "@tauri-apps/api/core";
import type { Template } from "./checklist";

/** Called when a command is refused because the laptop is locked for being offline too long. */
let onOfflineLocked: (() => void) | null = null;
export function whenOfflineLocked(handler: (() => void) | null): void {
  onOfflineLocked = handler;
}

/** Every command goes through here: a refusal for the offline lock (it can start while a
 * screen is open) tells the sync state at once, so the lock screen replaces the screen. */
function invoke<T>(...args: Parameters<typeof tauriInvoke>): Promise<T> {
  return tauriInvoke<T>(...args).catch((e: unknown) => {
    if (e && typeof e === "object" && "kind" in e && e.kind === "offline_locked") onOfflineLocked?.();
    throw e;
  });
}

// ---------------------------------------------------------------------------------------------
// Records

export type Category = "A" | "B" | "C" | "D";
export const CATEGORIES: readonly Category[] = ["A", "B", "C", "D"];
export type Status = "new" | "dispatched" | "en_route" | "on_site" | "completed" | "signed";

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

export interface WorkOrder {
  id: string;
  number: string;
  kind: string;
  customer_id: string;
  site_id: string;
  asset_ids: string[];
  technician: string | null;
  priority: string;
  category: Category;
  status: Status;
  template_id: string | null;
  problem: string | null;
  scheduled_on: string;
  reported_at: string;
  response_deadline: string;
  en_route_at: string | null;
  arrived_at: string | null;
  completed_at: string | null;
  revision: number;
  follow_up_of: string | null;
  /** The office's review, pulled from the server: "approved" or "returned" (null before). */
  review_state?: string | null;
  /** The office's note with its review: on a returned job, what to fix. */
  review_note?: string | null;
  /** The inspection plan the server generated the order from (#12). */
  plan_id?: string | null;
  /** The contract phase of the order's due date: the checklist shows that phase's items only. */
  phase?: "early" | "middle" | "late" | null;
}

export interface Customer {
  id: string;
  code: string;
  name: string;
  contact: string | null;
  phone: string | null;
  email: string | null;
}

export interface Site {
  id: string;
  code: string;
  customer_id: string;
  name: string;
  address: string;
  region: string;
  zone: string;
}

export interface Asset {
  id: string;
  code: string;
  site_id: string;
  asset_type: string;
  name: string;
  model: string | null;
  serial: string | null;
  location: string | null;
  installed_on: string | null;
  warranty_ends: string | null;
}

export interface Part {
  id: string;
  sku: string;
  name_zh: string;
  name_en: string;
  unit: string;
  price_cents: number | null;
}

export interface PartUsed {
  sku: string;
  quantity: number;
  serials?: string[];
  faulty_returned?: boolean;
}

export interface NewRepairRecord {
  asset_id: string | null;
  fault: string;
  cause: string;
  action: string;
  parts: PartUsed[];
  labour_minutes: number;
  category: Category;
  fee_cents: number;
  fee_collected: boolean;
  taken_to_workshop: boolean;
  receipt_number: string | null;
}

export interface RepairRecord extends NewRepairRecord {
  id: string;
  work_order_id: string;
  recorded_at: string;
}

/** Each criterion 1 (poor) … 4 (very good). */
export interface SatisfactionCard {
  attitude: number;
  skill: number;
  arrival: number;
  promise: number;
  comment: string | null;
}

/** A pen stroke point: pad pixels, `t` ms since the stroke began. */
export interface StrokePoint {
  x: number;
  y: number;
  t: number;
}
export type Stroke = StrokePoint[];

export interface SignRequest {
  signer_name: string;
  signer_title: string | null;
  strokes: Stroke[];
}

export interface Signature {
  id: string;
  work_order_id: string;
  revision: number;
  signer_name: string;
  signer_title: string | null;
  signed_at: string;
  strokes: Stroke[];
  signed_content: string;
  digest: string;
  device_id: string;
  device_public_key: string;
  device_signature: string;
}

export interface Answer {
  item_key: string;
  /** Empty for items outside per-asset sections. */
  asset_id: string;
  value: unknown;
  note: string | null;
  answered_at: string;
}

export interface TextPair {
  zh: string;
  en: string;
}

export interface Finding {
  item_key: string;
  asset_id: string;
  label: TextPair;
  reason: TextPair;
  value: unknown;
}

/** One thing wrong with one field (`fieldbook_core::FieldProblem`). */
export interface FieldProblem {
  record: string;
  field: string;
  problem: string;
}

export interface TimeEntry {
  id: string;
  technician: string;
  work_order_id: string | null;
  repair_record_id: string | null;
  work_date: string;
  category: Category;
  minutes: number;
  note: string | null;
  /** What the time was spent on; null for entries from before activities existed. */
  activity?: Activity | null;
}

export const ACTIVITIES = ["repair", "inspection", "travel", "internal"] as const;
export type Activity = (typeof ACTIVITIES)[number];

/** A time entry as the technician types it (the core's `TimeInput`). */
export interface TimeInput {
  work_date: string;
  category: Category;
  activity: Activity;
  minutes: number;
  note: string | null;
  work_order: string | null;
}

/** One entry of the technician's day. */
export interface DayEntry extends TimeEntry {
  /** The recorded activity, or the one derived for an old entry; null: other. */
  activity_shown: Activity | null;
  work_order_number: string | null;
  /** A repair's labour: changed only through its repair record. */
  from_repair: boolean;
}

export interface DayReview {
  id: string;
  technician: string;
  work_date: string;
  status: "signed_off" | "returned";
  note: string | null;
  reviewed_by: string;
  reviewed_at: string;
  minutes: number | null;
}

/** The technician's day: entries, total, and the supervisor's review as last pulled. */
export interface DayTime {
  technician: string;
  work_date: string;
  entries: DayEntry[];
  total: number;
  review: DayReview | null;
  changed_since_sign_off: boolean;
}

export interface AssetHistoryEntry {
  /** Empty for findings that are not about one asset. */
  asset_id: string;
  work_order_number: string;
  kind: string;
  date: string;
  summary: string;
}

export interface WorkOrderDetail {
  order: WorkOrder;
  customer: Customer;
  site: Site;
  assets: Asset[];
  template: Template | null;
  answers: Answer[];
  findings: Finding[];
  /** Required items still unanswered, as the core lists them. */
  missing: FieldProblem[];
  repairs: RepairRecord[];
  satisfaction: SatisfactionCard | null;
  signatures: Signature[];
  time_entries: TimeEntry[];
  follow_ups: string[];
  history: AssetHistoryEntry[];
  /** The technician's requests for help, oldest first, with the office's answer as last pulled. */
  escalations: Escalation[];
  /** Corrections of the customer's, site's or assets' records proposed from this order, with the office's decision as last pulled. */
  corrections: Correction[];
}

export interface Correction {
  id: string;
  work_order_id: string;
  record_entity: "customers" | "sites" | "assets";
  record_id: string;
  field: string;
  old_value: string | null;
  value: string;
  note: string | null;
  proposed_at: string;
  proposed_by: string;
  status: "pending" | "confirmed" | "rejected";
  decided_by: string | null;
  decided_at: string | null;
  decision_note: string | null;
}

export interface NewCorrection {
  record_entity: "customers" | "sites" | "assets";
  record: string;
  field: string;
  value: string;
  note: string | null;
}

export type EscalateTo = "supervisor" | "engineer";
export type EscalationStatus = "open" | "acknowledged" | "resolved";

export interface Escalation {
  id: string;
  work_order_id: string;
  repair_record_id: string | null;
  escalate_to: EscalateTo;
  note: string;
  raised_at: string;
  raised_by: string;
  status: EscalationStatus;
  response: string | null;
  answered_by: string | null;
  answered_at: string | null;
}

/** Where a unit in the workshop loop stands (core::workshop::Stage), in step order. */
export type WorkshopStage = "received" | "in_workshop" | "repaired" | "sent_back" | "passed" | "goods_out" | "returned";

/** A unit taken to the workshop: the technician's receipt and return, the office's steps as last pulled. */
export interface WorkshopJob {
  id: string;
  work_order_id: string;
  repair_record_id: string;
  stage: WorkshopStage;
  receipt_number: string;
  unit: string;
  serial: string | null;
  condition: string;
  accessories: string | null;
  received_at: string;
  received_by: string;
  receipt_signer: string;
  goods_in_at: string | null;
  goods_in_by: string | null;
  repair_minutes: number | null;
  repair_parts: { part_id?: string | null; name: string; quantity: number }[];
  repair_done: string | null;
  repaired_by: string | null;
  repaired_at: string | null;
  check_result: "passed" | "sent_back" | null;
  check_note: string | null;
  checked_by: string | null;
  checked_at: string | null;
  goods_out_at: string | null;
  goods_out_by: string | null;
  returned_at: string | null;
  return_signer: string | null;
  receipt_voided_at: string | null;
}

export interface NewReceipt {
  repair_record_id: string;
  receipt_number?: string | null;
  unit: string;
  serial?: string | null;
  condition: string;
  accessories?: string | null;
  signer_name: string;
  strokes: Stroke[];
}

export type SearchKind = "customer" | "site" | "asset" | "work_order" | "repair_record";

export interface SearchHit {
  kind: SearchKind;
  record_id: string;
  order_id: string | null;
  title: string;
  body: string;
}

export interface Attachment {
  id: string;
  media_type: string;
  byte_size: number;
  original_name: string | null;
}

export interface SignatureCheck {
  revision: number;
  signer_name: string;
  signed_at: string;
  device_id: string;
  device_public_key: string;
  digest_ok: boolean;
  device_signature_ok: boolean;
  /** The signed content names this order and revision, and the row shows the signer signed. */
  signer_ok: boolean;
  records_match: boolean | null;
  changed: string[];
}

export interface Verification {
  order: string;
  revision: number;
  status: Status;
  intact: boolean;
  signatures: SignatureCheck[];
  problems: string[];
}

export type CategoryMinutes = Record<Category, number>;

export interface ActivityMinutes {
  repair: number;
  inspection: number;
  travel: number;
  internal: number;
  other: number;
}

export interface DailyReport {
  day: string;
  technicians: { technician: string; minutes: CategoryMinutes; activities: ActivityMinutes; total: number }[];
  totals: CategoryMinutes;
  activity_totals: ActivityMinutes;
  total: number;
}

export interface AppInfo {
  version: string;
  db_path: string;
  data_dir: string;
  attachments_dir: string;
  documents_dir: string;
  device_id: string;
  technician: string | null;
  /** How the store is protected at rest. */
  store_protection: "encrypted-keyring" | "encrypted-passphrase" | "encrypted-key-file" | "encrypted" | "plaintext";
}

// ---------------------------------------------------------------------------------------------
// Errors

/** What every command rejects with (`CommandError` serialized). */
export interface CommandError {
  kind: string;
  message: string;
  /** Per-field problems, to show next to the fields (empty when not about a field). */
  problems: FieldProblem[];
}

/** Normalises anything a rejected `invoke` may throw (also outside Tauri, e.g. `vite dev`). */
export function toCommandError(e: unknown): CommandError {
  if (e && typeof e === "object" && "kind" in e && "message" in e) {
    const problems = "problems" in e && Array.isArray(e.problems) ? (e.problems as FieldProblem[]) : [];
    return { kind: String(e.kind), message: String(e.message), problems };
  }
  return { kind: "ipc", message: e instanceof Error ? e.message : String(e), problems: [] };
}

/** The problems of `err` about `field` (exact field name, or a `prefix…` match). */
export function problemsFor(err: CommandError | null, field: string | ((f: string) => boolean)): FieldProblem[] {
  if (!err) return [];
  const match = typeof field === "string" ? (f: string) => f === field : field;
  return err.problems.filter((p) => match(p.field));
}

// ---------------------------------------------------------------------------------------------
// Commands

/** The work orders scheduled on `day` (`YYYY-MM-DD`; the laptop's today when omitted). */
export function todayOrders(day?: string): Promise<WorkOrderSummary[]> {
  return invoke<WorkOrderSummary[]>("today_orders", { date: day ?? null });
}

export function search(query: string, limit?: number): Promise<SearchHit[]> {
  return invoke<SearchHit[]>("search", { query, limit: limit ?? null });
}

/** Ids of the day's work orders that concern a customer, site or asset. */
export function relatedOrders(kind: SearchKind, recordId: string, day?: string): Promise<string[]> {
  return invoke<string[]>("related_orders", { kind, record_id: recordId, date: day ?? null });
}

export function orderDetail(order: string): Promise<WorkOrderDetail> {
  return invoke<WorkOrderDetail>("order_detail", { order });
}

export function setStatus(order: string, status: Status): Promise<WorkOrder> {
  return invoke<WorkOrder>("set_status", { order, status });
}

export function complete(order: string): Promise<WorkOrder> {
  return invoke<WorkOrder>("complete", { order });
}

/** Saves one checklist answer; resolves to the value as stored (normalised by the core). */
export function recordAnswer(orderId: string, itemKey: string, assetId: string, value: unknown): Promise<unknown> {
  return invoke<unknown>("record_answer", { order_id: orderId, item_key: itemKey, asset_id: assetId, value });
}

/** Stores a photo (raw bytes in the request body). */
export function attachPhoto(bytes: Uint8Array, mediaType: string, name: string): Promise<Attachment> {
  return invoke<Attachment>("attach_photo", bytes, {
    headers: { "x-media-type": mediaType || "application/octet-stream", "x-file-name": encodeURIComponent(name) },
  });
}

export async function attachmentBytes(id: string): Promise<Uint8Array> {
  return toBytes(await invoke<unknown>("attachment_bytes", { id }));
}

export function createFollowUp(order: string, item: string, asset: string | null): Promise<WorkOrder> {
  return invoke<WorkOrder>("create_follow_up", { order, item, asset: asset || null });
}

export function parts(): Promise<Part[]> {
  return invoke<Part[]>("parts");
}

/** Asks the supervisor or an engineer for help with a repair; it reaches the office at the next sync. */
/** The category a repair of this asset done today defaults to (contract B, warranty C, else A). */
export interface DefaultCategory {
  category: Category;
  reason: "under_contract" | "in_warranty" | "no_cover";
  contract?: string;
  ends_on?: string;
  warranty_ends?: string;
  /** The reason in both languages, `zh / en`. */
  explain: string;
}

export function defaultCategory(asset: string): Promise<DefaultCategory | null> {
  return invoke<DefaultCategory | null>("default_category", { asset });
}

/** Proposes a correction of the order's customer, site or an asset there; the office decides. */
export function proposeCorrection(order: string, correction: NewCorrection): Promise<Correction> {
  return invoke<Correction>("propose_correction", { order, correction });
}

export function escalate(order: string, repair: string | null, to: EscalateTo, note: string): Promise<Escalation> {
  return invoke<Escalation>("escalate", { order, repair, to, note });
}

/** A part of the van's stock offline: on hand as last synced, less what unsynced repairs use. */
export interface VanStockLine {
  part_id: string;
  sku: string;
  name_zh: string;
  name_en: string;
  unit: string;
  on_hand: number;
  minimum: number;
  unsynced_use: number;
  available: number;
}

/** A part a repair uses beyond what the van holds. */
export interface Shortfall {
  sku: string;
  wanted: number;
  available: number;
}

export interface RequisitionLine {
  part_id: string;
  quantity: number;
}

export interface Requisition {
  id: string;
  technician: string;
  requested_at: string;
  lines: RequisitionLine[];
  note: string | null;
  status: "pending" | "approved" | "rejected";
  decided_by: string | null;
  decided_at: string | null;
  decision_note: string | null;
  shipment: RequisitionLine[];
  received_at: string | null;
  received_correct: boolean | null;
  received_note: string | null;
}

export function vanStock(): Promise<VanStockLine[]> {
  return invoke<VanStockLine[]>("van_stock");
}

/** What a repair's parts would take beyond the van's stock (the form warns; the record is saved anyway). */
export function vanShortfall(parts: PartUsed[], repair: string | null = null): Promise<Shortfall[]> {
  return invoke<Shortfall[]>("van_shortfall", { parts, repair });
}

export function requestParts(lines: RequisitionLine[], note: string): Promise<Requisition> {
  return invoke<Requisition>("request_parts", { lines, note: note.trim() || null });
}

export function requisitions(): Promise<Requisition[]> {
  return invoke<Requisition[]>("requisitions");
}

export function confirmShipment(id: string, correct: boolean, note: string): Promise<Requisition> {
  return invoke<Requisition>("confirm_shipment", { id, correct, note: note.trim() || null });
}

/** The order's units in the workshop loop. */
export function workshopJobs(order: string): Promise<WorkshopJob[]> {
  return invoke<WorkshopJob[]>("workshop_jobs", { order });
}

/** The receipt of a unit the technician takes to the workshop. */
export function workshopReceipt(order: string, receipt: NewReceipt): Promise<WorkshopJob> {
  return invoke<WorkshopJob>("workshop_receipt", { order, receipt });
}

/** The customer signs for the returned unit; the receipt is void. */
export function workshopReturn(job: string, signerName: string, strokes: Stroke[]): Promise<WorkshopJob> {
  return invoke<WorkshopJob>("workshop_return", { job, signature: { signer_name: signerName, strokes } });
}

export function addRepair(order: string, repair: NewRepairRecord): Promise<RepairRecord> {
  return invoke<RepairRecord>("add_repair", { order, repair });
}

export function rate(order: string, card: SatisfactionCard): Promise<void> {
  return invoke<void>("rate", { order, card });
}

export function sign(order: string, request: SignRequest): Promise<Signature> {
  return invoke<Signature>("sign", { order, request });
}

export function amend(order: string, reason: string): Promise<WorkOrder> {
  return invoke<WorkOrder>("amend", { order, reason });
}

export function verify(order: string): Promise<Verification> {
  return invoke<Verification>("verify", { order });
}

export async function reportBytes(order: string): Promise<Uint8Array> {
  return toBytes(await invoke<unknown>("report_bytes", { order }));
}

/**
 * Asks where to save the report PDF in the native save dialog, and writes it there; resolves to
 * the path written, or null when the dialog was cancelled. The page never names the path.
 */
export function saveReport(order: string): Promise<string | null> {
  return invoke<string | null>("save_report", { order });
}

/** Opens the report in the system PDF viewer; resolves to the temporary file's path. */
export function openReport(order: string): Promise<string> {
  return invoke<string>("open_report", { order });
}

export function dailyReport(day?: string): Promise<DailyReport> {
  return invoke<DailyReport>("daily_report", { date: day ?? null });
}

export function dayTime(day?: string): Promise<DayTime> {
  return invoke<DayTime>("day_time", { date: day ?? null });
}

export function addTimeEntry(entry: TimeInput): Promise<TimeEntry> {
  return invoke<TimeEntry>("add_time_entry", { entry });
}

export function editTimeEntry(id: string, entry: TimeInput): Promise<TimeEntry> {
  return invoke<TimeEntry>("edit_time_entry", { id, entry });
}

export function deleteTimeEntry(id: string): Promise<void> {
  return invoke<void>("delete_time_entry", { id });
}

export function appInfo(): Promise<AppInfo> {
  return invoke<AppInfo>("app_info");
}

/** Raw command answers arrive as an ArrayBuffer (or, from mocks, as a number list). */
export function toBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (Array.isArray(v)) return Uint8Array.from(v as number[]);
  throw new Error("expected bytes from the desktop shell");
}

// ---------------------------------------------------------------------------------------------
// Sync (src-tauri/src/sync.rs over fieldbook-sync)

/** A change the server refused for good (`fieldbook_core::sync::protocol::Rejection`). */
export interface Rejection {
  seq: number;
  entity: string;
  record_id: string;
  reason: string;
}

/** What happened to this laptop's data after a revocation. */
export type Revocation = { local_data: "wiped" } | { local_data: "kept"; unsynced: number } | { local_data: "not_revoked" };

/** A pulled record this laptop could not store; it waits for a version that applies. */
export interface PullRefusal {
  entity: string;
  record_id: string;
  feed_seq: number;
  reason: string;
  refused_at: string;
}

/** `sync_status`: the store's sync state plus whether the background sync runs. */
/** This laptop has not synced within the company's limit: records are hidden until it does. */
export interface OfflineLock {
  since_last_sync_days: number;
  limit_days: number;
  last_synced_at: string;
}

export interface SyncStatusView {
  enrolled: boolean;
  server_url: string | null;
  technician: string | null;
  pending_changes: number;
  pull_cursor: number;
  last_success_at: string | null;
  last_attempt_at: string | null;
  last_error: string | null;
  revoked_reason: string | null;
  rejections: Rejection[];
  /** How far this laptop's clock ran ahead of the server's at the last sync, when by more than
   * half of what the server accepts (its changes are then refused and kept for the office). */
  clock_ahead_ms?: number | null;
  /** Sync runs over plain http:// to another computer, allowed at enrolment: warn. */
  insecure_http?: boolean;
  /** Pulled records this laptop could not store (the rest synced), newest first. */
  pull_refused?: PullRefusal[];
  pull_refused_total?: number;
  /** The company's offline-lock limit in days, as last received (`null`: no lock). */
  offline_lock_days?: number | null;
  /** Set while this laptop is locked for not having synced within that limit. */
  offline_lock?: OfflineLock | null;
  running: boolean;
  revocation: Revocation | null;
  /** The shell was started to work without enrolling (`FIELDBOOK_WORK_OFFLINE=1`). */
  work_offline: boolean;
}

export interface PendingAttachment {
  id: string;
  reason: string;
}

/** One finished sync run (`fieldbook_sync::SyncReport`). */
export interface SyncReport {
  pushed: number;
  applied: number;
  duplicates: number;
  conflicts: number;
  rejected: Rejection[];
  pulled: number;
  changed: number;
  attachments_uploaded: number;
  attachments_pending: PendingAttachment[];
  bytes_up: number;
  bytes_down: number;
  duration_ms: number;
}

/** The background loop's events (`fieldbook_sync::SyncEvent`), as emitted on `sync-event`. */
export type SyncEvent =
  | { event: "started" }
  | { event: "progress"; pushed: number; pulled: number; bytes_up: number; bytes_down: number }
  | ({ event: "finished" } & SyncReport)
  | { event: "failed"; message: string; kind: string; retry_in_ms: number }
  | { event: "online" }
  | { event: "offline" }
  | { event: "revoked"; reason: string; wipe: boolean };

export interface Enrollment {
  server_url: string;
  technician: string;
  device_id: string;
}

export function syncStatus(): Promise<SyncStatusView> {
  return invoke<SyncStatusView>("sync_status");
}

/** Syncs now, skipping any wait; starts the background sync if it is not running. */
export function syncNow(): Promise<SyncStatusView> {
  return invoke<SyncStatusView>("sync_now");
}

export function enroll(serverUrl: string, code: string): Promise<{ enrollment: Enrollment; status: SyncStatusView }> {
  return invoke("enroll", { server_url: serverUrl, code });
}

/** Unlocks a store protected by a passphrase (or, for a new store, protects it with this one). */
export function unlockStore(passphrase: string): Promise<SyncStatusView> {
  return invoke<SyncStatusView>("unlock_store", { passphrase });
}

/** The error kinds that mean the store waits for its passphrase (or for one to be chosen). */
export const LOCKED_KINDS = ["store_locked", "store_new_passphrase"] as const;

/** Tells the shell the Today list is on screen (startup measurement). */
export function uiReady(): Promise<number> {
  return invoke<number>("ui_ready");
}

/** Calls `handler` for every background sync event; resolves to the unsubscribe function. */
export async function onSyncEvent(handler: (e: SyncEvent) => void): Promise<() => void> {
  const { listen } = await import("@tauri-apps/api/event");
  return listen<SyncEvent>("sync-event", (e) => handler(e.payload));
}

/** Calls `handler` once a revocation has been applied to this laptop's data. */
export async function onRevocation(handler: (r: Revocation) => void): Promise<() => void> {
  const { listen } = await import("@tauri-apps/api/event");
  return listen<Revocation>("sync-revocation", (e) => handler(e.payload));
}

// ---------------------------------------------------------------------------------------------
// Updates from the company's server (`src-tauri/src/updates.rs`, docs/updates.md)

/** A release the server offers. */
export interface UpdateOffer {
  version: string;
  notes_en: string | null;
  notes_zh: string | null;
  /** Both languages together (a release without separate notes). */
  notes: string | null;
  date: string | null;
}

export interface UpdateView {
  current_version: string;
  /** Updates are off: `"no_key"` (this build has no updater public key); `null`: on. */
  off_reason: "no_key" | null;
  /** How this copy is installed: an AppImage updates itself, a package through its manager. */
  installed: "app_image" | "package_manager" | "installer";
  can_install: boolean;
  offered: UpdateOffer | null;
  last_error: { kind: string; message: string } | null;
  busy: boolean;
}

export function updateStatus(): Promise<UpdateView> {
  return invoke<UpdateView>("update_status");
}

/** Asks the server now (the app also asks after each successful sync). */
export function checkUpdate(): Promise<UpdateView> {
  return invoke<UpdateView>("check_update");
}

/**
 * Syncs, then installs the offered release and restarts — only if nothing is left unsynced.
 * Rejects with `update_pending_changes`, `update_pending_uploads`, `update_sync_failed`, `update_bad_signature`, `update_download_failed`, … and the
 * running version stays.
 */
export function installUpdate(): Promise<UpdateView> {
  return invoke<UpdateView>("install_update");
}

/** Calls `handler` when a check finds a newer release. */
export async function onUpdateAvailable(handler: (v: UpdateView) => void): Promise<() => void> {
  const { listen } = await import("@tauri-apps/api/event");
  return listen<UpdateView>("update-available", (e) => handler(e.payload));
}
