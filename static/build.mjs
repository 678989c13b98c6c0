// Builds static/build/ (served from STATIC_URL): compiles static/src/app.scss with the
// npm `sass` package and copies GOV.UK Frontend's JavaScript. No fonts and no images
// are copied: GDS Transport, the crown and the crest belong to GOV.UK only.
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const src = join(root, "static", "src");
const out = join(root, "static", "build");
const govuk = join(root, "node_modules", "govuk-frontend", "dist", "govuk");

mkdirSync(out, { recursive: true });

const result = sass.compile(join(src, "app.scss"), {
  loadPaths: [join(root, "node_modules")],
  style: "compressed",
  // Deprecations inside govuk-frontend itself are not ours to fix.
  quietDeps: true,
});
if (/GDS Transport|govuk-crest|\/fonts\//.test(result.css)) {
  throw new Error("app.css must not use GDS Transport, the crest or GOV.UK fonts");
}
writeFileSync(join(out, "app.css"), result.css);
copyFileSync(join(govuk, "govuk-frontend.min.js"), join(out, "govuk-frontend.min.js"));
copyFileSync(join(src, "favicon.svg"), join(out, "favicon.svg"));
// The site's own scripts are files (a strict Content-Security-Policy allows no inline script).
const scripts = ["session-timeout.js", "js-enabled.js", "app.js"];
for (const name of scripts) {
  copyFileSync(join(src, name), join(out, name));
}
console.log(
  `built ${out}: app.css (${result.css.length} bytes), govuk-frontend.min.js, favicon.svg, ${scripts.join(", ")}`,
);
