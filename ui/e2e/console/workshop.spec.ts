import { expect, test } from "./fixtures";
import { enrolmentCode, fixture, Laptop, login, open, registerAndDispatch } from "./helpers";
import { USERS } from "./env";

// The workshop loop (#12): the technician takes a unit from the customer (the receipt, on the
// laptop), the office books it in, writes the repair card, sends it back once and passes it,
// books it out; the laptop sees every step and the customer signs for the return, which voids
// the receipt; the console shows it returned.
test("taking a unit through the workshop loop", async ({ page }) => {
  await login(page, "office");
  const number = await registerAndDispatch(page, "E2E 报警主机主板烧毁，需带回车间", /Li Wei/);
  const laptop = new Laptop("li.wei-workshop");
  laptop.enrol(enrolmentCode("li.wei"));
  const strokes = laptop.write("strokes.json", fixture("strokes.json"));
  laptop.json(["arrive", number]);
  const repair = laptop.json<{ id: string }>([
    "repair", number, "--fault", "报警主机主板烧毁", "--cause", "雷击", "--action", "带回车间维修", "--minutes", "30", "--category", "A",
    "--workshop-receipt", `SJ-${number}`,
  ]);
  const job = laptop.json<{ id: string; stage: string }>([
    "workshop", "receipt", number, "--repair", repair.id, "--unit", "海湾 GST200 报警主机", "--serial", "GST-88121",
    "--condition", "外壳完好，主板有烧痕", "--accessories", "电源线一根", "--signer", "王经理", "--strokes", strokes,
  ]);
  expect(job.stage).toBe("received");
  // Not before the workshop has booked it out.
  const early = laptop.run(["workshop", "return", job.id, "--signer", "王经理", "--strokes", strokes]);
  expect(early.ok).toBe(false);
  expect(early.stderr).toContain("goods-out");
  laptop.json(["sync"]);

  await open(page, "workshop");
  const row = page.getByTestId("workshop-row").filter({ hasText: `SJ-${number}` });
  await expect(row).toContainText("Received, not booked in");
  await row.getByRole("link", { name: `SJ-${number}` }).click();
  await expect(page.getByText("外壳完好，主板有烧痕")).toBeVisible();
  await expect(page.getByText(/from 王经理, signed on the pad/)).toBeVisible();
  // Only the next step is offered: no repair card before goods-in.
  await expect(page.getByRole("button", { name: "Save the repair card" })).toHaveCount(0);
  await page.getByRole("button", { name: "Book in (goods-in)" }).click();
  await expect(page.getByTestId("ws-stage")).toHaveText("In the workshop");
  await expect(page.getByTestId("ws-goods-in")).toContainText(USERS.office.login);

  await page.getByRole("button", { name: "Save the repair card" }).click();
  await expect(page.getByRole("alert").first()).toContainText("whole minutes");
  await page.getByLabel("Actual repair time (minutes)").fill("95");
  await page.getByLabel("What was done").fill("更换主板，烤机2小时");
  await page.getByLabel(/Parts, one per line/).fill("GST200 主板 × 1");
  await page.getByLabel("Repaired by").fill("车间 陈师傅");
  await page.getByRole("button", { name: "Save the repair card" }).click();
  await expect(page.getByTestId("ws-stage")).toHaveText("Repaired, to check");
  await expect(page.getByTestId("ws-card-shown")).toContainText("GST200 主板 × 1");

  await page.getByRole("button", { name: "Send back to the bench" }).click();
  await expect(page.getByRole("alert").first()).toContainText("needs a note");
  await page.getByLabel(/^Note/).fill("烤机时间不足，需烤机4小时");
  await page.getByRole("button", { name: "Send back to the bench" }).click();
  await expect(page.getByTestId("ws-stage")).toHaveText("Sent back to the bench");
  await expect(page.getByTestId("ws-check-shown")).toContainText("烤机时间不足");
  await page.getByLabel("What was done").fill("更换主板，烤机4小时");
  await page.getByRole("button", { name: "Save the repair card" }).click();
  await expect(page.getByTestId("ws-stage")).toHaveText("Repaired, to check");
  await page.getByRole("button", { name: "Passed", exact: true }).click();
  await expect(page.getByTestId("ws-stage")).toHaveText("Passed, to book out");
  await page.getByRole("button", { name: "Book out (goods-out)" }).click();
  await expect(page.getByTestId("ws-stage")).toHaveText("Out, to return");
  await expect(page.getByTestId("ws-goods-out")).toContainText(USERS.office.login);
  await expect(page.getByText("The technician returns the unit")).toBeVisible();

  // On the laptop that holds the unit: every step, then the customer's signature.
  laptop.json(["sync"]);
  const shown = laptop.json<{ stage: string; repair_minutes: number; check_result: string; repair_done: string }[]>(["workshop", "show", number]);
  expect(shown[0]).toMatchObject({ stage: "goods_out", repair_minutes: 95, check_result: "passed", repair_done: "更换主板，烤机4小时" });
  const back = laptop.json<{ stage: string; receipt_voided_at: string | null }>(["workshop", "return", job.id, "--signer", "王经理", "--strokes", strokes]);
  expect(back.stage).toBe("returned");
  expect(back.receipt_voided_at).not.toBeNull();
  expect(laptop.json<{ rejected?: unknown[] }>(["sync"]).rejected ?? []).toEqual([]);

  await page.reload();
  await expect(page.getByTestId("ws-stage")).toHaveText("Returned, receipt void");
  await expect(page.getByTestId("ws-returned")).toContainText("signed by 王经理. The receipt is void.");
  await open(page, "workshop");
  await expect(page.getByTestId("workshop-row").filter({ hasText: `SJ-${number}` })).toHaveCount(0);
  await page.getByLabel("Show").selectOption("returned");
  await expect(page.getByTestId("workshop-row").filter({ hasText: `SJ-${number}` })).toBeVisible();
});
