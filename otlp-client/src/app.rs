//! Wires the stages together and runs the shutdown sequence: stop accepting, drain, exit.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::config::{self, Config, Protocol};
use crate::exporter::Exporter;
use crate::ops::{self, metrics::Metrics, Health};
use crate::pipeline::{queue, Pipeline, Settings, Summary};
use crate::receivers::{self, Ingress};
use crate::signal::{Payload, Signal, Transport};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {key} {addr}: {source}")]
    Bind {
        key: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{signal} upstream {endpoint}: {reason}")]
    Upstream {
        signal: Signal,
        endpoint: String,
        reason: String,
    },
}

/// The outcome of a run, per signal.
#[derive(Debug, Default)]
pub struct Report {
    pub sent: [u64; 3],
    pub undelivered: [u64; 3],
}

impl Report {
    pub fn undelivered_total(&self) -> u64 {
        self.undelivered.iter().sum()
    }
}

pub struct Relay {
    pub grpc_addr: SocketAddr,
    pub http_addr: SocketAddr,
    pub health_addr: SocketAddr,
    pub metrics: Arc<Metrics>,
    health: Arc<Health>,
    cfg: Config,
    accept_stop: CancellationToken,
    pipeline_stop: CancellationToken,
    hard_stop: CancellationToken,
    ops_stop: CancellationToken,
    receivers: Vec<JoinHandle<()>>,
    pipelines: Vec<(Signal, JoinHandle<Summary>)>,
    ops: JoinHandle<()>,
}

async fn bind(key: &'static str, addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { key, addr, source })
}

fn settings(cfg: &Config) -> Settings {
    Settings {
        batch_size: cfg.batch_size,
        batch_timeout: cfg.batch_timeout,
        max_concurrent_exports: cfg.max_concurrent_exports,
        max_retries: cfg.max_retries,
        retry_delay: cfg.retry_delay,
        max_retry_delay: cfg.max_retry_delay,
        breaker_threshold: cfg.circuit_breaker_threshold,
        breaker_reset_timeout: cfg.circuit_breaker_reset_timeout,
    }
}

type Spawned<T> = (
    Option<queue::QueueSender<T>>,
    Option<(Signal, JoinHandle<Summary>)>,
);

fn start_pipeline<T: Payload>(
    cfg: &Config,
    metrics: &Arc<Metrics>,
    stop: &CancellationToken,
    hard_stop: &CancellationToken,
) -> Result<Spawned<T>, StartError> {
    let signal = T::SIGNAL;
    let Some(up) = cfg.upstream(signal) else {
        info!(%signal, "{signal}: switched off by config; senders get UNIMPLEMENTED / 404");
        return Ok((None, None));
    };
    let exporter =
        Exporter::new(up, signal, cfg.export_timeout).map_err(|reason| StartError::Upstream {
            signal,
            endpoint: up.endpoint.clone(),
            reason,
        })?;
    metrics.set_upstream(
        signal,
        match up.protocol {
            Protocol::Grpc => Transport::Grpc,
            Protocol::Http => Transport::Http,
        },
    );
    info!(%signal, upstream = %up.endpoint, protocol = up.protocol.as_str(), "{signal} -> {} (OTLP/{})", up.endpoint, up.protocol.as_str());
    let (tx, rx) = queue::queue::<T>(cfg.queue_capacity);
    let pipeline = Pipeline::new(rx, exporter, settings(cfg), metrics.clone());
    let handle = tokio::spawn(pipeline.run(stop.clone(), hard_stop.clone()));
    Ok((Some(tx), Some((signal, handle))))
}

