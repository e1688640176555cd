/**
 * Starts the real server for the console e2e tests: a fresh SQLite database in a temp folder
 * with the demo company (`fieldbook-server demo`), console users with known passwords
 * (`fieldbook-server user add`), then `serve` on a free loopback port. What the specs need is
 * passed in FIELDBOOK_E2E (JSON); the returned function stops the server and removes the folder.
 */
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CHROMIUM } from "../../playwright.config";
import { USERS, type E2EEnv } from "./env";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

async function waitUp(url: string, log: string, exited: () => number | null): Promise<void> {
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    if (exited() !== null) throw new Error(`fieldbook-server exited (status ${exited()}) before answering; see ${log}`);
    try {
      const r = await fetch(`${url}/api/openapi.json`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`fieldbook-server did not answer at ${url} within 30 s; see ${log}`);
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: run scripts/setup.sh (installs Debian's chromium) or set FIELDBOOK_CHROMIUM`);
  }
  // Cargo's target folder: CARGO_TARGET_DIR when the build put it elsewhere, as cargo does.
  const target = process.env.CARGO_TARGET_DIR ?? join(ROOT, "target");
  const serverBin = join(target, "debug/fieldbook-server");
  const cliBin = join(target, "debug/fieldbook");
  for (const bin of [serverBin, cliBin]) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: build it first with \`cargo build --workspace --bins --locked\``);
  }
  const dir = mkdtempSync(join(tmpdir(), "fieldbook-console-e2e-"));
  const database = `sqlite:${join(dir, "server.db")}`;
  const env = { ...process.env, RUST_LOG: process.env.RUST_LOG ?? "warn" };
  execFileSync(serverBin, ["--database", database, "demo"], { env, stdio: "pipe" });
  for (const u of Object.values(USERS)) {
    execFileSync(serverBin, ["--database", database, "user", "add", u.login, "--role", u.role, "--name", u.name, "--password-stdin"], {
      env,
      input: `${u.password}\n`,
      stdio: ["pipe", "pipe", "pipe"],
    });
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = join(dir, "server.log");
  const out = openSync(log, "a");
  const server = spawn(serverBin, ["--database", database, "serve", "--listen", `127.0.0.1:${port}`], {
    env,
    stdio: ["ignore", out, out],
  });
  await waitUp(url, log, () => server.exitCode);

  const e2e: E2EEnv = { url, dir, database, serverBin, cliBin, root: ROOT };
  process.env.FIELDBOOK_E2E = JSON.stringify(e2e);

  return async () => {
    server.kill("SIGTERM");
    await new Promise((r) => (server.exitCode !== null ? r(null) : server.once("exit", r)));
    if (!process.env.FIELDBOOK_E2E_KEEP) rmSync(dir, { recursive: true, force: true });
    else console.log(`kept ${dir}`);
  };
}
