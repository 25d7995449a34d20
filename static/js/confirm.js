// Asks before sending a form (or a submit button) marked data-confirm="question",
// e.g. cancelling a lake run. Bound here rather than inline, by delegation, so
// forms that htmx swaps in are covered too.
(function () {
  "use strict";
  document.addEventListener("submit", (event) => {
    const question = event.submitter?.dataset.confirm || event.target.dataset?.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });
})();
