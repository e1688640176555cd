import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "./fixtures";
import { e2eEnv } from "./env";
import { enrolmentCode, Laptop, login, open, registerAndDispatch } from "./helpers";

// Every screen, in both languages, against axe's WCAG 2.1 A/AA rules (labels, names, contrast…),
// and the keyboard focus is visible.
const SCREENS = ["calls", "register", "orders", "review", "return-visits", "complaints", "escalations", "conflicts", "reports", "templates", "people", "calendar", "plans", "parts", "daily-reports", "renewals", "customers", "workshop"];

for (const language of ["en", "zh-CN"] as const) {
  test(`every screen passes axe's WCAG A/AA checks (${language})`, async ({ page }) => {
    await login(page, "admin", language);
    for (const screen of SCREENS) {
      await open(page, screen);
      await expect(page.locator("main h1")).toBeVisible();
      await page.waitForLoadState("networkidle");
      const result = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
      const problems = result.violations.map((v) => `${screen}: ${v.id} (${v.impact}) ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`);
      expect(problems, problems.join("\n")).toEqual([]);
    }
  });
}

test("the close-exception form and the return-visit form pass axe's checks", async ({ page }) => {
  await login(page, "office");
  // The demo's WO-1006 is completed without a signature: approving it is refused, the form opens.
  await open(page, "review");
  const item = page.getByTestId("review-item").filter({ hasText: "WO-1006" });
  await item.getByRole("button", { name: "Approve", exact: true }).click();
  await expect(item.getByTestId("close-exception")).toBeVisible();
  await open(page, "return-visits");
  await page.getByTestId("visit-row").first().getByRole("button").click();
  await page.getByTestId("visit-form").getByLabel("Take the satisfaction card by phone").check();
  await page.waitForLoadState("networkidle");
  const checks = async () => (await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze()).violations;
  expect((await checks()).map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
  await open(page, "review");
  await page.getByTestId("review-item").filter({ hasText: "WO-1006" }).getByRole("button", { name: "Approve", exact: true }).click();
  await expect(page.getByTestId("close-exception")).toBeVisible();
  expect((await checks()).map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
});

test("a contract's renewal page and its step forms pass axe's checks", async ({ page }) => {
  await login(page, "office");
  await open(page, "renewals");
  await page.getByTestId("renewal-row").first().getByRole("link").click();
  await expect(page.getByTestId("renewal-state")).toBeVisible();
  await page.waitForLoadState("networkidle");
  const checks = async () => (await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze()).violations;
  expect((await checks()).map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
});

test("keyboard focus is visible and the login is usable without a mouse", async ({ page }) => {
  await page.goto(`${e2eEnv().url}/console/`);
  await page.keyboard.press("Tab"); // skip link
  await page.keyboard.press("Tab"); // language
  await page.keyboard.press("Tab"); // login field
  const focused = page.locator(":focus");
  await expect(focused).toHaveAttribute("id", "login-name");
  const outline = await focused.evaluate((el) => getComputedStyle(el).outlineStyle + " " + getComputedStyle(el).outlineWidth);
  expect(outline).toBe("solid 3px");
});

test("a customer's books and their forms pass axe's checks", async ({ page }) => {
  await login(page, "office");
  await open(page, "customers");
  await page.getByTestId("customers").getByRole("link", { name: "C-JINQIAO" }).click();
  await expect(page.getByTestId("site").first()).toBeVisible();
  await page.getByTestId("edit-customer").click();
  await page.getByRole("button", { name: "Add a contract" }).click();
  await expect(page.getByTestId("form-contracts")).toBeVisible();
  await page.waitForLoadState("networkidle");
  const result = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
});

test("the workshop unit's repair card and check forms pass axe's checks", async ({ page }) => {
  await login(page, "office");
  const number = await registerAndDispatch(page, "E2E 车间无障碍检查", /Li Wei/);
  const laptop = new Laptop("li.wei-workshop-axe");
  laptop.enrol(enrolmentCode("li.wei"));
  laptop.json(["arrive", number]);
  const repair = laptop.json<{ id: string }>(["repair", number, "--fault", "主板故障", "--cause", "老化", "--action", "带回车间", "--minutes", "20",
    "--category", "A", "--workshop-receipt", `SJ-AXE-${number}`]);
  const job = laptop.json<{ id: string }>(["workshop", "receipt", number, "--repair", repair.id, "--unit", "GST200", "--condition", "主板故障", "--signer", "王经理"]);
  laptop.json(["sync"]);
  const checks = async () =>
    (await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze()).violations.map(
      (v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`,
    );
  for (const language of ["en", "zh-CN"] as const) {
    await page.evaluate((l) => localStorage.setItem("fieldbook.console.locale", l), language);
    await open(page, `workshop/${job.id}`);
    await page.reload();
    await expect(page.getByTestId("ws-stage")).toBeVisible();
    await page.waitForLoadState("networkidle");
    expect(await checks()).toEqual([]);
  }
  await page.evaluate(() => localStorage.setItem("fieldbook.console.locale", "en"));
  await page.reload();
  await page.getByRole("button", { name: "Book in (goods-in)" }).click();
  await page.getByRole("button", { name: "Save the repair card" }).click();
  await expect(page.getByRole("alert").first()).toBeVisible();
  expect(await checks()).toEqual([], "the repair card form with its problems");
  await page.getByLabel("Actual repair time (minutes)").fill("30");
  await page.getByLabel("What was done").fill("换保险丝");
  await page.getByRole("button", { name: "Save the repair card" }).click();
  await expect(page.getByRole("button", { name: "Send back to the bench" })).toBeVisible();
  expect(await checks()).toEqual([]);
});
