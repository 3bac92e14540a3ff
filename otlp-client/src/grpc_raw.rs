//! gRPC codecs over encoded protobuf bytes. tonic's generated clients and servers decode into prost
//! types; the relay receives, batches and sends requests as bytes, so it uses these instead.

use std::marker::PhantomData;

use bytes::{Buf, BufMut, Bytes};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::Status;

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
