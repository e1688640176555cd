//! The expiry notice (保养到期通知书, #12): the bilingual (zh-CN / en) letter that tells a customer
//! their maintenance contract is about to end — which contract, which of their equipment it
//! covers, its service level and last day, what happens after it, and how to renew — on the
//! company's letterhead. Also the ways a notice is sent, so the server, the console and the
//! notice use the same words.
//!
//! Pure: it takes a [`Notice`] and writes PDF bytes with the service report's layout and embedded
//! CJK font subset (a child module of [`crate::report`], like the complaint result notice).

use chrono::NaiveDate;

use super::{fonts, Cell, Layout, BODY, BOLD, CONTENT_W, LABEL, MARGIN, MUTED};
use crate::error::Result;
use crate::import::Company;
use crate::service_category::SERVICE_LEVELS;

/// How a notice reached the customer: code, Chinese, English.
pub const SENT_HOW: &[(&str, &str, &str)] = &[("post", "邮寄", "By post"), ("email", "电子邮件", "By e-mail"), ("fax", "传真", "By fax"), ("hand", "专人送达", "By hand")];

/// One covered asset as the notice lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct CoveredAsset {
    pub code: String,
    pub name: String,
    /// The site's name.
    pub site: String,
}

/// Everything the notice says, as the server read it from the contract.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub contract: String,
    /// The customer's name (and code).
    pub customer: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// A code of [`SERVICE_LEVELS`], or `None` when the contract does not say.
    pub service_level: Option<String>,
    pub assets: Vec<CoveredAsset>,
    /// The day the notice is dated.
    pub dated: NaiveDate,
}

/// The words of a service level, `zh / en` (the code itself when unknown; "—" when none).
pub fn level_words(code: Option<&str>) -> String {
    match code {
        None | Some("") => "—".to_owned(),
        Some(code) => SERVICE_LEVELS.iter().find(|(c, _, _)| *c == code).map_or_else(|| code.to_owned(), |(_, zh, en)| format!("{zh} / {en}")),
    }
}

/// Renders the expiry notice as PDF bytes. `company` is the letterhead ("Fieldbook" when `None`).
pub fn render(n: &Notice, company: Option<&Company>) -> Result<Vec<u8>> {
    let title = "保养到期通知书 / Maintenance Contract Expiry Notice";
    let mut l = Layout::new(fonts()?, format!("{title} · {}", n.contract));
    super::letterhead(&mut l, company, title);
    let right = MARGIN + CONTENT_W;
    l.text(MARGIN, l.y, BOLD, &format!("合同编号 / Contract No. {}", n.contract));
    l.text_right(right, l.y, BODY, &format!("日期 / Date: {}", n.dated));
    l.y += 10.0;

    l.band("致 / To");
    l.wide("客户 / Customer", &n.customer, BOLD);
    let days = (n.ends_on - n.dated).num_days();
    let when = if days >= 0 {
        format!("将于 {} 天后到期 / ends in {days} days", days)
    } else {
        format!("已于 {} 天前到期 / ended {} days ago", -days, -days)
    };
    l.row(
        &[Cell::new(
            MARGIN,
            CONTENT_W,
            BODY,
            format!(
                "贵单位与我公司签订的保养合同 {c} 将于 {e} 到期（{when}）。\n\
                 Your maintenance contract {c} with us ends on {e}.",
                c = n.contract,
                e = n.ends_on
            ),
        )],
        None,
    );

    l.band("合同 / The contract");
    l.grid(&[
        ("合同编号 / Contract No.", n.contract.clone(), BOLD),
        ("服务级别 / Service level", level_words(n.service_level.as_deref()), BODY),
        ("起始日期 / Starts", n.starts_on.to_string(), BODY),
        ("到期日期 / Ends", n.ends_on.to_string(), BOLD),
    ]);

    l.band("保养范围内的设备 / Equipment covered");
    if n.assets.is_empty() {
        l.wide("—", "—", MUTED);
    }
    for a in &n.assets {
        l.row(&[Cell::new(MARGIN, 110.0, LABEL, &a.code), Cell::new(MARGIN + 114.0, CONTENT_W - 234.0, BODY, &a.name), Cell::new(right - 116.0, 116.0, BODY, &a.site)], None);
        l.hline(MARGIN, right, 0.3, super::RULE);
    }

    l.band("到期后 / After the contract ends");
    l.row(
        &[Cell::new(
            MARGIN,
            CONTENT_W,
            BODY,
            "合同到期后，定期巡检将停止；上述设备的维修将按有费服务收取人工及备件费用（保修期内的设备仍按保修条款免费维修）。\n\
             After the end date, scheduled inspections stop, and repairs of the equipment above are charged for labour and parts as paid service \
             (equipment still under its warranty is repaired free under the warranty).",
        )],
        None,
    );

    l.band("如何续约 / How to renew");
    let phone = company.and_then(|c| c.phone.as_deref()).map(|p| format!(" {p}")).unwrap_or_default();
    l.row(
        &[Cell::new(
            MARGIN,
            CONTENT_W,
            BODY,
            format!(
                "请于到期日前致电{phone}与我们联系，我们将派人上门商谈续约；续签后保养服务不中断。\n\
                 Please call us{phone} before the end date: we will visit to agree the renewal, and your maintenance continues without a break."
            ),
        )],
        None,
    );
    l.gap(12.0);
    l.wide("客户回执 / Customer's reply", "□ 续约 / We renew    □ 不续约 / We do not renew    签字 / Signature: ____________", BODY);
    l.finish_as(&format!("{title} {}", n.contract), &format!("合同编号 / Contract No. {}", n.contract))
}