impl Relay {
    /// Binds every listener and starts every stage. Fails before serving anything if a port is taken.
    pub async fn start(cfg: Config) -> Result<Relay, StartError> {
        for w in config::warnings(&cfg) {
            warn!("{w}");
        }
        let grpc_listener = bind("server.grpc_addr", cfg.grpc_addr).await?;
        let http_listener = bind("server.http_addr", cfg.http_addr).await?;
        let ops_listener = bind("server.health_addr", cfg.health_addr).await?;
        let grpc_addr = grpc_listener
            .local_addr()
            .expect("bound socket has an address");
        let http_addr = http_listener
            .local_addr()
            .expect("bound socket has an address");
        let health_addr = ops_listener
            .local_addr()
            .expect("bound socket has an address");

        let metrics = Arc::new(Metrics::new());
        let accept_stop = CancellationToken::new();
        let pipeline_stop = CancellationToken::new();
        let hard_stop = CancellationToken::new();
        let ops_stop = CancellationToken::new();

        let (traces, p1) = start_pipeline::<ExportTraceServiceRequest>(
            &cfg,
            &metrics,
            &pipeline_stop,
            &hard_stop,
        )?;
        let (metrics_queue, p2) = start_pipeline::<ExportMetricsServiceRequest>(
            &cfg,
            &metrics,
            &pipeline_stop,
            &hard_stop,
        )?;
        let (logs, p3) =
            start_pipeline::<ExportLogsServiceRequest>(&cfg, &metrics, &pipeline_stop, &hard_stop)?;
        let pipelines: Vec<_> = [p1, p2, p3].into_iter().flatten().collect();

        let ingress = Arc::new(Ingress {
            traces,
            metrics_queue,
            logs,
            metrics: metrics.clone(),
            max_request_bytes: cfg.max_request_bytes,
        });

        let stop = accept_stop.clone();
        let grpc =
            tokio::spawn({
                let ingress = ingress.clone();
                async move {
                    if let Err(e) = receivers::grpc::serve(grpc_listener, ingress, async move {
                        stop.cancelled().await
                    })
                    .await
                    {
                        error!("OTLP/gRPC receiver failed: {e}");
                    }
                }
            });
        let stop = accept_stop.clone();
        let http =
            tokio::spawn({
                let ingress = ingress.clone();
                async move {
                    if let Err(e) = receivers::http::serve(http_listener, ingress, async move {
                        stop.cancelled().await
                    })
                    .await
                    {
                        error!("OTLP/HTTP receiver failed: {e}");
                    }
                }
            });

        let health = Arc::new(Health {
            metrics: metrics.clone(),
            metrics_enabled: cfg.metrics_enabled,
            receivers_listening: true.into(),
            shutting_down: false.into(),
            enabled: Signal::ALL.map(|s| cfg.upstream(s).is_some()),
        });
        tokio::spawn(ops::watch_receivers(
            vec![grpc_addr, http_addr],
            health.clone(),
            cfg.health_check_interval,
            ops_stop.clone(),
        ));
        let ops = tokio::spawn({
            let (h, stop) = (health.clone(), ops_stop.clone());
            async move {
                if let Err(e) = ops::serve(ops_listener, h, stop).await {
                    error!("ops endpoint failed: {e}");
                }
            }
        });
        info!(grpc = %grpc_addr, http = %http_addr, ops = %health_addr, "otlp-client listening");

        Ok(Relay {
            grpc_addr,
            http_addr,
            health_addr,
            metrics,
            health,
            cfg,
            accept_stop,
            pipeline_stop,
            hard_stop,
            ops_stop,
            receivers: vec![grpc, http],
            pipelines,
            ops,
        })
    }

    /// Stops accepting, drains the queues upstream until `server.shutdown_timeout`, and reports.
    pub async fn shutdown(self) -> Report {
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + self.cfg.shutdown_timeout;
        self.health.shutting_down.store(true, Ordering::Relaxed);
        info!(deadline = ?self.cfg.shutdown_timeout, "shutting down: no longer accepting OTLP, draining queues");
        self.accept_stop.cancel();
        let hard_stop = self.hard_stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until(deadline).await;
            hard_stop.cancel();
        });
        for r in self.receivers {
            if tokio::time::timeout_at(deadline, r).await.is_err() {
                warn!("a receiver did not finish its in-flight requests before the deadline");
            }
        }
        self.pipeline_stop.cancel();
        let mut report = Report::default();
        for (signal, handle) in self.pipelines {
            match handle.await {
                Ok(s) => {
                    report.sent[signal.index()] = s.sent;
                    report.undelivered[signal.index()] = s.undelivered;
                }
                Err(e) => error!(%signal, "pipeline task failed: {e}"),
            }
        }
        self.ops_stop.cancel();
        let _ = self.ops.await;
        let lost = report.undelivered_total();
        if lost == 0 {
            info!(took = ?started.elapsed(), "shutdown complete: everything accepted was delivered");
        } else {
            error!(took = ?started.elapsed(), undelivered_traces = report.undelivered[0], undelivered_metrics = report.undelivered[1],
                undelivered_logs = report.undelivered[2], "shutdown complete: {lost} items could not be delivered");
        }
        report
    }
}
