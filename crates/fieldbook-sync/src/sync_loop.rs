//! [`SyncLoop`]: the desktop app's background sync. It runs on its own thread with its own
//! single-threaded tokio runtime, so it works whatever runtime (if any) the app uses, and it
//! shares the store with the UI only through [`SyncClient`]'s short locked sections.
//!
//! When it syncs: at start, soon after changes appear in the outbox, every `interval`, and on
//! [`SyncHandle::sync_now`]. After a failure it waits with [`Backoff`]; while offline it probes
//! the server cheaply (`GET /api/status`) instead of attempting a full sync.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use fieldbook_core::Store;
use serde::Serialize;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::backoff::Backoff;
use crate::client::{ClientOptions, Progress, SyncClient, SyncReport};
use crate::error::SyncError;

#[derive(Debug, Clone)]
pub struct LoopOptions {
    /// Sync at least this often while things go well.
    pub interval: Duration,
    /// How often to look for new outbox entries (one `COUNT` on the store).
    pub poll: Duration,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Fixes the jitter, for tests.
    pub seed: Option<u64>,
    pub client: ClientOptions,
}

impl Default for LoopOptions {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(30),
            poll: Duration::from_secs(2),
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            seed: None,
            client: ClientOptions::default(),
        }
    }
}

/// What the loop tells the app. Called on the loop's thread, never with the store locked.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SyncEvent {
    Started,
    Progress(Progress),
    Finished(SyncReport),
    /// The attempt failed; the next one is in `retry_in` (or on [`SyncHandle::sync_now`]).
    Failed {
        message: String,
        kind: &'static str,
        #[serde(rename = "retry_in_ms", serialize_with = "crate::client::as_millis")]
        retry_in: Duration,
    },
    /// The server answers again.
    Online,
    /// The server cannot be reached; local work goes on and is kept.
    Offline,
    /// The office revoked this laptop; the loop has stopped. The app now stops the handle, drops
    /// its store and calls [`crate::handle_revocation`].
    Revoked { reason: String, wipe: bool },
}

#[derive(Default)]
struct Shared {
    wake: Notify,
    stop: Notify,
    stopping: AtomicBool,
}

/// Starts the background sync. Spawn it once the laptop is enrolled: before that, every attempt
/// fails with [`SyncError::NotEnrolled`] and is retried only every `backoff_max` (or on
/// [`SyncHandle::sync_now`], e.g. right after enrolling).
pub struct SyncLoop;

impl SyncLoop {
    pub fn spawn(store: Arc<Mutex<Store>>, events: impl Fn(SyncEvent) + Send + 'static) -> SyncHandle {
        Self::spawn_with(store, LoopOptions::default(), events)
    }

    pub fn spawn_with(store: Arc<Mutex<Store>>, options: LoopOptions, events: impl Fn(SyncEvent) + Send + 'static) -> SyncHandle {
        let shared = Arc::new(Shared::default());
        let inner = shared.clone();
        let thread = std::thread::Builder::new()
            .name("fieldbook-sync".into())
            .spawn(move || match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt.block_on(run(store, options, inner, events)),
                Err(e) => events(SyncEvent::Failed { message: format!("background sync cannot start: {e}"), kind: "internal", retry_in: Duration::ZERO }),
            })
            .expect("the OS refused to start the background sync thread");
        SyncHandle { shared, thread: Some(thread) }
    }
}

/// Controls a running [`SyncLoop`]. Dropping it stops the loop too.
pub struct SyncHandle {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl SyncHandle {
    /// Syncs as soon as possible, skipping any backoff wait (the technician pressed "sync").
    pub fn sync_now(&self) {
        self.shared.wake.notify_one();
    }

    /// Stops the loop and waits for its thread; an exchange under way is abandoned, which the
    /// protocol makes harmless (a push is resent, a pull repeats from the stored cursor).
    pub fn stop(mut self) {
        self.shutdown();
    }

