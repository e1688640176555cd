//! [`SyncClient`]: one enrolment, and one sync run (push until the outbox is empty, pull until
//! caught up, then upload attachments), over a shared [`Store`].
//!
//! The store is behind a `std::sync::Mutex` and is locked only in short synchronous sections
//! between network calls — never across an `.await` — so the desktop app's UI, which shares the
//! store, never waits on the network. (`MutexGuard` is not `Send`, so the compiler checks this for
//! every `Send` future; see the `futures_are_send` test.)

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use fieldbook_core::sync::protocol::{
    EnrollRequest, EnrollResponse, PullResponse, PushRequest, PushResponse, Rejection, RenewChallengeRequest, RenewChallengeResponse, RenewRequest, RenewResponse,
    TokenCheckRequest, TokenCheckResponse, MAX_PULL_PAGE, MAX_PUSH_BATCH,
};
use fieldbook_core::store::restored_server::RestoredServer;
use fieldbook_core::sync::protocol::ServerLineage;
use fieldbook_core::Store;
use serde::Serialize;

use crate::error::{Result, SyncError};
use crate::http::{check_transport, insecure_warning, normalize_base_url, Endpoint, Http, Limits, Purpose, Transfer, MAX_DECOMPRESSED_BYTES, MAX_RESPONSE_BYTES};

const TOKEN_PATH: &str = "/api/device/token";
const RENEW_CHALLENGE_PATH: &str = "/api/device/renew/challenge";
const RENEW_PATH: &str = "/api/device/renew";

/// Tunables; the defaults are the product's.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub connect_timeout: Duration,
    /// For a whole request, body included.
    pub request_timeout: Duration,
    /// Changes asked for in the first pull page of a run. Each page is applied in one store
    /// transaction while the store is locked, so a run starts small (an everyday sync is a few
    /// changes); while pages come back full, each asks for twice as many, up to the protocol's
    /// `MAX_PULL_PAGE`, so a first pull of a whole year's work runs at full speed.
    pub pull_limit: usize,
    /// Attachment upload chunk. A cut loses at most one chunk of progress.
    pub chunk_size: usize,
    /// Allow plain `http://` to a server that is not this computer for this client (`fieldbook
    /// sync --allow-insecure-http`); every sync then warns. An enrolment made with it stores
    /// the permission with the enrolment (`Store::set_allow_insecure_http`).
    pub allow_insecure_http: bool,
    /// The largest answer body accepted as received ([`MAX_RESPONSE_BYTES`]).
    pub max_response_bytes: u64,
    /// The largest answer body accepted once decompressed ([`MAX_DECOMPRESSED_BYTES`]).
    pub max_decompressed_bytes: u64,
    /// Host names answered without DNS, for tests.
    #[doc(hidden)]
    pub resolve: Vec<(String, SocketAddr)>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(60),
            pull_limit: 500,
            chunk_size: 256 * 1024,
            allow_insecure_http: false,
            max_response_bytes: MAX_RESPONSE_BYTES,
            max_decompressed_bytes: MAX_DECOMPRESSED_BYTES,
            resolve: Vec::new(),
        }
    }
}

/// A successful enrolment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Enrollment {
    pub server_url: String,
    pub technician: String,
    pub device_id: String,
}

/// Progress of a sync run so far, for a progress line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Progress {
    pub pushed: u32,
    pub pulled: u32,
    pub bytes_up: u64,
    pub bytes_down: u64,
}

/// An attachment that is not on the server yet, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PendingAttachment {
    pub id: String,
    pub reason: String,
}

