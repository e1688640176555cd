//! Checklist templates in the console: the list (every code with its versions), one version's
//! body, and publishing a new version. A published version never changes: publishing writes a
//! new record (`code@version`, the same stable id a laptop import uses) through the feed writer,
//! which sends templates to every technician; an inspection in progress keeps the version its
//! order names.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use fieldbook_core::checklist::ChecklistTemplate;
use fieldbook_core::error::FieldProblem;
use fieldbook_core::import::stable_id;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{audit, csv, ConsoleUser, FormatQuery};
use crate::api::{AppState, JsonBody};
use crate::db::{Mode, Tx};
use crate::error::{Error, Result};
use crate::feed::Writer;
use crate::import::write_changed;
use crate::records;

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct TemplateInfo {
    pub code: String,
    pub latest_version: i64,
    pub title_en: String,
    pub title_zh: String,
    pub published_at: Option<String>,
    pub versions: Vec<i64>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct TemplateVersion {
    pub code: String,
    pub version: i64,
    pub body: Value,
    pub published_at: Option<String>,
}

pub fn list_of(tx: &mut dyn Tx) -> Result<Vec<TemplateInfo>> {
    let mut by_code: BTreeMap<String, Vec<(i64, fieldbook_core::sync::merge::RecordState)>> = BTreeMap::new();
    for (_, s) in records::all(tx, "checklist_templates")? {
        if s.fields.get("deleted") == Some(&Value::Bool(true)) {
            continue;
        }
        let (Some(code), Some(version)) = (records::text(&s, "code").map(str::to_owned), records::int(&s, "version")) else { continue };
        by_code.entry(code).or_default().push((version, s));
    }
    Ok(by_code
        .into_iter()
        .map(|(code, mut versions)| {
            versions.sort_by_key(|(v, _)| *v);
            let (latest, s) = versions.last().expect("at least one");
            let title = |lang: &str| s.fields.get("body").and_then(|b| b.get("title")).and_then(|t| t.get(lang)).and_then(Value::as_str).unwrap_or_default().to_owned();
            TemplateInfo {
                latest_version: *latest,
                title_en: title("en"),
                title_zh: title("zh"),
                published_at: records::text(s, "published_at").map(str::to_owned),
                versions: versions.iter().map(|(v, _)| *v).collect(),
                code,
            }
        })
        .collect())
}

pub async fn list(State(s): State<AppState>, _u: ConsoleUser, Query(q): Query<FormatQuery>) -> Result<Response> {
    let items = s.db.run(Mode::Read, list_of).await?;
    if q.csv()? {
        let rows: Vec<Value> = items.iter().map(|t| serde_json::to_value(t).expect("serialises")).collect();
        let cols: csv::Columns = &[
            ("code", "Code", "编号"),
            ("title_en", "Title (English)", "名称(英文)"),
            ("title_zh", "Title (Chinese)", "名称(中文)"),
            ("latest_version", "Latest version", "最新版本"),
            ("published_at", "Published", "发布时间"),
            ("versions", "Versions", "所有版本"),
        ];
        return Ok(csv::table("templates.csv", cols, &rows, q.lang.as_deref() == Some("zh")));
    }
    Ok(Json(items).into_response())
}

fn id_of(code: &str, version: i64) -> String {
    stable_id("checklist_templates", &format!("{code}@{version}"))
}

pub fn version_of(tx: &mut dyn Tx, code: &str, version: i64) -> Result<TemplateVersion> {
    let s = records::load(tx, "checklist_templates", &id_of(code, version))?
        .filter(|s| s.fields.get("deleted") != Some(&Value::Bool(true)))
        .ok_or_else(|| Error::NotFound(format!("no checklist template {code} version {version}; the template list shows the versions")))?;
    Ok(TemplateVersion {
        code: code.to_owned(),
        version,
        body: s.fields.get("body").cloned().unwrap_or(Value::Null),
        published_at: records::text(&s, "published_at").map(str::to_owned),
    })
}

pub async fn version(State(s): State<AppState>, _u: ConsoleUser, Path((code, version)): Path<(String, String)>) -> Result<Json<TemplateVersion>> {
    let version: i64 = version.parse().map_err(|_| Error::Invalid(format!("version '{version}': a template version is a whole number")))?;
    Ok(Json(s.db.run(Mode::Read, move |tx| version_of(tx, &code, version)).await?))
}

#[derive(Debug, Deserialize)]
pub struct PublishRequest {
    pub code: String,
    pub body: Value,
}

/// Publishes `body` as the next version of `code`. Runs in a `Mode::Feed` transaction.
pub fn publish_template(tx: &mut dyn Tx, actor: &str, code: &str, body: &Value) -> Result<TemplateVersion> {
    let code = code.trim();
    if code.is_empty() || code.len() > 64 || code.chars().any(|c| c.is_whitespace() || c == '@') {
        return Err(Error::Invalid(format!("code '{code}': use 1 to 64 characters without spaces or '@' (e.g. FIRE-PATROL)")));
    }
    let latest = records::all(tx, "checklist_templates")?
        .iter()
        .filter(|(_, s)| records::text(s, "code") == Some(code))
        .filter_map(|(_, s)| records::int(s, "version"))
        .max()
        .unwrap_or(0);
    let version = latest + 1;
    // The body's own code and version are the published ones, whatever it said.
    let mut body = body.clone();
    let Some(obj) = body.as_object_mut() else {
        return Err(Error::Invalid("body: a checklist template is a JSON object with title and sections".into()));
    };
    obj.insert("code".into(), json!(code));
    obj.insert("version".into(), json!(version));
    let template: ChecklistTemplate = serde_json::from_value(body.clone()).map_err(|e| Error::Invalid(format!("body: {e}; see the checklist template format in the README")))?;
    if let Err(problems) = template.validate() {
        return Err(fieldbook_core::Error::Invalid(problems).into());
    }
    if template.sections.is_empty() {
        return Err(fieldbook_core::Error::Invalid(vec![FieldProblem::new(format!("checklist template {code}"), "sections", "add at least one section with items")]).into());
    }
    let body = serde_json::to_value(&template).expect("a template serialises");
    let published_at = crate::now_text();
    let id = id_of(code, version);
    let mut w = Writer::begin(tx)?;
    write_changed(
        &mut w,
        "checklist_templates",
        &id,
        &[("code", json!(code)), ("version", json!(version)), ("body", body.clone()), ("published_at", json!(published_at)), ("deleted", json!(false))],
    )?;
    w.finish()?;
    audit::record(tx, actor, "template_published", Some("checklist_templates"), Some(&id), None, json!({"code": code, "version": version}))?;
    Ok(TemplateVersion { code: code.to_owned(), version, body, published_at: Some(published_at) })
}

pub async fn publish(State(s): State<AppState>, u: ConsoleUser, JsonBody(req): JsonBody<PublishRequest>) -> Result<Response> {
    let actor = u.login().to_owned();
    let t = s.db.run(Mode::Feed, move |tx| publish_template(tx, &actor, &req.code, &req.body)).await?;
    Ok((axum::http::StatusCode::CREATED, Json(t)).into_response())
}
