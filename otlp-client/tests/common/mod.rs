//! Helpers shared by the integration tests: ports, peer processes, relay start-up, polling.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashSet};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use otlp_client::app::Relay;
use otlp_client::config;

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The path of a peer binary from its env var (set by scripts/peers.sh). Without it the test is
/// skipped, loudly, unless OTLP_RELAY_TESTS_REQUIRE_PEERS=1 (scripts/test.sh sets it) makes it fail.
pub fn peer_bin(var: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(p) if Path::new(&p).is_file() => Some(PathBuf::from(p)),
        _ => {
            if std::env::var("OTLP_RELAY_TESTS_REQUIRE_PEERS").as_deref() == Ok("1") {
                panic!("{var} is not set to a binary; run eval \"$(otlp-client/scripts/peers.sh)\" first");
            }
            eprintln!("SKIPPED: {var} is not set; run otlp-client/scripts/test.sh to build the real peers");
            None
        }
    }
}

/// A child process killed when dropped.
pub struct Proc {
    pub child: Child,
    pub name: String,
}

impl Proc {
    pub fn spawn(name: &str, cmd: &mut Command, log: &Path) -> Proc {
        let out = std::fs::File::create(log).unwrap();
        let child = cmd
            .stdout(Stdio::from(out.try_clone().unwrap()))
            .stderr(Stdio::from(out))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Proc {
            child,
            name: name.to_string(),
        }
    }

