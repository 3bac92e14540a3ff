//! One pipeline per enabled signal: queue -> batcher -> exporter, with retries and the breaker.

pub mod batch;
pub mod queue;

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::SeedableRng;
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
    pub max_retries: u32,
    pub retry_delay: Duration,
    pub max_retry_delay: Duration,
    pub breaker_threshold: u32,
    pub breaker_reset_timeout: Duration,
}

pub struct Pipeline<T: Payload> {
    queue: QueueReceiver<T>,
    exporter: Exporter,
    settings: Settings,
    metrics: Arc<Metrics>,
    breaker: Breaker,
    rng: SmallRng,
}

/// What a pipeline reports when it ends.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub sent: u64,
    pub undelivered: u64,
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
            exporter,
            settings,
            metrics,
            breaker,
            rng: SmallRng::from_os_rng(),
        }
    }

    /// Runs until `stop` (receivers are closed), then drains what is queued. Delivery gives up
    /// when `hard_stop` fires (the shutdown deadline); what is left is counted as undelivered.
    pub async fn run(mut self, stop: CancellationToken, hard_stop: CancellationToken) -> Summary {
        let signal = T::SIGNAL;
        let mut batcher = Batcher::new(self.settings.batch_size, self.settings.batch_timeout);
        let mut summary = Summary::default();
        loop {
            let deadline = batcher.deadline();
            let ready = tokio::select! {
                _ = stop.cancelled() => break,
                q = self.queue.rx.recv() => match q {
                    Some(q) => batcher.push(q, Instant::now()),
                    None => break,
                },
                _ = sleep_until(deadline.unwrap_or_else(Instant::now).into()), if deadline.is_some() => batcher.take(),
            };
            if let Some(b) = ready {
                self.deliver(b, &hard_stop, &mut summary).await;
            }
        }

        self.queue.close();
        let queued = self.queue.len();
        if queued > 0 {
            info!(%signal, queued, "draining the queue upstream before exit");
        }
        while let Some(q) = self.queue.rx.recv().await {
            if let Some(b) = batcher.push(q, Instant::now()) {
                self.deliver(b, &hard_stop, &mut summary).await;
            }
        }
        if let Some(b) = batcher.take() {
            self.deliver(b, &hard_stop, &mut summary).await;
        }
        if summary.undelivered > 0 {
            error!(%signal, undelivered = summary.undelivered, "{} {} could not be delivered upstream before the shutdown deadline", summary.undelivered, signal.item_name());
        }
        summary
    }

    fn publish_breaker(&self, before: BreakerState, last_error: &str) {
        let signal = T::SIGNAL;
        let now = self.breaker.state();
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

    async fn deliver(
        &mut self,
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
            let before = self.breaker.state();
            let admission = self.breaker.admit(Instant::now());
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
            let before = self.breaker.state();
            match result {
                Ok(accepted) => {
                    self.breaker.on_success();
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
                            let opened = self.breaker.on_failure(Instant::now());
                            self.publish_breaker(before, &e.message);
                            if opened || self.breaker.state() != BreakerState::Closed {
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
                                &mut self.rng,
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