/// What one sync run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SyncReport {
    /// Outbox entries the server acknowledged (they left the outbox).
    pub pushed: u32,
    /// Of those, applied now by the server.
    pub applied: u32,
    /// Of those, already applied before (a batch resent after a lost answer).
    pub duplicates: u32,
    /// Concurrent edits the server kept as conflicts for the office to review.
    pub conflicts: u32,
    /// Entries the server refused for good, with the reasons.
    pub rejected: Vec<Rejection>,
    /// Feed changes received.
    pub pulled: u32,
    /// Local records those changed.
    pub changed: u32,
    /// Pulled records this laptop could not store (its schema refuses them); the rest of their
    /// pages applied. Kept and listed by `fieldbook status` until a valid version arrives.
    pub refused: u32,
    /// Unsynced changes given new numbers because the store had been restored from a backup
    /// (the server had applied numbers the store was handing out again).
    pub renumbered: u32,
    pub attachments_uploaded: u32,
    /// Attachments still to upload (they are retried on the next sync).
    pub attachments_pending: Vec<PendingAttachment>,
    /// Body bytes sent and received, as on the wire (compressed).
    pub bytes_up: u64,
    pub bytes_down: u64,
    #[serde(rename = "duration_ms", serialize_with = "as_millis")]
    pub duration: Duration,
    /// Said with every sync while it holds: plain http:// to another computer is allowed.
    pub warnings: Vec<String>,
    /// The server handed this laptop a fresh device token (rotation), now stored and in use.
    pub token_rotated: bool,
    /// The expired device token was renewed with the device key.
    pub token_renewed: bool,
    /// The server had been restored from a backup and lost some of what this laptop had
    /// synced (why it was concluded); this run re-sent it and pulled again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_restored: Option<String>,
    /// Records re-sent from this laptop's own copies to the restored server.
    pub resent: u32,
}

pub(crate) fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

impl SyncReport {
    fn add(&mut self, t: Transfer) {
        self.bytes_up += t.up;
        self.bytes_down += t.down;
    }

    pub fn progress(&self) -> Progress {
        Progress { pushed: self.pushed, pulled: self.pulled, bytes_up: self.bytes_up, bytes_down: self.bytes_down }
    }
}

pub struct SyncClient {
    store: Arc<Mutex<Store>>,
    pub(crate) http: Http,
    pub(crate) options: ClientOptions,
    /// Attachments the server confirmed complete during this client's life. Not persisted: a
    /// new client (a CLI run, an app start) asks the server once per attachment with a `HEAD`,
    /// which costs little and cannot go stale the way a sidecar file could.
    pub(crate) confirmed: Mutex<HashSet<String>>,
}

impl SyncClient {
    pub fn new(store: Arc<Mutex<Store>>) -> Result<Self> {
        Self::with_options(store, ClientOptions::default())
    }

    pub fn with_options(store: Arc<Mutex<Store>>, options: ClientOptions) -> Result<Self> {
        let limits = Limits { max_response_bytes: options.max_response_bytes, max_decompressed_bytes: options.max_decompressed_bytes };
        let http = Http::new(options.connect_timeout, options.request_timeout, limits, &options.resolve)?;
        Ok(Self { store, http, options, confirmed: Mutex::new(HashSet::new()) })
    }

    pub fn store(&self) -> &Arc<Mutex<Store>> {
        &self.store
    }

