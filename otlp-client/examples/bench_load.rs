//! Benchmark load generator: sends pre-encoded OTLP/gRPC trace export requests as fast as it can
//! (or at a fixed rate) over several HTTP/2 connections with many requests in flight, so that one
//! core of the system under test can be saturated from one core. Each request is a copy of one of a
//! few templates (realistic spans: resource with service.name, a scope, six attributes of mixed
//! types, a status) with, per span, a fresh trace id and start/end times of "now" written in just
//! before sending, so the sink's arrival delay (arrival minus span end) is the pipeline's latency.
//! Used by bench/otlp-relay/run.sh; not part of the relay.
//!
//! usage: bench_load --endpoint HOST:PORT [--duration 15s] [--rate SPANS_PER_SEC (0 = unthrottled)]
//!        [--connections 4] [--in-flight 32] [--spans-per-request 1000] [--stats FILE]
//! Prints (and writes to --stats) `{"spans":N,"requests":N,"errors":N,"seconds":S}`: spans the
//! target accepted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{status, ResourceSpans, ScopeSpans, Span, Status};
use otlp_client::grpc_raw::ClientCodec;
use otlp_client::wire::{self, schema};
use prost::Message;
use rand::{Rng, SeedableRng};
use tonic::transport::{Channel, Endpoint};

const PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
const TEMPLATES: usize = 8;
const SPAN_DURATION_NANOS: u64 = 1_500_000;

