//! Which upstream failures are retried (as the OTLP specification defines) and how long to wait.

use std::time::{Duration, SystemTime};

use rand::Rng;
use tonic::Code;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Retry {
    /// Try again, after at least this long when the upstream said so.
    Retryable { after: Option<Duration> },
    /// The upstream refused the data for good; retrying cannot help.
    Permanent,
}

/// OTLP/gRPC: only these codes are retryable; RESOURCE_EXHAUSTED only when the server attached
/// RetryInfo (it then means throttling rather than "this request is too big").
pub fn classify_grpc(code: Code, retry_info: Option<Duration>) -> Retry {
    match code {
        Code::Cancelled
        | Code::DeadlineExceeded
        | Code::Aborted
        | Code::OutOfRange
        | Code::Unavailable
        | Code::DataLoss => Retry::Retryable { after: retry_info },
        Code::ResourceExhausted if retry_info.is_some() => Retry::Retryable { after: retry_info },
        _ => Retry::Permanent,
    }
}

/// OTLP/HTTP: 429, 502, 503 and 504 are retryable; any other error status is not.
pub fn classify_http(status: u16, retry_after: Option<&str>, now: SystemTime) -> Retry {
    match status {
        429 | 502 | 503 | 504 => Retry::Retryable {
            after: retry_after.and_then(|v| parse_retry_after(v, now)),
        },
        _ => Retry::Permanent,
    }
}

/// `Retry-After` is either delay-seconds or an HTTP-date.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Exponential backoff: `base * 2^(attempt-1)` capped at `max`, with "equal jitter" (half fixed,
/// half random) so that many relays do not retry in lockstep. A server-given delay is a floor.
pub fn backoff(
    attempt: u32,
    base: Duration,
    max: Duration,
    server_hint: Option<Duration>,
    rng: &mut impl Rng,
) -> Duration {
    let exp = base
        .checked_mul(
            1u32.checked_shl(attempt.saturating_sub(1).min(20))
                .unwrap_or(u32::MAX),
        )
        .unwrap_or(max)
        .min(max);
    let half = exp / 2;
    let jittered = half + half.mul_f64(rng.random::<f64>());
    match server_hint {
        Some(hint) => jittered.max(hint.min(max.max(hint))),
        None => jittered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn grpc_codes_follow_the_otlp_retry_table() {
        let retryable = [
            Code::Cancelled,
            Code::DeadlineExceeded,
            Code::Aborted,
            Code::OutOfRange,
            Code::Unavailable,
            Code::DataLoss,
        ];
        for code in retryable {
            assert_eq!(
                classify_grpc(code, None),
                Retry::Retryable { after: None },
                "{code:?}"
            );
        }
        let permanent = [
            Code::Unknown,
            Code::InvalidArgument,
            Code::NotFound,
            Code::AlreadyExists,
            Code::PermissionDenied,
            Code::FailedPrecondition,
            Code::Unimplemented,
            Code::Internal,
            Code::Unauthenticated,
        ];
        for code in permanent {
            assert_eq!(classify_grpc(code, None), Retry::Permanent, "{code:?}");
        }
    }

    #[test]
    fn resource_exhausted_is_retried_only_with_retry_info() {
        assert_eq!(
            classify_grpc(Code::ResourceExhausted, None),
            Retry::Permanent
        );
        let d = Some(Duration::from_secs(2));
        assert_eq!(
            classify_grpc(Code::ResourceExhausted, d),
            Retry::Retryable { after: d }
        );
    }

    #[test]
    fn http_statuses_follow_the_otlp_retry_table_and_read_retry_after() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        for s in [400, 401, 403, 404, 413, 415, 500, 501] {
            assert_eq!(classify_http(s, None, now), Retry::Permanent, "{s}");
        }
        assert_eq!(
            classify_http(503, Some("3"), now),
            Retry::Retryable {
                after: Some(Duration::from_secs(3))
            }
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(
            classify_http(429, Some(&date), now),
            Retry::Retryable {
                after: Some(Duration::from_secs(7))
            }
        );
        assert_eq!(
            classify_http(502, Some("soon"), now),
            Retry::Retryable { after: None }
        );
    }

    #[test]
    fn backoff_grows_exponentially_within_jitter_and_cap() {
        let mut rng = StdRng::seed_from_u64(7);
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(2);
        for attempt in 1..=10u32 {
            let exp = (base * 2u32.pow(attempt - 1)).min(max);
            let d = backoff(attempt, base, max, None, &mut rng);
            assert!(
                d >= exp / 2 && d <= exp,
                "attempt {attempt}: {d:?} not in [{:?}, {exp:?}]",
                exp / 2
            );
        }
    }

    #[test]
    fn server_retry_hint_is_a_floor() {
        let mut rng = StdRng::seed_from_u64(1);
        let d = backoff(
            1,
            Duration::from_millis(100),
            Duration::from_secs(30),
            Some(Duration::from_secs(3)),
            &mut rng,
        );
        assert!(d >= Duration::from_secs(3), "{d:?}");
    }
}