    /// Runs `f` with the store locked. Synchronous on purpose: the lock cannot outlive it.
    pub(crate) fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> fieldbook_core::Result<T>) -> Result<T> {
        // Every store write is one SQLite transaction, so a panic elsewhere while the lock was
        // held cannot have left the data half-written: a poisoned lock is still safe to use.
        let mut store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(f(&mut store)?)
    }

    /// Changes waiting to be pushed.
    pub fn pending_changes(&self) -> Result<i64> {
        self.with_store(|s| s.outbox_len())
    }

    /// Where to sync, once its transport is acceptable ([`check_transport`]); with the warning
    /// to give when it is plain HTTP to another computer, allowed.
    fn endpoint(&self) -> Result<(Endpoint, Option<String>)> {
        let e = self.with_store(|s| s.enrolment())?.ok_or(SyncError::NotEnrolled)?;
        let insecure = check_transport(&e.server_url, e.allow_insecure_http || self.options.allow_insecure_http)?;
        let warning = insecure.then(|| insecure_warning(&e.server_url));
        Ok((Endpoint { base: e.server_url, token: Some(e.device_token) }, warning))
    }

    /// Enrols this laptop with `server_url` using the office's one-time `code`, and stores the
    /// device token. Enrolling again (a new code) replaces the token.
    pub async fn enroll(&self, server_url: &str, code: &str) -> Result<Enrollment> {
        let base = normalize_base_url(server_url)?;
        let insecure = check_transport(&base, self.options.allow_insecure_http)?;
        let code = code.trim();
        if code.is_empty() {
            return Err(SyncError::EnrollmentRefused { message: "the code is empty".into() });
        }
        let (device_id, public_key) = self.with_store(|s| Ok((s.device().id.clone(), s.device().public_key_hex())))?;
        let req = EnrollRequest { code: code.to_owned(), device_id: device_id.clone(), public_key, device_name: hostname() };
        let ep = Endpoint { base: base.clone(), token: None };
        let (resp, _): (EnrollResponse, _) = self.http.post_json(&ep, "/api/enroll", &req, "the enrolment", Purpose::Enroll).await?;
        self.with_store(|s| {
            s.set_enrolment(&base, &resp.device_token, &resp.technician)?;
            s.set_allow_insecure_http(insecure)
        })?;
        Ok(Enrollment { server_url: base, technician: resp.technician, device_id })
    }

    /// Cheap reachability check (`GET /api/status`): `Ok` when the server answers at all.
    pub async fn probe(&self) -> Result<()> {
        let (ep, _) = self.endpoint()?;
        self.http.probe(&ep).await
    }

    /// One sync run; see [`SyncClient::sync_once_with`].
    pub async fn sync_once(&self) -> Result<SyncReport> {
        self.sync_once_with(|_| {}).await
    }

    /// Pushes until the outbox is empty, pulls until caught up, then uploads attachments the
    /// server lacks, calling `progress` after each step. The outcome is noted in the store for
    /// the status line. A revocation marks the store revoked (see [`crate::handle_revocation`]).
    ///
    /// Attachment failures do not fail the run: they are listed in
    /// [`SyncReport::attachments_pending`] and retried next time.
    pub async fn sync_once_with(&self, mut progress: impl FnMut(&Progress)) -> Result<SyncReport> {
        let started = Instant::now();
        let mut report = SyncReport::default();
        match self.exchange(&mut report, &mut progress).await {
            Ok(ep) => {
                self.with_store(|s| s.record_sync_attempt(None))?;
                self.upload_attachments(&ep, &mut report, &mut progress).await;
            }
            Err(e) => {
                // Best effort: the error being returned matters more than noting it.
                // (A pull cut between pages was ended as `exchange` returned: `AbandonedPull`.)
                let _ = self.with_store(|s| {
                    if let SyncError::Revoked { reason, .. } = &e {
                        s.mark_revoked(reason)?;
                    }
                    s.record_sync_attempt(Some(&e.to_string()))
                });
                return Err(e);
            }
        }
        report.duration = started.elapsed();
        Ok(report)
    }

    /// The first request of a run (`POST /api/device/token`): reports how the store is
    /// protected, and stores the fresh token the server hands out when the current one is due for
    /// rotation — before any request uses it, so that a crash leaves a token that works (the
    /// server keeps the old one until it sees the new). An expired token is renewed with the
    /// device key; so is one the server no longer knows, which is where a renewal whose answer
    /// was lost leaves the laptop (the key, not the token, is what proves it).
    async fn check_token(&self, report: &mut SyncReport) -> Result<()> {
        let req = TokenCheckRequest { store_protection: Some(self.with_store(|s| Ok(s.protection_label().to_owned()))?) };
        let (ep, _) = self.endpoint()?;
        let answer = match self.http.post_json::<_, TokenCheckResponse>(&ep, TOKEN_PATH, &req, "the token check", Purpose::Sync).await {
            Err(first @ (SyncError::TokenExpired { .. } | SyncError::Unauthorized)) => {
                match self.renew_token(&ep, report).await {
                    Ok(()) => {}
                    // Nothing to renew with this server (it does not know this laptop, or
                    // predates renewal): the first refusal says what to do.
                    Err(SyncError::Unauthorized | SyncError::Refused { status: 404, .. }) if matches!(first, SyncError::Unauthorized) => return Err(first),
                    Err(e) => return Err(e),
                }
                let (ep, _) = self.endpoint()?;
                self.http.post_json::<_, TokenCheckResponse>(&ep, TOKEN_PATH, &req, "the token check", Purpose::Sync).await
            }
            other => other,
        };
        let (resp, t) = match answer {
            // A server from before token rotation: its tokens neither rotate nor expire.
            Err(SyncError::Refused { status: 404, .. }) => return Ok(()),
            other => other?,
        };
        report.add(t);
        if let Some(token) = resp.device_token {
            self.with_store(|s| s.set_device_token(&token))?;
            report.token_rotated = true;
        }
        if let Some(server) = &resp.server {
            self.check_server_lineage(server, report)?;
        }
        Ok(())
    }

    /// A server restored from a backup has lost what this laptop synced after the backup: if
    /// what it says of itself shows that, the laptop's own records are queued again (ahead of
    /// its unsent changes) and the pull goes back to a position the server shares with it
    /// (`Store::recover_from_restored_server`). Before the push, so this run sends them.
    fn check_server_lineage(&self, server: &ServerLineage, report: &mut SyncReport) -> Result<()> {
        let Some(how) = self.with_store(|s| s.restored_server(server))? else {
            return self.with_store(|s| s.note_server_lineage(server));
        };
        let recovery = self.with_store(|s| s.recover_from_restored_server(server, &how))?;
        let why = match how {
            RestoredServer::NewEpoch { .. } => "the server was restored from a backup (new epoch)".to_owned(),
            RestoredServer::Behind { feed_head, acked_seq } => {
                format!("the server is behind what this laptop synced (its feed ends at {feed_head}, it has {acked_seq} of this laptop's changes): restored from a backup")
            }
        };
        report.server_restored = Some(why);
        report.resent += recovery.resent as u32;
        Ok(())
    }

    /// Renews the device token with the device key: a one-time nonce from the server, signed in
    /// the store (the secret key never leaves it), exchanged for a new token, which is stored.
    async fn renew_token(&self, ep: &Endpoint, report: &mut SyncReport) -> Result<()> {
        let device_id = self.with_store(|s| Ok(s.device().id.clone()))?;
        // Not with the refused token: the key is the proof.
        let anonymous = Endpoint { base: ep.base.clone(), token: None };
        let challenge = RenewChallengeRequest { device_id: device_id.clone() };
        let (c, t): (RenewChallengeResponse, _) = self.http.post_json(&anonymous, RENEW_CHALLENGE_PATH, &challenge, "a token renewal", Purpose::Sync).await?;
        report.add(t);
        let signature = self.with_store(|s| Ok(s.sign_token_renewal(&c.nonce)))?;
        let req = RenewRequest { device_id, nonce: c.nonce, signature };
        let (r, t): (RenewResponse, _) = self.http.post_json(&anonymous, RENEW_PATH, &req, "a token renewal", Purpose::Sync).await?;
        report.add(t);
        self.with_store(|s| s.set_device_token(&r.device_token))?;
        report.token_renewed = true;
        Ok(())
    }

    /// Token check, push then pull. Returns the endpoint for the attachment phase.
    async fn exchange(&self, report: &mut SyncReport, progress: &mut impl FnMut(&Progress)) -> Result<Endpoint> {
        self.check_token(report).await?;
        // Read after the check: it may have stored a new token.
        let (ep, warning) = self.endpoint()?;
        report.warnings.extend(warning);
        let mut renumbered = false;
        loop {
            let batch = self.with_store(|s| s.pending_push(MAX_PUSH_BATCH))?;
            let (Some(first), Some(last)) = (batch.first().map(|e| e.seq), batch.last().map(|e| e.seq)) else { break };
            let seqs: Vec<i64> = batch.iter().map(|e| e.seq).collect();
            let pushed = self.http.post_json(&ep, "/api/sync/push", &PushRequest { entries: batch }, "a push", Purpose::Sync).await;
            let (mut resp, t): (PushResponse, _) = match pushed {
                // The store was restored from a backup and numbers new changes again from where
                // the backup stood: move them past what the server has applied, then resend.
                // Once per run: the same answer again means something else is wrong.
                Err(SyncError::SequenceReset { acked_seq }) if !renumbered => {
                    report.renumbered += self.with_store(|s| s.renumber_outbox_after(acked_seq))? as u32;
                    renumbered = true;
                    continue;
                }
                other => other?,
            };
            report.add(t);
            if resp.acked_seq < first {
                // Nothing acknowledged: sending the same batch again would loop forever.
                return Err(SyncError::Protocol { url: ep.base.clone(), what: "a push", detail: format!("it acknowledged up to change {}, before the first change sent ({first})", resp.acked_seq) });
            }
            // Never let an acknowledgement delete entries that were not in this batch (written
            // while the request was under way): only what was sent can have been applied.
            resp.acked_seq = resp.acked_seq.min(last);
            self.with_store(|s| s.acknowledge(&resp))?;
            report.pushed += seqs.iter().filter(|s| **s <= resp.acked_seq).count() as u32;
            report.applied += resp.applied;
            report.duplicates += resp.duplicates;
            report.conflicts += resp.conflicts;
            report.rejected.extend(resp.rejected);
            progress(&report.progress());
        }
        // Each page is applied (on a blocking thread, the store locked) while the next one is
        // already on its way: a first pull costs the larger of the two, not their sum. The next
        // page is asked for by the cursor this page ends at, which is exactly where the store's
        // cursor will be once this page commits; if applying fails, the early page is dropped
        // and the next run starts again from the store's cursor.
        let page_path = |cursor: i64, limit: usize| format!("/api/sync/pull?cursor={cursor}&limit={limit}");
        let mut limit = self.options.pull_limit.clamp(1, MAX_PULL_PAGE);
        let mut cursor = self.with_store(|s| s.pull_cursor())?;
        let mut abandoned = AbandonedPull { store: self.store.clone(), flag: Arc::new(AtomicBool::new(false)), armed: true };
        let mut fetched = self.http.get_json::<PullResponse>(&ep, &page_path(cursor, limit), "a pull").await;
        loop {
            let (page, t) = fetched?;
            report.add(t);
            let (more, next_cursor, received) = (page.more, page.next_cursor, page.changes.len() as u32);
            if more && received as usize >= limit {
                limit = (limit * 2).min(MAX_PULL_PAGE);
            }
            let store = self.store.clone();
            let dropped = abandoned.flag.clone();
            let apply = async move {
                let applied = tokio::task::spawn_blocking(move || {
                    let mut s = store.lock().unwrap_or_else(PoisonError::into_inner);
                    let applied = s.apply_pull_page(&page);
                    if dropped.load(Ordering::SeqCst) {
                        // The sync was dropped while this page was on its way in.
                        let _ = s.end_pull();
                    }
                    drop(s);
                    // Freeing a page of thousands of parsed changes takes a while: not with the
                    // store locked, and off the thread the next page's apply will need.
                    (applied, page)
                });
                match applied.await {
                    Ok((applied, page)) => {
                        tokio::task::spawn_blocking(move || drop(page));
                        applied
                    }
                    // Only a panic in the store (or a runtime shutting down) ends up here.
                    Err(e) => std::panic::resume_unwind(e.try_into_panic().unwrap_or_else(|_| Box::new("the runtime shut down during a pull"))),
                }
            };
            let next = async {
                match more && next_cursor > cursor {
                    true => Some(self.http.get_json::<PullResponse>(&ep, &page_path(next_cursor, limit), "a pull").await),
                    false => None,
                }
            };
            let (applied, next) = tokio::join!(apply, next);
            report.pulled += received;
            let applied = applied?;
            report.changed += applied.changed as u32;
            report.refused += applied.refused as u32;
            progress(&report.progress());
            if !more {
                break;
            }
            if next_cursor <= cursor {
                return Err(SyncError::Protocol { url: ep.base.clone(), what: "a pull", detail: format!("it says more changes wait but its cursor did not move past {cursor}") });
            }
            fetched = next.expect("asked for whenever more pages wait and the cursor moved");
            cursor = next_cursor;
        }
        abandoned.armed = false;
        Ok(ep)
    }

    /// The stored bytes of the attachments this laptop holds, with their ids.
    pub(crate) fn local_attachments(&self) -> Result<Vec<(String, PathBuf)>> {
        self.with_store(|s| {
            // The core has no typed listing of attachments yet; this is read-only.
            let mut stmt = s.connection().prepare("SELECT id FROM attachments WHERE deleted = 0 ORDER BY added_at, id")?;
            let ids: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
            Ok(ids.into_iter().map(|id| {
                let path = s.attachment_path(&id);
                (id, path)
            }).collect())
        })
    }
}

