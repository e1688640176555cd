import { readFileSync } from "node:fs";
import type { Locator, Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { login, open } from "./helpers";

/** Clicks a CSV link and returns the downloaded text. */
async function downloadCsv(page: Page, link: Locator): Promise<string> {
  const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
  return readFileSync((await download.path())!, "utf8");
}

/** The CSV's rows after the header (RFC 4180 quoting is not needed for counting these). */
function dataLines(csv: string): string[] {
  return csv.slice(1).trim().split(/\r?\n/).slice(1);
}

test("reports draw charts and download as CSV with the same rows", async ({ page }) => {
  await login(page, "office");
  await open(page, "reports");
  const response = page.getByTestId("report-response");
  await expect(response.getByRole("heading", { name: "Response commitments met" })).toBeVisible();
  await response.getByText(/Table \(\d+ rows\)/).click();
  const rows = response.locator("tbody tr:not(:has(td.empty))");
  await expect(rows.first()).toBeVisible(); // the demo day has orders past their deadline
  const shown = await rows.count();
  // Each chart is drawn on a canvas when its report has rows.
  await expect(response.locator("canvas")).toBeVisible();

  const csv = await downloadCsv(page, response.getByTestId("csv-response"));
  expect(csv.charCodeAt(0)).toBe(0xfeff); // BOM: Excel opens Chinese text correctly
  const header = csv.slice(1).split(/\r?\n/)[0];
  expect(header).toMatch(/met/i);
  expect(dataLines(csv)).toHaveLength(shown);

  // Per technician: the groups are the technicians, in the CSV too.
  await response.getByLabel("Per").selectOption("technician");
  const byTech = await downloadCsv(page, response.getByTestId("csv-response"));
  expect(byTech).toContain("li.wei");

  // In Chinese, the CSV's header row is Chinese too (Excel opens it correctly thanks to the BOM).
  await page.getByLabel("Language / 语言").selectOption("zh-CN");
  const zh = await downloadCsv(page, response.getByTestId("csv-response"));
  expect(zh.slice(1).split(/\r?\n/)[0]).toMatch(/[\u4e00-\u9fff]/);
  await page.getByLabel("语言 / Language").selectOption("en");

  // The technician scorecard: a row per month and technician, the targets in its columns and chart.
  const scorecard = page.getByTestId("report-scorecard");
  await expect(scorecard.getByRole("heading", { name: "Technician scorecard per month" })).toBeVisible();
  await expect(scorecard.locator("canvas")).toBeVisible(); // the demo's response commitments give rows
  const cardCsv = await downloadCsv(page, scorecard.getByTestId("csv-scorecard"));
  expect(cardCsv.slice(1).split(/\r?\n/)[0]).toContain("Satisfaction (target ≥ 98%)");
  expect(cardCsv).toContain("li.wei");

  // The work-order list's CSV holds every row for the filters (not one page).
  await open(page, "orders");
  await page.getByLabel("Technician", { exact: true }).selectOption("li.wei");
  await page.getByRole("button", { name: "Apply" }).click();
  // Imported, registered (C-) or generated from an inspection plan (PI-, plans.spec).
  await expect(page.getByTestId("orders").locator("tbody tr").first()).toContainText(/WO-|C-|PI-/);
  const listed = await page.getByTestId("orders").locator("tbody tr").count();
  const orders = await downloadCsv(page, page.getByRole("link", { name: "Download CSV" }));
  const lines = dataLines(orders);
  expect(lines).toHaveLength(listed);
  for (const line of lines) expect(line).toContain("li.wei");
  expect(orders).not.toContain("zhang.min");
});
