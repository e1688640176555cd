//! The server's log: human-readable lines (the default) or one JSON object per line
//! (`--log-format json`, key `log-format`) for a log collector. Either goes to standard error
//! (the journal, under systemd), filtered by `RUST_LOG`.
//!
//! What is logged never holds a secret: requests are logged by method and path (never headers,
//! where device tokens, console cookies and HTTP Basic passwords travel, nor bodies, where
//! enrolment codes and login passwords do); `tests/ops.rs` checks a log at `debug` after a real
//! sync for the token, the password and the enrolment code.

use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum LogFormat {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, `fields`, `span`.
    Json,
}

/// Installs the process's logger (once, at start).
pub fn init(format: LogFormat) {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "fieldbook_server=info,tower_http=info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).init(),
    }
}
