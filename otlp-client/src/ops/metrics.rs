//! The relay's own Prometheus metrics, kept in atomics and rendered in the text exposition format.
//! Hand-written on purpose: names are exactly the documented ones (no crate appends `_total`).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use std::time::Duration;
use tokio::sync::Semaphore;

use crate::signal::{Signal, Transport};

const SIGNALS: usize = 3;
const TRANSPORTS: usize = 2;

/// Upper bounds of `otlp_request_duration_seconds` buckets.
pub const DURATION_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; DURATION_BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Histogram {
    fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        for (i, le) in DURATION_BUCKETS.iter().enumerate() {
            if secs <= *le {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_nanos
            .fetch_add(d.as_nanos().min(u64::MAX as u128) as u64, Ordering::Relaxed);
    }
}

type PerRoute = [[AtomicU64; TRANSPORTS]; SIGNALS];
type PerSignal = [AtomicU64; SIGNALS];

/// Why items left the relay without being delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// The upstream refused them permanently (non-retryable error).
    Rejected,
    /// Retries were used up while the breaker stayed closed.
    RetriesExhausted,
    /// The upstream accepted the request but reported them as rejected (partial success).
    PartialSuccess,
    /// Still queued or in flight when the shutdown deadline passed.
    Shutdown,
}

impl DropReason {
    const ALL: [DropReason; 4] = [
        DropReason::Rejected,
        DropReason::RetriesExhausted,
        DropReason::PartialSuccess,
        DropReason::Shutdown,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Rejected => "rejected",
            DropReason::RetriesExhausted => "retries_exhausted",
            DropReason::PartialSuccess => "partial_success",
            DropReason::Shutdown => "shutdown",
        }
    }
}

#[derive(Default)]
pub struct Metrics {
    requests: PerRoute,
    requests_failed: PerRoute,
    durations: [[Histogram; TRANSPORTS]; SIGNALS],
    items_received: PerRoute,
    items_refused: PerRoute,
    items_sent: PerSignal,
    items_dropped: [[AtomicU64; 4]; SIGNALS],
    export_retries: PerSignal,
    export_failures: PerSignal,
    breaker_state: PerSignal,
    // Each queue's room (a semaphore of free item slots) and capacity, read live when rendering.
    queues: [OnceLock<(Arc<Semaphore>, usize)>; SIGNALS],
    /// Upstream transport per signal (0 grpc, 1 http); u64::MAX when the signal is off.
    upstream: [AtomicU64; SIGNALS],
}

