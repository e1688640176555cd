import { expect, test } from "./fixtures";
import { enrolmentCode, Laptop, login, open, registerAndDispatch } from "./helpers";

// Spare parts (备件): the office books goods in and issues parts to li.wei's van; the laptop
// uses one on a repair offline (its van figure drops before any sync), then syncs; the console
// shows the use recorded once and the van's stock moved.
test("issue parts to a van, use one on a repair offline, sync, see the stock move", async ({ page }) => {
  await login(page, "office");
  const number = await registerAndDispatch(page, "E2E 备件：消火栓压力表损坏", /Li Wei/);
  const laptop = new Laptop("li.wei-parts");
  laptop.enrol(enrolmentCode("li.wei"));

  await open(page, "parts");
  await expect(page.getByRole("heading", { name: "Spare parts" })).toBeVisible();
  const vanRow = () => page.getByTestId("stock-row").and(page.locator('[data-store="van-li.wei"][data-sku="GAUGE-1.6"]'));
  const onHand = async () => ((await vanRow().count()) ? Number((await vanRow().getByTestId("on-hand").textContent())?.trim().split(/\s/)[0]) : 0);
  const before = await onHand();

  const form = page.locator("form.move");
  await form.getByLabel("Movement", { exact: true }).selectOption({ label: "Goods in" });
  await form.getByLabel("Find a part by SKU or name").fill("GAUGE");
  await form.getByRole("button", { name: "Filter" }).click();
  await form.getByLabel("Part", { exact: true }).selectOption({ label: "GAUGE-1.6 Pressure gauge 0–1.6 MPa" });
  await form.getByLabel("Quantity").fill("5");
  await form.getByRole("button", { name: "Record the movement" }).click();
  await expect(page.getByTestId("parts-done")).toContainText("Goods in: 5 × GAUGE-1.6");

  await form.getByLabel("Movement", { exact: true }).selectOption({ label: "Issue to a van (领用)" });
  await form.getByLabel("Part", { exact: true }).selectOption({ label: "GAUGE-1.6 Pressure gauge 0–1.6 MPa" });
  await form.getByLabel("Quantity").fill("2");
  await form.getByLabel("Technician").selectOption("li.wei");
  await form.getByRole("button", { name: "Record the movement" }).click();
  await expect(page.getByTestId("parts-done")).toContainText("Issue to a van (领用): 2 × GAUGE-1.6");
  await expect(vanRow().getByTestId("on-hand")).toHaveText(String(before + 2));

  // More than the main store holds is refused, naming what it holds.
  await form.getByLabel("Quantity").fill("100000");
  await form.getByRole("button", { name: "Record the movement" }).click();
  await expect(form.getByRole("alert")).toContainText("holds");

  // The laptop: the van reaches it at a sync; then, offline, a repair uses one gauge.
  laptop.json(["sync"]);
  const gauge = (v: { sku: string; available: number }[]) => v.find((l) => l.sku === "GAUGE-1.6")!;
  expect(gauge(laptop.json(["van"])).available).toBe(before + 2);
  laptop.json(["arrive", number]);
  laptop.json([
    "repair", number, "--fault", "压力表指针不动", "--cause", "表芯损坏", "--action", "更换压力表", "--minutes", "20",
    "--category", "A", "--part", "GAUGE-1.6=1+returned",
  ]);
  const offline = gauge(laptop.json(["van"]));
  expect([offline.on_hand, offline.unsynced_use, offline.available]).toEqual([before + 2, 1, before + 1]);

  laptop.json(["sync"]);
  await page.reload();
  await expect(vanRow().getByTestId("on-hand")).toHaveText(String(before + 1));
  await page.locator("#mv-kind").selectOption({ label: "Used on a repair" });
  await page.locator("#mv-part").fill("GAUGE-1.6");
  await page.getByRole("button", { name: "Filter" }).last().click();
  const used = page.getByTestId("movement").filter({ hasText: "GAUGE-1.6" });
  await expect(used).toHaveCount(1);
  await expect(used).toContainText("li.wei");
  // Syncing again moves nothing twice.
  laptop.json(["sync"]);
  await page.reload();
  await expect(vanRow().getByTestId("on-hand")).toHaveText(String(before + 1));
});
