//! Benchmark sink: an OTLP/gRPC trace receiver that counts spans and records, per span, how long
//! after its end time it arrived. Writes `{"spans":N,"requests":N,"p50_ms":..,"p99_ms":..}` to the
//! stats file every 500 ms. It shares a core with the load generator, so it does as little as it
//! can: it reads requests with the relay's wire-format field reader down to each span's end time,
//! without decoding into structs and without validating (`--validate` runs the full wire walker).
//! Used by bench/otlp-relay/run.sh; not part of the relay.
//!
//! usage: bench_sink [--validate] LISTEN_ADDR STATS_FILE

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use otlp_client::grpc_raw::{RawMethod, RawUnaryService};
use otlp_client::wire::{self, schema};
use tonic::Status;

// Arrival delay histogram in 100 µs buckets up to 60 s.
const BUCKET_NANOS: u64 = 100_000;
const BUCKETS: usize = 600_000;
const END_TIME_FIELD: u32 = 8;

struct Sink {
    validate: bool,
    spans: AtomicU64,
    requests: AtomicU64,
    hist: Vec<AtomicU64>,
}

impl Sink {
    fn quantile(&self, q: f64) -> f64 {
        let total: u64 = self.hist.iter().map(|b| b.load(Ordering::Relaxed)).sum();
        if total == 0 {
            return 0.0;
        }
        let rank = (q * total as f64).ceil() as u64;
        let mut seen = 0;
        for (i, b) in self.hist.iter().enumerate() {
            seen += b.load(Ordering::Relaxed);
            if seen >= rank {
                return (i as u64 + 1) as f64 * BUCKET_NANOS as f64 / 1e6;
            }
        }
        f64::INFINITY
    }

    fn export(&self, body: &[u8]) -> Result<(), Status> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos() as u64;
        let record = |span: &[u8]| {
            let end = wire::fixed64_field(span, END_TIME_FIELD).unwrap_or(0);
            let delay = now.saturating_sub(end);
            let i = ((delay / BUCKET_NANOS) as usize).min(BUCKETS - 1);
            self.hist[i].fetch_add(1, Ordering::Relaxed);
        };
        let n = if self.validate {
            wire::validate_with(&schema::EXPORT_TRACE_SERVICE_REQUEST, body, record)
                .map_err(|e| Status::invalid_argument(e.to_string()))?
        } else {
            // ExportTraceServiceRequest.resource_spans(1) -> ResourceSpans.scope_spans(2) ->
            // ScopeSpans.spans(2)
            let mut n = 0;
            for (_, _, rs) in wire::fields(body).filter(|f| f.0 == 1) {
                for (_, _, ss) in wire::fields(rs).filter(|f| f.0 == 2) {
                    for (_, _, span) in wire::fields(ss).filter(|f| f.0 == 2) {
                        record(span);
                        n += 1;
                    }
                }
            }
            n
        };
        self.spans.fetch_add(n, Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

#[derive(Clone)]
struct Export(Arc<Sink>);

impl RawMethod for Export {
    const SERVICE: &'static str = "opentelemetry.proto.collector.trace.v1.TraceService";
    const PATH: &'static str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

    fn call(&self, request: Bytes) -> Result<Bytes, Status> {
        self.0.export(&request).map(|()| Bytes::new())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args: Vec<String> = std::env::args().collect();
    let validate = args.iter().any(|a| a == "--validate");
    args.retain(|a| a != "--validate");
    if args.len() != 3 {
        eprintln!("usage: bench_sink [--validate] LISTEN_ADDR STATS_FILE");
        std::process::exit(2);
    }
    let addr = args[1].parse().expect("LISTEN_ADDR is host:port");
    let stats = args[2].clone();
    let sink = Arc::new(Sink {
        validate,
        spans: AtomicU64::new(0),
        requests: AtomicU64::new(0),
        hist: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
    });
    let s = sink.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let line = format!(
                "{{\"spans\":{},\"requests\":{},\"p50_ms\":{:.1},\"p99_ms\":{:.1}}}\n",
                s.spans.load(Ordering::Relaxed),
                s.requests.load(Ordering::Relaxed),
                s.quantile(0.50),
                s.quantile(0.99)
            );
            let tmp = format!("{stats}.tmp");
            if std::fs::write(&tmp, line).is_ok() {
                let _ = std::fs::rename(&tmp, &stats);
            }
        }
    });
    tonic::transport::Server::builder()
        .add_service(RawUnaryService::new(Export(sink), 64 * 1024 * 1024))
        .serve(addr)
        .await
        .expect("sink serves");
}
