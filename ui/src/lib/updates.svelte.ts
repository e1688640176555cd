/**
 * Updates from the company's server, as the offer banner and Settings share them: the
 * `update_status` answer, refreshed when the shell announces a newer release (it checks after
 * each successful sync), and installing. Outside the desktop shell it stays quiet.
 */
import {
  checkUpdate,
  installUpdate,
  onUpdateAvailable,
  toCommandError,
  updateStatus,
  type CommandError,
  type UpdateView,
} from "./api";
import type { MessageKey } from "./i18n";

let view = $state<UpdateView | null>(null);
let error = $state<CommandError | null>(null);
let installing = $state(false);
/** "Later" hides the offer of this version until a newer one is offered. */
let laterFor = $state<string | null>(null);
let started = false;

function take(v: UpdateView) {
  view = v;
}

/** The words for an update failure's kind (its details are shown beside). */
export function updateErrorKey(kind: string): MessageKey {
  const known = ["update_pending_changes", "update_pending_uploads", "update_sync_failed", "update_bad_signature", "update_download_failed", "update_package_manager"];
  return (known.includes(kind) ? `update.err.${kind}` : "update.err.other") as MessageKey;
}

export const updates = {
  get view(): UpdateView | null {
    return view;
  },
  /** The last install or check that failed here (the shell's last error is in `view`). */
  get error(): CommandError | null {
    return error;
  },
  get installing(): boolean {
    return installing;
  },
  /** The offer banner shows: a release is offered, this copy can install it, not put off. */
  get showOffer(): boolean {
    const o = view?.offered;
    return !!o && !!view?.can_install && laterFor !== o.version;
  },
  start() {
    if (started) return;
    started = true;
    updateStatus().then(take).catch(() => {});
    void onUpdateAvailable(take).catch(() => {});
  },
  async check() {
    try {
      take(await checkUpdate());
      error = null;
    } catch (e) {
      error = toCommandError(e);
    }
  },
  later() {
    laterFor = view?.offered?.version ?? null;
  },
  async install() {
    installing = true;
    error = null;
    try {
      // On success the app restarts into the new version; nothing comes back.
      take(await installUpdate());
    } catch (e) {
      error = toCommandError(e);
      updateStatus().then(take).catch(() => {});
    } finally {
      installing = false;
    }
  },
};
