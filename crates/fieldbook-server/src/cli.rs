//! The `fieldbook-server` command: `serve` (the default), `user add`, `enroll`, `import`, `demo`,
//! `device list`, `device revoke`, `attachment-quota`, `offline-lock`, `backup`, `restore`, `epoch` and `release add|list|remove`. Every command takes `--database` (default: an SQLite file
//! in the user's data directory; `postgres://…` for PostgreSQL).

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use fieldbook_core::import::ImportDocument;

use crate::db::{Db, Mode};
use crate::error::{Error, Result};
use crate::devices::TokenPolicy;
use crate::security::{Options, PublicUrl};
use crate::tls::TlsFiles;
use crate::users::{self, Role};
use crate::{attachments, demo, devices, enrolment, import, lineage, offline_lock, releases, server};

#[derive(Debug, Parser)]
#[command(name = "fieldbook-server", version, about = "Fieldbook's central server: technicians' laptops sync with it")]
pub struct Cli {
    /// The database: `postgres://USER:PASSWORD@HOST/DB`, `sqlite:PATH`, or a path to an SQLite
    /// file [default: $XDG_DATA_HOME/fieldbook-server/fieldbook-server.db]
    #[arg(long, global = true, env = "FIELDBOOK_SERVER_DATABASE", value_name = "URL")]
    pub database: Option<String>,

    /// The configuration file (TOML, docs/server-config.md): every option here and of `serve`
    /// is a key of the same name [default: /etc/fieldbook-server/config.toml when it exists]
    #[arg(long, global = true, env = "FIELDBOOK_SERVER_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Log lines for people (`text`) or one JSON object per line (`json`) [default: text]
    #[arg(long, global = true, env = "FIELDBOOK_SERVER_LOG_FORMAT", value_enum, value_name = "FORMAT")]
    pub log_format: Option<crate::logs::LogFormat>,

    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the sync API (the default command).
    Serve(ServeArgs),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Print a one-time code a technician types into a new laptop to enrol it.
    Enroll {
        /// The technician's login, e.g. li.wei.
        technician: String,
        /// How long the code stays valid.
        #[arg(long, default_value_t = 72)]
        valid_hours: u32,
    },
    /// Import customers, sites, assets, contracts, parts, checklists and work orders
    /// (a fieldbook-import/1 JSON file). All or nothing.
    Import {
        file: PathBuf,
        /// Shift the file's dates so that its `as_of` day becomes today, and its times so that its
        /// `as_of_time` becomes now.
        #[arg(long)]
        rebase_dates: bool,
    },
    /// Set up a demo: users, the fire-protection demo company, an enrolment code for li.wei.
    Demo,
    /// Manage enrolled laptops.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Show or set how many bytes of photos and files each laptop may store on the server
    /// (default 2 GiB).
    AttachmentQuota {
        /// The new limit per laptop: bytes, or with a unit (500MiB, 4GiB).
        #[arg(long, value_name = "SIZE", conflicts_with = "default")]
        set: Option<String>,
        /// Back to the default (2 GiB).
        #[arg(long)]
        default: bool,
    },
    /// Show or set the offline lock: after how many days without reaching the server a laptop
    /// hides its records until it syncs again (its data and unsynced work are kept). Off unless
    /// set. Laptops learn it at their next sync.
    OfflineLock {
        /// The limit in days (1 to 3650).
        #[arg(long, value_name = "N", conflicts_with = "off")]
        days: Option<u32>,
        /// Turn the lock off.
        #[arg(long)]
        off: bool,
    },
    /// Copy the SQLite database to PATH while the server runs (a consistent snapshot; PATH
    /// appears only once complete). For PostgreSQL, use pg_dump (the error says how).
    Backup {
        path: PathBuf,
    },
    /// Put an SQLite backup in place of the --database file (stop the server first; the file
    /// it replaces is kept beside it) and start a new epoch, so that laptops re-send what the
    /// backup lacks.
    Restore {
        backup: PathBuf,
    },
    /// The database's epoch: `show`, or `new` after restoring it by other means (pg_restore).
    #[command(subcommand)]
    Epoch(EpochCommand),
    /// Publish, list and withdraw desktop releases that laptops update themselves from
    /// (docs/updates.md).
    #[command(subcommand)]
    Release(ReleaseCommand),
}