    /// The loop has ended (stopped, or after a revocation).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    fn shutdown(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        self.shared.stop.notify_one();
        if let Some(t) = self.thread.take() {
            // Dropped from inside an event callback: the thread cannot wait for itself.
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
    }
}

impl Drop for SyncHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Trigger {
    /// `sync_now`.
    Now,
    /// The interval or the retry wait ran out.
    Due,
    /// New outbox entries.
    Pending,
}

async fn run(store: Arc<Mutex<Store>>, options: LoopOptions, shared: Arc<Shared>, events: impl Fn(SyncEvent)) {
    let client = match SyncClient::with_options(store, options.client.clone()) {
        Ok(c) => c,
        Err(e) => return events(SyncEvent::Failed { message: e.to_string(), kind: e.kind(), retry_in: Duration::ZERO }),
    };
    let mut backoff = match options.seed {
        Some(seed) => Backoff::with_seed(options.backoff_base, options.backoff_max, seed),
        None => Backoff::new(options.backoff_base, options.backoff_max),
    };
    let mut online: Option<bool> = None;
    let mut failing = false;
    let mut next_at = Instant::now();
    while !shared.stopping.load(Ordering::SeqCst) {
        let trigger = tokio::select! {
            _ = shared.stop.notified() => return,
            t = wait_for_trigger(&client, &shared, next_at, failing, options.poll) => t,
        };
        let fail = |e: &SyncError, delay: Duration| SyncEvent::Failed { message: e.to_string(), kind: e.kind(), retry_in: delay };
        // While offline, a timer wake-up first checks cheaply whether the server is back.
        if online == Some(false) && trigger != Trigger::Now {
            let probe = tokio::select! {
                _ = shared.stop.notified() => return,
                r = client.probe() => r,
            };
            match probe {
                Ok(()) => set_online(&mut online, true, &events),
                Err(e) if e.is_offline() => {
                    let delay = backoff.next_delay();
                    next_at = Instant::now() + delay;
                    events(fail(&e, delay));
                    continue;
                }
                // Not a network problem: the sync below reports it properly.
                Err(_) => {}
            }
        }
        events(SyncEvent::Started);
        let result = tokio::select! {
            _ = shared.stop.notified() => return,
            r = client.sync_once_with(|p| events(SyncEvent::Progress(*p))) => r,
        };
        match result {
            Ok(report) => {
                set_online(&mut online, true, &events);
                backoff.reset();
                failing = false;
                next_at = Instant::now() + options.interval;
                events(SyncEvent::Finished(report));
            }
            Err(SyncError::Revoked { reason, wipe }) => {
                set_online(&mut online, true, &events);
                events(SyncEvent::Revoked { reason, wipe });
                return;
            }
            Err(e) => {
                set_online(&mut online, !e.is_offline(), &events);
                // Errors that need a person (an update, a new enrolment) are retried rarely;
                // `sync_now` after the fix retries at once.
                let delay = if e.is_transient() { backoff.next_delay() } else { backoff.max() };
                failing = true;
                next_at = Instant::now() + delay;
                events(fail(&e, delay));
            }
        }
    }
}

/// Notes reachability, telling the app only when it changes.
fn set_online(online: &mut Option<bool>, now_online: bool, events: &impl Fn(SyncEvent)) {
    if *online != Some(now_online) {
        *online = Some(now_online);
        events(if now_online { SyncEvent::Online } else { SyncEvent::Offline });
    }
}

async fn wait_for_trigger(client: &SyncClient, shared: &Shared, next_at: Instant, failing: bool, poll: Duration) -> Trigger {
    loop {
        let now = Instant::now();
        if now >= next_at {
            return Trigger::Due;
        }
        // While failing, only the retry time or the technician wakes the loop: new changes
        // do not cut a backoff short.
        let until = if failing { next_at } else { next_at.min(now + poll) };
        tokio::select! {
            _ = shared.wake.notified() => return Trigger::Now,
            _ = tokio::time::sleep_until(until) => {}
        }
        if !failing && Instant::now() < next_at && client.pending_changes().is_ok_and(|n| n > 0) {
            return Trigger::Pending;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The app forwards events to the UI as JSON: one flat object tagged by `event`.
    #[test]
    fn events_serialize_flat_and_tagged() {
        let p = SyncEvent::Progress(Progress { pushed: 3, pulled: 5, bytes_up: 100, bytes_down: 2000 });
        assert_eq!(serde_json::to_value(&p).unwrap(), json!({"event": "progress", "pushed": 3, "pulled": 5, "bytes_up": 100, "bytes_down": 2000}));
        let f = SyncEvent::Failed { message: "cannot reach".into(), kind: "unreachable", retry_in: Duration::from_millis(1500) };
        assert_eq!(serde_json::to_value(&f).unwrap(), json!({"event": "failed", "message": "cannot reach", "kind": "unreachable", "retry_in_ms": 1500}));
        let d = serde_json::to_value(SyncEvent::Finished(SyncReport { duration: Duration::from_millis(42), ..SyncReport::default() })).unwrap();
        assert_eq!((d["event"].as_str(), d["duration_ms"].as_u64()), (Some("finished"), Some(42)));
        assert_eq!(serde_json::to_value(SyncEvent::Revoked { reason: "r".into(), wipe: true }).unwrap(), json!({"event": "revoked", "reason": "r", "wipe": true}));
        assert_eq!(serde_json::to_value(SyncEvent::Offline).unwrap(), json!({"event": "offline"}));
    }
}
