use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use otlp_client::app::Relay;
use otlp_client::config::{self, Config, LogFormat};
use otlp_client::ops::local_target;

const USAGE: &str = "\
usage: otlp-client [run] [--config PATH]
       otlp-client health [--ready] [--addr HOST:PORT] [--config PATH]
       otlp-client check-config [--config PATH]

The config path defaults to $OTLP_CONFIG_PATH; without either, built-in defaults and
OTLP_CLIENT_<SECTION>_<KEY> environment variables are used. RUST_LOG sets the log filter.
`health` asks the running relay's /health (or /ready) and exits 0 when it answers 200.";

struct Args {
    command: String,
    config: Option<PathBuf>,
    addr: Option<String>,
    ready: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        command: "run".into(),
        config: None,
        addr: None,
        ready: false,
    };
    let mut it = std::env::args().skip(1);
    let mut command_seen = false;
    while let Some(a) = it.next() {
        match a.as_str() {
            "--config" | "-c" => {
                args.config = Some(it.next().ok_or("--config needs a path")?.into())
            }
            "--addr" => args.addr = Some(it.next().ok_or("--addr needs HOST:PORT")?),
            "--ready" => args.ready = true,
            "-h" | "--help" => return Err(String::new()),
            "-V" | "--version" => {
                println!("otlp-client {}", env!("CARGO_PKG_VERSION"));
                std::process::exit(0);
            }
            s if s.starts_with("--config=") => args.config = Some(s["--config=".len()..].into()),
            "run" | "health" | "check-config" if !command_seen => {
                args.command = a.clone();
                command_seen = true;
            }
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    if args.config.is_none() {
        args.config = std::env::var_os("OTLP_CONFIG_PATH")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
    }
    Ok(args)
}

fn load_config(args: &Args) -> Result<Config, String> {
    let env: BTreeMap<String, String> = std::env::vars()
        .filter(|(k, _)| k.starts_with(config::ENV_PREFIX))
        .collect();
    config::load(args.config.as_deref(), &env).map_err(|e| e.to_string())
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init(),
        LogFormat::Text => builder.with_target(false).init(),
    }
}

/// A tiny blocking HTTP/1.1 GET, so the image needs no curl for its HEALTHCHECK.
fn probe(addr: SocketAddr, path: &str) -> Result<(u16, String), String> {
    let timeout = Duration::from_secs(3);
    let mut s = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    s.set_read_timeout(Some(timeout)).ok();
    s.set_write_timeout(Some(timeout)).ok();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    s.take(64 * 1024)
        .read_to_end(&mut buf)
        .map_err(|e| format!("reading from {addr}: {e}"))?;
    let text = String::from_utf8_lossy(&buf);
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("{addr} did not answer HTTP"))?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.trim().to_string())
        .unwrap_or_default();
    Ok((code, body))
}

fn health(args: &Args) -> ExitCode {
    let addr = match &args.addr {
        Some(a) => config::parse_addr("--addr", Some(a.clone()), "").map_err(|e| e.to_string()),
        // The probe needs only the ops address; a config the relay would refuse must not make
        // the probe guess wrong silently, so it says which address it falls back to.
        None => Ok(load_config(args)
            .map(|c| c.health_addr)
            .unwrap_or_else(|e| {
                eprintln!("otlp-client health: {e}; probing the default 0.0.0.0:8080");
                SocketAddr::from(([0, 0, 0, 0], 8080))
            })),
    };
    let addr = match addr {
        Ok(a) => local_target(a),
        Err(e) => {
            eprintln!("otlp-client health: {e}");
            return ExitCode::from(2);
        }
    };
    let path = if args.ready { "/ready" } else { "/health" };
    match probe(addr, path) {
        Ok((200, _)) => ExitCode::SUCCESS,
        Ok((code, body)) => {
            eprintln!("otlp-client health: {path} on {addr} answered {code}: {body}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("otlp-client health: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("can install a SIGTERM handler");
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = tokio::signal::ctrl_c() => "SIGINT",
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("otlp-client: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(if e.is_empty() { 0 } else { 2 });
        }
    };
    match args.command.as_str() {
        "health" => return health(&args),
        "check-config" => {
            return match load_config(&args) {
                Ok(c) => {
                    for w in config::warnings(&c) {
                        eprintln!("warning: {w}");
                    }
                    println!("config ok");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("otlp-client: {e}");
                    ExitCode::from(2)
                }
            }
        }
        _ => {}
    }
    let cfg = match load_config(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("otlp-client: refusing to start: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(cfg.log_format);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let relay = match Relay::start(cfg).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!("refusing to start: {e}");
                return ExitCode::from(2);
            }
        };
        let sig = wait_for_signal().await;
        tracing::info!("{sig} received");
        relay.shutdown().await;
        ExitCode::SUCCESS
    })
}
