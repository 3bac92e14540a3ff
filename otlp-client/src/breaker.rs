//! Circuit breaker: a pure state machine driven by the exporter with explicit times, so every
//! transition is unit-tested without sleeping.

use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    /// The value of `otlp_circuit_breaker_state`: 0 closed, 1 open, 2 half-open.
    pub fn gauge(self) -> u64 {
        match self {
            BreakerState::Closed => 0,
            BreakerState::Open => 1,
            BreakerState::HalfOpen => 2,
        }
    }
}

/// What the exporter may do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Send normally.
    Send,
    /// Send one probe; its outcome decides whether the breaker closes or opens again.
    Probe,
    /// Do not call the upstream before this instant.
    WaitUntil(Instant),
}

/// How soon a call held back by another call's probe asks again.
const PROBE_RECHECK: Duration = Duration::from_millis(100);

#[derive(Debug)]
pub struct Breaker {
    threshold: u32,
    reset_timeout: Duration,
    consecutive_failures: u32,
    state: BreakerState,
    opened_at: Option<Instant>,
    // A probe has been admitted and has not reported back yet.
    probe_out: bool,
}

impl Breaker {
    pub fn new(threshold: u32, reset_timeout: Duration) -> Self {
        Breaker {
            threshold: threshold.max(1),
            reset_timeout,
            consecutive_failures: 0,
            state: BreakerState::Closed,
            opened_at: None,
            probe_out: false,
        }
    }

    pub fn state(&self) -> BreakerState {
        self.state
    }

    pub fn admit(&mut self, now: Instant) -> Admission {
        match self.state {
            BreakerState::Closed => Admission::Send,
            // One probe at a time (several batches may be exporting): the others look again soon.
            BreakerState::HalfOpen if self.probe_out => {
                Admission::WaitUntil(now + self.reset_timeout.min(PROBE_RECHECK))
            }
            BreakerState::HalfOpen => {
                self.probe_out = true;
                Admission::Probe
            }
            BreakerState::Open => {
                let until = self.opened_at.unwrap_or(now) + self.reset_timeout;
                if now >= until {
                    self.state = BreakerState::HalfOpen;
                    self.probe_out = true;
                    Admission::Probe
                } else {
                    Admission::WaitUntil(until)
                }
            }
        }
    }

    pub fn on_success(&mut self) {
        self.probe_out = false;
        self.consecutive_failures = 0;
        self.state = BreakerState::Closed;
        self.opened_at = None;
    }

    /// Records a failed call; returns true when this failure opened the breaker.
    pub fn on_failure(&mut self, now: Instant) -> bool {
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        let open = match self.state {
            BreakerState::HalfOpen => true,
            BreakerState::Closed => self.consecutive_failures >= self.threshold,
            BreakerState::Open => false,
        };
        if open {
            self.state = BreakerState::Open;
            self.opened_at = Some(now);
            self.probe_out = false;
        }
        open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_consecutive_failures_only() {
        let t0 = Instant::now();
        let mut b = Breaker::new(3, Duration::from_secs(5));
        assert!(!b.on_failure(t0));
        assert!(!b.on_failure(t0));
        b.on_success();
        assert!(!b.on_failure(t0));
        assert!(!b.on_failure(t0));
        assert_eq!(b.state(), BreakerState::Closed);
        assert!(b.on_failure(t0));
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(b.state().gauge(), 1);
    }

    #[test]
    fn open_breaker_refuses_until_reset_timeout_then_probes() {
        let t0 = Instant::now();
        let mut b = Breaker::new(1, Duration::from_secs(5));
        b.on_failure(t0);
        assert_eq!(
            b.admit(t0 + Duration::from_secs(1)),
            Admission::WaitUntil(t0 + Duration::from_secs(5))
        );
        assert_eq!(b.admit(t0 + Duration::from_secs(5)), Admission::Probe);
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert_eq!(b.state().gauge(), 2);
    }

    #[test]
    fn only_one_probe_is_out_at_a_time() {
        let t0 = Instant::now();
        let mut b = Breaker::new(1, Duration::from_secs(5));
        b.on_failure(t0);
        let t1 = t0 + Duration::from_secs(5);
        assert_eq!(b.admit(t1), Admission::Probe);
        assert_eq!(
            b.admit(t1),
            Admission::WaitUntil(t1 + PROBE_RECHECK),
            "a second exporting batch waits for the probe's outcome"
        );
        b.on_success();
        assert_eq!(b.admit(t1), Admission::Send);
    }

    #[test]
    fn successful_probe_closes_and_failed_probe_reopens() {
        let t0 = Instant::now();
        let mut b = Breaker::new(2, Duration::from_secs(1));
        b.on_failure(t0);
        b.on_failure(t0);
        let t1 = t0 + Duration::from_secs(2);
        assert_eq!(b.admit(t1), Admission::Probe);
        assert!(
            b.on_failure(t1),
            "a failed probe reopens at once, whatever the threshold"
        );
        assert_eq!(
            b.admit(t1),
            Admission::WaitUntil(t1 + Duration::from_secs(1))
        );
        let t2 = t1 + Duration::from_secs(1);
        assert_eq!(b.admit(t2), Admission::Probe);
        b.on_success();
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.admit(t2), Admission::Send);
        assert!(
            !b.on_failure(t2),
            "the failure count restarted after closing"
        );
    }
}
