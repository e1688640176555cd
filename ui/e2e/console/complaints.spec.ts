import AxeBuilder from "@axe-core/playwright";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "./fixtures";
import { e2eEnv } from "./env";
import { login, open } from "./helpers";

// A complaint going overdue: a letter of complaint received twenty days ago is entered today
// with the day it came (what the form is for), so both its deadlines — first report within 3
// days, closed within 13 — have passed. Nothing in the server's clock or data is bent for it.
test("a complaint going overdue shows its reminder, is reminded, then closed with a result notice", async ({ page }) => {
  await login(page, "office");
  await open(page, "complaints");
  const received = await page.evaluate(() => {
    const d = new Date(Date.now() - 20 * 24 * 3600 * 1000);
    const p = (n: number) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
  });
  await page.getByLabel("Customer", { exact: true }).fill("星华");
  await page.getByRole("button", { name: /星华精密机械有限公司/ }).click();
  await page.getByLabel("What the customer complained about").fill("E2E 来函投诉：技术员多次改约，报警主机至今未修好。");
  await page.getByLabel("Category", { exact: true }).first().selectOption("timeliness");
  await page.getByLabel("Person responsible", { exact: true }).selectOption("e2e.office");
  const day = page.getByLabel(/Received on/);
  await day.fill(received);
  await day.blur();
  await page.getByRole("button", { name: "Register the complaint" }).click();
  const done = page.getByRole("status").filter({ hasText: "registered" });
  await expect(done).toBeVisible();
  const number = /Complaint (\d{4}-\d{3}) registered/.exec((await done.textContent()) ?? "")![1];

  // Overdue: at the top of the list with its reminder, only overdue complaints above it.
  const rows = page.getByTestId("complaint-row");
  const row = rows.filter({ hasText: number });
  await expect(row.getByTestId("reminder")).toHaveText("Overdue — remind (催办)");
  await expect(row).toContainText("first report overdue · closing overdue");
  const texts = await rows.allTextContents();
  const at = texts.findIndex((t) => t.includes(number));
  for (const t of texts.slice(0, at + 1)) expect(t).toContain("催办");

  // Remind (催办): the step says who reminded whom.
  await row.getByRole("link", { name: number }).click();
  const detail = page.getByTestId("complaint-detail");
  await expect(detail.getByTestId("reminder")).toBeVisible();
  await page.getByLabel("Reminder note (optional)").fill("今天回复客户");
  await page.getByRole("button", { name: "Remind (催办)" }).click();
  const log = page.getByTestId("complaint-log");
  await expect(log.locator('li[data-kind="reminder"]')).toContainText("→ e2e.office: 今天回复客户");
  await expect(log.locator('li[data-kind="reminder"]')).toContainText("e2e.office");

  // First report, then closing: a result and how the customer was told.
  await page.getByLabel("First report: what was found and done so far").fill("已致电客户道歉，安排主管上门。");
  await page.getByRole("button", { name: "First report", exact: true }).click();
  await expect(log.locator('li[data-kind="first_report"]')).toBeVisible();
  await expect(page.getByTestId("complaint-detail")).toContainText("closing overdue");
  await page.getByRole("button", { name: "Close the complaint" }).click();
  await expect(page.getByRole("alert")).toHaveText("Write the result.");
  await page.getByLabel("Result", { exact: true }).fill("更换报警主机主板，系统恢复正常；免费增加一次巡检。");
  await page.getByLabel("How the customer was told").selectOption("letter");
  await page.getByRole("button", { name: "Close the complaint" }).click();
  await expect(page.getByRole("status").filter({ hasText: `Complaint ${number} closed` })).toBeVisible();
  await expect(detail.getByTestId("reminder")).toHaveCount(0);
  await expect(log.locator('li[data-kind="closed"]')).toBeVisible();

  // The result notice: a PDF in both languages with the number and the result.
  const link = page.getByTestId("notice-link");
  await expect(link).toHaveText("Result notice (PDF)");
  const response = await page.request.get(new URL((await link.getAttribute("href"))!, e2eEnv().url).toString());
  expect(response.status()).toBe(200);
  expect(response.headers()["content-type"]).toBe("application/pdf");
  const file = join(e2eEnv().dir, `notice-${number}.pdf`);
  writeFileSync(file, await response.body());
  const text = execFileSync("pdftotext", ["-enc", "UTF-8", file, "-"]).toString().split(/\s+/).join(" ");
  for (const needle of ["客户投诉处理结果通知书 / Complaint Result Notice", number, "更换报警主机主板，系统恢复正常；免费增加一次巡检。", "书面信函 / By letter"]) {
    expect(text).toContain(needle);
  }

  // Closed, it leaves the open list.
  await open(page, "complaints");
  await expect(page.getByTestId("complaint-row").filter({ hasText: number })).toHaveCount(0);
});

// The list is in accessibility.spec.ts with every screen; a complaint's detail (log and forms) here.
for (const language of ["en", "zh-CN"] as const) {
  test(`a complaint's detail passes axe's WCAG A/AA checks (${language})`, async ({ page }) => {
    await login(page, "admin", language);
    await open(page, "complaints");
    await page.getByTestId("complaint-row").first().getByRole("link").click();
    await expect(page.getByTestId("complaint-log")).toBeVisible();
    await page.waitForLoadState("networkidle");
    const result = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
    const problems = result.violations.map((v) => `${v.id} (${v.impact}) ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
    expect(problems, problems.join("\n")).toEqual([]);
  });
}
