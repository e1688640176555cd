import { readFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { login, open } from "./helpers";

test("reports draw charts and download as CSV with every row", async ({ page }) => {
  await login(page, "office");
  await open(page, "reports");
  const response = page.getByTestId("report-response");
  await expect(response.getByRole("heading", { name: "Response commitments met" })).toBeVisible();
  await response.getByText(/Table \(\d+ rows\)/).click();
  const table = response.getByRole("table");
  await expect(table.getByRole("columnheader").first()).toBeVisible();
  const shownRows = await table.locator("tbody tr").count();

  const [download] = await Promise.all([page.waitForEvent("download"), response.getByTestId("csv-response").click()]);
  const csv = readFileSync((await download.path())!, "utf8");
  expect(csv.charCodeAt(0)).toBe(0xfeff); // BOM: Excel opens Chinese text correctly
  const lines = csv.slice(1).trim().split(/\r?\n/);
  expect(lines[0]).toMatch(/met/i);
  expect(lines.length - 1).toBe(shownRows === 1 && (await table.locator("td.empty").count()) === 1 ? 0 : shownRows);

  // Contracts expiring within 30 days: the demo company has some; the CSV carries their numbers.
  const expiring = page.getByTestId("report-expiring-contracts");
  await expect(expiring.getByRole("table")).toBeVisible();
  const [download2] = await Promise.all([page.waitForEvent("download"), expiring.getByTestId("csv-expiring-contracts").click()]);
  const csv2 = readFileSync((await download2.path())!, "utf8");
  const firstCell = (await expiring.locator("tbody tr").first().locator("td").first().textContent()) ?? "";
  if (!(await expiring.locator("td.empty").count())) expect(csv2).toContain(firstCell.trim());

  // Each chart is drawn on a canvas when its report has rows.
  await expect(page.locator("canvas").first()).toBeVisible();
});
