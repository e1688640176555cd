//! The server's configuration file (TOML, `docs/server-config.md`). Its keys are not a list of
//! their own: **every long option of `fieldbook-server` itself and of `serve` is a key of the
//! same name** (`listen`, `tls-cert`, `token-rotate-days`, …), read from the command's clap
//! definition. A new flag in [`crate::cli`] is a new key, with nothing to add here.
//!
//! Precedence: a flag on the command line, then its environment variable, then the file, then
//! the default. The file's values are handed to clap as `--key=value` for the options that were
//! not given otherwise, so they go through exactly the parsing and checks of the flag; the
//! file's TOML type must match the flag's (a whole number, `true`/`false`, or a string).
//!
//! The file is `--config PATH` (or `FIELDBOOK_SERVER_CONFIG`), else
//! [`DEFAULT_PATH`] when it exists: the Debian package installs it, and the administrator's
//! `fieldbook-server user add …` then uses the same database as the service. A bad file — a key
//! nobody knows, a wrong type, a value its flag refuses — stops the command with the file, the
//! line, the key and the fix; nothing starts half-configured.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::builder::ValueParser;
use clap::error::ContextKind;
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, CommandFactory, FromArgMatches};
use toml::Spanned;

use crate::cli::Cli;

/// Read when present and no other file is named.
pub const DEFAULT_PATH: &str = "/etc/fieldbook-server/config.toml";

/// Names the configuration file, as `--config` does.
pub const ENV: &str = "FIELDBOOK_SERVER_CONFIG";

/// Options that are not configuration: where the configuration is, and clap's own.
const NOT_KEYS: &[&str] = &["config", "help", "version"];

/// Why the command line and configuration file could not be read.
#[derive(Debug)]
pub enum ConfigError {
    /// The command line itself (or `--help`/`--version`): clap prints it and exits.
    CommandLine(clap::Error),
    /// The configuration file: the message names the file, the line, the key and the fix.
    File(String),
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::CommandLine(e) => write!(f, "{e}"),
            ConfigError::File(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ConfigError {}

/// The command line with the configuration file's values filled in.
#[derive(Debug)]
pub struct Loaded {
    pub cli: Cli,
    /// The file read, if any.
    pub file: Option<PathBuf>,
    /// The keys whose value came from the file, with their line.
    pub from_file: Vec<(String, usize)>,
}

/// Parses `args` (the program name first) and fills in what the configuration file sets.
pub fn load<I, T>(args: I) -> Result<Loaded, ConfigError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    load_with_default(args, Path::new(DEFAULT_PATH))
}

/// [`load`] with another default path (tests).
pub fn load_with_default<I, T>(args: I, default_path: &Path) -> Result<Loaded, ConfigError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let cmd = Cli::command();
    let matches = cmd.clone().try_get_matches_from(&args).map_err(ConfigError::CommandLine)?;
    let named = active(&matches).get_one::<PathBuf>("config").cloned();
    let path = match named {
        Some(p) => Some(p),
        None if default_path.exists() => Some(default_path.to_path_buf()),
        None => None,
    };
    let Some(path) = path else {
        let cli = Cli::from_arg_matches(&matches).map_err(ConfigError::CommandLine)?;
        return Ok(Loaded { cli, file: None, from_file: Vec::new() });
    };
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|e| {
        let fix = if e.kind() == std::io::ErrorKind::PermissionDenied {
            format!("run the command as the server's user (e.g. `sudo -u fieldbook fieldbook-server …`), or name another file with --config or {ENV}")
        } else {
            format!("check the path given with --config or {ENV}")
        };
        ConfigError::File(format!("cannot read the configuration file {shown}: {e}; {fix}"))
    })?;
    let table: BTreeMap<Spanned<String>, Spanned<toml::Value>> =
        toml::from_str(&text).map_err(|e| ConfigError::File(format!("configuration file {shown}: {}", e.to_string().trim_end())))?;

    let keys = known_keys(&cmd);
    let running = matches.subcommand_name();
    let mut extra: Vec<OsString> = Vec::new();
    let mut from_file = Vec::new();
    for (key, value) in &table {
        let line = line_of(&text, key.span().start);
        let at = |what: String| ConfigError::File(format!("configuration file {shown}, line {line}: {what} (see docs/server-config.md)"));
        let Some(arg) = keys.iter().find(|a| a.get_long() == Some(key.get_ref().as_str())) else {
            let names: Vec<&str> = keys.iter().filter_map(|a| a.get_long()).collect();
            return Err(at(format!("unknown key `{}`; the keys are: {}", key.get_ref(), names.join(", "))));
        };
        let name = key.get_ref().as_str();
        // Options of `serve` apply when serving; the global ones (the database, logs) to every command.
        let applies = arg.is_global_set() || matches!(running, None | Some("serve"));
        if !applies {
            continue;
        }
        let m = active(&matches);
        let given = m.try_get_raw(arg.get_id().as_str()).is_ok()
            && matches!(m.value_source(arg.get_id().as_str()), Some(ValueSource::CommandLine | ValueSource::EnvVariable));
        let flag = as_flag(arg, name, value.get_ref()).map_err(at)?;
        if given {
            continue;
        }
        if let Some(flag) = flag {
            extra.push(flag.into());
            from_file.push((name.to_owned(), line));
        }
    }
    if extra.is_empty() {
        let cli = Cli::from_arg_matches(&matches).map_err(ConfigError::CommandLine)?;
        return Ok(Loaded { cli, file: Some(path), from_file });
    }
    // Before a `--` (everything after it is positional), else at the end: globals are accepted
    // after a subcommand, and `serve`'s options after `serve`.
    let mut full = args.clone();
    let at = full.iter().position(|a| a == "--").unwrap_or(full.len());
    full.splice(at..at, extra);
    let matches = cmd.try_get_matches_from(&full).map_err(|e| file_error(&e, &shown, &from_file))?;
    let cli = Cli::from_arg_matches(&matches).map_err(|e| file_error(&e, &shown, &from_file))?;
    Ok(Loaded { cli, file: Some(path), from_file })
}

