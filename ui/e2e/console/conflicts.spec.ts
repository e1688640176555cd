import { expect, test } from "./fixtures";
import { login, makeConflict, open } from "./helpers";

test("two laptops of one technician disagree; the office merges; a laptop pulls the decision", async ({ page }) => {
  // Both laptops answer the same reading of WO-1001 offline, then both sync.
  const [first] = makeConflict("li.wei", "WO-1001", "pump.outlet_pressure", "JQ-PUMP-01", 0.62, 0.55);

  await login(page, "office");
  await open(page, "conflicts");
  const card = page.locator('[data-testid=conflict][data-field="value"]').filter({ hasText: "WO-1001" }).first();
  await expect(card).toBeVisible();
  const values = await card.getByTestId("conflict-value").allTextContents();
  expect(values.sort()).toEqual(["0.55", "0.62"]);
  await expect(card).toContainText("li.wei");

  // Not JSON for a number field: refused here, nothing sent.
  const merged = card.getByLabel(/merged value as JSON/);
  await merged.fill("0,6");
  await card.getByRole("button", { name: "Use the merged value" }).click();
  await expect(card.getByRole("alert")).toContainText("type valid JSON");
  await merged.fill("0.6");
  await card.getByRole("button", { name: "Use the merged value" }).click();
  await expect(page.getByRole("status").filter({ hasText: "decided: 0.6" })).toBeVisible();
  await expect(page.getByTestId("resolved-conflicts")).toContainText("0.6");

  // The decision is a new change in the feed: the laptop pulls it.
  first.json(["sync"]);
  expect(first.answer("WO-1001", "pump.outlet_pressure", "JQ-PUMP-01")).toBe(0.6);
});
