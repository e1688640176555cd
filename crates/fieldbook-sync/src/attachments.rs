//! Resumable attachment upload (`HEAD` for the server's offset, then `PATCH` chunks from there).
//!
//! Runs after records are pushed and pulled, so a work order never waits for its photos; a
//! failure here is reported as pending, not as a failed sync.

use crate::client::{PendingAttachment, Progress, SyncClient, SyncReport};
use crate::error::{Result, SyncError};
use crate::http::Endpoint;

/// Re-asks for the offset this many times when a chunk is refused (e.g. another upload of the
/// same content moved it), before giving up until the next sync.
const MAX_OFFSET_RESYNCS: u32 = 3;

impl SyncClient {
    pub(crate) async fn upload_attachments(&self, ep: &Endpoint, report: &mut SyncReport, progress: &mut impl FnMut(&Progress)) {
        let list = match self.local_attachments() {
            Ok(l) => l,
            Err(e) => {
                report.attachments_pending.push(PendingAttachment { id: "*".into(), reason: e.to_string() });
                return;
            }
        };
        for (id, path) in list {
            if self.confirmed.lock().unwrap_or_else(std::sync::PoisonError::into_inner).contains(&id) {
                continue;
            }
            // A record that came from the office may name an attachment whose bytes were never
            // on this laptop: it is not this laptop's to upload.
            if !path.exists() {
                continue;
            }
            match self.upload_one(ep, &id, report, progress).await {
                Ok(sent) => {
                    if sent {
                        report.attachments_uploaded += 1;
                    }
                    self.confirmed.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(id);
                }
                Err(e) => report.attachments_pending.push(PendingAttachment { id, reason: e.to_string() }),
            }
        }
    }

    /// Uploads what the server lacks of one attachment. Returns whether any bytes were sent.
    async fn upload_one(&self, ep: &Endpoint, id: &str, report: &mut SyncReport, progress: &mut impl FnMut(&Progress)) -> Result<bool> {
        // The file on disk is sealed (core `at_rest::sealed`): the content is unsealed, and
        // checked against its id, in memory (attachments are at most 256 MiB).
        let content = self.with_store(|s| s.attachment_bytes(id))?;
        let size = content.len() as u64;
        let mut offset = self.http.upload_offset(ep, id).await?;
        let mut sent = false;
        let mut resyncs = 0;
        while offset < size {
            let start = offset.min(size) as usize;
            let chunk = content[start..(start + self.options.chunk_size).min(content.len())].to_vec();
            match self.http.upload_chunk(ep, id, offset, size, chunk).await {
                Ok((next, t)) => {
                    report.bytes_up += t.up;
                    report.bytes_down += t.down;
                    sent = true;
                    progress(&report.progress());
                    if next <= offset {
                        return Err(SyncError::Protocol { url: ep.base.clone(), what: "an attachment upload", detail: format!("its offset did not move past {offset}") });
                    }
                    offset = next;
                }
                // The server holds a different offset than we thought (an earlier chunk did
                // arrive although its answer was lost): ask again and continue from there.
                Err(SyncError::Refused { status: 409, .. }) if resyncs < MAX_OFFSET_RESYNCS => {
                    resyncs += 1;
                    offset = self.http.upload_offset(ep, id).await?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(sent)
    }
}
