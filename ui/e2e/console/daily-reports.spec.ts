import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "./fixtures";
import { enrolmentCode, Laptop, login, open } from "./helpers";
import { e2eEnv, USERS } from "./env";

/** Yesterday on this machine, as the laptop and the console's date field take it. */
function yesterday(): string {
  const d = new Date();
  d.setDate(d.getDate() - 1);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

test("sign off a technician's day; the sign-off reaches the laptop, a later change is flagged", async ({ page }) => {
  const day = yesterday();
  const tech = USERS.technician.login;
  // The technician's time outside repairs, recorded on the laptop and synced.
  const laptop = new Laptop("e2e.tech-day");
  laptop.enrol(enrolmentCode(tech));
  laptop.json(["time", "--minutes", "120", "--category", "D", "--activity", "internal", "--date", day, "--note", "消防规范培训 / fire code training"]);
  laptop.json(["time", "--minutes", "45", "--category", "B", "--activity", "travel", "--date", day, "--note", "去金桥 / to Jinqiao"]);
  laptop.json(["sync"]);

  await login(page, "office");
  await open(page, `daily-reports?date=${day}`);
  const row = page.locator(`[data-testid="day-row"][data-technician="${tech}"]`);
  await expect(row).toHaveAttribute("data-state", "none");
  await expect(row).toContainText("165");
  await row.getByRole("link", { name: /Open the day/ }).click();

  // The day by category and activity.
  await expect(page.getByRole("heading", { name: /E2E Technician: the day/ })).toBeVisible();
  await expect(page.getByTestId("day-total")).toHaveText("165");
  await expect(page.getByTestId("day-activity-internal")).toHaveText("120");
  await expect(page.getByTestId("day-activity-travel")).toHaveText("45");
  await expect(page.getByTestId("day-entries")).toContainText("消防规范培训 / fire code training");

  // A return needs a note; the sign-off is recorded with who and when.
  await page.getByRole("button", { name: "Return with the note" }).click();
  await expect(page.getByRole("alert")).toContainText("Say what the technician must correct");
  await page.getByRole("button", { name: "Sign off the day" }).click();
  await expect(page.getByTestId("day-decided")).toContainText("Signed off");
  await expect(page.getByTestId("day-state")).toHaveAttribute("data-state", "signed_off");
  await expect(page.getByTestId("day-state")).toContainText(USERS.office.login);
  await expect(page.getByText("Review history")).toBeVisible();
  // The day with its entries, the decision form and the history passes axe's checks.
  const axe = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(axe.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);

  // The laptop sees its day signed off.
  laptop.json(["sync"]);
  const mine = laptop.json(["day", "--date", day]);
  expect(mine.review?.status).toBe("signed_off");
  expect(mine.review?.reviewed_by).toBe(USERS.office.login);

  // More time on the signed-off day: flagged in the list until signed off again.
  laptop.json(["time", "--minutes", "30", "--category", "D", "--activity", "internal", "--date", day, "--note", "补记会议 / a meeting"]);
  laptop.json(["sync"]);
  await open(page, `daily-reports?date=${day}`);
  await expect(row).toHaveAttribute("data-state", "changed");
  await expect(row).toContainText("Changed after sign-off");
  const listAxe = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  expect(listAxe.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
  await row.getByRole("link", { name: /Open the day/ }).click();
  await expect(page.getByRole("note")).toContainText("written after it was signed off");
  await page.getByRole("button", { name: "Sign off the day" }).click();
  await expect(page.getByTestId("day-state")).toHaveAttribute("data-state", "signed_off");

  // The supervisor's daily report rolls the day up, signed off.
  const report = await page.request.get(`${e2eEnv().url}/console/api/reports/supervisor-daily?from=${day}&to=${day}&technician=${tech}`);
  const body = await report.json();
  expect(body.rows[0]).toMatchObject({ technician: tech, total: 195, D: 150, B: 45, review: "signed_off", changed_after_sign_off: false });
});
