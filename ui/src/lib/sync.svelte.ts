/**
 * The sync state the header, the enrolment screen and Settings share: the `sync_status`
 * answer kept current by the background loop's events. Sync never blocks work: nothing here
 * waits on the network, and outside the desktop shell (tests, `vite dev`) it stays quiet.
 */
import {
  enroll as enrollCmd,
  LOCKED_KINDS,
  unlockStore,
  onRevocation,
  onSyncEvent,
  syncNow as syncNowCmd,
  syncStatus,
  toCommandError,
  whenOfflineLocked,
  type CommandError,
  type SyncEvent,
  type SyncStatusView,
} from "./api";
import { initialSync, needsStatus, reduce, withStatus, type SyncState } from "./sync";

const OFFLINE_KEY = "fieldbook.work_offline";

let state = $state<SyncState>(initialSync);
let loadError = $state<CommandError | null>(null);
let nowError = $state<CommandError | null>(null);
let workOffline = $state(globalThis.localStorage?.getItem(OFFLINE_KEY) === "1");
/** The technician asked for the enrolment screen (from Settings or the status line). */
let enrolRequested = $state(false);
/** Bumped by every sync that changed local records, so lists on screen know to reload. */
let dataVersion = $state(0);
let started = false;

async function refresh() {
  try {
    state = withStatus(state, await syncStatus());
    loadError = null;
  } catch (e) {
    loadError = toCommandError(e);
  }
}

function apply(e: SyncEvent) {
  state = reduce(state, e);
  if (e.event === "finished" && e.changed > 0) dataVersion++;
  if (needsStatus(e)) void refresh();
}

function setStatus(status: SyncStatusView) {
  state = withStatus(state, status);
}

export const sync = {
  get state(): SyncState {
    return state;
  },
  /** `sync_status` could not be read (e.g. the store did not open). */
  get loadError(): CommandError | null {
    return loadError;
  },
  /** Grows by one after each sync that brought changes into the local store (`changed > 0`). */
  get dataVersion(): number {
    return dataVersion;
  },
  /** The last "Sync now" press failed. */
  get nowError(): CommandError | null {
    return nowError;
  },
  /** The store waits for its passphrase: `"unlock"`, or for one to be chosen: `"choose"`. */
  get unlockNeeded(): "unlock" | "choose" | null {
    const kind = loadError?.kind;
    if (!kind || !(LOCKED_KINDS as readonly string[]).includes(kind)) return null;
    return kind === "store_new_passphrase" ? "choose" : "unlock";
  },
  /** Unlocks the store; rejects with a `CommandError` (e.g. `wrong_passphrase`). */
  async unlock(passphrase: string): Promise<void> {
    try {
      setStatus(await unlockStore(passphrase));
      loadError = null;
      dataVersion++;
    } catch (e) {
      throw toCommandError(e);
    }
  },
  /** Whether to show the enrolment screen instead of the work screens. */
  get showEnrol(): boolean {
    const st = state.status;
    if (!st) return false;
    if (enrolRequested) return !st.enrolled || !!st.revoked_reason || st.revocation?.local_data === "wiped";
    return !st.enrolled && !st.work_offline && !workOffline;
  },
  /** Subscribes to the background loop once, and reads the status. */
  start(): Promise<void> {
    if (started) return refresh();
    started = true;
    onSyncEvent(apply).catch(() => {});
    // A command refused for the offline lock: read the status now rather than at the next poll.
    whenOfflineLocked(() => void refresh());
    onRevocation(() => {
      enrolRequested = false;
      void refresh();
    }).catch(() => {});
    // The counts also move with local work; a cheap re-read keeps them honest.
    setInterval(() => void refresh(), 15_000);
    return refresh();
  },
  refresh,
  apply,
  async syncNow(): Promise<void> {
    nowError = null;
    try {
      setStatus(await syncNowCmd());
    } catch (e) {
      nowError = toCommandError(e);
    }
  },
  /** Enrols; on success the background sync is running. Rejects with a `CommandError`. */
  async enroll(serverUrl: string, code: string): Promise<void> {
    try {
      const r = await enrollCmd(serverUrl.trim(), code.trim());
      state = { ...state, revoked: null, error: null };
      setStatus(r.status);
      enrolRequested = false;
    } catch (e) {
      throw toCommandError(e);
    }
  },
  workOfflineForNow() {
    workOffline = true;
    enrolRequested = false;
    globalThis.localStorage?.setItem(OFFLINE_KEY, "1");
  },
  requestEnrol() {
    enrolRequested = true;
  },
};
