//! The report as one self-contained HTML page: no script, no outside stylesheet, charts
//! drawn inline (`svg`). Every piece of text goes through `escape`, because summaries are
//! written by residents and may carry markup.

use std::fmt::Write;

use super::escape::escape;
use super::figures::{ComplaintLine, MonthlyReport, Rate, Reclassified, Tally, Timing};
use super::svg::bar_chart;

/// `3h 05m`, `25m`, `2d 03h`, `40s`; `—` when there is no value.
pub fn duration(secs: Option<i64>) -> String {
    let Some(s) = secs else { return "—".into() };
    let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    if d > 0 {
        format!("{d}d {h:02}h")
    } else if h > 0 {
        format!("{h}h {m:02}m")
    } else if m > 0 {
        format!("{m}m")
    } else {
        format!("{s}s")
    }
}

/// `75.0% (3/4)`, or `— (0/0)` when nothing was counted.
pub fn rate(r: &Rate) -> String {
    match r.rate {
        Some(v) => format!("{:.1}% ({}/{})", v * 100.0, r.numerator, r.denominator),
        None => format!("— ({}/{})", r.numerator, r.denominator),
    }
}

const STYLE: &str = "body{font-family:system-ui,'PingFang SC','Microsoft YaHei',sans-serif;margin:2rem;color:#222;max-width:60rem}\
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border:1px solid #bbb;padding:.25rem .6rem;text-align:left}\
td.n{text-align:right;font-variant-numeric:tabular-nums}caption{text-align:left;font-weight:600;padding:.25rem 0}\
h2{border-bottom:2px solid #2b6cb0;padding-bottom:.2rem;margin-top:2rem}figure{margin:.5rem 0}";

