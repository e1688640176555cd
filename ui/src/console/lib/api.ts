/**
 * The console's one door to the server: every `/console/api/` call, typed after
 * `docs/console-api.md`. The session is the HttpOnly cookie the browser sends by itself; every
 * request that changes something carries `X-Fieldbook-Console: 1` as the contract requires.
 */

export type Role = "technician" | "office" | "admin";
export type Priority = "low" | "normal" | "high" | "urgent";
export type Kind = "repair_call" | "maintenance" | "patrol_inspection";
export type Category = "A" | "B" | "C" | "D";
export type ReviewState = "pending" | "approved" | "returned" | null;

export interface Me {
  login: string;
  display_name: string;
  role: Role;
}

export interface Technician {
  login: string;
  display_name: string;
  open_orders: number;
}

export interface Customer {
  id: string;
  code: string;
  name: string;
}

export interface Asset {
  id: string;
  code: string;
  name: string;
  asset_type: string;
  model: string | null;
  serial: string | null;
}

export interface Site {
  id: string;
  code: string;
  name: string;
  address: string;
  region: string;
  zone: string;
  assets: Asset[];
}

export interface OrderSummary {
  id: string;
  number: string;
  kind: Kind;
  status: string;
  review_state: ReviewState;
  technician: string | null;
  technician_name: string | null;
  customer_id: string;
  customer_name: string;
  site_id: string;
  site_name: string;
  region: string | null;
  zone: string | null;
  priority: Priority;
  category: Category | null;
  problem: string | null;
  reported_at: string | null;
  response_deadline: string | null;
  arrived_at: string | null;
  completed_at: string | null;
  response_met: boolean | null;
}

export interface CallSummary extends OrderSummary {
  carried_over: boolean;
}

export interface ReviewItem extends OrderSummary {
  signature_ok: boolean;
  missing_attachments: number;
  parts_count: number;
  labour_minutes: number;
  fee_cents: number;
  /** Signed in its current revision, or a close exception is recorded: approving is allowed. */
  closable: boolean;
  close_exception: CloseExceptionKind | null;
  /** Repairs recorded in another category than the default, with the reason (#12). */
  category_flags?: CategoryDefault[];
}

/** A repair's default service category by the contract/warranty rule, and whether it differs. */
export interface CategoryDefault {
  repair_record_id: string;
  asset_id: string;
  category: Category | null;
  default_category: Category;
  /** The reason in both languages, `zh / en`. */
  reason: string;
  differs: boolean;
}

export type ServiceLevel = "basic" | "standard" | "full";
export type RenewalState = "open" | "notice_made" | "sent" | "visit_planned" | "renewed" | "lost";
export type SentHow = "post" | "email" | "fax" | "hand";

/** A contract ending within the month, with its renewal's tracking (`/console/api/renewals`). */
export interface RenewalRow {
  contract_id: string;
  number: string;
  customer_id: string;
  customer_name: string | null;
  customer_code: string | null;
  starts_on: string;
  ends_on: string;
  days_left: number;
  service_level: ServiceLevel | null;
  renewal_of: string | null;
  assets: number;
  state: RenewalState;
  notice_made_at: string | null;
  notice_made_by: string | null;
  sent_how: SentHow | null;
  sent_at: string | null;
  sent_by: string | null;
  visit_on: string | null;
  visit_by: string | null;
  outcome: "renewed" | "lost" | null;
  new_contract_id: string | null;
  new_contract_number: string | null;
  lost_reason: string | null;
  decided_at: string | null;
  decided_by: string | null;
}

export interface RenewalDetail extends RenewalRow {
  covered_assets: { code: string; name: string; site: string }[];
  trail: { at: string; actor: string; action: string; detail: unknown }[];
}

export type RenewalStep =
  | { kind: "notice_made" }
  | { kind: "sent"; sent_how: SentHow; sent_at: string }
  | { kind: "visit_planned"; visit_on: string; visit_by: string }
  | { kind: "renewed"; new_contract: { number: string; starts_on: string; ends_on: string; service_level?: ServiceLevel } }
  | { kind: "lost"; lost_reason: string };

export type CloseExceptionKind = "refused_to_sign" | "paper_voucher";

/** Why an order closes without the customer's signature (one per order revision). */
export interface CloseException {
  id: string;
  work_order_id: string;
  revision: number;
  kind: CloseExceptionKind;
  reason: string;
  photo_id: string | null;
  recorded_by: string | null;
  recorded_at: string | null;
}

export interface CloseState {
  revision: number;
  signed: boolean;
  exception: CloseException | null;
}

export interface Photo {
  sha256: string;
  media_type: string;
  byte_size: number;
}

/** A return visit (回访) in the desk's list. */
export interface ReturnVisit {
  id: string;
  work_order_id: string;
  number: string | null;
  problem: string | null;
  technician: string | null;
  technician_name: string | null;
  customer_id: string | null;
  customer_name: string | null;
  in_warranty: boolean;
  completed_at: string | null;
  due_on: string;
  overdue: boolean;
  status: "open" | "done";
  visited_at: string | null;
  solved: boolean | null;
  new_call_id: string | null;
  new_call_number: string | null;
  has_card: boolean;
  /** The complaint registered from the visit (only in the answer to recording it). */
  complaint_number?: string;
}

