//! Sends a batch to the upstream once, over OTLP/gRPC or OTLP/HTTP (protobuf), and says whether a
//! failure may be retried. Retrying, backoff and the breaker live in the pipeline.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use prost::Message;
use tonic::transport::{Channel, Endpoint};

use crate::config::{Protocol, Upstream};
use crate::grpc_raw::ClientCodec;
use crate::retry::{classify_grpc, classify_http, Retry};
use crate::rpc_status;
use crate::signal::{Payload, Signal};

#[derive(Debug, Clone, PartialEq)]
pub struct ExportError {
    pub retry: Retry,
    pub message: String,
}

/// What the upstream accepted: items it reported rejected (partial success) and why.
#[derive(Debug, Default, PartialEq)]
pub struct Accepted {
    pub rejected: u64,
    pub message: String,
}

enum Transport {
    Grpc(Channel),
    Http(Box<HttpUpstream>),
}

struct HttpUpstream {
    client: Client<HttpConnector, Full<Bytes>>,
    url: hyper::Uri,
}

pub struct Exporter {
    transport: Transport,
    timeout: Duration,
    pub endpoint: String,
}

const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// `base` plus the signal's path, unless the operator already gave the full signal URL.
pub fn http_url(base: &str, signal: Signal) -> String {
    let base = base.trim_end_matches('/');
    if base.ends_with(signal.http_path()) {
        base.to_string()
    } else {
        format!("{base}{}", signal.http_path())
    }
}

impl Exporter {
    pub fn new(upstream: &Upstream, signal: Signal, timeout: Duration) -> Result<Self, String> {
        let transport = match upstream.protocol {
            Protocol::Grpc => {
                let ep = Endpoint::from_shared(upstream.endpoint.clone())
                    .map_err(|e| format!("{}: {e}", upstream.endpoint))?
                    .connect_timeout(timeout.min(Duration::from_secs(5)))
                    .timeout(timeout)
                    .tcp_nodelay(true);
                Transport::Grpc(ep.connect_lazy())
            }
            Protocol::Http => {
                let url = http_url(&upstream.endpoint, signal);
                let mut connector = HttpConnector::new();
                connector.set_nodelay(true);
                connector.set_connect_timeout(Some(timeout.min(Duration::from_secs(5))));
                Transport::Http(Box::new(HttpUpstream {
                    client: Client::builder(TokioExecutor::new()).build(connector),
                    url: url.parse().map_err(|e| format!("{url}: {e}"))?,
                }))
            }
        };
        Ok(Exporter {
            transport,
            timeout,
            endpoint: upstream.endpoint.clone(),
        })
    }

