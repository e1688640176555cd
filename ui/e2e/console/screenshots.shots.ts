/**
 * Screenshots of every console screen in English and Chinese at 1366×768, written to
 * docs/screenshots/console-{en,zh}-SCREEN.png. Run by scripts/screenshots.sh console (which sets
 * FIELDBOOK_SCREENSHOTS=1 so the config picks this file up); it first makes a job waiting for
 * review (escalated by its technician) and an open conflict so those screens show something real.
 */
import { join } from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { e2eEnv } from "./env";
import { enrolmentCode, finishRepair, fixture, Laptop, login, makeConflict, open, registerAndDispatch, registerCall } from "./helpers";

/** The day whose time the technician records for the Daily reports screens: yesterday. */
const DAY = (() => {
  const d = new Date();
  d.setDate(d.getDate() - 1);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
})();

const SHOTS: { name: string; route: string; ready: (p: Page) => Promise<void> }[] = [
  { name: "calls", route: "calls", ready: (p) => expect(p.getByTestId("call-row").first()).toBeVisible() },
  {
    name: "register",
    route: "register",
    ready: async (p) => {
      // A call's details: what became of it and its trail (the demo's inquiry, answered and closed).
      await p.getByTestId("register-row").last().getByRole("button").click();
      await expect(p.getByTestId("call-detail")).toBeVisible();
    },
  },
  { name: "orders", route: "orders", ready: (p) => expect(p.getByTestId("orders").locator("tbody tr").nth(2)).toBeVisible() },
  { name: "review", route: "review", ready: (p) => expect(p.getByTestId("review-item").first()).toBeVisible() },
  { name: "conflicts", route: "conflicts", ready: (p) => expect(p.getByTestId("conflict").first()).toBeVisible() },
  { name: "return-visits", route: "return-visits", ready: (p) => expect(p.getByTestId("visit-row").first()).toBeVisible() },
  { name: "reports", route: "reports", ready: (p) => expect(p.locator("canvas").first()).toBeVisible() },
  { name: "templates", route: "templates/FP-PATROL", ready: (p) => expect(p.getByLabel("Title (Chinese)").or(p.getByLabel("标题（中文）")).first()).toBeVisible() },
  { name: "escalations", route: "escalations", ready: (p) => expect(p.getByTestId("escalation").first()).toBeVisible() },
  // Spare parts: stores, stock with minimums, the movement form, requisitions, movements.
  { name: "parts", route: "parts", ready: (p) => expect(p.getByTestId("stock-row").first()).toBeVisible() },
  {
    name: "plans",
    route: "plans",
    ready: async (p) => {
      // A contract's plans and the orders they generated: the Ruijin school's contract.
      await p.locator("#plans-q").fill("HT-2025-031");
      await p.locator("form.search button").click();
      await p.getByRole("link", { name: "HT-2025-031" }).click();
      await expect(p.getByTestId("plans")).toBeVisible();
      // A plan with its next quarter generated (made once: the second language finds it).
      if ((await p.getByTestId("plan").count()) === 0) {
        const contract = decodeURIComponent(new URL(p.url()).hash.split("/")[2] ?? "");
        const api = `${e2eEnv().url}/console/api`;
        const headers = { "X-Fieldbook-Console": "1" };
        const page = await (await p.request.get(`${api}/plans?contract_id=${contract}`)).json();
        const site_ids = (page.sites as { id: string }[]).map((s) => s.id);
        await p.request.post(`${api}/plans`, { headers, data: { contract_id: contract, name: "月度巡检 / monthly patrol", template_code: "FP-PATROL", interval: "monthly", site_ids, technician: "li.wei" } });
        await p.getByRole("button", { name: /Next quarter|下季度/ }).click();
        await p.locator("form.generate button[type=submit]").click();
        await expect(p.getByTestId("plan-order").first()).toBeVisible();
        await p.reload();
      }
      await expect(p.getByTestId("plan-order").first()).toBeVisible();
    },
  },
  { name: "daily-reports", route: `daily-reports?date=${DAY}`, ready: (p) => expect(p.getByTestId("day-row").first()).toBeVisible() },
  { name: "daily-report", route: `daily-reports/li.wei?date=${DAY}`, ready: (p) => expect(p.getByTestId("day-entries")).toBeVisible() },
  {
    name: "customers",
    route: "customers",
    ready: async (p) => {
      await expect(p.getByTestId("correction").first()).toBeVisible();
      await expect(p.getByTestId("customers").locator("tbody tr").first()).toBeVisible();
    },
  },
  {
    name: "customer",
    route: "customers",
    ready: async (p) => {
      // One customer's books: sites with their assets, contracts, the trail.
      await p.getByTestId("customers").getByRole("link", { name: "C-JINQIAO" }).click();
      await expect(p.getByTestId("site").first()).toBeVisible();
    },
  },
  { name: "workshop", route: "workshop", ready: (p) => expect(p.getByTestId("workshop-row").first()).toBeVisible() },
  {
    name: "workshop-unit",
    route: "workshop",
    ready: async (p) => {
      // One unit with its receipt, register, repair card and the check waiting.
      await p.getByTestId("workshop-row").first().getByRole("link").first().click();
      await expect(p.getByTestId("ws-card-shown")).toBeVisible();
    },
  },
  {
    name: "people",
    route: "people",
    ready: async (p) => {
      // The laptops (last sync, warnings, revoke) are what this screen is for: show them.
      await p.getByTestId("device-row").first().scrollIntoViewIfNeeded();
      await expect(p.getByTestId("device-row").first()).toBeVisible();
    },
  },
  { name: "renewals", route: "renewals", ready: (p) => expect(p.getByTestId("renewal-row").first()).toBeVisible() },
  {
    name: "renewal",
    route: "renewals",
    ready: async (p) => {
      // One contract's renewal: the contract, its equipment, the tracking and the next step.
      await p.getByTestId("renewal-row").first().getByRole("link").click();
      await expect(p.getByTestId("renewal-state")).toBeVisible();
    },
  },
  { name: "calendar", route: "calendar", ready: (p) => expect(p.getByTestId("calendar-version").first()).toBeVisible() },
  {
    name: "calendar-policies",
    route: "calendar",
    ready: async (p) => {
      // The response policies and who gets which: scrolled to them.
      await p.getByTestId("calendar-policy").first().scrollIntoViewIfNeeded();
      await p.locator("#cal-holidays").scrollIntoViewIfNeeded();
      await expect(p.getByTestId("calendar-policy").first()).toBeVisible();
    },
  },
  {
    name: "complaints",
    route: "complaints",
    ready: async (p) => {
      await expect(p.getByTestId("reminder").first()).toBeVisible();
      await p.evaluate(() => window.scrollTo(0, 0));
    },
  },
  {
    name: "complaint",
    route: "complaints",
    ready: async (p) => {
      await p.getByTestId("complaint-row").first().getByRole("link").click();
      await expect(p.getByTestId("complaint-log")).toBeVisible();
      await p.evaluate(() => window.scrollTo(0, 0));
    },
  },
];

