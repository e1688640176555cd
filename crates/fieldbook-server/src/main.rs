//! `fieldbook-server`: see [`fieldbook_server::cli`]; the configuration file is read by
//! [`fieldbook_server::config`] before anything else, the log set up as it says.

use fieldbook_server::config::{self, ConfigError};

fn main() -> anyhow::Result<()> {
    let loaded = match config::load(std::env::args_os()) {
        Ok(l) => l,
        Err(ConfigError::CommandLine(e)) => e.exit(),
        Err(ConfigError::File(message)) => {
            eprintln!("error: {message}");
            std::process::exit(2);
        }
    };
    fieldbook_server::logs::init(loaded.cli.log_format.unwrap_or_default());
    if let Some(file) = &loaded.file {
        let keys: Vec<&str> = loaded.from_file.iter().map(|(k, _)| k.as_str()).collect();
        tracing::debug!(file = %file.display(), keys = ?keys, "read the configuration file");
    }
    let (file, set) = (loaded.file.clone(), loaded.from_file.iter().map(|(k, line)| format!("{k} at line {line}")).collect::<Vec<_>>().join(", "));
    fieldbook_server::cli::run(loaded.cli).map_err(|e| match file {
        // A value's own check (a URL, days that must agree) may concern a key of the file.
        Some(f) if matches!(e, fieldbook_server::Error::Invalid(_)) && !set.is_empty() => {
            anyhow::Error::new(e).context(format!("with the configuration file {}, which sets {set} (docs/server-config.md)", f.display()))
        }
        _ => anyhow::Error::new(e),
    })
}
