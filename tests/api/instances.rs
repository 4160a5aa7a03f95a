//! More than one machine: two instances on the same database and Redis prefix behind one
//! address (a round-robin TCP proxy, one upstream per connection, as a load balancer does).
//! Retries of one WeChat message spread over both store one message and answer alike; claims
//! spread over both hand each ticket to exactly one person.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures::future::join_all;
use guanjia::channel::wechat::xml;
use guanjia::ticket::{self, Department};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use uuid::Uuid;

use crate::helpers::{spawn_app, spawn_app_on, TestApp};
use crate::ingest::count;
use crate::tickets::{add_resident, add_staff, new_ticket, Spec};
use crate::wechat::{signed_query, text_push};

/// Listens on a random loopback port and hands each new connection to the next upstream
/// in turn; returns the proxy's base URL and how many connections each upstream got.
async fn round_robin(upstreams: Vec<u16>) -> (String, Arc<Vec<AtomicUsize>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let counts: Arc<Vec<AtomicUsize>> =
        Arc::new(upstreams.iter().map(|_| AtomicUsize::new(0)).collect());
    let seen = counts.clone();
    tokio::spawn(async move {
        let mut next = 0usize;
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                return;
            };
            let i = next % upstreams.len();
            next += 1;
            seen[i].fetch_add(1, Ordering::SeqCst);
            let port = upstreams[i];
            tokio::spawn(async move {
                if let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", port)).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (base, counts)
}

/// A client that opens a new connection per request, so the proxy alternates per request.
fn fresh_connections() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

async fn two_instances() -> (TestApp, TestApp) {
    let a = spawn_app().await;
    let b = spawn_app_on(a.settings.clone(), a.clock.clone()).await;
    (a, b)
}

fn spread(counts: &[AtomicUsize]) -> Vec<usize> {
    counts.iter().map(|c| c.load(Ordering::SeqCst)).collect()
}

#[tokio::test]
async fn one_msgid_sent_twenty_times_over_two_instances_is_stored_once() {
    let (a, b) = two_instances().await;
    let (base, counts) = round_robin(vec![a.port, b.port]).await;
    let client = fresh_connections();
    let body = text_push("o_twice", "880000000000001", "3栋2单元1101 厨房水管漏水");
    let url = format!("{base}/wechat/demo?{}", signed_query("777"));
    let sends = (0..20).map(|_| {
        let client = client.clone();
        let url = url.clone();
        let body = body.clone();
        async move {
            let res = client.post(url).body(body).send().await.unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    });
    let answers = join_all(sends).await;
    assert_eq!(spread(&counts), vec![10, 10], "the proxy did not alternate");
    for (status, _) in &answers {
        assert_eq!(*status, 200);
    }
    // The same reply, byte for byte, to every retry (CreateTime is the shared clock's).
    let replies: HashSet<&String> = answers.iter().map(|(_, body)| body).collect();
    assert_eq!(
        replies.len(),
        1,
        "retries got different replies: {replies:?}"
    );
    let reply = xml::parse_fields(replies.iter().next().unwrap()).unwrap();
    assert_eq!(reply.get("ToUserName"), Some("o_twice"));
    assert!(!reply.get("Content").unwrap_or_default().is_empty());
    assert_eq!(count(&a.db, "inbound_messages").await, 1);
    assert_eq!(count(&a.db, "residents").await, 1);
    let tickets: i64 =
        sqlx::query_scalar("SELECT count(*) FROM tickets WHERE source_message_id IS NOT NULL")
            .fetch_one(&a.db)
            .await
            .unwrap();
    assert!(tickets <= 1, "{tickets} tickets from one message");
    let processed: i64 =
        sqlx::query_scalar("SELECT count(*) FROM inbound_messages WHERE processed_at IS NOT NULL")
            .fetch_one(&a.db)
            .await
            .unwrap();
    assert_eq!(processed, 1);
}

async fn queued_tickets(app: &TestApp, n: usize) -> Vec<Uuid> {
    let resident = add_resident(app, guanjia::domain::Locale::ZhHans).await;
    let ctx = app.state.ticket_context();
    let mut tx = app.db.begin().await.unwrap();
    let mut tickets = vec![];
    for _ in 0..n {
        let spec = Spec {
            department: Department::Engineering,
            ..Spec::default()
        };
        tickets.push(
            ticket::create(&mut tx, &ctx, new_ticket(resident, &spec))
                .await
                .unwrap(),
        );
    }
    tx.commit().await.unwrap();
    for t in &tickets {
        app.state.queue.push(t).await.unwrap();
    }
    tickets.iter().map(|t| t.id).collect()
}

#[tokio::test]
async fn queue_claims_spread_over_two_instances_hand_out_each_ticket_once() {
    let (a, b) = two_instances().await;
    let (base, counts) = round_robin(vec![a.port, b.port]).await;
    let filed = queued_tickets(&a, 30).await;
    let mut workers = vec![];
    for i in 0..8 {
        workers.push(add_staff(&a, &format!("师傅{i}"), "engineering", "worker", &[]).await);
    }
    let url = format!("{base}/api/v1/queue/engineering/claim");
    let claimers = workers.into_iter().map(|(staff, token)| {
        let client = fresh_connections();
        let url = url.clone();
        async move {
            let mut got = vec![];
            loop {
                let res = client.post(&url).bearer_auth(&token).send().await.unwrap();
                match res.status().as_u16() {
                    200 => {
                        let v: Value = res.json().await.unwrap();
                        assert_eq!(v["assignee"], staff.to_string());
                        got.push(v["id"].as_str().unwrap().parse::<Uuid>().unwrap());
                    }
                    204 => return got,
                    other => panic!("claim answered {other}"),
                }
            }
        }
    });
    let claimed: Vec<Uuid> = join_all(claimers).await.into_iter().flatten().collect();
    let distinct: HashSet<Uuid> = claimed.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        claimed.len(),
        "a ticket was handed out twice"
    );
    assert_eq!(distinct, filed.into_iter().collect(), "tickets were lost");
    let s = spread(&counts);
    assert!(s[0] > 5 && s[1] > 5, "both instances took claims: {s:?}");
    let unclaimed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM tickets WHERE status <> 'claimed' OR assignee IS NULL",
    )
    .fetch_one(&a.db)
    .await
    .unwrap();
    assert_eq!(unclaimed, 0);
}

#[tokio::test]
async fn racing_claims_of_one_ticket_over_two_instances_have_one_winner() {
    let (a, b) = two_instances().await;
    let (base, counts) = round_robin(vec![a.port, b.port]).await;
    let ids = queued_tickets(&a, 5).await;
    let mut workers = vec![];
    for i in 0..10 {
        workers.push(add_staff(&a, &format!("工{i}"), "engineering", "worker", &[]).await);
    }
    for id in ids {
        let url = format!("{base}/api/v1/tickets/{id}/claim");
        let races = workers.iter().map(|(staff, token)| {
            let client = fresh_connections();
            let url = url.clone();
            async move {
                let res = client.post(&url).bearer_auth(token).send().await.unwrap();
                (res.status().as_u16(), *staff)
            }
        });
        let results = join_all(races).await;
        let winners: Vec<Uuid> = results
            .iter()
            .filter(|(s, _)| *s == 200)
            .map(|(_, w)| *w)
            .collect();
        assert_eq!(winners.len(), 1, "claims of {id}: {results:?}");
        for (status, _) in &results {
            assert!(
                *status == 200 || *status == 409,
                "a losing claim must be a 409: {results:?}"
            );
        }
        let assignee: Option<Uuid> =
            sqlx::query_scalar("SELECT assignee FROM tickets WHERE id = $1")
                .bind(id)
                .fetch_one(&a.db)
                .await
                .unwrap();
        assert_eq!(assignee, Some(winners[0]));
    }
    assert_eq!(spread(&counts), vec![25, 25]);
}
