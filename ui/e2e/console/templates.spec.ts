import { expect, test } from "./fixtures";
import { enrolmentCode, Laptop, login, open } from "./helpers";

test("a template edited in the console is published as a new version that laptops pull", async ({ page }) => {
  const laptop = new Laptop("li.wei-templates");
  laptop.enrol(enrolmentCode("li.wei"));
  const before = Math.max(...laptop.templateVersions("FP-PATROL"));
  expect(before).toBeGreaterThan(0);

  await login(page, "office");
  await open(page, "templates");
  await page.getByRole("link", { name: /FP-PATROL/ }).click();
  await expect(page.getByRole("heading", { name: `FP-PATROL version ${before}` })).toBeVisible();
  const publish = page.getByRole("button", { name: `Publish as version ${before + 1}` });
  await expect(publish).toBeDisabled(); // nothing changed yet

  // JSON mode: broken JSON is refused before it reaches the server.
  await page.getByRole("button", { name: "JSON (every property)" }).click();
  const editor = page.getByLabel(/Template \(JSON/);
  const body = JSON.parse(await editor.inputValue());
  await editor.fill('{ "sections": [');
  await expect(page.locator("#tpl-problems [role=alert]")).toContainText("Not valid JSON");
  await expect(publish).toBeDisabled();

  // Valid JSON that the core refuses: the server's message is shown next to the editor.
  const bad = structuredClone(body);
  bad.sections[0].items[0].kind = "crystal_ball";
  await editor.fill(JSON.stringify(bad, null, 2));
  await publish.click();
  await expect(page.locator("#tpl-problems [role=alert]")).toContainText(/crystal_ball|kind/);

  // The structured editor: back to the stored body, retitle it, publish.
  await editor.fill(JSON.stringify(body, null, 2));
  await page.getByRole("button", { name: "Sections and items" }).click();
  const title = page.getByLabel("Title (English)").first();
  await title.fill(`${body.title.en} (e2e revision)`);
  await publish.click();
  await expect(page.getByRole("status").filter({ hasText: `FP-PATROL version ${before + 1} published` })).toBeVisible();
  await expect(page.getByRole("heading", { name: `FP-PATROL version ${before + 1}` })).toBeVisible();

  laptop.json(["sync"]);
  const versions = laptop.templateVersions("FP-PATROL");
  expect(versions).toContain(before + 1);
  expect(versions).toContain(before);
});

test("a new template is created from the form and published as version 1", async ({ page }) => {
  await login(page, "office");
  await open(page, "templates");
  await page.getByRole("button", { name: "New template" }).click();
  await page.getByRole("button", { name: "Publish version 1" }).click();
  await expect(page.locator("#tpl-problems [role=alert]")).toContainText("Give the new template a code");
  await page.getByLabel("Template code").fill("E2E-LIFT");
  await page.getByLabel("Title (Chinese)").first().fill("电梯月度保养");
  await page.getByLabel("Title (English)").first().fill("Lift monthly maintenance");
  await page.getByRole("button", { name: "Add an item" }).click();
  await page.getByLabel("Item (Chinese) 1.2").fill("轿厢照明正常");
  await page.getByLabel("Item (English) 1.2").fill("Car lighting works");
  await page.getByRole("button", { name: "Publish version 1" }).click();
  await expect(page.getByRole("status").filter({ hasText: "E2E-LIFT version 1 published" })).toBeVisible();
  await expect(page.getByRole("link", { name: /E2E-LIFT · Lift monthly maintenance/ })).toBeVisible();
});
