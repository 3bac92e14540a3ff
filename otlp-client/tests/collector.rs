//! The relay between real peers: OpenTelemetry SDK exporters (opentelemetry-otlp) in front, a real
//! OpenTelemetry Collector (built from its Go modules by scripts/peers.sh) behind.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use opentelemetry::trace::{Tracer, TracerProvider};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics,
};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;

fn loopback(port: u16) -> std::net::SocketAddr {
    ([127, 0, 0, 1], port).into()
}

/// Sends spans through the real SDK exporter; runs on a blocking thread because the SDK's simple
/// processor blocks on each export.
async fn sdk_send(exporter_kind: &'static str, endpoint: String, names: Vec<String>) {
    tokio::task::spawn_blocking(move || {
        let exporter = match exporter_kind {
            "grpc" => opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint)
                .build(),
            _ => opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_protocol(Protocol::HttpBinary)
                .with_endpoint(endpoint)
                .build(),
        }
        .expect("SDK exporter builds");
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter)
            .with_resource(Resource::builder().with_service_name("relay-test").build())
            .build();
        let tracer = provider.tracer("relay-test");
        for n in names {
            tracer.in_span(n, |_| {});
        }
        provider.force_flush().expect("SDK flush succeeds");
        provider.shutdown().expect("SDK shutdown succeeds");
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_spans_over_grpc_and_http_arrive_at_the_collector() {
    let Some(bin) = peer_bin("OTELCOL_BIN") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let col = Otelcol::start(
        &bin,
        dir.path(),
        "a",
        loopback(free_port()),
        loopback(free_port()),
    );
    let relay = start_relay(relay_config(&format!("http://{}", col.grpc), "grpc", "")).await;

    let grpc_names: Vec<String> = (0..20).map(|i| format!("grpc-span-{i}")).collect();
    let http_names: Vec<String> = (0..20).map(|i| format!("http-span-{i}")).collect();
    sdk_send(
        "grpc",
        format!("http://{}", relay.grpc_addr),
        grpc_names.clone(),
    )
    .await;
    sdk_send(
        "http",
        format!("http://{}/v1/traces", relay.http_addr),
        http_names.clone(),
    )
    .await;

    let want: HashSet<String> = grpc_names.into_iter().chain(http_names).collect();
    eventually(
        "all 40 SDK spans in the Collector's file",
        Duration::from_secs(20),
        || {
            let got: HashSet<String> = read_exported(&[&col.out]).span_names.into_iter().collect();
            want.is_subset(&got)
        },
    )
    .await;
    let m = get(relay.health_addr, "/metrics").await.1;
    assert_eq!(
        metric(
            &m,
            "otlp_items_sent_total{signal=\"traces\",transport=\"grpc\"}"
        ),
        40.0
    );
    let report = relay.shutdown().await;
    assert_eq!(report.undelivered_total(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_logs_reach_an_http_upstream_while_traces_use_grpc() {
    let Some(bin) = peer_bin("OTELCOL_BIN") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let col = Otelcol::start(
        &bin,
        dir.path(),
        "b",
        loopback(free_port()),
        loopback(free_port()),
    );
    let extra = format!(
        "[otlp.metrics]\nendpoint = \"http://{h}\"\nprotocol = \"http\"\n[otlp.logs]\nendpoint = \"http://{h}\"\nprotocol = \"http\"\n",
        h = col.http
    );
    let relay = start_relay(relay_config(
        &format!("http://{}", col.grpc),
        "grpc",
        &extra,
    ))
    .await;
    let target = format!("http://{}", relay.grpc_addr);

    let points = (0..5)
        .map(|i| NumberDataPoint {
            time_unix_nano: 1_700_000_000_000_000_000 + i,
            value: Some(
                opentelemetry_proto::tonic::metrics::v1::number_data_point::Value::AsInt(i as i64),
            ),
            ..Default::default()
        })
        .collect();
    let metrics = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "relay.test.gauge".into(),
                    data: Some(metric::Data::Gauge(Gauge {
                        data_points: points,
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    MetricsServiceClient::connect(target.clone())
        .await
        .unwrap()
        .export(metrics)
        .await
        .unwrap();
    let logs = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: (0..3)
                    .map(|i| LogRecord {
                        body: Some(AnyValue {
                            value: Some(any_value::Value::StringValue(format!("log line {i}"))),
                        }),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    LogsServiceClient::connect(target.clone())
        .await
        .unwrap()
        .export(logs)
        .await
        .unwrap();
    TraceServiceClient::connect(target)
        .await
        .unwrap()
        .export(spans(1, 4, "svc"))
        .await
        .unwrap();

    eventually(
        "5 data points, 3 log records and 4 spans in the Collector's file",
        Duration::from_secs(20),
        || {
            let e = read_exported(&[&col.out]);
            e.data_points >= 5 && e.log_bodies.len() >= 3 && e.span_ids.len() >= 4
        },
    )
    .await;
    let e = read_exported(&[&col.out]);
    assert_eq!(
        (e.data_points, e.log_bodies.len(), e.span_ids.len()),
        (5, 3, 4)
    );
    let m = get(relay.health_addr, "/metrics").await.1;
    assert_eq!(
        metric(
            &m,
            "otlp_items_sent_total{signal=\"metrics\",transport=\"http\"}"
        ),
        5.0
    );
    assert_eq!(
        metric(
            &m,
            "otlp_items_sent_total{signal=\"logs\",transport=\"http\"}"
        ),
        3.0
    );
    relay.shutdown().await;
}

/// Under steady load the Collector is killed, stays down long enough for the breaker to open,
/// and comes back on the same ports. Every span the relay acknowledged must reach a Collector.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_killed_and_restarted_under_load_loses_no_acknowledged_span() {
    let Some(bin) = peer_bin("OTELCOL_BIN") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (grpc, http) = (loopback(free_port()), loopback(free_port()));
    let col = Otelcol::start_with(&bin, dir.path(), "before", grpc, http, false);
    let relay = start_relay(relay_config(
        &format!("http://{grpc}"),
        "grpc",
        "queue_size = 20000\n[resilience]\nmax_retries = 3\nretry_delay = \"20ms\"\nmax_retry_delay = \"200ms\"\ncircuit_breaker_threshold = 3\ncircuit_breaker_reset_timeout = \"300ms\"\n",
    ))
    .await;
    let target = format!("http://{}", relay.grpc_addr);

    // Steady load: 10 spans every 10 ms, recording which batches the relay acknowledged.
    let acked = Arc::new(Mutex::new(Vec::<u32>::new()));
    let refused = Arc::new(AtomicU32::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let load = tokio::spawn({
        let (acked, refused, stop) = (acked.clone(), refused.clone(), stop.clone());
        async move {
            let mut client = TraceServiceClient::connect(target).await.unwrap();
            let mut b = 0u32;
            while !stop.load(Ordering::Relaxed) {
                match client.export(spans(b, 10, "svc")).await {
                    Ok(_) => acked.lock().unwrap().push(b),
                    Err(_) => {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                }
                b += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    });

    tokio::time::sleep(Duration::from_secs(1)).await;
    let first_out = col.out.clone();
    // SIGTERM, so the Collector flushes what it acknowledged (its batch processor acknowledges
    // before writing; a SIGKILL would lose that on the Collector's side, not the relay's).
    let mut col = col;
    col.proc.terminate();
    let down_at = Instant::now();
    let mut saw_open = false;
    while down_at.elapsed() < Duration::from_secs(3) {
        let m = get(relay.health_addr, "/metrics").await.1;
        if metric(
            &m,
            "otlp_circuit_breaker_state{signal=\"traces\",transport=\"grpc\"}",
        ) == 1.0
        {
            saw_open = true;
            assert_eq!(get(relay.health_addr, "/ready").await.0, 503);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(saw_open, "the breaker opened while the Collector was down");
    let col2 = Otelcol::start_with(&bin, dir.path(), "after", grpc, http, false);
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    load.await.unwrap();

    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 100,
        "the load ran: {} batches acknowledged",
        acked.len()
    );
    assert_eq!(
        refused.load(Ordering::Relaxed),
        0,
        "the queue had room, so nothing was refused"
    );
    let want: HashSet<String> = acked
        .iter()
        .flat_map(|b| (0..10).map(move |i| span_id_hex(*b, i)))
        .collect();
    let m = get(relay.health_addr, "/metrics").await.1;
    for reason in ["rejected", "retries_exhausted"] {
        let series = format!(
            "otlp_items_dropped_total{{signal=\"traces\",transport=\"grpc\",reason=\"{reason}\"}}"
        );
        assert_eq!(
            metric(&m, &series),
            0.0,
            "the relay dropped spans ({reason})"
        );
    }
    let arrived = || read_exported(&[&first_out, &col2.out]).span_ids;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !want.is_subset(&arrived()) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let got = arrived();
    let mut missing: Vec<&String> = want.difference(&got).collect();
    missing.sort();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged spans never arrived, e.g. {:?}",
        missing.len(),
        want.len(),
        &missing[..missing.len().min(5)]
    );
    eventually("the breaker closed again", Duration::from_secs(5), || {
        relay
            .metrics
            .breaker_state(otlp_client::signal::Signal::Traces)
            == 0
    })
    .await;
    assert_eq!(get(relay.health_addr, "/ready").await.0, 200);
    let m = get(relay.health_addr, "/metrics").await.1;
    assert!(
        metric(
            &m,
            "otlp_export_retries_total{signal=\"traces\",transport=\"grpc\"}"
        ) > 0.0
    );
    assert_eq!(metric(&m, "otlp_items_dropped_total{signal=\"traces\",transport=\"grpc\",reason=\"retries_exhausted\"}"), 0.0);
    let report = relay.shutdown().await;
    assert_eq!(report.undelivered_total(), 0);
}
