//! A wire-format walker over encoded OTLP export requests: it checks a request exactly as strictly
//! as decoding it with prost would (keys, wire types, varints, lengths, UTF-8 of string fields,
//! every nested message down to AnyValue, prost's recursion limit) and counts its items, without
//! allocating. A request that passes can be forwarded as the bytes it arrived in, and two such
//! requests concatenated are again a valid request holding both (repeated fields concatenate).
//!
//! `tests/wire_props.rs` proves the equivalence: for generated and mutated inputs the walker
//! accepts exactly what prost accepts and counts what prost's decoded request holds.

pub mod schema;

use std::fmt;

use schema::{Field, Kind, Message, Role};

/// prost's default recursion limit: a message nested 101 levels below the request is refused.
const RECURSION_LIMIT: u32 = 100;

/// Why a request is not valid protobuf for its schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    InvalidVarint,
    InvalidKey,
    InvalidWireType,
    /// Field number 0.
    InvalidTag,
    /// A known field arrived with another wire type than its schema says.
    WrongWireType,
    /// A length or fixed-width value runs past the end of its enclosing message.
    Truncated,
    InvalidUtf8,
    UnexpectedEndGroup,
    RecursionLimit,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::InvalidVarint => "invalid varint",
            Reason::InvalidKey => "invalid field key",
            Reason::InvalidWireType => "invalid wire type",
            Reason::InvalidTag => "field number 0",
            Reason::WrongWireType => "wrong wire type",
            Reason::Truncated => "length runs past the end of the message",
            Reason::InvalidUtf8 => "string is not UTF-8",
            Reason::UnexpectedEndGroup => "unexpected end-group tag",
            Reason::RecursionLimit => "nested too deeply",
        }
    }
}

/// Where in the request the walker stopped, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WireError {
    pub reason: Reason,
    /// The message being read (short name, e.g. `Span`).
    pub message: &'static str,
    /// The field being read, when known.
    pub field: Option<&'static str>,
    /// Byte offset in the request.
    pub offset: usize,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} in {}", self.reason.as_str(), self.message)?;
        if let Some(field) = self.field {
            write!(f, ".{field}")?;
        }
        write!(f, " at byte {}", self.offset)
    }
}

impl std::error::Error for WireError {}

/// The protobuf wire types (the low three bits of a field key).
pub mod wire_type {
    pub const VARINT: u8 = 0;
    pub const FIXED64: u8 = 1;
    pub const LEN: u8 = 2;
    pub const START_GROUP: u8 = 3;
    pub const END_GROUP: u8 = 4;
    pub const FIXED32: u8 = 5;
}
use wire_type::{END_GROUP, FIXED32, FIXED64, LEN, START_GROUP, VARINT};

/// Validates `buf` as an encoded `msg` (an `Export*ServiceRequest`) and returns how many items
/// (spans, data points, log records) prost's decoding of it would hold.
pub fn validate(msg: &'static Message, buf: &[u8]) -> Result<u64, WireError> {
    validate_with(msg, buf, |_| {})
}

/// [`validate`], also handing every item's encoded bytes (one `Span`, data point or `LogRecord`)
/// to `on_item` as it is passed. Items seen before an error are handed over too.
pub fn validate_with<F: FnMut(&[u8])>(
    msg: &'static Message,
    buf: &[u8],
    on_item: F,
) -> Result<u64, WireError> {
    Walker {
        buf,
        msg,
        field: None,
        on_item,
    }
    .message_body(msg, 0, buf.len(), RECURSION_LIMIT)
}

