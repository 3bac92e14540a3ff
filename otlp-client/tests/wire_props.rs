//! The wire walker against prost, the decoder it stands in for.
//!
//! 1. Its schema tables match the descriptors opentelemetry-proto's types were generated from:
//!    every field of every message reachable from the three export requests, with its encoding,
//!    cardinality and oneof membership; nothing missing, nothing extra.
//! 2. Differentially, on generated and mutated inputs: the walker accepts a request iff
//!    `prost::Message::decode` does, and its item count equals the decoded request's. Inputs are
//!    generated from the schema with deliberate faults (wrong wire types, bad lengths, invalid
//!    UTF-8, overlong and invalid varints, unknown fields and groups at any field number, nesting
//!    around prost's recursion limit, repeated oneof members) and then mutated byte-wise.

use std::collections::{BTreeMap, HashSet};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use otlp_client::signal::Payload;
use otlp_client::wire::schema::{self, Kind, Message, Role};
use otlp_client::wire::wire_type::{END_GROUP, FIXED32, FIXED64, LEN, START_GROUP, VARINT};
use otlp_client::wire::{self, Reason};
use proptest::prelude::*;
use prost::Message as _;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FileDescriptorSet};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

// ---------------------------------------------------------------------------------------------
// 1. The tables against the descriptors

fn descriptors() -> BTreeMap<String, DescriptorProto> {
    fn add(prefix: &str, m: &DescriptorProto, out: &mut BTreeMap<String, DescriptorProto>) {
        let name = format!("{prefix}.{}", m.name());
        for nested in &m.nested_type {
            add(&name, nested, out);
        }
        out.insert(name, m.clone());
    }
    let set = FileDescriptorSet::decode(opentelemetry_proto::DESCRIPTORS).unwrap();
    let mut out = BTreeMap::new();
    for file in &set.file {
        for m in &file.message_type {
            add(file.package(), m, &mut out);
        }
    }
    out
}

fn kind_matches(kind: Kind, ty: Type, type_name: &str) -> bool {
    match kind {
        Kind::Varint => matches!(
            ty,
            Type::Int32
                | Type::Int64
                | Type::Uint32
                | Type::Uint64
                | Type::Sint32
                | Type::Sint64
                | Type::Bool
                | Type::Enum
        ),
        Kind::Fixed32 => matches!(ty, Type::Fixed32 | Type::Sfixed32 | Type::Float),
        Kind::Fixed64 => matches!(ty, Type::Fixed64 | Type::Sfixed64 | Type::Double),
        Kind::Bytes => ty == Type::Bytes,
        Kind::String => ty == Type::String,
        Kind::Message(m) => ty == Type::Message && type_name == format!(".{}", m.name),
    }
}