fn add(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

impl Metrics {
    pub fn new() -> Self {
        let m = Metrics::default();
        for u in &m.upstream {
            u.store(u64::MAX, Ordering::Relaxed);
        }
        m
    }

    pub fn request(&self, s: Signal, t: Transport, took: Duration, ok: bool) {
        add(&self.requests[s.index()][t.index()], 1);
        if !ok {
            add(&self.requests_failed[s.index()][t.index()], 1);
        }
        self.durations[s.index()][t.index()].observe(took);
    }
    pub fn items_received(&self, s: Signal, t: Transport, n: u64) {
        add(&self.items_received[s.index()][t.index()], n);
    }
    pub fn items_refused(&self, s: Signal, t: Transport, n: u64) {
        add(&self.items_refused[s.index()][t.index()], n);
    }
    pub fn items_sent(&self, s: Signal, n: u64) {
        add(&self.items_sent[s.index()], n);
    }
    pub fn items_dropped(&self, s: Signal, reason: DropReason, n: u64) {
        add(&self.items_dropped[s.index()][reason as usize], n);
    }
    pub fn export_retry(&self, s: Signal) {
        add(&self.export_retries[s.index()], 1);
    }
    pub fn export_failure(&self, s: Signal) {
        add(&self.export_failures[s.index()], 1);
    }
    pub fn set_breaker_state(&self, s: Signal, v: u64) {
        self.breaker_state[s.index()].store(v, Ordering::Relaxed);
    }
    pub fn breaker_state(&self, s: Signal) -> u64 {
        self.breaker_state[s.index()].load(Ordering::Relaxed)
    }
    pub fn register_queue(&self, s: Signal, room: Arc<Semaphore>, capacity: usize) {
        let _ = self.queues[s.index()].set((room, capacity));
    }
    /// (items queued or in flight, capacity) of a signal's queue.
    pub fn queue(&self, s: Signal) -> (u64, u64) {
        match self.queues[s.index()].get() {
            Some((room, cap)) => (
                (cap - room.available_permits().min(*cap)) as u64,
                *cap as u64,
            ),
            None => (0, 0),
        }
    }
    pub fn set_upstream(&self, s: Signal, t: Transport) {
        self.upstream[s.index()].store(t.index() as u64, Ordering::Relaxed);
    }
    pub fn items_sent_total(&self, s: Signal) -> u64 {
        self.items_sent[s.index()].load(Ordering::Relaxed)
    }

    fn upstream_label(&self, s: Signal) -> Option<&'static str> {
        match self.upstream[s.index()].load(Ordering::Relaxed) {
            0 => Some("grpc"),
            1 => Some("http"),
            _ => None,
        }
    }

    /// Renders every metric in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut o = String::with_capacity(8192);
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let route_counter = |o: &mut String, name: &str, help: &str, c: &PerRoute| {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} counter");
            for s in Signal::ALL {
                for t in Transport::ALL {
                    let _ = writeln!(
                        o,
                        "{name}{{signal=\"{s}\",transport=\"{t}\"}} {}",
                        load(&c[s.index()][t.index()])
                    );
                }
            }
        };
        route_counter(
            &mut o,
            "otlp_requests_total",
            "OTLP export requests received.",
            &self.requests,
        );
        route_counter(
            &mut o,
            "otlp_requests_failed_total",
            "OTLP export requests answered with an error (including backpressure).",
            &self.requests_failed,
        );
        route_counter(
            &mut o,
            "otlp_items_received_total",
            "Spans, data points or log records accepted into the queue.",
            &self.items_received,
        );
        route_counter(
            &mut o,
            "otlp_items_refused_total",
            "Items refused at the door (queue full, invalid, too large); the sender was told.",
            &self.items_refused,
        );

        let name = "otlp_request_duration_seconds";
        let _ = writeln!(
            o,
            "# HELP {name} Time to answer an OTLP export request.\n# TYPE {name} histogram"
        );
        for s in Signal::ALL {
            for t in Transport::ALL {
                let h = &self.durations[s.index()][t.index()];
                let labels = format!("signal=\"{s}\",transport=\"{t}\"");
                for (i, le) in DURATION_BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        o,
                        "{name}_bucket{{{labels},le=\"{le}\"}} {}",
                        load(&h.buckets[i])
                    );
                }
                let count = load(&h.count);
                let _ = writeln!(o, "{name}_bucket{{{labels},le=\"+Inf\"}} {count}");
                let _ = writeln!(
                    o,
                    "{name}_sum{{{labels}}} {}",
                    load(&h.sum_nanos) as f64 / 1e9
                );
                let _ = writeln!(o, "{name}_count{{{labels}}} {count}");
            }
        }

        // Upstream-side series carry the upstream's transport; switched-off signals are left out.
        let upstream_metric =
            |o: &mut String, name: &str, kind: &str, help: &str, c: &PerSignal| {
                let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}");
                for s in Signal::ALL {
                    if let Some(t) = self.upstream_label(s) {
                        let _ = writeln!(
                            o,
                            "{name}{{signal=\"{s}\",transport=\"{t}\"}} {}",
                            load(&c[s.index()])
                        );
                    }
                }
            };
        upstream_metric(
            &mut o,
            "otlp_items_sent_total",
            "counter",
            "Items the upstream accepted.",
            &self.items_sent,
        );
        upstream_metric(
            &mut o,
            "otlp_export_retries_total",
            "counter",
            "Export attempts retried after a retryable failure.",
            &self.export_retries,
        );
        upstream_metric(
            &mut o,
            "otlp_export_failures_total",
            "counter",
            "Export attempts that failed.",
            &self.export_failures,
        );
        upstream_metric(
            &mut o,
            "otlp_circuit_breaker_state",
            "gauge",
            "Upstream circuit breaker: 0 closed, 1 open, 2 half-open.",
            &self.breaker_state,
        );
        let sizes: PerSignal = Default::default();
        let caps: PerSignal = Default::default();
        for s in Signal::ALL {
            let (size, cap) = self.queue(s);
            sizes[s.index()].store(size, Ordering::Relaxed);
            caps[s.index()].store(cap, Ordering::Relaxed);
        }
        upstream_metric(
            &mut o,
            "otlp_queue_size",
            "gauge",
            "Items queued or in flight.",
            &sizes,
        );
        upstream_metric(
            &mut o,
            "otlp_queue_capacity",
            "gauge",
            "Items the queue holds before refusing senders.",
            &caps,
        );

        let name = "otlp_items_dropped_total";
        let _ = writeln!(o, "# HELP {name} Items accepted from senders but not delivered upstream.\n# TYPE {name} counter");
        for s in Signal::ALL {
            if let Some(t) = self.upstream_label(s) {
                for r in DropReason::ALL {
                    let _ = writeln!(
                        o,
                        "{name}{{signal=\"{s}\",transport=\"{t}\",reason=\"{}\"}} {}",
                        r.as_str(),
                        load(&self.items_dropped[s.index()][r as usize])
                    );
                }
            }
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|l| {
                l.strip_prefix(series)
                    .and_then(|rest| rest.strip_prefix(' '))
            })
            .map(|v| v.parse().unwrap())
    }

    #[test]
    fn renders_documented_names_with_signal_and_transport_labels() {
        let m = Metrics::new();
        m.set_upstream(Signal::Traces, Transport::Grpc);
        m.request(
            Signal::Traces,
            Transport::Http,
            Duration::from_millis(3),
            true,
        );
        m.request(
            Signal::Traces,
            Transport::Http,
            Duration::from_millis(30),
            false,
        );
        m.items_received(Signal::Traces, Transport::Http, 10);
        m.items_sent(Signal::Traces, 10);
        m.set_breaker_state(Signal::Traces, 1);
        m.items_dropped(Signal::Traces, DropReason::Shutdown, 2);
        let t = m.render();
        assert_eq!(
            value(
                &t,
                "otlp_requests_total{signal=\"traces\",transport=\"http\"}"
            ),
            Some(2.0)
        );
        assert_eq!(
            value(
                &t,
                "otlp_requests_failed_total{signal=\"traces\",transport=\"http\"}"
            ),
            Some(1.0)
        );
        assert_eq!(value(&t, "otlp_request_duration_seconds_bucket{signal=\"traces\",transport=\"http\",le=\"0.005\"}"), Some(1.0));
        assert_eq!(value(&t, "otlp_request_duration_seconds_bucket{signal=\"traces\",transport=\"http\",le=\"+Inf\"}"), Some(2.0));
        assert_eq!(
            value(
                &t,
                "otlp_request_duration_seconds_count{signal=\"traces\",transport=\"http\"}"
            ),
            Some(2.0)
        );
        assert_eq!(
            value(
                &t,
                "otlp_circuit_breaker_state{signal=\"traces\",transport=\"grpc\"}"
            ),
            Some(1.0)
        );
        assert_eq!(
            value(
                &t,
                "otlp_items_sent_total{signal=\"traces\",transport=\"grpc\"}"
            ),
            Some(10.0)
        );
        assert_eq!(value(&t, "otlp_items_dropped_total{signal=\"traces\",transport=\"grpc\",reason=\"shutdown\"}"), Some(2.0));
        assert!(
            !t.contains("otlp_circuit_breaker_state{signal=\"metrics\""),
            "switched-off signals have no upstream series"
        );
        assert!(!t.contains("_total_total"));
        for line in t.lines().filter(|l| !l.starts_with('#')) {
            let (_, v) = line.rsplit_once(' ').unwrap();
            v.parse::<f64>()
                .unwrap_or_else(|_| panic!("bad sample line {line}"));
        }
    }
}
