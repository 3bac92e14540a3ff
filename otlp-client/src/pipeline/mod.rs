//! One pipeline per enabled signal: queue -> batcher -> exporter (several batches at once), with
//! retries and the breaker.

pub mod batch;
pub mod queue;

use std::marker::PhantomData;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::SeedableRng;
use tokio::task::JoinSet;
use tokio::time::sleep_until;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use crate::breaker::{Admission, Breaker, BreakerState};
use crate::exporter::Exporter;
use crate::ops::metrics::{DropReason, Metrics};
use crate::retry::{backoff, Retry};
use crate::signal::Payload;
use batch::{Batch, Batcher};
use queue::QueueReceiver;

#[derive(Clone, Debug)]
pub struct Settings {
    pub batch_size: usize,
    pub batch_timeout: Duration,
    pub max_concurrent_exports: usize,
    pub max_retries: u32,
    pub retry_delay: Duration,
    pub max_retry_delay: Duration,
    pub breaker_threshold: u32,
    pub breaker_reset_timeout: Duration,
}

pub struct Pipeline<T: Payload> {
    queue: QueueReceiver<T>,
    sender: Arc<Sender<T>>,
}

/// Delivers batches upstream; shared by the batches exporting at the same time.
struct Sender<T> {
    exporter: Exporter,
    settings: Settings,
    metrics: Arc<Metrics>,
    breaker: Mutex<Breaker>,
    rng: Mutex<SmallRng>,
    signal: PhantomData<fn(T)>,
}

/// What a pipeline reports when it ends.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub sent: u64,
    pub undelivered: u64,
}

impl Summary {
    fn add(&mut self, other: Summary) {
        self.sent += other.sent;
        self.undelivered += other.undelivered;
    }
}

/// Exports in flight, at most `max` at a time.
struct Exports {
    running: JoinSet<Summary>,
    max: usize,
}

impl Exports {
    fn has_room(&self) -> bool {
        self.running.len() < self.max
    }

    /// Waits for one export to end; `None` when none is running.
    async fn next(&mut self) -> Option<Summary> {
        match self.running.join_next().await? {
            Ok(s) => Some(s),
            Err(e) => {
                error!("export task failed: {e}");
                Some(Summary::default())
            }
        }
    }
}

impl<T: Payload> Pipeline<T> {
    pub fn new(
        queue: QueueReceiver<T>,
        exporter: Exporter,
        settings: Settings,
        metrics: Arc<Metrics>,
    ) -> Self {
        let breaker = Breaker::new(settings.breaker_threshold, settings.breaker_reset_timeout);
        metrics.register_queue(T::SIGNAL, queue.room.clone(), queue.capacity);
        Pipeline {
            queue,
            sender: Arc::new(Sender {
                exporter,
                settings,
                metrics,
                breaker: Mutex::new(breaker),
                rng: Mutex::new(SmallRng::from_os_rng()),
                signal: PhantomData,
            }),
        }
    }

    /// Runs until `stop` (receivers are closed), then drains what is queued. Up to
    /// `max_concurrent_exports` batches are exported at once. Delivery gives up when `hard_stop`
    /// fires (the shutdown deadline); what is left is counted as undelivered.
    pub async fn run(self, stop: CancellationToken, hard_stop: CancellationToken) -> Summary {
        let signal = T::SIGNAL;
        let Pipeline { mut queue, sender } = self;
        let settings = &sender.settings;
        let mut batcher = Batcher::new(settings.batch_size, settings.batch_timeout);
        let mut exports = Exports {
            running: JoinSet::new(),
            max: settings.max_concurrent_exports.max(1),
        };
        let mut summary = Summary::default();
        let export = |exports: &mut Exports, b: Batch| {
            exports
                .running
                .spawn(sender.clone().deliver(b, hard_stop.clone()));
        };
        loop {
            let deadline = batcher.deadline();
            // A full set of exports stops taking from the queue: it fills, then senders are refused.
            let room = exports.has_room();
            let ready = tokio::select! {
                _ = stop.cancelled() => break,
                Some(done) = exports.next(), if !exports.running.is_empty() => {
                    summary.add(done);
                    None
                }
                q = queue.rx.recv(), if room => match q {
                    Some(q) => batcher.push(q, Instant::now()),
                    None => break,
                },
                _ = sleep_until(deadline.unwrap_or_else(Instant::now).into()), if room && deadline.is_some() => batcher.take(),
            };
            if let Some(b) = ready {
                export(&mut exports, b);
            }
        }

        queue.close();
        let queued = queue.len();
        if queued > 0 {
            info!(%signal, queued, "draining the queue upstream before exit");
        }
        let mut pending = Vec::new();
        while let Some(q) = queue.rx.recv().await {
            pending.extend(batcher.push(q, Instant::now()));
        }
        pending.extend(batcher.take());
        for b in pending {
            while !exports.has_room() {
                if let Some(done) = exports.next().await {
                    summary.add(done);
                }
            }
            export(&mut exports, b);
        }
        while let Some(done) = exports.next().await {
            summary.add(done);
        }
        if summary.undelivered > 0 {
            error!(%signal, undelivered = summary.undelivered, "{} {} could not be delivered upstream before the shutdown deadline", summary.undelivered, signal.item_name());
        }
        summary
    }
}

