//! `fieldbook-server`: see [`fieldbook_server::cli`].

use clap::Parser;

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "fieldbook_server=info,tower_http=info".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = fieldbook_server::cli::Cli::parse();
    fieldbook_server::cli::run(cli).map_err(anyhow::Error::new)
}
