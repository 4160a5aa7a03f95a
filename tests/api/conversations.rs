//! The conversation runner: plays every `tests/conversations/sample.jsonl` and
//! `tests/conversations/set-*.jsonl` conversation through the signed webhook, as
//! `tests/conversations/FORMAT.md` says, and prints PASS/FAIL per conversation and a total.
//!
//! It measures; it does not judge: misses are printed, not failed, so the suite stays green
//! while the dialogue improves. A malformed file fails the test, since a measurement over a
//! file it cannot read would be a wrong number. Run it alone with
//! `cargo test --test api conversations -- --nocapture`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use guanjia::channel::webhook::signature::sign;
use guanjia::clock::Clock;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{spawn_app_with, with_encoder, TestApp};
use crate::tickets::add_staff;

const ACTS: &[&str] = &[
    "ask_place",
    "ask_details",
    "read_back",
    "filed",
    "emergency",
    "possible_emergency",
    "answer",
    "status",
    "handoff",
    "cancelled",
    "greeting",
    "apology",
    "ack",
    "which_first",
    "forwarded",
];
const LANGS: &[&str] = &["zh-Hans", "zh-Hant", "en"];
/// The key of the token that writes to residents, beside the departments' workers.
const CONCIERGE: &str = "manager";
const DEPARTMENTS: &[&str] = &["engineering", "environment", "security", "customer_service"];

#[derive(Debug, Deserialize)]
struct Conversation {
    id: String,
    #[serde(default)]
    situation: String,
    turns: Vec<Turn>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Turn {
    Say {
        say: String,
        #[serde(default)]
        expect: Box<Expect>,
    },
    Staff {
        staff: String,
    },
}

#[derive(Debug, Default, Deserialize)]
struct Expect {
    act: Option<OneOrMany>,
    lang: Option<String>,
    shows: Option<Vec<String>>,
    /// Absent: not checked; `null`: no ticket filed; an object: exactly one filed.
    #[serde(default, deserialize_with = "present")]
    ticket: Option<Option<TicketExpect>>,
    tickets_total: Option<i64>,
    #[serde(flatten)]
    unknown: HashMap<String, Value>,
}

/// Tells a `null` apart from a missing key.
fn present<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<TicketExpect>>, D::Error> {
    Option::<TicketExpect>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn list(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TicketExpect {
    kind: Option<String>,
    urgency: Option<String>,
    department: Option<String>,
    #[serde(default)]
    location_has: Vec<String>,
}

fn files() -> Vec<PathBuf> {
    let dir = Path::new("tests/conversations");
    let mut sets: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("tests/conversations exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("set-") && n.ends_with(".jsonl"))
        })
        .collect();
    sets.sort();
    let mut all = vec![dir.join("sample.jsonl")];
    all.extend(sets);
    all
}

/// Reads a file, refusing anything the format does not allow (with the file and line).
fn load(path: &Path) -> Vec<Conversation> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = format!("{}:{}", path.display(), n + 1);
        let c: Conversation =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{at}: malformed: {e}"));
        assert!(!c.turns.is_empty(), "{at}: a conversation without turns");
        for t in &c.turns {
            match t {
                Turn::Say { expect, .. } => {
                    if let Some(a) = &expect.act {
                        for act in a.list() {
                            assert!(ACTS.contains(&act), "{at}: unknown act `{act}`");
                        }
                    }
                    if let Some(l) = &expect.lang {
                        assert!(LANGS.contains(&l.as_str()), "{at}: unknown lang `{l}`");
                    }
                    if !expect.unknown.is_empty() {
                        println!(
                            "note {at}: expect keys not in FORMAT.md, not checked: {:?}",
                            expect.unknown.keys().collect::<Vec<_>>()
                        );
                    }
                }
                Turn::Staff { staff } => {
                    let ok = matches!(staff.as_str(), "claim" | "start" | "resolve")
                        || staff.starts_with("reply:");
                    assert!(ok, "{at}: unknown staff action `{staff}`");
                }
            }
        }
        out.push(c);
    }
    out
}

/// The script a reply is written in: traditional-only against simplified-only characters,
/// and English when Latin letters far outweigh Chinese (an English reply may quote the
/// resident's Chinese words).
pub(crate) fn script_of(text: &str) -> &'static str {
    let cjk: Vec<char> = text
        .chars()
        .filter(|c| matches!(*c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF))
        .collect();
    let letters = text.chars().filter(|c| c.is_ascii_alphabetic()).count();
    if letters > 3 * cjk.len() {
        return "en";
    }
    let joined: String = cjk.iter().collect();
    let hans = zhconv::zhconv(&joined, zhconv::Variant::ZhHans);
    let hant = zhconv::zhconv(&joined, zhconv::Variant::ZhHant);
    let trad_only = joined
        .chars()
        .zip(hans.chars())
        .filter(|(a, b)| a != b)
        .count();
    let simp_only = joined
        .chars()
        .zip(hant.chars())
        .filter(|(a, b)| a != b)
        .count();
    if trad_only > simp_only {
        "zh-Hant"
    } else {
        "zh-Hans"
    }
}

