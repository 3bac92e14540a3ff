//! `google.rpc.Status` and `google.rpc.RetryInfo`, the error body of OTLP/HTTP and the detail of
//! OTLP/gRPC errors, in protobuf and in JSON.

use std::time::Duration;

use prost::Message;

const RETRY_INFO_TYPE: &str = "type.googleapis.com/google.rpc.RetryInfo";

#[derive(Clone, PartialEq, Message)]
pub struct RpcStatus {
    #[prost(int32, tag = "1")]
    pub code: i32,
    #[prost(string, tag = "2")]
    pub message: String,
    #[prost(message, repeated, tag = "3")]
    pub details: Vec<Any>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Any {
    #[prost(string, tag = "1")]
    pub type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
}

#[derive(Clone, PartialEq, Message)]
pub struct RetryInfo {
    #[prost(message, optional, tag = "1")]
    pub retry_delay: Option<PbDuration>,
}

#[derive(Clone, PartialEq, Message)]
pub struct PbDuration {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

pub fn status(code: tonic::Code, message: &str, retry_after: Option<Duration>) -> RpcStatus {
    let details = retry_after
        .map(|d| Any {
            type_url: RETRY_INFO_TYPE.to_string(),
            value: RetryInfo {
                retry_delay: Some(PbDuration {
                    seconds: d.as_secs() as i64,
                    nanos: d.subsec_nanos() as i32,
                }),
            }
            .encode_to_vec(),
        })
        .into_iter()
        .collect();
    RpcStatus {
        code: code as i32,
        message: message.to_string(),
        details,
    }
}

/// The proto3 JSON form of a status (RetryInfo's delay as a "1.5s" string).
pub fn to_json(s: &RpcStatus) -> Vec<u8> {
    let details: Vec<serde_json::Value> = s
        .details
        .iter()
        .filter_map(|d| {
            let info = RetryInfo::decode(d.value.as_slice()).ok()?;
            let delay = info.retry_delay.unwrap_or_default();
            let secs = delay.seconds as f64 + delay.nanos as f64 / 1e9;
            Some(serde_json::json!({"@type": d.type_url, "retryDelay": format!("{secs}s")}))
        })
        .collect();
    let mut v = serde_json::json!({"code": s.code, "message": s.message});
    if !details.is_empty() {
        v["details"] = serde_json::Value::Array(details);
    }
    serde_json::to_vec(&v).unwrap_or_default()
}

/// The RetryInfo delay inside an encoded `google.rpc.Status`, if any.
pub fn retry_delay(status_bytes: &[u8]) -> Option<Duration> {
    let st = RpcStatus::decode(status_bytes).ok()?;
    st.details
        .iter()
        .filter(|d| d.type_url == RETRY_INFO_TYPE)
        .find_map(|d| RetryInfo::decode(d.value.as_slice()).ok()?.retry_delay)
        .map(|d| Duration::new(d.seconds.max(0) as u64, d.nanos.max(0) as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_info_round_trips_through_protobuf_and_renders_in_json() {
        let s = status(
            tonic::Code::ResourceExhausted,
            "queue full",
            Some(Duration::from_millis(1500)),
        );
        let bytes = s.encode_to_vec();
        assert_eq!(retry_delay(&bytes), Some(Duration::from_millis(1500)));
        let json: serde_json::Value = serde_json::from_slice(&to_json(&s)).unwrap();
        assert_eq!(json["code"], 8);
        assert_eq!(json["details"][0]["retryDelay"], "1.5s");
        assert_eq!(
            retry_delay(&status(tonic::Code::Internal, "x", None).encode_to_vec()),
            None
        );
    }
}
