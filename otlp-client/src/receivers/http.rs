//! OTLP/HTTP receiver: `POST /v1/{traces,metrics,logs}` with `application/x-protobuf` or
//! `application/json` bodies, optionally gzip-compressed. The answer uses the request's content
//! type; errors carry a `google.rpc.Status` body.

use std::io::Read;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use tokio::net::TcpListener;
use tonic::Code;

use super::{IngestError, Ingress, Route, BACKPRESSURE_RETRY_AFTER};
use crate::rpc_status;
use crate::signal::{Encoded, Payload, Transport};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

/// A refusal: HTTP status, gRPC code for the Status body, message, and a retry hint.
#[derive(Debug)]
pub struct Refused {
    pub status: StatusCode,
    pub code: Code,
    pub message: String,
    pub retry_after_secs: Option<u64>,
}

fn refused(status: StatusCode, code: Code, message: impl Into<String>) -> Refused {
    Refused {
        status,
        code,
        message: message.into(),
        retry_after_secs: None,
    }
}

fn error_response(e: Refused, enc: Encoding) -> Response {
    let retry = e.retry_after_secs.map(std::time::Duration::from_secs);
    let st = rpc_status::status(e.code, &e.message, retry);
    let body = match enc {
        Encoding::Protobuf => st.encode_to_vec(),
        Encoding::Json => rpc_status::to_json(&st),
    };
    let mut resp = (e.status, [(header::CONTENT_TYPE, enc.content_type())], body).into_response();
    if let Some(secs) = e.retry_after_secs {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

/// Reads the content type; `None` means unsupported.
pub fn encoding_of(headers: &HeaderMap) -> Option<Encoding> {
    let ct = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let mime = ct.split(';').next()?.trim().to_ascii_lowercase();
    match mime.as_str() {
        "application/x-protobuf" | "application/protobuf" => Some(Encoding::Protobuf),
        "application/json" => Some(Encoding::Json),
        _ => None,
    }
}

/// Decompresses (if needed) and checks the size limit on the decompressed bytes, so a small
/// gzip bomb is refused like a large plain body.
pub fn decompress(
    body: Bytes,
    content_encoding: Option<&str>,
    limit: usize,
) -> Result<Bytes, Refused> {
    match content_encoding.map(|e| e.trim().to_ascii_lowercase()) {
        None => Ok(body),
        Some(e) if e.is_empty() || e == "identity" => Ok(body),
        Some(e) if e == "gzip" => {
            let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
            let mut dec = flate2::read::GzDecoder::new(&body[..]).take(limit as u64 + 1);
            dec.read_to_end(&mut out).map_err(|err| {
                refused(
                    StatusCode::BAD_REQUEST,
                    Code::InvalidArgument,
                    format!("body is not valid gzip: {err}"),
                )
            })?;
            if out.len() > limit {
                return Err(refused(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    Code::ResourceExhausted,
                    format!("decompressed body exceeds the limit of {limit} bytes"),
                ));
            }
            Ok(Bytes::from(out))
        }
        Some(other) => Err(refused(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::InvalidArgument,
            format!("Content-Encoding {other:?} is not supported; use gzip or none"),
        )),
    }
}

/// Checks an OTLP request body in the given encoding and returns it as protobuf bytes: a protobuf
/// body as it came (validated by the wire walker), a JSON body decoded and encoded once.
pub fn decode<T: Payload>(bytes: Bytes, enc: Encoding) -> Result<Encoded, Refused> {
    match enc {
        Encoding::Protobuf => Encoded::validate::<T>(bytes).map_err(|e| {
            refused(
                StatusCode::BAD_REQUEST,
                Code::InvalidArgument,
                format!("body is not a valid {} protobuf request: {e}", T::SIGNAL),
            )
        }),
        Encoding::Json => serde_json::from_slice::<T>(&bytes)
            .map(|req| Encoded::encode(&req))
            .map_err(|e| {
                refused(
                    StatusCode::BAD_REQUEST,
                    Code::InvalidArgument,
                    format!("body is not a valid OTLP/JSON {} request: {e}", T::SIGNAL),
                )
            }),
    }
}

fn ingest_refusal(e: IngestError) -> Refused {
    let msg = e.message();
    match e {
        IngestError::Disabled(_) => refused(StatusCode::NOT_FOUND, Code::Unimplemented, msg),
        IngestError::Backpressure => Refused {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: Code::ResourceExhausted,
            message: msg,
            retry_after_secs: Some(BACKPRESSURE_RETRY_AFTER.as_secs().max(1)),
        },
        IngestError::TooLarge { .. } => {
            refused(StatusCode::PAYLOAD_TOO_LARGE, Code::ResourceExhausted, msg)
        }
        IngestError::Closing => Refused {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: Code::Unavailable,
            message: msg,
            retry_after_secs: Some(1),
        },
    }
}

async fn handle<T: Route>(
    ingress: Arc<Ingress>,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let enc = encoding_of(&headers);
    let result = async {
        if method != Method::POST {
            return Err(refused(StatusCode::METHOD_NOT_ALLOWED, Code::Unimplemented, format!("{method} is not allowed; OTLP/HTTP uses POST")));
        }
        let Some(enc) = enc else {
            let got = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("none");
            return Err(refused(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Code::InvalidArgument,
                format!("Content-Type {got:?} is not supported; use application/x-protobuf or application/json"),
            ));
        };
        let limit = ingress.max_request_bytes;
        let raw = match Limited::new(body, limit).collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                return Err(refused(StatusCode::PAYLOAD_TOO_LARGE, Code::ResourceExhausted, format!("body exceeds the limit of {limit} bytes")))
            }
            Err(e) => return Err(refused(StatusCode::BAD_REQUEST, Code::InvalidArgument, format!("cannot read body: {e}"))),
        };
        let ce = headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok());
        let bytes = decompress(raw, ce, limit)?;
        let request = decode::<T>(bytes, enc)?;
        ingress.ingest::<T>(request, Transport::Http).map_err(ingest_refusal)?;
        Ok(enc)
    }
    .await;
    ingress.metrics.request(
        T::SIGNAL,
        Transport::Http,
        started.elapsed(),
        result.is_ok(),
    );
    match result {
        Ok(enc) => {
            let body = match enc {
                Encoding::Protobuf => T::Response::default().encode_to_vec(),
                // Whole requests are accepted, so there is never a partial success to report.
                Encoding::Json => b"{}".to_vec(),
            };
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, enc.content_type())],
                body,
            )
                .into_response()
        }
        Err(e) => error_response(e, enc.unwrap_or(Encoding::Protobuf)),
    }
}

