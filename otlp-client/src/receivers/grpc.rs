//! OTLP/gRPC receiver (traces, metrics, logs) on tonic. The request arrives as bytes (see
//! [`crate::grpc_raw`]), is checked by the wire walker exactly as strictly as prost decoding would,
//! and is queued as it came.

use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use tokio::net::TcpListener;
use tonic::body::Body;
use tonic::codec::CompressionEncoding;
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::{Code, Request, Response, Status};

use super::{IngestError, Ingress, Route, BACKPRESSURE_RETRY_AFTER};
use crate::grpc_raw::ServerCodec;
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

/// The unary `Export` method of one signal's service.
struct ExportMethod<T> {
    ingress: Arc<Ingress>,
    signal: PhantomData<fn(T)>,
}

impl<T: Route> UnaryService<Bytes> for ExportMethod<T> {
    type Response = Bytes;
    type Future = Ready<Result<Response<Bytes>, Status>>;

    fn call(&mut self, request: Request<Bytes>) -> Self::Future {
        ready(
            export::<T>(&self.ingress, request.into_inner()).map(|()| Response::new(Bytes::new())),
        )
    }
}

/// One OTLP gRPC service (`TraceService`, `MetricsService` or `LogsService`) over raw bytes.
pub struct ExportService<T> {
    ingress: Arc<Ingress>,
    max_request_bytes: usize,
    signal: PhantomData<fn(T)>,
}

impl<T> Clone for ExportService<T> {
    fn clone(&self) -> Self {
        ExportService {
            ingress: self.ingress.clone(),
            max_request_bytes: self.max_request_bytes,
            signal: PhantomData,
        }
    }
}

impl<T: Route> ExportService<T> {
    pub fn new(ingress: Arc<Ingress>) -> Self {
        ExportService {
            max_request_bytes: ingress.max_request_bytes,
            ingress,
            signal: PhantomData,
        }
    }
}

impl<T: Route> NamedService for ExportService<T> {
    const NAME: &'static str = T::GRPC_SERVICE;
}

impl<T: Route> tower::Service<http::Request<Body>> for ExportService<T> {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        if req.uri().path() != T::GRPC_PATH {
            return Box::pin(async { Ok(Status::unimplemented("no such method").into_http()) });
        }
        let method = ExportMethod::<T> {
            ingress: self.ingress.clone(),
            signal: PhantomData,
        };
        // The size limit applies to the decompressed message; tonic enforces it while reading.
        let mut grpc = Grpc::new(ServerCodec)
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(self.max_request_bytes);
        Box::pin(async move { Ok(grpc.unary(method, req).await) })
    }
}

/// Serves OTLP/gRPC on `listener` until `shutdown` resolves, then finishes in-flight calls.
pub async fn serve(
    listener: TcpListener,
    ingress: Arc<Ingress>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    tonic::transport::Server::builder()
        .layer(too_large::Layer)
        .add_service(ExportService::<ExportTraceServiceRequest>::new(
            ingress.clone(),
        ))
        .add_service(ExportService::<ExportMetricsServiceRequest>::new(
            ingress.clone(),
        ))
        .add_service(ExportService::<ExportLogsServiceRequest>::new(ingress))
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
