//! The real binary: refuses a bad config naming the key, answers its own `health` subcommand,
//! and on SIGTERM stops accepting, drains, exits 0, and logs what it could not deliver.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;

const BIN: &str = env!("CARGO_BIN_EXE_otlp-client");

fn write_config(
    dir: &std::path::Path,
    upstream: &str,
    ports: (u16, u16, u16),
    extra: &str,
) -> std::path::PathBuf {
    let p = dir.join("config.toml");
    std::fs::write(
        &p,
        format!(
            "[server]\nhealth_addr = \"127.0.0.1:{}\"\ngrpc_addr = \"127.0.0.1:{}\"\nhttp_addr = \"127.0.0.1:{}\"\nshutdown_timeout = \"2s\"\n\
             [otlp]\nendpoint = \"{upstream}\"\nbatch_size = 10\ntimeout = \"50ms\"\n{extra}",
            ports.0, ports.1, ports.2
        ),
    )
    .unwrap();
    p
}

#[test]
fn a_bad_config_is_refused_at_start_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.toml");
    std::fs::write(
        &p,
        "[otlp]\nendpoint = \"http://x:4317\"\nbatch_size = -1\n",
    )
    .unwrap();
    let out = Command::new(BIN).arg("--config").arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("otlp.batch_size"), "{err}");

    let out = Command::new(BIN)
        .env("OTLP_CONFIG_PATH", &p)
        .env("OTLP_CLIENT_OTLP_BATCH_SIZE", "20")
        .arg("check-config")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "env overrides the bad file value: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_logs_the_undeliverable_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let ports = (free_port(), free_port(), free_port());
    let dead = format!("http://127.0.0.1:{}", free_port());
    let cfg = write_config(dir.path(), &dead, ports, "");
    let log = dir.path().join("relay.log");
    let mut relay = Proc::spawn(
        "otlp-client",
        Command::new(BIN)
            .arg("--config")
            .arg(&cfg)
            .env("RUST_LOG", "info")
            .env("OTLP_CLIENT_MONITORING_LOG_FORMAT", "json"),
        &log,
    );
    wait_for_port(([127, 0, 0, 1], ports.1).into(), Duration::from_secs(10));

    let health = Command::new(BIN)
        .args(["health", "--addr", &format!("127.0.0.1:{}", ports.0)])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(health.success(), "health subcommand sees /health 200");
    let health = Command::new(BIN)
        .arg("health")
        .arg("--config")
        .arg(&cfg)
        .status()
        .unwrap();
    assert!(
        health.success(),
        "health subcommand finds the address in the config"
    );

    let mut client = TraceServiceClient::connect(format!("http://127.0.0.1:{}", ports.1))
        .await
        .unwrap();
    client.export(spans(1, 7, "svc")).await.unwrap();

    let started = Instant::now();
    relay.terminate();
    let status = relay.child.try_wait().unwrap().expect("exited");
    assert_eq!(status.code(), Some(0), "exit 0 after SIGTERM");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "gave up at the 2s deadline, took {:?}",
        started.elapsed()
    );
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(!lines.is_empty(), "JSON logs: {text}");
    assert!(
        lines.iter().any(|l| l["undelivered_traces"] == 7),
        "the final log line says 7 spans were not delivered: {text}"
    );
    let health = Command::new(BIN)
        .args(["health", "--addr", &format!("127.0.0.1:{}", ports.0)])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(!health.success(), "health fails once the relay is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_delivers_everything_queued_when_the_upstream_is_up() {
    let Some(bin) = peer_bin("OTELCOL_BIN") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let col = Otelcol::start(
        &bin,
        dir.path(),
        "s",
        ([127, 0, 0, 1], free_port()).into(),
        ([127, 0, 0, 1], free_port()).into(),
    );
    let ports = (free_port(), free_port(), free_port());
    // A long batch timeout keeps the spans queued until shutdown forces the flush.
    let cfg = write_config(dir.path(), &format!("http://{}", col.grpc), ports, "");
    let text = std::fs::read_to_string(&cfg).unwrap().replace(
        "batch_size = 10\ntimeout = \"50ms\"",
        "batch_size = 1000\ntimeout = \"1h\"",
    );
    std::fs::write(&cfg, text).unwrap();
    let mut relay = Proc::spawn(
        "otlp-client",
        Command::new(BIN).arg("--config").arg(&cfg),
        &dir.path().join("relay.log"),
    );
    wait_for_port(([127, 0, 0, 1], ports.1).into(), Duration::from_secs(10));
    let mut client = TraceServiceClient::connect(format!("http://127.0.0.1:{}", ports.1))
        .await
        .unwrap();
    for b in 0..5 {
        client.export(spans(b, 20, "svc")).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        read_exported(&[&col.out]).span_ids.is_empty(),
        "nothing sent before shutdown"
    );
    relay.terminate();
    assert_eq!(relay.child.try_wait().unwrap().unwrap().code(), Some(0));
    eventually(
        "all 100 spans flushed on shutdown",
        Duration::from_secs(10),
        || read_exported(&[&col.out]).span_ids.len() == 100,
    )
    .await;
}