/// This computer's name, shown to the office next to the device.
fn hostname() -> Option<String> {
    let from_env = || std::env::var("COMPUTERNAME").or_else(|_| std::env::var("HOSTNAME")).ok();
    let from_proc = || std::fs::read_to_string("/proc/sys/kernel/hostname").ok();
    let from_cmd = || {
        std::process::Command::new("hostname").output().ok().filter(|o| o.status.success()).map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    from_env().or_else(from_proc).or_else(from_cmd).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Ends a pull that stops between pages, whether an error returns from it (the network cut, a
/// refusal) or its sync future is dropped (the app closing mid-pull, a caller's timeout): the
/// pages already in become searchable and the paused checkpoints resume now, not at the next
/// start. A page still being applied on
/// its blocking thread sees `flag` and ends the pull itself once it is in; whichever of the two
/// takes the store second finds the pull ended (`end_pull` then does nothing).
struct AbandonedPull {
    store: Arc<Mutex<Store>>,
    flag: Arc<AtomicBool>,
    /// Cleared when the pull reached its last page.
    armed: bool,
}

impl Drop for AbandonedPull {
    fn drop(&mut self) {
        if self.armed {
            self.flag.store(true, Ordering::SeqCst);
            let _ = self.store.lock().unwrap_or_else(PoisonError::into_inner).end_pull();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    /// The futures the desktop app may spawn on a multi-threaded runtime are `Send`, which also
    /// proves no store lock (`MutexGuard` is not `Send`) is held across an `.await`.
    #[test]
    fn futures_are_send() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Mutex::new(Store::open(&dir.path().join("f.db"), &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap()));
        let c = SyncClient::new(store).unwrap();
        assert_send(&c.sync_once());
        assert_send(&c.enroll("https://x", "code"));
        assert_send(&c.probe());
    }

    #[test]
    fn syncing_before_enrolment_says_how_to_enrol() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Mutex::new(Store::open(&dir.path().join("f.db"), &fieldbook_core::at_rest::StoreKey::from_bytes([7; 32])).unwrap()));
        let c = SyncClient::new(store).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let e = rt.block_on(c.sync_once()).unwrap_err();
        assert!(matches!(e, SyncError::NotEnrolled), "{e:?}");
        assert!(e.to_string().contains("fieldbook enroll --server URL --code CODE"));
    }
}
