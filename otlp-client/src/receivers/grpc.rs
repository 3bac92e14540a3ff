//! OTLP/gRPC receiver (traces, metrics, logs) on tonic. The request arrives as bytes (see
//! [`crate::grpc_raw`]), is checked by the wire walker exactly as strictly as prost decoding would,
//! and is queued as it came.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use tokio::net::TcpListener;
use tonic::{Code, Status};

use super::{IngestError, Ingress, Route, BACKPRESSURE_RETRY_AFTER};
use crate::grpc_raw::{RawMethod, RawUnaryService};
use crate::rpc_status;
use crate::signal::{Encoded, Transport};

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

/// Validates and queues one request; the answer is an empty `Export*ServiceResponse` (whole
/// requests are accepted, so there is never a partial success to report).
fn export<T: Route>(ingress: &Ingress, body: Bytes) -> Result<(), Status> {
    let started = Instant::now();
    let result = match Encoded::validate::<T>(body) {
        Ok(request) => ingress
            .ingest::<T>(request, Transport::Grpc)
            .map_err(|e| to_status(&e)),
        Err(e) => Err(Status::invalid_argument(format!(
            "not a valid {} protobuf request: {e}",
            T::SIGNAL
        ))),
    };
    ingress.metrics.request(
        T::SIGNAL,
        Transport::Grpc,
        started.elapsed(),
        result.is_ok(),
    );
    result
}

/// The unary `Export` method of one signal's OTLP service.
struct ExportMethod<T> {
    ingress: Arc<Ingress>,
    signal: PhantomData<fn(T)>,
}

impl<T> Clone for ExportMethod<T> {
    fn clone(&self) -> Self {
        ExportMethod {
            ingress: self.ingress.clone(),
            signal: PhantomData,
        }
    }
}

impl<T: Route> RawMethod for ExportMethod<T> {
    const SERVICE: &'static str = T::GRPC_SERVICE;
    const PATH: &'static str = T::GRPC_PATH;

    fn call(&self, request: Bytes) -> Result<Bytes, Status> {
        export::<T>(&self.ingress, request).map(|()| Bytes::new())
    }
}

/// One OTLP gRPC service (`TraceService`, `MetricsService` or `LogsService`) over raw bytes.
fn service<T: Route>(ingress: Arc<Ingress>) -> RawUnaryService<ExportMethod<T>> {
    let max_request_bytes = ingress.max_request_bytes;
    RawUnaryService::new(
        ExportMethod {
            ingress,
            signal: PhantomData,
        },
        max_request_bytes,
    )
}

/// Serves OTLP/gRPC on `listener` until `shutdown` resolves, then finishes in-flight calls.
pub async fn serve(
    listener: TcpListener,
    ingress: Arc<Ingress>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    tonic::transport::Server::builder()
        .layer(too_large::Layer)
        .add_service(service::<ExportTraceServiceRequest>(ingress.clone()))
        .add_service(service::<ExportMetricsServiceRequest>(ingress.clone()))
        .add_service(service::<ExportLogsServiceRequest>(ingress))
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
