/**
 * What the specs share: logging in through the real login form, the laptop (the real
 * `fieldbook` CLI on its own SQLite store), enrolment codes from the server's CLI, and the
 * short scenarios several specs build on (a signed job waiting for review, a conflict).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, type Page } from "@playwright/test";
import { e2eEnv, USERS } from "./env";

export type Who = keyof typeof USERS;

/** Logs in through the form, in English unless told otherwise. */
export async function login(page: Page, who: Who = "office", language: "en" | "zh-CN" = "en"): Promise<void> {
  const u = USERS[who];
  // Only a first visit gets the language: a later reload keeps what the person chose.
  await page.addInitScript((l) => {
    if (!localStorage.getItem("fieldbook.console.locale")) localStorage.setItem("fieldbook.console.locale", l);
  }, language);
  await page.goto(`${e2eEnv().url}/console/`);
  const zh = language === "zh-CN";
  await page.getByLabel(zh ? "登录名" : "Login", { exact: true }).fill(u.login);
  await page.getByLabel(zh ? "密码" : "Password", { exact: true }).fill(u.password);
  await page.getByRole("button", { name: zh ? "登录" : "Log in" }).click();
  await expect(page.getByTestId("whoami")).toContainText(u.name);
}

/** Goes to a console screen by its hash route. */
export async function open(page: Page, route: string): Promise<void> {
  await page.goto(`${e2eEnv().url}/console/#/${route}`);
}

export interface Run {
  ok: boolean;
  stdout: string;
  stderr: string;
}

let laptops = 0;

/** A technician's laptop: the `fieldbook` CLI with its own store in the test folder. */
export class Laptop {
  readonly db: string;
  constructor(readonly name = `laptop-${++laptops}`) {
    this.db = join(e2eEnv().dir, `${this.name}-${Date.now()}.db`);
  }

