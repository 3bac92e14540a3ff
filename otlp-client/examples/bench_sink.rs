//! Benchmark sink: an OTLP/gRPC trace receiver that counts spans and records, per span, how long
//! after its end time it arrived. Writes `{"spans":N,"p50_ms":..,"p99_ms":..}` to the stats file
//! every 500 ms. Used by bench/otlp-relay/run.sh; not part of the relay.
//!
//! usage: bench_sink LISTEN_ADDR STATS_FILE

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tonic::{Request, Response, Status};

// Arrival delay histogram in 100 µs buckets up to 60 s.
const BUCKET_NANOS: u64 = 100_000;
const BUCKETS: usize = 600_000;

struct Sink {
    spans: AtomicU64,
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
}

#[derive(Clone)]
struct Svc(Arc<Sink>);

#[tonic::async_trait]
impl TraceService for Svc {
    async fn export(
        &self,
        req: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos() as u64;
        let mut n = 0;
        for rs in &req.get_ref().resource_spans {
            for ss in &rs.scope_spans {
                for s in &ss.spans {
                    n += 1;
                    let delay = now.saturating_sub(s.end_time_unix_nano);
                    let i = ((delay / BUCKET_NANOS) as usize).min(BUCKETS - 1);
                    self.0.hist[i].fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        self.0.spans.fetch_add(n, Ordering::Relaxed);
        Ok(Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: bench_sink LISTEN_ADDR STATS_FILE");
        std::process::exit(2);
    }
    let addr = args[1].parse().expect("LISTEN_ADDR is host:port");
    let stats = args[2].clone();
    let sink = Arc::new(Sink {
        spans: AtomicU64::new(0),
        hist: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
    });
    let s = sink.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let line = format!(
                "{{\"spans\":{},\"p50_ms\":{:.1},\"p99_ms\":{:.1}}}\n",
                s.spans.load(Ordering::Relaxed),
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
        .add_service(
            TraceServiceServer::new(Svc(sink))
                .accept_compressed(tonic::codec::CompressionEncoding::Gzip)
                .max_decoding_message_size(64 * 1024 * 1024),
        )
        .serve(addr)
        .await
        .expect("sink serves");
}
