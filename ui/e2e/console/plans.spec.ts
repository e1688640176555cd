import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "./fixtures";
import { e2eEnv } from "./env";
import { login, open } from "./helpers";

// Planned inspections (#12): a monthly inspection plan for the Ruijin school's contract, its next
// quarter generated (once, however often Generate is pressed), then one order reassigned to
// another technician through the dispatch the console already has — recorded in the audit.
test("generate a quarter's planned inspections from a contract and reassign one", async ({ page }) => {
  await login(page, "office");
  await open(page, "plans");
  await page.getByLabel("Contract number or customer").fill("HT-2025-031");
  await page.getByRole("button", { name: "Find contracts" }).click();
  await page.getByRole("link", { name: "HT-2025-031" }).click();
  await expect(page.getByRole("heading", { name: /Contract HT-2025-031/ })).toBeVisible();

  // A new plan: monthly, the patrol checklist, the school's site, li.wei by default.
  await page.getByRole("button", { name: "New inspection plan" }).click();
  await page.getByLabel("Plan", { exact: true }).fill("E2E 月度巡检");
  await page.getByLabel("Checklist template").selectOption("FP-PATROL");
  await page.getByLabel("Interval").selectOption("monthly");
  await page.getByLabel("Technician", { exact: true }).selectOption("li.wei");
  await page.getByRole("button", { name: "Save the plan" }).click();
  await expect(page.getByTestId("plans-done")).toContainText("E2E 月度巡检 saved");
  await expect(page.getByTestId("plan").filter({ hasText: "E2E 月度巡检" })).toContainText("monthly");

  // The next quarter (the default period): a due date a month, each one order for li.wei.
  await page.getByRole("button", { name: "Next quarter" }).click();
  await page.getByRole("button", { name: "Generate", exact: true }).click();
  await expect(page.getByTestId("plans-done")).toContainText(/\d+ order\(s\) made, 0 already there/);
  const rows = page.getByTestId("plan-order");
  await expect(rows.first()).toBeVisible();
  const made = await rows.count();
  expect(made).toBeGreaterThanOrEqual(2);
  for (let i = 0; i < made; i++) await expect(rows.nth(i).getByTestId("plan-order-technician")).toContainText("李伟");
  // Pressing it again makes nothing new.
  await page.getByRole("button", { name: "Generate", exact: true }).click();
  await expect(page.getByTestId("plans-done")).toContainText(`0 order(s) made, ${made} already there`);
  await expect(rows).toHaveCount(made);

  // Reassign the first one to zhang.min.
  const first = rows.first();
  const number = (await first.getAttribute("data-number")) ?? "";
  expect(number).toMatch(/^PI-\d{8}-\d{4}$/);
  await first.getByLabel(`Reassign ${number} to`).selectOption("zhang.min");
  await first.getByRole("button", { name: "Reassign" }).click();
  await expect(page.getByTestId("plans-done")).toContainText(`${number} reassigned to`);
  const moved = rows.filter({ hasText: number });
  await expect(moved.getByTestId("plan-order-technician")).toContainText("张敏");
  await expect(rows.getByTestId("plan-order-technician").filter({ hasText: "李伟" })).toHaveCount(made - 1);

  // The move is the console's dispatch, audited with who did it.
  const audit = await page.request.get(`${e2eEnv().url}/console/api/audit?limit=50`);
  expect(audit.ok()).toBeTruthy();
  const entries = ((await audit.json()) as { items: { action: string; actor: string; detail: { technician?: string } }[] }).items;
  expect(entries.some((e) => e.action === "dispatched" && e.actor === "e2e.office" && e.detail?.technician === "zhang.min")).toBeTruthy();

  // The loaded contract with its plans, orders and the plan form open passes axe's checks.
  await page.getByRole("button", { name: "New inspection plan" }).click();
  await page.waitForLoadState("networkidle");
  const violations = (await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze()).violations;
  expect(violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
});