/// The fields of an encoded message (already validated) as (number, wire type, value bytes; for a
/// varint its encoding, for a length-delimited field its contents). Stops at the first malformed
/// field. For tools that read a few fields of a validated request, like the benchmark sink.
pub fn fields(buf: &[u8]) -> impl Iterator<Item = (u32, u8, &[u8])> {
    let probe = Walker {
        buf,
        msg: &schema::SPAN,
        field: None,
        on_item: |_: &[u8]| {},
    };
    let end = buf.len();
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= end {
            return None;
        }
        let (n, wire) = probe.key(&mut pos, end).ok()?;
        let start = pos;
        let after = probe.skip(n, wire, pos, end, RECURSION_LIMIT).ok()?;
        pos = after;
        if wire == LEN {
            let mut p = start;
            let body_end = probe.delimited(&mut p, end).ok()?;
            return Some((n, wire, &buf[p..body_end]));
        }
        Some((n, wire, &buf[start..after]))
    })
}

/// The last value of fixed64 field `number` in the encoded message `buf` (already validated), as
/// prost would decode it; `None` when absent.
pub fn fixed64_field(buf: &[u8], number: u32) -> Option<u64> {
    fields(buf)
        .filter(|&(n, wire, v)| n == number && wire == FIXED64 && v.len() == 8)
        .last()
        .and_then(|(_, _, v)| v.try_into().ok().map(u64::from_le_bytes))
}

struct Walker<'a, F> {
    buf: &'a [u8],
    // Context for the error message.
    msg: &'static Message,
    field: Option<&'static Field>,
    on_item: F,
}