export interface CardByPhone {
  attitude: number;
  skill: number;
  arrival: number;
  promise: number;
  comment?: string;
}

export interface VisitRecord {
  answered_by: string;
  solved: boolean;
  note?: string;
  card?: CardByPhone;
  /** The customer complained on the phone: a complaint with this visit as its source. */
  complaint?: { description?: string; category: ComplaintCategory; severity: ComplaintSeverity; foreign_customer?: boolean };
}

/** Largest photo the console uploads, and the types it takes (the server checks both too). */
export const MAX_PHOTO_BYTES = 10 * 1024 * 1024;
export const PHOTO_TYPES = ["image/jpeg", "image/png", "image/webp"];

export interface Page<T> {
  items: T[];
  next: string | null;
}

export type Channel = "phone" | "email" | "fax" | "web" | "walk_in";
export type CallType = "repair" | "inquiry" | "complaint" | "suggestion";
export const CHANNELS: Channel[] = ["phone", "email", "fax", "web", "walk_in"];
export const CALL_TYPES: CallType[] = ["repair", "inquiry", "complaint", "suggestion"];

/** A customer found by a caller's phone. */
export interface CustomerMatch extends Customer {
  contact: string | null;
  phone: string | null;
}

export interface NewCall {
  channel: Channel;
  call_type: CallType;
  caller_name: string;
  caller_phone: string;
  customer_id?: string;
  new_customer?: { name: string; contact?: string; phone?: string; email?: string };
  site_id?: string;
  new_site?: { name?: string; address: string; region: string; zone: string };
  asset_ids: string[];
  equipment_model?: string;
  problem: string;
  reported_at: string;
  priority: Priority;
  kind?: Kind;
  category?: Category;
  answer?: string;
  close?: boolean;
  /** A complaint call: its complaint's category, severity, and a foreign customer (17 days). */
  complaint_category?: ComplaintCategory;
  complaint_severity?: ComplaintSeverity;
  foreign_customer?: boolean;
  /** A checklist template (its code; the server takes the newest version) for the call's order. */
  template_code?: string;
}

/** `open`: the desk owes the caller an answer; `closed`: answered and closed; or followed
 * through its work order or complaint. */
export type CallState = "open" | "closed" | "work_order" | "complaint";

export interface CallEntry {
  id: string;
  number: string;
  channel: Channel | null;
  call_type: CallType | null;
  caller_name: string | null;
  caller_phone: string | null;
  customer_id: string | null;
  customer_code: string | null;
  customer_name: string | null;
  site_id: string | null;
  site_name: string | null;
  priority: Priority | null;
  problem: string | null;
  reported_at: string;
  taken_by: string | null;
  work_order_id: string | null;
  work_order_status: string | null;
  complaint_id: string | null;
  return_visit_id: string | null;
  follows_order_id: string | null;
  closed_at: string | null;
  state: CallState;
}

export interface CallDetail extends CallEntry {
  equipment_model: string | null;
  asset_ids: string[];
  answer: string | null;
  audit: AuditEntry[];
}

export interface Registered {
  call: CallDetail;
  work_order: OrderSummary | null;
  /** A repair request's promise to the caller (the deadline preview's shape). */
  promise?: CallPromise;
}

/** A customer's, site's, asset's or contract's fields as the books keep them (`/console/api/books`). */
export type BookRecord = Record<string, unknown> & { id: string };

export interface BookCustomer extends BookRecord {
  code: string;
  name: string;
  sites?: number;
  contracts?: number;
}

export interface BookSite extends BookRecord {
  assets: BookRecord[];
}

/** A correction a technician proposed from site, with the record's current value. */
export interface CorrectionItem {
  id: string;
  work_order_id: string;
  number: string | null;
  technician: string | null;
  record_entity: "customers" | "sites" | "assets";
  record_id: string;
  record_name: string | null;
  record_code: string | null;
  field: string;
  old_value: string | null;
  value: string;
  current_value: string | null;
  note: string | null;
  proposed_at: string;
  proposed_by: string;
  status: "pending" | "confirmed" | "rejected";
  decided_by: string | null;
  decided_at: string | null;
  decision_note: string | null;
}

export interface CustomerBook {
  customer: BookCustomer;
  sites: BookSite[];
  contracts: BookRecord[];
  orders: number;
  trail: AuditEntry[];
  corrections: CorrectionItem[];
}

export interface MergeResult {
  survivor: string;
  merged: string;
  moved: Record<string, number>;
}

export interface AuditEntry {
  id: number | string;
  at: string;
  actor: string;
  action: string;
  target_entity: string | null;
  target_id: string | null;
  detail: unknown;
}

export interface Part {
  sku: string;
  name_en: string;
  name_zh: string;
  quantity: number;
  serials: string[] | null;
  faulty_returned: boolean;
}

