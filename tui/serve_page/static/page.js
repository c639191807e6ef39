// ledgerx serve: the page's only script of its own (the CSP forbids inline script).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("restart").addEventListener("click", () => {
    window.location.reload();
  });
});
