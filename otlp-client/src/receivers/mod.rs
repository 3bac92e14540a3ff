//! What both receivers share: routing a validated, encoded request into its signal's queue, and
//! the answer when it cannot be queued.

pub mod grpc;
pub mod http;

use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

use crate::ops::metrics::Metrics;
use crate::pipeline::queue::{QueueSender, Refusal};
use crate::signal::{Encoded, Payload, Signal, Transport};

/// How long senders are asked to wait when a queue is full.
pub const BACKPRESSURE_RETRY_AFTER: Duration = Duration::from_secs(1);

pub struct Ingress {
    pub traces: Option<QueueSender<ExportTraceServiceRequest>>,
    pub metrics_queue: Option<QueueSender<ExportMetricsServiceRequest>>,
    pub logs: Option<QueueSender<ExportLogsServiceRequest>>,
    pub metrics: Arc<Metrics>,
    pub max_request_bytes: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestError {
    /// The signal is switched off in the config.
    Disabled(Signal),
    /// The queue is full: retry after the hint.
    Backpressure,
    /// The request alone is bigger than the queue.
    TooLarge { items: usize, capacity: usize },
    /// The relay is shutting down.
    Closing,
}

impl IngestError {
    pub fn message(&self) -> String {
        match self {
            IngestError::Disabled(s) => {
                format!("{s} are switched off in this relay's config (otlp.{s}.enabled = false)")
            }
            IngestError::Backpressure => "the relay's queue is full; retry later".to_string(),
            IngestError::TooLarge { items, capacity } => format!(
                "request holds {items} items, more than the queue capacity of {capacity}; split it"
            ),
            IngestError::Closing => {
                "the relay is shutting down; retry on another instance".to_string()
            }
        }
    }
}

/// A payload that has a queue in [`Ingress`].
pub trait Route: Payload {
    fn sender(ingress: &Ingress) -> Option<&QueueSender<Self>>;
}

impl Route for ExportTraceServiceRequest {
    fn sender(ingress: &Ingress) -> Option<&QueueSender<Self>> {
        ingress.traces.as_ref()
    }
}
impl Route for ExportMetricsServiceRequest {
    fn sender(ingress: &Ingress) -> Option<&QueueSender<Self>> {
        ingress.metrics_queue.as_ref()
    }
}
impl Route for ExportLogsServiceRequest {
    fn sender(ingress: &Ingress) -> Option<&QueueSender<Self>> {
        ingress.logs.as_ref()
    }
}

impl Ingress {
    /// Queues a validated request, or says why it was refused. An empty request succeeds.
    pub fn ingest<T: Route>(
        &self,
        request: Encoded,
        transport: Transport,
    ) -> Result<(), IngestError> {
        let signal = T::SIGNAL;
        let Some(sender) = T::sender(self) else {
            return Err(IngestError::Disabled(signal));
        };
        let items = request.items;
        if items == 0 {
            return Ok(());
        }
        match sender.try_send(request) {
            Ok(()) => {
                self.metrics.items_received(signal, transport, items as u64);
                Ok(())
            }
            Err(refusal) => {
                self.metrics.items_refused(signal, transport, items as u64);
                Err(match refusal {
                    Refusal::Full => IngestError::Backpressure,
                    Refusal::TooLarge { items, capacity } => {
                        IngestError::TooLarge { items, capacity }
                    }
                    Refusal::Closed => IngestError::Closing,
                })
            }
        }
    }
}
