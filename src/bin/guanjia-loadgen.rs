//! `guanjia-loadgen`: drives a local guanjia as the platforms would — WeChat pushes (plain
//! or safe mode, each freshly signed) or signed JSON webhook calls — from many residents,
//! with a message mix and a share of repeated deliveries, and prints throughput, latency
//! percentiles and status counts. It only talks to loopback addresses and is bounded in
//! both request count and time.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Parser;
use guanjia::channel::webhook::signature as webhook_signature;
use guanjia::channel::wechat::crypto::{self, AesKey};
use guanjia::channel::wechat::signature;
use guanjia::configuration::Settings;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use secrecy::ExposeSecret;
use tokio::sync::Mutex;

const MAX_REQUESTS: u64 = 1_000_000;
const MAX_DURATION: Duration = Duration::from_secs(600);

/// Greetings, thanks and "how is my request doing" (a status lookup).
const CHIT_CHAT: &[&str] = &[
    "你好",
    "谢谢",
    "在吗",
    "好的,辛苦了",
    "早上好",
    "hello",
    "查询进度",
    "我的工单",
];
const INQUIRIES: &[&str] = &[
    "物业费怎么交",
    "停车卡怎么办理",
    "快递放哪里了",
    "客服几点上班",
    "装修要报备吗",
];
const REQUESTS: &[&str] = &[
    "3栋2单元1101 厨房水管漏水",
    "2栋电梯坏了,困在里面了",
    "1栋楼道灯不亮了",
    "5栋门口垃圾好几天没人清理",
    "楼上装修太吵了,晚上十点还在施工",
    "车库入口的栏杆抬不起来",
];

#[derive(Debug, Parser)]
#[command(
    name = "guanjia-loadgen",
    about = "Load generator for a local guanjia (loopback only)"
)]
struct Args {
    /// Base URL of the server under test; must be a loopback address.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    target: String,
    /// Use the signed JSON webhook instead of WeChat pushes.
    #[arg(long)]
    webhook: bool,
    /// WeChat safe mode (encrypt_type=aes) instead of plain mode.
    #[arg(long)]
    safe: bool,
    /// WeChat account id / webhook channel name in the configuration.
    #[arg(long, default_value = "demo")]
    account: String,
    /// Number of distinct residents.
    #[arg(long, default_value_t = 500)]
    residents: u32,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Target request rate per second (0: as fast as the concurrency allows).
    #[arg(long, default_value_t = 0)]
    rate: u32,
    /// Stop after this long (at most 10 minutes).
    #[arg(long, default_value = "20s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Stop after this many requests (at most 1,000,000).
    #[arg(long, default_value_t = 20_000)]
    requests: u64,
    /// Share of requests that repeat an earlier message (a platform retry), 0..1.
    #[arg(long, default_value_t = 0.05)]
    duplicates: f64,
    /// Percent of chit-chat / inquiries / new requests in the message mix.
    #[arg(long, default_value = "40,30,30")]
    mix: String,
    /// Write one line per request to this file: the status (or `timeout`/`error`) and the
    /// message's dedup key, so a fault script can check every acknowledged message was kept.
    #[arg(long)]
    record: Option<std::path::PathBuf>,
}

/// What one resident said, kept so it can be delivered again.
#[derive(Clone)]
struct Sent {
    user: String,
    msg_id: u64,
    text: &'static str,
}

struct Target {
    base: String,
    webhook: bool,
    account: String,
    token: String,
    appid: String,
    key: Option<AesKey>,
    secret: String,
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    statuses: BTreeMap<String, u64>,
    replies: u64,
    /// (status, dedup key) per request, kept only with `--record`.
    record: Vec<(String, String)>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    check_loopback(&args.target)?;
    if args.duration > MAX_DURATION || args.requests > MAX_REQUESTS || args.requests == 0 {
        bail!("--duration must be at most 10m and --requests between 1 and {MAX_REQUESTS}");
    }
    if !(0.0..=1.0).contains(&args.duplicates) || args.concurrency == 0 || args.residents == 0 {
        bail!("--duplicates must be within 0..1; --concurrency and --residents at least 1");
    }
    let mix = parse_mix(&args.mix)?;
    let target = Arc::new(target(&args)?);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(args.concurrency)
        .build()?;