#[derive(Debug, Subcommand)]
pub enum EpochCommand {
    /// Print the current epoch.
    Show,
    /// Start a new epoch: say so after restoring the database from a backup with anything but
    /// `fieldbook-server restore` (pg_restore, a file copied back); laptops then re-send what
    /// they wrote that the backup lacks.
    New {
        /// Why, kept with the epoch.
        #[arg(long, default_value = "restored from a backup")]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReleaseCommand {
    /// Publish a signed build: laptops on an older version are offered it after their next sync.
    Add {
        /// The build's version (semver, e.g. 1.4.0); it must be the version the app was built as.
        #[arg(long)]
        version: String,
        /// The artifact laptops install: the AppImage for linux-x86_64.
        #[arg(long, value_name = "ARTIFACT")]
        file: PathBuf,
        /// Its signature, as `tauri signer sign` wrote it (ARTIFACT.sig).
        #[arg(long, value_name = "ARTIFACT.sig")]
        signature: PathBuf,
        /// What changed, in English.
        #[arg(long, value_name = "TEXT")]
        notes_en: Option<String>,
        /// What changed, in Chinese.
        #[arg(long, value_name = "TEXT")]
        notes_zh: Option<String>,
        /// The platform it is for, as the updater names it.
        #[arg(long, default_value = "linux-x86_64")]
        target: String,
        /// The updater public key the app was packaged with (the .key.pub content): the
        /// signature is checked against it and a release that does not verify is refused.
        #[arg(long, env = "FIELDBOOK_UPDATER_PUBKEY", value_name = "KEY", hide_env_values = true)]
        pubkey: Option<String>,
    },
    /// List releases, newest first per platform.
    List,
    /// Withdraw a release: no laptop is offered it any more and its bytes are deleted. Its version
    /// is never reused.
    #[command(alias = "withdraw")]
    Remove {
        #[arg(long)]
        version: String,
        #[arg(long, default_value = "linux-x86_64")]
        target: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8780].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Serve HTTPS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "PEM")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, value_name = "PEM")]
    pub tls_key: Option<PathBuf>,
    /// The address people and laptops use when a reverse proxy in front of the server changes
    /// it, e.g. https://fieldbook.example.com for a proxy that terminates TLS. With https://, the
    /// console's cookie is `Secure` and HSTS is sent, as when serving TLS here.
    #[arg(long, env = "FIELDBOOK_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// A laptop syncing with a device token older than this many days is handed a fresh one;
    /// the old one stops working once the laptop used the new one [default: 7].
    #[arg(long, value_name = "DAYS")]
    pub token_rotate_days: Option<u32>,
    /// A device token older than this many days is refused (`token_expired`); the laptop renews
    /// it with its device key [default: 30].
    #[arg(long, value_name = "DAYS")]
    pub token_life_days: Option<u32>,
    /// Lets whoever sends `Authorization: Bearer TOKEN` read /metrics, from anywhere (at least
    /// 16 characters; prefer the configuration file to this flag) [default: none: only this
    /// machine may read /metrics]
    #[arg(long, env = "FIELDBOOK_SERVER_METRICS_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub metrics_token: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user.
    Add {
        login: String,
        #[arg(long, value_enum)]
        role: Role,
        /// The name shown to people (default: the login).
        #[arg(long)]
        name: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long, conflicts_with = "password")]
        password_stdin: bool,
        /// The password (visible in the process list and shell history: prefer --password-stdin).
        #[arg(long)]
        password: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// List enrolled laptops.
    List,
    /// Revoke a laptop: it can no longer sync; with --wipe it deletes its data.
    Revoke {
        device_id: String,
        #[arg(long)]
        reason: String,
        /// Order the laptop to wipe its local data at once, even unsynced work.
        #[arg(long)]
        wipe: bool,
    },
}

