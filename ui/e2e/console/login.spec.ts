import { expect, test } from "./fixtures";
import { e2eEnv, USERS } from "./env";
import { login } from "./helpers";

test.describe("login", () => {
  test("wrong password, a technician, then office staff in, switch language, out", async ({ page }) => {
    await page.addInitScript(() => {
      if (!localStorage.getItem("fieldbook.console.locale")) localStorage.setItem("fieldbook.console.locale", "en");
    });
    await page.goto(`${e2eEnv().url}/console/`);
    await page.getByLabel("Login", { exact: true }).fill(USERS.office.login);
    await page.getByLabel("Password", { exact: true }).fill("not-the-password");
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page.getByRole("alert")).toHaveText("Wrong login or password. Check both and try again.");

    await page.getByLabel("Login", { exact: true }).fill(USERS.technician.login);
    await page.getByLabel("Password", { exact: true }).fill(USERS.technician.password);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page.getByRole("alert")).toContainText("This console is for office staff");

    await login(page, "office");
    await expect(page.getByTestId("whoami")).toHaveText(`${USERS.office.name} · Office`);
    await expect(page.getByRole("navigation")).toContainText("Review queue");

    await page.getByLabel("Language / 语言").selectOption("zh-CN");
    await expect(page.getByRole("navigation")).toContainText("审核队列");
    await expect(page.locator("html")).toHaveAttribute("lang", "zh-CN");
    // The session survives a reload; the language is remembered.
    await page.reload();
    await expect(page.getByTestId("whoami")).toHaveText(`${USERS.office.name} · 客服/办公室`);

    await page.getByRole("button", { name: "退出登录" }).click();
    await expect(page.getByRole("heading", { name: "办公室控制台登录" })).toBeVisible();
    const me = await page.request.get(`${e2eEnv().url}/console/api/me`);
    expect(me.status()).toBe(401);
  });

  test("the console API refuses a request without a session or without the console header", async ({ page, request }) => {
    const url = e2eEnv().url;
    expect((await request.get(`${url}/console/api/work-orders`)).status()).toBe(401);
    await login(page, "office");
    // The browser's session cookie, but no X-Fieldbook-Console header: a forged cross-site post.
    const forged = await page.request.post(`${url}/console/api/calls`, { data: {} });
    expect(forged.status()).toBe(403);
  });

  test("an ended session brings the login back with a sentence saying so", async ({ page, context }) => {
    await login(page, "office");
    await context.clearCookies();
    await page.getByRole("link", { name: "Work orders" }).click();
    await expect(page.getByRole("status")).toHaveText("Your session has ended. Log in again to continue.");
    await expect(page.getByLabel("Login", { exact: true })).toBeVisible();
  });
});
