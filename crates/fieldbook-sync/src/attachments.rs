//! Resumable attachment upload (`HEAD` for the server's offset, then `PATCH` chunks from there).
//!
//! Runs after records are pushed and pulled, so a work order never waits for its photos; a
//! failure here is reported as pending, not as a failed sync.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

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
            match self.upload_one(ep, &id, &path, report, progress).await {
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
    async fn upload_one(&self, ep: &Endpoint, id: &str, path: &Path, report: &mut SyncReport, progress: &mut impl FnMut(&Progress)) -> Result<bool> {
        let size = std::fs::metadata(path).map_err(|source| SyncError::Io { path: path.to_owned(), source })?.len();
        let mut offset = self.http.upload_offset(ep, id).await?;
        let mut sent = false;
        let mut resyncs = 0;
        while offset < size {
            let chunk = read_chunk(path, offset, self.options.chunk_size)?;
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

fn read_chunk(path: &Path, offset: u64, max: usize) -> Result<Vec<u8>> {
    let io = |source| SyncError::Io { path: path.to_owned(), source };
    let mut f = std::fs::File::open(path).map_err(io)?;
    f.seek(SeekFrom::Start(offset)).map_err(io)?;
    let mut buf = Vec::with_capacity(max);
    f.take(max as u64).read_to_end(&mut buf).map_err(io)?;
    Ok(buf)
}
