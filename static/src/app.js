// The site's JavaScript, loaded as a module on every page (a file, not inline, for the CSP).
// Each part acts only where the page has its hooks; every page works without it.
import { initAll } from "./govuk-frontend.min.js";

initAll();

// Regions with data-poll-url (a chargeback run's status) are fetched again every 2 seconds,
// with the HX-Request header so the view answers only the fragment, while they hold an
// element marked data-in-progress. Without JavaScript the page's "Refresh" link does it.
document.querySelectorAll("[data-poll-url]").forEach((region) => {
  let last = null;
  function poll() {
    if (!region.querySelector("[data-in-progress]")) {
      return;
    }
    window.setTimeout(() => {
      window
        .fetch(region.getAttribute("data-poll-url"), {
          headers: { "HX-Request": "true" },
          credentials: "same-origin",
        })
        .then((response) => {
          if (!response.ok) {
            throw new Error(String(response.status));
          }
          return response.text();
        })
        .then((html) => {
          // Only a change is written, so a live region announces changes alone.
          if (html !== last) {
            region.innerHTML = html;
            last = html;
          }
          poll();
        })
        .catch(() => {
          /* keep the last status; the Refresh link still works */
        });
    }, 2000);
  }
  poll();
});

// A "Print this record" button (hidden without JavaScript, where the browser's own print
// does the same).
document.querySelectorAll("[data-print-button]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
