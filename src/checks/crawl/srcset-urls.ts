const WHITESPACE = /[\t\n\f\r ]/;

/**
 * Every candidate URL of a `srcset` value, in order, following the HTML spec's parsing
 * rules: a URL is a run of non-whitespace (so `data:` URLs and URLs holding commas stay
 * whole), trailing commas end it, and a descriptor list (`2x`, `480w`) runs to the next
 * comma outside parentheses. What the spec would discard as a bad descriptor is still a
 * URL a browser may have chosen, so descriptors are not validated.
 */
export function srcsetUrls(srcset: string): string[] {
  const urls: string[] = [];
  let position = 0;
  while (position < srcset.length) {
    while (position < srcset.length && (WHITESPACE.test(srcset[position]) || srcset[position] === ','))
      position++;
    if (position >= srcset.length) break;
    const start = position;
    while (position < srcset.length && !WHITESPACE.test(srcset[position])) position++;
    let url = srcset.slice(start, position);
    if (url.endsWith(',')) {
      url = url.replace(/,+$/, ''); // "a.png," has no descriptors
    } else {
      let depth = 0;
      for (; position < srcset.length; position++) {
        const char = srcset[position];
        if (char === '(') depth++;
        else if (char === ')' && depth > 0) depth--;
        else if (char === ',' && depth === 0) break;
      }
    }
    if (url) urls.push(url);
  }
  return urls;
}
