/**
 * Every string of the office console, in English and Simplified Chinese side by side, and the
 * pure `translate`. Each entry is `[en, zh-CN]`, so a key cannot exist in one language only; the
 * tests also check that none is empty and that both use the same placeholders.
 */
import type { Locale } from "../../lib/i18n";

export type { Locale };
export const LOCALES: readonly Locale[] = ["zh-CN", "en"];
export type Params = Record<string, string | number>;

const table = {
  "app.title": ["Fieldbook office console", "Fieldbook 办公室控制台"],
  "app.language": ["Language / 语言", "语言 / Language"],
  "app.logout": ["Log out", "退出登录"],
  "app.skip": ["Skip to the content", "跳到正文"],
  "locale.zh-CN": ["中文 (简体)", "中文 (简体)"],
  "locale.en": ["English", "English"],

  "nav.label": ["Console", "控制台"],
  "nav.calls": ["Call-ins & dispatch", "报修登记与派工"],
  "nav.orders": ["Work orders", "工单"],
  "nav.review": ["Review queue", "审核队列"],
  "nav.conflicts": ["Conflicts", "数据冲突"],
  "nav.reports": ["Reports", "报表"],
  "nav.templates": ["Checklist templates", "巡检表模板"],
  "nav.people": ["People & devices", "人员与设备"],

  "role.technician": ["Technician", "技术员"],
  "role.office": ["Office", "客服/办公室"],
  "role.admin": ["Administrator", "管理员"],

  "common.loading": ["Loading…", "正在加载…"],
  "common.searching": ["Searching…", "正在搜索…"],
  "common.csv": ["Download CSV", "导出 CSV"],
  "common.yes": ["Yes", "是"],
  "common.no": ["No", "否"],
  "common.no_rows": ["No rows for these filters.", "该筛选条件下没有数据。"],
  "common.close": ["Close", "关闭"],
  "common.cancel": ["Cancel", "取消"],

  "error.network": ["Cannot reach the server — check the network and try again", "无法连接服务器——请检查网络后重试"],
  "error.unauthorized": ["Your session has ended — log in again", "登录已失效——请重新登录"],
  "error.forbidden": ["Not allowed for your role", "您的角色无权执行此操作"],
  "error.not_found": ["Not found", "未找到"],
  "error.invalid": ["Please correct this", "请更正"],
  "error.conflict": ["Someone changed this meanwhile — reload and try again", "已被他人修改——请刷新后重试"],
  "error.server": ["The server could not do this", "服务器未能完成此操作"],
  "error.unexpected": ["Something went wrong", "出现错误"],

  "login.title": ["Office console login", "办公室控制台登录"],
  "login.login": ["Login", "登录名"],
  "login.password": ["Password", "密码"],
  "login.submit": ["Log in", "登录"],
  "login.busy": ["Logging in…", "正在登录…"],
  "login.missing": ["Enter your login and your password.", "请输入登录名和密码。"],
  "login.wrong": ["Wrong login or password. Check both and try again.", "登录名或密码错误，请核对后重试。"],
  "login.forbidden": ["This console is for office staff; technicians use the Fieldbook app on their laptop.", "此控制台仅供办公室人员使用；技术员请使用笔记本上的 Fieldbook 应用。"],
  "login.expired": ["Your session has ended. Log in again to continue.", "登录已失效，请重新登录后继续。"],

  "col.number": ["Work order", "工单号"],
  "col.kind": ["Kind", "类型"],
  "col.customer": ["Customer", "客户"],
  "col.site": ["Site", "地点"],
  "col.status": ["Status", "状态"],
  "col.review": ["Review", "审核"],
  "col.technician": ["Technician", "技术员"],
  "col.region": ["Region", "区域"],
  "col.priority": ["Priority", "优先级"],
  "col.category": ["Category", "服务类别"],
  "col.reported": ["Call received", "报修时间"],
  "col.deadline": ["Response deadline", "响应时限"],
  "col.response": ["Response", "响应"],

  "customer.placeholder": ["Code or name", "编号或名称"],
  "customer.none": ["No customer matches.", "没有匹配的客户。"],
  "customer.matches": ["Matching customers", "匹配的客户"],

  "filters.label": ["Filters", "筛选"],
  "filters.any": ["Any", "全部"],
  "filters.from": ["From", "开始日期"],
  "filters.to": ["To", "结束日期"],
  "filters.text": ["Text", "关键词"],
  "filters.text_hint": ["Order no., problem…", "工单号、故障描述…"],
  "filters.apply": ["Apply", "应用"],
  "filters.bad_range": ["The start date is after the end date: swap them.", "开始日期晚于结束日期，请对调。"],

  "calls.title": ["Call-ins & dispatch", "报修登记与派工"],
  "calls.register": ["Register a call", "登记报修"],
  "calls.customer": ["Customer", "客户"],
  "calls.site": ["Site", "地点"],
  "calls.choose_site": ["Choose the site…", "请选择地点…"],
  "calls.customer_first": ["Choose the customer first", "请先选择客户"],
  "calls.assets": ["Equipment concerned", "涉及设备"],
  "calls.no_assets": ["No equipment recorded at this site.", "该地点没有登记设备。"],
  "calls.problem": ["Problem as reported", "报修内容"],
  "calls.reported_at": ["Time of call", "来电时间"],
  "calls.priority": ["Priority", "优先级"],
  "calls.kind": ["Kind of work", "工单类型"],
  "calls.category": ["Service category", "服务类别"],
  "calls.deadline_preview": ["Respond by {deadline} ({hours} h, {zone})", "须在 {deadline} 前响应（{zone}，{hours} 小时）"],
  "calls.deadline_hint": ["Choose the site to see the response deadline.", "选择地点后显示响应时限。"],
  "calls.need_customer": ["Choose the customer who called.", "请选择报修客户。"],
  "calls.need_site": ["Choose the site of the problem.", "请选择故障地点。"],
  "calls.need_problem": ["Describe the problem as the customer reported it.", "请填写客户报修的故障内容。"],
  "calls.need_time": ["Enter the time of the call.", "请填写来电时间。"],
  "calls.submit": ["Register the call", "登记"],
  "calls.registered": ["Registered {number}; respond by {deadline}.", "已登记 {number}，须在 {deadline} 前响应。"],
  "calls.waiting": ["Waiting for dispatch", "待派工"],
  "calls.none_waiting": ["Every call is dispatched.", "所有报修均已派工。"],
  "calls.carried_over": ["carried over", "隔日顺延"],
  "calls.assign": ["Assign", "派工"],
  "calls.choose_technician": ["Technician…", "技术员…"],
  "calls.technician_for": ["Technician for {number}", "{number} 的技术员"],
  "calls.open_orders": ["{count} open", "在办 {count}"],
  "calls.need_technician": ["Choose a technician for {number} first.", "请先为 {number} 选择技术员。"],
  "calls.assigned": ["{number} assigned to {technician}; it reaches the laptop at its next sync.", "{number} 已派给 {technician}，笔记本下次同步时收到。"],

  "orders.title": ["Work orders", "工单"],
  "orders.none": ["No work orders match these filters.", "没有符合筛选条件的工单。"],
  "orders.more": ["More", "加载更多"],
  "orders.shown": ["{count} shown", "已显示 {count} 张"],
  "orders.met": ["On time", "按时响应"],
  "orders.breached": ["Late", "超时"],

  "order.title": ["Work order {number}", "工单 {number}"],
  "order.facts": ["The order", "工单信息"],
  "order.arrived": ["Arrived", "到场时间"],
  "order.completed": ["Completed", "完工时间"],
  "order.review_note": ["Review note", "审核意见"],
  "order.signatures": ["Customer signature", "客户签字"],
  "order.unsigned": ["Not signed yet.", "尚未签字。"],
  "order.verified": ["The signed record verifies", "签字记录验证通过"],
  "order.not_verified": ["The signed record does NOT verify", "签字记录验证未通过"],
  "order.revision": ["Revision {revision}", "第 {revision} 版"],
  "order.digest_ok": ["digest matches the record", "摘要与记录一致"],
  "order.digest_bad": ["digest does not match", "摘要不一致"],
  "order.signature_ok": ["laptop signature valid", "设备签名有效"],
  "order.signature_bad": ["laptop signature invalid", "设备签名无效"],
  "order.digest": ["Digest", "摘要"],
  "order.device": ["Laptop", "设备"],
  "order.attachments": ["Photos and attachments", "照片与附件"],
  "order.missing": ["{count} attachment(s) not yet received", "{count} 个附件尚未收到"],
  "order.no_attachments": ["No attachments.", "没有附件。"],
  "order.received": ["received", "已收到"],
  "order.not_received": ["not received", "未收到"],
  "order.repair": ["Repair record", "维修记录"],
  "order.fault": ["Fault", "故障现象"],
  "order.cause": ["Cause", "故障原因"],
  "order.action": ["Action taken", "处理措施"],
  "order.labour": ["Labour", "工时"],
  "order.fee": ["Fee", "收费"],
  "order.fee_collected": ["collected on site", "已现场收取"],
  "order.receipt": ["receipt {number}", "收据 {number}"],
  "order.parts": ["Parts used", "使用备件"],
  "order.part": ["Part", "备件"],
  "order.quantity": ["Qty", "数量"],
  "order.serials": ["Serial numbers", "序列号"],
  "order.returned": ["Faulty part returned", "旧件已退回"],
  "order.no_parts": ["No parts used.", "未使用备件。"],
  "order.inspection": ["Inspection ({template} v{version})", "巡检（{template} 第 {version} 版）"],
  "order.findings": ["Findings", "发现问题"],
  "order.answers": ["All {count} answers", "全部 {count} 项记录"],
  "order.item": ["Item", "检查项"],
  "order.asset": ["Equipment", "设备"],
  "order.value": ["Answer", "结果"],
  "order.note": ["Note", "备注"],
  "order.time": ["Time recorded", "工时记录"],
  "order.no_time": ["No time recorded.", "没有工时记录。"],
  "order.satisfaction": ["Customer satisfaction", "客户满意度"],
  "order.no_satisfaction": ["No satisfaction card.", "没有满意度评价。"],
  "order.comment": ["Comment", "意见"],

  "criterion.attitude": ["Attitude", "服务态度"],
  "criterion.skill": ["Skill", "技术水平"],
  "criterion.arrival": ["Arrival on time", "到场及时"],
  "criterion.promise": ["Kept promises", "履行承诺"],

  "review.title": ["Review queue", "审核队列"],
  "review.empty": ["Nothing waits for review.", "没有待审核的工单。"],
  "review.signature_ok": ["signatures verify", "签字验证通过"],
  "review.signature_bad": ["signature does NOT verify", "签字验证未通过"],
  "review.attachments_ok": ["all attachments received", "附件已全部收到"],
  "review.parts": ["{count} part(s)", "备件 {count} 项"],
  "review.note_for": ["Note for {number} (required when returning)", "{number} 的审核意见（退回时必填）"],
  "review.note_required": ["Write what the technician must fix: the note is required to return the order.", "请写明技术员需要更正的内容：退回工单必须填写意见。"],
  "review.approve": ["Approve", "审核通过"],
  "review.return": ["Return to technician", "退回技术员"],
  "review.approved": ["{number} approved.", "{number} 已审核通过。"],
  "review.returned": ["{number} returned to the technician; the note reaches the laptop at its next sync.", "{number} 已退回，意见将在笔记本下次同步时送达。"],
  "review.recent": ["Recent review actions", "最近的审核记录"],

  "audit.title": ["Audit trail", "操作记录"],
  "audit.at": ["When", "时间"],
  "audit.actor": ["Who", "操作人"],
  "audit.action": ["What", "操作"],
  "audit.detail": ["Detail", "详情"],
  "audit.none": ["No actions recorded yet.", "暂无操作记录。"],

  "conflicts.title": ["Conflicts", "数据冲突"],
  "conflicts.open": ["To decide", "待处理"],
  "conflicts.none": ["No open conflicts.", "没有待处理的冲突。"],
  "conflicts.detected": ["detected {at}", "发现于 {at}"],
  "conflicts.kept": ["Value kept by sync", "同步保留的值"],
  "conflicts.other": ["Competing value", "另一方的值"],
  "conflicts.keep_this": ["Use this value", "采用此值"],
  "conflicts.merged_text": ["Or type the merged value", "或输入合并后的值"],
  "conflicts.merged_json": ["Or type the merged value as JSON (a number, true/false, a list…)", "或以 JSON 输入合并后的值（数字、true/false、列表…）"],
  "conflicts.merged_empty": ["Type the merged value first.", "请先输入合并后的值。"],
  "conflicts.merged_bad": ["This field is not text: type valid JSON ({error}).", "此字段不是文本，请输入有效的 JSON（{error}）。"],
  "conflicts.use_merged": ["Use the merged value", "采用合并值"],
  "conflicts.resolved_one": ["{field} decided: {value}. The laptops get it at their next sync.", "{field} 已确定为：{value}，笔记本下次同步时收到。"],
  "conflicts.resolved": ["Decided", "已处理"],
  "conflicts.none_resolved": ["None decided yet.", "尚无已处理的冲突。"],
  "conflicts.field": ["Field", "字段"],
  "conflicts.resolution": ["Decision", "处理结果"],
  "conflicts.by": ["By, when", "处理人、时间"],

  "reports.title": ["Reports & dashboards", "报表与看板"],
  "reports.response": ["Response commitments met", "响应承诺达成"],
  "reports.by": ["Per", "按"],
  "reports.by_day": ["day", "日"],
  "reports.by_technician": ["technician", "技术员"],
  "reports.by_zone": ["zone", "区域类型"],
  "reports.daily_minutes": ["Technicians' daily minutes per category", "技术员每日各类别工时（分钟）"],
  "reports.minutes": ["minutes", "分钟"],
  "reports.first_time_fix": ["First-time fix rate", "一次修复率"],
  "reports.satisfaction": ["Satisfaction averages (1–4)", "满意度平均分（1–4）"],
  "reports.fault_prone": ["Fault-prone equipment", "故障多发设备"],
  "reports.findings": ["Most frequent findings", "最常见的问题"],
  "reports.overdue": ["Inspections overdue", "逾期未完成的巡检"],
  "reports.expiring": ["Maintenance contracts expiring within 30 days", "30 天内到期的维保合同"],
  "reports.table": ["Table ({count} rows)", "数据表（{count} 行）"],
  "reports.first_rows": ["Showing the first {shown} of {total} rows; the CSV has every row.", "仅显示前 {shown} 行（共 {total} 行）；导出的 CSV 含全部数据。"],

  "templates.title": ["Checklist templates", "巡检表模板"],
  "templates.list": ["Templates", "模板"],
  "templates.none": ["No templates yet.", "尚无模板。"],
  "templates.latest": ["latest v{version}, {at}", "最新第 {version} 版，{at}"],
  "templates.new": ["New template", "新建模板"],
  "templates.code": ["Template code", "模板编号"],
  "templates.need_code": ["Give the new template a code, e.g. FP-MONTHLY.", "请为新模板填写编号，例如 FP-MONTHLY。"],
  "templates.choose": ["Choose a template", "请选择模板"],
  "templates.version_of": ["{code} version {version}", "{code} 第 {version} 版"],
  "templates.versions": ["Version", "版本"],
  "templates.published_at": ["Published {at}. A published version never changes; edits become a new version.", "发布于 {at}。已发布的版本不会更改，修改将发布为新版本。"],
  "templates.body": ["Template (JSON: title, sections, items)", "模板内容（JSON：标题、分节、检查项）"],
  "templates.bad_json": ["Not valid JSON: {error}", "JSON 格式错误：{error}"],
  "templates.not_object": ["The template must be a JSON object with a title and sections.", "模板必须是包含标题和分节的 JSON 对象。"],
  "templates.no_sections": ["Add at least one section with its items under \"sections\".", "请在 \"sections\" 中至少添加一个包含检查项的分节。"],
  "templates.publish": ["Publish as version {version}", "发布为第 {version} 版"],
  "templates.publish_new": ["Publish version 1", "发布第 1 版"],
  "templates.unchanged": ["Edit the template to publish a new version.", "修改模板后才能发布新版本。"],
  "templates.published": ["{code} version {version} published; laptops get it at their next sync, inspections in progress keep their version.", "{code} 第 {version} 版已发布；笔记本下次同步时收到，进行中的巡检仍用原版本。"],
  "templates.outline": ["Outline", "结构预览"],
  "templates.per_asset": ["repeated for each {type}", "按每台 {type} 重复"],
  "templates.required": ["required", "必填"],
  "templates.conditional": ["conditional", "条件显示"],
  "templates.editor": ["Editor", "编辑方式"],
  "templates.form_mode": ["Sections and items", "分节与检查项"],
  "templates.json_mode": ["JSON (every property)", "JSON（全部属性）"],
  "templates.title_zh": ["Title (Chinese)", "标题（中文）"],
  "templates.title_en": ["Title (English)", "标题（英文）"],
  "templates.section": ["Section {n}", "第 {n} 节"],
  "templates.key": ["Key", "键"],
  "templates.label_zh": ["Item (Chinese)", "检查项（中文）"],
  "templates.label_en": ["Item (English)", "检查项（英文）"],
  "templates.kind": ["Kind", "类型"],
  "templates.required_col": ["Required", "必填"],
  "templates.remove": ["Remove", "删除"],
  "templates.add_item": ["Add an item", "添加检查项"],
  "templates.add_section": ["Add a section", "添加分节"],
  "templates.remove_section": ["Remove this section", "删除本节"],
  "templates.fix_first": ["Fix the JSON to see the outline.", "请先修正 JSON 以显示结构。"],

  "people.title": ["People & devices", "人员与设备"],
  "people.admin_only": ["Only an administrator can change people and devices.", "仅管理员可以修改人员与设备。"],
  "people.users": ["Users and roles", "用户与角色"],
  "people.login": ["Login", "登录名"],
  "people.name": ["Name", "姓名"],
  "people.role": ["Role", "角色"],
  "people.role_of": ["Role of {login}", "{login} 的角色"],
  "people.state": ["State", "状态"],
  "people.active": ["Active", "启用"],
  "people.disabled": ["Disabled", "已停用"],
  "people.created": ["Created", "创建时间"],
  "people.actions": ["Actions", "操作"],
  "people.disable": ["Disable", "停用"],
  "people.enable": ["Enable", "启用"],
  "people.issue_code": ["Enrolment code", "生成注册码"],
  "people.code_for": ["Enrolment code for {login}'s laptop", "{login} 笔记本的注册码"],
  "people.code_once": ["Shown only now; valid until {at}. Enter it in the laptop's Fieldbook app.", "仅显示这一次，有效期至 {at}。请在笔记本的 Fieldbook 应用中输入。"],
  "people.copy": ["Copy", "复制"],
  "people.copied": ["Copied", "已复制"],
  "people.add": ["Add a user", "添加用户"],
  "people.add_submit": ["Add", "添加"],
  "people.password": ["Password", "密码"],
  "people.password_hint": ["Technicians need no password (they enrol laptops with a code); office staff and administrators do.", "技术员无需密码（用注册码注册笔记本）；办公室人员和管理员需要密码。"],
  "people.bad_login": ["Logins use lower-case letters, digits, dots, dashes and underscores, e.g. wang.fang.", "登录名只能包含小写字母、数字、点、短横线和下划线，例如 wang.fang。"],
  "people.added": ["{login} added.", "已添加 {login}。"],
  "people.changed": ["{login} changed.", "已修改 {login}。"],

  "devices.title": ["Laptops", "笔记本设备"],
  "devices.device": ["Laptop", "设备"],
  "devices.enrolled": ["Enrolled", "注册时间"],
  "devices.last_seen": ["Last sync", "最近同步"],
  "devices.acked": ["Changes received", "已接收变更"],
  "devices.state": ["State", "状态"],
  "devices.active": ["Active", "正常"],
  "devices.none": ["No laptops enrolled.", "尚无注册的笔记本。"],
  "devices.not_seen": ["not seen for 3 days: unsynced work may be waiting", "已 3 天未同步：可能有未上传的数据"],
  "devices.revoked_unsynced": ["revoked with unsynced data", "已吊销但仍有未同步数据"],
  "devices.revoked_at": ["revoked {at}", "已于 {at} 吊销"],
  "devices.wipe_ordered": ["wipe ordered", "已下令清除数据"],
  "devices.revoke": ["Revoke…", "吊销…"],
  "devices.confirm_title": ["Revoke {device}?", "确认吊销 {device}？"],
  "devices.reason": ["Reason", "原因"],
  "devices.reason_required": ["Give the reason, e.g. \"laptop stolen\".", "请填写原因，例如“笔记本被盗”。"],
  "devices.wipe": ["Also wipe its local data at next contact (even unsynced work)", "下次联网时同时清除本地数据（包括未同步的数据）"],
  "devices.confirm": ["Revoke now", "立即吊销"],
  "devices.revoked": ["{device} revoked; its next sync is refused.", "{device} 已吊销，其下次同步将被拒绝。"],
  "devices.revoked_wipe": ["{device} revoked and ordered to wipe its data.", "{device} 已吊销并下令清除数据。"],
} as const satisfies Record<string, readonly [string, string]>;

