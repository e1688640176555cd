//! The desktop crate's one error type, as the UI receives it: `{ "kind", "message", "problems" }`.
//!
//! `problems` are the core's per-field problems (`{record, field, problem}`), so a form can show
//! each one next to its field; it is empty for errors that are not about a field.

use fieldbook_core::FieldProblem;
use serde::ser::SerializeStruct;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Core(#[from] fieldbook_core::Error),

    /// The store could not be opened at startup. Kept with the original kind and message so the
    /// window can still open and say why (e.g. a database written by a newer Fieldbook).
    #[error("{message}")]
    StoreUnavailable { kind: &'static str, message: String },

    /// Enrolment or sync: the sync client's messages are already worded for technicians.
    #[error(transparent)]
    Sync(#[from] fieldbook_sync::SyncError),

    /// Checking for or installing an update (`update_bad_signature`, `update_pending_changes`, …;
    /// see `updates.rs`), worded for the technician.
    #[error("{message}")]
    Update { kind: &'static str, message: String },
}

impl CommandError {
    /// A short stable name the UI can branch on; the core's kinds pass through unchanged.
    pub fn kind(&self) -> &'static str {
        match self {
            CommandError::Core(e) => e.kind(),
            CommandError::StoreUnavailable { kind, .. } => kind,
            CommandError::Sync(e) => e.kind(),
            CommandError::Update { kind, .. } => kind,
        }
    }

    /// The per-field problems, for showing next to the fields.
    pub fn problems(&self) -> &[FieldProblem] {
        match self {
            CommandError::Core(e) => e.problems(),
            CommandError::Sync(fieldbook_sync::SyncError::Store(e)) => e.problems(),
            CommandError::StoreUnavailable { .. }
            | CommandError::Sync(_)
            | CommandError::Update { .. } => &[],
        }
    }
}

impl serde::Serialize for CommandError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("CommandError", 3)?;
        s.serialize_field("kind", self.kind())?;
        s.serialize_field("message", &self.to_string())?;
        s.serialize_field("problems", self.problems())?;
        s.end()
    }
}