impl<F: FnMut(&[u8])> Walker<'_, F> {
    #[cold]
    fn fail(&self, reason: Reason, offset: usize) -> WireError {
        WireError {
            reason,
            message: self.msg.short_name(),
            field: self.field.map(|f| f.name),
            offset,
        }
    }

    /// Decodes a varint at `*pos` that must end before `end`; prost's rules: at most 10 bytes, the
    /// tenth at most 1.
    #[inline(always)]
    fn varint(&self, pos: &mut usize, end: usize) -> Result<u64, WireError> {
        let start = *pos;
        // Most varints (keys, lengths, small values) are one byte.
        if start < end && self.buf[start] < 0x80 {
            *pos = start + 1;
            return Ok(u64::from(self.buf[start]));
        }
        let mut value = 0u64;
        let mut i = start;
        let mut shift = 0;
        while i < end && i - start < 10 {
            let b = self.buf[i];
            i += 1;
            if b < 0x80 {
                if i - start == 10 && b > 1 {
                    break;
                }
                *pos = i;
                return Ok(value | (u64::from(b) << shift));
            }
            value |= u64::from(b & 0x7f) << shift;
            shift += 7;
        }
        Err(self.fail(Reason::InvalidVarint, start))
    }

    /// Reads a key: (field number, wire type).
    #[inline(always)]
    fn key(&self, pos: &mut usize, end: usize) -> Result<(u32, u8), WireError> {
        let at = *pos;
        let key = self.varint(pos, end)?;
        if key > u64::from(u32::MAX) {
            return Err(self.fail(Reason::InvalidKey, at));
        }
        let wire = (key & 7) as u8;
        if wire > 5 {
            return Err(self.fail(Reason::InvalidWireType, at));
        }
        let number = (key as u32) >> 3;
        if number == 0 {
            return Err(self.fail(Reason::InvalidTag, at));
        }
        Ok((number, wire))
    }

    /// Reads a length prefix and returns the end of the delimited bytes.
    #[inline(always)]
    fn delimited(&self, pos: &mut usize, end: usize) -> Result<usize, WireError> {
        let len = self.varint(pos, end)?;
        if len > (end - *pos) as u64 {
            return Err(self.fail(Reason::Truncated, *pos));
        }
        Ok(*pos + len as usize)
    }

    #[inline(always)]
    fn fixed(&self, pos: &mut usize, end: usize, width: usize) -> Result<(), WireError> {
        if end - *pos < width {
            return Err(self.fail(Reason::Truncated, *pos));
        }
        *pos += width;
        Ok(())
    }

    /// The fields of one `msg` in `buf[pos..end]`; `ctx` is prost's remaining recursion budget for
    /// them. Returns the items they hold.
    fn message_body(
        &mut self,
        msg: &'static Message,
        mut pos: usize,
        end: usize,
        ctx: u32,
    ) -> Result<u64, WireError> {
        let mut items = 0u64;
        // The oneof member seen last and the items under it (a different member replaces it).
        let mut oneof: Option<(u32, u64)> = None;
        while pos < end {
            self.msg = msg;
            self.field = None;
            let (number, wire) = self.key(&mut pos, end)?;
            let Some(field) = msg.field(number) else {
                pos = self.skip(number, wire, pos, end, ctx)?;
                continue;
            };
            self.field = Some(field);
            let found = self.field_value(field, wire, &mut pos, end, ctx)?;
            match field.role {
                Role::Plain => items += found,
                Role::Item => items += 1 + found,
                Role::Oneof => match &mut oneof {
                    Some((member, n)) if *member == number => *n += found,
                    _ => oneof = Some((number, found)),
                },
            }
        }
        Ok(items + oneof.map_or(0, |(_, n)| n))
    }

    /// One occurrence of a known field; returns the items inside it.
    #[inline(always)]
    fn field_value(
        &mut self,
        field: &'static Field,
        wire: u8,
        pos: &mut usize,
        end: usize,
        ctx: u32,
    ) -> Result<u64, WireError> {
        let at = *pos;
        match field.kind {
            Kind::Message(child) => {
                if wire != LEN {
                    return Err(self.fail(Reason::WrongWireType, at));
                }
                if ctx == 0 {
                    return Err(self.fail(Reason::RecursionLimit, at));
                }
                let child_end = self.delimited(pos, end)?;
                let items = self.message_body(child, *pos, child_end, ctx - 1)?;
                if field.role == Role::Item {
                    (self.on_item)(&self.buf[*pos..child_end]);
                }
                *pos = child_end;
                Ok(items)
            }
            Kind::String => {
                if wire != LEN {
                    return Err(self.fail(Reason::WrongWireType, at));
                }
                let s_end = self.delimited(pos, end)?;
                let text = &self.buf[*pos..s_end];
                if !text.is_ascii() && std::str::from_utf8(text).is_err() {
                    return Err(self.fail(Reason::InvalidUtf8, *pos));
                }
                *pos = s_end;
                Ok(0)
            }
            Kind::Bytes => {
                if wire != LEN {
                    return Err(self.fail(Reason::WrongWireType, at));
                }
                *pos = self.delimited(pos, end)?;
                Ok(0)
            }
            Kind::Varint | Kind::Fixed32 | Kind::Fixed64 => {
                let expected = match field.kind {
                    Kind::Varint => VARINT,
                    Kind::Fixed32 => FIXED32,
                    _ => FIXED64,
                };
                if wire == expected {
                    self.scalar(field.kind, pos, end)?;
                } else if wire == LEN && field.repeated {
                    // Packed: scalars back to back, ending exactly at the length.
                    let p_end = self.delimited(pos, end)?;
                    while *pos < p_end {
                        self.scalar(field.kind, pos, p_end)?;
                    }
                } else {
                    return Err(self.fail(Reason::WrongWireType, at));
                }
                Ok(0)
            }
        }
    }

    #[inline(always)]
    fn scalar(&self, kind: Kind, pos: &mut usize, end: usize) -> Result<(), WireError> {
        match kind {
            Kind::Varint => self.varint(pos, end).map(drop),
            Kind::Fixed32 => self.fixed(pos, end, 4),
            _ => self.fixed(pos, end, 8),
        }
    }

    /// Skips an unknown field the way prost does (groups included); returns the position after it.
    fn skip(
        &self,
        number: u32,
        wire: u8,
        mut pos: usize,
        end: usize,
        ctx: u32,
    ) -> Result<usize, WireError> {
        if ctx == 0 {
            return Err(self.fail(Reason::RecursionLimit, pos));
        }
        match wire {
            VARINT => {
                self.varint(&mut pos, end)?;
            }
            FIXED64 => self.fixed(&mut pos, end, 8)?,
            FIXED32 => self.fixed(&mut pos, end, 4)?,
            LEN => pos = self.delimited(&mut pos, end)?,
            START_GROUP => loop {
                let (inner, inner_wire) = self.key(&mut pos, end)?;
                if inner_wire == END_GROUP {
                    if inner != number {
                        return Err(self.fail(Reason::UnexpectedEndGroup, pos));
                    }
                    break;
                }
                pos = self.skip(inner, inner_wire, pos, end, ctx - 1)?;
            },
            _ => return Err(self.fail(Reason::UnexpectedEndGroup, pos)),
        }
        Ok(pos)
    }
}

