import { expect, test } from "./fixtures";
import { enrolmentCode, finishRepair, Laptop, login, open, registerAndDispatch } from "./helpers";

test("a call is registered, dispatched, done on the laptop, then reviewed and approved", async ({ page }) => {
  await login(page, "office");
  const number = await registerAndDispatch(page, "E2E 喷淋泵压力不足", /Li Wei/);

  // The laptop pulls the dispatched order at its next sync and does the job offline-first.
  const laptop = new Laptop("li.wei-dispatch");
  laptop.enrol(enrolmentCode("li.wei"));
  const shown = laptop.json(["show", number]);
  expect(JSON.stringify(shown)).toContain("E2E 喷淋泵压力不足");
  finishRepair(laptop, number);

  // The review queue shows it with its checks; the detail shows the signed record verifies.
  await open(page, "review");
  const item = page.getByTestId("review-item").filter({ hasText: number });
  await expect(item).toBeVisible();
  await expect(item).toContainText("signatures verify");
  await expect(item).toContainText("all attachments received");
  await expect(item).toContainText("1 part(s)");
  await item.getByRole("link", { name: number }).click();
  await expect(page.getByRole("heading", { name: `Work order ${number}` })).toBeVisible();
  await expect(page.getByTestId("verification")).toHaveText(/The signed record verifies/);
  await expect(page.getByText("digest matches the record")).toBeVisible();
  await expect(page.getByText("止回阀卡滞")).toBeVisible();
  await expect(page.getByTestId("review-state")).toHaveText("Awaiting review");

  await page.getByLabel(`Note for ${number} (required when returning)`).fill("记录完整 / complete");
  await page.getByRole("button", { name: "Approve" }).click();
  await expect(page.getByRole("status").filter({ hasText: `${number} approved.` })).toBeVisible();
  await expect(page.getByTestId("review-state")).toHaveText("Approved");
  const trail = page.getByRole("table", { name: "Audit trail" });
  await expect(trail).toContainText("Call registered");
  await expect(trail).toContainText("Dispatched");
  await expect(trail.getByRole("row").filter({ hasText: "Approved" })).toContainText("e2e.office");

  await open(page, "review");
  await expect(page.getByTestId("review-item").filter({ hasText: number })).toHaveCount(0);
});

test("returning an order needs a note, and the note reopens the job on the laptop", async ({ page }) => {
  await login(page, "office");
  const number = await registerAndDispatch(page, "E2E 返工测试", /Li Wei/);
  const laptop = new Laptop("li.wei-return");
  laptop.enrol(enrolmentCode("li.wei"));
  finishRepair(laptop, number);

  await open(page, "review");
  const item = page.getByTestId("review-item").filter({ hasText: number });
  await item.getByRole("button", { name: "Return to technician" }).click();
  await expect(item.getByRole("alert")).toContainText("the note is required");
  await item.getByLabel(/Note for/).fill("请补拍止回阀照片");
  await item.getByRole("button", { name: "Return to technician" }).click();
  await expect(page.getByRole("status").filter({ hasText: `${number} returned` })).toBeVisible();

  laptop.json(["sync"]);
  // A signed job stays signed (it needs an amendment there), marked returned with the note.
  const shown = laptop.json(["show", number]);
  expect(shown.order.review_state).toBe("returned");
  expect(shown.order.review_note).toBe("请补拍止回阀照片");
});