impl<T: Payload> Sender<T> {
    fn breaker(&self) -> std::sync::MutexGuard<'_, Breaker> {
        self.breaker.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn publish_breaker(&self, before: BreakerState, last_error: &str) {
        let signal = T::SIGNAL;
        let now = self.breaker().state();
        self.metrics.set_breaker_state(signal, now.gauge());
        if before == now {
            return;
        }
        match now {
            BreakerState::Open => {
                warn!(%signal, upstream = %self.exporter.endpoint, error = last_error,
                "circuit breaker opened: holding data (queue fills, then senders get backpressure); next probe in {:?}", self.settings.breaker_reset_timeout)
            }
            BreakerState::HalfOpen => {
                info!(%signal, upstream = %self.exporter.endpoint, "circuit breaker half-open: probing the upstream")
            }
            BreakerState::Closed => {
                info!(%signal, upstream = %self.exporter.endpoint, "circuit breaker closed: upstream is back")
            }
        }
    }

    fn drop_batch(&self, batch: &Batch, reason: DropReason, why: &str, summary: &mut Summary) {
        let signal = T::SIGNAL;
        self.metrics
            .items_dropped(signal, reason, batch.items as u64);
        summary.undelivered += batch.items as u64;
        error!(%signal, items = batch.items, reason = reason.as_str(), upstream = %self.exporter.endpoint,
            "dropped {} {}: {why}", batch.items, signal.item_name());
    }

    /// Sends one batch until it is delivered, refused, out of retries, or the shutdown deadline.
    async fn deliver(self: Arc<Self>, batch: Batch, hard_stop: CancellationToken) -> Summary {
        let mut summary = Summary::default();
        self.deliver_into(batch, &hard_stop, &mut summary).await;
        summary
    }

    async fn deliver_into(
        &self,
        batch: Batch,
        hard_stop: &CancellationToken,
        summary: &mut Summary,
    ) {
        let signal = T::SIGNAL;
        let mut retries: u32 = 0;
        let mut attempts: u32 = 0;
        let mut last_error = String::new();
        let body = batch.body();
        loop {
            if hard_stop.is_cancelled() {
                let why = if last_error.is_empty() {
                    "shutdown deadline passed".to_string()
                } else {
                    format!("shutdown deadline passed; last error: {last_error}")
                };
                return self.drop_batch(&batch, DropReason::Shutdown, &why, summary);
            }
            let (before, admission) = {
                let mut breaker = self.breaker();
                (breaker.state(), breaker.admit(Instant::now()))
            };
            self.publish_breaker(before, &last_error);
            if let Admission::WaitUntil(until) = admission {
                tokio::select! {
                    _ = sleep_until(until.into()) => {}
                    _ = hard_stop.cancelled() => {}
                }
                continue;
            }
            if attempts > 0 {
                self.metrics.export_retry(signal);
            }
            attempts += 1;
            let result = tokio::select! {
                r = self.exporter.send::<T>(&body) => r,
                _ = hard_stop.cancelled() => continue,
            };
            let before = self.breaker().state();
            match result {
                Ok(accepted) => {
                    self.breaker().on_success();
                    self.publish_breaker(before, "");
                    let delivered = (batch.items as u64).saturating_sub(accepted.rejected);
                    self.metrics.items_sent(signal, delivered);
                    summary.sent += delivered;
                    if accepted.rejected > 0 {
                        self.metrics.items_dropped(
                            signal,
                            DropReason::PartialSuccess,
                            accepted.rejected,
                        );
                        summary.undelivered += accepted.rejected;
                        warn!(%signal, rejected = accepted.rejected, "upstream rejected {} of {} {}: {}", accepted.rejected, batch.items, signal.item_name(), accepted.message);
                    } else {
                        debug!(%signal, items = batch.items, requests = batch.requests, "batch delivered");
                    }
                    return;
                }
                Err(e) => {
                    self.metrics.export_failure(signal);
                    last_error = e.message.clone();
                    match e.retry {
                        Retry::Permanent => {
                            return self.drop_batch(
                                &batch,
                                DropReason::Rejected,
                                &format!("upstream refused them (not retryable): {}", e.message),
                                summary,
                            );
                        }
                        Retry::Retryable { after } => {
                            let (opened, state) = {
                                let mut breaker = self.breaker();
                                (breaker.on_failure(Instant::now()), breaker.state())
                            };
                            self.publish_breaker(before, &e.message);
                            if opened || state != BreakerState::Closed {
                                // The breaker holds this batch until a probe succeeds.
                                retries = 0;
                                continue;
                            }
                            if retries >= self.settings.max_retries {
                                return self.drop_batch(
                                    &batch,
                                    DropReason::RetriesExhausted,
                                    &format!(
                                        "{} retries used up; last error: {}",
                                        self.settings.max_retries, e.message
                                    ),
                                    summary,
                                );
                            }
                            retries += 1;
                            let wait = backoff(
                                retries,
                                self.settings.retry_delay,
                                self.settings.max_retry_delay,
                                after,
                                &mut *self.rng.lock().unwrap_or_else(|e| e.into_inner()),
                            );
                            debug!(%signal, retry = retries, wait = ?wait, error = %e.message, "export failed; retrying");
                            tokio::select! {
                                _ = tokio::time::sleep(wait) => {}
                                _ = hard_stop.cancelled() => {}
                            }
                        }
                    }
                }
            }
        }
    }
}
