import { expect, test } from "./fixtures";
import { enrolmentCode, finishRepair, Laptop, login, open, registerAndDispatch } from "./helpers";

test("a return visit marked 'not solved' opening a linked call", async ({ page }) => {
  await login(page, "office");
  const number = await registerAndDispatch(page, "E2E 回访测试：喷淋泵漏水", /Li Wei/);
  const laptop = new Laptop("li.wei-visit");
  laptop.enrol(enrolmentCode("li.wei"));
  finishRepair(laptop, number);

  // Completing the repair call made its return visit, waiting for the desk.
  await open(page, "return-visits");
  const row = page.getByTestId("visit-row").filter({ hasText: number });
  await expect(row).toContainText("To call");
  await row.getByRole("button", { name: `Record the call for ${number}` }).click();

  const form = page.getByTestId("visit-form");
  await form.getByLabel("Who answered (name, title)").fill("陈经理 物业工程部");
  await form.getByLabel("Not solved").check();
  await form.getByRole("button", { name: "Save the return visit" }).click();
  await expect(form.getByRole("alert")).toContainText("Write what is still wrong");
  await form.getByLabel(/What is still wrong/).fill("泵房地面仍有积水 / still water on the pump room floor");
  // The card by phone: the desk takes it, it reaches the technician's laptop.
  await form.getByLabel("Take the satisfaction card by phone").check();
  for (const [criterion, rating] of [["Attitude", "Satisfied"], ["Skill", "Fairly satisfied"], ["Arrival on time", "Very satisfied"], ["Kept promises", "Fairly satisfied"]]) {
    await form.getByLabel(criterion, { exact: true }).selectOption({ label: rating });
  }
  await form.getByLabel("Customer's comment").fill("希望尽快再来");
  // The customer complains on the phone: a complaint with this visit as its source.
  await form.getByLabel(/The customer complains/).check();
  await form.getByLabel("Category", { exact: true }).selectOption({ label: "Quality of the work" });
  await form.getByRole("button", { name: "Save the return visit" }).click();
  const status = page.getByRole("status").filter({ hasText: `Return visit for ${number} recorded` });
  await expect(status).toContainText("new urgent call");
  const call = /new urgent call (\S+) waits/.exec((await status.textContent()) ?? "")![1];
  const complaint = /Complaint (\d{4}-\d{3}) registered/.exec((await status.textContent()) ?? "")![1];

  // Done, not solved, linked to the new call.
  await page.getByLabel("Status", { exact: true }).selectOption("done");
  await page.getByRole("button", { name: "Apply" }).click();
  const done = page.getByTestId("visit-row").filter({ hasText: number });
  await expect(done).toContainText("Not solved");
  await done.getByRole("link", { name: `New call: ${call}` }).click();
  await expect(page.getByRole("heading", { name: `Work order ${call}` })).toBeVisible();
  await expect(page.getByText(`return visit: not solved (${number})`).first()).toBeVisible();

  // The new call waits for dispatch, urgent.
  await open(page, "calls");
  const callRow = page.getByTestId("call-row").filter({ hasText: call });
  await expect(callRow).toBeVisible();
  await expect(callRow).toContainText(/urgent/i);

  // The complaint is under Complaints (open ones are listed by default).
  await open(page, "complaints");
  await expect(page.getByTestId("complaint-row").filter({ hasText: complaint })).toBeVisible();

  // The card reached the laptop.
  laptop.json(["sync"]);
  const shown = laptop.json(["show", number]);
  expect(shown.satisfaction?.comment).toBe("希望尽快再来");
});