#[cfg(test)]
mod tests {
    use super::schema::*;
    use super::*;

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn len_field(number: u32, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        varint(u64::from(number << 3 | 2), &mut out);
        varint(body.len() as u64, &mut out);
        out.extend_from_slice(body);
        out
    }

    /// ExportTraceServiceRequest { resource_spans { scope_spans { spans: [span; n] } } }
    fn trace_request(span: &[u8], n: usize) -> Vec<u8> {
        let spans: Vec<u8> = (0..n).flat_map(|_| len_field(2, span)).collect();
        len_field(1, &len_field(2, &spans))
    }

    #[test]
    fn counts_spans_and_accepts_the_empty_request() {
        let span = len_field(5, b"GET /");
        assert_eq!(
            validate(&EXPORT_TRACE_SERVICE_REQUEST, &trace_request(&span, 3)),
            Ok(3)
        );
        assert_eq!(validate(&EXPORT_TRACE_SERVICE_REQUEST, &[]), Ok(0));
        let two = [trace_request(&span, 3), trace_request(&span, 4)].concat();
        assert_eq!(
            validate(&EXPORT_TRACE_SERVICE_REQUEST, &two),
            Ok(7),
            "concatenated requests hold both"
        );
    }

    #[test]
    fn refuses_a_span_name_that_is_not_utf8_naming_the_field() {
        let span = len_field(5, &[0xff, 0xfe]);
        let e = validate(&EXPORT_TRACE_SERVICE_REQUEST, &trace_request(&span, 1)).unwrap_err();
        assert_eq!(e.reason, Reason::InvalidUtf8);
        assert_eq!(e.to_string(), "string is not UTF-8 in Span.name at byte 8");
        // The same bytes in a bytes field are fine.
        let span = len_field(1, &[0xff, 0xfe]);
        assert_eq!(
            validate(&EXPORT_TRACE_SERVICE_REQUEST, &trace_request(&span, 1)),
            Ok(1)
        );
    }

    #[test]
    fn fields_and_fixed64_field_read_a_validated_span() {
        let mut span = len_field(5, b"op");
        span.push(8 << 3 | 1);
        span.extend(42u64.to_le_bytes());
        let got: Vec<(u32, u8, Vec<u8>)> =
            fields(&span).map(|(n, w, v)| (n, w, v.to_vec())).collect();
        assert_eq!(
            got,
            vec![
                (5, LEN, b"op".to_vec()),
                (8, FIXED64, 42u64.to_le_bytes().to_vec())
            ]
        );
        assert_eq!(fixed64_field(&span, 8), Some(42));
        assert_eq!(fixed64_field(&span, 7), None);
    }

    #[test]
    fn the_tenth_byte_of_a_varint_may_only_be_zero_or_one() {
        let mut ok = vec![6 << 3]; // Span.kind, varint
        ok.extend([0xff; 9]);
        ok.push(0x01);
        assert_eq!(
            validate(&EXPORT_TRACE_SERVICE_REQUEST, &trace_request(&ok, 1)),
            Ok(1)
        );
        let mut bad = ok.clone();
        *bad.last_mut().unwrap() = 0x02;
        assert_eq!(
            validate(&EXPORT_TRACE_SERVICE_REQUEST, &trace_request(&bad, 1))
                .unwrap_err()
                .reason,
            Reason::InvalidVarint
        );
    }
}