/// The whole page.
pub fn render(r: &MonthlyReport) -> String {
    let month = escape(&r.month.to_string());
    let mut page = String::new();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"zh-Hans\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>客服工作月报 {month}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n\
         <h1>客服工作月报 · Monthly customer-service report {month}</h1>\n\
         <p>Period 统计期间: <time datetime=\"{s}\">{s}</time> – <time datetime=\"{e}\">{e}</time> (end excluded) · \
         as of 截至 <time datetime=\"{a}\">{a}</time></p>\n",
        s = escape(&r.period_start.to_rfc3339()),
        e = escape(&r.period_end.to_rfc3339()),
        a = escape(&r.as_of.to_rfc3339()),
    );

    section(&mut page, "summary", "概况 · Summary", |out| {
        let rows = [
            ("受理 Received", r.received.to_string()),
            ("取消 Cancelled", r.cancelled.to_string()),
            (
                "响应及时率 Responded within SLA",
                rate(&r.response.within_sla),
            ),
            (
                "处理及时率 Resolved within SLA",
                rate(&r.resolution.within_sla),
            ),
            ("满意率 Satisfaction (4–5)", rate(&r.satisfaction.satisfied)),
            (
                "平均评分 Average rating",
                r.satisfaction
                    .average_rating
                    .map_or("—".into(), |v| format!("{v:.2}")),
            ),
            ("回访率 Revisit rate", rate(&r.revisit)),
            ("重开率 Reopen rate", rate(&r.reopen)),
            (
                "月末积压 Open backlog at month end",
                r.backlog.total.to_string(),
            ),
            ("其中逾期 of which overdue", r.backlog.overdue.to_string()),
            (
                "升级 Escalations (events / tickets)",
                format!("{} / {}", r.escalations.events, r.escalations.tickets),
            ),
            (
                "重新分类 Reclassified (events / tickets)",
                format!("{} / {}", r.reclassified.events, r.reclassified.tickets),
            ),
        ];
        key_values(out, "Key figures 主要指标", &rows);
    });

    section(&mut page, "by-kind", "按类型 · By kind", |out| {
        chart(out, "chart-kind", "Tickets by kind 按类型", &r.by_kind);
        tally_table(out, "Tickets by kind", "Kind 类型", &r.by_kind);
    });
    section(
        &mut page,
        "by-category",
        "按诉求分类 · By category",
        |out| {
            chart(
                out,
                "chart-category",
                "Tickets by category 按诉求分类",
                &r.by_category,
            );
            tally_table(out, "Tickets by category", "Category 分类", &r.by_category);
        },
    );
    section(
        &mut page,
        "by-other",
        "部门、紧急程度、投诉等级 · Department, urgency, severity",
        |out| {
            tally_table(
                out,
                "Tickets by department 按部门",
                "Department 部门",
                &r.by_department,
            );
            tally_table(
                out,
                "Tickets by urgency 按紧急程度",
                "Urgency 紧急程度",
                &r.by_urgency,
            );
            tally_table(
                out,
                "Complaints by severity 投诉等级",
                "Level 等级",
                &r.complaints_by_severity,
            );
        },
    );

    section(&mut page, "timeliness", "及时性 · Timeliness", |out| {
        out.push_str(
            "<table>\n<caption>Created → first claim / → resolution</caption>\n<thead><tr><th scope=\"col\">Measure 指标</th>\
             <th scope=\"col\">Count 数量</th><th scope=\"col\">p50</th><th scope=\"col\">p90</th><th scope=\"col\">p99</th>\
             <th scope=\"col\">Within SLA 及时率</th></tr></thead>\n<tbody>\n",
        );
        timing_row(out, "响应 Response", &r.response);
        timing_row(out, "处理 Resolution", &r.resolution);
        out.push_str("</tbody>\n</table>\n");
    });

    section(
        &mut page,
        "satisfaction",
        "满意度 · Satisfaction",
        |out| {
            chart(
                out,
                "chart-satisfaction",
                "Answered surveys by rating 评分分布",
                &r.satisfaction.distribution,
            );
            tally_table(
                out,
                "Answered surveys by rating",
                "Rating 评分",
                &r.satisfaction.distribution,
            );
        },
    );

    section(
        &mut page,
        "serious",
        "一至三级投诉 · Level 1–3 complaints",
        |out| {
            complaint_table(out, "Level 1–3 complaints", &r.serious_complaints);
        },
    );
    section(&mut page, "hot", "热点投诉 · Hot complaints", |out| {
        if r.hot_complaints.is_empty() {
            out.push_str("<p>None 无</p>\n");
            return;
        }
        out.push_str(
            "<table>\n<caption>Complaints shared by several residents</caption>\n<thead><tr><th scope=\"col\">Residents 户数</th>\
             <th scope=\"col\">Tickets 工单</th><th scope=\"col\">Category 分类</th><th scope=\"col\">Level 等级</th>\
             <th scope=\"col\">Summary 摘要</th></tr></thead>\n<tbody>\n",
        );
        for h in &r.hot_complaints {
            let _ = writeln!(
                out,
                "<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                h.residents,
                escape(&h.numbers.join(", ")),
                escape(&h.category),
                h.severity,
                escape(&h.summary),
            );
        }
        out.push_str("</tbody>\n</table>\n");
    });
    section(
        &mut page,
        "important",
        "重要（重复）投诉 · Important (repeated) complaints",
        |out| {
            complaint_table(out, "Important complaints", &r.important_complaints);
        },
    );

    section(
        &mut page,
        "recurring",
        "重复问题 · Recurring problems",
        |out| {
            if r.recurring.is_empty() {
                out.push_str("<p>None 无</p>\n");
                return;
            }
            out.push_str(
            "<table>\n<caption>Same building and category, twice or more</caption>\n<thead><tr><th scope=\"col\">Building 楼栋</th>\
             <th scope=\"col\">Category 分类</th><th scope=\"col\">Count 次数</th></tr></thead>\n<tbody>\n",
        );
            for p in &r.recurring {
                let _ = writeln!(
                    out,
                    "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
                    escape(&p.building),
                    escape(&p.category),
                    p.count
                );
            }
            out.push_str("</tbody>\n</table>\n");
        },
    );

    section(
        &mut page,
        "backlog",
        "月末积压 · Backlog at month end",
        |out| {
            tally_table(
                out,
                "Open at month end by department",
                "Department 部门",
                &r.backlog.by_department,
            );
            tally_table(
                out,
                "Open at month end by status",
                "Status 状态",
                &r.backlog.by_status,
            );
        },
    );
    section(&mut page, "escalations", "升级 · Escalations", |out| {
        tally_table(
            out,
            "Escalated tickets by department",
            "Department 部门",
            &r.escalations.by_department,
        );
    });

    section(
        &mut page,
        "reclassified",
        "重新分类 · Reclassified",
        |out| reclassified(out, &r.reclassified),
    );

    page.push_str("</main>\n</body>\n</html>\n");
    page
}