/// Where the server listens when `--listen` is not given.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8780";

impl ServeArgs {
    fn given(&self) -> bool {
        self.listen.is_some() || self.tls_cert.is_some() || self.tls_key.is_some() || self.token_rotate_days.is_some() || self.token_life_days.is_some()
    }

    fn token_policy(&self) -> Result<TokenPolicy> {
        let default = TokenPolicy::default();
        TokenPolicy::from_days(
            self.token_rotate_days.unwrap_or(default.rotate_after.num_days() as u32),
            self.token_life_days.unwrap_or(default.life.num_days() as u32),
        )
    }
}

/// The warning printed when the server speaks plain HTTP on an address other machines reach:
/// passwords, device tokens and every record cross the network readable.
pub fn plain_http_warning(listen: SocketAddr, tls: bool, public_url: Option<&PublicUrl>) -> Option<String> {
    if tls || listen.ip().is_loopback() {
        return None;
    }
    let proxy = match public_url {
        Some(u) if u.is_https() => format!(
            " People reach it as {u}: make sure the proxy in front is the only thing that can reach {listen} (same machine or a private link), \
             or listen on 127.0.0.1."
        ),
        _ => " Serve TLS here (--tls-cert and --tls-key), or put a TLS-terminating proxy in front and give --public-url https://….".to_owned(),
    };
    Some(format!(
        "warning: serving plain HTTP on {listen}, which other machines can reach: logins, device tokens and every record cross the network unencrypted.{proxy}"
    ))
}

impl ServeArgs {
    fn public_url(&self) -> Result<Option<PublicUrl>> {
        self.public_url.as_deref().filter(|u| !u.trim().is_empty()).map(PublicUrl::parse).transpose()
    }
}

/// Where the database is when `--database` is not given.
pub fn default_database() -> String {
    let dir = dirs::data_dir().unwrap_or_else(|| PathBuf::from("."));
    format!("sqlite:{}", dir.join("fieldbook-server").join("fieldbook-server.db").display())
}

