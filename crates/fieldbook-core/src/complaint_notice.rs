//! The complaint result notice (投诉处理结果通知书): the bilingual (zh-CN / en) letter that tells
//! a customer what became of their complaint, on the company's letterhead. Also the words a
//! complaint is recorded in (categories, severities, how the customer was told), so the server,
//! the console and the notice use the same ones.
//!
//! Pure: it takes a [`Notice`] and writes PDF bytes with the service report's layout and embedded
//! CJK font subset (a child module of [`crate::report`], so it shares that module's page layout).

use chrono::{DateTime, Local, Utc};

use super::{fonts, Cell, Layout, BODY, BOLD, CONTENT_W, LABEL, MARGIN, MUTED};
use crate::error::Result;
use crate::import::Company;

/// What a complaint is about: code, Chinese, English.
pub const CATEGORIES: &[(&str, &str, &str)] = &[
    ("attitude", "服务态度", "Service attitude"),
    ("timeliness", "响应不及时", "Late response"),
    ("quality", "维修质量", "Quality of the work"),
    ("parts", "备件", "Parts"),
    ("charges", "收费", "Charges"),
    ("other", "其他", "Other"),
];

/// How serious: a serious complaint goes to management and needs its written reply.
pub const SEVERITIES: &[(&str, &str, &str)] = &[("normal", "一般", "Normal"), ("serious", "严重", "Serious")];

/// How the customer was told the result.
pub const INFORMED_HOW: &[(&str, &str, &str)] = &[
    ("phone", "电话", "By phone"),
    ("letter", "书面信函", "By letter"),
    ("email", "电子邮件", "By e-mail"),
    ("visit", "上门告知", "In person"),
];

/// Where a complaint came from.
pub const SOURCES: &[(&str, &str, &str)] =
    &[("call", "来电", "Call"), ("card", "意见卡", "Satisfaction card"), ("return_visit", "回访", "Return visit"), ("direct", "直接登记", "Entered directly")];

/// The `zh / en` words of a code in one of the lists above (the code itself when unknown).
pub fn words(list: &[(&str, &str, &str)], code: &str) -> String {
    list.iter().find(|(c, _, _)| *c == code).map_or_else(|| code.to_owned(), |(_, zh, en)| format!("{zh} / {en}"))
}

/// Everything the notice says, as the server read it from the complaint.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub number: String,
    /// The customer's name (and code).
    pub customer: String,
    pub registered_at: DateTime<Utc>,
    pub category: String,
    pub severity: String,
    /// The work orders' numbers.
    pub work_orders: Vec<String>,
    /// What the customer complained about.
    pub description: String,
    /// What was done, in order: the first report and management's written reply.
    pub actions: Vec<(DateTime<Utc>, String, String)>,
    pub result: String,
    pub informed_how: String,
    pub informed_at: DateTime<Utc>,
    pub closed_at: DateTime<Utc>,
}

/// Renders the result notice as PDF bytes. `company` is the letterhead ("Fieldbook" when `None`).
pub fn render(n: &Notice, company: Option<&Company>) -> Result<Vec<u8>> {
    let title = "客户投诉处理结果通知书 / Complaint Result Notice";
    let mut l = Layout::new(fonts()?, format!("{title} · {}", n.number));
    super::letterhead(&mut l, company, title);
    let right = MARGIN + CONTENT_W;
    l.text(MARGIN, l.y, BOLD, &format!("投诉编号 / Complaint No. {}", n.number));
    l.text_right(right, l.y, BODY, &format!("日期 / Date: {}", day(n.closed_at)));
    l.y += 10.0;

    l.band("投诉内容 / Your complaint");
    l.grid(&[
        ("客户 / Customer", n.customer.clone(), BOLD),
        ("登记日期 / Registered", day(n.registered_at), BODY),
        ("类别 / Category", words(CATEGORIES, &n.category), BODY),
        ("严重程度 / Severity", words(SEVERITIES, &n.severity), BODY),
    ]);
    if !n.work_orders.is_empty() {
        l.wide("相关工单 / Work orders", &n.work_orders.join(", "), BODY);
    }
    l.wide("投诉内容 / What you told us", &n.description, BODY);

    l.band("处理经过 / What we did");
    if n.actions.is_empty() {
        l.wide("—", "—", MUTED);
    }
    for (at, what, text) in &n.actions {
        l.row(&[Cell::new(MARGIN, 96.0, LABEL, format!("{}\n{what}", day(*at))), Cell::new(MARGIN + 100.0, CONTENT_W - 100.0, BODY, text)], None);
        l.hline(MARGIN, right, 0.3, super::RULE);
    }

    l.band("处理结果 / Result");
    l.wide("处理结果 / Result", &n.result, BOLD);
    l.grid(&[
        ("通知方式 / Told you", words(INFORMED_HOW, &n.informed_how), BODY),
        ("通知时间 / On", day(n.informed_at), BODY),
    ]);
    l.gap(12.0);
    let phone = company.and_then(|c| c.phone.as_deref()).map(|p| format!(" ({p})")).unwrap_or_default();
    l.row(
        &[Cell::new(
            MARGIN,
            CONTENT_W,
            BODY,
            format!(
                "感谢您的意见。如对处理结果有异议，请与我们联系{phone}。\n\
                 Thank you for telling us. If you disagree with this result, please contact us{phone}."
            ),
        )],
        None,
    );
    l.finish_as(&format!("{title} {}", n.number), &format!("投诉编号 / Complaint No. {}", n.number))
}

/// A day as the server's clock shows it (the company's time).
fn day(t: DateTime<Utc>) -> String {
    t.with_timezone(&Local).format("%Y-%m-%d").to_string()
}
