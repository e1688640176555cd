import { expect, test } from "./fixtures";
import { enrolmentCode, Laptop, login, open } from "./helpers";

// The office keeps the books (#12): a customer's phone edited in the console reaches the
// technician's laptop at its next sync; a correction the technician proposes from the laptop is
// confirmed in the console and the corrected record reaches the laptop. (C-RUIJIN, li.wei's
// WO-1003: the other specs find C-JINQIAO by its phone, so it is left alone.)
test("edit a customer's phone in the console and see it on a laptop after sync; confirm a correction from site", async ({ page }) => {
  const laptop = new Laptop("li.wei-books");
  laptop.enrol(enrolmentCode("li.wei"));
  expect(laptop.json(["show", "WO-1003"]).customer.phone).toBe("+86 21 6433 8800");

  await login(page, "office");
  await open(page, "customers");
  await page.getByTestId("books-q").fill("RUIJIN");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await page.getByTestId("customers").getByRole("link", { name: "C-RUIJIN" }).click();
  await expect(page.getByRole("heading", { name: /C-RUIJIN/ })).toBeVisible();

  // A wrong phone is refused, naming the field; nothing changes.
  await page.getByTestId("edit-customer").click();
  const form = page.getByTestId("form-customers");
  await form.getByLabel("Phone").fill("call the school office");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(form.getByRole("alert").first()).toContainText("phone");
  await form.getByLabel("Phone").fill("+86 21 6433 9900");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(page.getByTestId("books-done")).toContainText("Saved");
  await expect(page.getByTestId("customer-phone")).toHaveText("+86 21 6433 9900");
  const trail = page.getByTestId("trail");
  await expect(trail.locator("tbody tr").first()).toContainText("Customer changed");
  await expect(trail.locator("tbody tr").first()).toContainText("+86 21 6433 8800 → +86 21 6433 9900");

  laptop.json(["sync"]);
  expect(laptop.json(["show", "WO-1003"]).customer.phone).toBe("+86 21 6433 9900");

  // From site: the school's address is wrong; the technician proposes the right one.
  const site = laptop.json(["show", "WO-1003"]).site;
  const proposed = laptop.json(["correct", "WO-1003", "--record-entity", "sites", "--record", site.id, "--field", "address", "--value", "上海市黄浦区瑞金二路 122 号", "--note", "门牌 / the door plate"]);
  expect(proposed.status).toBe("pending");
  laptop.json(["sync"]);

  await open(page, "customers");
  const item = page.getByTestId("correction").filter({ hasText: "上海市黄浦区瑞金二路 122 号" });
  await expect(item).toContainText("上海市黄浦区瑞金二路 120 号");
  await expect(item).toContainText("WO-1003");
  await item.getByTestId("confirm-correction").click();
  await expect(page.getByTestId("books-done")).toContainText("Confirmed");
  await expect(page.getByTestId("correction").filter({ hasText: "上海市黄浦区瑞金二路 122 号" })).toHaveCount(0);

  laptop.json(["sync"]);
  const after = laptop.json(["show", "WO-1003"]);
  expect(after.site.address).toBe("上海市黄浦区瑞金二路 122 号");
  expect(after.corrections[0].status).toBe("confirmed");
});
