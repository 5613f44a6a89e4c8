//! Configuration files under flags and environment variables.
//!
//! Every binary of the platform reads an optional TOML file (`--config FILE` or
//! `REGSTAT_CONFIG=FILE`). Precedence, highest first: **command-line flag, environment
//! variable, configuration file, built-in default**. The file is flat: one key per flag, named like the
//! flag without its leading dashes, with `_` or `-` (`listen`, `tls_cert`, `master_secret_file`,
//! `log_json`); lists for repeatable flags. Keys apply to the top-level command and to every
//! subcommand that has such a flag (a `serve` and a client subcommand can share `tls_ca`).
//!
//! A file's values become the flags' defaults (clap then still lets environment and flags
//! override them). Every value is checked with the flag's own parser before the command line is
//! parsed, so a bad value fails with one line naming the file and the key. Unknown keys are
//! errors, not silently ignored: a misspelt `lisen` would otherwise leave a default in place.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::{Arg, ArgMatches, Command, CommandFactory, FromArgMatches};

/// Environment variable naming the configuration file.
pub const CONFIG_ENV: &str = "REGSTAT_CONFIG";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config {path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("{0}")]
    Args(#[from] clap::Error),
}

impl ConfigError {
    /// Print the error the way the platform's binaries do and exit: clap's own rendering for
    /// command-line errors (and `--help` / `--version`, which exit 0), one line otherwise.
    pub fn exit(self) -> ! {
        match self {
            ConfigError::Args(e) => e.exit(),
            e @ ConfigError::File { .. } => {
                eprintln!("error: {e}");
                std::process::exit(2)
            }
        }
    }
}

/// The `--config` flag, for a binary's top-level `Cli` (`#[command(flatten)]`). It is read
/// before the rest of the command line; it is declared so that `--help` documents it.
#[derive(Debug, Clone, clap::Args)]
pub struct ConfigArgs {
    /// TOML file whose keys (flag names without dashes) set defaults under the environment
    /// and the flags, e.g. `listen = "0.0.0.0:50053"`. See deploy/config/.
    #[arg(long = "config", env = CONFIG_ENV, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Parse the process's command line with the configuration file layered under it; exits with
/// a clear message on any error.
pub fn parse<C: CommandFactory + FromArgMatches>() -> C {
    try_parse_from::<C>(std::env::args_os(), std::env::var_os(CONFIG_ENV)).unwrap_or_else(|e| e.exit())
}

/// [`parse`] over explicit arguments (the first is the program name) and an explicit value of
/// `REGSTAT_CONFIG` (tests pass `None`).
pub fn try_parse_from<C: CommandFactory + FromArgMatches>(
    args: impl IntoIterator<Item = impl Into<OsString>>,
    env_config: Option<OsString>,
) -> Result<C, ConfigError> {
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let mut cmd = C::command();
    if let Some(path) = config_path(&args).or(env_config.map(PathBuf::from)) {
        cmd = layer(cmd, &path)?;
    }
    let matches: ArgMatches = cmd.try_get_matches_from(args)?;
    Ok(C::from_arg_matches(&matches)?)
}

/// `--config FILE` / `--config=FILE` anywhere on the command line (before `--`).
fn config_path(args: &[OsString]) -> Option<PathBuf> {
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        let s = a.to_string_lossy();
        if s == "--" {
            break;
        }
        if s == "--config" {
            return it.next().map(PathBuf::from);
        }
        if let Some(v) = s.strip_prefix("--config=") {
            return Some(PathBuf::from(v));
        }
    }
    None
}

