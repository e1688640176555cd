/**
 * Intl formatters built once per language and options. Building an `Intl.DateTimeFormat` costs
 * the engine a locale and pattern lookup through ICU and a few hundred kB of native heap; the
 * Today list formats every row's deadline when it renders and on every 30 s clock tick, which
 * with ~330 rows left ~20 MB of freed heap in the web process each time. A cached formatter keeps
 * the time zone it was built in: a zone change shows after a restart.
 */
const dateTimeFormats = new Map<string, Intl.DateTimeFormat>();
const numberFormats = new Map<string, Intl.NumberFormat>();

function cached<F>(cache: Map<string, F>, locale: string, options: object, make: () => F): F {
  const key = `${locale} ${JSON.stringify(options)}`;
  let format = cache.get(key);
  if (!format) {
    format = make();
    cache.set(key, format);
  }
  return format;
}

export function dateTimeFormat(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  return cached(dateTimeFormats, locale, options, () => new Intl.DateTimeFormat(locale, options));
}

export function numberFormat(locale: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  return cached(numberFormats, locale, options, () => new Intl.NumberFormat(locale, options));
}