export interface Repair {
  id: string;
  fault: string | null;
  cause: string | null;
  action: string | null;
  parts: Part[];
  labour_minutes: number | null;
  category: Category | null;
  fee_cents: number | null;
  fee_collected: boolean | null;
  taken_to_workshop: boolean | null;
  receipt_number: string | null;
  category_default?: CategoryDefault | null;
}

export interface SignatureCheck {
  id: string;
  revision: number;
  signer_name: string;
  signer_title: string | null;
  signed_at: string;
  digest: string;
  device_id: string;
  digest_ok: boolean;
  signature_ok: boolean;
  /** The signed content names this order and revision, and the row shows the signer signed. */
  signer_ok: boolean;
  /** For the order's current revision: the live records equal what was signed; null otherwise. */
  records_match: boolean | null;
  /** Where the live records differ from what was signed. */
  changed: string[];
  problem: string | null;
}

export interface Attachment {
  sha256: string;
  media_type: string;
  byte_size: number;
  original_name: string | null;
  complete: boolean;
}

export interface OrderDetail {
  order: OrderSummary;
  customer: Partial<Customer> & Record<string, unknown>;
  site: Partial<Site> & Record<string, unknown>;
  assets: Asset[];
  inspection: {
    template_code: string;
    template_version: number;
    answers: { item_key: string; asset_id: string | null; value: unknown; note: string | null }[];
    findings: { item_key: string; asset_id: string | null; label_en: string; label_zh: string; value: unknown }[];
  } | null;
  repairs: Repair[];
  time_entries: { technician: string; work_date: string; category: Category; minutes: number }[];
  satisfaction: { id: string; attitude: number; skill: number; arrival: number; promise: number; comment: string | null; taken_by?: string | null } | null;
  signatures: SignatureCheck[];
  attachments: Attachment[];
  missing_attachments: number;
  close?: CloseState | null;
  return_visit?: ReturnVisit | null;
  review_note?: string | null;
  audit: AuditEntry[];
}

export interface ConflictSide {
  value: unknown;
  hlc: string;
  device_id: string | null;
  technician: string | null;
  at: string | null;
}

export interface Conflict {
  id: number | string;
  entity: string;
  record_id: string;
  field: string;
  work_order_id: string | null;
  work_order_number: string | null;
  kept: ConflictSide;
  other: ConflictSide;
  detected_at: string;
  resolved_at: string | null;
  resolved_by: string | null;
  resolution: unknown;
}

export interface ReportColumn {
  key: string;
  label_en: string;
  label_zh: string;
}

export interface Report {
  columns: ReportColumn[];
  /** The first rows (1,000 unless `limit` asks otherwise); the CSV has every row. */
  rows: Record<string, unknown>[];
  /** How many rows the report has in all. */
  total_rows?: number;
}

export type ReportName =
  | "response"
  | "daily-minutes"
  | "first-time-fix"
  | "satisfaction"
  | "fault-prone-assets"
  | "frequent-findings"
  | "overdue-inspections"
  | "expiring-contracts"
  | "closure"
  | "close-exceptions"
  | "return-visit-rate"
  | "scorecard"
  | "stock"
  | "movements"
  | "parts-quality"
  | "correct-shipments"
  | "supervisor-daily";

export interface TemplateInfo {
  code: string;
  latest_version: number;
  title_en: string;
  title_zh: string;
  published_at: string;
  versions: number[];
}

export interface TemplateVersion {
  code: string;
  version: number;
  body: unknown;
  published_at: string;
}

export interface User {
  login: string;
  display_name: string;
  role: Role;
  disabled: boolean;
  created_at: string;
}

export interface Device {
  id: string;
  technician: string;
  name: string | null;
  enrolled_at: string;
  last_seen_at: string | null;
  acked_seq: number;
  revoked_at: string | null;
  revoke_reason: string | null;
  wipe_ordered: boolean;
  /** When the current device token was issued (enrolment, rotation or renewal). */
  token_issued_at: string | null;
  /** When a rotated or renewed token last replaced the one before; null: not since enrolment. */
  token_rotated_at: string | null;
  /** How the laptop says its store is protected: its own claim, which the server cannot check. */
  store_protection: null | "encrypted-keyring" | "encrypted-passphrase" | "encrypted-key-file" | "plaintext" | string;
  store_protection_at: string | null;
  warning: null | "not_seen_3_days" | "revoked_unsynced";
}

/** What the server said went wrong: its error kind and message, and the HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly kind: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The prefix every endpoint hangs under. */
export const API = "/console/api";

type Query = Record<string, string | number | boolean | null | undefined>;

/** Spare parts (备件): a store (`main`, or `van-LOGIN`) with how many of its parts are below their minimum. */
export interface PartsStore {
  id: string;
  code: string;
  name: string;
  kind: "main" | "van";
  technician: string | null;
  below_minimum: number;
}

export interface StockItem {
  id: string;
  store_id: string;
  part_id: string;
  sku: string | null;
  name_zh: string | null;
  name_en: string | null;
  on_hand: number;
  minimum: number;
  below_minimum: boolean;
}

