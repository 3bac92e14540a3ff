//! Batching decision: whole requests are collected until the batch holds `batch_size` items or its
//! oldest item has waited `timeout`. A batch is the concatenation of its requests' protobuf bytes
//! (repeated fields of concatenated messages concatenate), so nothing is decoded or re-encoded.
//! Pure apart from the permits it carries.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::sync::OwnedSemaphorePermit;

use super::queue::Queued;

pub struct Batch {
    chunks: Vec<Bytes>,
    pub items: usize,
    pub requests: usize,
    // Released (making room in the queue) when the batch is delivered or dropped.
    _permits: Vec<OwnedSemaphorePermit>,
}

impl Batch {
    /// The encoded export request holding every request of the batch.
    pub fn body(&self) -> Bytes {
        match self.chunks.as_slice() {
            [one] => one.clone(),
            chunks => {
                let mut out = BytesMut::with_capacity(chunks.iter().map(Bytes::len).sum());
                for c in chunks {
                    out.extend_from_slice(c);
                }
                out.freeze()
            }
        }
    }
}

pub struct Batcher {
    batch_size: usize,
    timeout: Duration,
    pending: Option<(Batch, Instant)>,
}

impl Batcher {
    pub fn new(batch_size: usize, timeout: Duration) -> Self {
        Batcher {
            batch_size: batch_size.max(1),
            timeout,
            pending: None,
        }
    }

    /// Adds a request; returns the batch when it reached `batch_size` items.
    pub fn push(&mut self, q: Queued, now: Instant) -> Option<Batch> {
        let Queued { request, permit } = q;
        match &mut self.pending {
            Some((batch, _)) => {
                batch.chunks.push(request.bytes);
                batch.items += request.items;
                batch.requests += 1;
                batch._permits.extend(permit);
            }
            None => {
                let batch = Batch {
                    chunks: vec![request.bytes],
                    items: request.items,
                    requests: 1,
                    _permits: permit.into_iter().collect(),
                };
                self.pending = Some((batch, now + self.timeout));
            }
        }
        if self
            .pending
            .as_ref()
            .is_some_and(|(b, _)| b.items >= self.batch_size)
        {
            return self.take();
        }
        None
    }

    /// When the pending batch must be flushed even if not full.
    pub fn deadline(&self) -> Option<Instant> {
        self.pending.as_ref().map(|(_, d)| *d)
    }

    pub fn take(&mut self) -> Option<Batch> {
        self.pending.take().map(|(b, _)| b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::{Encoded, Payload};
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest as Req;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    use prost::Message;

    fn req(spans: usize) -> Queued {
        let payload = Req {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span::default(); spans],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        Queued {
            request: Encoded::encode(&payload),
            permit: None,
        }
    }

    #[test]
    fn flushes_when_batch_size_is_reached_concatenating_requests() {
        let t0 = Instant::now();
        let mut b = Batcher::new(10, Duration::from_secs(1));
        assert!(b.push(req(4), t0).is_none());
        assert!(b.push(req(4), t0).is_none());
        let batch = b.push(req(4), t0).expect("12 >= 10 flushes");
        assert_eq!(batch.items, 12);
        assert_eq!(batch.requests, 3);
        let merged = Req::decode(batch.body()).expect("concatenated requests are one request");
        assert_eq!(merged.item_count(), 12);
        assert_eq!(merged.resource_spans.len(), 3);
        assert!(b.deadline().is_none());
    }

    #[test]
    fn deadline_is_set_by_the_oldest_request() {
        let t0 = Instant::now();
        let mut b = Batcher::new(100, Duration::from_millis(200));
        assert!(b.deadline().is_none());
        b.push(req(1), t0);
        b.push(req(1), t0 + Duration::from_millis(150));
        assert_eq!(b.deadline(), Some(t0 + Duration::from_millis(200)));
        let batch = b.take().unwrap();
        assert_eq!(batch.items, 2);
        assert!(b.take().is_none());
    }

    #[test]
    fn a_single_request_larger_than_the_batch_flushes_alone_without_a_copy() {
        let mut b = Batcher::new(5, Duration::from_secs(1));
        let q = req(50);
        let sent = q.request.bytes.clone();
        let batch = b.push(q, Instant::now()).unwrap();
        assert_eq!(batch.items, 50);
        assert_eq!(batch.body().as_ptr(), sent.as_ptr());
    }
}
