/** What the global setup hands the specs, and the console users it creates. */
export interface E2EEnv {
  url: string;
  dir: string;
  database: string;
  serverBin: string;
  cliBin: string;
  root: string;
}

export const USERS = {
  admin: { login: "e2e.admin", role: "admin", name: "E2E Admin / 测试管理员", password: "admin-pass-1234" },
  office: { login: "e2e.office", role: "office", name: "Wang Fang / 王芳", password: "office-pass-1234" },
  technician: { login: "e2e.tech", role: "technician", name: "E2E Technician", password: "tech-pass-1234" },
} as const;

export function e2eEnv(): E2EEnv {
  const raw = process.env.FIELDBOOK_E2E;
  if (!raw) throw new Error("FIELDBOOK_E2E is not set: run through `npx playwright test` (global setup starts the server)");
  return JSON.parse(raw) as E2EEnv;
}
