//! `config.toml` parsing, environment overrides and validation. Parse once, at the door: the rest of
//! the relay only sees a validated [`Config`], and a bad value is refused naming its key.

use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::signal::Signal;

/// Environment variables starting with this prefix override config keys:
/// `OTLP_CLIENT_<SECTION>_<KEY>`, e.g. `OTLP_CLIENT_OTLP_ENDPOINT` or `OTLP_CLIENT_TRACES_ENABLED`.
pub const ENV_PREFIX: &str = "OTLP_CLIENT_";

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("config file {path} is not valid: {reason}")]
    Parse { path: String, reason: String },
    #[error("config key `{key}`: {reason}")]
    Invalid { key: String, reason: String },
    #[error("environment variable {var}: {reason}")]
    Env { var: String, reason: String },
}

fn invalid(key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_string(),
        reason: reason.into(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Grpc,
    Http,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::Http => "http",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where one signal goes, or `None` when it is switched off.
#[derive(Clone, Debug, PartialEq)]
pub struct Upstream {
    pub endpoint: String,
    pub protocol: Protocol,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub health_addr: SocketAddr,
    pub grpc_addr: SocketAddr,
    pub http_addr: SocketAddr,
    /// Largest accepted request body, after decompression.
    pub max_request_bytes: usize,
    pub shutdown_timeout: Duration,
    /// Indexed by [`Signal::index`].
    pub upstreams: [Option<Upstream>; 3],
    pub batch_size: usize,
    pub batch_timeout: Duration,
    pub export_timeout: Duration,
    /// Items (spans, data points, log records) each signal's queue holds before refusing senders.
    pub queue_capacity: usize,
    /// Batches of one signal being sent (or retried) upstream at the same time.
    pub max_concurrent_exports: usize,
    pub max_retries: u32,
    pub retry_delay: Duration,
    pub max_retry_delay: Duration,
    pub circuit_breaker_threshold: u32,
    pub circuit_breaker_reset_timeout: Duration,
    pub metrics_enabled: bool,
    pub health_check_interval: Duration,
    pub log_format: LogFormat,
}

impl Config {
    pub fn upstream(&self, signal: Signal) -> Option<&Upstream> {
        self.upstreams[signal.index()].as_ref()
    }
}

// The file as written: every key optional, unknown keys refused so a typo is not silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    otlp: RawOtlp,
    #[serde(default)]
    resilience: RawResilience,
    #[serde(default)]
    monitoring: RawMonitoring,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    health_addr: Option<String>,
    grpc_addr: Option<String>,
    http_addr: Option<String>,
    max_request_bytes: Option<i64>,
    shutdown_timeout: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOtlp {
    endpoint: Option<String>,
    protocol: Option<String>,
    batch_size: Option<i64>,
    timeout: Option<String>,
    export_timeout: Option<String>,
    queue_size: Option<i64>,
    max_concurrent_exports: Option<i64>,
    traces: Option<RawSignal>,
    metrics: Option<RawSignal>,
    logs: Option<RawSignal>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSignal {
    enabled: Option<bool>,
    endpoint: Option<String>,
    protocol: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResilience {
    max_retries: Option<i64>,
    retry_delay: Option<String>,
    max_retry_delay: Option<String>,
    circuit_breaker_threshold: Option<i64>,
    circuit_breaker_reset_timeout: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMonitoring {
    metrics_enabled: Option<bool>,
    health_check_interval: Option<String>,
    log_format: Option<String>,
}

/// Loads the config from `path` (or defaults when `None`), then applies `env` overrides.
pub fn load(path: Option<&Path>, env: &BTreeMap<String, String>) -> Result<Config, ConfigError> {
    let text = match path {
        Some(p) => std::fs::read_to_string(p).map_err(|e| ConfigError::Read {
            path: p.display().to_string(),
            reason: e.to_string(),
        })?,
        None => String::new(),
    };
    let name = path.map(|p| p.display().to_string()).unwrap_or_default();
    parse(&text, &name, env)
}

/// Parses config text (named `source` in errors) and applies environment overrides.
pub fn parse(
    text: &str,
    source: &str,
    env: &BTreeMap<String, String>,
) -> Result<Config, ConfigError> {
    let mut raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: source.to_string(),
        reason: e.to_string().trim_end().to_string(),
    })?;
    apply_env(&mut raw, env)?;
    validate(raw)
}

fn env_int(var: &str, value: &str) -> Result<i64, ConfigError> {
    value.trim().parse().map_err(|_| ConfigError::Env {
        var: var.to_string(),
        reason: format!("{value:?} is not an integer"),
    })
}

fn env_bool(var: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::Env {
            var: var.to_string(),
            reason: format!("{value:?} is not a boolean (use true or false)"),
        }),
    }
}

fn apply_env(raw: &mut RawConfig, env: &BTreeMap<String, String>) -> Result<(), ConfigError> {
    for (var, value) in env {
        let Some(key) = var.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        // Kubernetes injects OTLP_CLIENT_SERVICE_HOST, OTLP_CLIENT_PORT_8080_TCP, ... for a
        // Service named otlp-client; those are not settings.
        if key.starts_with("SERVICE_") || key == "PORT" || key.starts_with("PORT_") {
            continue;
        }
        let s = || Some(value.clone());
        match key {
            "SERVER_HEALTH_ADDR" => raw.server.health_addr = s(),
            "SERVER_GRPC_ADDR" => raw.server.grpc_addr = s(),
            "SERVER_HTTP_ADDR" => raw.server.http_addr = s(),
            "SERVER_MAX_REQUEST_BYTES" => raw.server.max_request_bytes = Some(env_int(var, value)?),
            "SERVER_SHUTDOWN_TIMEOUT" => raw.server.shutdown_timeout = s(),
            "OTLP_ENDPOINT" => raw.otlp.endpoint = s(),
            "OTLP_PROTOCOL" => raw.otlp.protocol = s(),
            "OTLP_BATCH_SIZE" => raw.otlp.batch_size = Some(env_int(var, value)?),
            "OTLP_TIMEOUT" => raw.otlp.timeout = s(),
            "OTLP_EXPORT_TIMEOUT" => raw.otlp.export_timeout = s(),
            "OTLP_QUEUE_SIZE" => raw.otlp.queue_size = Some(env_int(var, value)?),
            "OTLP_MAX_CONCURRENT_EXPORTS" => {
                raw.otlp.max_concurrent_exports = Some(env_int(var, value)?)
            }
            "RESILIENCE_MAX_RETRIES" => raw.resilience.max_retries = Some(env_int(var, value)?),
            "RESILIENCE_RETRY_DELAY" => raw.resilience.retry_delay = s(),
            "RESILIENCE_MAX_RETRY_DELAY" => raw.resilience.max_retry_delay = s(),
            "RESILIENCE_CIRCUIT_BREAKER_THRESHOLD" => {
                raw.resilience.circuit_breaker_threshold = Some(env_int(var, value)?)
            }
            "RESILIENCE_CIRCUIT_BREAKER_RESET_TIMEOUT" => {
                raw.resilience.circuit_breaker_reset_timeout = s()
            }
            "MONITORING_METRICS_ENABLED" => {
                raw.monitoring.metrics_enabled = Some(env_bool(var, value)?)
            }
            "MONITORING_HEALTH_CHECK_INTERVAL" => raw.monitoring.health_check_interval = s(),
            "MONITORING_LOG_FORMAT" => raw.monitoring.log_format = s(),
            _ => {
                let (sig, field) = key.split_once('_').unwrap_or((key, ""));
                let slot = match sig {
                    "TRACES" => &mut raw.otlp.traces,
                    "METRICS" => &mut raw.otlp.metrics,
                    "LOGS" => &mut raw.otlp.logs,
                    _ => return Err(unknown_env(var)),
                };
                let sig_cfg = slot.get_or_insert_with(RawSignal::default);
                match field {
                    "ENABLED" => sig_cfg.enabled = Some(env_bool(var, value)?),
                    "ENDPOINT" => sig_cfg.endpoint = s(),
                    "PROTOCOL" => sig_cfg.protocol = s(),
                    _ => return Err(unknown_env(var)),
                }
            }
        }
    }
    Ok(())
}

fn unknown_env(var: &str) -> ConfigError {
    ConfigError::Env {
        var: var.to_string(),
        reason: format!(
            "unknown setting; {ENV_PREFIX}<SECTION>_<KEY> must name a config key (see README)"
        ),
    }
}

fn duration(key: &str, value: Option<String>, default: &str) -> Result<Duration, ConfigError> {
    let text = value.unwrap_or_else(|| default.to_string());
    humantime::parse_duration(text.trim()).map_err(|_| {
        invalid(
            key,
            format!("{text:?} is not a duration; use e.g. 500ms, 5s or 1m"),
        )
    })
}

fn positive_duration(
    key: &str,
    value: Option<String>,
    default: &str,
) -> Result<Duration, ConfigError> {
    let d = duration(key, value, default)?;
    if d.is_zero() {
        return Err(invalid(key, "must be greater than zero"));
    }
    Ok(d)
}

fn int_in(
    key: &str,
    value: Option<i64>,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, ConfigError> {
    let v = value.unwrap_or(default);
    if v < min || v > max {
        return Err(invalid(
            key,
            format!("{v} is out of range; allowed {min}..={max}"),
        ));
    }
    Ok(v)
}

/// Accepts `host:port`, `:port` (all interfaces) and `[v6]:port`.
pub fn parse_addr(
    key: &str,
    value: Option<String>,
    default: &str,
) -> Result<SocketAddr, ConfigError> {
    let text = value.unwrap_or_else(|| default.to_string());
    let full = if text.starts_with(':') {
        format!("0.0.0.0{text}")
    } else {
        text.clone()
    };
    if let Ok(a) = full.parse::<SocketAddr>() {
        return Ok(a);
    }
    full.to_socket_addrs()
        .ok()
        .and_then(|mut it| it.next())
        .ok_or_else(|| {
            invalid(
                key,
                format!("{text:?} is not a listen address; use host:port or :port"),
            )
        })
}

fn protocol(key: &str, value: Option<String>, default: Protocol) -> Result<Protocol, ConfigError> {
    match value.as_deref().map(str::trim) {
        None => Ok(default),
        Some("grpc") => Ok(Protocol::Grpc),
        Some("http") | Some("http/protobuf") => Ok(Protocol::Http),
        Some(other) => Err(invalid(
            key,
            format!("{other:?} is not a protocol; use \"grpc\" or \"http\" (OTLP/HTTP protobuf)"),
        )),
    }
}

fn endpoint(key: &str, value: &str) -> Result<String, ConfigError> {
    let v = value.trim().trim_end_matches('/');
    let uri: hyper::Uri = v
        .parse()
        .map_err(|e| invalid(key, format!("{value:?} is not a URL: {e}")))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(invalid(
                key,
                format!("{value:?}: https upstreams are not supported by this build; terminate TLS in a sidecar or use http"),
            ))
        }
        _ => return Err(invalid(key, format!("{value:?} must start with http://"))),
    }
    if uri.host().is_none() {
        return Err(invalid(key, format!("{value:?} has no host")));
    }
    Ok(v.to_string())
}