fn open(database: &Option<String>) -> Result<Db> {
    let url = database.clone().unwrap_or_else(default_database);
    Db::open(&url)
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let out = &mut std::io::stdout();
    if cli.command.as_ref().is_some_and(|c| !matches!(c, Command::Serve(_))) && cli.serve.given() {
        return Err(Error::Invalid("--listen, --tls-cert, --tls-key, --token-rotate-days and --token-life-days belong to `serve`".into()));
    }
    match cli.command {
        None => serve(&cli.database, &cli.serve),
        Some(Command::Serve(args)) => serve(&cli.database, &args),
        Some(Command::User(UserCommand::Add { login, role, name, password_stdin, password })) => {
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line).map_err(|e| Error::io("standard input", e))?;
                Some(line.trim_end_matches(['\r', '\n']).to_owned())
            } else {
                password
            };
            if password.is_none() && role != Role::Technician {
                return Err(Error::Invalid(format!("a {} logs in with a password: give --password-stdin (or --password)", role.as_str())));
            }
            users::check_login(&login)?;
            let hash = password.as_deref().map(users::hash_password).transpose()?;
            let db = open(&cli.database)?;
            let display = name.unwrap_or_else(|| login.clone());
            db.transaction(Mode::Write, |tx| users::add(tx, &login, role, &display, hash.as_deref()))?;
            say(out, format!("added {} {login} ({display})", role.as_str()))
        }
        Some(Command::Enroll { technician, valid_hours }) => {
            let db = open(&cli.database)?;
            let code = db.transaction(Mode::Write, |tx| enrolment::issue_code(tx, &technician, valid_hours))?;
            say(out, format!("Enrolment code for {technician} (one use, valid {valid_hours} h):\n\n    {code}\n\nType it into Fieldbook on the new laptop."))
        }
        Some(Command::Import { file, rebase_dates }) => {
            let text = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
            let name = file.display().to_string();
            let mut doc = ImportDocument::from_json(&text, &name)?;
            if rebase_dates {
                doc.rebase_to_now(&chrono::Local::now());
            }
            let db = open(&cli.database)?;
            let r = db.transaction(Mode::Feed, |tx| import::import(tx, &doc, &name))?;
            let s = &r.summary;
            say(
                out,
                format!(
                    "imported {name}: {} customers, {} sites, {} assets, {} contracts, {} parts, {} checklist templates, {} work orders ({} records changed)",
                    s.customers, s.sites, s.assets, s.contracts, s.parts, s.checklist_templates, s.work_orders, r.records_changed
                ),
            )
        }
        Some(Command::Demo) => {
            let db = open(&cli.database)?;
            let d = demo::setup(&db)?;
            let mut text = String::from("Demo users:\n");
            for (login, role, password) in &d.users {
                match password {
                    Some(p) => text.push_str(&format!("  {login:<10} {:<10} password: {p}\n", role.as_str())),
                    None => text.push_str(&format!("  {login:<10} {:<10} (already existed; password unchanged)\n", role.as_str())),
                }
            }
            let s = &d.import.summary;
            text.push_str(&format!(
                "Imported the fire-protection demo company (dates moved to today): {} customers, {} sites, {} assets, {} work orders.\n",
                s.customers, s.sites, s.assets, s.work_orders
            ));
            text.push_str(&format!("Enrolment code for li.wei's laptop (72 h): {}\n", d.enrolment_code));
            text.push_str(&format!("Start the server with: fieldbook-server serve --database '{}'", db.location().describe().split_once(' ').map_or("", |x| x.1)));
            say(out, text)
        }
        Some(Command::Device(DeviceCommand::List)) => {
            let db = open(&cli.database)?;
            let list = db.transaction(Mode::Read, devices::list)?;
            if list.is_empty() {
                return say(out, "no laptops enrolled yet; `fieldbook-server enroll LOGIN` prints a code".into());
            }
            // "store (reported)": the laptop's own word on its store's encryption; it cannot be
            // checked from here, and a hostile laptop can claim anything.
            let mut text = format!(
                "{:<38} {:<12} {:<20} {:<24} {:>8}  {:<24} {:<20}  status\n",
                "device", "technician", "name", "last seen", "acked", "token rotated", "store (reported)"
            );
            for d in list {
                let status = match (&d.revoked_at, d.wipe_ordered) {
                    (None, _) => "active".to_owned(),
                    (Some(_), wipe) => format!("revoked: {}{}", d.revoke_reason.unwrap_or_default(), if wipe { " (wipe ordered)" } else { "" }),
                };
                text.push_str(&format!(
                    "{:<38} {:<12} {:<20} {:<24} {:>8}  {:<24} {:<20}  {status}\n",
                    d.id,
                    d.technician,
                    d.name.unwrap_or_default(),
                    d.last_seen_at.unwrap_or_default(),
                    d.acked_seq,
                    d.token_rotated_at.unwrap_or_else(|| "never".into()),
                    d.store_protection.unwrap_or_else(|| "not reported".into()),
                ));
            }
            say(out, text.trim_end().to_owned())
        }
        Some(Command::Device(DeviceCommand::Revoke { device_id, reason, wipe })) => {
            let db = open(&cli.database)?;
            db.transaction(Mode::Write, |tx| devices::revoke(tx, &device_id, &reason, wipe))?;
            say(out, format!("revoked {device_id}{}", if wipe { "; it will wipe its data at its next sync" } else { "" }))
        }
        Some(Command::AttachmentQuota { set, default }) => {
            let db = open(&cli.database)?;
            let limit = set.as_deref().map(attachments::parse_size).transpose()?;
            let now = db.transaction(Mode::Write, |tx| {
                if limit.is_some() || default {
                    attachments::set_quota(tx, limit)?;
                }
                attachments::quota(tx)
            })?;
            say(out, format!("each laptop may store {} of photos and files on the server ({now} bytes)", attachments::describe_bytes(now)))
        }
        Some(Command::OfflineLock { days, off }) => {
            let db = open(&cli.database)?;
            let now = db.transaction(Mode::Write, |tx| {
                if days.is_some() || off {
                    offline_lock::set_days(tx, days)?;
                }
                offline_lock::days(tx)
            })?;
            say(out, offline_lock::describe(now))
        }
        Some(Command::Backup { path }) => {
            let database = crate::db::Location::parse(&cli.database.clone().unwrap_or_else(default_database));
            let size = lineage::backup(&lineage::sqlite_path(&database, "backup")?, &path)?;
            say(out, format!("backed up {} to {} ({})", database.describe(), path.display(), attachments::describe_bytes(size as i64)))
        }
        Some(Command::Restore { backup }) => {
            let database = crate::db::Location::parse(&cli.database.clone().unwrap_or_else(default_database));
            let path = lineage::sqlite_path(&database, "restore")?;
            let r = lineage::restore(&backup, &path)?;
            let mut text = format!("restored {} from {}", path.display(), backup.display());
            if let Some(kept) = &r.replaced_kept_as {
                text.push_str(&format!("; the database it replaced is kept as {}", kept.display()));
            }
            text.push_str(&match &r.epoch {
                Some(e) => format!("\nnew epoch {e}: laptops re-send what they wrote since the backup at their next sync"),
                None => "\nthe backup predates epochs: the server gives it a new one when it starts".to_owned(),
            });
            say(out, text)
        }
        Some(Command::Epoch(EpochCommand::Show)) => {
            let db = open(&cli.database)?;
            let e = db.transaction(Mode::Read, lineage::current)?;
            say(out, format!("epoch {} (number {}, since {}, {}; feed from {})", e.epoch, e.number, e.began_at, e.reason, e.feed_start))
        }
        Some(Command::Epoch(EpochCommand::New { reason })) => {
            let db = open(&cli.database)?;
            let e = lineage::announce_restore(&db, &reason)?;
            say(out, format!("new epoch {} (number {}) on {}: laptops re-send what they wrote that this database lacks at their next sync", e.epoch, e.number, lineage::backend_name(db.backend())))
        }
        Some(Command::Release(command)) => release(&cli.database, command, out),
    }
}