/// Staff corrections of the classifier: how many, and which label went from what to what.
fn reclassified(out: &mut String, r: &Reclassified) {
    key_values(
        out,
        "Corrections by staff 人工更正",
        &[
            ("更正次数 Corrections", r.events.to_string()),
            ("涉及工单 Tickets", r.tickets.to_string()),
        ],
    );
    if r.changes.is_empty() {
        out.push_str("<p>No label changed 无</p>\n");
        return;
    }
    out.push_str(
        "<table>\n<caption>Labels changed 更正内容</caption>\n<thead><tr><th scope=\"col\">Label 项目</th>\
         <th scope=\"col\">From 原</th><th scope=\"col\">To 改为</th><th scope=\"col\">Count 次数</th></tr></thead>\n<tbody>\n",
    );
    for c in &r.changes {
        let field = match c.field.as_str() {
            "kind" => "类型 kind",
            "urgency" => "紧急程度 urgency",
            "department" => "部门 department",
            "category" => "分类 category",
            other => other,
        };
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
            escape(field),
            escape(&c.from),
            escape(&c.to),
            c.count
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

fn section(page: &mut String, id: &str, heading: &str, body: impl FnOnce(&mut String)) {
    let _ = writeln!(
        page,
        "<section aria-labelledby=\"{id}-h\">\n<h2 id=\"{id}-h\">{}</h2>",
        escape(heading),
        id = escape(id)
    );
    body(page);
    page.push_str("</section>\n");
}

fn chart(out: &mut String, id: &str, title: &str, tally: &Tally) {
    let _ = writeln!(out, "<figure>{}</figure>", bar_chart(id, title, tally));
}

fn key_values(out: &mut String, caption: &str, rows: &[(&str, String)]) {
    let _ = writeln!(
        out,
        "<table>\n<caption>{}</caption>\n<tbody>",
        escape(caption)
    );
    for (k, v) in rows {
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\">{}</th><td class=\"n\">{}</td></tr>",
            escape(k),
            escape(v)
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

fn tally_table(out: &mut String, caption: &str, label: &str, tally: &Tally) {
    let _ = writeln!(
        out,
        "<table>\n<caption>{}</caption>\n<thead><tr><th scope=\"col\">{}</th><th scope=\"col\">Count 数量</th></tr></thead>\n<tbody>",
        escape(caption),
        escape(label)
    );
    for (k, n) in &tally.0 {
        let _ = writeln!(
            out,
            "<tr><th scope=\"row\">{}</th><td class=\"n\">{n}</td></tr>",
            escape(k)
        );
    }
    let _ = writeln!(
        out,
        "</tbody>\n<tfoot><tr><th scope=\"row\">Total 合计</th><td class=\"n\">{}</td></tr></tfoot>\n</table>",
        tally.total()
    );
}

fn timing_row(out: &mut String, name: &str, t: &Timing) {
    let _ = writeln!(
        out,
        "<tr><th scope=\"row\">{}</th><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
        escape(name),
        t.count,
        duration(t.p50_secs),
        duration(t.p90_secs),
        duration(t.p99_secs),
        escape(&rate(&t.within_sla)),
    );
}

fn complaint_table(out: &mut String, caption: &str, lines: &[ComplaintLine]) {
    if lines.is_empty() {
        out.push_str("<p>None 无</p>\n");
        return;
    }
    let _ = writeln!(
        out,
        "<table>\n<caption>{}</caption>\n<thead><tr><th scope=\"col\">Number 单号</th><th scope=\"col\">Level 等级</th>\
         <th scope=\"col\">Status 状态</th><th scope=\"col\">Category 分类</th><th scope=\"col\">Building 楼栋</th>\
         <th scope=\"col\">Received 受理时间</th><th scope=\"col\">Summary 摘要</th></tr></thead>\n<tbody>",
        escape(caption)
    );
    for c in lines {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td><td><time datetime=\"{}\">{}</time></td><td>{}</td></tr>",
            escape(&c.number),
            c.severity,
            escape(&c.status),
            escape(&c.category),
            escape(c.building.as_deref().unwrap_or("—")),
            escape(&c.created_at.to_rfc3339()),
            escape(&c.created_at.format("%Y-%m-%d %H:%M").to_string()),
            escape(&c.summary),
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

#[cfg(test)]
mod tests;
