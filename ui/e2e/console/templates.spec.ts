import { expect, test } from "@playwright/test";
import { enrolmentCode, Laptop, login, open } from "./helpers";

test("a template edited in the console is published as a new version that laptops pull", async ({ page }) => {
  const laptop = new Laptop("li.wei-templates");
  laptop.enrol(enrolmentCode("li.wei"));
  const before = laptop.query("SELECT max(version) AS v FROM checklist_templates WHERE code = 'FP-PATROL'")[0].v as number;

  await login(page, "office");
  await open(page, "templates");
  await page.getByRole("link", { name: /FP-PATROL/ }).click();
  await expect(page.getByRole("heading", { name: `FP-PATROL version ${before}` })).toBeVisible();
  const editor = page.getByLabel(/Template \(JSON/);
  const body = JSON.parse(await editor.inputValue());

  // Broken JSON: refused before it reaches the server.
  await editor.fill("{ \"sections\": [");
  await expect(page.getByRole("alert").first()).toContainText("Not valid JSON");
  await expect(page.getByRole("button", { name: /Publish as version/ })).toBeDisabled();

  // Valid JSON the core refuses: the server's message (naming the item) is shown by the editor.
  const bad = structuredClone(body);
  bad.sections[0].items[0].kind = "crystal_ball";
  await editor.fill(JSON.stringify(bad, null, 2));
  await page.getByRole("button", { name: `Publish as version ${before + 1}` }).click();
  await expect(page.locator("#tpl-problems [role=alert]")).toContainText(/crystal_ball|kind/);

  body.title.en = `${body.title.en} (e2e revision)`;
  await editor.fill(JSON.stringify(body, null, 2));
  await page.getByRole("button", { name: `Publish as version ${before + 1}` }).click();
  await expect(page.getByRole("status").filter({ hasText: `FP-PATROL version ${before + 1} published` })).toBeVisible();
  await expect(page.getByRole("heading", { name: `FP-PATROL version ${before + 1}` })).toBeVisible();

  laptop.json(["sync"]);
  const versions = laptop.query("SELECT version FROM checklist_templates WHERE code = 'FP-PATROL' ORDER BY version").map((r) => r.version);
  expect(versions).toContain(before + 1);
  expect(versions).toContain(before);
});
