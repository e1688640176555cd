import { defineConfig } from "@playwright/test";

/**
 * Browser end-to-end tests of the office console against a real fieldbook-server (started by
 * e2e/console/global-setup.ts on a temporary SQLite database) with Debian's chromium — no
 * browser download. The laptop is the real `fieldbook` CLI. One worker: the specs share the
 * server and the machine has two cores.
 */
export const CHROMIUM = process.env.FIELDBOOK_CHROMIUM ?? "/usr/bin/chromium";

export default defineConfig({
  testDir: "e2e/console",
  // Screenshots for the docs only when asked (scripts/screenshots.sh console).
  testMatch: process.env.FIELDBOOK_SCREENSHOTS ? ["**/*.shots.ts"] : ["**/*.spec.ts"],
  globalSetup: "./e2e/console/global-setup.ts",
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  outputDir: "test-results",
  use: {
    browserName: "chromium",
    headless: true,
    viewport: { width: 1366, height: 768 },
    locale: "en-GB",
    timezoneId: "Asia/Shanghai",
    acceptDownloads: true,
    trace: "retain-on-failure",
    launchOptions: { executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-dev-shm-usage"] },
  },
});