export type ConsoleKey = keyof typeof table;

/** Both languages as plain maps (for the tests and for anyone listing the strings). */
export const messages: Record<Locale, Record<ConsoleKey, string>> = {
  en: Object.fromEntries(Object.entries(table).map(([k, v]) => [k, v[0]])) as Record<ConsoleKey, string>,
  "zh-CN": Object.fromEntries(Object.entries(table).map(([k, v]) => [k, v[1]])) as Record<ConsoleKey, string>,
};

export function translate(locale: Locale, key: ConsoleKey, params: Params = {}): string {
  const text: string = messages[locale][key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

export function isLocale(value: unknown): value is Locale {
  return value === "zh-CN" || value === "en";
}

/** Words of the domain (statuses, kinds…) shown in the users' words; unknown words pass through. */
const words: Record<string, Record<string, readonly [string, string]>> = {
  status: {
    new: ["New", "新建"],
    dispatched: ["Dispatched", "已派工"],
    en_route: ["En route", "在途"],
    on_site: ["On site", "到场"],
    completed: ["Completed", "已完工"],
    signed: ["Signed by customer", "客户已签字"],
  },
  kind: {
    patrol_inspection: ["Patrol inspection", "定期巡检"],
    repair_call: ["Repair call", "维修"],
    maintenance: ["Maintenance", "保养"],
  },
  priority: { low: ["Low", "低"], normal: ["Normal", "普通"], high: ["High", "高"], urgent: ["Urgent", "紧急"] },
  category: {
    A: ["A paid", "A 有费服务"],
    B: ["B contract", "B 合同服务"],
    C: ["C free (warranty)", "C 免费服务"],
    D: ["D internal", "D 一般行政工作"],
  },
  zone: { urban: ["urban", "市区"], suburban: ["suburban", "郊区"] },
  review: {
    pending: ["Awaiting review", "待审核"],
    approved: ["Approved", "已审核"],
    returned: ["Returned", "已退回"],
  },
  action: {
    call_registered: ["Call registered", "登记报修"],
    dispatched: ["Dispatched", "派工"],
    approved: ["Approved", "审核通过"],
    returned: ["Returned to technician", "退回技术员"],
    conflict_resolved: ["Conflict decided", "处理冲突"],
    template_published: ["Template published", "发布模板"],
    user_added: ["User added", "添加用户"],
    user_changed: ["User changed", "修改用户"],
    enrolment_code_issued: ["Enrolment code issued", "生成注册码"],
    device_revoked: ["Laptop revoked", "吊销设备"],
    login: ["Logged in", "登录"],
    login_failed: ["Login failed", "登录失败"],
  },
  item_kind: {
    pass_fail: ["pass / fail", "合格/不合格"],
    numeric: ["reading", "读数"],
    text: ["text", "文字"],
    single_choice: ["one choice", "单选"],
    multiple_choice: ["several choices", "多选"],
    photo: ["photo", "照片"],
    date: ["date", "日期"],
  },
  field: {
    value: ["answer", "检查结果"],
    answered_at: ["time answered", "记录时间"],
    note: ["note", "备注"],
    fault: ["fault", "故障现象"],
    cause: ["cause", "故障原因"],
    action: ["action taken", "处理措施"],
    labour_minutes: ["labour minutes", "工时（分钟）"],
    fee_cents: ["fee", "收费"],
    problem: ["problem", "报修内容"],
    status: ["status", "状态"],
    minutes: ["minutes", "分钟"],
    comment: ["comment", "意见"],
  },
  entity: {
    work_orders: ["Work order", "工单"],
    inspection_answers: ["Inspection answer", "巡检记录"],
    repair_records: ["Repair record", "维修记录"],
    repair_parts: ["Part used", "使用备件"],
    time_entries: ["Time entry", "工时记录"],
    satisfaction_cards: ["Satisfaction card", "满意度评价"],
  },
};

export type WordKind = "status" | "kind" | "priority" | "category" | "zone" | "item_kind";

export function label(locale: Locale, kind: WordKind, word: string): string {
  const pair = words[kind]?.[word];
  return pair ? pair[locale === "en" ? 0 : 1] : word;
}

export function reviewLabel(locale: Locale, state: string | null): string {
  if (!state) return locale === "en" ? "—" : "—";
  const pair = words.review[state];
  return pair ? pair[locale === "en" ? 0 : 1] : state;
}

export function actionLabel(locale: Locale, action: string): string {
  const pair = words.action[action];
  return pair ? pair[locale === "en" ? 0 : 1] : action;
}

/** A synced field as people call it: "Repair record · fault". */
export function fieldLabel(locale: Locale, entity: string, field: string): string {
  const i = locale === "en" ? 0 : 1;
  const e = words.entity[entity]?.[i] ?? entity;
  const f = words.field[field]?.[i] ?? field;
  return `${e} · ${f}`;
}

/** Every word table, for the test that checks both languages. */
export const wordTables = words;
