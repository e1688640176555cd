import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "./fixtures";
import { e2eEnv } from "./env";
import { login, open } from "./helpers";

// The demo's HT-2025-017 (Jinqiao) ends 29 days after the demo's day, rebased to today: it is on
// the Renewals list. The clerk makes its expiry notice 保养到期通知书 (read back with pdftotext),
// records it sent by post, and marks the contract renewed as a new contract, which is then the
// contract's renewal on the list.
test("an expiry notice is made as a PDF, sent, and the contract marked renewed", async ({ page }) => {
  await login(page, "office");
  await open(page, "renewals");
  await expect(page.locator("main h1")).toHaveText("Contracts ending within a month");
  const row = page.getByTestId("renewal-row").filter({ hasText: "HT-2025-017" });
  await expect(row).toContainText("in 29 days");
  await expect(row).toContainText("Not started");
  await row.getByRole("link", { name: "HT-2025-017" }).click();
  await expect(page.getByTestId("renewal-state")).toHaveText("Not started");
  await expect(page.getByRole("table", { name: "Equipment covered" })).toContainText("JQ-PUMP-01");

  // The notice: made (the PDF opens in a new tab, which this test reads through the API).
  const popup = page.waitForEvent("popup");
  await page.getByRole("button", { name: "Make the expiry notice 保养到期通知书" }).click();
  await (await popup).close();
  await expect(page.getByTestId("renewal-state")).toHaveText("Notice made");
  const link = page.getByTestId("notice-link");
  const response = await page.request.get(new URL((await link.getAttribute("href"))!, page.url()).toString());
  expect(response.status()).toBe(200);
  expect(response.headers()["content-type"]).toBe("application/pdf");
  const file = join(e2eEnv().dir, "expiry-notice-HT-2025-017.pdf");
  writeFileSync(file, await response.body());
  const text = execFileSync("pdftotext", ["-enc", "UTF-8", file, "-"]).toString().split(/\s+/).join(" ");
  for (const needle of ["保养到期通知书 / Maintenance Contract Expiry Notice", "合同编号 / Contract No. HT-2025-017", "C-JINQIAO", "JQ-FACP-01", "JQ-PUMP-01", "How to renew", "定期巡检将停止"]) {
    expect(text).toContain(needle);
  }

  // Sent by post today; a form left incomplete says what is missing.
  await page.getByLabel("Notice sent").check();
  await page.getByRole("button", { name: "Record the notice as sent" }).click();
  await expect(page.getByRole("alert")).toHaveText("Choose how the notice was sent.");
  await page.getByLabel("Sent how").selectOption("post");
  await page.getByRole("button", { name: "Record the notice as sent" }).click();
  await expect(page.getByTestId("renewal-state")).toHaveText("Notice sent");

  // Renewed: a new contract, a year from the day after the old one ends.
  await page.getByLabel("Renewed", { exact: true }).check();
  await page.getByLabel("New contract number").fill("HT-2026-017");
  await page.getByLabel("New contract's service level").selectOption("full");
  await page.getByRole("button", { name: "Mark renewed with the new contract" }).click();
  await expect(page.getByTestId("renewal-state")).toHaveText("Renewed");
  await expect(page.getByRole("status")).toHaveText("Contract HT-2025-017 marked renewed.");
  await expect(page.locator("main")).toContainText("renewed as contract HT-2026-017");
  await expect(page.getByRole("heading", { name: "Trail" }).locator("..")).toContainText("Contract renewed");

  // On the list: renewed, pointing to the new contract.
  await page.getByRole("link", { name: /All contracts ending within a month/ }).click();
  await expect(page.getByTestId("renewal-row").filter({ hasText: "HT-2025-017" })).toContainText(/Renewed\s*→\s*HT-2026-017/);
});