export type MovementKind = "goods_in" | "issue" | "transfer" | "use" | "faulty_return" | "write_off";

export interface MovementItem {
  id: string;
  kind: MovementKind;
  part_id: string;
  sku: string | null;
  name_zh: string | null;
  name_en: string | null;
  from_store: string | null;
  to_store: string | null;
  quantity: number;
  by: string | null;
  at: string;
  repair_record_id: string | null;
  requisition_id: string | null;
  /** A technician's use that took the van below zero. */
  over_use: boolean;
}

export interface CataloguePart {
  id: string;
  sku: string;
  name_zh: string | null;
  name_en: string | null;
}

export interface RequisitionLine {
  part_id: string;
  quantity: number;
}

export interface Requisition {
  id: string;
  technician: string;
  requested_at: string;
  status: "pending" | "approved" | "rejected";
  lines: RequisitionLine[];
  note: string | null;
  decided_by: string | null;
  decided_at: string | null;
  decision_note: string | null;
  shipment: RequisitionLine[] | null;
  received_at: string | null;
  received_correct: boolean | null;
  received_note: string | null;
}

export interface NewMovement {
  kind: "goods_in" | "issue" | "transfer" | "write_off";
  part_id: string;
  quantity: number;
  from_store?: string;
  to_store?: string;
  technician?: string;
  note?: string;
}

/** `?a=1&b=2` of the given parameters, leaving out empty ones. */
export function query(params: Query = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || v === "") continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** Where a list or report downloads as CSV (every row, not one page; Chinese headers for zh). */
export function csvUrl(path: string, params: Query = {}, locale: string = "en"): string {
  const { limit: _limit, after: _after, ...rest } = params;
  return `${API}${path}${query({ ...rest, format: "csv", lang: locale === "zh-CN" ? "zh" : "" })}`;
}

/** Called when the server says the session is gone, so the app can show the login again. */
let onUnauthorized: (() => void) | null = null;
export function whenUnauthorized(handler: (() => void) | null): void {
  onUnauthorized = handler;
}

/** The supervisor's review (核阅) of a technician's day. */
export interface DayReview {
  id: string;
  status: "signed_off" | "returned";
  note: string | null;
  reviewed_by: string | null;
  reviewed_at: string | null;
  /** The day's minutes when it was decided. */
  minutes: number | null;
  /** When an entry of the signed-off day was written after the sign-off. */
  changed_at: string | null;
}

/** One technician's day in the list (`/console/api/daily-reports`). */
export interface DayRow {
  technician: string;
  technician_name: string | null;
  work_date: string;
  entries: number;
  A: number;
  B: number;
  C: number;
  D: number;
  total: number;
  review: DayReview | null;
}

export interface DayEntryItem {
  id: string;
  category: string | null;
  /** repair, inspection, travel, internal; null: other (recorded before activities). */
  activity: string | null;
  minutes: number;
  note: string | null;
  work_order_id: string | null;
  work_order_number: string | null;
  repair_record_id: string | null;
}

/** A technician's day with its entries, minutes by category and activity, review and trail. */
export interface TechnicianDay {
  technician: string;
  technician_name: string | null;
  work_date: string;
  entries: DayEntryItem[];
  categories: Record<string, number>;
  activities: Record<string, number>;
  total: number;
  review: DayReview | null;
  trail: { at: string; actor: string; action: string; detail: Record<string, unknown> | null }[];
}

/** A technician's escalation of a repair, with the office's answer (`/console/api/escalations`). */
export interface EscalationItem {
  id: string;
  work_order_id: string;
  number: string | null;
  customer_name: string | null;
  site_name: string | null;
  technician: string | null;
  technician_name: string | null;
  repair_record_id: string | null;
  repair_fault: string | null;
  escalate_to: "supervisor" | "engineer" | null;
  note: string | null;
  raised_at: string;
  status: "open" | "acknowledged" | "resolved";
  response: string | null;
  answered_by: string | null;
  answered_at: string | null;
}

export interface EscalationPage extends Page<EscalationItem> {
  /** Open escalations in all. */
  open: number;
}

/** Where a unit in the workshop loop stands (`core::workshop::Stage`), in step order. */
export type WorkshopStage = "received" | "in_workshop" | "repaired" | "sent_back" | "passed" | "goods_out" | "returned";
/** The office's steps of the loop. */
export type WorkshopStep = "goods_in" | "repair_card" | "check" | "goods_out";

/** A unit taken to the workshop (`/console/api/workshop`). */
export interface WorkshopItem {
  id: string;
  work_order_id: string;
  number: string | null;
  customer_name: string | null;
  site_name: string | null;
  technician: string | null;
  technician_name: string | null;
  receipt_number: string | null;
  unit: string | null;
  stage: WorkshopStage;
  received_at: string;
}

export interface WorkshopPage extends Page<WorkshopItem> {
  /** Units not yet returned, whatever the filter. */
  open: number;
}

export interface WorkshopPart {
  part_id?: string | null;
  name: string;
  quantity: number;
}

