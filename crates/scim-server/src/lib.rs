#![doc = include_str!("../README.md")]

pub mod auth;
pub mod config;
pub mod error;
pub mod jwt;
mod request;
mod response;
mod routes;
pub mod state;
pub mod token;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::middleware::{ErrorHandlers, Next, from_fn};
use actix_web::{App, HttpServer, web};
use scim_core::clock::{Clock, SystemClock};
use scim_core::discovery::Capabilities;
use scim_core::query::Paging;
use scim_core::resource::TenantId;
use scim_core::schema::Registry;
use scim_core::store::{Store, Tenant};
use scim_store::DieselStore;
use tracing::Instrument;

pub use config::Config;
use state::AppState;

/// Opens the database (running migrations) as configured.
pub fn open_store(config: &Config) -> Result<DieselStore, scim_store::Error> {
    DieselStore::open(
        &config.database_url,
        config.pool_size,
        Duration::from_secs(config.pool_timeout_secs),
    )
}

/// On a database with no tenant, creates tenant `default` and one token with every scope: the
/// configured bootstrap token, or a random one printed once to stderr.
pub fn bootstrap(store: &impl Store, config: &Config, clock: &dyn Clock) -> scim_core::Result<()> {
    let (secret, generated) = match &config.bootstrap_token {
        Some(t) => (t.clone(), false),
        None => (token::generate()?, true),
    };
    let now = clock.now();
    let tenant = Tenant {
        id: TenantId(scim_core::resource::new_id()),
        name: "default".into(),
        created: now,
        catalog: 0,
    };
    let scopes: Vec<String> = token::ALL.iter().map(|s| (*s).to_owned()).collect();
    let record = token::record(&tenant.id, &secret, &scopes, now, None);
    if store.bootstrap(&tenant, &record)? {
        tracing::info!(
            tenant = "default",
            token = record.id,
            "created the first tenant"
        );
        if generated {
            eprintln!("Created tenant 'default'. Its admin token (shown only now):\n{secret}");
        }
    }
    Ok(())
}

/// Starts serving on `listener`: opens the store, bootstraps a fresh database, and returns the
/// running server (the same function `main` and the tests use).
pub fn run(listener: TcpListener, config: Config) -> std::io::Result<Server> {
    let store = open_store(&config).map_err(std::io::Error::other)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    bootstrap(&store, &config, clock.as_ref()).map_err(std::io::Error::other)?;
    serve(listener, config, store, clock)
}

/// Serves an opened store.
pub fn serve<S: Store>(
    listener: TcpListener,
    config: Config,
    store: S,
    clock: Arc<dyn Clock>,
) -> std::io::Result<Server> {
    let state = web::Data::new(AppState {
        store,
        registry: Registry::builtin(),
        clock,
        caps: Capabilities {
            paging: Paging {
                default_count: config.default_count,
                max_results: config.max_results,
            },
            patch: true,
            sort: true,
            bulk: scim_core::bulk::BulkLimits {
                max_operations: config.bulk_max_operations,
                max_payload_size: config.max_body_bytes,
            },
        },
        jwt: config.jwt.clone(),
        bulk_turns: tokio::sync::Semaphore::new(config.bulk_turns()),
        registries: std::sync::Mutex::default(),
    });
    let max_body = config.max_body_bytes;
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(max_body))
            .wrap(ErrorHandlers::new().default_handler(error::framework_errors))
            .wrap(from_fn(log_request))
            .configure(routes::configure::<S>)
    })
    .listen(listener)?;
    if config.workers > 0 {
        server = server.workers(config.workers);
    }
    Ok(server.run())
}

/// One log line per request: method, path, status and duration (never bodies or tokens).
async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    // Authentication fills in the empty fields, so every line of the request says who it was.
    let span = tracing::info_span!(
        "request",
        %method,
        %path,
        auth = tracing::field::Empty,
        actor = tracing::field::Empty,
        tenant = tracing::field::Empty,
    );
    let res = next.call(req).instrument(span.clone()).await?;
    span.in_scope(|| {
        tracing::info!(
            status = res.status().as_u16(),
            micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX),
            "request"
        );
    });
    Ok(res)
}
