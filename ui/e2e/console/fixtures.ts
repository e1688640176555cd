/**
 * The specs' `test`: Playwright's, plus a check after every test that the console threw no
 * uncaught error and logged no error to the browser console (a screen that half-rendered would
 * otherwise pass unnoticed). Refused requests the spec provokes on purpose (401/403/422…) show up
 * as "Failed to load resource" lines and are not errors of the app. A resource or inline code
 * the console's Content-Security-Policy refuses is logged as an error too, so every spec also
 * checks that the built app runs under the server's CSP.
 */
import { expect, test as base } from "@playwright/test";

export const test = base.extend<{ browserErrors: string[] }>({
  browserErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(`uncaught: ${e.message}`));
      page.on("console", (m) => {
        if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(`console: ${m.text()}`);
      });
      await use(errors);
      expect(errors, errors.join("\n")).toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
