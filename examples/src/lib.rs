//! Runnable Ringlet examples: the terminal tour (`src/tour.rs`) and an order
//! service monolith ([`order_service`]).

pub mod order_service;
