//! gRPC over encoded protobuf bytes: codecs, and a unary service built on them. tonic's generated
//! clients and servers decode into prost types; the relay receives, batches and sends requests as
//! bytes, so it uses these instead.

use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, BufMut, Bytes};
use tonic::body::Body;
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::{Request, Response, Status};

/// Writes already-encoded protobuf bytes.
pub struct BytesEncoder;

impl Encoder for BytesEncoder {
    type Item = Bytes;
    type Error = Status;
    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

/// Hands over the message bytes, copied into an allocation of exactly their size: a split of
/// tonic's read buffer would keep the whole (up to twice as large) buffer alive for as long as the
/// request waits in the queue, and one copy per request is cheap next to reading it.
pub struct BytesDecoder;

impl Decoder for BytesDecoder {
    type Item = Bytes;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        let mut out = Vec::with_capacity(src.remaining());
        while src.has_remaining() {
            let chunk = src.chunk();
            let n = chunk.len();
            out.extend_from_slice(chunk);
            src.advance(n);
        }
        Ok(Some(Bytes::from(out)))
    }
}

/// Decodes a (small) typed message, such as the upstream's export response.
pub struct ProstDecoder<R>(PhantomData<R>);

impl<R: prost::Message + Default> Decoder for ProstDecoder<R> {
    type Item = R;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<R>, Status> {
        let len = src.remaining();
        R::decode(src.copy_to_bytes(len))
            .map(Some)
            .map_err(|e| Status::internal(format!("cannot decode the upstream's response: {e}")))
    }
}

/// Client side: sends bytes, decodes the typed response `R`.
pub struct ClientCodec<R>(PhantomData<R>);

impl<R> Default for ClientCodec<R> {
    fn default() -> Self {
        ClientCodec(PhantomData)
    }
}

impl<R: prost::Message + Default + Send + 'static> Codec for ClientCodec<R> {
    type Encode = Bytes;
    type Decode = R;
    type Encoder = BytesEncoder;
    type Decoder = ProstDecoder<R>;
    fn encoder(&mut self) -> BytesEncoder {
        BytesEncoder
    }
    fn decoder(&mut self) -> ProstDecoder<R> {
        ProstDecoder(PhantomData)
    }
}

/// Server side: bytes in, bytes out.
#[derive(Default)]
pub struct ServerCodec;

impl Codec for ServerCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = BytesEncoder;
    type Decoder = BytesDecoder;
    fn encoder(&mut self) -> BytesEncoder {
        BytesEncoder
    }
    fn decoder(&mut self) -> BytesDecoder {
        BytesDecoder
    }
}

/// One unary gRPC method over raw bytes: where it is served, and what it answers.
pub trait RawMethod: Clone + Send + 'static {
    /// The gRPC service, e.g. `opentelemetry.proto.collector.trace.v1.TraceService`.
    const SERVICE: &'static str;
    /// The method's path, e.g. `/opentelemetry.proto.collector.trace.v1.TraceService/Export`.
    const PATH: &'static str;
    /// Answers one request's message bytes with the encoded response, or a status.
    fn call(&self, request: Bytes) -> Result<Bytes, Status>;
}

/// A tonic service serving one [`RawMethod`], gzip accepted, messages limited (after
/// decompression) to `max_request_bytes`; any other path of the service is UNIMPLEMENTED.
#[derive(Clone)]
pub struct RawUnaryService<M> {
    method: M,
    max_request_bytes: usize,
}

impl<M: RawMethod> RawUnaryService<M> {
    pub fn new(method: M, max_request_bytes: usize) -> Self {
        RawUnaryService {
            method,
            max_request_bytes,
        }
    }
}

struct Unary<M>(M);

impl<M: RawMethod> UnaryService<Bytes> for Unary<M> {
    type Response = Bytes;
    type Future = Ready<Result<Response<Bytes>, Status>>;

    fn call(&mut self, request: Request<Bytes>) -> Self::Future {
        ready(self.0.call(request.into_inner()).map(Response::new))
    }
}

impl<M: RawMethod> NamedService for RawUnaryService<M> {
    const NAME: &'static str = M::SERVICE;
}

impl<M: RawMethod> tower::Service<http::Request<Body>> for RawUnaryService<M> {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        if req.uri().path() != M::PATH {
            return Box::pin(async { Ok(Status::unimplemented("no such method").into_http()) });
        }
        let method = Unary(self.method.clone());
        // The size limit applies to the decompressed message; tonic enforces it while reading.
        let mut grpc = Grpc::new(ServerCodec)
            .accept_compressed(CompressionEncoding::Gzip)
            .max_decoding_message_size(self.max_request_bytes);
        Box::pin(async move { Ok(grpc.unary(method, req).await) })
    }
}