struct Args {
    endpoint: String,
    duration: Duration,
    rate: u64,
    connections: usize,
    in_flight: usize,
    spans_per_request: usize,
    stats: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        endpoint: String::new(),
        duration: Duration::from_secs(15),
        rate: 0,
        connections: 4,
        in_flight: 32,
        spans_per_request: 1000,
        stats: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().ok_or(format!("{k} needs a value"));
        let num = |s: String| s.parse::<u64>().map_err(|e| format!("{s}: {e}"));
        match k.as_str() {
            "--endpoint" => a.endpoint = v()?,
            "--duration" => {
                a.duration = humantime::parse_duration(&v()?).map_err(|e| e.to_string())?
            }
            "--rate" => a.rate = num(v()?)?,
            "--connections" => a.connections = num(v()?)?.max(1) as usize,
            "--in-flight" => a.in_flight = num(v()?)?.max(1) as usize,
            "--spans-per-request" => a.spans_per_request = num(v()?)?.max(1) as usize,
            "--stats" => a.stats = Some(v()?),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.endpoint.is_empty() {
        return Err("--endpoint HOST:PORT is required".into());
    }
    Ok(a)
}

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

/// One encoded request and where its per-span times and trace ids sit in it.
struct Template {
    bytes: Bytes,
    spans: usize,
    trace_ids: Vec<usize>,
    starts: Vec<usize>,
    ends: Vec<usize>,
}

fn template(seed: u64, spans: usize) -> Template {
    use any_value::Value::{BoolValue, DoubleValue, IntValue, StringValue};
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    let routes = ["/api/orders", "/api/users/{id}", "/health", "/api/cart"];
    let spans: Vec<Span> = (0..spans)
        .map(|i| Span {
            trace_id: rng.random::<[u8; 16]>().to_vec(),
            span_id: rng.random::<[u8; 8]>().to_vec(),
            parent_span_id: if i % 4 == 0 {
                Vec::new()
            } else {
                rng.random::<[u8; 8]>().to_vec()
            },
            name: format!("GET {}", routes[i % routes.len()]),
            kind: 2,
            // Placeholders, rewritten before every send.
            start_time_unix_nano: u64::MAX,
            end_time_unix_nano: u64::MAX,
            attributes: vec![
                kv("http.request.method", StringValue("GET".into())),
                kv("http.route", StringValue(routes[i % routes.len()].into())),
                kv("http.response.status_code", IntValue(200)),
                kv("server.address", StringValue("checkout.internal".into())),
                kv("net.peer.port", IntValue(rng.random_range(1024..65535))),
                kv("sampling.ratio", DoubleValue(0.25)),
                kv("cache.hit", BoolValue(rng.random_bool(0.5))),
            ],
            status: Some(Status {
                code: status::StatusCode::Ok as i32,
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect();
    let req = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", StringValue("bench-load".into())),
                    kv("service.version", StringValue("1.4.2".into())),
                    kv("host.name", StringValue(format!("load-{seed}"))),
                ],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "bench_load".into(),
                    version: "0.1.0".into(),
                    ..Default::default()
                }),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let bytes = Bytes::from(req.encode_to_vec());
    let base = bytes.as_ptr() as usize;
    let mut t = Template {
        spans: 0,
        trace_ids: Vec::new(),
        starts: Vec::new(),
        ends: Vec::new(),
        bytes: bytes.clone(),
    };
    let n = wire::validate_with(&schema::EXPORT_TRACE_SERVICE_REQUEST, &bytes, |span| {
        let at = span.as_ptr() as usize - base;
        // prost writes fields in number order: trace_id (1) leads, start (7) and end (8) are the
        // only fixed64 fields, each 8 bytes after its one-byte key.
        assert_eq!(&span[..2], &[0x0a, 16]);
        t.trace_ids.push(at + 2);
        let start = find(span, &[0x39]).expect("start time");
        let end = find(span, &[0x41]).expect("end time");
        t.starts.push(at + start);
        t.ends.push(at + end);
    })
    .expect("the template is a valid request");
    t.spans = n as usize;
    t
}

/// The offset just after `key` followed by eight 0xff bytes (the placeholder time).
fn find(span: &[u8], key: &[u8]) -> Option<usize> {
    let mut pattern = key.to_vec();
    pattern.extend([0xff; 8]);
    span.windows(pattern.len())
        .position(|w| w == pattern.as_slice())
        .map(|p| p + key.len())
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos() as u64
}

/// A copy of `t` with fresh trace ids and times ending now.
fn stamp(t: &Template, sequence: u64) -> Bytes {
    let mut b = BytesMut::from(&t.bytes[..]);
    let end = now_nanos();
    let start = end - SPAN_DURATION_NANOS;
    for i in 0..t.spans {
        b[t.trace_ids[i]..t.trace_ids[i] + 8].copy_from_slice(&sequence.to_le_bytes());
        b[t.starts[i]..t.starts[i] + 8].copy_from_slice(&start.to_le_bytes());
        b[t.ends[i]..t.ends[i] + 8].copy_from_slice(&end.to_le_bytes());
    }
    b.freeze()
}

#[derive(Default)]
struct Counters {
    spans: AtomicU64,
    requests: AtomicU64,
    errors: AtomicU64,
}

async fn sender(
    channel: Channel,
    templates: Arc<Vec<Template>>,
    worker: usize,
    interval: Option<Duration>,
    until: Instant,
    counters: Arc<Counters>,
) {
    let mut grpc = tonic::client::Grpc::new(channel);
    let path = http::uri::PathAndQuery::from_static(PATH);
    let mut next = Instant::now();
    let mut sequence = (worker as u64) << 40;
    while Instant::now() < until {
        if let Some(every) = interval {
            tokio::time::sleep_until(next.into()).await;
            next = (next + every).max(Instant::now() - every);
        }
        let t = &templates[sequence as usize % templates.len()];
        let body = stamp(t, sequence);
        sequence += 1;
        if grpc.ready().await.is_err() {
            counters.errors.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        let result = grpc
            .unary(
                tonic::Request::new(body),
                path.clone(),
                ClientCodec::<ExportTraceServiceResponse>::default(),
            )
            .await;
        match result {
            Ok(_) => {
                counters.spans.fetch_add(t.spans as u64, Ordering::Relaxed);
                counters.requests.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {
                // Refused (backpressure) or failed: count it and ease off a little.
                counters.errors.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("bench_load: {e}");
            std::process::exit(2);
        }
    };
    let templates: Arc<Vec<Template>> = Arc::new(
        (0..TEMPLATES as u64)
            .map(|s| template(s, args.spans_per_request))
            .collect(),
    );
    let mut channels = Vec::new();
    for _ in 0..args.connections {
        let ep = Endpoint::from_shared(format!("http://{}", args.endpoint))
            .expect("endpoint")
            .tcp_nodelay(true)
            .initial_stream_window_size(Some(4 << 20))
            .initial_connection_window_size(Some(16 << 20));
        channels.push(ep.connect().await.expect("connect to the target"));
    }
    // Per worker: one request every `interval` gives `rate` spans/s in total.
    let interval = (args.rate > 0).then(|| {
        Duration::from_secs_f64(
            args.in_flight as f64 * args.spans_per_request as f64 / args.rate as f64,
        )
    });
    let counters = Arc::new(Counters::default());
    let started = Instant::now();
    let until = started + args.duration;
    let workers: Vec<_> = (0..args.in_flight)
        .map(|w| {
            tokio::spawn(sender(
                channels[w % channels.len()].clone(),
                templates.clone(),
                w,
                interval,
                until,
                counters.clone(),
            ))
        })
        .collect();
    for w in workers {
        let _ = w.await;
    }
    let line = format!(
        "{{\"spans\":{},\"requests\":{},\"errors\":{},\"seconds\":{:.3}}}",
        counters.spans.load(Ordering::Relaxed),
        counters.requests.load(Ordering::Relaxed),
        counters.errors.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    println!("{line}");
    if let Some(path) = args.stats {
        std::fs::write(path, format!("{line}\n")).expect("write stats");
    }
}