/** Every step of one unit (`/console/api/workshop/{id}`). */
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
  repair_parts: WorkshopPart[];
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

export interface WorkshopDetail extends WorkshopItem {
  job: WorkshopJob;
  repair_fault: string | null;
  return_strokes: { x: number; y: number; t: number }[][] | null;
  receipt_strokes: { x: number; y: number; t: number }[][] | null;
  next_steps: WorkshopStep[];
}

export interface WorkshopStepRequest {
  step: WorkshopStep;
  minutes?: number;
  parts?: WorkshopPart[];
  done?: string;
  repaired_by?: string;
  result?: "passed" | "sent_back";
  note?: string;
}

/** A repair call on site longer than the expected hours (`/console/api/repairs-overdue`). */
export interface OverdueRepair {
  id: string;
  number: string;
  technician: string | null;
  technician_name: string | null;
  customer_name: string | null;
  site_name: string | null;
  priority: string | null;
  problem: string | null;
  arrived_at: string;
  expected_by: string;
  hours_over: number;
  open_escalations: number;
}

export interface OverduePage extends Page<OverdueRepair> {
  expected_hours: number;
}

/** The company's settings (`/console/api/settings`). */
export interface Settings {
  /** Days without a sync after which a laptop hides its records until it syncs; `null`: never. */
  offline_lock_days: number | null;
  /** Days from a repair call's completion to its return visit. */
  return_visit_days?: number;
}

/** A working interval within a day, `HH:MM`. */
export interface Interval {
  from: string;
  to: string;
}
export type SpanUnit = "working_hours" | "clock_hours" | "calendar_days" | "working_days";
/** `{ "working_hours": 6 }` and the like: exactly one key. */
export type Span = Partial<Record<SpanUnit, number>>;
export type CommitmentKind = "accept" | "phone_answer" | "on_site";
export interface Policy {
  name: string;
  label_en: string;
  label_zh: string;
  commitments: { kind: CommitmentKind; within: Span }[];
}
export type WeekdayKey = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";
/** The service calendar document (docs/console-api.md, "Service calendar"). */
export interface CalendarBody {
  utc_offset: string;
  week: Record<WeekdayKey, Interval[]>;
  holidays: { date: string; name: string }[];
  make_up_days: { date: string; hours: Interval[]; name: string }[];
  policies: Policy[];
  zones: { urban: string; suburban: string };
  contracts: Record<string, string>;
}
export interface CalendarVersion {
  version: number;
  effective_from: string;
  published_at: string | null;
  body: CalendarBody;
}
export interface CalendarPage {
  in_force: number | null;
  current: CalendarBody;
  versions: CalendarVersion[];
}
/** What a call is promised (`/calendar/deadline`, and `promise` in a registered call). */
export interface CallPromise {
  calendar_version: number | null;
  policy: string;
  policy_label_en: string;
  policy_label_zh: string;
  contract: string | null;
  reported_at: string;
  clock_starts: string;
  outside_working_hours: boolean;
  response_deadline: string;
  commitments: { kind: CommitmentKind; within: Span; due: string }[];
  utc_offset: string;
  say_en: string;
  say_zh: string;
}
/** Complaints (客户投诉): `/console/api/complaints`. */
export type ComplaintSource = "call" | "card" | "return_visit" | "direct";
export type ComplaintCategory = "attitude" | "timeliness" | "quality" | "parts" | "charges" | "other";
export type ComplaintSeverity = "normal" | "serious";
export type InformedHow = "phone" | "letter" | "email" | "visit";
export type ComplaintStatus = "open" | "reported" | "closed";
export type StepKind = "registered" | "assigned" | "first_report" | "reminder" | "written_reply" | "note" | "closed";
/** What is overdue: the first report, the closing, or both. */
export type Overdue = "first_report" | "close";

export interface NewComplaint {
  source: ComplaintSource;
  source_id?: string | null;
  customer_id: string;
  work_order_ids?: string[];
  technicians?: string[];
  description: string;
  category: ComplaintCategory;
  severity: ComplaintSeverity;
  foreign_customer?: boolean;
  responsible?: string | null;
  registered_at?: string | null;
}

export interface ComplaintSummary {
  id: string;
  number: string;
  source: ComplaintSource;
  customer_id: string;
  customer_name: string | null;
  category: ComplaintCategory;
  severity: ComplaintSeverity;
  foreign_customer: boolean;
  responsible: string | null;
  status: ComplaintStatus;
  registered_at: string;
  first_report_due: string | null;
  first_reported_at: string | null;
  close_due: string | null;
  closed_at: string | null;
  /** Something is overdue: the console shows the reminder (催办). */
  reminder: boolean;
  overdue: Overdue[];
}

export interface ComplaintStep {
  id: string;
  at: string;
  by: string;
  kind: StepKind;
  note: string | null;
}

