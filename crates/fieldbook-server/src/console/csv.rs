//! CSV answers (`?format=csv`): UTF-8 with a byte-order mark (so Excel opens Chinese text
//! correctly), a header row in the chosen language, and every row, not one page. Lists are
//! streamed page by page, so a CSV of a million orders never sits in memory whole.

use axum::body::{Body, Bytes};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::db::{Db, Mode, Tx};
use crate::error::Result;

pub const BOM: &str = "\u{feff}";

/// One field, quoted when it holds a comma, quote or line break (RFC 4180). Text that a
/// spreadsheet would take for a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage
/// return: technicians' and customers' words) gets a leading `'`, as OWASP advises against CSV
/// injection; numbers stay numbers.
pub fn field(v: &Value) -> String {
    let text = match v {
        Value::Null => return String::new(),
        Value::String(s) if s.starts_with(['=', '+', '-', '@', '\t', '\r']) => format!("'{s}"),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// Columns: (key, English label, Chinese label).
pub type Columns = &'static [(&'static str, &'static str, &'static str)];

pub fn header(columns: &[(impl AsRef<str>, impl AsRef<str>, impl AsRef<str>)], zh: bool) -> String {
    let labels: Vec<String> = columns.iter().map(|(_, en, zh_l)| field(&Value::String(if zh { zh_l.as_ref() } else { en.as_ref() }.to_owned()))).collect();
    format!("{}\r\n", labels.join(","))
}

pub fn row(columns: &[(impl AsRef<str>, impl AsRef<str>, impl AsRef<str>)], item: &Value) -> String {
    let cells: Vec<String> = columns.iter().map(|(k, _, _)| field(item.get(k.as_ref()).unwrap_or(&Value::Null))).collect();
    format!("{}\r\n", cells.join(","))
}

fn headers(resp: &mut Response, filename: &str) {
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        h.insert(CONTENT_DISPOSITION, v);
    }
}

/// A whole table at once (reports: a few hundred rows at most).
pub fn table(filename: &str, columns: &[(impl AsRef<str>, impl AsRef<str>, impl AsRef<str>)], rows: &[Value], zh: bool) -> Response {
    let mut out = String::from(BOM);
    out.push_str(&header(columns, zh));
    for r in rows {
        out.push_str(&row(columns, r));
    }
    let mut resp = out.into_response();
    headers(&mut resp, filename);
    resp
}

/// A paginated list, every page, streamed. `fetch(tx, after)` answers a page and the cursor of
/// the next one (`None`: that was the last).
pub fn stream_pages<F>(db: Db, filename: &str, columns: Columns, zh: bool, mut fetch: F) -> Result<Response>
where
    F: FnMut(&mut dyn Tx, Option<Vec<String>>) -> Result<(Vec<Value>, Option<Vec<String>>)> + Send + 'static,
{
    let (tx_chunks, rx) = tokio::sync::mpsc::channel::<std::result::Result<Bytes, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let mut buf = String::from(BOM);
        buf.push_str(&header(columns, zh));
        let mut after = None;
        loop {
            let page = db.transaction(Mode::Read, |tx| fetch(tx, after.take()));
            let (items, next) = match page {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(error = %e, "a CSV export failed part-way");
                    let _ = tx_chunks.blocking_send(Err(std::io::Error::other(e.to_string())));
                    return;
                }
            };
            for item in &items {
                buf.push_str(&row(columns, item));
            }
            if tx_chunks.blocking_send(Ok(Bytes::from(std::mem::take(&mut buf)))).is_err() {
                return; // the client went away
            }
            match next {
                Some(n) => after = Some(n),
                None => return,
            }
        }
    });
    let mut rx = rx;
    // poll_fn, unlike unfold, may be polled again after the end (it answers the end again).
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let mut resp = Body::from_stream(stream).into_response();
    headers(&mut resp, filename);
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_with_commas_quotes_and_line_breaks_are_quoted() {
        assert_eq!(field(&json!("plain")), "plain");
        assert_eq!(field(&json!("a,b")), "\"a,b\"");
        assert_eq!(field(&json!("say \"hi\"")), "\"say \"\"hi\"\"\"");
        assert_eq!(field(&json!("two\nlines")), "\"two\nlines\"");
        assert_eq!(field(&json!(null)), "");
        assert_eq!(field(&json!(3)), "3");
        assert_eq!(field(&json!(["x", 1])), "\"[\"\"x\"\",1]\"");
    }

    #[test]
    fn text_a_spreadsheet_would_run_as_a_formula_is_neutralised() {
        assert_eq!(field(&json!("=HYPERLINK(\"http://evil\",\"x\")")), "\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\"");
        assert_eq!(field(&json!("+86 21 5555")), "'+86 21 5555");
        assert_eq!(field(&json!("-2+3")), "'-2+3");
        assert_eq!(field(&json!("@SUM(A1)")), "'@SUM(A1)");
        assert_eq!(field(&json!("\t=1")), "'\t=1");
        assert_eq!(field(&json!("\r=1")), "\"'\r=1\"");
        // Only at the start; numbers are numbers.
        assert_eq!(field(&json!("a=b")), "a=b");
        assert_eq!(field(&json!(-5)), "-5");
        assert_eq!(field(&json!("")), "");
    }
}