  run(args: string[]): Run {
    const env = { ...process.env };
    delete env.FIELDBOOK_DB;
    delete env.FIELDBOOK_UNLOCK;
    delete env.FIELDBOOK_PASSPHRASE;
    // The store is encrypted; with no keyring on a test machine its key is kept in a key file
    // beside it (made by the first command), which costs no key derivation per command.
    env.FIELDBOOK_KEY_FILE = `${this.db}.key`;
    const r = spawnSync(e2eEnv().cliBin, ["--db", this.db, "--json", ...args], { env, encoding: "utf8", timeout: 60_000 });
    return { ok: r.status === 0, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  }

  /** Runs a command that must succeed and returns its JSON output. */
  json<T = any>(args: string[]): T {
    const r = this.run(args);
    if (!r.ok) throw new Error(`fieldbook ${args.join(" ")} failed:\n${r.stderr}`);
    return (r.stdout.trim() ? JSON.parse(r.stdout) : null) as T;
  }

  /** A file next to the store, for commands that read one (answers, strokes). */
  write(name: string, text: string): string {
    const path = join(e2eEnv().dir, `${this.name}-${name}`);
    writeFileSync(path, text);
    return path;
  }

  /** init + enroll with the given code + a first sync. */
  enrol(code: string): void {
    this.json(["init"]);
    this.json(["enroll", "--server", e2eEnv().url, "--code", code]);
    this.json(["sync"]);
  }

  /** The versions of a checklist template on this laptop (its store is encrypted: through the CLI). */
  templateVersions(code: string): number[] {
    return this.json<{ code: string; version: number }[]>(["templates"])
      .filter((t) => t.code === code)
      .map((t) => t.version);
  }

  /** The value recorded on this laptop for one checklist item of an order (per asset code). */
  answer(order: string, item: string, assetCode: string): unknown {
    const d = this.json<any>(["show", order]);
    const asset = (d.assets as { id: string; code: string }[]).find((a) => a.code === assetCode);
    const found = (d.answers as { item_key: string; asset_id: string; value: unknown }[]).filter((a) => a.item_key === item && a.asset_id === asset?.id);
    if (found.length !== 1) throw new Error(`${order} has ${found.length} answers for ${item} on ${assetCode}`);
    return found[0].value;
  }
}

/** A one-time enrolment code from the server's own CLI. */
export function enrolmentCode(technician: string): string {
  const { serverBin, database } = e2eEnv();
  const out = execFileSync(serverBin, ["--database", database, "enroll", technician], { encoding: "utf8" });
  const m = /\b[A-Z0-9]{4}(?:-[A-Z0-9]{4}){3}\b/.exec(out);
  if (!m) throw new Error(`no enrolment code in: ${out}`);
  return m[0];
}

export function fixture(name: string): string {
  return readFileSync(join(e2eEnv().root, "demo/fixtures", name), "utf8");
}

/** The technician finishes a repair call on the laptop: arrive, repair, complete, sign, sync. */
export function finishRepair(laptop: Laptop, number: string): void {
  const strokes = laptop.write("strokes.json", fixture("strokes.json"));
  laptop.json(["sync"]);
  laptop.json(["arrive", number]);
  laptop.json([
    "repair", number, "--fault", "喷淋泵出水压力低", "--cause", "止回阀卡滞", "--action", "清洗并更换止回阀",
    "--minutes", "80", "--category", "A", "--part", "SEAL-PUMP-45=1+returned", "--fee", "320", "--fee-collected",
  ]);
  laptop.json(["complete", number]);
  laptop.json(["sign", number, "--signer", "陈经理", "--title", "物业工程部", "--strokes", strokes]);
  const pushed = laptop.json<{ pushed: number; rejected?: unknown[] }>(["sync"]);
  expect(pushed.rejected ?? []).toEqual([]);
}

/** Registers a repair request by phone through the console form (at `calledAt`, the form's local
 * `YYYY-MM-DDTHH:MM`, or now); returns the new order's number. */
export async function registerCall(page: Page, problem: string, calledAt?: string): Promise<string> {
  await open(page, "calls");
  await page.getByLabel("Caller", { exact: true }).fill("陈经理");
  await page.getByLabel("Caller's phone", { exact: true }).fill("021 5030 1234");
  await page.getByLabel("Customer", { exact: true }).fill("金桥");
  await page.getByRole("button", { name: /金桥国际商业广场/ }).click();
  const site = page.getByLabel("Site", { exact: true });
  await expect(site.locator("option")).not.toHaveCount(1);
  const value = await site.locator("option").nth(1).getAttribute("value");
  await site.selectOption(value!);
  await page.getByRole("group", { name: "Equipment concerned" }).getByRole("checkbox").first().check();
  await page.getByLabel("Problem as reported").fill(problem);
  await page.getByLabel("Priority", { exact: true }).selectOption("high");
  if (calledAt) {
    // `YYYY-MM-DDTHH:MM` local: the day as ISO (which every language's date field accepts) and
    // the 24-hour time, each taken when the field loses focus.
    const day = page.getByLabel("Day of the call", { exact: true });
    await day.fill(calledAt.slice(0, 10));
    await day.blur();
    const time = page.getByLabel("Time of the call (24-hour clock)", { exact: true });
    await time.fill(calledAt.slice(11, 16));
    await time.blur();
  }
  // The server's preview (the service calendar's deadline) has come back for this time of call.
  await expect(page.getByTestId("deadline-preview")).toContainText(/Respond by .+ \(.+\)/);
  await page.getByRole("button", { name: "Register the call" }).click();
  const done = page.getByRole("status").filter({ hasText: "Registered" });
  await expect(done).toBeVisible();
  const number = /Registered (\S+);/.exec((await done.textContent()) ?? "")![1];
  return number;
}

/** Registers a call through the console form and dispatches it; returns the order number. */
export async function registerAndDispatch(page: Page, problem: string, technicianName: RegExp): Promise<string> {
  const number = await registerCall(page, problem);
  const row = page.getByTestId("call-row").filter({ hasText: number });
  await expect(row).toBeVisible();
  const select = row.getByRole("combobox");
  const option = select.locator("option", { hasText: technicianName }).first();
  await select.selectOption((await option.getAttribute("value"))!);
  await row.getByRole("button", { name: "Assign" }).click();
  await expect(page.getByRole("status").filter({ hasText: `${number} assigned to` })).toBeVisible();
  await expect(page.getByTestId("call-row").filter({ hasText: number })).toHaveCount(0);
  return number;
}

/** Two laptops of one technician answer the same checklist item differently, both sync. */
export function makeConflict(technician: string, order: string, item: string, asset: string, a: unknown, b: unknown): [Laptop, Laptop] {
  const first = new Laptop(`${technician}-a`);
  const second = new Laptop(`${technician}-b`);
  first.enrol(enrolmentCode(technician));
  second.enrol(enrolmentCode(technician));
  first.json(["answer", order, "--file", first.write("answer.json", JSON.stringify([{ item, asset, value: a }]))]);
  second.json(["answer", order, "--file", second.write("answer.json", JSON.stringify([{ item, asset, value: b }]))]);
  first.json(["sync"]);
  second.json(["sync"]);
  return [first, second];
}
