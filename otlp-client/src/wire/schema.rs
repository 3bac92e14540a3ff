//! The OTLP protobuf schema as static tables: for every message, its field numbers and what each
//! field holds. The walker reads these instead of generated code. `tests/wire_props.rs` checks
//! every table against the descriptors opentelemetry-proto was generated from.

/// How a field is encoded, as far as validating it goes.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// int32, int64, uint32, uint64, sint32, sint64, bool, enum: any varint is accepted.
    Varint,
    /// fixed32, sfixed32, float.
    Fixed32,
    /// fixed64, sfixed64, double.
    Fixed64,
    Bytes,
    /// Length-delimited, must be UTF-8.
    String,
    Message(&'static Message),
}

/// What a field contributes to the item count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Plain,
    /// Every occurrence is one item (a span, a data point, a log record).
    Item,
    /// A member of the message's oneof: a later occurrence of another member replaces it, one of
    /// the same member merges into it (this is how prost decodes, so counts follow it).
    Oneof,
}

#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub number: u32,
    pub name: &'static str,
    pub kind: Kind,
    pub repeated: bool,
    pub role: Role,
}

#[derive(Debug)]
pub struct Message {
    /// The protobuf full name, e.g. `opentelemetry.proto.trace.v1.Span`.
    pub name: &'static str,
    /// Sorted by number.
    pub fields: &'static [Field],
}

impl Message {
    #[inline]
    pub fn field(&self, number: u32) -> Option<&'static Field> {
        // Fields are mostly numbered 1..n, so the entry at n-1 is usually the one.
        if let Some(f) = self.fields.get(number.wrapping_sub(1) as usize) {
            if f.number == number {
                return Some(f);
            }
        }
        self.fields.iter().find(|f| f.number == number)
    }

    /// The short name for error messages (`Span`, not the full protobuf name).
    pub fn short_name(&self) -> &'static str {
        self.name.rsplit('.').next().unwrap_or(self.name)
    }
}

const fn f(number: u32, name: &'static str, kind: Kind) -> Field {
    Field {
        number,
        name,
        kind,
        repeated: false,
        role: Role::Plain,
    }
}

const fn rep(number: u32, name: &'static str, kind: Kind) -> Field {
    Field {
        number,
        name,
        kind,
        repeated: true,
        role: Role::Plain,
    }
}

const fn item(number: u32, name: &'static str, kind: Kind) -> Field {
    Field {
        number,
        name,
        kind,
        repeated: true,
        role: Role::Item,
    }
}

const fn oneof(number: u32, name: &'static str, kind: Kind) -> Field {
    Field {
        number,
        name,
        kind,
        repeated: false,
        role: Role::Oneof,
    }
}

use Kind::{Bytes, Fixed32, Fixed64, Message as M, String as S, Varint};

// common.v1 and resource.v1

pub static ANY_VALUE: Message = Message {
    name: "opentelemetry.proto.common.v1.AnyValue",
    fields: &[
        oneof(1, "string_value", S),
        oneof(2, "bool_value", Varint),
        oneof(3, "int_value", Varint),
        oneof(4, "double_value", Fixed64),
        oneof(5, "array_value", M(&ARRAY_VALUE)),
        oneof(6, "kvlist_value", M(&KEY_VALUE_LIST)),
        oneof(7, "bytes_value", Bytes),
        oneof(8, "string_value_strindex", Varint),
    ],
};

pub static ARRAY_VALUE: Message = Message {
    name: "opentelemetry.proto.common.v1.ArrayValue",
    fields: &[rep(1, "values", M(&ANY_VALUE))],
};

pub static KEY_VALUE_LIST: Message = Message {
    name: "opentelemetry.proto.common.v1.KeyValueList",
    fields: &[rep(1, "values", M(&KEY_VALUE))],
};

