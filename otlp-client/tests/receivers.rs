//! The receivers as a sender sees them: status codes, content types, error bodies, limits and
//! backpressure. The upstream is a closed port, so nothing here needs a peer.

mod common;

use std::io::Write;
use std::time::Duration;

use common::*;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use otlp_client::rpc_status::{self, RpcStatus};
use prost::Message;
use tonic::codec::CompressionEncoding;
use tonic::Code;

fn closed_upstream() -> String {
    format!("http://127.0.0.1:{}", free_port())
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

async fn post(url: &str, ct: &str, ce: Option<&str>, body: Vec<u8>) -> reqwest::Response {
    let mut r = reqwest::Client::new()
        .post(url)
        .header("content-type", ct)
        .body(body);
    if let Some(ce) = ce {
        r = r.header("content-encoding", ce);
    }
    r.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_success_mirrors_the_request_content_type_and_empty_requests_succeed() {
    let relay = start_relay(relay_config(&closed_upstream(), "grpc", "")).await;
    let url = format!("http://{}/v1/traces", relay.http_addr);

    let r = post(
        &url,
        "application/x-protobuf",
        None,
        spans(1, 3, "svc").encode_to_vec(),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-protobuf");
    ExportTraceServiceResponse::decode(r.bytes().await.unwrap()).unwrap();

    let r = post(&url, "application/json", None, b"{}".to_vec()).await;
    assert_eq!(r.status(), 200, "an empty request succeeds");
    assert_eq!(r.headers()["content-type"], "application/json");
    let v: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert!(v.is_object());

    let r = post(
        &url,
        "application/x-protobuf",
        Some("gzip"),
        gzip(&spans(2, 2, "svc").encode_to_vec()),
    )
    .await;
    assert_eq!(r.status(), 200, "gzip bodies are accepted");

    let m = get(relay.health_addr, "/metrics").await.1;
    assert_eq!(
        metric(
            &m,
            "otlp_items_received_total{signal=\"traces\",transport=\"http\"}"
        ),
        5.0
    );
    assert_eq!(
        metric(
            &m,
            "otlp_requests_total{signal=\"traces\",transport=\"http\"}"
        ),
        3.0
    );
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_errors_carry_a_google_rpc_status_in_the_request_encoding() {
    let relay = start_relay(relay_config(
        &closed_upstream(),
        "grpc",
        "[otlp.metrics]\nenabled = false\n",
    ))
    .await;
    let base = format!("http://{}", relay.http_addr);

    let r = post(
        &format!("{base}/v1/traces"),
        "application/x-protobuf",
        None,
        vec![0xff, 0xff, 0xff],
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["content-type"], "application/x-protobuf");
    let st = RpcStatus::decode(r.bytes().await.unwrap()).unwrap();
    assert_eq!(st.code, Code::InvalidArgument as i32);
    assert!(st.message.contains("protobuf"), "{}", st.message);

    let r = post(
        &format!("{base}/v1/traces"),
        "application/json",
        None,
        b"{\"resourceSpans\":\"x\"}".to_vec(),
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["content-type"], "application/json");
    let v: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(v["code"], Code::InvalidArgument as i32);

    let r = post(
        &format!("{base}/v1/traces"),
        "text/plain",
        None,
        b"hi".to_vec(),
    )
    .await;
    assert_eq!(r.status(), 415);

    let r = post(
        &format!("{base}/v1/metrics"),
        "application/json",
        None,
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(
        r.status(),
        404,
        "a switched-off signal is refused, not silently dropped"
    );
    let v: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert!(v["message"]
        .as_str()
        .unwrap()
        .contains("metrics are switched off"));

    let r = reqwest::get(format!("{base}/v1/traces")).await.unwrap();
    assert_eq!(r.status(), 405);
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_gzip_bomb_bodies_get_413_on_http_and_resource_exhausted_on_grpc() {
    let mut cfg = relay_config(&closed_upstream(), "grpc", "");
    cfg.max_request_bytes = 64 * 1024;
    let relay = start_relay(cfg).await;
    let url = format!("http://{}/v1/traces", relay.http_addr);
    let big = spans(1, 2000, &"x".repeat(100)).encode_to_vec();
    assert!(big.len() > 64 * 1024);

    let r = post(&url, "application/x-protobuf", None, big.clone()).await;
    assert_eq!(r.status(), 413);
    let st = RpcStatus::decode(r.bytes().await.unwrap()).unwrap();
    assert_eq!(st.code, Code::ResourceExhausted as i32);

    let bomb = gzip(&vec![0u8; 50 * 1024 * 1024]);
    assert!(
        bomb.len() < 64 * 1024,
        "the bomb itself is under the limit on the wire"
    );
    let r = post(&url, "application/x-protobuf", Some("gzip"), bomb).await;
    assert_eq!(r.status(), 413, "the limit applies after decompression");

    let mut client = TraceServiceClient::connect(format!("http://{}", relay.grpc_addr))
        .await
        .unwrap();
    let too_big: ExportTraceServiceRequest = Message::decode(big.as_slice()).unwrap();
    let e = client.export(too_big.clone()).await.unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");

    let mut gz = TraceServiceClient::connect(format!("http://{}", relay.grpc_addr))
        .await
        .unwrap()
        .send_compressed(CompressionEncoding::Gzip);
    let mut bomb_req = spans(9, 1, "svc");
    bomb_req.resource_spans[0].scope_spans[0].spans[0].name = "a".repeat(4 * 1024 * 1024);
    let e = gz.export(bomb_req).await.unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");

    let ok = client.export(spans(3, 1, "svc")).await;
    assert!(ok.is_ok(), "the server is still serving: {ok:?}");
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_accepts_empty_requests_refuses_invalid_protobuf_and_switched_off_signals() {
    let relay = start_relay(relay_config(
        &closed_upstream(),
        "grpc",
        "[otlp.metrics]\nenabled = false\n",
    ))
    .await;
    let mut traces = TraceServiceClient::connect(format!("http://{}", relay.grpc_addr))
        .await
        .unwrap();
    traces
        .export(ExportTraceServiceRequest::default())
        .await
        .expect("empty request succeeds");
    // Invalid protobuf (a span name that is not UTF-8) is refused as INVALID_ARGUMENT, and counted.
    let mut bad = spans(4, 1, "svc");
    bad.resource_spans[0].scope_spans[0].spans[0].name = "~~~~~~".into();
    let mut bytes = bad.encode_to_vec();
    let at = bytes
        .windows(8)
        .position(|w| w == b"\x2a\x06~~~~~~")
        .unwrap();
    bytes[at + 2] = 0xff;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", relay.grpc_addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut raw = tonic::client::Grpc::new(channel);
    raw.ready().await.unwrap();
    let e = raw
        .unary(
            tonic::Request::new(bytes::Bytes::from(bytes)),
            http::uri::PathAndQuery::from_static(
                "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            ),
            otlp_client::grpc_raw::ClientCodec::<ExportTraceServiceResponse>::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert!(e.message().contains("Span.name"), "{}", e.message());
    let m = get(relay.health_addr, "/metrics").await.1;
    assert_eq!(
        metric(
            &m,
            "otlp_requests_failed_total{signal=\"traces\",transport=\"grpc\"}"
        ),
        1.0
    );

    let mut metrics = MetricsServiceClient::connect(format!("http://{}", relay.grpc_addr))
        .await
        .unwrap();
    let e = metrics
        .export(ExportMetricsServiceRequest::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Unimplemented);
    relay.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_pushes_back_with_retry_information_and_the_breaker_makes_the_relay_unready() {
    let cfg = relay_config(
        &closed_upstream(),
        "grpc",
        "queue_size = 100\n[resilience]\nretry_delay = \"10ms\"\nmax_retries = 10\ncircuit_breaker_threshold = 2\ncircuit_breaker_reset_timeout = \"30s\"\n",
    );
    let relay = start_relay(cfg).await;
    let mut client = TraceServiceClient::connect(format!("http://{}", relay.grpc_addr))
        .await
        .unwrap();
    // 100 items fill the queue: nothing can leave while the upstream is down.
    for b in 0..4 {
        client
            .export(spans(b, 25, "svc"))
            .await
            .expect("room in the queue");
    }
    let e = client.export(spans(10, 1, "svc")).await.unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted);
    assert_eq!(
        rpc_status::retry_delay(e.details()),
        Some(Duration::from_secs(1)),
        "RetryInfo is attached"
    );

    let r = post(
        &format!("http://{}/v1/traces", relay.http_addr),
        "application/x-protobuf",
        None,
        spans(11, 1, "svc").encode_to_vec(),
    )
    .await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "1");

    let ops = relay.health_addr;
    let mut ready = (200, String::new());
    for _ in 0..50 {
        ready = get(ops, "/ready").await;
        if ready.0 == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(ready.0, 503, "open breaker makes the relay unready");
    assert!(ready.1.contains("circuit open for traces"), "{}", ready.1);
    assert_eq!(get(ops, "/health").await.0, 200, "still alive");
    let m = get(ops, "/metrics").await.1;
    assert_eq!(
        metric(
            &m,
            "otlp_circuit_breaker_state{signal=\"traces\",transport=\"grpc\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(&m, "otlp_queue_size{signal=\"traces\",transport=\"grpc\"}"),
        100.0
    );
    assert_eq!(
        metric(
            &m,
            "otlp_queue_capacity{signal=\"traces\",transport=\"grpc\"}"
        ),
        100.0
    );
    assert_eq!(
        metric(
            &m,
            "otlp_items_refused_total{signal=\"traces\",transport=\"grpc\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(
            &m,
            "otlp_items_refused_total{signal=\"traces\",transport=\"http\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(
            &m,
            "otlp_requests_failed_total{signal=\"traces\",transport=\"grpc\"}"
        ),
        1.0
    );

    // Shutdown cannot deliver to a dead upstream: it gives up at the deadline and says how much.
    let report = relay.shutdown().await;
    assert_eq!(report.undelivered[0], 100);
}
