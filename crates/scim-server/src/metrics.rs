//! `GET /metrics` in the Prometheus text format (version 0.0.4): request counts and latency
//! histograms by method, route and status, the database pool, and resources per tenant.
//!
//! Routes are the patterns the router matched (`/scim/v2/Users/{id}`), never raw paths: an id
//! in a label would make a series per resource.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

use scim_core::store::{PoolState, ResourceTotal};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The requests this process served.
#[derive(Debug, Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<Labels, Series>>,
}

/// method, route, status
type Labels = (String, String, u16);

#[derive(Debug, Default, Clone)]
struct Series {
    /// Requests per bucket (not cumulative; summed when rendered).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Metrics {
    /// Counts one request. Methods other than the standard ones count as `OTHER`: actix accepts
    /// any token as a method, and each would otherwise be a series of its own.
    pub fn observe(&self, method: &str, route: &str, status: u16, took: Duration) {
        let method = match method {
            "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" | "CONNECT"
            | "TRACE" => method,
            _ => "OTHER",
        };
        let secs = took.as_secs_f64();
        let mut series = self
            .series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let s = series
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default();
        s.count += 1;
        s.sum += secs;
        if let Some(slot) = BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .and_then(|i| s.buckets.get_mut(i))
        {
            *slot += 1;
        }
    }

    /// The text a scrape gets.
    pub fn render(&self, pool: PoolState, totals: &[ResourceTotal]) -> String {
        let series = self
            .series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let mut out = String::new();
        out.push_str(
            "# HELP scim_http_requests_total HTTP requests answered, by method, route and status.\n\
             # TYPE scim_http_requests_total counter\n",
        );
        for ((method, route, status), s) in &series {
            let labels = labels(&[("method", method), ("route", route)], *status);
            let _ = writeln!(out, "scim_http_requests_total{{{labels}}} {}", s.count);
        }
        out.push_str(
            "# HELP scim_http_request_duration_seconds Time from request to response.\n\
             # TYPE scim_http_request_duration_seconds histogram\n",
        );
        for ((method, route, status), s) in &series {
            let labels = labels(&[("method", method), ("route", route)], *status);
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(s.buckets) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "scim_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "scim_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}\n\
                 scim_http_request_duration_seconds_sum{{{labels}}} {}\n\
                 scim_http_request_duration_seconds_count{{{labels}}} {}",
                s.count, s.sum, s.count
            );
        }
        let _ = write!(
            out,
            "# HELP scim_db_pool_max_connections Connections the database pool may open.\n\
             # TYPE scim_db_pool_max_connections gauge\n\
             scim_db_pool_max_connections {}\n\
             # HELP scim_db_pool_connections Open database connections, by state.\n\
             # TYPE scim_db_pool_connections gauge\n\
             scim_db_pool_connections{{state=\"idle\"}} {}\n\
             scim_db_pool_connections{{state=\"in_use\"}} {}\n",
            pool.max,
            pool.idle,
            pool.open.saturating_sub(pool.idle)
        );
        out.push_str(
            "# HELP scim_resources Resources each tenant holds, by type.\n\
             # TYPE scim_resources gauge\n",
        );
        for t in totals {
            let _ = writeln!(
                out,
                "scim_resources{{tenant=\"{}\",resource_type=\"{}\"}} {}",
                escape(&t.tenant),
                escape(&t.resource_type),
                t.count
            );
        }
        out
    }
}

fn labels(pairs: &[(&str, &str)], status: u16) -> String {
    let mut out = String::new();
    for (name, value) in pairs {
        let _ = write!(out, "{name}=\"{}\",", escape(value));
    }
    let _ = write!(out, "status=\"{status}\"");
    out
}

/// Label values escape backslash, double quote and newline (the exposition format's rule);
/// tenant names are chosen by operators and could hold any of them.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use scim_core::store::{PoolState, ResourceTotal};

    use super::Metrics;

    #[test]
    fn made_up_methods_share_one_series() {
        let m = Metrics::default();
        for method in ["FOO1", "FOO2", "get"] {
            m.observe(method, "unmatched", 405, Duration::from_millis(1));
        }
        let text = m.render(
            PoolState {
                max: 1,
                open: 1,
                idle: 1,
            },
            &[],
        );
        assert!(
            text.lines().any(|l| l
                == r#"scim_http_requests_total{method="OTHER",route="unmatched",status="405"} 3"#),
            "{text}"
        );
        assert!(!text.contains("FOO"), "{text}");
    }

    #[test]
    fn counts_buckets_pool_and_totals() {
        let m = Metrics::default();
        m.observe("GET", "/scim/v2/Users/{id}", 200, Duration::from_millis(2));
        m.observe("GET", "/scim/v2/Users/{id}", 200, Duration::from_millis(30));
        m.observe("GET", "/scim/v2/Users/{id}", 404, Duration::from_secs(60));
        let text = m.render(
            PoolState {
                max: 4,
                open: 3,
                idle: 1,
            },
            &[ResourceTotal {
                tenant: "a\"b".into(),
                resource_type: "User".into(),
                count: 7,
            }],
        );
        let has = |line: &str| assert!(text.lines().any(|l| l == line), "{line}\n{text}");
        let ok = r#"method="GET",route="/scim/v2/Users/{id}",status="200""#;
        has(&format!("scim_http_requests_total{{{ok}}} 2"));
        has(&format!(
            "scim_http_request_duration_seconds_bucket{{{ok},le=\"0.001\"}} 0"
        ));
        has(&format!(
            "scim_http_request_duration_seconds_bucket{{{ok},le=\"0.0025\"}} 1"
        ));
        has(&format!(
            "scim_http_request_duration_seconds_bucket{{{ok},le=\"0.05\"}} 2"
        ));
        has(&format!(
            "scim_http_request_duration_seconds_bucket{{{ok},le=\"+Inf\"}} 2"
        ));
        has(&format!(
            "scim_http_request_duration_seconds_count{{{ok}}} 2"
        ));
        let missing = r#"method="GET",route="/scim/v2/Users/{id}",status="404""#;
        has(&format!(
            "scim_http_request_duration_seconds_bucket{{{missing},le=\"10\"}} 0"
        ));
        has(&format!(
            "scim_http_request_duration_seconds_bucket{{{missing},le=\"+Inf\"}} 1"
        ));
        has("scim_db_pool_max_connections 4");
        has("scim_db_pool_connections{state=\"in_use\"} 2");
        has(r#"scim_resources{tenant="a\"b",resource_type="User"} 7"#);
    }
}