pub static KEY_VALUE: Message = Message {
    name: "opentelemetry.proto.common.v1.KeyValue",
    fields: &[
        f(1, "key", S),
        f(2, "value", M(&ANY_VALUE)),
        f(3, "key_strindex", Varint),
    ],
};

pub static INSTRUMENTATION_SCOPE: Message = Message {
    name: "opentelemetry.proto.common.v1.InstrumentationScope",
    fields: &[
        f(1, "name", S),
        f(2, "version", S),
        rep(3, "attributes", M(&KEY_VALUE)),
        f(4, "dropped_attributes_count", Varint),
    ],
};

pub static ENTITY_REF: Message = Message {
    name: "opentelemetry.proto.common.v1.EntityRef",
    fields: &[
        f(1, "schema_url", S),
        f(2, "type", S),
        rep(3, "id_keys", S),
        rep(4, "description_keys", S),
    ],
};

pub static RESOURCE: Message = Message {
    name: "opentelemetry.proto.resource.v1.Resource",
    fields: &[
        rep(1, "attributes", M(&KEY_VALUE)),
        f(2, "dropped_attributes_count", Varint),
        rep(3, "entity_refs", M(&ENTITY_REF)),
    ],
};

// trace.v1

pub static EXPORT_TRACE_SERVICE_REQUEST: Message = Message {
    name: "opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest",
    fields: &[rep(1, "resource_spans", M(&RESOURCE_SPANS))],
};

pub static RESOURCE_SPANS: Message = Message {
    name: "opentelemetry.proto.trace.v1.ResourceSpans",
    fields: &[
        f(1, "resource", M(&RESOURCE)),
        rep(2, "scope_spans", M(&SCOPE_SPANS)),
        f(3, "schema_url", S),
    ],
};

pub static SCOPE_SPANS: Message = Message {
    name: "opentelemetry.proto.trace.v1.ScopeSpans",
    fields: &[
        f(1, "scope", M(&INSTRUMENTATION_SCOPE)),
        item(2, "spans", M(&SPAN)),
        f(3, "schema_url", S),
    ],
};

pub static SPAN: Message = Message {
    name: "opentelemetry.proto.trace.v1.Span",
    fields: &[
        f(1, "trace_id", Bytes),
        f(2, "span_id", Bytes),
        f(3, "trace_state", S),
        f(4, "parent_span_id", Bytes),
        f(5, "name", S),
        f(6, "kind", Varint),
        f(7, "start_time_unix_nano", Fixed64),
        f(8, "end_time_unix_nano", Fixed64),
        rep(9, "attributes", M(&KEY_VALUE)),
        f(10, "dropped_attributes_count", Varint),
        rep(11, "events", M(&SPAN_EVENT)),
        f(12, "dropped_events_count", Varint),
        rep(13, "links", M(&SPAN_LINK)),
        f(14, "dropped_links_count", Varint),
        f(15, "status", M(&STATUS)),
        f(16, "flags", Fixed32),
    ],
};

pub static SPAN_EVENT: Message = Message {
    name: "opentelemetry.proto.trace.v1.Span.Event",
    fields: &[
        f(1, "time_unix_nano", Fixed64),
        f(2, "name", S),
        rep(3, "attributes", M(&KEY_VALUE)),
        f(4, "dropped_attributes_count", Varint),
    ],
};

pub static SPAN_LINK: Message = Message {
    name: "opentelemetry.proto.trace.v1.Span.Link",
    fields: &[
        f(1, "trace_id", Bytes),
        f(2, "span_id", Bytes),
        f(3, "trace_state", S),
        rep(4, "attributes", M(&KEY_VALUE)),
        f(5, "dropped_attributes_count", Varint),
        f(6, "flags", Fixed32),
    ],
};

pub static STATUS: Message = Message {
    name: "opentelemetry.proto.trace.v1.Status",
    fields: &[f(2, "message", S), f(3, "code", Varint)],
};

// metrics.v1