pub fn router(ingress: Arc<Ingress>) -> Router {
    Router::new()
        .route(
            "/v1/traces",
            any(
                |State(i): State<Arc<Ingress>>, m: Method, h: HeaderMap, b: Body| {
                    handle::<ExportTraceServiceRequest>(i, m, h, b)
                },
            ),
        )
        .route(
            "/v1/metrics",
            any(
                |State(i): State<Arc<Ingress>>, m: Method, h: HeaderMap, b: Body| {
                    handle::<ExportMetricsServiceRequest>(i, m, h, b)
                },
            ),
        )
        .route(
            "/v1/logs",
            any(
                |State(i): State<Arc<Ingress>>, m: Method, h: HeaderMap, b: Body| {
                    handle::<ExportLogsServiceRequest>(i, m, h, b)
                },
            ),
        )
        .with_state(ingress)
}

/// Serves OTLP/HTTP on `listener` until `shutdown` resolves, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    ingress: Arc<Ingress>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(ingress))
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Bytes {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        Bytes::from(e.finish().unwrap())
    }

    #[test]
    fn gzip_limit_applies_after_decompression() {
        let bomb = gzip(&vec![0u8; 10 * 1024 * 1024]);
        assert!(bomb.len() < 64 * 1024, "the bomb is small on the wire");
        let e = decompress(bomb, Some("gzip"), 1024 * 1024).unwrap_err();
        assert_eq!(e.status, StatusCode::PAYLOAD_TOO_LARGE);
        let ok = decompress(gzip(b"hello"), Some("GZIP"), 1024).unwrap();
        assert_eq!(&ok[..], b"hello");
        assert_eq!(
            decompress(Bytes::from_static(b"xx"), Some("gzip"), 10)
                .unwrap_err()
                .status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            decompress(Bytes::new(), Some("br"), 10).unwrap_err().status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
    }

    #[test]
    fn content_types_are_recognised_with_parameters() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        assert_eq!(encoding_of(&h), Some(Encoding::Json));
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-protobuf"),
        );
        assert_eq!(encoding_of(&h), Some(Encoding::Protobuf));
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert_eq!(encoding_of(&h), None);
    }

    #[test]
    fn json_follows_the_otlp_encoding_hex_ids_and_string_or_number_int64() {
        let body = br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},
            "scopeSpans":[{"scope":{"name":"s"},"spans":[
              {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"a","kind":2,
               "startTimeUnixNano":"1544712660000000000","endTimeUnixNano":1544712661000000000,
               "attributes":[{"key":"n","value":{"intValue":"42"}},{"key":"m","value":{"intValue":7}}]}]}]}]}"#;
        let encoded =
            decode::<ExportTraceServiceRequest>(Bytes::from_static(body), Encoding::Json).unwrap();
        assert_eq!(encoded.items, 1);
        let req = ExportTraceServiceRequest::decode(encoded.bytes).unwrap();
        let span = &req.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(span.trace_id, hex_bytes("5b8efff798038103d269b633813fc60c"));
        assert_eq!(span.span_id, hex_bytes("eee19b7ec3c1b174"));
        assert_eq!(span.kind, 2);
        assert_eq!(span.start_time_unix_nano, 1_544_712_660_000_000_000);
        assert_eq!(span.end_time_unix_nano, 1_544_712_661_000_000_000);
        assert_eq!(req.item_count(), 1);
        let e = decode::<ExportTraceServiceRequest>(
            Bytes::from_static(b"{\"resourceSpans\": 3}"),
            Encoding::Json,
        )
        .unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
    }

    fn hex_bytes(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}
