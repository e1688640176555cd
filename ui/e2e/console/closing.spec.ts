import { expect, test } from "./fixtures";
import { enrolmentCode, Laptop, login, open, registerAndDispatch } from "./helpers";

// The smallest PNG (1×1): a photo of the paper voucher as far as the server can tell.
const PNG = Buffer.from(
  "89504e470d0a1a0a0000000d4948445200000001000000010806000000" + "1f15c4890000000d49444154789c63f8ffff3f0005fe02fea7d6a4d40000000049454e44ae426082",
  "hex",
);

test("refusing to approve an unsigned order and approving it as a recorded exception", async ({ page }) => {
  await login(page, "office");
  const number = await registerAndDispatch(page, "E2E 客户拒签测试", /Li Wei/);
  // The technician finishes the job but the customer does not sign on the laptop.
  const laptop = new Laptop("li.wei-unsigned");
  laptop.enrol(enrolmentCode("li.wei"));
  laptop.json(["arrive", number]);
  laptop.json(["repair", number, "--fault", "报警主机故障", "--cause", "电源板老化", "--action", "更换电源板", "--minutes", "45", "--category", "A"]);
  laptop.json(["complete", number]);
  laptop.json(["sync"]);

  await open(page, "review");
  const item = page.getByTestId("review-item").filter({ hasText: number });
  await item.getByRole("button", { name: "Approve", exact: true }).click();
  // Refused, saying what is missing and how to go on; the exception path opens.
  await expect(item.getByRole("alert").first()).toContainText("No customer signature");
  await expect(item.getByRole("alert").first()).toContainText("close exception");
  const form = item.getByTestId("close-exception");
  await expect(form).toBeVisible();

  await form.getByLabel("The customer signed a paper voucher").check();
  await form.getByLabel("Reason (required)").fill("客户当场在纸质派工单上签字 / signed the paper job sheet");
  await form.getByRole("button", { name: "Record the exception and approve" }).click();
  await expect(form.getByRole("alert")).toContainText("A paper voucher needs a photo");
  await form.getByLabel(/Photo of the signed paper voucher/).setInputFiles({ name: "voucher.png", mimeType: "image/png", buffer: PNG });
  await form.getByRole("button", { name: "Record the exception and approve" }).click();
  await expect(page.getByRole("status").filter({ hasText: `${number} approved.` })).toBeVisible();
  await expect(page.getByTestId("review-item").filter({ hasText: number })).toHaveCount(0);

  // The order shows the exception, its reason and the photo; the trail says who did it.
  await open(page, "orders");
  await page.getByRole("link", { name: number }).click();
  const shown = page.getByTestId("close-exception-shown");
  await expect(shown).toContainText("Closed without signature: The customer signed a paper voucher");
  await expect(shown).toContainText("signed the paper job sheet");
  const img = shown.getByRole("img", { name: `Photo of the paper voucher for ${number}` });
  await expect(img).toBeVisible();
  expect(await img.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBe(1);
  await expect(page.getByTestId("review-state")).toHaveText("Approved");

  // The reports list it as an exception.
  await open(page, "reports");
  const section = page.getByTestId("report-close-exceptions");
  await expect(section).toContainText(number);
  await expect(section).toContainText("paper_voucher");
});
