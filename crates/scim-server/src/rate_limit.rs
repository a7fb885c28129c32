//! Per-token request rates: one connector retrying in a tight loop gets 429 with `Retry-After`
//! instead of taking every worker and connection from the others.
//!
//! A token bucket per caller, in this process's memory. With N processes behind a load
//! balancer a caller may make N times the rate; the limit protects each process, which is what
//! it is for, and keeping it in the database would cost every request a write. Only callers
//! that authenticated get a bucket. A full bucket is the same as none, so full ones are dropped
//! whenever the map has doubled: JWT subjects come and go, and the map stays as large as the
//! callers active in the last `burst / rate` seconds.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::RateLimit;

/// The buckets of every caller that made a request.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<Buckets>,
}

#[derive(Debug, Default)]
struct Buckets {
    by_caller: HashMap<String, Bucket>,
    /// The size at which full buckets are next dropped.
    prune_at: usize,
}

/// The fewest buckets worth a sweep.
const MIN_PRUNE: usize = 1024;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    /// A limiter for `limit`, or none when it is 0 (no limit).
    pub fn new(limit: RateLimit) -> Option<RateLimiter> {
        if limit.per_second == 0 {
            return None;
        }
        let burst = if limit.burst == 0 {
            limit.per_second
        } else {
            limit.burst
        };
        Some(RateLimiter {
            per_second: f64::from(limit.per_second),
            burst: f64::from(burst),
            buckets: Mutex::default(),
        })
    }

    /// Takes one request from `caller`'s bucket at `now`; when it is empty, says how long until
    /// it holds one again.
    pub fn admit(&self, caller: &str, now: Instant) -> Result<(), Duration> {
        // A panic while holding the lock leaves at worst one stale bucket: keep going.
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.by_caller.len() >= buckets.prune_at.max(MIN_PRUNE) {
            buckets
                .by_caller
                .retain(|_, b| self.refilled(*b, now) < self.burst);
            buckets.prune_at = 2 * buckets.by_caller.len();
        }
        let bucket = buckets
            .by_caller
            .entry(caller.to_owned())
            .or_insert(Bucket {
                tokens: self.burst,
                at: now,
            });
        bucket.tokens = self.refilled(*bucket, now);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - bucket.tokens) / self.per_second,
            ))
        }
    }

    /// What `bucket` holds at `now`.
    fn refilled(&self, bucket: Bucket, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        (bucket.tokens + elapsed * self.per_second).min(self.burst)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::RateLimiter;
    use crate::config::RateLimit;

    #[test]
    fn a_burst_then_the_rate_per_caller() {
        let limiter = RateLimiter::new(RateLimit {
            per_second: 2,
            burst: 3,
        })
        .unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.admit("a", t0).is_ok());
        }
        let wait = limiter.admit("a", t0).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        assert!(
            limiter.admit("b", t0).is_ok(),
            "callers have their own buckets"
        );
        let t1 = t0 + Duration::from_millis(500);
        assert!(limiter.admit("a", t1).is_ok(), "half a second refills one");
        assert!(limiter.admit("a", t1).is_err());
        let t2 = t1 + Duration::from_secs(60);
        for _ in 0..3 {
            assert!(
                limiter.admit("a", t2).is_ok(),
                "a pause refills up to the burst"
            );
        }
        assert!(limiter.admit("a", t2).is_err());
    }

    #[test]
    fn full_buckets_are_dropped_and_spent_ones_kept() {
        let limiter = RateLimiter::new(RateLimit {
            per_second: 1,
            burst: 2,
        })
        .unwrap();
        let t0 = Instant::now();
        limiter.admit("busy", t0).unwrap();
        limiter.admit("busy", t0).unwrap();
        for i in 0..super::MIN_PRUNE - 1 {
            limiter.admit(&format!("jwt:{i}"), t0).unwrap();
        }
        // One second later the passers-by are full again, and "busy" holds one request.
        let t1 = t0 + Duration::from_secs(1);
        limiter.admit("newcomer", t1).unwrap();
        let size = limiter.buckets.lock().unwrap().by_caller.len();
        assert_eq!(size, 2, "busy and newcomer remain");
        limiter.admit("busy", t1).unwrap();
        assert!(limiter.admit("busy", t1).is_err(), "busy's bucket was kept");
    }

    #[test]
    fn zero_is_no_limit_and_burst_defaults_to_the_rate() {
        assert!(RateLimiter::new(RateLimit::default()).is_none());
        let limiter = RateLimiter::new(RateLimit {
            per_second: 2,
            burst: 0,
        })
        .unwrap();
        let t0 = Instant::now();
        assert!(limiter.admit("a", t0).is_ok());
        assert!(limiter.admit("a", t0).is_ok());
        assert!(limiter.admit("a", t0).is_err());
    }
}