fn validate(raw: RawConfig) -> Result<Config, ConfigError> {
    let default_protocol = protocol("otlp.protocol", raw.otlp.protocol, Protocol::Grpc)?;
    let default_endpoint = match raw.otlp.endpoint {
        Some(e) => Some(endpoint("otlp.endpoint", &e)?),
        None => None,
    };
    let mut upstreams: [Option<Upstream>; 3] = [None, None, None];
    for (signal, sig_raw) in [
        (Signal::Traces, raw.otlp.traces),
        (Signal::Metrics, raw.otlp.metrics),
        (Signal::Logs, raw.otlp.logs),
    ] {
        let sig_raw = sig_raw.unwrap_or_default();
        if sig_raw.enabled == Some(false) {
            continue;
        }
        let name = signal.as_str();
        let proto = protocol(
            &format!("otlp.{name}.protocol"),
            sig_raw.protocol,
            default_protocol,
        )?;
        let ep = match sig_raw.endpoint {
            Some(e) => endpoint(&format!("otlp.{name}.endpoint"), &e)?,
            None => match &default_endpoint {
                Some(e) => e.clone(),
                None if sig_raw.enabled == Some(true) => {
                    return Err(invalid(
                        &format!("otlp.{name}.endpoint"),
                        "is required when the signal is enabled and otlp.endpoint is not set",
                    ))
                }
                None => continue,
            },
        };
        upstreams[signal.index()] = Some(Upstream {
            endpoint: ep,
            protocol: proto,
        });
    }
    if upstreams.iter().all(Option::is_none) {
        return Err(invalid(
            "otlp.endpoint",
            "no upstream is configured: set otlp.endpoint (or otlp.<signal>.endpoint)",
        ));
    }

    let batch_size = int_in("otlp.batch_size", raw.otlp.batch_size, 512, 1, 1_000_000)? as usize;
    let queue_capacity = int_in(
        "otlp.queue_size",
        raw.otlp.queue_size,
        65_536,
        1,
        100_000_000,
    )? as usize;
    if queue_capacity < batch_size {
        return Err(invalid(
            "otlp.queue_size",
            format!("{queue_capacity} is smaller than otlp.batch_size ({batch_size}); a full batch could never be queued"),
        ));
    }
    let retry_delay = positive_duration(
        "resilience.retry_delay",
        raw.resilience.retry_delay,
        "100ms",
    )?;
    let max_retry_delay = positive_duration(
        "resilience.max_retry_delay",
        raw.resilience.max_retry_delay,
        "30s",
    )?;
    if max_retry_delay < retry_delay {
        return Err(invalid(
            "resilience.max_retry_delay",
            "must not be smaller than resilience.retry_delay",
        ));
    }
    let log_format = match raw.monitoring.log_format.as_deref().map(str::trim) {
        None | Some("text") => LogFormat::Text,
        Some("json") => LogFormat::Json,
        Some(other) => {
            return Err(invalid(
                "monitoring.log_format",
                format!("{other:?} is not a log format; use \"text\" or \"json\""),
            ))
        }
    };

    Ok(Config {
        health_addr: parse_addr("server.health_addr", raw.server.health_addr, "0.0.0.0:8080")?,
        grpc_addr: parse_addr("server.grpc_addr", raw.server.grpc_addr, "0.0.0.0:4317")?,
        http_addr: parse_addr("server.http_addr", raw.server.http_addr, "0.0.0.0:4318")?,
        max_request_bytes: int_in(
            "server.max_request_bytes",
            raw.server.max_request_bytes,
            4 * 1024 * 1024,
            1024,
            256 * 1024 * 1024,
        )? as usize,
        shutdown_timeout: positive_duration(
            "server.shutdown_timeout",
            raw.server.shutdown_timeout,
            "10s",
        )?,
        upstreams,
        batch_size,
        batch_timeout: positive_duration("otlp.timeout", raw.otlp.timeout, "200ms")?,
        export_timeout: positive_duration("otlp.export_timeout", raw.otlp.export_timeout, "10s")?,
        queue_capacity,
        max_concurrent_exports: int_in(
            "otlp.max_concurrent_exports",
            raw.otlp.max_concurrent_exports,
            4,
            1,
            64,
        )? as usize,
        max_retries: int_in(
            "resilience.max_retries",
            raw.resilience.max_retries,
            5,
            0,
            1000,
        )? as u32,
        retry_delay,
        max_retry_delay,
        circuit_breaker_threshold: int_in(
            "resilience.circuit_breaker_threshold",
            raw.resilience.circuit_breaker_threshold,
            5,
            1,
            1_000_000,
        )? as u32,
        circuit_breaker_reset_timeout: positive_duration(
            "resilience.circuit_breaker_reset_timeout",
            raw.resilience.circuit_breaker_reset_timeout,
            "5s",
        )?,
        metrics_enabled: raw.monitoring.metrics_enabled.unwrap_or(true),
        health_check_interval: positive_duration(
            "monitoring.health_check_interval",
            raw.monitoring.health_check_interval,
            "10s",
        )?,
        log_format,
    })
}

