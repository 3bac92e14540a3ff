//! Jaeger (built from its Go module by scripts/peers.sh) as the upstream: traces only, so metrics
//! and logs are switched off, and arrival is checked through Jaeger's query API.

mod common;

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;

fn loopback(port: u16) -> SocketAddr {
    ([127, 0, 0, 1], port).into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_relayed_to_jaeger_are_found_through_its_query_api() {
    let Some(bin) = peer_bin("JAEGER_BIN") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (otlp, query, query_grpc) = (
        loopback(free_port()),
        loopback(free_port()),
        loopback(free_port()),
    );
    let cfg = dir.path().join("jaeger.yaml");
    std::fs::write(
        &cfg,
        format!(
            r#"service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_query:
    storage:
      traces: mem
    http:
      endpoint: {query}
    grpc:
      endpoint: {query_grpc}
  jaeger_storage:
    backends:
      mem:
        memory:
          max_traces: 10000
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: {otlp}
processors:
  batch:
    timeout: 50ms
exporters:
  jaeger_storage_exporter:
    trace_storage: mem
"#
        ),
    )
    .unwrap();
    let log = dir.path().join("jaeger.log");
    let _jaeger = Proc::spawn("jaeger", Command::new(&bin).arg("--config").arg(&cfg), &log);
    for addr in [otlp, query] {
        let until = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(
                Instant::now() < until,
                "Jaeger does not listen on {addr}; its log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    let relay = start_relay(relay_config(
        &format!("http://{otlp}"),
        "grpc",
        "[otlp.metrics]\nenabled = false\n[otlp.logs]\nenabled = false\n",
    ))
    .await;
    let service = format!("relay-jaeger-{}", std::process::id());
    let mut client = TraceServiceClient::connect(format!("http://{}", relay.grpc_addr))
        .await
        .unwrap();
    for b in 0..3 {
        client.export(spans(b, 10, &service)).await.unwrap();
    }

    let url = format!("http://{query}/api/traces?service={service}&limit=100");
    let mut found = 0;
    let until = Instant::now() + Duration::from_secs(30);
    while Instant::now() < until {
        if let Ok(r) = reqwest::get(&url).await {
            if r.status().is_success() {
                let v: serde_json::Value =
                    serde_json::from_slice(&r.bytes().await.unwrap()).unwrap_or_default();
                found = v["data"].as_array().map_or(0, |traces| {
                    traces
                        .iter()
                        .map(|t| t["spans"].as_array().map_or(0, |s| s.len()))
                        .sum()
                });
                if found >= 30 {
                    break;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        found, 30,
        "Jaeger's query API returns every relayed span of {service}"
    );

    let m = get(relay.health_addr, "/metrics").await.1;
    assert!(
        !m.contains("otlp_items_sent_total{signal=\"metrics\""),
        "metrics are off: no upstream series"
    );
    assert_eq!(
        metric(
            &m,
            "otlp_items_sent_total{signal=\"traces\",transport=\"grpc\"}"
        ),
        30.0
    );
    assert_eq!(relay.shutdown().await.undelivered_total(), 0);
}
