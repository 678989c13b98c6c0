// Loaded at the top of <body>, before anything is drawn: GOV.UK Frontend's components style
// themselves for JavaScript by these classes (its inline snippet, as a file for the CSP).
document.body.className +=
  " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
