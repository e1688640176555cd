import { expect, test } from "./fixtures";
import { login, open } from "./helpers";

// A browser set to American English, where `<input type="date">` would read 12/05/2026: the
// console's date fields follow the language chosen in the console, not the browser's.
test.use({ locale: "en-US" });

test("dates read and are typed in the Chinese order in the Chinese console", async ({ page }) => {
  await login(page, "office", "zh-CN");
  // Today where the browser is (Asia/Shanghai, playwright.config.ts): from 16:00 UTC that is
  // already tomorrow in UTC terms, so the day is read in the page, not in this process.
  const today = await page.evaluate(() => {
    const d = new Date();
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
  });
  await open(page, "calls");
  const day = page.getByLabel("来电日期", { exact: true });
  await expect(day).toHaveValue(today);
  await expect(day).toHaveValue(/^\d{4}-\d{2}-\d{2}$/);

  await open(page, "reports");
  const from = page.locator("#r-from");
  await expect(from).toHaveValue(/^\d{4}-\d{2}-\d{2}$/);
  // Typed the Chinese way, shown back in the Chinese order.
  await from.fill("2026年12月5日");
  await from.blur();
  await expect(from).toHaveValue("2026-12-05");
  // The US order is ambiguous: refused, in Chinese.
  await from.fill("12/05/2026");
  await from.blur();
  await expect(page.getByRole("alert").filter({ hasText: "不是有效日期" })).toContainText("请按 2026-12-05 的格式输入");
  await page.screenshot({ path: "test-results/dates-zh-CN.png" });
});

test("the English console writes days unambiguously", async ({ page }) => {
  await login(page, "office", "en");
  await open(page, "reports");
  const from = page.locator("#r-from");
  await expect(from).toHaveValue(/^\d{1,2} [A-Z][a-z]{2} \d{4}$/);
  await from.fill("2026-12-05");
  await from.blur();
  await expect(from).toHaveValue("5 Dec 2026");
  await page.screenshot({ path: "test-results/dates-en.png" });
});