    /// Sends one encoded request (`body`, a protobuf `Export*ServiceRequest` of `T`). The batch is
    /// encoded once and the same bytes are reused for every retry.
    pub async fn send<T: Payload>(&self, body: &Bytes) -> Result<Accepted, ExportError> {
        match &self.transport {
            Transport::Grpc(channel) => {
                let mut grpc = tonic::client::Grpc::new(channel.clone());
                grpc.ready()
                    .await
                    .map_err(|e| retryable(format!("upstream not ready: {e}")))?;
                let mut req = tonic::Request::new(body.clone());
                req.set_timeout(self.timeout);
                let path = http::uri::PathAndQuery::from_static(T::GRPC_PATH);
                match grpc
                    .unary(req, path, ClientCodec::<T::Response>::default())
                    .await
                {
                    Ok(resp) => {
                        let (rejected, message) = T::rejected(resp.get_ref());
                        Ok(Accepted { rejected, message })
                    }
                    Err(status) => Err(grpc_error(&status)),
                }
            }
            Transport::Http(up) => {
                let (client, url) = (&up.client, &up.url);
                let req = hyper::Request::post(url.clone())
                    .header(hyper::header::CONTENT_TYPE, "application/x-protobuf")
                    .body(Full::new(body.clone()))
                    .map_err(|e| permanent(format!("cannot build request: {e}")))?;
                let resp = tokio::time::timeout(self.timeout, client.request(req))
                    .await
                    .map_err(|_| retryable(format!("no response within {:?}", self.timeout)))?
                    .map_err(|e| retryable(format!("{e:#}")))?;
                let status = resp.status();
                let retry_after = resp
                    .headers()
                    .get(hyper::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                let body = tokio::time::timeout(
                    self.timeout,
                    Limited::new(resp.into_body(), MAX_RESPONSE_BYTES).collect(),
                )
                .await
                .map_err(|_| retryable("response body timed out".to_string()))?
                .map(|b| b.to_bytes())
                .unwrap_or_default();
                if status.is_success() {
                    let (rejected, message) = T::Response::decode(body)
                        .map(|r| T::rejected(&r))
                        .unwrap_or_default();
                    return Ok(Accepted { rejected, message });
                }
                let detail = rpc_status::RpcStatus::decode(body.clone())
                    .ok()
                    .filter(|s| !s.message.is_empty())
                    .map(|s| s.message)
                    .unwrap_or_else(|| {
                        String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned()
                    });
                Err(ExportError {
                    retry: classify_http(
                        status.as_u16(),
                        retry_after.as_deref(),
                        SystemTime::now(),
                    ),
                    message: format!("HTTP {status}: {detail}"),
                })
            }
        }
    }
}

fn grpc_error(status: &tonic::Status) -> ExportError {
    // tonic reports a broken connection (reset, closed mid-call) as UNKNOWN with the transport
    // error as its source. The upstream never answered, so the data may not have arrived: retry.
    if status.code() == tonic::Code::Unknown && std::error::Error::source(status).is_some() {
        return retryable(format!("gRPC transport error: {}", status.message()));
    }
    let hint = rpc_status::retry_delay(status.details());
    ExportError {
        retry: classify_grpc(status.code(), hint),
        message: format!("gRPC {:?}: {}", status.code(), status.message()),
    }
}

fn retryable(message: String) -> ExportError {
    ExportError {
        retry: Retry::Retryable { after: None },
        message,
    }
}

fn permanent(message: String) -> ExportError {
    ExportError {
        retry: Retry::Permanent,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_url_appends_the_signal_path_once() {
        assert_eq!(
            http_url("http://c:4318", Signal::Traces),
            "http://c:4318/v1/traces"
        );
        assert_eq!(
            http_url("http://c:4318/", Signal::Logs),
            "http://c:4318/v1/logs"
        );
        assert_eq!(
            http_url("http://c:4318/v1/metrics", Signal::Metrics),
            "http://c:4318/v1/metrics"
        );
        assert_eq!(
            http_url("http://c/otlp", Signal::Traces),
            "http://c/otlp/v1/traces"
        );
    }

    #[test]
    fn grpc_status_with_retry_info_is_retryable_after_the_hint() {
        let details = rpc_status::status(
            tonic::Code::ResourceExhausted,
            "slow down",
            Some(Duration::from_secs(2)),
        );
        let st = tonic::Status::with_details(
            tonic::Code::ResourceExhausted,
            "slow down",
            Bytes::from(details.encode_to_vec()),
        );
        assert_eq!(
            grpc_error(&st).retry,
            Retry::Retryable {
                after: Some(Duration::from_secs(2))
            }
        );
        assert_eq!(
            grpc_error(&tonic::Status::invalid_argument("bad")).retry,
            Retry::Permanent
        );
    }

    #[derive(Debug)]
    struct Reset;
    impl std::fmt::Display for Reset {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("connection reset")
        }
    }
    impl std::error::Error for Reset {}

    #[test]
    fn a_broken_connection_reported_as_unknown_is_retried_but_a_server_unknown_is_not() {
        let st = tonic::Status::from_error(Box::new(Reset));
        assert_eq!(st.code(), tonic::Code::Unknown);
        assert_eq!(grpc_error(&st).retry, Retry::Retryable { after: None });
        assert_eq!(
            grpc_error(&tonic::Status::unknown("server said so")).retry,
            Retry::Permanent
        );
    }
}