fn release(database: &Option<String>, command: ReleaseCommand, out: &mut impl Write) -> Result<()> {
    match command {
        ReleaseCommand::Add { version, file, signature, notes_en, notes_zh, target, pubkey } => {
            let version = releases::parse_version(&version)?;
            let target = releases::parse_target(&target)?;
            let meta = std::fs::metadata(&file).map_err(|e| Error::io(&file, e))?;
            if !meta.is_file() || meta.len() == 0 || meta.len() > releases::MAX_ARTIFACT_BYTES {
                return Err(Error::Invalid(format!("{}: not a file of 1 byte to {} (an AppImage)", file.display(), attachments::describe_bytes(releases::MAX_ARTIFACT_BYTES as i64))));
            }
            let bytes = std::fs::read(&file).map_err(|e| Error::io(&file, e))?;
            let sig_text = std::fs::read_to_string(&signature).map_err(|e| Error::io(&signature, e))?;
            let sig = releases::normalize_signature(&sig_text).map_err(|e| Error::Invalid(format!("{}: {e}", signature.display())))?;
            releases::check_signed_version(&sig, &version).map_err(|e| Error::Invalid(format!("{}: {e}", signature.display())))?;
            let checked = match pubkey.as_deref().filter(|k| !k.trim().is_empty()) {
                Some(key) => {
                    let key = releases::decode_public_key(key)?;
                    releases::verify(&bytes, &sig, &key).map_err(|e| Error::Invalid(format!("{}: {e}", file.display())))?;
                    true
                }
                None => false,
            };
            let file_name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "artifact".into());
            let db = open(database)?;
            let new = releases::NewRelease {
                version: &version,
                target: &target,
                notes_en: notes_en.as_deref().filter(|n| !n.trim().is_empty()),
                notes_zh: notes_zh.as_deref().filter(|n| !n.trim().is_empty()),
                file_name: &file_name,
                bytes: &bytes,
                signature: &sig,
            };
            let r = db.transaction(Mode::Write, |tx| releases::add(tx, &new))?;
            let check = if checked {
                "signature verified with the updater public key"
            } else {
                "signature NOT checked here (no --pubkey / FIELDBOOK_UPDATER_PUBKEY); laptops check it and refuse it if it does not verify"
            };
            say(out, format!("published {} for {} ({}, {}, sha256 {}); {check}.\nLaptops on an older version are offered it after their next sync.", r.version, r.target, r.file_name, attachments::describe_bytes(r.byte_size), r.sha256))
        }
        ReleaseCommand::List => {
            let db = open(database)?;
            let list = db.transaction(Mode::Read, releases::list)?;
            if list.is_empty() {
                return say(out, "no releases published; `fieldbook-server release add` publishes one".into());
            }
            let mut text = format!("{:<14} {:<16} {:<26} {:>10}  {:<24}  status\n", "version", "platform", "published", "size", "file");
            for r in list {
                let status = r.withdrawn_at.as_deref().map_or("offered".to_owned(), |t| format!("withdrawn {t}"));
                text.push_str(&format!("{:<14} {:<16} {:<26} {:>10}  {:<24}  {status}\n", r.version, r.target, r.published_at, attachments::describe_bytes(r.byte_size), r.file_name));
            }
            say(out, text.trim_end().to_owned())
        }
        ReleaseCommand::Remove { version, target } => {
            let version = releases::parse_version(&version)?;
            let target = releases::parse_target(&target)?;
            let db = open(database)?;
            let r = db.transaction(Mode::Write, |tx| releases::withdraw(tx, &version, &target))?;
            say(out, format!("withdrew {} for {}: no laptop is offered it any more (laptops that installed it keep it)", r.version, r.target))
        }
    }
}