pub static EXPORT_METRICS_SERVICE_REQUEST: Message = Message {
    name: "opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest",
    fields: &[rep(1, "resource_metrics", M(&RESOURCE_METRICS))],
};

pub static RESOURCE_METRICS: Message = Message {
    name: "opentelemetry.proto.metrics.v1.ResourceMetrics",
    fields: &[
        f(1, "resource", M(&RESOURCE)),
        rep(2, "scope_metrics", M(&SCOPE_METRICS)),
        f(3, "schema_url", S),
    ],
};

pub static SCOPE_METRICS: Message = Message {
    name: "opentelemetry.proto.metrics.v1.ScopeMetrics",
    fields: &[
        f(1, "scope", M(&INSTRUMENTATION_SCOPE)),
        rep(2, "metrics", M(&METRIC)),
        f(3, "schema_url", S),
    ],
};

pub static METRIC: Message = Message {
    name: "opentelemetry.proto.metrics.v1.Metric",
    fields: &[
        f(1, "name", S),
        f(2, "description", S),
        f(3, "unit", S),
        oneof(5, "gauge", M(&GAUGE)),
        oneof(7, "sum", M(&SUM)),
        oneof(9, "histogram", M(&HISTOGRAM)),
        oneof(10, "exponential_histogram", M(&EXPONENTIAL_HISTOGRAM)),
        oneof(11, "summary", M(&SUMMARY)),
        rep(12, "metadata", M(&KEY_VALUE)),
    ],
};

pub static GAUGE: Message = Message {
    name: "opentelemetry.proto.metrics.v1.Gauge",
    fields: &[item(1, "data_points", M(&NUMBER_DATA_POINT))],
};

pub static SUM: Message = Message {
    name: "opentelemetry.proto.metrics.v1.Sum",
    fields: &[
        item(1, "data_points", M(&NUMBER_DATA_POINT)),
        f(2, "aggregation_temporality", Varint),
        f(3, "is_monotonic", Varint),
    ],
};

pub static HISTOGRAM: Message = Message {
    name: "opentelemetry.proto.metrics.v1.Histogram",
    fields: &[
        item(1, "data_points", M(&HISTOGRAM_DATA_POINT)),
        f(2, "aggregation_temporality", Varint),
    ],
};

pub static EXPONENTIAL_HISTOGRAM: Message = Message {
    name: "opentelemetry.proto.metrics.v1.ExponentialHistogram",
    fields: &[
        item(1, "data_points", M(&EXPONENTIAL_HISTOGRAM_DATA_POINT)),
        f(2, "aggregation_temporality", Varint),
    ],
};

pub static SUMMARY: Message = Message {
    name: "opentelemetry.proto.metrics.v1.Summary",
    fields: &[item(1, "data_points", M(&SUMMARY_DATA_POINT))],
};

pub static NUMBER_DATA_POINT: Message = Message {
    name: "opentelemetry.proto.metrics.v1.NumberDataPoint",
    fields: &[
        f(2, "start_time_unix_nano", Fixed64),
        f(3, "time_unix_nano", Fixed64),
        oneof(4, "as_double", Fixed64),
        rep(5, "exemplars", M(&EXEMPLAR)),
        oneof(6, "as_int", Fixed64),
        rep(7, "attributes", M(&KEY_VALUE)),
        f(8, "flags", Varint),
    ],
};

pub static HISTOGRAM_DATA_POINT: Message = Message {
    name: "opentelemetry.proto.metrics.v1.HistogramDataPoint",
    fields: &[
        f(2, "start_time_unix_nano", Fixed64),
        f(3, "time_unix_nano", Fixed64),
        f(4, "count", Fixed64),
        f(5, "sum", Fixed64),
        rep(6, "bucket_counts", Fixed64),
        rep(7, "explicit_bounds", Fixed64),
        rep(8, "exemplars", M(&EXEMPLAR)),
        rep(9, "attributes", M(&KEY_VALUE)),
        f(10, "flags", Varint),
        f(11, "min", Fixed64),
        f(12, "max", Fixed64),
    ],
};

