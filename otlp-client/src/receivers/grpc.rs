//! OTLP/gRPC receiver (traces, metrics, logs) on tonic.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use tokio::net::TcpListener;
use tonic::codec::CompressionEncoding;
use tonic::{Code, Request, Response, Status};

use super::{IngestError, Ingress, Route, BACKPRESSURE_RETRY_AFTER};
use crate::rpc_status;
use crate::signal::Transport;

#[derive(Clone)]
pub struct GrpcReceiver {
    ingress: Arc<Ingress>,
}

fn to_status(e: &IngestError) -> Status {
    let (code, retry) = match e {
        IngestError::Disabled(_) => (Code::Unimplemented, None),
        IngestError::Backpressure => (Code::ResourceExhausted, Some(BACKPRESSURE_RETRY_AFTER)),
        IngestError::TooLarge { .. } => (Code::ResourceExhausted, None),
        IngestError::Closing => (Code::Unavailable, None),
    };
    let msg = e.message();
    let details = rpc_status::status(code, &msg, retry).encode_to_vec();
    Status::with_details(code, msg, Bytes::from(details))
}

impl GrpcReceiver {
    fn handle<T: Route>(&self, req: Request<T>) -> Result<(), Status> {
        let started = Instant::now();
        let result = self.ingress.ingest(req.into_inner(), Transport::Grpc);
        self.ingress.metrics.request(
            T::SIGNAL,
            Transport::Grpc,
            started.elapsed(),
            result.is_ok(),
        );
        result.map_err(|e| to_status(&e))
    }
}

#[tonic::async_trait]
impl TraceService for GrpcReceiver {
    async fn export(
        &self,
        req: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        self.handle(req)
            .map(|_| Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl MetricsService for GrpcReceiver {
    async fn export(
        &self,
        req: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        self.handle(req)
            .map(|_| Response::new(ExportMetricsServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl LogsService for GrpcReceiver {
    async fn export(
        &self,
        req: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        self.handle(req)
            .map(|_| Response::new(ExportLogsServiceResponse::default()))
    }
}

/// Serves OTLP/gRPC on `listener` until `shutdown` resolves, then finishes in-flight calls.
pub async fn serve(
    listener: TcpListener,
    ingress: Arc<Ingress>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let limit = ingress.max_request_bytes;
    let rx = GrpcReceiver { ingress };
    let traces = TraceServiceServer::new(rx.clone())
        .accept_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(limit);
    let metrics = MetricsServiceServer::new(rx.clone())
        .accept_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(limit);
    let logs = LogsServiceServer::new(rx)
        .accept_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(limit);
    tonic::transport::Server::builder()
        .layer(too_large::Layer)
        .add_service(traces)
        .add_service(metrics)
        .add_service(logs)
        .serve_with_incoming_shutdown(
            tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
            shutdown,
        )
        .await
}

/// tonic answers an uncompressed message over the size limit with OUT_OF_RANGE; OTLP asks for
/// RESOURCE_EXHAUSTED (and OUT_OF_RANGE would even be retried by clients). This layer rewrites it.
mod too_large {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use http::HeaderValue;

    #[derive(Clone, Copy)]
    pub struct Layer;

    impl<S> tower::Layer<S> for Layer {
        type Service = Service<S>;
        fn layer(&self, inner: S) -> Self::Service {
            Service { inner }
        }
    }

    #[derive(Clone)]
    pub struct Service<S> {
        inner: S,
    }

    impl<S, B, RB> tower::Service<http::Request<B>> for Service<S>
    where
        S: tower::Service<http::Request<B>, Response = http::Response<RB>>,
        S::Future: Send + 'static,
    {
        type Response = S::Response;
        type Error = S::Error;
        type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

        fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            self.inner.poll_ready(cx)
        }

        fn call(&mut self, req: http::Request<B>) -> Self::Future {
            let fut = self.inner.call(req);
            Box::pin(async move {
                let mut resp = fut.await?;
                let h = resp.headers_mut();
                let too_large = h.get("grpc-status").is_some_and(|v| v == "11")
                    && h.get("grpc-message").is_some_and(|m| {
                        m.to_str().is_ok_and(|m| {
                            m.contains("message%20length%20too%20large")
                                || m.contains("message length too large")
                        })
                    });
                if too_large {
                    h.insert("grpc-status", HeaderValue::from_static("8"));
                }
                Ok(resp)
            })
        }
    }
}
