// Country flags as images from the flag-icons package (MIT licence, bundled with the dashboard):
// flag emoji are empty boxes on Windows and wherever no emoji font is installed. Each SVG is its
// own file that the browser fetches only when that flag is shown; this chunk holds just the map
// from code to file name (`?no-inline` keeps Vite from turning the small ones into data URLs in
// the bundle).
const files = import.meta.glob<string>("../../../node_modules/flag-icons/flags/4x3/*.svg", {
  query: "?no-inline",
  import: "default",
  eager: true,
});

const byCode = new Map<string, string>();
for (const [path, url] of Object.entries(files)) {
  const code = path.slice(path.lastIndexOf("/") + 1, -".svg".length);
  byCode.set(code, url);
}

/** The flag image's address for a two-letter country code ("TR", "ir"); null for anything else. */
export function flagUrl(code: string | null | undefined): string | null {
  if (!code || !/^[A-Za-z]{2}$/.test(code)) return null;
  return byCode.get(code.toLowerCase()) ?? null;
}
