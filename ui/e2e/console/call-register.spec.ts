import { expect, test } from "./fixtures";
import { e2eEnv, USERS } from "./env";
import { login, open } from "./helpers";

test("registering an inquiry from a new caller", async ({ page }) => {
  await login(page, "office");
  const stamp = String(Date.now()).slice(-8);
  const phone = `139 ${stamp.slice(0, 4)} ${stamp.slice(4)}`;
  const name = `E2E 新客户 ${stamp}`;
  const question = `E2E 咨询 ${stamp}：气体灭火系统年检周期`;

  await open(page, "calls");
  await page.getByLabel("Came in by", { exact: true }).selectOption("email");
  await page.getByLabel("Type of call", { exact: true }).selectOption("inquiry");
  // An inquiry needs no site, and has no response deadline.
  await expect(page.getByLabel("Site", { exact: true })).toHaveCount(0);
  await expect(page.getByTestId("deadline-preview")).toHaveCount(0);
  await page.getByLabel("Caller", { exact: true }).fill("赵女士");
  await page.getByLabel("Caller's phone", { exact: true }).fill(phone);
  await page.getByLabel("Caller's phone", { exact: true }).blur();
  await expect(page.getByTestId("phone-on-file")).toHaveCount(0);
  await page.getByLabel(/register the caller as a new customer/).check();
  await page.getByLabel("New customer's name", { exact: true }).fill(name);
  await page.getByLabel("Equipment model", { exact: true }).fill("IG541-70");
  await page.getByLabel("Problem as reported", { exact: true }).fill(question);
  await page.getByRole("button", { name: "Register the call" }).click();
  const done = page.getByRole("status").filter({ hasText: "(Inquiry)" });
  await expect(done).toBeVisible();
  const text = (await done.textContent()) ?? "";
  const number = /Registered (C-\d{8}-\d{4}) \(Inquiry\)/.exec(text)![1];
  const code = /New customer (N-\d{8}-\d{2}) /.exec(text)![1];

  // The new customer exists, and no work order was made for the call.
  const api = `${e2eEnv().url}/console/api`;
  const customers = await (await page.request.get(`${api}/customers?q=${encodeURIComponent(name)}`)).json();
  expect(customers).toEqual([{ id: expect.any(String), code, name }]);
  const byPhone = await (await page.request.get(`${api}/customers?phone=${encodeURIComponent(phone.replace(/ /g, "-"))}`)).json();
  expect(byPhone.map((c: { code: string }) => c.code)).toEqual([code]);
  const orders = await (await page.request.get(`${api}/work-orders?customer=${customers[0].id}`)).json();
  expect(orders.items).toEqual([]);
  const allOrders = await (await page.request.get(`${api}/work-orders?q=${number}`)).json();
  expect(allOrders.items).toEqual([]);

  // The same caller again is offered the customer on file instead of a second record.
  await page.getByLabel("Caller's phone", { exact: true }).fill(phone);
  await page.getByLabel("Caller's phone", { exact: true }).blur();
  await expect(page.getByTestId("phone-on-file")).toContainText(`This phone is customer ${code} ${name} (赵女士).`);

  // The call is in the register, newest first, open; its details say what became of it.
  await open(page, "register");
  const row = page.getByTestId("register-row").first();
  await expect(row).toContainText(number);
  await expect(row).toContainText("Inquiry");
  await expect(row).toContainText(name);
  await expect(row).toContainText("Open");
  await page.getByLabel("Type of call", { exact: true }).selectOption("inquiry");
  await page.getByLabel("Customer", { exact: true }).fill(name);
  await page.getByRole("button", { name: new RegExp(code) }).click();
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByTestId("register-row")).toHaveCount(1);
  await page.getByRole("button", { name: `Details of ${number}` }).click();
  const detail = page.getByTestId("call-detail");
  await expect(detail.getByLabel("Equipment model", { exact: true })).toHaveValue("IG541-70");
  await expect(detail.getByTestId("call-outcome")).toContainText("Open");
  await expect(detail.getByTestId("call-outcome")).toContainText(`Taken by ${USERS.office.login}`);
  // The desk answers and closes it.
  await detail.getByLabel("Answer given", { exact: true }).fill("年检每年一次，已寄送报价");
  await detail.getByRole("button", { name: "Close the call" }).click();
  await expect(detail.getByRole("status")).toContainText(`${number} saved.`);
  await expect(detail.getByTestId("call-outcome")).toContainText("Closed");
  await expect(page.getByTestId("register-row").first()).toContainText("Closed");
  await expect(detail).toContainText("Call closed");
  const call = await (await page.request.get(`${api}/call-register?state=closed&call_type=inquiry&customer=${customers[0].id}`)).json();
  expect(call.items.map((c: { number: string }) => c.number)).toEqual([number]);
});