#[test]
fn the_schema_tables_match_the_protobuf_descriptors_field_for_field() {
    let all = descriptors();
    let mut todo: Vec<&'static Message> = vec![
        &schema::EXPORT_TRACE_SERVICE_REQUEST,
        &schema::EXPORT_METRICS_SERVICE_REQUEST,
        &schema::EXPORT_LOGS_SERVICE_REQUEST,
    ];
    let mut seen = HashSet::new();
    while let Some(msg) = todo.pop() {
        if !seen.insert(msg.name) {
            continue;
        }
        let d = all
            .get(msg.name)
            .unwrap_or_else(|| panic!("{} is not in the descriptors", msg.name));
        let mut numbers: Vec<u32> = msg.fields.iter().map(|f| f.number).collect();
        let sorted = {
            let mut s = numbers.clone();
            s.sort();
            s
        };
        assert_eq!(numbers, sorted, "{}: fields are sorted by number", msg.name);
        numbers.dedup();
        assert_eq!(
            numbers.len(),
            msg.fields.len(),
            "{}: no duplicates",
            msg.name
        );
        let want: Vec<u32> = {
            let mut v: Vec<u32> = d.field.iter().map(|f| f.number() as u32).collect();
            v.sort();
            v
        };
        assert_eq!(numbers, want, "{}: the same field numbers", msg.name);
        let mut real_oneofs = HashSet::new();
        for fd in &d.field {
            let ours = msg.field(fd.number() as u32).unwrap();
            assert_eq!(ours.name, fd.name(), "{}.{}", msg.name, fd.name());
            assert!(
                kind_matches(ours.kind, fd.r#type(), fd.type_name()),
                "{}.{}: {:?} vs {:?} {}",
                msg.name,
                fd.name(),
                ours.kind,
                fd.r#type(),
                fd.type_name()
            );
            assert_eq!(
                ours.repeated,
                fd.label() == Label::Repeated,
                "{}.{} repeated",
                msg.name,
                fd.name()
            );
            let in_oneof = fd.oneof_index.is_some() && !fd.proto3_optional();
            if in_oneof {
                real_oneofs.insert(fd.oneof_index());
            }
            assert_eq!(
                ours.role == Role::Oneof,
                in_oneof,
                "{}.{} oneof",
                msg.name,
                fd.name()
            );
            if ours.role == Role::Item {
                assert!(ours.repeated && matches!(ours.kind, Kind::Message(_)));
            }
            if let Kind::Message(child) = ours.kind {
                todo.push(child);
            }
        }
        assert!(
            real_oneofs.len() <= 1,
            "{}: the walker tracks one oneof per message",
            msg.name
        );
    }
    assert_eq!(
        seen.len(),
        34,
        "every message of the three requests was checked"
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Differential: generated inputs

fn put_varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_key(number: u32, wire: u8, out: &mut Vec<u8>) {
    put_varint(u64::from(number) << 3 | u64::from(wire), out);
}

fn reaches_any_value(msg: &'static Message, seen: &mut Vec<&'static str>) -> bool {
    if std::ptr::eq(msg, &schema::ANY_VALUE) {
        return true;
    }
    if seen.contains(&msg.name) {
        return false;
    }
    seen.push(msg.name);
    msg.fields.iter().any(|f| match f.kind {
        Kind::Message(c) => reaches_any_value(c, seen),
        _ => false,
    })
}

/// Generates protobuf bytes for a schema message, with faults injected at rate `fault`.
struct Gen {
    rng: SmallRng,
    fault: f64,
    /// Nest along AnyValue/ArrayValue/KeyValueList chains until this depth (0 = request).
    deep: Option<u32>,
    /// Fields left to emit (beyond the deep chain), so requests stay small.
    budget: u32,
}

impl Gen {
    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    fn faulty(&mut self) -> bool {
        self.fault > 0.0 && self.chance(self.fault)
    }

    fn varint_value(&mut self, out: &mut Vec<u8>) {
        match self.rng.random_range(0..10) {
            0..=4 => put_varint(self.rng.random_range(0..300), out),
            5 | 6 => put_varint(self.rng.random(), out),
            7 => {
                // Overlong but valid: padding continuation bytes.
                let pad = self.rng.random_range(1..4);
                for _ in 0..pad {
                    out.push(0x80 | self.rng.random_range(0..0x80u8));
                }
                out.push(0);
            }
            _ => {
                // Ten bytes: the last may only be 0 or 1.
                out.extend(std::iter::repeat_n(0xff, 9));
                let last = if self.faulty() {
                    self.rng.random_range(2..0x100u32) as u8
                } else {
                    self.rng.random_range(0..2)
                };
                out.push(last);
            }
        }
    }

    fn text(&mut self, out: &mut Vec<u8>) {
        let s: &[&str] = &[
            "",
            "GET /api",
            "ünïcødé",
            "日本語",
            "🦀x",
            "service.name",
            "a\u{0}b",
        ];
        let mut v = s[self.rng.random_range(0..s.len())].as_bytes().to_vec();
        if self.faulty() && !v.is_empty() {
            let at = self.rng.random_range(0..v.len());
            v[at] = [0xff, 0xc0, 0x80, 0xed][self.rng.random_range(0..4)];
        }
        self.delimited(&v, out);
    }

    fn delimited(&mut self, body: &[u8], out: &mut Vec<u8>) {
        let mut len = body.len() as u64;
        if self.faulty() {
            len = match self.rng.random_range(0..3) {
                0 => len + 1,
                1 => len.saturating_sub(1),
                _ => len + self.rng.random_range(2..1000),
            };
        }
        put_varint(len, out);
        out.extend_from_slice(body);
    }

    fn fixed(&mut self, width: usize, out: &mut Vec<u8>) {
        let w = if self.faulty() {
            self.rng.random_range(0..width)
        } else {
            width
        };
        for _ in 0..w {
            out.push(self.rng.random());
        }
    }

    fn scalar(&mut self, kind: Kind, out: &mut Vec<u8>) {
        match kind {
            Kind::Varint => self.varint_value(out),
            Kind::Fixed32 => self.fixed(4, out),
            _ => self.fixed(8, out),
        }
    }

    fn wire_of(kind: Kind) -> u8 {
        match kind {
            Kind::Varint => VARINT,
            Kind::Fixed32 => FIXED32,
            Kind::Fixed64 => FIXED64,
            _ => LEN,
        }
    }

    /// A field of any number and wire type with plausible contents (what an unknown field, or a
    /// known field sent with the wrong type, looks like).
    fn any_field(&mut self, depth: u32, out: &mut Vec<u8>) {
        self.budget = self.budget.saturating_sub(1);
        let number = if self.chance(0.05) {
            self.rng.random_range(17..100_000)
        } else {
            self.rng.random_range(1..17)
        };
        let wire = if self.chance(0.02) {
            self.rng.random_range(6..8)
        } else {
            self.rng.random_range(0..6)
        };
        put_key(number, wire, out);
        match wire {
            VARINT => self.varint_value(out),
            FIXED64 => self.fixed(8, out),
            FIXED32 => self.fixed(4, out),
            LEN => {
                let body: Vec<u8> = if self.chance(0.5) || depth > 110 || self.budget == 0 {
                    (0..self.rng.random_range(0..12))
                        .map(|_| self.rng.random())
                        .collect()
                } else {
                    let mut b = Vec::new();
                    let n = self.rng.random_range(0..3);
                    for _ in 0..n {
                        self.any_field(depth + 1, &mut b);
                    }
                    b
                };
                self.delimited(&body, out);
            }
            START_GROUP => {
                if depth < 110 && self.budget > 0 {
                    let n = self.rng.random_range(0..3);
                    for _ in 0..n {
                        self.any_field(depth + 1, out);
                    }
                }
                let end = if self.faulty() { number + 1 } else { number };
                put_key(end, END_GROUP, out);
            }
            _ => {}
        }
    }

    fn field(&mut self, f: &'static schema::Field, depth: u32, out: &mut Vec<u8>) {
        if self.faulty() {
            // The right number with another wire type.
            let right = Self::wire_of(f.kind);
            let mut wire = self.rng.random_range(0..6);
            if wire == right {
                wire = (wire + 1) % 6;
            }
            put_key(f.number, wire, out);
            match wire {
                VARINT => self.varint_value(out),
                FIXED64 => self.fixed(8, out),
                FIXED32 => self.fixed(4, out),
                LEN => self.delimited(&[0x08, 0x01], out),
                START_GROUP => put_key(f.number, END_GROUP, out),
                _ => {}
            }
            return;
        }
        match f.kind {
            Kind::Varint | Kind::Fixed32 | Kind::Fixed64 => {
                if f.repeated && self.chance(0.5) {
                    put_key(f.number, LEN, out);
                    let mut body = Vec::new();
                    for _ in 0..self.rng.random_range(0..5) {
                        self.scalar(f.kind, &mut body);
                    }
                    self.delimited(&body, out);
                } else {
                    put_key(f.number, Self::wire_of(f.kind), out);
                    self.scalar(f.kind, out);
                }
            }
            Kind::String => {
                put_key(f.number, LEN, out);
                self.text(out);
            }
            Kind::Bytes => {
                put_key(f.number, LEN, out);
                let b: Vec<u8> = (0..self.rng.random_range(0..17))
                    .map(|_| self.rng.random())
                    .collect();
                self.delimited(&b, out);
            }
            Kind::Message(child) => {
                put_key(f.number, LEN, out);
                let mut body = Vec::new();
                self.message(child, depth + 1, &mut body);
                self.delimited(&body, out);
            }
        }
    }

    /// The fields of `msg` at `depth` (the request itself is depth 0).
    fn message(&mut self, msg: &'static Message, depth: u32, out: &mut Vec<u8>) {
        if let Some(target) = self.deep {
            if depth < target {
                let onward: Vec<_> = msg
                    .fields
                    .iter()
                    .filter(|f| match f.kind {
                        Kind::Message(c) => reaches_any_value(c, &mut Vec::new()),
                        _ => false,
                    })
                    .collect();
                if !onward.is_empty() {
                    let f = onward[self.rng.random_range(0..onward.len())];
                    self.field(f, depth, out);
                }
            }
        }
        let n = match depth {
            0..=4 => self.rng.random_range(0..5),
            5..=8 => self.rng.random_range(0..3),
            _ => self.rng.random_range(0..2),
        };
        for _ in 0..n {
            if self.budget == 0 {
                break;
            }
            self.budget -= 1;
            if self.chance(0.06) {
                self.any_field(depth, out);
                continue;
            }
            let f = &msg.fields[self.rng.random_range(0..msg.fields.len())];
            if depth > 12 && matches!(f.kind, Kind::Message(_)) && self.deep.is_none() {
                continue;
            }
            let reps = if f.repeated || self.chance(0.1) {
                self.rng.random_range(1..4)
            } else {
                1
            };
            for _ in 0..reps {
                self.field(f, depth, out);
            }
        }
    }
}

fn generate(msg: &'static Message, seed: u64) -> Vec<u8> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let fault = [0.0, 0.0, 0.002, 0.01, 0.04][rng.random_range(0..5)];
    let deep = if rng.random_bool(0.15) {
        Some(rng.random_range(92..106))
    } else {
        None
    };
    let budget = rng.random_range(1..200);
    let mut g = Gen {
        rng,
        fault,
        deep,
        budget,
    };
    let mut out = Vec::new();
    g.message(msg, 0, &mut out);
    out
}

fn mutate(bytes: &mut Vec<u8>, seed: u64) {
    let mut rng = SmallRng::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15);
    for _ in 0..rng.random_range(1..4) {
        if bytes.is_empty() {
            bytes.push(rng.random());
            continue;
        }
        let at = rng.random_range(0..bytes.len());
        match rng.random_range(0..5) {
            0 => bytes[at] ^= 1 << rng.random_range(0..8),
            1 => bytes[at] = rng.random(),
            2 => {
                bytes.remove(at);
            }
            3 => bytes.insert(at, rng.random()),
            _ => bytes.truncate(at),
        }
    }
}

#[derive(Default, Debug)]
struct Tally {
    accepted: usize,
    refused: usize,
    items: u64,
    recursion: usize,
}

/// The walker's verdict and count must equal prost's on `bytes`.
fn agree<T: Payload>(bytes: &[u8], tally: &mut Tally) -> Result<(), String> {
    let walked = wire::validate(T::SCHEMA, bytes);
    let decoded = T::decode(bytes);
    match (&walked, &decoded) {
        (Ok(n), Ok(req)) => {
            if *n != req.item_count() as u64 {
                return Err(format!(
                    "counts differ: walker {n}, prost {}",
                    req.item_count()
                ));
            }
            tally.accepted += 1;
            tally.items += n;
        }
        (Err(e), Err(_)) => {
            tally.refused += 1;
            if e.reason == Reason::RecursionLimit {
                tally.recursion += 1;
            }
        }
        _ => {
            return Err(format!(
                "verdicts differ: walker {walked:?}, prost {:?}",
                decoded.map(|r| r.item_count())
            ))
        }
    }
    Ok(())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn check_seed<T: Payload>(seed: u64, tally: &mut Tally) -> Result<(), String> {
    let bytes = generate(T::SCHEMA, seed);
    agree::<T>(&bytes, tally).map_err(|e| format!("seed {seed}: {e}\n{}", hex(&bytes)))?;
    let mut mutated = bytes.clone();
    mutate(&mut mutated, seed);
    agree::<T>(&mutated, tally)
        .map_err(|e| format!("seed {seed} mutated: {e}\n{}", hex(&mutated)))?;
    // Two requests concatenated are one request holding both.
    let other = generate(T::SCHEMA, seed.wrapping_add(1));
    if let (Ok(a), Ok(b)) = (
        wire::validate(T::SCHEMA, &bytes),
        wire::validate(T::SCHEMA, &other),
    ) {
        let both = [bytes.as_slice(), other.as_slice()].concat();
        if wire::validate(T::SCHEMA, &both) != Ok(a + b) {
            return Err(format!(
                "seed {seed}: concatenation does not hold {a} + {b}"
            ));
        }
        agree::<T>(&both, tally)?;
    }
    Ok(())
}

fn sweep<T: Payload>(seeds: std::ops::Range<u64>) -> Tally {
    let mut tally = Tally::default();
    for seed in seeds {
        if let Err(e) = check_seed::<T>(seed, &mut tally) {
            panic!("{}: {e}", T::SIGNAL);
        }
    }
    eprintln!("{}: {tally:?}", T::SIGNAL);
    tally
}

/// The generator exercises both verdicts, items, and the recursion limit (so agreement means
/// something).
fn assert_varied(t: &Tally) {
    let total = t.accepted + t.refused;
    assert!(t.accepted * 5 > total, "{t:?}");
    assert!(t.refused * 5 > total, "{t:?}");
    assert!(t.items > 1000, "{t:?}");
    assert!(t.recursion > 10, "{t:?}");
}

#[test]
fn walker_agrees_with_prost_on_generated_trace_requests() {
    assert_varied(&sweep::<ExportTraceServiceRequest>(0..6000));
}

#[test]
fn walker_agrees_with_prost_on_generated_metrics_requests() {
    assert_varied(&sweep::<ExportMetricsServiceRequest>(0..6000));
}

#[test]
fn walker_agrees_with_prost_on_generated_logs_requests() {
    assert_varied(&sweep::<ExportLogsServiceRequest>(0..6000));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn walker_agrees_with_prost_on_random_seeds(seed in any::<u64>()) {
        let mut t = Tally::default();
        prop_assert_eq!(check_seed::<ExportTraceServiceRequest>(seed, &mut t), Ok(()));
        prop_assert_eq!(check_seed::<ExportMetricsServiceRequest>(seed, &mut t), Ok(()));
        prop_assert_eq!(check_seed::<ExportLogsServiceRequest>(seed, &mut t), Ok(()));
    }

    #[test]
    fn walker_agrees_with_prost_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let mut t = Tally::default();
        prop_assert_eq!(agree::<ExportTraceServiceRequest>(&bytes, &mut t), Ok(()));
        prop_assert_eq!(agree::<ExportMetricsServiceRequest>(&bytes, &mut t), Ok(()));
        prop_assert_eq!(agree::<ExportLogsServiceRequest>(&bytes, &mut t), Ok(()));
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-made cases at the edges

/// An AnyValue nested `levels` ArrayValues deep, inside Span attributes: the innermost AnyValue
/// sits at depth 5 + 2 * levels (request 0, ResourceSpans 1, ScopeSpans 2, Span 3, KeyValue 4).
fn nested_array_request(levels: usize) -> Vec<u8> {
    fn len(n: u32, body: Vec<u8>) -> Vec<u8> {
        let mut out = Vec::new();
        put_key(n, LEN, &mut out);
        put_varint(body.len() as u64, &mut out);
        out.extend(body);
        out
    }
    let mut any = Vec::new(); // an empty AnyValue
    for _ in 0..levels {
        any = len(5, len(1, any)); // AnyValue { array_value { values: [any] } }
    }
    let kv = len(2, any);
    len(1, len(2, len(2, len(9, kv))))
}

#[test]
fn the_recursion_limit_is_prosts_to_the_level() {
    // Depth 5 + 2 * 47 = 99 and 101: prost refuses a message nested 101 deep.
    for levels in [46usize, 47, 48] {
        let bytes = nested_array_request(levels);
        let mut t = Tally::default();
        agree::<ExportTraceServiceRequest>(&bytes, &mut t).unwrap();
        assert_eq!(t.accepted, usize::from(levels < 48), "levels {levels}");
    }
}

#[test]
fn metric_data_counts_follow_the_last_oneof_member() {
    use opentelemetry_proto::tonic::metrics::v1::{
        metric::Data, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    };
    let gauge = |n| Metric {
        data: Some(Data::Gauge(Gauge {
            data_points: vec![NumberDataPoint::default(); n],
        })),
        ..Default::default()
    };
    let sum = |n| Metric {
        data: Some(Data::Sum(Sum {
            data_points: vec![NumberDataPoint::default(); n],
            ..Default::default()
        })),
        ..Default::default()
    };
    // Field-wise merge of three encoded Metrics into one: gauge(3), sum(2), gauge(4) -> 4 points;
    // gauge(3), gauge(4) -> 7 points.
    for (parts, want) in [
        (vec![gauge(3), sum(2), gauge(4)], 4),
        (vec![gauge(3), gauge(4)], 7),
    ] {
        let metric: Vec<u8> = parts.iter().flat_map(|m| m.encode_to_vec()).collect();
        let mut sm = Vec::new();
        put_key(2, LEN, &mut sm);
        put_varint(metric.len() as u64, &mut sm);
        sm.extend(&metric);
        let rm = ResourceMetrics {
            scope_metrics: vec![ScopeMetrics::default()],
            ..Default::default()
        };
        let mut rm_bytes = rm.encode_to_vec();
        // Replace the empty ScopeMetrics (12 00) with ours.
        rm_bytes.truncate(rm_bytes.len() - 2);
        put_key(2, LEN, &mut rm_bytes);
        put_varint(sm.len() as u64, &mut rm_bytes);
        rm_bytes.extend(&sm);
        let mut req = Vec::new();
        put_key(1, LEN, &mut req);
        put_varint(rm_bytes.len() as u64, &mut req);
        req.extend(&rm_bytes);
        let mut t = Tally::default();
        agree::<ExportMetricsServiceRequest>(&req, &mut t).unwrap();
        assert_eq!(t.items, want);
    }
}
