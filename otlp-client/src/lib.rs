//! otlp-client: an OTLP relay. Receivers (gRPC :4317, HTTP :4318) feed one bounded queue per
//! signal; a pipeline per signal batches and exports upstream with retries and a circuit breaker;
//! health, readiness and Prometheus metrics are served on :8080.

pub mod app;
pub mod breaker;
pub mod config;
pub mod exporter;
pub mod grpc_raw;
pub mod ops;
pub mod pipeline;
pub mod receivers;
pub mod retry;
pub mod rpc_status;
pub mod signal;
pub mod wire;
