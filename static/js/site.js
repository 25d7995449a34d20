// The site's only script besides htmx (no inline scripts: the Content-Security-Policy
// allows scripts from this site's files only). Buttons marked data-pick-customer
// (the desk's live lookup, the customers sharing an email) fill the customer field
// and close the list they are in (data-close: a CSS selector, default ".matches").
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-pick-customer]");
  if (!button) return;
  const field = document.getElementById("id_customer");
  if (field) {
    field.value = button.dataset.pickCustomer;
    field.focus();
  }
  button.closest(button.dataset.close || ".matches")?.remove();
});
