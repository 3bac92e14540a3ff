//! A bounded queue per signal, bounded in items (spans, data points, log records) rather than in
//! requests, so one huge request cannot sneak past the limit. Items hold their capacity (a
//! semaphore permit) until they are delivered or dropped, so "queue size" includes in-flight data.

use std::marker::PhantomData;
use std::sync::Arc;

use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

use crate::signal::{Encoded, Payload};

/// A queued request: its encoded bytes, items, and the room it holds in the queue.
pub struct Queued {
    pub request: Encoded,
    pub(crate) permit: Option<OwnedSemaphorePermit>,
}

/// Why a request was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The queue is full right now; the sender should retry later.
    Full,
    /// The request alone holds more items than the whole queue.
    TooLarge { items: usize, capacity: usize },
    /// The relay is shutting down.
    Closed,
}

/// The sending side of one signal's queue; `T` (the signal's request type) keeps signals apart.
pub struct QueueSender<T> {
    tx: mpsc::UnboundedSender<Queued>,
    room: Arc<Semaphore>,
    capacity: usize,
    signal: PhantomData<fn(T)>,
}

impl<T> Clone for QueueSender<T> {
    fn clone(&self) -> Self {
        QueueSender {
            tx: self.tx.clone(),
            room: self.room.clone(),
            capacity: self.capacity,
            signal: PhantomData,
        }
    }
}

pub struct QueueReceiver<T> {
    pub(crate) rx: mpsc::UnboundedReceiver<Queued>,
    pub(crate) room: Arc<Semaphore>,
    pub capacity: usize,
    signal: PhantomData<fn(T)>,
}

pub fn queue<T: Payload>(capacity: usize) -> (QueueSender<T>, QueueReceiver<T>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let room = Arc::new(Semaphore::new(capacity));
    (
        QueueSender {
            tx,
            room: room.clone(),
            capacity,
            signal: PhantomData,
        },
        QueueReceiver {
            rx,
            room,
            capacity,
            signal: PhantomData,
        },
    )
}

impl<T: Payload> QueueSender<T> {
    /// Queues `request` if there is room for its items; never waits.
    pub fn try_send(&self, request: Encoded) -> Result<(), Refusal> {
        let items = request.items;
        if items > self.capacity {
            return Err(Refusal::TooLarge {
                items,
                capacity: self.capacity,
            });
        }
        let permit = match self.room.clone().try_acquire_many_owned(items as u32) {
            Ok(p) => p,
            Err(tokio::sync::TryAcquireError::NoPermits) => return Err(Refusal::Full),
            Err(tokio::sync::TryAcquireError::Closed) => return Err(Refusal::Closed),
        };
        self.tx
            .send(Queued {
                request,
                permit: Some(permit),
            })
            .map_err(|_| Refusal::Closed)
    }
}

impl<T> QueueReceiver<T> {
    /// Items queued or in flight.
    pub fn len(&self) -> usize {
        self.capacity - self.room.available_permits().min(self.capacity)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Refuses new items from now on; what is queued can still be received.
    pub fn close(&mut self) {
        self.room.close();
        self.rx.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest as Req;

    fn req(items: usize) -> Encoded {
        Encoded {
            bytes: bytes::Bytes::new(),
            items,
        }
    }

    #[test]
    fn refuses_when_full_and_frees_room_when_items_are_released() {
        let (tx, mut rx) = queue::<Req>(10);
        tx.try_send(req(6)).unwrap();
        assert_eq!(tx.try_send(req(5)), Err(Refusal::Full));
        tx.try_send(req(4)).unwrap();
        assert_eq!(rx.len(), 10);
        let first = rx.rx.try_recv().unwrap();
        assert_eq!(
            rx.len(),
            10,
            "received but undelivered items still take room"
        );
        drop(first);
        assert_eq!(rx.len(), 4);
        tx.try_send(req(6)).unwrap();
        assert_eq!(
            tx.try_send(req(11)),
            Err(Refusal::TooLarge {
                items: 11,
                capacity: 10
            })
        );
        rx.close();
        assert_eq!(tx.try_send(req(0)), Err(Refusal::Closed));
    }
}
