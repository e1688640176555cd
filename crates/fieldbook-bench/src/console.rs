//! `fieldbook-bench console`: does every office console page answer in under 300 ms at the server
//! with 1,000,000 work orders and 200 technicians in PostgreSQL?
//!
//! It loads the data straight into the tables with set-based SQL (`INSERT … SELECT … FROM
//! generate_series`, run inside PostgreSQL: loading through the HTTP API would take hours): users,
//! 20,000 customers with a site and two assets each, 5,000 contracts, the work orders over two
//! years (records as JSON and their `work_order_index` rows), repair records, time entries,
//! satisfaction cards and findings (`work_item_index`, and records for repairs and cards), the
//! call register (`call_index`: a call per repair order, inquiries and suggestions), then
//! `ANALYZE`, then fills the per-day rollups from those projections (`console::rollup::rebuild`).
//! It starts the real `fieldbook-server` binary on that database, logs in as office staff and
//! times each page's API calls several times, printing p50/p95/max per call and whether each is
//! under the target. Mutations (register, dispatch, approve) are timed too.
//!
//! Without `--database` it starts a throwaway PostgreSQL cluster (fieldbook-testkit).

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use fieldbook_core::hlc::Hlc;
use fieldbook_server::db::{Db, Mode};
use fieldbook_server::import;
use fieldbook_server::users::{self, Role};
use serde_json::{json, Value};

#[derive(Parser)]
#[command(name = "fieldbook-bench console", about = "Loads a million work orders into PostgreSQL and times the office console's API")]
pub struct ConsoleArgs {
    /// A PostgreSQL database to fill (it must be empty). Default: a throwaway cluster.
    #[arg(long)]
    database: Option<String>,
    #[arg(long, default_value_t = 1_000_000)]
    orders: i64,
    #[arg(long, default_value_t = 200)]
    technicians: i64,
    #[arg(long, default_value_t = 20_000)]
    customers: i64,
    /// Timed runs of every call (after one warm-up run).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// The target, in milliseconds at the server.
    #[arg(long, default_value_t = 300.0)]
    target_ms: f64,
    /// The fieldbook-server binary (default: next to this one).
    #[arg(long)]
    server_bin: Option<std::path::PathBuf>,
}

const REGIONS: &str = "ARRAY['浦东新区','黄浦区','徐汇区','长宁区','静安区','普陀区','虹口区','杨浦区','闵行区','宝山区','嘉定区','金山区','松江区','青浦区','奉贤区','崇明区']";
const PROBLEMS: &str = "ARRAY['报警控制器显示故障','泵房漏水','烟感误报','喷淋头损坏','应急灯不亮','消火栓压力不足','防火门闭门器失效']";
const FINDING_KEYS: &str = "ARRAY['site.exits','pump.leak','alarm.state','ext.pressure_ok','site.wiring_clean','alarm.detector_test']";

/// `ts` (a timestamptz expression) as the server stores times.
fn t(expr: &str) -> String {
    format!("to_char(({expr}) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')")
}

