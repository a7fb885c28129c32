//! The `scim-server` command line: `serve` (the default), `migrate`, `tenant`, `token`,
//! `extension`, `import`, `export`.

use std::net::TcpListener;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use scim_core::clock::{Clock, SystemClock};
use scim_core::limits::Limits;
use scim_core::resource::TenantId;
use scim_core::store::{Store, Tenant};
use scim_server::config::{RateLimit, Tls};
use scim_server::{Config, token};

/// mimalloc instead of the system allocator, for Rust and (feature `override`) for the bundled
/// C libraries too: a request allocates and frees many small values on whichever blocking
/// thread serves it, and glibc's per-thread arenas kept what SQLite's full-text merges and the
/// bulk loads freed (resident memory grew far past what was live). Feature `no_thp`: with
/// transparent huge pages every 2 MB region a thread touched became resident whole, which
/// doubled the peak of concurrent bulks (README, "Memory").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "scim-server", version, about = "SCIM 2.0 provisioning server")]
struct Cli {
    /// Settings file (TOML, one key per flag: `pool_size = 32`). Environment variables and
    /// flags override it.
    #[arg(long, global = true, env = "SCIM_CONFIG")]
    config: Option<std::path::PathBuf>,
    /// Address to serve on.
    #[arg(
        long,
        global = true,
        env = "SCIM_LISTEN",
        default_value = "127.0.0.1:8080"
    )]
    listen: String,
    /// Database: sqlite://PATH or postgres://...
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        default_value_t = Config::default().database_url,
        hide_env_values = true
    )]
    database_url: String,
    /// The first token of a fresh database (random and printed once when unset).
    #[arg(
        long,
        global = true,
        env = "SCIM_BOOTSTRAP_TOKEN",
        hide_env_values = true
    )]
    bootstrap_token: Option<String>,
    /// Log lines as text or json.
    #[arg(long, global = true, env = "SCIM_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"], ignore_case = true)]
    log_format: String,
    /// Serve HTTPS with this PEM certificate chain (needs --tls-key).
    #[arg(long, global = true, env = "SCIM_TLS_CERT")]
    tls_cert: Option<std::path::PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, global = true, env = "SCIM_TLS_KEY")]
    tls_key: Option<std::path::PathBuf>,
    /// Serve GET /metrics (Prometheus text format, no authentication) on this address only.
    #[arg(long, global = true, env = "SCIM_METRICS_LISTEN")]
    metrics_listen: Option<String>,
    /// HTTP worker threads; 0: one per core.
    #[arg(long, global = true, env = "SCIM_WORKERS", default_value_t = Config::default().workers)]
    workers: usize,
    /// Largest request body accepted, in bytes (larger ones get 413).
    #[arg(long, global = true, env = "SCIM_MAX_BODY_BYTES", default_value_t = Config::default().max_body_bytes)]
    max_body_bytes: usize,
    /// Database connections per process.
    #[arg(long, global = true, env = "SCIM_POOL_SIZE", default_value_t = Config::default().pool_size)]
    pool_size: u32,
    /// Seconds a request waits for a database connection before it gets 503.
    #[arg(
        long,
        global = true,
        env = "SCIM_POOL_TIMEOUT_SECS",
        default_value_t = Config::default().pool_timeout_secs
    )]
    pool_timeout_secs: u64,
    /// Page size when a list request gives no count.
    #[arg(long, global = true, env = "SCIM_DEFAULT_COUNT", default_value_t = Config::default().default_count)]
    default_count: u64,
    /// Largest page a list request returns (`filter.maxResults`).
    #[arg(long, global = true, env = "SCIM_MAX_RESULTS", default_value_t = Config::default().max_results)]
    max_results: u64,
    /// Longest filter accepted, in bytes.
    #[arg(long, global = true, env = "SCIM_MAX_FILTER_LENGTH", default_value_t = Limits::default().filter_length)]
    max_filter_length: usize,
    /// Deepest nesting of parentheses and brackets in a filter.
    #[arg(long, global = true, env = "SCIM_MAX_FILTER_DEPTH", default_value_t = Limits::default().filter_depth)]
    max_filter_depth: usize,
    /// Most operations in one PATCH request.
    #[arg(long, global = true, env = "SCIM_MAX_PATCH_OPERATIONS", default_value_t = Limits::default().patch_operations)]
    max_patch_operations: usize,
    /// Most names in one attributes or excludedAttributes list.
    #[arg(long, global = true, env = "SCIM_MAX_ATTRIBUTES", default_value_t = Limits::default().attributes)]
    max_attributes: usize,
    /// Requests per second each token may make, per process (429 above it); 0: no limit.
    #[arg(long, global = true, env = "SCIM_RATE_LIMIT", default_value_t = RateLimit::default().per_second)]
    rate_limit: u32,
    /// Requests a token may make at once above its rate, after a pause; 0: the rate.
    #[arg(
        long,
        global = true,
        env = "SCIM_RATE_LIMIT_BURST",
        default_value_t = RateLimit::default().burst
    )]
    rate_limit_burst: u32,
    /// Accept HS256 JWTs signed with this shared secret.
    #[arg(
        long,
        global = true,
        env = "SCIM_JWT_HS256_SECRET",
        hide_env_values = true
    )]
    jwt_hs256_secret: Option<String>,
    /// Accept RS256 JWTs verified with the public key in this PEM file.
    #[arg(long, global = true, env = "SCIM_JWT_RS256_PEM")]
    jwt_rs256_pem: Option<std::path::PathBuf>,
    /// Accept RS256 JWTs verified with the keys of this JWKS file.
    #[arg(long, global = true, env = "SCIM_JWT_JWKS")]
    jwt_jwks: Option<std::path::PathBuf>,
    /// The `iss` JWTs must carry.
    #[arg(long, global = true, env = "SCIM_JWT_ISSUER")]
    jwt_issuer: Option<String>,
    /// The `aud` JWTs must carry.
    #[arg(long, global = true, env = "SCIM_JWT_AUDIENCE")]
    jwt_audience: Option<String>,
    /// The claim naming the tenant.
    #[arg(
        long,
        global = true,
        env = "SCIM_JWT_TENANT_CLAIM",
        default_value = "tenant"
    )]
    jwt_tenant_claim: String,
    /// The claim holding scopes (space-separated string or array).
    #[arg(
        long,
        global = true,
        env = "SCIM_JWT_SCOPE_CLAIM",
        default_value = "scope"
    )]
    jwt_scope_claim: String,
    /// Most operations in one /Bulk request.
    #[arg(
        long,
        global = true,
        env = "SCIM_BULK_MAX_OPERATIONS",
        default_value_t = Config::default().bulk_max_operations
    )]
    bulk_max_operations: usize,
    /// /Bulk requests processed at once; more wait their turn (bounds their memory). 0: 1 on
    /// SQLite, 2 on PostgreSQL.
    #[arg(
        long,
        global = true,
        env = "SCIM_BULK_CONCURRENCY",
        default_value_t = Config::default().bulk_concurrency
    )]
    bulk_concurrency: usize,
    /// Seconds /readyz answers 503 after SIGTERM before the listener closes and in-flight
    /// requests drain.
    #[arg(
        long,
        global = true,
        env = "SCIM_SHUTDOWN_GRACE_SECS",
        default_value_t = Config::default().shutdown_grace_secs
    )]
    shutdown_grace_secs: u64,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the SCIM API (the default).
    Serve,
    /// Run pending database migrations and exit.
    Migrate,
    /// Manage tenants.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Manage access tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Create or update users from a CSV file (columns: first_name, last_name, email, and
    /// optionally external_id, display_name, title, department, phone, active, groups).
    Import {
        /// The CSV file, with a header row.
        file: std::path::PathBuf,
        /// The tenant's name.
        #[arg(long)]
        tenant: String,
        /// Check every row and report, writing nothing.
        #[arg(long)]
        dry_run: bool,
        /// Also write the report as JSON to this file.
        #[arg(long)]
        report: Option<std::path::PathBuf>,
    },
    /// Manage the tenant's own schema extensions (as `/admin/v1/extensions` does).
    Extension {
        #[command(subcommand)]
        command: ExtensionCommand,
    },
    /// Write every user to stdout, as CSV (the import columns) or a JSON array.
    Export {
        /// The tenant's name.
        #[arg(long)]
        tenant: String,
        /// csv or json.
        #[arg(long, default_value = "csv")]
        format: String,
        /// Only users matching this SCIM filter.
        #[arg(long)]
        filter: Option<String>,
        /// The base URL for `meta.location` in JSON output.
        #[arg(long, default_value = "http://127.0.0.1:8080/scim/v2")]
        base_url: String,
    },
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Create a tenant.
    Create {
        /// Its unique name.
        name: String,
    },
    /// List tenants.
    List,
}