/// Start-up warnings about settings that are valid but probably not what the operator wants.
pub fn warnings(cfg: &Config) -> Vec<String> {
    let mut out = Vec::new();
    for signal in Signal::ALL {
        if let Some(up) = cfg.upstream(signal) {
            if up.endpoint.ends_with(":14268") || up.endpoint.ends_with(":14250") {
                out.push(format!(
                    "{signal} upstream {} is a Jaeger legacy (Thrift/model.proto) port, not OTLP; Jaeger takes OTLP on 4317 (grpc) and 4318 (http)",
                    up.endpoint
                ));
            }
        }
    }
    if cfg.max_retries + 1 < cfg.circuit_breaker_threshold {
        out.push(format!(
            "resilience.max_retries ({}) + 1 < circuit_breaker_threshold ({}): when the upstream goes down, a batch can use up its retries and be dropped before the breaker opens and starts holding data",
            cfg.max_retries, cfg.circuit_breaker_threshold
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const PLAN: &str = r#"
[otlp]
endpoint = "http://jaeger-collector:4317"
protocol = "grpc"
batch_size = 100
timeout = "5s"

[resilience]
max_retries = 3
retry_delay = "100ms"
circuit_breaker_threshold = 5

[monitoring]
metrics_enabled = true
health_check_interval = "30s"
"#;

    #[test]
    fn the_deploy_plan_config_parses_with_defaults_for_the_rest() {
        let c = parse(PLAN, "plan.toml", &env(&[])).unwrap();
        assert_eq!(c.batch_size, 100);
        assert_eq!(c.batch_timeout, Duration::from_secs(5));
        assert_eq!(c.max_retries, 3);
        assert_eq!(c.retry_delay, Duration::from_millis(100));
        assert_eq!(c.circuit_breaker_threshold, 5);
        assert_eq!(c.health_check_interval, Duration::from_secs(30));
        assert_eq!(c.health_addr, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(c.grpc_addr, "0.0.0.0:4317".parse().unwrap());
        assert_eq!(c.http_addr, "0.0.0.0:4318".parse().unwrap());
        for s in Signal::ALL {
            let up = c.upstream(s).unwrap();
            assert_eq!(up.endpoint, "http://jaeger-collector:4317");
            assert_eq!(up.protocol, Protocol::Grpc);
        }
    }

    #[test]
    fn jaeger_for_traces_and_metrics_logs_elsewhere_or_off() {
        let text = r#"
[otlp]
endpoint = "http://jaeger:4317"
[otlp.metrics]
enabled = false
[otlp.logs]
endpoint = "http://collector:4318/"
protocol = "http"
"#;
        let c = parse(text, "t", &env(&[])).unwrap();
        assert_eq!(
            c.upstream(Signal::Traces).unwrap().endpoint,
            "http://jaeger:4317"
        );
        assert!(c.upstream(Signal::Metrics).is_none());
        let logs = c.upstream(Signal::Logs).unwrap();
        assert_eq!(logs.endpoint, "http://collector:4318");
        assert_eq!(logs.protocol, Protocol::Http);
    }

    #[test]
    fn environment_overrides_file_values() {
        let c = parse(
            PLAN,
            "t",
            &env(&[
                ("OTLP_CLIENT_OTLP_BATCH_SIZE", "7"),
                ("OTLP_CLIENT_SERVER_GRPC_ADDR", ":14317"),
                ("OTLP_CLIENT_METRICS_ENABLED", "false"),
                ("OTLP_CLIENT_MONITORING_LOG_FORMAT", "json"),
                ("UNRELATED", "x"),
                ("OTLP_CLIENT_SERVICE_HOST", "10.0.0.1"),
                ("OTLP_CLIENT_PORT", "tcp://10.0.0.1:8080"),
                ("OTLP_CLIENT_PORT_4317_TCP_ADDR", "10.0.0.1"),
            ]),
        )
        .unwrap();
        assert_eq!(c.batch_size, 7);
        assert_eq!(c.grpc_addr, "0.0.0.0:14317".parse().unwrap());
        assert!(c.upstream(Signal::Metrics).is_none());
        assert_eq!(c.log_format, LogFormat::Json);
    }

    #[test]
    fn bad_values_are_refused_naming_the_key() {
        let cases: &[(&str, &str)] = &[
            (
                "[otlp]\nendpoint=\"http://x:4317\"\ntimeout=\"soon\"",
                "otlp.timeout",
            ),
            (
                "[otlp]\nendpoint=\"http://x:4317\"\nbatch_size=0",
                "otlp.batch_size",
            ),
            (
                "[otlp]\nendpoint=\"http://x:4317\"\nprotocol=\"thrift\"",
                "otlp.protocol",
            ),
            ("[otlp]\nendpoint=\"ftp://x\"", "otlp.endpoint"),
            ("[otlp]\nendpoint=\"https://x:4317\"", "otlp.endpoint"),
            (
                "[otlp]\nendpoint=\"http://x:4317\"\nqueue_size=10\nbatch_size=100",
                "otlp.queue_size",
            ),
            (
                "[otlp]\nendpoint=\"http://x:4317\"\n[server]\ngrpc_addr=\"nope\"",
                "server.grpc_addr",
            ),
            (
                "[otlp]\nendpoint=\"http://x:4317\"\n[resilience]\nretry_delay=\"0s\"",
                "resilience.retry_delay",
            ),
            (
                "[otlp]\nendpoint=\"http://x:4317\"\n[monitoring]\nlog_format=\"xml\"",
                "monitoring.log_format",
            ),
            ("", "otlp.endpoint"),
        ];
        for (text, key) in cases {
            match parse(text, "t", &env(&[])) {
                Err(ConfigError::Invalid { key: k, .. }) => assert_eq!(&k, key, "for {text:?}"),
                other => panic!("expected invalid {key} for {text:?}, got {other:?}"),
            }
        }
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_parse_errors_naming_the_key() {
        let e = parse("[otlp]\nendpont=\"http://x\"", "c.toml", &env(&[])).unwrap_err();
        assert!(e.to_string().contains("endpont"), "{e}");
        let e = parse("[otlp]\nbatch_size=\"big\"", "c.toml", &env(&[])).unwrap_err();
        assert!(e.to_string().contains("batch_size"), "{e}");
    }

    #[test]
    fn bad_environment_overrides_name_the_variable() {
        let e = parse(PLAN, "t", &env(&[("OTLP_CLIENT_OTLP_BATCH_SIZE", "many")])).unwrap_err();
        assert_eq!(
            e,
            ConfigError::Env {
                var: "OTLP_CLIENT_OTLP_BATCH_SIZE".into(),
                reason: "\"many\" is not an integer".into()
            }
        );
        let e = parse(PLAN, "t", &env(&[("OTLP_CLIENT_OTLP_ENDPIONT", "x")])).unwrap_err();
        assert!(
            matches!(e, ConfigError::Env { ref var, .. } if var == "OTLP_CLIENT_OTLP_ENDPIONT")
        );
    }

    #[test]
    fn warns_about_jaeger_thrift_port_and_retries_shorter_than_the_breaker() {
        let text = "[otlp]\nendpoint=\"http://jaeger-collector:14268\"\n[resilience]\nmax_retries=1\ncircuit_breaker_threshold=5";
        let w = warnings(&parse(text, "t", &env(&[])).unwrap());
        assert_eq!(w.len(), 4, "{w:?}");
    }
}
