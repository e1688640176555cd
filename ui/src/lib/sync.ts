/**
 * The sync status line's state, as a pure reducer over the background loop's events
 * (`sync-event`) and the `sync_status` answers, plus its wording. No Svelte, no IPC: the
 * reactive wrapper is `sync.svelte.ts`.
 */
import type { Rejection, Revocation, SyncEvent, SyncReport, SyncStatusView } from "./api";
import { formatDateTime, formatTime } from "./format";
import { translate, type Locale, type MessageKey } from "./i18n";
import { numberFormat } from "./intl";

export interface Progress {
  pushed: number;
  pulled: number;
  bytes_up: number;
  bytes_down: number;
}

export interface SyncProblem {
  /** `SyncError::kind()` (or guessed from a stored message). */
  kind: string;
  /** The client's own wording (English), kept for details. */
  message: string;
  retryInMs: number | null;
}

export interface SyncState {
  /** The last `sync_status` answer; `null` until the first one. */
  status: SyncStatusView | null;
  /** Whether the server answers; `null` until known. */
  online: boolean | null;
  syncing: boolean;
  progress: Progress | null;
  /** Photos/attachments still to upload after the last run. */
  attachmentsPending: number;
  error: SyncProblem | null;
  lastReport: SyncReport | null;
  /** A revocation received in this session. */
  revoked: { reason: string; wipe: boolean } | null;
}

export const initialSync: SyncState = {
  status: null,
  online: null,
  syncing: false,
  progress: null,
  attachmentsPending: 0,
  error: null,
  lastReport: null,
  revoked: null,
};

/** The state after one background sync event. */
export function reduce(s: SyncState, e: SyncEvent): SyncState {
  switch (e.event) {
    case "started":
      return { ...s, syncing: true, progress: { pushed: 0, pulled: 0, bytes_up: 0, bytes_down: 0 } };
    case "progress":
      return { ...s, syncing: true, progress: { pushed: e.pushed, pulled: e.pulled, bytes_up: e.bytes_up, bytes_down: e.bytes_down } };
    case "finished": {
      const { event: _, ...report } = e;
      return {
        ...s,
        syncing: false,
        progress: null,
        online: true,
        error: null,
        lastReport: report,
        attachmentsPending: report.attachments_pending.length,
      };
    }
    case "failed":
      return {
        ...s,
        syncing: false,
        progress: null,
        online: e.kind === "unreachable" ? false : s.online,
        error: { kind: e.kind, message: e.message, retryInMs: e.retry_in_ms },
      };
    case "online":
      return { ...s, online: true };
    case "offline":
      return { ...s, online: false };
    case "revoked":
      return { ...s, syncing: false, progress: null, revoked: { reason: e.reason, wipe: e.wipe } };
  }
}

/** After these events the stored counts (pending, last sync, refused changes) have moved. */
export function needsStatus(e: SyncEvent): boolean {
  return e.event === "finished" || e.event === "failed" || e.event === "revoked";
}

/** The state with a fresh `sync_status` answer. A stored error is shown until a sync says otherwise. */
export function withStatus(s: SyncState, status: SyncStatusView): SyncState {
  const stored = status.last_error;
  const error = stored ? (s.error ?? { kind: kindOfMessage(stored), message: stored, retryInMs: null }) : null;
  return { ...s, status, error };
}

/** A kind for an error stored as text only (the store keeps the message, not the kind). */
export function kindOfMessage(message: string): string {
  const m = message.toLowerCase();
  if (m.startsWith("cannot reach the server")) return "unreachable";
  if (m.startsWith("please update fieldbook")) return "protocol_unsupported";
  if (m.startsWith("this laptop is not enrolled with a server")) return "not_enrolled";
  if (m.startsWith("this laptop is not enrolled with the server")) return "unauthorized";
  if (m.startsWith("the office has revoked")) return "device_revoked";
  if (m.startsWith("the server did not accept the enrolment")) return "enrollment_refused";
  if (m.startsWith("the server refused")) return "refused";
  if (m.startsWith("the server at") && m.includes("failed")) return "server_failed";
  if (m.startsWith("the answer of")) return "protocol";
  if (m.startsWith("cannot read attachment")) return "io";
  return "other";
}

const ERROR_KINDS = [
  "not_enrolled",
  "invalid_url",
  "unreachable",
  "protocol_unsupported",
  "unauthorized",
  "enrollment_refused",
  "device_revoked",
  "refused",
  "server_failed",
  "protocol",
  "io",
] as const;

/** What went wrong, in the technician's language: what happened and what to do. */
export function errorText(kind: string, locale: Locale): string {
  const known = (ERROR_KINDS as readonly string[]).includes(kind) ? kind : "other";
  return translate(locale, `sync.err.${known}` as MessageKey);
}

/** Bytes as `512 B`, `12.4 KB`, `3.1 MB`. */
export function formatBytes(n: number, locale: Locale): string {
  const units = ["B", "KB", "MB", "GB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const digits = i === 0 ? 0 : v < 10 ? 1 : 0;
  return `${numberFormat(locale, { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(v)} ${units[i]}`;
}

/** "Last synced 16:30" today, with the date on other days; "Never synced" before the first. */
export function lastSyncText(iso: string | null | undefined, now: Date, locale: Locale): string {
  if (!iso) return translate(locale, "sync.never");
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return translate(locale, "sync.last", { time: iso });
  const sameDay = d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
  return translate(locale, "sync.last", { time: sameDay ? formatTime(iso, locale) : formatDateTime(iso, locale) });
}

/** The progress line while syncing: changes sent/received and bytes moved. */
export function progressText(p: Progress | null, locale: Locale): string {
  if (!p) return translate(locale, "sync.syncing");
  return translate(locale, "sync.progress", {
    up: p.pushed,
    down: p.pulled,
    bytes: formatBytes(p.bytes_up + p.bytes_down, locale),
  });
}

export type Phase = "loading" | "not_enrolled" | "revoked" | "syncing" | "locked" | "offline" | "error" | "online" | "idle";

/** The one word the status line leads with. */
export function phase(s: SyncState): Phase {
  const st = s.status;
  if (!st) return "loading";
  if (s.revoked || st.revoked_reason) return "revoked";
  if (!st.enrolled) return "not_enrolled";
  if (s.syncing) return "syncing";
  // Past the office's offline limit: the records are hidden until a sync succeeds.
  if (st.offline_lock) return "locked";
  if (s.online === false) return "offline";
  if (s.error) return "error";
  if (s.online === true) return "online";
  return "idle";
}

export function phaseText(s: SyncState, locale: Locale): string {
  const p = phase(s);
  return p === "syncing" ? progressText(s.progress, locale) : translate(locale, `sync.phase.${p}` as MessageKey);
}

/** The banner after a revocation: data wiped, or N unsynced changes kept. `null` when not revoked. */
export function revocationText(s: SyncState, locale: Locale): string | null {
  const st = s.status;
  const r: Revocation | null = st?.revocation ?? null;
  if (r?.local_data === "wiped") return translate(locale, "sync.revoked.wiped");
  if (r?.local_data === "kept") return translate(locale, "sync.revoked.kept", { count: r.unsynced });
  if (st?.revoked_reason) return translate(locale, "sync.revoked.kept", { count: st.pending_changes });
  if (s.revoked) return translate(locale, "sync.revoked.closing");
  return null;
}

/** A refused change as one line: `work_orders WO… — reason`. */
export function rejectionText(r: Rejection, locale: Locale): string {
  return translate(locale, "sync.rejection", { entity: r.entity, record: r.record_id, reason: r.reason });
}
