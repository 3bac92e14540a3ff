//! Endpoints for Kubernetes and Prometheus on `server.health_addr`.

pub mod metrics;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tracing::warn;

use crate::breaker::BreakerState;
use crate::signal::Signal;
use metrics::Metrics;

pub struct Health {
    pub metrics: Arc<Metrics>,
    pub metrics_enabled: bool,
    pub receivers_listening: AtomicBool,
    pub shutting_down: AtomicBool,
    pub enabled: [bool; 3],
}

impl Health {
    /// Why the relay is not ready, or `None` when it is.
    pub fn not_ready_reason(&self) -> Option<String> {
        if self.shutting_down.load(Ordering::Relaxed) {
            return Some("shutting down".into());
        }
        if !self.receivers_listening.load(Ordering::Relaxed) {
            return Some("OTLP receivers are not listening".into());
        }
        let open: Vec<&str> = Signal::ALL
            .into_iter()
            .filter(|s| {
                self.enabled[s.index()]
                    && self.metrics.breaker_state(*s) == BreakerState::Open.gauge()
            })
            .map(Signal::as_str)
            .collect();
        if !open.is_empty() {
            return Some(format!("upstream circuit open for {}", open.join(", ")));
        }
        None
    }
}

async fn health() -> impl IntoResponse {
    (StatusCode::OK, "ok\n")
}

async fn ready(State(h): State<Arc<Health>>) -> impl IntoResponse {
    match h.not_ready_reason() {
        None => (StatusCode::OK, "ready\n".to_string()),
        Some(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        ),
    }
}

async fn prometheus(State(h): State<Arc<Health>>) -> impl IntoResponse {
    if !h.metrics_enabled {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain")],
            "metrics are disabled (monitoring.metrics_enabled = false)\n".to_string(),
        );
    }
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        h.metrics.render(),
    )
}

pub async fn serve(
    listener: TcpListener,
    health_state: Arc<Health>,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/health", get(health))
        .route("/healthz", get(health))
        .route("/ready", get(ready))
        .route("/readyz", get(ready))
        .route("/metrics", get(prometheus))
        .with_state(health_state);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await
}

/// A listen address as a local client reaches it (0.0.0.0 becomes 127.0.0.1).
pub fn local_target(addr: SocketAddr) -> SocketAddr {
    let mut a = addr;
    if a.ip().is_unspecified() {
        a.set_ip(if a.is_ipv4() {
            [127, 0, 0, 1].into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    a
}

/// Every `interval`, connects to the receivers' own ports and records whether they answer.
pub async fn watch_receivers(
    addrs: Vec<SocketAddr>,
    state: Arc<Health>,
    interval: Duration,
    stop: CancellationToken,
) {
    let mut tick = tokio::time::interval(interval);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let mut all = true;
        for a in &addrs {
            let ok = matches!(
                tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(local_target(*a)))
                    .await,
                Ok(Ok(_))
            );
            if !ok {
                warn!(addr = %a, "OTLP receiver does not accept connections");
                all = false;
            }
        }
        state.receivers_listening.store(all, Ordering::Relaxed);
    }
}
