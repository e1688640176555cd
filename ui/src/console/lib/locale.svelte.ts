/** The console's current language: reactive, remembered in this browser, mirrored on <html lang>. */
import type { Locale } from "../../lib/i18n";
import { isLocale, translate, type ConsoleKey, type Params } from "./i18n";

const STORAGE_KEY = "fieldbook.console.locale";

function initial(): Locale {
  const saved = globalThis.localStorage?.getItem(STORAGE_KEY);
  if (isLocale(saved)) return saved;
  return globalThis.navigator?.language?.toLowerCase().startsWith("zh") ? "zh-CN" : "en";
}

const first = initial();
let current = $state<Locale>(first);
if (globalThis.document) document.documentElement.lang = first;

export const lang = {
  get locale(): Locale {
    return current;
  },
  set locale(value: Locale) {
    current = value;
    globalThis.localStorage?.setItem(STORAGE_KEY, value);
    if (globalThis.document) document.documentElement.lang = value;
  },
};

/** The string for `key` in the current language (reactive inside components). */
export function tr(key: ConsoleKey, params?: Params): string {
  return translate(current, key, params);
}
