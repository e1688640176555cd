import { expect, test } from "./fixtures";
import { login, open, registerCall } from "./helpers";

// The demo's service calendar (version 1): Mon–Fri 08:30–12:00 and 13:00–17:30, urban sites 6
// working hours. Friday 13 March 2026 is no holiday, nor is Monday 16 March.
test("a call at 18:30 on a Friday is due on Monday, and the clerk is told what to say", async ({ page }) => {
  await login(page, "office");
  const number = await registerCall(page, "E2E 周五晚报修", "2026-03-13T18:30");
  const done = page.getByRole("status").filter({ hasText: `Registered ${number}` });
  // The clock starts Monday 08:30; 3.5 h before lunch and 2.5 h after: Monday 15:30.
  await expect(done).toContainText("respond by Mar 16, 2026, 15:30");
  await expect(page.getByTestId("registered-tell-caller")).toHaveText(
    "Outside working hours: the response clock starts Mon 16 Mar 08:30. Tell the caller to expect the technician by Mon 16 Mar 15:30.",
  );
  // The waiting list shows the same stored deadline.
  const row = page.getByTestId("call-row").filter({ hasText: number });
  await expect(row).toContainText("Mar 16, 2026, 15:30");

  // Before registering, the form previews it from the server as the time is typed.
  await open(page, "calls");
  await page.getByLabel("Customer", { exact: true }).fill("金桥");
  await page.getByRole("button", { name: /金桥国际商业广场/ }).click();
  const site = page.getByLabel("Site", { exact: true });
  await expect(site.locator("option")).not.toHaveCount(1);
  await site.selectOption((await site.locator("option").nth(1).getAttribute("value"))!);
  const day = page.getByLabel("Day of the call", { exact: true });
  await day.fill("2026-03-13");
  await day.blur();
  const time = page.getByLabel("Time of the call (24-hour clock)", { exact: true });
  await time.fill("16:00");
  await time.blur();
  // Within working hours: 1.5 h on Friday, the rest on Monday; nothing special to say.
  await expect(page.getByTestId("deadline-preview")).toContainText("Respond by Mar 16, 2026, 14:00 (Urban: on site within 6 working hours)");
  await expect(page.getByTestId("tell-caller")).toHaveCount(0);
  await time.fill("18:30");
  await time.blur();
  await expect(page.getByTestId("deadline-preview")).toContainText("Respond by Mar 16, 2026, 15:30");
  await expect(page.getByTestId("tell-caller")).toContainText("expect the technician by Mon 16 Mar 15:30");
});

test("the office sees the calendar in force but cannot publish", async ({ page }) => {
  await login(page, "office");
  await open(page, "calendar");
  await expect(page.getByTestId("calendar-in-force")).toContainText("version 1");
  await expect(page.getByText("Only an administrator can publish a new calendar version.")).toBeVisible();
  await expect(page.getByLabel("Monday", { exact: true })).toBeDisabled();
  await expect(page.getByRole("button", { name: "Publish the new version" })).toHaveCount(0);
});

test("an admin publishes a new calendar version; a bad one is refused naming the problem", async ({ page }) => {
  await login(page, "admin");
  await open(page, "calendar");
  // The demo's version 1 is listed once the page has loaded; count only then.
  await expect(page.getByTestId("calendar-version").first()).toBeVisible();
  const versions = await page.getByTestId("calendar-version").count();
  await expect(page.getByLabel("Monday", { exact: true })).toHaveValue("08:30-12:00, 13:00-17:30");
  // Overlapping hours: the server names the day and the intervals; nothing is published.
  await page.getByLabel("Monday", { exact: true }).fill("08:30-12:00, 11:00-17:30");
  await page.getByRole("button", { name: "Publish the new version" }).click();
  await expect(page.getByRole("alert")).toContainText("week.mon: 08:30–12:00 overlaps 11:00–17:30");
  await expect(page.getByTestId("calendar-version")).toHaveCount(versions);
  // Saturday mornings worked from tomorrow on, and a contract on the in-province tier.
  await page.getByLabel("Monday", { exact: true }).fill("08:30-12:00, 13:00-17:30");
  await page.getByLabel("Saturday", { exact: true }).fill("09:00-12:00");
  await page.getByRole("button", { name: "Add a contract" }).click();
  await page.getByLabel("Contract number, row 1").fill("HT-2025-031");
  await page.getByLabel("Policy for contract row 1").selectOption("in_province");
  await page.getByRole("button", { name: "Publish the new version" }).click();
  await expect(page.getByRole("status")).toContainText(`Version ${versions + 1} published`);
  await expect(page.getByTestId("calendar-version")).toHaveCount(versions + 1);
});
