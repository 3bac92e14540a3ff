//! Batching decision: whole requests are merged until the batch holds `batch_size` items or its
//! oldest item has waited `timeout`. Pure apart from the permits it carries.

use std::time::{Duration, Instant};

use tokio::sync::OwnedSemaphorePermit;

use super::queue::Queued;
use crate::signal::Payload;

pub struct Batch<T> {
    pub payload: T,
    pub items: usize,
    pub requests: usize,
    // Released (making room in the queue) when the batch is delivered or dropped.
    _permits: Vec<OwnedSemaphorePermit>,
}

pub struct Batcher<T> {
    batch_size: usize,
    timeout: Duration,
    pending: Option<(Batch<T>, Instant)>,
}

impl<T: Payload> Batcher<T> {
    pub fn new(batch_size: usize, timeout: Duration) -> Self {
        Batcher {
            batch_size: batch_size.max(1),
            timeout,
            pending: None,
        }
    }

    /// Adds a request; returns the batch when it reached `batch_size` items.
    pub fn push(&mut self, q: Queued<T>, now: Instant) -> Option<Batch<T>> {
        let Queued {
            payload,
            items,
            permit,
        } = q;
        match &mut self.pending {
            Some((batch, _)) => {
                batch.payload.absorb(payload);
                batch.items += items;
                batch.requests += 1;
                batch._permits.extend(permit);
            }
            None => {
                let batch = Batch {
                    payload,
                    items,
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

    pub fn take(&mut self) -> Option<Batch<T>> {
        self.pending.take().map(|(b, _)| b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest as Req;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

    fn req(spans: usize) -> Queued<Req> {
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
            items: payload.item_count(),
            payload,
            permit: None,
        }
    }

    #[test]
    fn flushes_when_batch_size_is_reached_merging_requests() {
        let t0 = Instant::now();
        let mut b = Batcher::<Req>::new(10, Duration::from_secs(1));
        assert!(b.push(req(4), t0).is_none());
        assert!(b.push(req(4), t0).is_none());
        let batch = b.push(req(4), t0).expect("12 >= 10 flushes");
        assert_eq!(batch.items, 12);
        assert_eq!(batch.requests, 3);
        assert_eq!(batch.payload.item_count(), 12);
        assert_eq!(batch.payload.resource_spans.len(), 3);
        assert!(b.deadline().is_none());
    }

    #[test]
    fn deadline_is_set_by_the_oldest_request() {
        let t0 = Instant::now();
        let mut b = Batcher::<Req>::new(100, Duration::from_millis(200));
        assert!(b.deadline().is_none());
        b.push(req(1), t0);
        b.push(req(1), t0 + Duration::from_millis(150));
        assert_eq!(b.deadline(), Some(t0 + Duration::from_millis(200)));
        let batch = b.take().unwrap();
        assert_eq!(batch.items, 2);
        assert!(b.take().is_none());
    }

    #[test]
    fn a_single_request_larger_than_the_batch_flushes_alone() {
        let mut b = Batcher::<Req>::new(5, Duration::from_secs(1));
        let batch = b.push(req(50), Instant::now()).unwrap();
        assert_eq!(batch.items, 50);
    }
}