    /// SIGTERM, then wait for the process to exit.
    pub fn terminate(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn wait_for_port(addr: SocketAddr, within: Duration) {
    let until = Instant::now() + within;
    while std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(
            Instant::now() < until,
            "nothing listens on {addr} after {within:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub async fn eventually<F: FnMut() -> bool>(what: &str, within: Duration, mut f: F) {
    let until = Instant::now() + within;
    while !f() {
        assert!(
            Instant::now() < until,
            "timed out after {within:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A minimal Collector: OTLP receiver -> batch -> file exporter (JSON lines) for all signals.
pub struct Otelcol {
    pub proc: Proc,
    pub grpc: SocketAddr,
    pub http: SocketAddr,
    pub out: PathBuf,
}

impl Otelcol {
    pub fn start(bin: &Path, dir: &Path, tag: &str, grpc: SocketAddr, http: SocketAddr) -> Otelcol {
        Self::start_with(bin, dir, tag, grpc, http, true)
    }

    /// `batch = false` leaves the batch processor out, so the Collector acknowledges only what its
    /// exporter has written. With it, a batch acknowledged during the Collector's own shutdown was
    /// seen to vanish (2 runs in 6), which is the Collector's loss, not the relay's.
    pub fn start_with(
        bin: &Path,
        dir: &Path,
        tag: &str,
        grpc: SocketAddr,
        http: SocketAddr,
        batch: bool,
    ) -> Otelcol {
        let processors = if batch { "[batch]" } else { "[]" };
        let out = dir.join(format!("otelcol-{tag}.jsonl"));
        let cfg = dir.join(format!("otelcol-{tag}.yaml"));
        std::fs::write(
            &cfg,
            format!(
                r#"receivers:
  otlp:
    protocols:
      grpc:
        endpoint: {grpc}
      http:
        endpoint: {http}
processors:
  batch:
    timeout: 50ms
exporters:
  file:
    path: {out}
    flush_interval: 50ms
service:
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
  pipelines:
    traces:
      receivers: [otlp]
      processors: {processors}
      exporters: [file]
    metrics:
      receivers: [otlp]
      processors: {processors}
      exporters: [file]
    logs:
      receivers: [otlp]
      processors: {processors}
      exporters: [file]
"#,
                out = out.display()
            ),
        )
        .unwrap();
        let proc = Proc::spawn(
            "otelcol",
            Command::new(bin).arg("--config").arg(&cfg),
            &dir.join(format!("otelcol-{tag}.log")),
        );
        let log = dir.join(format!("otelcol-{tag}.log"));
        for addr in [grpc, http] {
            let until = Instant::now() + Duration::from_secs(20);
            while std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
                if Instant::now() > until {
                    panic!(
                        "the Collector does not listen on {addr}; its log:\n{}",
                        std::fs::read_to_string(&log).unwrap_or_default()
                    );
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Otelcol {
            proc,
            grpc,
            http,
            out,
        }
    }
}

/// What a Collector file export holds: span ids (hex), span names, data points and log bodies.
#[derive(Default, Debug)]
pub struct Exported {
    pub span_ids: HashSet<String>,
    pub span_names: Vec<String>,
    pub data_points: usize,
    pub log_bodies: Vec<String>,
}

pub fn read_exported(paths: &[&Path]) -> Exported {
    let mut e = Exported::default();
    for p in paths {
        let Ok(text) = std::fs::read_to_string(p) else {
            continue;
        };
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            for rs in v["resourceSpans"].as_array().into_iter().flatten() {
                for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                    for s in ss["spans"].as_array().into_iter().flatten() {
                        e.span_ids
                            .insert(s["spanId"].as_str().unwrap_or_default().to_string());
                        e.span_names
                            .push(s["name"].as_str().unwrap_or_default().to_string());
                    }
                }
            }
            for rm in v["resourceMetrics"].as_array().into_iter().flatten() {
                for sm in rm["scopeMetrics"].as_array().into_iter().flatten() {
                    for m in sm["metrics"].as_array().into_iter().flatten() {
                        for kind in [
                            "gauge",
                            "sum",
                            "histogram",
                            "exponentialHistogram",
                            "summary",
                        ] {
                            e.data_points +=
                                m[kind]["dataPoints"].as_array().map_or(0, |a| a.len());
                        }
                    }
                }
            }
            for rl in v["resourceLogs"].as_array().into_iter().flatten() {
                for sl in rl["scopeLogs"].as_array().into_iter().flatten() {
                    for r in sl["logRecords"].as_array().into_iter().flatten() {
                        e.log_bodies.push(
                            r["body"]["stringValue"]
                                .as_str()
                                .unwrap_or_default()
                                .to_string(),
                        );
                    }
                }
            }
        }
    }
    e
}

/// A relay config on loopback with free ports, upstream `endpoint`, plus extra TOML lines.
pub fn relay_config(endpoint: &str, protocol: &str, extra: &str) -> config::Config {
    let text = format!(
        "[server]\nhealth_addr = \"127.0.0.1:0\"\ngrpc_addr = \"127.0.0.1:0\"\nhttp_addr = \"127.0.0.1:0\"\nshutdown_timeout = \"5s\"\n\
[otlp]\nendpoint = \"{endpoint}\"\nprotocol = \"{protocol}\"\nbatch_size = 50\ntimeout = \"50ms\"\nexport_timeout = \"2s\"\n{extra}"
    );
    // Tables in `extra` must come after [otlp]'s own keys; build the rest from the text as given.
    config::parse(&text, "test", &BTreeMap::new())
        .unwrap_or_else(|e| panic!("test config: {e}\n{text}"))
}

pub async fn start_relay(cfg: config::Config) -> Relay {
    Relay::start(cfg).await.expect("relay starts")
}

/// A trace request of `n` spans whose span ids encode (`batch`, index) so arrival can be checked.
pub fn spans(batch: u32, n: u32, service: &str) -> ExportTraceServiceRequest {
    // Recent timestamps: Jaeger's query API only searches a recent window.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let spans = (0..n)
        .map(|i| {
            let mut span_id = [0u8; 8];
            span_id[..4].copy_from_slice(&batch.to_be_bytes());
            span_id[4..].copy_from_slice(&(i + 1).to_be_bytes());
            let mut trace_id = [7u8; 16];
            trace_id[..4].copy_from_slice(&batch.to_be_bytes());
            Span {
                trace_id: trace_id.to_vec(),
                span_id: span_id.to_vec(),
                name: format!("op-{batch}-{i}"),
                kind: 2,
                start_time_unix_nano: now - 1_000_000,
                end_time_unix_nano: now,
                ..Default::default()
            }
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: "service.name".into(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::StringValue(service.into())),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

pub fn span_id_hex(batch: u32, i: u32) -> String {
    let mut s = String::new();
    for b in batch
        .to_be_bytes()
        .iter()
        .chain((i + 1).to_be_bytes().iter())
    {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// GET a path on the relay's ops port with a plain HTTP/1.1 request.
pub async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let code = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (code, body)
}

pub fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|r| r.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no series {series} in metrics"))
        .parse()
        .unwrap()
}
