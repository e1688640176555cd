/** The current UI language: reactive, remembered across restarts, mirrored on <html lang>. */
import { isLocale, translate, type Locale, type MessageKey, type Params } from "./i18n";

const STORAGE_KEY = "fieldbook.locale";

function initial(): Locale {
  const saved = globalThis.localStorage?.getItem(STORAGE_KEY);
  if (isLocale(saved)) return saved;
  // Technicians are mostly Chinese-speaking; English only when the system asks for it.
  return globalThis.navigator?.language?.toLowerCase().startsWith("en") ? "en" : "zh-CN";
}

let current = $state<Locale>(initial());

export const i18n = {
  get locale(): Locale {
    return current;
  },
  set locale(value: Locale) {
    current = value;
    globalThis.localStorage?.setItem(STORAGE_KEY, value);
    if (globalThis.document) document.documentElement.lang = value;
  },
  t(key: MessageKey, params?: Params): string {
    return translate(current, key, params);
  },
};