fn say(out: &mut impl Write, text: String) -> Result<()> {
    writeln!(out, "{text}").map_err(|e| Error::io("standard output", e))
}

fn serve(database: &Option<String>, args: &ServeArgs) -> Result<()> {
    let tls = TlsFiles::from_args(args.tls_cert.clone(), args.tls_key.clone())?;
    let tokens = args.token_policy()?;
    // Every setting checked before the database is opened (and migrated).
    let public_url = args.public_url()?;
    let metrics_access = crate::metrics::Access::new(args.metrics_token.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| Error::Internal(format!("starting the async runtime: {e}")))?;
    // Opening (and migrating) the database blocks: done before entering the runtime.
    let db = open(database)?;
    let described = db.location().describe();
    runtime.block_on(async move {
        let listen = args.listen.unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("a valid address"));
        if let Some(warning) = plain_http_warning(listen, tls.is_some(), public_url.as_ref()) {
            tracing::warn!("{warning}");
            eprintln!("{warning}");
        }
        let options = Options { public_url, tokens, metrics_access, ..Options::default() };
        let running = server::start_with(db, listen, tls.as_ref(), options).await?;
        tracing::info!(url = %running.url(), database = %described, "fieldbook-server is listening");
        println!("fieldbook-server listening on {} ({described})", if running.tls { format!("https://{}", running.addr) } else { running.url() });
        running.run_until(shutdown_signal()).await
    })
}

/// Ctrl-C, or SIGTERM from a service manager.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_beyond_loopback_is_warned_about() {
        let public = PublicUrl::parse("https://fieldbook.example.com").unwrap();
        assert_eq!(plain_http_warning("127.0.0.1:8780".parse().unwrap(), false, None), None);
        assert_eq!(plain_http_warning("[::1]:8780".parse().unwrap(), false, None), None);
        assert_eq!(plain_http_warning("0.0.0.0:8443".parse().unwrap(), true, None), None);
        let w = plain_http_warning("0.0.0.0:8780".parse().unwrap(), false, None).unwrap();
        assert!(w.contains("plain HTTP on 0.0.0.0:8780") && w.contains("--tls-cert"), "{w}");
        let w = plain_http_warning("10.0.0.5:8780".parse().unwrap(), false, Some(&public)).unwrap();
        assert!(w.contains("https://fieldbook.example.com") && w.contains("127.0.0.1"), "{w}");
    }
}