let review = "";

test.beforeAll(async ({ browser }) => {
  const page = await browser.newPage();
  await login(page, "office");
  // One call left waiting, one job done and waiting for review, one conflict.
  await open(page, "calls");
  review = await registerAndDispatch(page, "2# 喷淋泵漏水，泵房地面积水", /Li Wei/);
  const laptop = new Laptop("shots");
  laptop.enrol(enrolmentCode("li.wei"));
  finishRepair(laptop, review);
  // The technician asks for an engineer on the repair, and for the supervisor on the order.
  const shown = laptop.json<{ repairs: { id: string }[] }>(["show", review]);
  laptop.json(["escalate", review, "--repair", shown.repairs[0].id, "--to", "engineer", "--note", "止回阀更换后压力仍偏低，需工程师复核管网"]);
  laptop.json(["escalate", review, "--to", "supervisor", "--note", "客户要求主管到场说明费用"]);
  // Yesterday's time outside repairs, for the Daily reports screens.
  laptop.json(["time", "--minutes", "120", "--category", "D", "--activity", "internal", "--date", DAY, "--note", "消防规范培训 / fire code training"]);
  laptop.json(["time", "--minutes", "45", "--category", "B", "--activity", "travel", "--date", DAY, "--note", "往返金桥 / to Jinqiao and back"]);
  // A correction of the customer's records from site, waiting for the office (Customers).
  laptop.json(["correct", "WO-1002", "--record-entity", "assets", "--record", "XH-PUMP-01", "--field", "serial", "--value", "LB-2022-1121", "--note", "铭牌 / name plate"]);
  laptop.json(["sync"]);
  // A unit taken to the workshop, booked in and repaired, waiting for the supervisor's check.
  const unitOrder = await registerAndDispatch(page, "报警主机主板烧毁，需带回车间", /Li Wei/);
  laptop.json(["sync"]);
  laptop.json(["arrive", unitOrder]);
  const taken = laptop.json<{ id: string }>(["repair", unitOrder, "--fault", "报警主机主板烧毁", "--cause", "雷击", "--action", "带回车间维修",
    "--minutes", "30", "--category", "A", "--workshop-receipt", "SJ-2026-0042"]);
  const unit = laptop.json<{ id: string }>(["workshop", "receipt", unitOrder, "--repair", taken.id, "--unit", "海湾 GST200 报警主机", "--serial", "GST-88121",
    "--condition", "外壳完好，主板有烧痕", "--accessories", "电源线一根", "--signer", "王经理", "--strokes", laptop.write("strokes.json", fixture("strokes.json"))]);
  laptop.json(["sync"]);
  for (const body of [{ step: "goods_in" }, { step: "repair_card", minutes: 95, done: "更换主板，烤机4小时", parts: [{ name: "GST200 主板", quantity: 1 }], repaired_by: "车间 陈师傅" }]) {
    const r = await page.request.post(`${e2eEnv().url}/console/api/workshop/${unit.id}/steps`, { data: body, headers: { "X-Fieldbook-Console": "1" } });
    expect(r.ok()).toBe(true);
  }
  await registerAndDispatch(page, "消防控制室报警主机报故障", /Zhang Min/);
  await registerCall(page, "3 号楼喷淋末端试水压力不足");
  makeConflict("li.wei", "WO-1001", "alarm.battery_v", "JQ-FACP-01", 26.8, 25.9);
  // Spare parts: goods in, issues to the vans, one part below its minimum; li.wei asks for more.
  const api = `${e2eEnv().url}/console/api`;
  const headers = { "X-Fieldbook-Console": "1" };
  const catalogue: { id: string; sku: string }[] = await (await page.request.get(`${api}/parts/catalogue`)).json();
  for (const [i, p] of catalogue.entries()) {
    await page.request.post(`${api}/parts/movements`, { headers, data: { kind: "goods_in", part_id: p.id, quantity: 20 + 5 * i, note: "PO-2026-031" } });
    await page.request.post(`${api}/parts/movements`, { headers, data: { kind: "issue", part_id: p.id, quantity: 2 + (i % 3), technician: i % 2 ? "zhang.min" : "li.wei" } });
  }
  await page.request.post(`${api}/parts/minimums`, { headers, data: { store_id: "main", part_id: catalogue[0].id, minimum: 30 } });
  laptop.json(["sync"]);
  laptop.json(["request-parts", "--part", `${catalogue[1].id}=4`, "--note", "下周巡检备用"]);
  laptop.json(["sync"]);
  await page.close();
});