    let issued = Arc::new(AtomicU64::new(0));
    let next_msg_id = Arc::new(AtomicU64::new(u64::from(rand::random::<u32>()) * 1_000_000));
    let history: Arc<Mutex<Vec<Sent>>> = Arc::new(Mutex::new(Vec::new()));
    let pacer = (args.rate > 0).then(|| {
        let mut i = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(args.rate)));
        i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        Arc::new(Mutex::new(i))
    });
    let started = Instant::now();
    let deadline = started + args.duration;
    let mut workers = Vec::new();
    for _ in 0..args.concurrency {
        let (client, target, issued, next_msg_id, history, pacer) = (
            client.clone(),
            target.clone(),
            issued.clone(),
            next_msg_id.clone(),
            history.clone(),
            pacer.clone(),
        );
        let (max, residents, dup_share) = (args.requests, args.residents, args.duplicates);
        let recording = args.record.is_some();
        workers.push(tokio::spawn(async move {
            let mut rng = StdRng::from_entropy();
            let mut tally = Tally::default();
            loop {
                // At a fixed rate, latency counts from when the request was due, not from
                // when it went out: a server that stalls is charged for the requests that
                // queued behind the stall (no coordinated omission).
                let due = match &pacer {
                    Some(p) => Some(p.lock().await.tick().await.into_std()),
                    None => None,
                };
                if Instant::now() >= deadline || issued.fetch_add(1, Ordering::Relaxed) >= max {
                    break;
                }
                let repeat = rng.gen_bool(dup_share);
                let sent = {
                    let mut h = history.lock().await;
                    if repeat && !h.is_empty() {
                        let i = rng.gen_range(0..h.len());
                        h[i].clone()
                    } else {
                        let sent = Sent {
                            user: format!("o_load_{:06}", rng.gen_range(0..residents)),
                            msg_id: next_msg_id.fetch_add(1, Ordering::Relaxed),
                            text: pick(&mut rng, mix),
                        };
                        if h.len() < 10_000 {
                            h.push(sent.clone());
                        } else {
                            let i = rng.gen_range(0..h.len());
                            h[i] = sent.clone();
                        }
                        sent
                    }
                };
                let request = build(&client, &target, &sent, &mut rng, repeat);
                let t0 = due.unwrap_or_else(Instant::now);
                let status = match request.send().await {
                    Ok(res) => {
                        let status = res.status().as_u16().to_string();
                        let body = res.text().await.unwrap_or_default();
                        if looks_like_reply(&body) {
                            tally.replies += 1;
                        }
                        status
                    }
                    Err(e) if e.is_timeout() => "timeout".to_owned(),
                    Err(_) => "error".to_owned(),
                };
                tally.latencies_us.push(t0.elapsed().as_micros() as u64);
                if recording {
                    tally
                        .record
                        .push((status.clone(), dedup_key(&target, &sent)));
                }
                *tally.statuses.entry(status).or_default() += 1;
            }
            tally
        }));
    }
    let mut all = Tally::default();
    for w in workers {
        let t = w.await.context("worker")?;
        all.latencies_us.extend(t.latencies_us);
        all.replies += t.replies;
        all.record.extend(t.record);
        for (k, v) in t.statuses {
            *all.statuses.entry(k).or_default() += v;
        }
    }
    report(&args, &all, started.elapsed());
    if let Some(path) = &args.record {
        let lines: String = all
            .record
            .iter()
            .map(|(status, key)| format!("{status} {key}\n"))
            .collect();
        std::fs::write(path, lines).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// The key the service deduplicates this message by (`inbound_messages.dedup_key`).
fn dedup_key(t: &Target, sent: &Sent) -> String {
    if t.webhook {
        format!("load-{}", sent.msg_id)
    } else {
        format!("{}|{}|{}", t.appid, sent.user, sent.msg_id)
    }
}

fn check_loopback(target: &str) -> anyhow::Result<()> {
    let url = reqwest::Url::parse(target).context("--target")?;
    let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
    let loopback = host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        bail!("--target must be a loopback address (127.0.0.1, ::1 or localhost), not {host:?}");
    }
    Ok(())
}