/// The command with the file's values as defaults.
pub fn layer(cmd: Command, path: &Path) -> Result<Command, ConfigError> {
    let fail = |message: String| ConfigError::File { path: path.to_path_buf(), message };
    let text = std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| fail(one_line(&e.to_string())))?;
    let mut cmd = cmd;
    for (key, value) in &table {
        let long = key.replace('_', "-");
        if long == "config" {
            return Err(fail("`config` cannot name another file".into()));
        }
        let values = values_of(value).ok_or_else(|| fail(format!("`{key}`: expected a string, number, boolean or a list of them (the file is flat, no sections)")))?;
        let (layered, found) = apply(cmd, &long, key, &values).map_err(fail)?;
        cmd = layered;
        if !found {
            let mut known: Vec<String> = known_keys(&cmd);
            known.sort();
            known.dedup();
            return Err(fail(format!("unknown key `{key}` (known: {})", known.join(", "))));
        }
    }
    Ok(cmd)
}

/// Give the flag `long` of `cmd` and of every subcommand that has it `values` as defaults;
/// whether any had it.
fn apply(mut cmd: Command, long: &str, key: &str, values: &[String]) -> Result<(Command, bool), String> {
    let mut found = false;
    if let Some(arg) = find(&cmd, long) {
        check(&arg, key, values)?;
        cmd = cmd.mut_arg(arg.get_id().clone(), |a| with_defaults(a, values));
        found = true;
    }
    let subs: Vec<Command> = cmd.get_subcommands().cloned().collect();
    for sub in subs {
        let name = sub.get_name().to_string();
        let (sub, has) = apply(sub, long, key, values)?;
        if has {
            cmd = cmd.mut_subcommand(name, |_| sub);
            found = true;
        }
    }
    Ok((cmd, found))
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn values_of(v: &toml::Value) -> Option<Vec<String>> {
    let scalar = |v: &toml::Value| match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    };
    match v {
        toml::Value::Array(items) => items.iter().map(scalar).collect(),
        other => scalar(other).map(|s| vec![s]),
    }
}

fn find(cmd: &Command, long: &str) -> Option<Arg> {
    cmd.get_arguments().find(|a| a.get_long() == Some(long)).cloned()
}

fn known_keys(cmd: &Command) -> Vec<String> {
    let own = cmd.get_arguments().filter_map(|a| a.get_long()).filter(|l| !matches!(*l, "help" | "version" | "config"));
    let mut keys: Vec<String> = own.map(|l| l.replace('-', "_")).collect();
    for s in cmd.get_subcommands() {
        keys.extend(known_keys(s));
    }
    keys
}

/// Run the flag's own value parser on each value (through a one-flag probe command), so that a
/// bad value names the file and key.
fn check(arg: &Arg, key: &str, values: &[String]) -> Result<(), String> {
    use clap::ArgAction;
    let action = arg.get_action();
    if values.len() > 1 && !matches!(action, ArgAction::Append) {
        return Err(format!("`{key}`: takes one value, not a list"));
    }
    if matches!(action, ArgAction::SetTrue | ArgAction::SetFalse) {
        return match values {
            [v] if v == "true" || v == "false" => Ok(()),
            _ => Err(format!("`{key}`: expected true or false")),
        };
    }
    let long = arg.get_long().unwrap_or_default();
    let probe_arg = arg.clone().required(false).env(None::<&str>).default_values(Vec::<&str>::new());
    for v in values {
        let probe = Command::new("config").no_binary_name(true).arg(probe_arg.clone());
        probe
            .try_get_matches_from([format!("--{long}={v}")])
            .map_err(|e| format!("`{key}` = {v:?}: {}", clap_message(&e)))?;
    }
    Ok(())
}

/// The reason of a clap value error, without its usage lines.
fn clap_message(e: &clap::Error) -> String {
    let rendered = e.to_string();
    let first = rendered.lines().next().unwrap_or_default().trim_start_matches("error: ");
    // "invalid value 'x' for '<LISTEN>': invalid socket address syntax" → the reason.
    first.rsplit_once("': ").map_or(first, |(_, reason)| reason).to_string()
}

fn with_defaults(arg: Arg, values: &[String]) -> Arg {
    // clap keeps defaults as `&'static str`; a configuration is read once per process.
    let leaked: Vec<&'static str> = values.iter().map(|v| &*Box::leak(v.clone().into_boxed_str())).collect();
    match leaked.as_slice() {
        [one] => arg.default_value(*one).required(false),
        many => arg.default_values(many.to_vec()).required(false),
    }
}