/// The matches of the subcommand that runs (where global options are found too).
fn active(m: &ArgMatches) -> &ArgMatches {
    m.subcommand().map_or(m, |(_, sub)| sub)
}

/// The options a configuration file may set: the command's own long options (the global ones
/// and `serve`'s, flattened into it).
pub fn known_keys(cmd: &clap::Command) -> Vec<Arg> {
    cmd.get_arguments().filter(|a| a.get_long().is_some() && !NOT_KEYS.contains(&a.get_id().as_str())).cloned().collect()
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].bytes().filter(|&b| b == b'\n').count() + 1
}

fn is_whole_number(arg: &Arg) -> bool {
    let id = arg.get_value_parser().type_id();
    [
        ValueParser::from(clap::value_parser!(u16)).type_id(),
        ValueParser::from(clap::value_parser!(u32)).type_id(),
        ValueParser::from(clap::value_parser!(u64)).type_id(),
        ValueParser::from(clap::value_parser!(i64)).type_id(),
        ValueParser::from(clap::value_parser!(usize)).type_id(),
    ]
    .contains(&id)
}

/// The `--key=value` a file's value stands for (none for a switch set to `false`), or why the
/// value's type is wrong.
fn as_flag(arg: &Arg, name: &str, value: &toml::Value) -> Result<Option<String>, String> {
    let switch = matches!(arg.get_action(), ArgAction::SetTrue);
    let wanted = if switch {
        "true or false"
    } else if is_whole_number(arg) {
        "a whole number"
    } else {
        "a string in quotes"
    };
    let wrong = || format!("`{name}` must be {wanted}, not {} (e.g. {})", describe(value), example(name, wanted));
    match value {
        toml::Value::Boolean(b) if switch => Ok(b.then(|| format!("--{name}"))),
        toml::Value::Integer(i) if !switch && is_whole_number(arg) => Ok(Some(format!("--{name}={i}"))),
        toml::Value::String(s) if !switch && !is_whole_number(arg) => Ok(Some(format!("--{name}={s}"))),
        _ => Err(wrong()),
    }
}

fn describe(value: &toml::Value) -> &'static str {
    match value {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) => "a number",
        toml::Value::Float(_) => "a decimal number",
        toml::Value::Boolean(_) => "true/false",
        toml::Value::Datetime(_) => "a date",
        toml::Value::Array(_) => "a list",
        toml::Value::Table(_) => "a table",
    }
}

fn example(name: &str, wanted: &str) -> String {
    match wanted {
        "true or false" => format!("{name} = true"),
        "a whole number" => format!("{name} = 7"),
        _ => format!("{name} = \"…\""),
    }
}