for (const language of ["en", "zh-CN"] as const) {
  const tag = language === "en" ? "en" : "zh";
  test(`screens in ${language}`, async ({ browser }) => {
    // The browser's own locale too, so date inputs read like the rest of the page.
    const context = await browser.newContext({ locale: language === "en" ? "en-GB" : "zh-CN" });
    const page = await context.newPage();
    const dir = join(e2eEnv().root, "docs/screenshots");
    await page.addInitScript((l) => localStorage.setItem("fieldbook.console.locale", l), language);
    await page.goto(`${e2eEnv().url}/console/`);
    await page.screenshot({ path: join(dir, `console-${tag}-login.png`) });
    await login(page, "admin", language);
    for (const s of SHOTS) {
      await open(page, s.route);
      await s.ready(page);
      await page.waitForTimeout(300);
      await page.screenshot({ path: join(dir, `console-${tag}-${s.name}.png`) });
    }
    await open(page, "review");
    // The job signed on the laptop (the demo's own completed WO-1006 has no signature to verify).
    await page.getByTestId("review-item").filter({ hasText: review }).getByRole("link").first().click();
    await expect(page.getByTestId("verification")).toBeVisible();
    await page.screenshot({ path: join(dir, `console-${tag}-order.png`) });
    // No signature, no close: the demo's unsigned WO-1006 refused, the exception form open.
    await open(page, "review");
    const unsigned = page.getByTestId("review-item").filter({ hasText: "WO-1006" });
    await unsigned.getByRole("button").first().click();
    await expect(unsigned.getByTestId("close-exception")).toBeVisible();
    await unsigned.getByTestId("close-exception").scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(dir, `console-${tag}-close-exception.png`) });
    await context.close();
  });
}
