//! Group commit of pushes. Every push appends to the feed, and feed-appending transactions take
//! turns on the feed lock (docs/sync.md "No gaps"), so under many laptops at once what counts is
//! how much one turn gets done. Push requests are therefore queued to one writer thread, which
//! takes whatever has queued up while the previous transaction ran and applies all of it in ONE
//! `Mode::Feed` transaction ([`crate::push::apply_group`]): one lock turn and one durable commit
//! (fsync) for many devices, instead of one each.
//!
//! Nothing about a push's meaning changes: each device's batch is checked and merged exactly as
//! alone, its `acked_seq` moves in that same transaction, and every request is answered only
//! after the transaction has committed. If the group transaction fails (one device revoked while
//! its request waited, a database error), nothing of it was committed and every batch of the
//! group is applied again on its own, so one device's failure is never another's.
//!
//! A lone push is applied at once: the writer never waits for company.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use fieldbook_core::sync::protocol::{PushRequest, PushResponse};
use tokio::sync::{mpsc, oneshot};

use crate::db::{Db, Mode};
use crate::devices::DeviceIdentity;
use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::push;

/// Entries one group transaction takes at most (more wait for the next turn), which bounds how
/// long a push can wait behind others.
pub const MAX_GROUP_ENTRIES: usize = 4_000;

struct Job {
    device: DeviceIdentity,
    req: PushRequest,
    reply: oneshot::Sender<Result<PushResponse>>,
}

/// The queue in front of the push writer. Cheap to clone; the writer thread ends when the last
/// handle is dropped.
#[derive(Clone)]
pub struct PushQueue {
    jobs: Arc<mpsc::UnboundedSender<Job>>,
    metrics: Arc<Metrics>,
}

impl PushQueue {
    /// Starts the writer thread for `db`; it counts the queue and times each group in `metrics`.
    pub fn start(db: Db, metrics: Arc<Metrics>) -> PushQueue {
        let (jobs, rx) = mpsc::unbounded_channel();
        let m = metrics.clone();
        std::thread::Builder::new().name("fieldbook-push".into()).spawn(move || writer(db, rx, &m)).expect("starting the push writer thread");
        PushQueue { jobs: Arc::new(jobs), metrics }
    }

    /// Applies a device's batch (checked with [`push::check_batch`]); answers after commit.
    pub async fn push(&self, device: DeviceIdentity, req: PushRequest) -> Result<PushResponse> {
        let stopped = || Error::Internal("the push writer stopped; try again".into());
        let (reply, answer) = oneshot::channel();
        self.metrics.queued(1);
        self.jobs.send(Job { device, req, reply }).map_err(|_| {
            self.metrics.queued(-1);
            stopped()
        })?;
        answer.await.map_err(|_| stopped())?
    }
}

fn writer(db: Db, mut rx: mpsc::UnboundedReceiver<Job>, metrics: &Metrics) {
    while let Some(first) = rx.blocking_recv() {
        let mut entries = first.req.entries.len();
        let mut jobs = vec![first];
        while entries < MAX_GROUP_ENTRIES {
            match rx.try_recv() {
                Ok(job) => {
                    entries += job.req.entries.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let (pushes, started) = (jobs.len(), std::time::Instant::now());
        metrics.queued(-(pushes as i64));
        // A panic outside a transaction (a bug) fails this group's requests (their reply
        // channels close), not the writer; one inside is caught in `apply`.
        let outcome = catch_unwind(AssertUnwindSafe(|| apply(&db, jobs)));
        metrics.commit_took(started.elapsed());
        tracing::debug!(pushes, entries, ms = started.elapsed().as_secs_f64() * 1000.0, "applied a group of pushes");
        if outcome.is_err() {
            tracing::error!("applying a group of pushes panicked; its requests were answered with an error");
        }
    }
}

fn apply(db: &Db, jobs: Vec<Job>) {
    if jobs.len() > 1 {
        let batches: Vec<(&DeviceIdentity, &PushRequest)> = jobs.iter().map(|j| (&j.device, &j.req)).collect();
        // A panic (a bug reached by one device's entries) is caught like an error: the group
        // rolled back, and every batch is then applied on its own, so only that device fails.
        match catch_unwind(AssertUnwindSafe(|| db.transaction(Mode::Feed, |tx| push::apply_group(tx, &batches)))) {
            Ok(Ok((responses, leftovers))) => {
                drop(batches);
                for (job, resp) in jobs.into_iter().zip(responses) {
                    let _ = job.reply.send(Ok(resp));
                }
                // Freed once every request of the group has its answer.
                drop(leftovers);
                return;
            }
            Ok(Err(e)) => tracing::debug!(error = %e, pushes = jobs.len(), "a group of pushes failed; applying each on its own"),
            Err(_) => tracing::error!(pushes = jobs.len(), "a group of pushes panicked; applying each on its own"),
        }
    }
    for job in jobs {
        match catch_unwind(AssertUnwindSafe(|| db.transaction(Mode::Feed, |tx| push::apply_group(tx, &[(&job.device, &job.req)])))) {
            Ok(Ok((mut responses, leftovers))) => {
                let _ = job.reply.send(responses.pop().ok_or_else(|| Error::Internal("a push got no answer".into())));
                drop(leftovers);
            }
            Ok(Err(e)) => {
                let _ = job.reply.send(Err(e));
            }
            Err(_) => {
                tracing::error!(device = %job.device.id, "applying a push panicked; it was answered with an error");
                let _ = job.reply.send(Err(Error::Internal(format!("applying the push of device {} panicked", job.device.id))));
            }
        }
    }
}