fn parse_mix(mix: &str) -> anyhow::Result<[u32; 3]> {
    let parts: Vec<u32> = mix
        .split(',')
        .map(|p| p.trim().parse())
        .collect::<Result<_, _>>()
        .context("--mix")?;
    match parts[..] {
        [a, b, c] if a + b + c > 0 => Ok([a, b, c]),
        _ => {
            bail!("--mix takes three non-negative numbers, not all zero: chit-chat,inquiry,request")
        }
    }
}

fn pick(rng: &mut StdRng, mix: [u32; 3]) -> &'static str {
    let roll = rng.gen_range(0..mix.iter().sum::<u32>());
    let list = if roll < mix[0] {
        CHIT_CHAT
    } else if roll < mix[0] + mix[1] {
        INQUIRIES
    } else {
        REQUESTS
    };
    list[rng.gen_range(0..list.len())]
}

fn target(args: &Args) -> anyhow::Result<Target> {
    let settings = Settings::load().context("loading the configuration (for the demo secrets)")?;
    let base = args.target.trim_end_matches('/').to_owned();
    if args.webhook {
        let channel = settings
            .webhook
            .channels
            .get(&args.account)
            .with_context(|| format!("no webhook channel {}", args.account))?;
        return Ok(Target {
            base,
            webhook: true,
            account: args.account.clone(),
            token: String::new(),
            appid: String::new(),
            key: None,
            secret: channel.secret.expose_secret().to_owned(),
        });
    }
    let account = settings
        .wechat
        .accounts
        .get(&args.account)
        .with_context(|| format!("no wechat account {}", args.account))?;
    let key = if args.safe {
        let k = account
            .encoding_aes_key
            .as_ref()
            .context("safe mode needs encoding_aes_key")?;
        Some(AesKey::parse(k.expose_secret())?)
    } else {
        None
    };
    Ok(Target {
        base,
        webhook: false,
        account: args.account.clone(),
        token: account.token.expose_secret().to_owned(),
        appid: account.appid.clone(),
        key,
        secret: String::new(),
    })
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

fn build(
    client: &reqwest::Client,
    t: &Target,
    sent: &Sent,
    rng: &mut StdRng,
    repeat: bool,
) -> reqwest::RequestBuilder {
    let now = now_secs();
    if t.webhook {
        // A re-sent message is a new request: its body carries a delivery number, so its
        // signature differs and it is not refused as a byte-for-byte replay.
        let delivery = if repeat { rng.gen::<u32>() } else { 0 };
        let body = serde_json::json!({
            "message_id": format!("load-{}", sent.msg_id),
            "user_id": sent.user,
            "text": sent.text,
            "delivery": delivery,
        })
        .to_string();
        let ts = now.to_string();
        let sig = webhook_signature::sign(t.secret.as_bytes(), &ts, body.as_bytes());
        return client
            .post(format!("{}/webhook/{}", t.base, t.account))
            .header(webhook_signature::TIMESTAMP_HEADER, ts)
            .header(webhook_signature::SIGNATURE_HEADER, sig)
            .header("content-type", "application/json")
            .body(body);
    }
    let ts = now.to_string();
    let nonce = rng.gen_range(100_000_000u32..1_000_000_000).to_string();
    let sig = signature::sign(&[&t.token, &ts, &nonce]);
    let xml = format!(
        "<xml><ToUserName><![CDATA[gh_loadtest]]></ToUserName><FromUserName><![CDATA[{}]]></FromUserName><CreateTime>{now}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{}]]></Content><MsgId>{}</MsgId></xml>",
        sent.user, sent.text, sent.msg_id
    );
    let mut url = format!(
        "{}/wechat/{}?signature={sig}&timestamp={ts}&nonce={nonce}&openid={}",
        t.base, t.account, sent.user
    );
    let body = match &t.key {
        Some(key) => {
            let encrypt = crypto::encrypt(key, &t.appid, &xml);
            let msg_sig = signature::sign(&[&t.token, &ts, &nonce, &encrypt]);
            url.push_str(&format!("&encrypt_type=aes&msg_signature={msg_sig}"));
            format!("<xml><ToUserName><![CDATA[gh_loadtest]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>")
        }
        None => xml,
    };
    client
        .post(url)
        .header("content-type", "text/xml")
        .body(body)
}

fn looks_like_reply(body: &str) -> bool {
    body.contains("<Content>")
        || body.contains("<Encrypt>")
        || (body.starts_with("{\"reply\":\"") && !body.starts_with("{\"reply\":\"\""))
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

fn report(args: &Args, tally: &Tally, elapsed: Duration) {
    let mut lat = tally.latencies_us.clone();
    lat.sort_unstable();
    let n = lat.len();
    let mode = if args.webhook {
        "webhook"
    } else if args.safe {
        "wechat safe mode"
    } else {
        "wechat plain mode"
    };
    println!(
        "target        {} ({mode}, account/channel {})",
        args.target, args.account
    );
    println!(
        "load          {} residents, concurrency {}, rate {}, duplicates {:.0}%, mix {}",
        args.residents,
        args.concurrency,
        if args.rate == 0 {
            "unlimited".to_owned()
        } else {
            format!("{}/s", args.rate)
        },
        args.duplicates * 100.0,
        args.mix
    );
    println!("requests      {n} in {:.2} s", elapsed.as_secs_f64());
    println!(
        "throughput    {:.1} req/s",
        n as f64 / elapsed.as_secs_f64().max(1e-9)
    );
    println!(
        "latency ms    p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
        percentile(&lat, 50.0),
        percentile(&lat, 90.0),
        percentile(&lat, 99.0),
        lat.last().copied().unwrap_or_default() as f64 / 1000.0
    );
    let statuses: Vec<String> = tally
        .statuses
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    println!("statuses      {}", statuses.join(", "));
    println!("with a reply  {}", tally.replies);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets_are_accepted() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:8080",
            "http://127.0.0.2",
        ] {
            assert!(check_loopback(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1:8080",
            "http://example.com",
            "https://api.weixin.qq.com",
            "nonsense",
        ] {
            assert!(check_loopback(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn mix_is_three_numbers_not_all_zero() {
        assert_eq!(parse_mix("40,30,30").unwrap(), [40, 30, 30]);
        assert_eq!(parse_mix(" 0, 0 ,1").unwrap(), [0, 0, 1]);
        assert!(parse_mix("0,0,0").is_err());
        assert!(parse_mix("1,2").is_err());
        assert!(parse_mix("a,b,c").is_err());
    }

    #[test]
    fn a_mix_of_one_kind_only_picks_that_kind() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..100 {
            assert!(REQUESTS.contains(&pick(&mut rng, [0, 0, 1])));
            assert!(CHIT_CHAT.contains(&pick(&mut rng, [1, 0, 0])));
        }
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<u64> = (1..=100).map(|ms| ms * 1000).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
        assert_eq!(percentile(&[5000], 90.0), 5.0);
    }

    #[test]
    fn replies_are_told_from_acknowledgements() {
        assert!(looks_like_reply(
            "<xml><Content><![CDATA[hi]]></Content></xml>"
        ));
        assert!(looks_like_reply(r#"{"reply":"hi"}"#));
        assert!(!looks_like_reply(r#"{"reply":""}"#));
        assert!(!looks_like_reply("success"));
    }
}