export interface ComplaintDetail extends Omit<ComplaintSummary, "reminder"> {
  source_id: string | null;
  work_order_ids: string[];
  work_orders: { id: string; number: string | null }[];
  technicians: string[];
  description: string;
  registered_by: string;
  result: string | null;
  written_reply: string | null;
  informed_at: string | null;
  informed_how: InformedHow | null;
  steps: ComplaintStep[];
}

export interface ComplaintStats {
  month: string;
  due_on: string;
  total: number;
  closed: number;
  open: number;
  by_category: { category: ComplaintCategory; count: number }[];
  by_responsible: { responsible: string | null; count: number }[];
  average_days_to_close: number | null;
  closed_in_time: number;
  closed_in_time_share: number | null;
}

export interface ComplaintPolicy {
  first_report_days: number;
  close_days_domestic: number;
  close_days_foreign: number;
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (method !== "GET") headers["X-Fieldbook-Console"] = "1";
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(`${API}${path}`, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, "network", e instanceof Error ? e.message : String(e));
  }
  if (!response.ok) {
    let kind = "http";
    let message = `${response.status} ${response.statusText}`;
    try {
      const payload = await response.json();
      if (payload?.error) {
        kind = String(payload.error.kind ?? kind);
        message = String(payload.error.message ?? message);
      }
    } catch {
      // Not JSON (a proxy's page): keep the status line.
    }
    if (response.status === 401 && path !== "/login") onUnauthorized?.();
    throw new ApiError(response.status, kind, message);
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

const get = <T>(path: string) => request<T>("GET", path);

/** Sends a file's bytes as the request body, typed by the file. */
async function upload<T>(path: string, file: Blob): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${API}${path}`, {
      method: "POST",
      headers: { Accept: "application/json", "X-Fieldbook-Console": "1", "Content-Type": file.type || "application/octet-stream" },
      credentials: "same-origin",
      body: file,
    });
  } catch (e) {
    throw new ApiError(0, "network", e instanceof Error ? e.message : String(e));
  }
  if (!response.ok) {
    let kind = "http";
    let message = `${response.status} ${response.statusText}`;
    try {
      const payload = await response.json();
      if (payload?.error) {
        kind = String(payload.error.kind ?? kind);
        message = String(payload.error.message ?? message);
      }
    } catch {
      // Not JSON: keep the status line.
    }
    if (response.status === 401) onUnauthorized?.();
    throw new ApiError(response.status, kind, message);
  }
  return (await response.json()) as T;
}
const post = <T>(path: string, body: unknown = {}) => request<T>("POST", path, body);
const enc = encodeURIComponent;

/** How often a plan's inspections recur (`core::inspection_plan::Interval`). */
export type PlanInterval = "monthly" | "bimonthly" | "quarterly" | "half_yearly" | "yearly";
export const PLAN_INTERVALS: PlanInterval[] = ["monthly", "bimonthly", "quarterly", "half_yearly", "yearly"];
/** The contract phase of a day: its first, middle or last third. */
export type Phase = "early" | "middle" | "late";

/** A contract's inspection plan (`/console/api/plans`). */
export interface Plan {
  id: string;
  contract_id: string;
  name: string;
  template_code: string;
  interval: PlanInterval;
  site_ids: string[];
  asset_ids: string[];
  technician: string | null;
  lead_days: number;
  active: boolean;
  updated_by: string | null;
  /** Orders generated so far. */
  generated: number;
}

export interface PlanInput {
  contract_id?: string;
  name?: string;
  template_code?: string;
  interval?: PlanInterval;
  site_ids?: string[];
  asset_ids?: string[];
  /** "" clears the default technician. */
  technician?: string;
  lead_days?: number;
  active?: boolean;
}

export interface PlanContract {
  id: string;
  number: string | null;
  customer_name: string | null;
  ends_on: string | null;
  plans: number;
}

export interface ContractPlans {
  contract: {
    id: string;
    number: string | null;
    customer_id: string;
    customer_name: string | null;
    starts_on: string | null;
    ends_on: string | null;
    asset_ids: string[] | null;
    phase_today: Phase | null;
  };
  plans: Plan[];
  sites: Site[];
}

/** An order a plan generated. */
export interface PlanOrder {
  id: string;
  due_on: string;
  phase: Phase | null;
  number: string;
  status: string | null;
  technician: string | null;
  technician_name: string | null;
  scheduled_on: string | null;
  site_name: string | null;
  plan_id: string;
  plan_name: string;
}

export interface Generated {
  made: number;
  existing: number;
  plans: number;
}

export const api = {
  login: (login: string, password: string) => post<Me>("/login", { login, password }),
  logout: () => request<void>("POST", "/logout"),
  me: () => get<Me>("/me"),

  technicians: () => get<Technician[]>("/technicians"),
  customers: (q: string) => get<Customer[]>(`/customers${query({ q })}`),
  sites: (customerId: string) => get<Site[]>(`/customers/${enc(customerId)}/sites`),
  regions: () => get<string[]>("/regions"),

  customersByPhone: (phone: string) => get<CustomerMatch[]>(`/customers${query({ phone })}`),
  registerCall: (call: NewCall) => post<Registered>("/calls", call),
  callRegister: (filters: Query) => get<Page<CallEntry>>(`/call-register${query(filters)}`),
  call: (id: string) => get<CallDetail>(`/call-register/${enc(id)}`),
  changeCall: (id: string, change: { answer?: string; closed?: boolean; caller_name?: string; caller_phone?: string; equipment_model?: string; problem?: string }) => request<CallDetail>("PATCH", `/call-register/${enc(id)}`, change),
  calls: () => get<CallSummary[]>("/calls"),
  dispatch: (id: string, technician: string) => post<OrderSummary>(`/work-orders/${enc(id)}/dispatch`, { technician }),

  workOrders: (filters: Query) => get<Page<OrderSummary>>(`/work-orders${query(filters)}`),
  workOrder: (id: string) => get<OrderDetail>(`/work-orders/${enc(id)}`),

  review: () => get<ReviewItem[]>("/review"),
  approve: (id: string, note?: string) => post<OrderSummary>(`/work-orders/${enc(id)}/approve`, note ? { note } : {}),
  returnOrder: (id: string, note: string) => post<OrderSummary>(`/work-orders/${enc(id)}/return`, { note }),

  recordCloseException: (id: string, e: { kind: CloseExceptionKind; reason: string; photo_id?: string }) =>
    post<CloseException>(`/work-orders/${enc(id)}/close-exception`, e),
  uploadPhoto: (file: Blob) => upload<Photo>("/photos", file),
  photoUrl: (sha: string) => `${API}/photos/${enc(sha)}`,

  returnVisits: (filters: Query) => get<Page<ReturnVisit>>(`/return-visits${query(filters)}`),
  recordReturnVisit: (id: string, r: VisitRecord) => post<ReturnVisit>(`/return-visits/${enc(id)}`, r),

  audit: (filters: Query) => get<Page<AuditEntry>>(`/audit${query(filters)}`),

  conflicts: (state: "open" | "resolved") => get<Conflict[]>(`/conflicts${query({ state })}`),
  resolve: (id: number | string, value: unknown) => post<Conflict>(`/conflicts/${enc(String(id))}/resolve`, { value }),

  report: (name: ReportName, filters: Query) => get<Report>(`/reports/${name}${query(filters)}`),

  templates: () => get<TemplateInfo[]>("/templates"),
  template: (code: string, version: number) => get<TemplateVersion>(`/templates/${enc(code)}/versions/${version}`),
  publishTemplate: (code: string, body: unknown) => post<TemplateVersion>("/templates", { code, body }),

  users: () => get<User[]>("/users"),
  addUser: (user: { login: string; display_name: string; role: Role; password?: string }) => post<User>("/users", user),
  changeUser: (login: string, change: Partial<{ display_name: string; role: Role; disabled: boolean; password: string }>) =>
    request<User>("PATCH", `/users/${enc(login)}`, change),
  enrolmentCode: (login: string, validHours?: number) =>
    post<{ code: string; expires_at: string }>(`/users/${enc(login)}/enrolment-code`, validHours ? { valid_hours: validHours } : {}),
  devices: () => get<Device[]>("/devices"),
  revokeDevice: (id: string, reason: string, wipe: boolean) => post<Device>(`/devices/${enc(id)}/revoke`, { reason, wipe }),

  calendar: () => get<CalendarPage>("/calendar"),
  publishCalendar: (effective_from: string, body: CalendarBody) => post<CalendarVersion>("/calendar", { effective_from, body }),
  deadline: (q: { reported_at: string; site_id?: string; zone?: string; customer_id?: string; asset_ids?: string[] }) =>
    get<CallPromise>(`/calendar/deadline${query({ ...q, asset_ids: (q.asset_ids ?? []).join(",") })}`),
  dailyReports: (filters: Query = {}) => get<{ date: string; items: DayRow[] }>(`/daily-reports${query(filters)}`),
  technicianDay: (technician: string, date: string) => get<TechnicianDay>(`/daily-reports/${enc(technician)}/${enc(date)}`),
  reviewDay: (technician: string, date: string, status: "signed_off" | "returned", note: string) =>
    post<TechnicianDay>(`/daily-reports/${enc(technician)}/${enc(date)}`, { status, note: note.trim() || null }),
  escalations: (filters: Query = {}) => get<EscalationPage>(`/escalations${query(filters)}`),
  answerEscalation: (id: string, status: "acknowledged" | "resolved", response: string) =>
    post<EscalationItem>(`/escalations/${enc(id)}/answer`, { status, response: response.trim() || null }),
  repairsOverdue: (filters: Query = {}) => get<OverduePage>(`/repairs-overdue${query(filters)}`),
  changeRepairExpectedHours: (hours: number) =>
    request<{ repair_expected_hours: number }>("PATCH", "/settings/repair-expected-hours", { repair_expected_hours: hours }),

  partsStores: () => get<{ stores: PartsStore[]; technicians: { login: string; display_name: string }[] }>("/parts/stores"),
  partsCatalogue: (q = "") => get<CataloguePart[]>(`/parts/catalogue${query({ q })}`),
  stock: (filters: Query = {}) => get<Page<StockItem>>(`/parts/stock${query(filters)}`),
  setMinimum: (store_id: string, part_id: string, minimum: number) => post<StockItem>("/parts/minimums", { store_id, part_id, minimum }),
  movements: (filters: Query = {}) => get<Page<MovementItem>>(`/parts/movements${query(filters)}`),
  moveStock: (m: NewMovement) => post<MovementItem>("/parts/movements", m),
  requisitions: (status = "") => get<Requisition[]>(`/parts/requisitions${query({ status })}`),
  decideRequisition: (id: string, approve: boolean, note: string) =>
    post<Requisition>(`/parts/requisitions/${enc(id)}/decide`, { approve, note: note.trim() || null }),
  workshop: (filters: Query = {}) => get<WorkshopPage>(`/workshop${query(filters)}`),
  workshopJob: (id: string) => get<WorkshopDetail>(`/workshop/${enc(id)}`),
  workshopStep: (id: string, step: WorkshopStepRequest) => post<WorkshopDetail>(`/workshop/${enc(id)}/steps`, step),

  settings: () => get<Settings>("/settings"),
  changeSettings: (change: Settings) => request<Settings>("PATCH", "/settings", change),

  complaints: (filters: Query) => get<{ items: ComplaintSummary[]; more: boolean }>(`/complaints${query(filters)}`),
  complaint: (id: string) => get<ComplaintDetail>(`/complaints/${enc(id)}`),
  openComplaint: (c: NewComplaint) => post<ComplaintDetail>("/complaints", c),
  complaintStep: (id: string, step: { kind: Exclude<StepKind, "registered" | "closed">; note?: string; responsible?: string }) =>
    post<ComplaintDetail>(`/complaints/${enc(id)}/steps`, step),
  closeComplaint: (id: string, close: { result: string; informed_how: InformedHow; informed_at: string }) =>
    post<ComplaintDetail>(`/complaints/${enc(id)}/close`, close),
  complaintNoticeUrl: (id: string) => `${API}/complaints/${enc(id)}/notice.pdf`,
  complaintStats: (month: string) => get<ComplaintStats>(`/complaints/statistics${query({ month })}`),
  complaintPolicy: () => get<ComplaintPolicy>("/settings/complaints"),
  changeComplaintPolicy: (p: ComplaintPolicy) => request<ComplaintPolicy>("PATCH", "/settings/complaints", p),

  planContracts: (q: string) => get<PlanContract[]>(`/plans/contracts${query({ q })}`),
  plans: (contractId: string) => get<ContractPlans>(`/plans${query({ contract_id: contractId })}`),
  createPlan: (p: PlanInput) => post<Plan>("/plans", p),
  changePlan: (id: string, p: PlanInput) => request<Plan>("PATCH", `/plans/${enc(id)}`, p),
  generatePlans: (g: { contract_id?: string; plan_id?: string; from: string; to: string }) => post<Generated>("/plans/generate", g),
  planOrders: (contractId: string, from = "", to = "") => get<PlanOrder[]>(`/plans/orders${query({ contract_id: contractId, from, to })}`),
  rebalance: (order_ids: string[], technicians: string[]) => post<OrderSummary[]>("/plans/rebalance", { order_ids, technicians }),
  renewals: () => get<{ today: string; window_days: number; rows: RenewalRow[] }>("/renewals"),
  renewal: (contractId: string) => get<RenewalDetail>(`/renewals/${enc(contractId)}`),
  renewalStep: (contractId: string, step: RenewalStep) => post<RenewalDetail>(`/renewals/${enc(contractId)}/steps`, step),
  expiryNoticeUrl: (contractId: string) => `${API}/renewals/${enc(contractId)}/notice.pdf`,
  setServiceLevel: (contractId: string, level: ServiceLevel | null) =>
    request<RenewalDetail>("PATCH", `/contracts/${enc(contractId)}/service-level`, { service_level: level }),
  bookCustomers: (q: string) => get<{ items: BookCustomer[] }>(`/books/customers${query({ q })}`),
  bookCustomer: (id: string) => get<CustomerBook>(`/books/customers/${enc(id)}`),
  createRecord: (kind: "customers" | "sites" | "assets" | "contracts", fields: Record<string, unknown>) => post<BookRecord>(`/books/${kind}`, fields),
  editRecord: (kind: "customers" | "sites" | "assets" | "contracts", id: string, fields: Record<string, unknown>) =>
    request<BookRecord>("PATCH", `/books/${kind}/${enc(id)}`, fields),
  mergeCustomer: (id: string, survivor: string) => post<MergeResult>(`/books/customers/${enc(id)}/merge`, { survivor }),
  corrections: (status: "pending" | "confirmed" | "rejected" | "all" = "pending") => get<{ items: CorrectionItem[] }>(`/corrections${query({ status })}`),
  decideCorrection: (id: string, decision: "confirm" | "reject", note?: string) =>
    post<CorrectionItem>(`/corrections/${enc(id)}/decide`, { decision, note: note?.trim() || null }),
};
