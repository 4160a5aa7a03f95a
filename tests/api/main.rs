//! End-to-end tests: the real app on a random port, a fresh PostgreSQL database and its own
//! Redis key prefix per test. The only stand-in is the messaging platform.

mod console;
mod conversations;
mod delivery;
mod dialogue;
mod health;
mod helpers;
mod hostile;
mod ingest;
mod instances;
mod journeys;
mod own_words;
mod platform;
mod queue;
mod reclassify;
mod report;
mod schedule;
mod semantic;
mod staff_api;
mod survey;
mod tickets;
mod webhook;
mod wechat;