struct Runner<'a> {
    app: &'a TestApp,
    secret: String,
    duty_phone: String,
    tokens: HashMap<String, String>,
    seq: u64,
}

struct Reply {
    text: String,
    acts: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    kind: String,
    urgency: String,
    department: String,
    status: String,
    location: Option<String>,
}

impl Runner<'_> {
    async fn say(&mut self, user: &str, text: &str) -> Result<Reply, String> {
        self.seq += 1;
        let body = json!({
            "message_id": format!("{user}-{}", self.seq),
            "user_id": user,
            "text": text,
            "sent_at": "2026-11-22T10:00:00+08:00",
        })
        .to_string();
        let ts = self.app.clock.now().timestamp().to_string();
        let res = self
            .app
            .client
            .post(format!("{}/webhook/demo", self.app.address))
            .header("X-Guanjia-Timestamp", &ts)
            .header(
                "X-Guanjia-Signature",
                sign(self.secret.as_bytes(), &ts, body.as_bytes()),
            )
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| format!("webhook: {e}"))?;
        let status = res.status();
        let v: Value = res.json().await.map_err(|e| format!("webhook body: {e}"))?;
        if !status.is_success() {
            return Err(format!("webhook answered {status}: {v}"));
        }
        Ok(Reply {
            text: v["reply"].as_str().unwrap_or_default().to_owned(),
            acts: v["acts"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    async fn tickets(&self, user: &str) -> Vec<Row> {
        sqlx::query_as(
            "SELECT t.id, t.kind, t.urgency, t.department, t.status, t.location
             FROM tickets t JOIN residents r ON r.id = t.resident_id
             WHERE r.external_id = $1 ORDER BY t.created_at, t.number",
        )
        .bind(user)
        .fetch_all(&self.app.db)
        .await
        .unwrap_or_default()
    }

    async fn api(&self, token: &str, path: &str, body: Value) -> Result<(), String> {
        let res = self
            .app
            .client
            .post(format!("{}{path}", self.app.address))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        if res.status().is_success() {
            Ok(())
        } else {
            Err(format!("{path} answered {}", res.status()))
        }
    }

    /// A staff action on the resident's most recent ticket, taking the steps before it
    /// that the lifecycle requires (a ticket is claimed before it is started).
    async fn staff(&self, user: &str, action: &str) -> Result<(), String> {
        let tickets = self.tickets(user).await;
        let t = tickets.last().ok_or("no ticket for a staff action")?;
        let token = self
            .tokens
            .get(&t.department)
            .ok_or_else(|| format!("no staff for {}", t.department))?;
        let path = |what: &str| format!("/api/v1/tickets/{}/{what}", t.id);
        let claimed = !matches!(t.status.as_str(), "queued" | "reopened");
        let started = matches!(t.status.as_str(), "in_progress" | "resolved" | "closed");
        match action {
            "claim" => self.api(token, &path("claim"), json!({})).await,
            "start" | "resolve" => {
                if !claimed {
                    self.api(token, &path("claim"), json!({})).await?;
                }
                if !started {
                    let body = json!({"status": "in_progress", "note": "on it"});
                    self.api(token, &path("status"), body).await?;
                }
                if action == "resolve" {
                    let body = json!({"status": "resolved", "note": "done"});
                    self.api(token, &path("status"), body).await?;
                }
                Ok(())
            }
            reply => {
                let text = reply.strip_prefix("reply:").unwrap_or(reply);
                let token = self.tokens.get(CONCIERGE).ok_or("no concierge")?;
                self.api(token, &path("reply"), json!({ "text": text }))
                    .await
            }
        }
    }

    /// Plays one conversation; `Err` names the failing turn and why.
    async fn play(&mut self, c: &Conversation) -> Result<(), String> {
        let user = format!("conv-{}-{}", c.id, Uuid::new_v4().simple());
        for (n, turn) in c.turns.iter().enumerate() {
            let at = n + 1;
            match turn {
                Turn::Staff { staff } => self
                    .staff(&user, staff)
                    .await
                    .map_err(|e| format!("turn {at} (staff {staff}): {e}"))?,
                Turn::Say { say, expect } => {
                    let before = self.tickets(&user).await;
                    let reply = self
                        .say(&user, say)
                        .await
                        .map_err(|e| format!("turn {at} {say:?}: {e}"))?;
                    let after = self.tickets(&user).await;
                    if only().is_some() {
                        println!("    {at}> {say}\n    {at}< {:?} {}", reply.acts, reply.text);
                    }
                    let problems = self.check(expect, &reply, &before, &after);
                    if !problems.is_empty() {
                        return Err(format!(
                            "turn {at} {say:?}: {}\n      reply {:?} acts {:?}",
                            problems.join("; "),
                            reply.text,
                            reply.acts
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    fn check(&self, e: &Expect, reply: &Reply, before: &[Row], after: &[Row]) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(act) = &e.act {
            let want = act.list();
            if !want.iter().any(|a| reply.acts.iter().any(|r| r == a)) {
                problems.push(format!("act: wanted {want:?}, got {:?}", reply.acts));
            }
            let urgent = want
                .iter()
                .all(|a| matches!(*a, "emergency" | "possible_emergency"));
            if urgent && !reply.text.contains(&self.duty_phone) {
                problems.push("the duty phone is missing".into());
            }
        }
        if let Some(lang) = &e.lang {
            let got = script_of(&reply.text);
            if got != lang {
                problems.push(format!("lang: wanted {lang}, got {got}"));
            }
        }
        for s in e.shows.iter().flatten() {
            if !reply.text.contains(s.as_str()) {
                problems.push(format!("does not show {s:?}"));
            }
        }
        let new: Vec<&Row> = after
            .iter()
            .filter(|t| !before.iter().any(|b| b.id == t.id))
            .collect();
        match &e.ticket {
            None => {}
            Some(None) if !new.is_empty() => {
                problems.push(format!("filed {} ticket(s), wanted none", new.len()));
            }
            Some(None) => {}
            Some(Some(want)) => {
                if new.len() != 1 {
                    problems.push(format!("filed {} ticket(s), wanted one", new.len()));
                } else {
                    let t = new[0];
                    let fields = [
                        ("kind", &want.kind, &t.kind),
                        ("urgency", &want.urgency, &t.urgency),
                        ("department", &want.department, &t.department),
                    ];
                    for (name, w, got) in fields {
                        if let Some(w) = w {
                            if w != got {
                                problems.push(format!("ticket {name}: wanted {w}, got {got}"));
                            }
                        }
                    }
                    let location = t.location.clone().unwrap_or_default();
                    for part in &want.location_has {
                        if !location.contains(part.as_str()) {
                            problems.push(format!("ticket location {location:?} lacks {part:?}"));
                        }
                    }
                }
            }
        }
        if let Some(total) = e.tickets_total {
            if after.len() as i64 != total {
                problems.push(format!(
                    "tickets_total: wanted {total}, got {}",
                    after.len()
                ));
            }
        }
        problems
    }
}

/// `CONVERSATIONS_ONLY=s7c-09,s7a-17` plays only those conversations, printing every
/// turn's reply: for looking into a miss.
fn only() -> Option<Vec<String>> {
    std::env::var("CONVERSATIONS_ONLY")
        .ok()
        .map(|v| v.split(',').map(|s| s.trim().to_owned()).collect())
}

// The files are played in three shards, each on its own app, so that they run side by side
// with the other tests instead of one after another at the end of the run.
const SHARDS: usize = 3;

#[tokio::test]
async fn conversations_shard_0() {
    play_shard(0).await;
}

#[tokio::test]
async fn conversations_shard_1() {
    play_shard(1).await;
}

#[tokio::test]
async fn conversations_shard_2() {
    play_shard(2).await;
}

async fn play_shard(shard: usize) {
    // Read every file first: a malformed one fails before anything is played.
    let sets: Vec<(PathBuf, Vec<Conversation>)> = files()
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % SHARDS == shard)
        .map(|(_, p)| (p.clone(), load(&p)))
        .collect();
    // Measured as deployed: both tiers of understanding, the local encoder on.
    let app = spawn_app_with(with_encoder).await;
    let mut tokens = HashMap::new();
    for d in DEPARTMENTS {
        let (_, token) = add_staff(&app, &format!("staff-{d}"), d, "worker", &[]).await;
        tokens.insert((*d).to_owned(), token);
    }
    // Workers do the work; writing to the resident is for the roles above them (a manager
    // here, who sees every building).
    let (_, token) = add_staff(&app, "manager", "customer_service", "manager", &[]).await;
    tokens.insert(CONCIERGE.to_owned(), token);
    let secret = app.settings.webhook.channels["demo"]
        .secret
        .expose_secret()
        .to_owned();
    let duty_phone = app.settings.service.duty_phone.clone();
    let mut runner = Runner {
        app: &app,
        secret,
        duty_phone,
        tokens,
        seq: 0,
    };
    let (mut passed, mut total) = (0, 0);
    for (path, conversations) in &sets {
        let (mut file_passed, file_total) = (0, conversations.len());
        println!("== {}", path.display());
        for c in conversations {
            if only().is_some_and(|ids| !ids.contains(&c.id)) {
                continue;
            }
            match runner.play(c).await {
                Ok(()) => {
                    file_passed += 1;
                    println!("PASS {}  {}", c.id, c.situation);
                }
                Err(why) => println!("FAIL {}  {}\n    {why}", c.id, c.situation),
            }
        }
        println!("-- {}: {file_passed}/{file_total} passed", path.display());
        passed += file_passed;
        total += file_total;
    }
    let pct = if total == 0 {
        0.0
    } else {
        100.0 * passed as f64 / total as f64
    };
    println!("TOTAL conversations of shard {shard}: {passed}/{total} passed ({pct:.1}%)");
}