pub static EXPONENTIAL_HISTOGRAM_DATA_POINT: Message = Message {
    name: "opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint",
    fields: &[
        rep(1, "attributes", M(&KEY_VALUE)),
        f(2, "start_time_unix_nano", Fixed64),
        f(3, "time_unix_nano", Fixed64),
        f(4, "count", Fixed64),
        f(5, "sum", Fixed64),
        f(6, "scale", Varint),
        f(7, "zero_count", Fixed64),
        f(8, "positive", M(&BUCKETS)),
        f(9, "negative", M(&BUCKETS)),
        f(10, "flags", Varint),
        rep(11, "exemplars", M(&EXEMPLAR)),
        f(12, "min", Fixed64),
        f(13, "max", Fixed64),
        f(14, "zero_threshold", Fixed64),
    ],
};

pub static BUCKETS: Message = Message {
    name: "opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint.Buckets",
    fields: &[f(1, "offset", Varint), rep(2, "bucket_counts", Varint)],
};

pub static SUMMARY_DATA_POINT: Message = Message {
    name: "opentelemetry.proto.metrics.v1.SummaryDataPoint",
    fields: &[
        f(2, "start_time_unix_nano", Fixed64),
        f(3, "time_unix_nano", Fixed64),
        f(4, "count", Fixed64),
        f(5, "sum", Fixed64),
        rep(6, "quantile_values", M(&VALUE_AT_QUANTILE)),
        rep(7, "attributes", M(&KEY_VALUE)),
        f(8, "flags", Varint),
    ],
};

pub static VALUE_AT_QUANTILE: Message = Message {
    name: "opentelemetry.proto.metrics.v1.SummaryDataPoint.ValueAtQuantile",
    fields: &[f(1, "quantile", Fixed64), f(2, "value", Fixed64)],
};

pub static EXEMPLAR: Message = Message {
    name: "opentelemetry.proto.metrics.v1.Exemplar",
    fields: &[
        f(2, "time_unix_nano", Fixed64),
        oneof(3, "as_double", Fixed64),
        f(4, "span_id", Bytes),
        f(5, "trace_id", Bytes),
        oneof(6, "as_int", Fixed64),
        rep(7, "filtered_attributes", M(&KEY_VALUE)),
    ],
};

// logs.v1

pub static EXPORT_LOGS_SERVICE_REQUEST: Message = Message {
    name: "opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest",
    fields: &[rep(1, "resource_logs", M(&RESOURCE_LOGS))],
};

pub static RESOURCE_LOGS: Message = Message {
    name: "opentelemetry.proto.logs.v1.ResourceLogs",
    fields: &[
        f(1, "resource", M(&RESOURCE)),
        rep(2, "scope_logs", M(&SCOPE_LOGS)),
        f(3, "schema_url", S),
    ],
};

pub static SCOPE_LOGS: Message = Message {
    name: "opentelemetry.proto.logs.v1.ScopeLogs",
    fields: &[
        f(1, "scope", M(&INSTRUMENTATION_SCOPE)),
        item(2, "log_records", M(&LOG_RECORD)),
        f(3, "schema_url", S),
    ],
};

pub static LOG_RECORD: Message = Message {
    name: "opentelemetry.proto.logs.v1.LogRecord",
    fields: &[
        f(1, "time_unix_nano", Fixed64),
        f(2, "severity_number", Varint),
        f(3, "severity_text", S),
        f(5, "body", M(&ANY_VALUE)),
        rep(6, "attributes", M(&KEY_VALUE)),
        f(7, "dropped_attributes_count", Varint),
        f(8, "flags", Fixed32),
        f(9, "trace_id", Bytes),
        f(10, "span_id", Bytes),
        f(11, "observed_time_unix_nano", Fixed64),
        f(12, "event_name", S),
    ],
};
