//! The three OTLP signals and what the pipeline needs to know about each of their payloads.

use std::fmt;

use bytes::Bytes;

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;

use crate::wire::{self, schema, WireError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Signal {
    Traces,
    Metrics,
    Logs,
}

impl Signal {
    pub const ALL: [Signal; 3] = [Signal::Traces, Signal::Metrics, Signal::Logs];

    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
            Signal::Logs => "logs",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// The OTLP/HTTP path of this signal, appended to a base endpoint.
    pub fn http_path(self) -> &'static str {
        match self {
            Signal::Traces => "/v1/traces",
            Signal::Metrics => "/v1/metrics",
            Signal::Logs => "/v1/logs",
        }
    }

    /// What one item of this signal is called in logs.
    pub fn item_name(self) -> &'static str {
        match self {
            Signal::Traces => "spans",
            Signal::Metrics => "data points",
            Signal::Logs => "log records",
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    Grpc,
    Http,
}

impl Transport {
    pub const ALL: [Transport; 2] = [Transport::Grpc, Transport::Http];

    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Grpc => "grpc",
            Transport::Http => "http",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An OTLP export request of one signal. The relay keeps requests encoded (see [`Encoded`]); the
/// decoded type names the signal, and is what OTLP/JSON bodies are read into.
pub trait Payload:
    prost::Message + Default + Clone + serde::de::DeserializeOwned + Send + Sync + 'static
{
    const SIGNAL: Signal;
    type Response: prost::Message + Default + serde::Serialize + Send + 'static;
    /// The schema the wire walker checks this request against.
    const SCHEMA: &'static schema::Message;

    /// Spans, data points or log records carried by this (decoded) request.
    fn item_count(&self) -> usize;
    /// Items the upstream said it rejected (OTLP partial success), with its message.
    fn rejected(response: &Self::Response) -> (u64, String);
    /// The OTLP/gRPC service and method this request is sent to.
    const GRPC_SERVICE: &'static str;
    const GRPC_PATH: &'static str;
}

/// A valid export request as protobuf bytes, and the items it holds. Requests stay in this form
/// from receipt to export: a batch is the concatenation of its requests' bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Encoded {
    pub bytes: Bytes,
    pub items: usize,
}

impl Encoded {
    /// Checks `bytes` as an encoded `T` exactly as strictly as prost decoding would, counting items.
    pub fn validate<T: Payload>(bytes: Bytes) -> Result<Encoded, WireError> {
        let items = wire::validate(T::SCHEMA, &bytes)? as usize;
        Ok(Encoded { bytes, items })
    }

    /// Encodes a decoded request (from OTLP/JSON) once.
    pub fn encode<T: Payload>(request: &T) -> Encoded {
        Encoded {
            items: request.item_count(),
            bytes: Bytes::from(request.encode_to_vec()),
        }
    }
}

impl Payload for ExportTraceServiceRequest {
    const SIGNAL: Signal = Signal::Traces;
    const SCHEMA: &'static schema::Message = &schema::EXPORT_TRACE_SERVICE_REQUEST;
    const GRPC_SERVICE: &'static str = "opentelemetry.proto.collector.trace.v1.TraceService";
    const GRPC_PATH: &'static str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
    type Response = ExportTraceServiceResponse;

    fn item_count(&self) -> usize {
        self.resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .map(|s| s.spans.len())
            .sum()
    }

    fn rejected(response: &Self::Response) -> (u64, String) {
        response
            .partial_success
            .as_ref()
            .map(|p| (p.rejected_spans.max(0) as u64, p.error_message.clone()))
            .unwrap_or_default()
    }
}

fn data_points(data: &Option<Data>) -> usize {
    match data {
        Some(Data::Gauge(g)) => g.data_points.len(),
        Some(Data::Sum(s)) => s.data_points.len(),
        Some(Data::Histogram(h)) => h.data_points.len(),
        Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
        Some(Data::Summary(s)) => s.data_points.len(),
        None => 0,
    }
}

impl Payload for ExportMetricsServiceRequest {
    const SIGNAL: Signal = Signal::Metrics;
    const SCHEMA: &'static schema::Message = &schema::EXPORT_METRICS_SERVICE_REQUEST;
    const GRPC_SERVICE: &'static str = "opentelemetry.proto.collector.metrics.v1.MetricsService";
    const GRPC_PATH: &'static str =
        "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
    type Response = ExportMetricsServiceResponse;

    fn item_count(&self) -> usize {
        self.resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics)
            .map(|m| data_points(&m.data))
            .sum()
    }

    fn rejected(response: &Self::Response) -> (u64, String) {
        response
            .partial_success
            .as_ref()
            .map(|p| {
                (
                    p.rejected_data_points.max(0) as u64,
                    p.error_message.clone(),
                )
            })
            .unwrap_or_default()
    }
}

impl Payload for ExportLogsServiceRequest {
    const SIGNAL: Signal = Signal::Logs;
    const SCHEMA: &'static schema::Message = &schema::EXPORT_LOGS_SERVICE_REQUEST;
    const GRPC_SERVICE: &'static str = "opentelemetry.proto.collector.logs.v1.LogsService";
    const GRPC_PATH: &'static str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
    type Response = ExportLogsServiceResponse;

    fn item_count(&self) -> usize {
        self.resource_logs
            .iter()
            .flat_map(|r| &r.scope_logs)
            .map(|s| s.log_records.len())
            .sum()
    }

    fn rejected(response: &Self::Response) -> (u64, String) {
        response
            .partial_success
            .as_ref()
            .map(|p| {
                (
                    p.rejected_log_records.max(0) as u64,
                    p.error_message.clone(),
                )
            })
            .unwrap_or_default()
    }
}