#[derive(Subcommand)]
enum ExtensionCommand {
    /// Declare or extend an extension from an RFC 7643 section 7 schema document (its `id` is
    /// the URN); prints the extension as now declared.
    Apply {
        /// The schema document, as JSON.
        file: std::path::PathBuf,
        /// The tenant's name.
        #[arg(long)]
        tenant: String,
        /// The resource type it extends: User or Group.
        #[arg(long, default_value = "User")]
        resource_type: String,
    },
    /// Print the tenant's extensions as a JSON array of schema documents.
    List {
        /// The tenant's name.
        #[arg(long)]
        tenant: String,
    },
    /// Remove an extension, or one attribute of it, with every value it holds.
    Remove {
        /// The extension's URN.
        urn: String,
        /// Only this attribute.
        #[arg(long)]
        attribute: Option<String>,
        /// The tenant's name.
        #[arg(long)]
        tenant: String,
        /// The resource type it extends: User or Group.
        #[arg(long, default_value = "User")]
        resource_type: String,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Issue a token; the secret is printed once, as the last line of stdout.
    Create {
        /// The tenant's name.
        #[arg(long)]
        tenant: String,
        /// A scope to grant (scim:read, scim:write, admin); repeatable. Default: scim:read and scim:write.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Days until the token expires.
        #[arg(long)]
        expires_in: Option<u32>,
    },
    /// Revoke a token by id.
    Revoke {
        /// The token id printed when it was created.
        id: String,
    },
}

fn main() -> ExitCode {
    let result = parse_cli().and_then(|cli| {
        init_logging(&cli.log_format);
        execute(cli)
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Flags, then environment variables, then the `--config` file, then defaults: the file's
/// settings are parsed as flags in front of the real ones, for the settings that neither the
/// command line nor the environment gave.
fn parse_cli() -> Result<Cli, BoxError> {
    let command = Cli::command();
    let matches = command.clone().get_matches();
    let Some(path) = matches.get_one::<std::path::PathBuf>("config") else {
        return Ok(Cli::from_arg_matches(&matches)?);
    };
    let from_file = scim_server::config_file::flags(path, &command, &matches)?;
    let mut args = std::env::args_os();
    let argv: Vec<std::ffi::OsString> = args
        .next()
        .into_iter()
        .chain(from_file.into_iter().map(Into::into))
        .chain(args)
        .collect();
    Ok(Cli::from_arg_matches(&command.get_matches_from(argv))?)
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format.eq_ignore_ascii_case("json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

type BoxError = Box<dyn std::error::Error>;

/// Builds the JWT settings from the command line, if any key source is given.
fn jwt_config(cli: &Cli) -> Result<Option<scim_server::jwt::JwtConfig>, BoxError> {
    use scim_server::jwt::{JwtConfig, JwtKeys};
    let keys = match (&cli.jwt_hs256_secret, &cli.jwt_rs256_pem, &cli.jwt_jwks) {
        (None, None, None) => return Ok(None),
        (Some(secret), None, None) => JwtKeys::Hs256(secret.as_bytes().to_vec()),
        (None, Some(pem), None) => JwtKeys::rs256_pem(&std::fs::read(pem)?)?,
        (None, None, Some(jwks)) => JwtKeys::rs256_jwks(&std::fs::read(jwks)?)?,
        _ => return Err("give one of --jwt-hs256-secret, --jwt-rs256-pem, --jwt-jwks".into()),
    };
    let (Some(issuer), Some(audience)) = (&cli.jwt_issuer, &cli.jwt_audience) else {
        return Err("JWT verification needs --jwt-issuer and --jwt-audience".into());
    };
    Ok(Some(JwtConfig {
        keys,
        issuer: issuer.clone(),
        audience: audience.clone(),
        tenant_claim: cli.jwt_tenant_claim.clone(),
        scope_claim: cli.jwt_scope_claim.clone(),
    }))
}

fn execute(cli: Cli) -> Result<(), BoxError> {
    let jwt = jwt_config(&cli)?;
    let config = Config {
        jwt,
        database_url: cli.database_url,
        bootstrap_token: cli.bootstrap_token.filter(|t| !t.is_empty()),
        max_body_bytes: cli.max_body_bytes,
        pool_size: cli.pool_size,
        pool_timeout_secs: cli.pool_timeout_secs,
        default_count: cli.default_count,
        max_results: cli.max_results,
        workers: cli.workers,
        bulk_max_operations: cli.bulk_max_operations,
        bulk_concurrency: cli.bulk_concurrency,
        shutdown_grace_secs: cli.shutdown_grace_secs,
        limits: Limits {
            filter_length: cli.max_filter_length,
            filter_depth: cli.max_filter_depth,
            patch_operations: cli.max_patch_operations,
            attributes: cli.max_attributes,
        },
        rate_limit: RateLimit {
            per_second: cli.rate_limit,
            burst: cli.rate_limit_burst,
        },
        // Checked here rather than by clap's `requires`, which misses a flag given before the
        // subcommand when its partner comes from the environment (as the file's flags are).
        tls: match (cli.tls_cert, cli.tls_key) {
            (Some(cert), Some(key)) => Some(Tls { cert, key }),
            (None, None) => None,
            _ => return Err("--tls-cert and --tls-key go together: give both or neither".into()),
        },
        metrics_listen: cli.metrics_listen,
    };
    let command = cli.command.unwrap_or(Command::Serve);
    match command {
        Command::Serve => serve(&cli.listen, config),
        Command::Migrate => {
            scim_server::open_store(&config)?;
            println!("migrations applied");
            Ok(())
        }
        Command::Tenant { command } => tenant(command, &config),
        Command::Token { command } => token_command(command, &config),
        Command::Extension { command } => extension_command(command, &config),
        Command::Import {
            file,
            tenant,
            dry_run,
            report,
        } => import(&config, &file, &tenant, dry_run, report.as_deref()),
        Command::Export {
            tenant,
            format,
            filter,
            base_url,
        } => {
            let format = match format.as_str() {
                "csv" => scim_core::export::Format::Csv,
                "json" => scim_core::export::Format::Json,
                other => return Err(format!("unknown format '{other}': use csv or json").into()),
            };
            let store = scim_server::open_store(&config)?;
            let tenant = find_tenant(&store, &tenant)?;
            with_service(&config, &store, &tenant, &base_url, |service| {
                let out = std::io::stdout().lock();
                scim_core::export::export(service, filter.as_deref(), format, out)
            })?;
            Ok(())
        }
    }
}

fn resource_kind(name: &str) -> Result<scim_core::schema::ResourceKind, BoxError> {
    match name {
        "User" => Ok(scim_core::schema::ResourceKind::User),
        "Group" => Ok(scim_core::schema::ResourceKind::Group),
        other => Err(format!("unknown resource type '{other}': use User or Group").into()),
    }
}

/// An extension as the CLI prints it: its schema document and the resource type it extends.
fn extension_json(
    kind: scim_core::schema::ResourceKind,
    schema: &scim_core::schema::Schema,
) -> serde_json::Value {
    let mut doc = schema.document.clone();
    if let Some(obj) = doc.as_object_mut() {
        obj.insert("resourceType".into(), kind.name().into());
    }
    doc
}

fn extension_command(command: ExtensionCommand, config: &Config) -> Result<(), BoxError> {
    let store = scim_server::open_store(config)?;
    let by = scim_core::store::Author {
        actor: "cli",
        at: SystemClock.now(),
    };
    match command {
        ExtensionCommand::Apply {
            file,
            tenant,
            resource_type,
        } => {
            let kind = resource_kind(&resource_type)?;
            let tenant = find_tenant(&store, &tenant)?;
            let document: serde_json::Value = serde_json::from_slice(&std::fs::read(&file)?)
                .map_err(|e| format!("{}: not JSON: {e}", file.display()))?;
            let urn = document
                .get("id")
                .and_then(serde_json::Value::as_str)
                .ok_or("the schema document needs its URN as \"id\"")?
                .to_owned();
            let declared = scim_core::extension::declaration(&urn, document)?;
            let (schema, new) = store.apply_extension(&tenant.id, kind, declared, &by)?;
            eprintln!("{} {urn}", if new { "declared" } else { "updated" });
            println!(
                "{}",
                serde_json::to_string_pretty(&extension_json(kind, &schema))?
            );
        }
        ExtensionCommand::List { tenant } => {
            let tenant = find_tenant(&store, &tenant)?;
            let all: Vec<serde_json::Value> = store
                .extensions(&tenant.id)?
                .iter()
                .map(|(kind, schema)| extension_json(*kind, schema))
                .collect();
            println!("{}", serde_json::to_string_pretty(&all)?);
        }
        ExtensionCommand::Remove {
            urn,
            attribute,
            tenant,
            resource_type,
        } => {
            let kind = resource_kind(&resource_type)?;
            let tenant = find_tenant(&store, &tenant)?;
            if !store.remove_extension(&tenant.id, kind, &urn, attribute.as_deref(), &by)? {
                return Err(format!("no such extension or attribute: {urn}").into());
            }
            println!("removed");
        }
    }
    Ok(())
}

fn find_tenant(store: &impl Store, name: &str) -> Result<Tenant, BoxError> {
    Ok(store
        .tenant_by_name(name)?
        .ok_or_else(|| format!("no tenant named '{name}'"))?)
}

/// Runs `f` with the core operations bound to `tenant`, within the configured limits.
fn with_service<S: Store, T>(
    config: &Config,
    store: &S,
    tenant: &Tenant,
    base_url: &str,
    f: impl FnOnce(&scim_core::resources::Service<'_, S>) -> scim_core::Result<T>,
) -> Result<T, BoxError> {
    let registry = scim_server::state::tenant_registry(store, &tenant.id)?;
    let service = scim_core::resources::Service {
        store,
        tenant: &tenant.id,
        registry: &registry,
        clock: &SystemClock,
        base_url,
        paging: scim_core::query::Paging {
            default_count: config.default_count,
            max_results: config.max_results,
        },
        limits: config.limits,
        actor: "cli",
    };
    Ok(f(&service)?)
}

/// `scim-server import`: a progress line on a terminal, a summary on stdout, failed rows with
/// their line numbers on stderr; exit status 1 when any row failed.
fn import(
    config: &Config,
    file: &std::path::Path,
    tenant: &str,
    dry_run: bool,
    report_path: Option<&std::path::Path>,
) -> Result<(), BoxError> {
    use std::io::{IsTerminal, Write};
    let store = scim_server::open_store(config)?;
    let tenant = find_tenant(&store, tenant)?;
    let input = std::fs::File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let terminal = std::io::stderr().is_terminal();
    // The bar needs the row count: one cheap pass over the file first, on a terminal only.
    let total = if terminal {
        use std::io::BufRead;
        let lines = std::io::BufReader::new(std::fs::File::open(file)?)
            .lines()
            .count();
        u64::try_from(lines.saturating_sub(1))
            .unwrap_or(u64::MAX)
            .max(1)
    } else {
        1
    };
    let report = with_service(
        config,
        &store,
        &tenant,
        "http://127.0.0.1:8080/scim/v2",
        |service| {
            scim_core::import::import(service, std::io::BufReader::new(input), dry_run, |done| {
                if terminal && (done % 100 == 0 || done == total) {
                    let filled = usize::try_from(done.min(total) * 30 / total).unwrap_or(30);
                    eprint!(
                        "\r[{}{}] {done}/{total} rows",
                        "#".repeat(filled),
                        ".".repeat(30 - filled)
                    );
                    let _ = std::io::stderr().flush();
                }
            })
        },
    )?;
    if terminal {
        eprintln!();
    }
    for e in &report.errors {
        eprintln!("line {}: {}", e.line, e.reason);
    }
    println!(
        "{}created {}, updated {}, failed {}",
        if dry_run {
            "dry run (nothing written): "
        } else {
            ""
        },
        report.created,
        report.updated,
        report.failed
    );
    if let Some(path) = report_path {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)?;
    }
    if report.failed > 0 {
        return Err(format!("{} rows failed", report.failed).into());
    }
    Ok(())
}

fn serve(listen: &str, config: Config) -> Result<(), BoxError> {
    let listener = TcpListener::bind(listen)?;
    tracing::info!(address = listen, config = ?config, "starting");
    actix_web::rt::System::new()
        .block_on(async move { scim_server::run(listener, config)?.await })?;
    Ok(())
}

fn tenant(command: TenantCommand, config: &Config) -> Result<(), BoxError> {
    let store = scim_server::open_store(config)?;
    match command {
        TenantCommand::Create { name } => {
            let tenant = Tenant {
                id: TenantId(scim_core::resource::new_id()),
                name,
                created: SystemClock.now(),
                catalog: 0,
            };
            store.create_tenant(&tenant)?;
            println!("{}\t{}", tenant.id.as_str(), tenant.name);
        }
        TenantCommand::List => {
            for t in store.tenants()? {
                println!(
                    "{}\t{}\t{}",
                    t.id.as_str(),
                    t.name,
                    scim_core::render::timestamp(&t.created)
                );
            }
        }
    }
    Ok(())
}

fn token_command(command: TokenCommand, config: &Config) -> Result<(), BoxError> {
    let store = scim_server::open_store(config)?;
    match command {
        TokenCommand::Create {
            tenant,
            scopes,
            expires_in,
        } => {
            let tenant = store
                .tenant_by_name(&tenant)?
                .ok_or_else(|| format!("no tenant named '{tenant}'"))?;
            let scopes = if scopes.is_empty() {
                vec![token::READ.to_owned(), token::WRITE.to_owned()]
            } else {
                scopes
            };
            if let Some(bad) = scopes.iter().find(|s| !token::ALL.contains(&s.as_str())) {
                return Err(
                    format!("unknown scope '{bad}'; use scim:read, scim:write or admin").into(),
                );
            }
            let now = SystemClock.now();
            let expires = expires_in.map(|d| now + chrono::Duration::days(i64::from(d)));
            let secret = token::generate()?;
            let record = token::record(&tenant.id, &secret, &scopes, now, expires);
            store.create_token(&record)?;
            eprintln!(
                "token {} for tenant {} with scopes {}",
                record.id,
                tenant.name,
                scopes.join(" ")
            );
            println!("{secret}");
        }
        TokenCommand::Revoke { id } => {
            if !store.revoke_token(&id, SystemClock.now())? {
                return Err(format!("no token with id '{id}'").into());
            }
            println!("revoked {id}");
        }
    }
    Ok(())
}
