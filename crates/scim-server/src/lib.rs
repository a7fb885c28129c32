#![doc = include_str!("../README.md")]

pub mod auth;
mod bulk_lanes;
pub mod config;
pub mod config_file;
pub mod error;
pub mod jwt;
pub mod metrics;
mod openapi;
pub mod rate_limit;
mod request;
mod response;
mod routes;
pub mod state;
mod tls;
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
    store.warm_substring_plans();
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
        limits: config.limits,
        rate_limiter: rate_limit::RateLimiter::new(config.rate_limit),
        // Counting costs every request a lock and a few allocations: only when it is read.
        metrics: config
            .metrics_listen
            .as_ref()
            .map(|_| metrics::Metrics::default()),
        bulk_lanes: bulk_lanes::BulkLanes::new(config.bulk_turns())?,
        draining: std::sync::atomic::AtomicBool::new(false),
        registries: std::sync::Mutex::default(),
    });
    let max_body = config.max_body_bytes;
    let drain = state.clone();
    let metrics_listener = config
        .metrics_listen
        .as_deref()
        .map(TcpListener::bind)
        .transpose()?;
    let metrics_addr = MetricsAddr(
        metrics_listener
            .as_ref()
            .map(TcpListener::local_addr)
            .transpose()?,
    );
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(metrics_addr)
            .app_data(web::PayloadConfig::new(max_body))
            .wrap(ErrorHandlers::new().default_handler(error::framework_errors))
            .wrap(from_fn(split_listeners))
            .wrap(from_fn(log_request::<S>))
            .configure(routes::configure::<S>)
    })
    .disable_signals();
    server = match &config.tls {
        Some(tls) => server.listen_rustls_0_23(listener, tls::server_config(tls)?)?,
        None => server.listen(listener)?,
    };
    if let Some(l) = metrics_listener {
        server = server.listen(l)?;
    }
    if config.workers > 0 {
        server = server.workers(config.workers);
    }
    let server = server.run();
    let handle = server.handle();
    let grace = Duration::from_secs(config.shutdown_grace_secs);
    actix_web::rt::spawn(async move {
        stop_signal().await;
        tracing::info!(
            grace_secs = grace.as_secs(),
            "stopping: /readyz answers 503"
        );
        drain
            .draining
            .store(true, std::sync::atomic::Ordering::SeqCst);
        // A second signal means now: no grace, no drain.
        let graceful = tokio::select! {
            _ = actix_web::rt::time::sleep(grace) => true,
            _ = stop_signal() => false,
        };
        tracing::info!(graceful, "closing the listener");
        handle.stop(graceful).await;
    });
    Ok(server)
}

/// SIGTERM (what orchestrators send) or SIGINT (Ctrl-C). Should a handler fail to install,
/// the server runs on and is stopped by other means.
async fn stop_signal() {
    use actix_web::rt::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::warn!("no signal handlers: SIGTERM will not drain");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

/// The address of the `--metrics-listen` listener, if any.
#[derive(Debug, Clone, Copy)]
struct MetricsAddr(Option<std::net::SocketAddr>);

impl MetricsAddr {
    /// Whether a connection to `local` came in on the metrics listener. A listener bound to
    /// every interface sees connections on concrete addresses, so its port alone decides.
    fn accepted(self, local: std::net::SocketAddr) -> bool {
        self.0.is_some_and(|m| {
            m.port() == local.port() && (m.ip().is_unspecified() || m.ip() == local.ip())
        })
    }
}

/// The metrics listener serves `/metrics` and nothing else, and the API listener never serves
/// it: it is unauthenticated, for a scraper on a private network. The path compared is the one
/// the router matches, percent-decoded, so `/%6Detrics` is `/metrics` here too.
async fn split_listeners(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let metrics = req
        .app_data::<MetricsAddr>()
        .copied()
        .unwrap_or(MetricsAddr(None));
    let on_metrics_listener = metrics.accepted(req.app_config().local_addr());
    if on_metrics_listener != (req.match_info().as_str() == "/metrics") {
        let missing = error::ApiError::from(scim_core::Error::NotFound("no such endpoint".into()));
        return Ok(req.error_response(missing));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// The header that names a request in the logs of the client, proxies and this server.
const REQUEST_ID: &str = "x-request-id";

/// A client's request id is kept when it is 1 to 128 characters of letters, digits and
/// `-_.:`: anything else could forge log lines or carry data into them.
fn plausible_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// 128 random bits in hex; should the system's randomness fail, a number this process counts
/// up still tells its requests apart in a log.
fn new_request_id() -> String {
    static FALLBACK: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut bytes = [0u8; 16];
    match getrandom::fill(&mut bytes) {
        Ok(()) => hex::encode(bytes),
        Err(_) => format!(
            "local-{}",
            FALLBACK.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ),
    }
}

/// One log line per request: its request id, method, path, status and duration (never bodies
/// or tokens). The request id is the client's `X-Request-Id` when it is a plausible one (a
/// proxy or IdP connector may have set it, and then both logs name the same request), else a
/// new one; either way the response carries it back.
async fn log_request<S: Store>(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let request_id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| plausible_request_id(v))
        .map_or_else(new_request_id, str::to_owned);
    // Authentication fills in the empty fields, so every line of the request says who it was.
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        %method,
        %path,
        auth = tracing::field::Empty,
        actor = tracing::field::Empty,
        tenant = tracing::field::Empty,
    );
    let mut res = next.call(req).instrument(span.clone()).await?;
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static(REQUEST_ID),
            value,
        );
    }
    let took = start.elapsed();
    let status = res.status().as_u16();
    if let Some(metrics) = res
        .request()
        .app_data::<web::Data<AppState<S>>>()
        .and_then(|state| state.metrics.as_ref())
    {
        metrics.observe(method.as_str(), &route_of(res.request()), status, took);
    }
    span.in_scope(|| {
        tracing::info!(
            status,
            micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            "request"
        );
    });
    Ok(res)
}

/// The route a request matched, as a metrics label: the router's pattern with the resource
/// type filled in (`/scim/v2/Users/{id}`); `unmatched` for paths no route serves, whose
/// variety is the client's to choose.
fn route_of(req: &actix_web::HttpRequest) -> String {
    match req.match_pattern() {
        Some(pattern) => match req.match_info().get("kind") {
            Some(kind) => pattern.replace("{kind:Users|Groups}", kind),
            None => pattern,
        },
        None => "unmatched".to_owned(),
    }
}