/// For `main`: print a start-up or run failure as one line prefixed by the program name, its
/// causes joined without repeating one the message already contains; returns exit code 1.
pub fn report(program: &str, e: &anyhow::Error) -> std::process::ExitCode {
    let mut line = e.to_string();
    for s in e.chain().skip(1) {
        let text = s.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
    }
    eprintln!("{program}: error: {}", one_line(&line));
    std::process::ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, clap::Parser)]
    #[command(name = "svc")]
    struct Cli {
        #[command(flatten)]
        config: ConfigArgs,
        #[command(subcommand)]
        cmd: Sub,
    }

    #[derive(Debug, clap::Subcommand)]
    enum Sub {
        Serve {
            #[arg(long, env = "SVC_TEST_LISTEN", default_value = "127.0.0.1:1")]
            listen: std::net::SocketAddr,
            #[arg(long)]
            store: PathBuf,
            #[arg(long = "statistic")]
            statistics: Vec<String>,
            #[arg(long, default_value_t = false)]
            log_json: bool,
        },
        Other {
            #[arg(long)]
            store: Option<PathBuf>,
        },
    }

    fn file(text: &str) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(f.path(), text).expect("write");
        f
    }

    fn serve(c: Cli) -> (std::net::SocketAddr, PathBuf, Vec<String>, bool) {
        match c.cmd {
            Sub::Serve { listen, store, statistics, log_json } => (listen, store, statistics, log_json),
            Sub::Other { .. } => panic!("expected serve"),
        }
    }

    #[test]
    fn the_file_sets_defaults_and_flags_override_it() {
        let f = file("listen = \"0.0.0.0:7\"\nstore = \"/srv/q\"\nstatistic = [\"a\", \"b\"]\nlog-json = true\n");
        let path = f.path().to_str().expect("utf-8 path");
        let c: Cli = try_parse_from(["svc", "serve", "--config", path], None).expect("parses");
        assert_eq!(serve(c), ("0.0.0.0:7".parse().expect("addr"), PathBuf::from("/srv/q"), vec!["a".into(), "b".into()], true));
        let c: Cli = try_parse_from(["svc", "serve", "--listen", "127.0.0.1:9"], Some(path.into())).expect("parses");
        let (listen, store, _, _) = serve(c);
        assert_eq!((listen.port(), store), (9, PathBuf::from("/srv/q")));
        // A key shared by two subcommands applies to both.
        let c: Cli = try_parse_from(["svc", "other", "--config", path], None).expect("parses");
        assert!(matches!(c.cmd, Sub::Other { store: Some(s) } if s == Path::new("/srv/q")));
    }

    #[test]
    fn misconfiguration_fails_with_one_line_naming_the_file_and_key() {
        let cases = [
            ("lisen = \"0.0.0.0:7\"\n", "unknown key `lisen`"),
            ("listen = \"here\"\n", "`listen` = \"here\": invalid socket address syntax"),
            ("[serve]\nlisten = \"0.0.0.0:7\"\n", "`serve`: expected a string"),
            ("listen = \n", "config "),
            ("listen = [\"0.0.0.0:1\", \"0.0.0.0:2\"]\n", "takes one value"),
        ];
        for (text, expected) in cases {
            let f = file(text);
            let e = try_parse_from::<Cli>(["svc", "serve", "--store", "x", "--config", f.path().to_str().expect("utf-8")], None)
                .expect_err(text);
            let line = e.to_string();
            assert!(line.contains(expected), "{text:?} gave {line:?}");
            assert!(line.starts_with("config ") && !line.contains('\n'), "{line:?}");
        }
        let e = try_parse_from::<Cli>(["svc", "serve", "--config", "/nonexistent/x.toml"], None).expect_err("missing file");
        assert!(e.to_string().starts_with("config /nonexistent/x.toml: cannot read"), "{e}");
    }
}