fn load(db: &Db, a: &ConsoleArgs) -> Result<()> {
    let started = Instant::now();
    let stamp = Hlc::new(chrono::Utc::now().timestamp_millis() as u64 - 1000, 0, "server").to_string();
    let hash = users::hash_password("office-password")?;
    db.transaction(Mode::Feed, |tx| {
        let n = tx.query_one("SELECT COUNT(*) FROM work_order_index", &[])?.int(0)?;
        if n > 0 {
            return Err(fieldbook_server::Error::Invalid(format!("the database already holds {n} work orders; give an empty database")));
        }
        users::add(tx, "office", Role::Office, "Service desk / 客服代表", Some(&hash))?;
        users::add(tx, "admin", Role::Admin, "Administrator", Some(&hash))?;
        import::import(tx, &fieldbook_core::import::ImportDocument::from_json(fieldbook_server::demo::DEMO_IMPORT, "demo")?, "demo")?;
        Ok(())
    })?;
    let (orders, techs, customers) = (a.orders, a.technicians, a.customers);
    let step_s = (730 * 86_400) / orders.max(1); // two years of orders
    let now_text = fieldbook_server::now_text();
    let mut steps: Vec<(&str, String)> = vec![
        ("technicians", format!(
            "INSERT INTO users (login, display_name, role, password_hash, created_at, disabled)
             SELECT 'tech' || lpad(i::text, 3, '0'), '技术员 ' || i, 'technician', NULL, '{now_text}', 0 FROM generate_series(1, {techs}) i")),
        ("reference_index", format!(
            "INSERT INTO reference_index (entity, id, parent_id, code, name, region, zone, ends_on, deleted)
             SELECT 'customers', 'cust-' || c, NULL, 'K' || lpad(c::text, 6, '0'), '客户 ' || c || ' 有限公司', NULL, NULL, NULL, 0 FROM generate_series(1, {customers}) c
             UNION ALL
             SELECT 'sites', 'site-' || c, 'cust-' || c, 'S' || lpad(c::text, 6, '0'), '站点 ' || c, ({REGIONS})[c % 16 + 1],
                    CASE WHEN c % 3 = 0 THEN 'suburban' ELSE 'urban' END, NULL, 0 FROM generate_series(1, {customers}) c
             UNION ALL
             SELECT 'assets', 'asset-' || c || '-' || k, 'site-' || c, 'A' || lpad(c::text, 6, '0') || '-' || k, CASE k WHEN 1 THEN '火灾报警控制器' ELSE '消火栓泵' END,
                    NULL, NULL, NULL, 0 FROM generate_series(1, {customers}) c, generate_series(1, 2) k
             UNION ALL
             SELECT 'contracts', 'contract-' || c, 'cust-' || c, 'HT-' || lpad(c::text, 6, '0'), NULL, NULL, NULL,
                    to_char(current_date + (c % 400) - 20, 'YYYY-MM-DD'), 0 FROM generate_series(1, {customers} / 4) c")),
        ("reference records", format!(
            "INSERT INTO records (entity, id, fields, clocks, owner_id, scope, updated_seq, updated_at)
             SELECT r.entity, r.id,
               CASE r.entity
                 WHEN 'customers' THEN json_build_object('code', r.code, 'name', r.name, 'contact', '联系人', 'phone', '+86 21 5555 0000', 'email', NULL, 'deleted', false)
                 WHEN 'sites' THEN json_build_object('code', r.code, 'customer_id', r.parent_id, 'name', r.name, 'address', '上海市' || r.region || '某路 ' || r.code || ' 号',
                                                     'region', r.region, 'zone', r.zone, 'deleted', false)
                 WHEN 'assets' THEN json_build_object('code', r.code, 'site_id', r.parent_id, 'asset_type', CASE WHEN r.code LIKE '%-1' THEN 'fire_alarm_panel' ELSE 'fire_pump' END,
                                                      'name', r.name, 'model', 'M-1', 'serial', 'SN-' || r.code, 'location', 'B1', 'installed_on', '2022-01-01',
                                                      'warranty_ends', '2027-01-01', 'deleted', false)
                 ELSE json_build_object('number', r.code, 'customer_id', r.parent_id, 'starts_on', '2025-01-01', 'ends_on', r.ends_on,
                                        'asset_ids', json_build_array(replace(r.parent_id, 'cust-', 'asset-') || '-1', replace(r.parent_id, 'cust-', 'asset-') || '-2'), 'deleted', false)
               END::text,
               '{{}}', r.parent_id, NULL, 0, '{now_text}'
             FROM reference_index r WHERE r.id NOT LIKE '%-%-%-%-%'")),
        ("work_order_index", format!(
            "INSERT INTO work_order_index (id, number, kind, status, review_state, technician, customer_id, site_id, region, zone, priority, category, problem,
                                           scheduled_on, reported_at, response_deadline, arrived_at, completed_at, follow_up_of, repeat_window_end, asset_ids, deleted)
             SELECT id, number, kind, status,
                    CASE WHEN status IN ('completed', 'signed') THEN CASE WHEN rep < now() - interval '14 days' THEN 'approved' ELSE 'pending' END END,
                    CASE WHEN status = 'new' THEN NULL ELSE tech END, 'cust-' || c, 'site-' || c, ({REGIONS})[c % 16 + 1],
                    CASE WHEN c % 3 = 0 THEN 'suburban' ELSE 'urban' END, (ARRAY['low','normal','high','urgent'])[i % 4 + 1], (ARRAY['A','B','C','D'])[i % 4 + 1],
                    ({PROBLEMS})[i % 7 + 1], to_char(rep AT TIME ZONE 'UTC', 'YYYY-MM-DD'), {rep}, {deadline},
                    CASE WHEN status IN ('on_site', 'completed', 'signed') THEN {arrived} END,
                    CASE WHEN status IN ('completed', 'signed') THEN {completed} END,
                    CASE WHEN i % 50 = 0 AND i > 1000 AND kind = 'repair_call' THEN 'wo-' || (i - 1000) END,
                    {window}, json_build_array('asset-' || c || '-1')::text, 0
             FROM (SELECT i, 'wo-' || i AS id, 'WO-' || lpad(i::text, 7, '0') AS number,
                          CASE WHEN i % 10 < 7 THEN 'repair_call' WHEN i % 10 < 9 THEN 'maintenance' ELSE 'patrol_inspection' END AS kind,
                          now() - ({orders} - i) * interval '{step_s} seconds' AS rep,
                          'tech' || lpad((i % {techs} + 1)::text, 3, '0') AS tech, (i * 7919) % {customers} + 1 AS c,
                          CASE WHEN now() - ({orders} - i) * interval '{step_s} seconds' < now() - interval '2 days'
                               THEN CASE WHEN i % 5 < 3 THEN 'signed' ELSE 'completed' END
                               ELSE (ARRAY['new','dispatched','on_site','completed'])[i % 4 + 1] END AS status
                   FROM generate_series(1::bigint, {orders}) i) g",
            rep = t("rep"),
            deadline = t("rep + CASE WHEN c % 3 = 0 THEN interval '7 hours' ELSE interval '6 hours' END"),
            arrived = t("rep + ((i * 37) % 480) * interval '1 minute'"),
            completed = t("rep + ((i * 37) % 480 + 90) * interval '1 minute'"),
            window = t("rep + interval '30 days'"),
        )),
        ("work order records", format!(
            "INSERT INTO records (entity, id, fields, clocks, owner_id, scope, updated_seq, updated_at)
             SELECT 'work_orders', w.id,
                    json_build_object('number', w.number, 'kind', w.kind, 'customer_id', w.customer_id, 'site_id', w.site_id, 'asset_ids', w.asset_ids::json,
                      'technician', w.technician, 'priority', w.priority, 'category', w.category, 'status', w.status,
                      'template_id', CASE WHEN w.kind = 'patrol_inspection' THEN (SELECT id FROM records WHERE entity = 'checklist_templates' LIMIT 1) END,
                      'problem', w.problem, 'scheduled_on', w.scheduled_on, 'reported_at', w.reported_at, 'response_deadline', w.response_deadline,
                      'en_route_at', NULL, 'arrived_at', w.arrived_at, 'completed_at', w.completed_at, 'revision', 1, 'follow_up_of', w.follow_up_of,
                      'review_state', CASE WHEN w.review_state = 'approved' THEN 'approved' END, 'review_note', NULL, 'deleted', false)::text,
                    json_build_object('number', '{stamp}', 'kind', '{stamp}', 'customer_id', '{stamp}', 'site_id', '{stamp}', 'asset_ids', '{stamp}',
                      'technician', '{stamp}', 'priority', '{stamp}', 'category', '{stamp}', 'status', '{stamp}', 'problem', '{stamp}',
                      'scheduled_on', '{stamp}', 'reported_at', '{stamp}', 'response_deadline', '{stamp}', 'arrived_at', '{stamp}',
                      'completed_at', '{stamp}', 'revision', '{stamp}', 'review_state', '{stamp}', 'deleted', '{stamp}')::text,
                    NULL, w.technician, 0, '{now_text}'
             FROM work_order_index w WHERE w.id LIKE 'wo-%'")),
        ("work_item_index", format!(
            "INSERT INTO work_item_index (entity, id, work_order_id, asset_id, technician, work_date, category, minutes, fee_cents, parts_count,
                                          item_key, finding, attitude, skill, arrival, promise, deleted)
             SELECT 'repair_records', 'rr-' || substr(w.id, 4), w.id, 'asset-' || substr(w.customer_id, 6) || '-' || (1 + abs(hashtext(w.id)::bigint) % 2),
                    NULL::text, substr(w.completed_at, 1, 10), w.category, 30 + abs(hashtext(w.id)::bigint) % 90, (abs(hashtext(w.id)::bigint) % 5) * 5000,
                    abs(hashtext(w.id)::bigint) % 3, NULL::text, 0, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, 0
               FROM work_order_index w WHERE w.kind = 'repair_call' AND w.completed_at IS NOT NULL
             UNION ALL
             SELECT 'time_entries', 'te-' || substr(w.id, 4), w.id, NULL, w.technician, substr(w.completed_at, 1, 10), w.category,
                    45 + abs(hashtext(w.number)::bigint) % 120, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, 0
               FROM work_order_index w WHERE w.completed_at IS NOT NULL
             UNION ALL
             SELECT 'satisfaction_cards', 'sc-' || substr(w.id, 4), w.id, NULL, NULL, substr(w.completed_at, 1, 10), NULL, NULL, NULL, NULL, NULL, 0,
                    1 + abs(hashtext(w.id)::bigint) % 4, 2 + abs(hashtext(w.number)::bigint) % 3, 1 + abs(hashtext(w.site_id || w.id)::bigint) % 4, 3 + abs(hashtext(w.id)::bigint) % 2, 0
               FROM work_order_index w WHERE w.completed_at IS NOT NULL AND abs(hashtext(w.id)::bigint) % 5 = 0
             UNION ALL
             SELECT 'inspection_answers', 'ia-' || substr(w.id, 4), w.id, 'asset-' || substr(w.customer_id, 6) || '-1', NULL, substr(w.completed_at, 1, 10),
                    NULL, NULL, NULL, NULL, ({FINDING_KEYS})[abs(hashtext(w.id)::bigint) % 6 + 1], 1, NULL, NULL, NULL, NULL, 0
               FROM work_order_index w WHERE w.kind = 'patrol_inspection' AND w.completed_at IS NOT NULL AND abs(hashtext(w.number)::bigint) % 3 = 0")),
        ("repair and card records", format!(
            "INSERT INTO records (entity, id, fields, clocks, owner_id, scope, updated_seq, updated_at)
             SELECT i.entity, i.id,
               CASE i.entity WHEN 'repair_records' THEN
                 json_build_object('work_order_id', i.work_order_id, 'asset_id', i.asset_id, 'fault', '密封圈老化', 'cause', '使用年限', 'action', '更换密封圈',
                   'parts', CASE WHEN i.parts_count > 0 THEN json_build_array(json_build_object('sku', 'SD-JTY-GD-G3', 'quantity', i.parts_count)) ELSE '[]'::json END,
                   'labour_minutes', i.minutes, 'category', i.category, 'fee_cents', i.fee_cents, 'fee_collected', false, 'taken_to_workshop', false,
                   'receipt_number', NULL, 'recorded_at', i.work_date || 'T12:00:00.000Z', 'deleted', false)
               ELSE json_build_object('work_order_id', i.work_order_id, 'attitude', i.attitude, 'skill', i.skill, 'arrival', i.arrival, 'promise', i.promise,
                   'comment', NULL, 'rated_at', i.work_date || 'T12:00:00.000Z', 'deleted', false) END::text,
               '{{}}', i.work_order_id, NULL, 0, '{now_text}'
             FROM work_item_index i WHERE i.entity IN ('repair_records', 'satisfaction_cards')")),
        ("analyze", "ANALYZE".to_owned()),
    ];
    steps.extend(call_register_steps(orders, customers, step_s));
    for (what, sql) in steps {
        let t0 = Instant::now();
        db.transaction(Mode::Write, |tx| tx.execute_batch(&sql)).with_context(|| format!("loading {what}"))?;
        eprintln!("loaded {what} in {:.1} s", t0.elapsed().as_secs_f64());
    }
    // The projections were written directly: fill the first-time-fix flags and the per-day
    // rollups from them, as the migration does for a database that already has data.
    let t0 = Instant::now();
    db.transaction(Mode::Write, |tx| {
        fieldbook_server::console::rollup::rebuild(tx)?;
        tx.execute_batch("ANALYZE")
    })
    .context("filling the rollups")?;
    eprintln!("filled the rollups in {:.1} s", t0.elapsed().as_secs_f64());
    eprintln!("loaded {orders} work orders, {techs} technicians in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// The console's pages and the API calls each makes (as the UI does).
fn pages(ids: &Ids) -> Vec<(&'static str, String)> {
    let mut v: Vec<(&'static str, String)> = vec![
        ("calls", "/console/api/calls".into()),
        ("calls", "/console/api/technicians".into()),
        ("calls", "/console/api/customers?q=客户 123".into()),
        ("calls", format!("/console/api/customers/{}/sites", ids.customer)),
        ("calls", "/console/api/regions".into()),
        ("work orders", "/console/api/work-orders".into()),
        ("work orders", format!("/console/api/work-orders?after={}", ids.second_page)),
        ("work orders", "/console/api/work-orders?technician=tech042".into()),
        ("work orders", "/console/api/work-orders?status=signed".into()),
        ("work orders", "/console/api/work-orders?region=松江区".into()),
        ("work orders", format!("/console/api/work-orders?customer={}", ids.customer)),
        ("work orders", "/console/api/work-orders?from=2026-01-01&to=2026-01-31&technician=tech007".into()),
        ("work orders", "/console/api/work-orders?q=WO-0500000".into()),
        ("work orders", "/console/api/work-orders?q=泵房".into()),
        ("order detail", format!("/console/api/work-orders/{}", ids.order)),
        ("review", "/console/api/review".into()),
        ("conflicts", "/console/api/conflicts?state=open".into()),
        ("audit", "/console/api/audit".into()),
        ("templates", "/console/api/templates".into()),
        ("people", "/console/api/users".into()),
        ("people", "/console/api/devices".into()),
    ];
    for r in fieldbook_server::console::REPORTS {
        v.push(("reports", format!("/console/api/reports/{r}")));
    }
    v.push(("reports", "/console/api/reports/response?by=technician".into()));
    v.push(("reports", "/console/api/reports/response?by=zone&from=2025-12-01&to=2026-11-30".into()));
    v.push(("reports", "/console/api/reports/first-time-fix?technician=tech042&from=2025-12-01&to=2026-11-30".into()));
    v.push(("reports", "/console/api/reports/satisfaction?region=浦东新区".into()));
    // A whole year (half the orders): beyond what a page asks for by default.
    for r in ["response?by=day&", "daily-minutes?", "first-time-fix?", "satisfaction?", "fault-prone-assets?", "frequent-findings?"] {
        v.push(("reports, a year", format!("/console/api/reports/{r}from=2025-12-01&to=2026-11-30")));
    }
    // A year of one region (a sixteenth of the orders): the filters no rollup answers for
    // minutes, first-time fix and satisfaction (and one the area rollup does, for response).
    for r in ["response?by=day&", "daily-minutes?", "first-time-fix?", "satisfaction?", "fault-prone-assets?"] {
        v.push(("reports, a region's year", format!("/console/api/reports/{r}region=浦东新区&from=2025-12-01&to=2026-11-30")));
    }
    // The whole table of a year's daily reports, as the CSV export serves it.
    v.push(("reports, a year", "/console/api/reports/daily-minutes?from=2025-12-01&to=2026-11-30&limit=100000".into()));
    v.extend(call_register_pages());
    v
}

/// The call register (#11): a call for every repair order (same number, same time) and an
/// inquiry or a suggestion for every fifth order, some answered and closed — `call_index` rows
/// as the feed writer projects them.
fn call_register_steps(orders: i64, customers: i64, step_s: i64) -> Vec<(&'static str, String)> {
    vec![(
        "call_index",
        format!(
            "INSERT INTO call_index (id, number, channel, call_type, caller_name, caller_phone, customer_id, site_id, priority, problem, reported_at,
                                     taken_by, work_order_id, complaint_id, return_visit_id, follows_order_id, closed_at, deleted)
             SELECT 'call-' || w.id, w.number, 'phone', 'repair', '联系人', '+86 21 5555 0000', w.customer_id, w.site_id, w.priority, w.problem, w.reported_at,
                    'office', w.id, NULL, NULL, NULL, NULL, 0
             FROM work_order_index w WHERE w.kind = 'repair_call'
             UNION ALL
             SELECT 'ask-' || i, 'C-ASK-' || lpad(i::text, 7, '0'), (ARRAY['phone','email','fax','web','walk_in'])[i % 5 + 1],
                    CASE WHEN i % 4 = 0 THEN 'suggestion' ELSE 'inquiry' END, '来电人 ' || i, '139' || lpad(i::text, 8, '0'),
                    'cust-' || ((i * 7919) % {customers} + 1), NULL, 'normal', '咨询维保价格', {rep}, 'office', NULL, NULL, NULL, NULL,
                    CASE WHEN i % 3 = 0 THEN NULL ELSE {rep} END, 0
             FROM generate_series(1::bigint, {orders} / 5) i",
            rep = t(&format!("now() - ({orders} - i * 5) * interval '{step_s} seconds'")),
        ),
    )]
}

/// The call register's page: the newest calls, the next page, each filter.
fn call_register_pages() -> Vec<(&'static str, String)> {
    ["", "?call_type=inquiry", "?state=open", "?channel=email&call_type=suggestion", "?customer=cust-123", "?from=2026-01-01&to=2026-01-31&call_type=repair"]
        .iter()
        .map(|q| ("call register", format!("/console/api/call-register{q}")))
        .collect()
}

struct Ids {
    customer: String,
    order: String,
    second_page: String,
}

fn stats(mut xs: Vec<f64>) -> (f64, f64, f64) {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let at = |p: f64| xs[((xs.len() as f64 - 1.0) * p).round() as usize];
    (at(0.5), at(0.95), *xs.last().unwrap())
}

pub fn main(argv: Vec<String>) -> Result<()> {
    let a = ConsoleArgs::parse_from(argv);
    let _pg;
    let url = match &a.database {
        Some(u) => u.clone(),
        None => {
            _pg = fieldbook_testkit::fresh_db(fieldbook_testkit::Backend::Postgres);
            _pg.url.clone()
        }
    };
    if !url.starts_with("postgres") {
        bail!("the console bench measures PostgreSQL: give --database postgres://… or leave it out");
    }
    let db = Db::open(&url).context("opening the database")?;
    load(&db, &a)?;
    load_complaints(&db, &a)?;
    let server_bin = a.server_bin.clone().unwrap_or_else(|| super::sibling("fieldbook-server"));
    let port = super::free_port()?;
    let mut server = super::Server::spawn(&server_bin, &url, port)?;
    let base = format!("http://127.0.0.1:{port}");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let out = rt.block_on(measure(&base, &a));
    server.stop();
    let out = out?;
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

async fn measure(base: &str, a: &ConsoleArgs) -> Result<Value> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(300)).build()?;
    super::wait_until_up(&http, base).await?;
    let login = http.post(format!("{base}/console/api/login")).json(&json!({"login": "office", "password": "office-password"})).send().await?;
    if !login.status().is_success() {
        bail!("logging in: {}", login.text().await?);
    }
    let cookie = login.headers().get("set-cookie").context("no session cookie")?.to_str()?.split(';').next().unwrap_or_default().to_owned();
    let get = |path: String| {
        let http = http.clone();
        let cookie = cookie.clone();
        let base = base.to_owned();
        async move {
            let t0 = Instant::now();
            let r = http.get(format!("{base}{path}")).header("Cookie", cookie).send().await?;
            let status = r.status();
            let body = r.bytes().await?;
            let ms = t0.elapsed().as_secs_f64() * 1000.0;
            if !status.is_success() {
                bail!("GET {path}: {status} {}", String::from_utf8_lossy(&body));
            }
            Ok::<(f64, Value), anyhow::Error>((ms, serde_json::from_slice(&body).unwrap_or(Value::Null)))
        }
    };
    let first = get("/console/api/work-orders".into()).await?.1;
    let second_page = first["next"].as_str().context("a second page")?.to_owned();
    let ids = Ids { customer: "cust-123".into(), order: first["items"][0]["id"].as_str().unwrap_or("wo-1").to_owned(), second_page };
    let mut rows = Vec::new();
    let mut worst: f64 = 0.0;
    let complaint = get("/console/api/complaints?state=all&limit=1".into()).await?.1["items"][0]["id"].as_str().context("a complaint")?.to_owned();
    for (page, path) in pages(&ids).into_iter().chain(complaint_pages(&complaint)) {
        get(path.clone()).await?; // warm-up
        let mut times = Vec::new();
        for _ in 0..a.runs {
            times.push(get(path.clone()).await?.0);
        }
        let (p50, p95, max) = stats(times);
        worst = worst.max(p95);
        eprintln!("{:>6.1} {:>6.1} {:>6.1} ms  {page}: GET {path}", p50, p95, max);
        rows.push(json!({"page": page, "call": format!("GET {path}"), "p50_ms": p50, "p95_ms": p95, "max_ms": max, "under_target": p95 < a.target_ms}));
    }
    // Changes: register a call, dispatch it, approve the oldest pending order.
    let post = |path: String, body: Value| {
        let http = http.clone();
        let cookie = cookie.clone();
        let base = base.to_owned();
        async move {
            let t0 = Instant::now();
            let r = http.post(format!("{base}{path}")).header("Cookie", cookie).header("X-Fieldbook-Console", "1").json(&body).send().await?;
            let status = r.status();
            let v: Value = r.json().await.unwrap_or(Value::Null);
            if !status.is_success() {
                bail!("POST {path}: {status} {v}");
            }
            Ok::<(f64, Value), anyhow::Error>((t0.elapsed().as_secs_f64() * 1000.0, v))
        }
    };
    let mut changes: Vec<(&str, Vec<f64>)> = vec![("POST /console/api/calls", vec![]), ("POST …/dispatch", vec![]), ("POST …/approve", vec![])];
    let queue = get(format!("/console/api/review?limit={}", a.runs + 1)).await?.1;
    for run in 0..=a.runs {
        let reported = fieldbook_server::now_text();
        let (ms, call) = post("/console/api/calls".into(), json!({"channel": "phone", "call_type": "repair", "caller_name": "bench", "caller_phone": "021 5555 0077", "customer_id": "cust-77", "site_id": "site-77", "asset_ids": ["asset-77-1"], "problem": "bench", "reported_at": reported, "priority": "high"})).await?;
        let oid = call["work_order"]["id"].as_str().context("a call's work order id")?.to_owned();
        let (ms2, _) = post(format!("/console/api/work-orders/{oid}/dispatch"), json!({"technician": "tech042"})).await?;
        let pending = queue[run]["id"].as_str().context("a pending order")?.to_owned();
        let (ms3, _) = post(format!("/console/api/work-orders/{pending}/approve"), json!({})).await?;
        if run > 0 {
            changes[0].1.push(ms);
            changes[1].1.push(ms2);
            changes[2].1.push(ms3);
        }
    }
    for (call, times) in changes {
        let (p50, p95, max) = stats(times);
        worst = worst.max(p95);
        eprintln!("{:>6.1} {:>6.1} {:>6.1} ms  changes: {call}", p50, p95, max);
        rows.push(json!({"page": "changes", "call": call, "p50_ms": p50, "p95_ms": p95, "max_ms": max, "under_target": p95 < a.target_ms}));
    }
    Ok(json!({
        "orders": a.orders, "technicians": a.technicians, "customers": a.customers, "runs": a.runs, "target_ms": a.target_ms,
        "worst_p95_ms": worst, "all_under_target": worst < a.target_ms, "calls": rows,
    }))
}

// ---------------------------------------------------------------------------------------------
// Complaints (#11)

/// Complaints over the same two years: one per 200 work orders (5,000 at a million), each about
/// one order of its customer and naming its technician; the last 2% still open (most of those
/// overdue), the rest closed, most in time. Their records, `complaint_index` and
/// `complaint_technicians` rows, written directly like the orders.
fn load_complaints(db: &Db, a: &ConsoleArgs) -> Result<()> {
    let t0 = Instant::now();
    let n = (a.orders / 200).max(1);
    let step = a.orders / n;
    let now_text = fieldbook_server::now_text();
    let sql = format!(
        "CREATE TEMP TABLE bench_complaints AS
           SELECT k, 'cmp-' || k AS id, w.id AS order_id, w.customer_id, w.technician, w.reported_at AS registered_at,
                  (ARRAY['attitude','timeliness','quality','parts','charges','other'])[k % 6 + 1] AS category,
                  CASE WHEN k % 10 = 0 THEN 'serious' ELSE 'normal' END AS severity, k % 7 = 0 AS foreign_customer,
                  CASE WHEN k % 3 = 0 THEN 'office' ELSE 'admin' END AS responsible,
                  k > {n} * 98 / 100 AS still_open
             FROM generate_series(1::bigint, {n}) k JOIN work_order_index w ON w.id = 'wo-' || (k * {step});
         INSERT INTO complaint_index (id, number, source, customer_id, category, severity, foreign_customer, responsible, status, registered_at,
                                      first_report_due, first_reported_at, close_due, closed_at, deleted)
           SELECT id, to_char(registered_at::timestamptz, 'YYMM') || '-' || lpad((row_number() OVER (PARTITION BY substr(registered_at, 1, 7) ORDER BY k))::text, 3, '0'),
                  'direct', customer_id, category, severity, foreign_customer::int, responsible,
                  CASE WHEN still_open THEN 'open' ELSE 'closed' END, registered_at,
                  {first_due}, CASE WHEN NOT still_open THEN {first_at} END, {close_due},
                  CASE WHEN NOT still_open THEN {closed_at} END, 0
             FROM bench_complaints;
         INSERT INTO complaint_technicians (complaint_id, technician, registered_at, deleted)
           SELECT id, technician, registered_at, 0 FROM bench_complaints WHERE technician IS NOT NULL;
         INSERT INTO records (entity, id, fields, clocks, owner_id, scope, updated_seq, updated_at)
           SELECT 'complaints', c.id,
                  json_build_object('number', c.number, 'source', 'direct', 'source_id', NULL, 'customer_id', c.customer_id,
                    'work_order_ids', json_build_array(b.order_id), 'technicians', json_build_array(b.technician), 'category', c.category,
                    'severity', c.severity, 'foreign_customer', b.foreign_customer, 'description', '投诉 ' || c.number, 'responsible', c.responsible,
                    'registered_at', c.registered_at, 'registered_by', 'office', 'first_report_due', c.first_report_due,
                    'first_reported_at', c.first_reported_at, 'close_due', c.close_due, 'status', c.status,
                    'result', CASE WHEN c.closed_at IS NOT NULL THEN '已处理' END, 'written_reply', CASE WHEN c.severity = 'serious' THEN '管理层答复' END,
                    'informed_at', c.closed_at, 'informed_how', CASE WHEN c.closed_at IS NOT NULL THEN 'phone' END, 'closed_at', c.closed_at, 'deleted', false)::text,
                  '{{}}', NULL, NULL, 0, '{now_text}'
             FROM complaint_index c JOIN bench_complaints b ON b.id = c.id;
         INSERT INTO records (entity, id, fields, clocks, owner_id, scope, updated_seq, updated_at)
           SELECT 'complaint_steps', c.id || '-' || s.kind, json_build_object('complaint_id', c.id, 'at', c.registered_at, 'by', 'office', 'kind', s.kind,
                    'note', '记录', 'deleted', false)::text, '{{}}', c.id, NULL, 0, '{now_text}'
             FROM complaint_index c, (VALUES ('registered'), ('first_report')) s(kind);
         DROP TABLE bench_complaints;
         ANALYZE complaint_index;
         ANALYZE complaint_technicians;",
        first_due = t("registered_at::timestamptz + interval '3 days'"),
        first_at = t("registered_at::timestamptz + (k % 4) * interval '1 day'"),
        close_due = t("registered_at::timestamptz + CASE WHEN foreign_customer THEN interval '17 days' ELSE interval '13 days' END"),
        closed_at = t("registered_at::timestamptz + (5 + k % 11) * interval '1 day'"),
    );
    db.transaction(Mode::Write, |tx| tx.execute_batch(&sql)).context("loading complaints")?;
    eprintln!("loaded {n} complaints in {:.1} s", t0.elapsed().as_secs_f64());
    Ok(())
}

/// The Complaints page's calls, as the UI makes them.
fn complaint_pages(complaint: &str) -> Vec<(&'static str, String)> {
    let month = (chrono::Local::now().date_naive() - chrono::Duration::days(60)).format("%Y-%m").to_string();
    vec![
        ("complaints", "/console/api/complaints".into()),
        ("complaints", "/console/api/complaints?state=overdue".into()),
        ("complaints", "/console/api/complaints?state=all".into()),
        ("complaints", format!("/console/api/complaints?state=all&month={month}")),
        ("complaints", "/console/api/complaints?state=closed&category=quality&severity=serious".into()),
        ("complaints", "/console/api/complaints/statistics".into()),
        ("complaints", format!("/console/api/complaints/statistics?month={month}")),
        ("complaints", "/console/api/settings/complaints".into()),
        ("complaint detail", format!("/console/api/complaints/{complaint}")),
    ]
}
