import { expect, test } from "./fixtures";
import { e2eEnv } from "./env";
import { Laptop, login, open } from "./helpers";

test("an admin issues a code, the laptop enrols, the admin revokes it, its next sync is refused", async ({ page }) => {
  await login(page, "admin");
  await open(page, "people");
  await page.getByTestId("user-zhang.min").getByRole("button", { name: "Enrolment code" }).click();
  const code = (await page.getByTestId("enrolment-code").textContent())!.trim();
  expect(code).toMatch(/^[A-Z0-9]{4}(-[A-Z0-9]{4}){3}$/);

  const laptop = new Laptop("zhang.min-revoke");
  laptop.enrol(code);
  const status = laptop.json<{ device_id?: string }>(["status"]);
  const deviceId = status.device_id ?? "";

  await page.reload();
  const row = deviceId ? page.locator(`[data-device="${deviceId}"]`) : page.getByTestId("device-row").filter({ hasText: "zhang.min" }).last();
  await expect(row).toContainText("zhang.min");
  await expect(row).toContainText("Active");
  await row.getByRole("button", { name: "Revoke…" }).click();
  await row.getByRole("button", { name: "Revoke now" }).click();
  await expect(row.getByRole("alert")).toContainText("Give the reason");
  await row.getByLabel("Reason").fill("laptop stolen / 笔记本被盗");
  await row.getByRole("button", { name: "Revoke now" }).click();
  await expect(page.getByRole("status").filter({ hasText: "revoked; its next sync is refused" })).toBeVisible();
  await expect(row).toContainText("laptop stolen");

  const refused = laptop.run(["sync"]);
  expect(refused.ok).toBe(false);
  expect(`${refused.stdout}\n${refused.stderr}`.toLowerCase(), JSON.stringify(refused)).toContain("revoked");
});

test("office staff see people and devices but cannot change them", async ({ page }) => {
  await login(page, "office");
  await open(page, "people");
  await expect(page.getByText("Only an administrator can change people and devices.")).toBeVisible();
  await expect(page.getByRole("button", { name: "Revoke…" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Enrolment code" })).toHaveCount(0);
});

test("an admin adds an office user, changes the role, disables the account; a disabled account cannot log in", async ({ page, browser }) => {
  await login(page, "admin");
  await open(page, "people");
  await page.getByLabel("Login", { exact: true }).fill("Bad Login");
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await expect(page.getByRole("alert")).toContainText("Logins use lower-case letters");
  await page.getByLabel("Login", { exact: true }).fill("zhao.li");
  await page.getByLabel("Name", { exact: true }).fill("赵丽 Zhao Li");
  await page.getByLabel("Role", { exact: true }).selectOption("office");
  await page.getByLabel("Password", { exact: true }).fill("clerk-pass-1234");
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "zhao.li added." })).toBeVisible();
  const row = page.getByTestId("user-zhao.li");
  await expect(row).toContainText("赵丽 Zhao Li");

  await row.getByLabel("Role of zhao.li").selectOption("admin");
  await expect(page.getByRole("status").filter({ hasText: "zhao.li changed." })).toBeVisible();
  await expect(row.getByLabel("Role of zhao.li")).toHaveValue("admin");
  await row.getByRole("button", { name: "Disable" }).click();
  await expect(row).toContainText("Disabled");

  const other = await browser.newPage();
  const r = await other.request.post(`${e2eEnv().url}/console/api/login`, { data: { login: "zhao.li", password: "clerk-pass-1234" } });
  expect(r.status()).toBeGreaterThanOrEqual(400);
  await other.close();
});