/// A value from the file that its flag refused: the file, the key's line, clap's reason.
fn file_error(e: &clap::Error, shown: &str, from_file: &[(String, usize)]) -> ConfigError {
    let reason = e.to_string();
    let reason = reason.lines().next().unwrap_or_default().trim_start_matches("error: ").to_owned();
    let culprit = e.get(ContextKind::InvalidArg).map(|v| v.to_string()).and_then(|flag| {
        let long = flag.trim_start_matches("--").split([' ', '=']).next().unwrap_or_default().to_owned();
        from_file.iter().find(|(k, _)| *k == long).cloned()
    });
    match culprit {
        Some((key, line)) => ConfigError::File(format!(
            "configuration file {shown}, line {line}: `{key}`: {reason}; correct the value or remove the key (see docs/server-config.md)"
        )),
        None => ConfigError::File(format!("configuration file {shown}: {reason} (see docs/server-config.md)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_file(text: &str, args: &[&str]) -> Result<Loaded, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        let mut argv = vec!["fieldbook-server".to_owned(), "--config".to_owned(), path.display().to_string()];
        argv.extend(args.iter().map(|s| s.to_string()));
        load_with_default(argv, Path::new("/nonexistent/config.toml"))
    }

    fn err(r: Result<Loaded, ConfigError>) -> String {
        match r {
            Err(ConfigError::File(m)) => m,
            other => panic!("expected a file error, got {other:?}"),
        }
    }

    #[test]
    fn every_serve_option_and_the_database_is_a_key() {
        let keys: Vec<String> = known_keys(&Cli::command()).iter().filter_map(|a| a.get_long().map(str::to_owned)).collect();
        for k in ["database", "listen", "tls-cert", "tls-key", "public-url", "token-rotate-days", "token-life-days", "log-format", "metrics-token"] {
            assert!(keys.iter().any(|x| x == k), "{k} is not a key: {keys:?}");
        }
        assert!(!keys.iter().any(|x| x == "config" || x == "help"), "{keys:?}");
    }

    #[test]
    fn the_file_fills_in_what_the_command_line_does_not_say() {
        let l = load_file("database = \"sqlite:/tmp/x.db\"\nlisten = \"0.0.0.0:9000\"\ntoken-life-days = 40\n", &["--listen", "127.0.0.1:1234"]).unwrap();
        assert_eq!(l.cli.database.as_deref(), Some("sqlite:/tmp/x.db"));
        assert_eq!(l.cli.serve.listen, Some("127.0.0.1:1234".parse().unwrap()), "the flag wins over the file");
        assert_eq!(l.cli.serve.token_life_days, Some(40));
        assert_eq!(l.from_file, vec![("database".to_owned(), 1), ("token-life-days".to_owned(), 3)]);
        // Under `serve`, the serve options go to the subcommand.
        let l = load_file("listen = \"0.0.0.0:9000\"\n", &["serve"]).unwrap();
        match l.cli.command {
            Some(crate::cli::Command::Serve(a)) => assert_eq!(a.listen, Some("0.0.0.0:9000".parse().unwrap())),
            other => panic!("{other:?}"),
        }
        // Other commands take the database from the file, and ignore the serve options.
        let l = load_file("database = \"sqlite:/tmp/y.db\"\nlisten = \"0.0.0.0:9000\"\n", &["device", "list"]).unwrap();
        assert_eq!(l.cli.database.as_deref(), Some("sqlite:/tmp/y.db"));
        assert_eq!(l.cli.serve.listen, None);
    }

    #[test]
    fn bad_files_are_refused_with_the_line_key_and_fix() {
        let m = err(load_file("listen = \"127.0.0.1:1\"\nlissten = \"0.0.0.0:80\"\n", &[]));
        assert!(m.contains("line 2") && m.contains("unknown key `lissten`") && m.contains("listen, "), "{m}");
        let m = err(load_file("token-rotate-days = \"7\"\n", &[]));
        assert!(m.contains("line 1") && m.contains("`token-rotate-days` must be a whole number, not a string"), "{m}");
        let m = err(load_file("\n\nlisten = \"everywhere\"\n", &[]));
        assert!(m.contains("line 3") && m.contains("`listen`") && m.contains("everywhere") && m.contains("correct the value"), "{m}");
        let m = err(load_file("listen = [\"a\"]\n", &[]));
        assert!(m.contains("must be a string in quotes, not a list"), "{m}");
        let m = err(load_file("log-format = \"xml\"\n", &[]));
        assert!(m.contains("`log-format`") && m.contains("xml"), "{m}");
        let m = err(load_file("listen = \"127.0.0.1:1\n", &[]));
        assert!(m.contains("config.toml") && m.contains("line 1"), "a TOML syntax error names its line: {m}");
        let m = err(load_with_default(["fieldbook-server", "--config", "/nonexistent/fb.toml"], Path::new("/nonexistent/x")));
        assert!(m.contains("cannot read the configuration file /nonexistent/fb.toml"), "{m}");
    }

    #[test]
    fn the_default_file_is_read_only_when_present() {
        let l = load_with_default(["fieldbook-server"], Path::new("/nonexistent/config.toml")).unwrap();
        assert!(l.file.is_none());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "token-rotate-days = 3\n").unwrap();
        let l = load_with_default(["fieldbook-server"], &path).unwrap();
        assert_eq!((l.file.as_deref(), l.cli.serve.token_rotate_days), (Some(path.as_path()), Some(3)));
    }

    #[test]
    fn the_example_file_and_the_docs_name_every_key_and_the_example_loads() {
        let example = include_str!("../../../packaging/server/config.toml");
        let docs = include_str!("../../../docs/server-config.md");
        for arg in known_keys(&Cli::command()) {
            let k = arg.get_long().unwrap();
            assert!(example.contains(&format!("\n# {k} = ")) || example.contains(&format!("\n{k} = ")), "packaging/server/config.toml does not explain `{k}`");
            assert!(docs.contains(&format!("| `{k}` |")), "docs/server-config.md has no row for `{k}`");
        }
        // Every commented-out example value is valid.
        let all: String = example.lines().map(|l| l.strip_prefix("# ").filter(|r| r.split_once(" = ").is_some_and(|(k, _)| !k.contains(' '))).unwrap_or(l)).collect::<Vec<_>>().join("\n");
        let l = load_file(&all, &[]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(l.from_file.len(), known_keys(&Cli::command()).len(), "{:?}", l.from_file);
    }
}
