import { expect, test } from "./fixtures";
import { login, open, registerCall } from "./helpers";

test("a call not dispatched yesterday is carried over to the top of today's list", async ({ page }) => {
  await login(page, "office");
  // The time of call as the form takes it (the browser's local time), 24 hours ago: before
  // today's midnight wherever the server is.
  const yesterday = await page.evaluate(() => {
    const d = new Date(Date.now() - 24 * 3600 * 1000);
    const p = (n: number) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
  });
  const today = await registerCall(page, "E2E 今日报修");
  const carried = await registerCall(page, "E2E 昨日未派工", yesterday);

  // Next morning's list as it opens.
  await open(page, "calls");
  await page.reload();
  const rows = page.getByTestId("call-row");
  const carriedRow = rows.filter({ hasText: carried });
  await expect(carriedRow).toBeVisible();
  await expect(carriedRow.getByText("carried over", { exact: true })).toBeVisible();
  await expect(carriedRow).toHaveClass(/carried/);
  await expect(rows.filter({ hasText: today })).toBeVisible();
  await expect(rows.filter({ hasText: today }).getByText("carried over", { exact: true })).toHaveCount(0);
  // At the top: only carried-over calls above it, today's call below.
  const texts = await rows.allTextContents();
  const at = texts.findIndex((t) => t.includes(carried));
  const todayAt = texts.findIndex((t) => t.includes(today));
  expect(at).toBeGreaterThanOrEqual(0);
  expect(todayAt).toBeGreaterThan(at);
  for (const t of texts.slice(0, at + 1)) expect(t).toContain("carried over");
});
