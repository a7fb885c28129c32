//! `--config scim.toml`: settings from a file, weaker than environment variables and flags.
//!
//! The file holds one key per long flag, in TOML: `pool_size = 32` for `--pool-size 32`
//! (`pool-size` is accepted too). Its settings become flags parsed in front of the command
//! line, for every setting that neither the command line nor the environment gave, so the
//! command line parser checks and converts them exactly as it does flags.

use std::path::Path;

use clap::parser::ValueSource;

/// The flags the file at `path` contributes, given what `matches` already holds. An unknown
/// key is an error: a misspelt setting must not be silently ignored.
pub fn flags(
    path: &Path,
    command: &clap::Command,
    matches: &clap::ArgMatches,
) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e| format!("{}: not TOML: {e}", path.display()))?;
    let mut out = Vec::new();
    for (key, value) in &table {
        let id = key.replace('-', "_");
        let long = command
            .get_arguments()
            .filter(|a| a.get_id() == id.as_str() && id != "config")
            .find_map(clap::Arg::get_long)
            .ok_or_else(|| format!("{}: unknown setting '{key}'", path.display()))?;
        let given = matches!(
            matches.value_source(&id),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        );
        if given {
            continue;
        }
        let value = match value {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            _ => {
                return Err(format!(
                    "{}: '{key}' must be a string, number or boolean",
                    path.display()
                ));
            }
        };
        out.push(format!("--{long}={value}"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use clap::{Arg, Command};

    fn command() -> Command {
        Command::new("t")
            .arg(Arg::new("config").long("config"))
            .arg(
                Arg::new("pool_size")
                    .long("pool-size")
                    .env("T_CONFIG_FILE_POOL_SIZE")
                    .default_value("16"),
            )
            .arg(
                Arg::new("listen")
                    .long("listen")
                    .env("T_CONFIG_FILE_LISTEN"),
            )
            .arg(Arg::new("database_url").long("database-url"))
    }

    /// A settings file in the temporary directory, removed when dropped.
    struct File(std::path::PathBuf);

    impl std::ops::Deref for File {
        type Target = std::path::Path;
        fn deref(&self) -> &std::path::Path {
            &self.0
        }
    }

    impl Drop for File {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn file(text: &str) -> File {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("scim-config-{}-{n}.toml", std::process::id()));
        std::fs::write(&path, text).unwrap();
        File(path)
    }

    #[test]
    fn the_file_fills_what_flags_leave_to_defaults() {
        let path =
            file("pool_size = 32\nlisten = \"0.0.0.0:9\"\ndatabase-url = \"sqlite://a b.db\"\n");
        let matches = command()
            .try_get_matches_from(["t", "--listen", "127.0.0.1:1"])
            .unwrap();
        let mut flags = super::flags(&path, &command(), &matches).unwrap();
        flags.sort();
        assert_eq!(
            flags,
            ["--database-url=sqlite://a b.db", "--pool-size=32"],
            "the command line's --listen wins over the file"
        );
        let argv = ["t".to_owned()]
            .into_iter()
            .chain(flags)
            .chain(["--listen=x".to_owned()]);
        let m = command().try_get_matches_from(argv).unwrap();
        assert_eq!(m.get_one::<String>("pool_size").unwrap(), "32");
        assert_eq!(
            m.get_one::<String>("database_url").unwrap(),
            "sqlite://a b.db"
        );
    }

    #[test]
    fn unknown_keys_and_tables_are_refused() {
        let matches = command().try_get_matches_from(["t"]).unwrap();
        let e = super::flags(&file("pool_sise = 3\n"), &command(), &matches).unwrap_err();
        assert!(e.contains("unknown setting 'pool_sise'"), "{e}");
        let e = super::flags(&file("[listen]\na = 1\n"), &command(), &matches).unwrap_err();
        assert!(e.contains("must be a string"), "{e}");
        let e = super::flags(&file("config = \"x\"\n"), &command(), &matches).unwrap_err();
        assert!(e.contains("unknown setting 'config'"), "{e}");
        let e = super::flags(&file("listen = \n"), &command(), &matches).unwrap_err();
        assert!(e.contains("not TOML"), "{e}");
    }
}
