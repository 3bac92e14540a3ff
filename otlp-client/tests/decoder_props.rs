//! Property tests over the request decoders: arbitrary bytes never panic and are refused with 400
//! (INVALID_ARGUMENT) or 413; valid requests survive a protobuf and JSON round trip (protobuf
//! bodies are kept as they came, JSON bodies are encoded once). tests/wire_props.rs proves the
//! protobuf check equivalent to prost decoding.

use axum::http::StatusCode;
use bytes::Bytes;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use otlp_client::receivers::http::{decode, decompress, Encoding};
use otlp_client::signal::Payload;
use proptest::prelude::*;
use prost::Message;

fn refused_properly<T>(r: Result<T, otlp_client::receivers::http::Refused>) -> bool {
    match r {
        Ok(_) => true,
        Err(e) => e.status == StatusCode::BAD_REQUEST && e.code == tonic::Code::InvalidArgument,
    }
}

fn arb_span() -> impl Strategy<Value = Span> {
    (
        prop::collection::vec(any::<u8>(), 16),
        prop::collection::vec(any::<u8>(), 8),
        "[a-zA-Z0-9 _./-]{0,40}",
        0i32..6,
        any::<u64>(),
        any::<u64>(),
    )
        .prop_map(|(trace_id, span_id, name, kind, start, end)| Span {
            trace_id,
            span_id,
            name,
            kind,
            start_time_unix_nano: start,
            end_time_unix_nano: end,
            ..Default::default()
        })
}

fn arb_request() -> impl Strategy<Value = ExportTraceServiceRequest> {
    prop::collection::vec(prop::collection::vec(arb_span(), 0..8), 0..4).prop_map(|groups| {
        ExportTraceServiceRequest {
            resource_spans: groups
                .into_iter()
                .map(|spans| ResourceSpans {
                    scope_spans: vec![ScopeSpans {
                        spans,
                        ..Default::default()
                    }],
                    ..Default::default()
                })
                .collect(),
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_and_are_refused_as_invalid(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        prop_assert!(refused_properly(decode::<ExportTraceServiceRequest>(Bytes::from(bytes.clone()), Encoding::Protobuf)));
        prop_assert!(refused_properly(decode::<ExportMetricsServiceRequest>(Bytes::from(bytes.clone()), Encoding::Protobuf)));
        prop_assert!(refused_properly(decode::<ExportLogsServiceRequest>(Bytes::from(bytes.clone()), Encoding::Protobuf)));
        prop_assert!(refused_properly(decode::<ExportTraceServiceRequest>(Bytes::from(bytes.clone()), Encoding::Json)));
        prop_assert!(refused_properly(decode::<ExportMetricsServiceRequest>(Bytes::from(bytes.clone()), Encoding::Json)));
        prop_assert!(refused_properly(decode::<ExportLogsServiceRequest>(Bytes::from(bytes.clone()), Encoding::Json)));
        let gz = decompress(Bytes::from(bytes), Some("gzip"), 4096);
        if let Err(e) = gz {
            prop_assert!(e.status == StatusCode::BAD_REQUEST || e.status == StatusCode::PAYLOAD_TOO_LARGE);
        }
    }

    #[test]
    fn json_shaped_garbage_never_panics(s in r#"\{("[a-zA-Z]{1,12}":(\[|\{|"[0-9a-f]{0,40}"|-?[0-9]{1,25}|true|null|\]|\}|,){1,6}){0,6}\}?"#) {
        prop_assert!(refused_properly(decode::<ExportTraceServiceRequest>(Bytes::from(s.clone()), Encoding::Json)));
        prop_assert!(refused_properly(decode::<ExportMetricsServiceRequest>(Bytes::from(s.clone()), Encoding::Json)));
        prop_assert!(refused_properly(decode::<ExportLogsServiceRequest>(Bytes::from(s.clone()), Encoding::Json)));
    }

    #[test]
    fn valid_requests_round_trip_through_protobuf_and_json(req in arb_request()) {
        let encoded = Bytes::from(req.encode_to_vec());
        let pb = decode::<ExportTraceServiceRequest>(encoded.clone(), Encoding::Protobuf).unwrap();
        prop_assert_eq!(&pb.bytes, &encoded, "protobuf is forwarded as it came");
        prop_assert_eq!(pb.items, req.item_count());
        let json = serde_json::to_vec(&req).unwrap();
        let back = decode::<ExportTraceServiceRequest>(Bytes::from(json), Encoding::Json).unwrap();
        prop_assert_eq!(back.items, req.item_count());
        prop_assert_eq!(ExportTraceServiceRequest::decode(back.bytes).unwrap(), req);
    }

    #[test]
    fn mutated_valid_protobuf_never_panics(req in arb_request(), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut bytes = req.encode_to_vec();
        if !bytes.is_empty() {
            for (i, b) in flips {
                let at = i.index(bytes.len());
                bytes[at] ^= b;
            }
        }
        prop_assert!(refused_properly(decode::<ExportTraceServiceRequest>(Bytes::from(bytes.clone()), Encoding::Protobuf)));
    }
}
