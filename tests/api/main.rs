//! End-to-end tests: the real app on a random port, a fresh PostgreSQL database and its own
//! Redis key prefix per test. The only stand-in is the messaging platform.

mod health;
mod helpers;
mod ingest;
mod webhook;
mod wechat;
