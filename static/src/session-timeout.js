// The warning before the idle limit (sharedsvc.sessions). <body> carries the limits:
// data-session-idle-seconds (the idle limit), data-session-idle-left-seconds (left at
// render) and data-session-warning-seconds (how long before the limit to warn). The banner
// (#session-warning, role=alert) is in the page, hidden; its "Stay signed in" form works
// without this script too (it posts and comes back).
const body = document.body;
const banner = document.getElementById("session-warning");
const form = document.getElementById("session-warning-form");
const limit = Number(body.dataset.sessionIdleSeconds);
const warning = Number(body.dataset.sessionWarningSeconds);
let timers = [];

function show() {
  // A GOV.UK notification banner once shown; while hidden it is no banner of the page.
  banner.classList.add("govuk-notification-banner");
  banner.hidden = false;
  banner.focus();
}

function schedule(left) {
  timers.forEach(clearTimeout);
  timers = [];
  const warnIn = (left - warning) * 1000;
  if (warnIn <= 0) {
    show();
  } else {
    banner.hidden = true;
    timers.push(setTimeout(show, warnIn));
  }
  // At the limit the server has signed the user out: reloading shows its sign-in page
  // and the reason.
  timers.push(setTimeout(() => window.location.reload(), (left + 1) * 1000));
}

if (banner && form && limit > 0) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const response = await fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "X-Requested-With": "fetch" },
      credentials: "same-origin",
      redirect: "manual",
    });
    if (response.status !== 204) {
      // Signed out already: the reload goes to the sign-in page.
      window.location.reload();
      return;
    }
    banner.hidden = true;
    const main = document.getElementById("main-content");
    main.setAttribute("tabindex", "-1");
    main.focus();
    schedule(limit);
  });
  schedule(Number(body.dataset.sessionIdleLeftSeconds));
}
