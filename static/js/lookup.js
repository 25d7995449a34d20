// The rental desk's live lookups, by keyboard as by mouse.
//
// - The rent form's customer field is a WAI-ARIA combobox: htmx puts the
//   matching customers under it as a listbox; ArrowDown/ArrowUp move through
//   them (aria-activedescendant), Enter or a click picks one (its id goes in
//   the field, focus moves on to the film), Escape closes the list. Enter in
//   the field never submits the rent form half-filled.
// - "Find a customer": ArrowDown from the search box goes down its result
//   links (ArrowUp back up, Escape back to the box); Enter follows a link, or
//   submits the search (an exact id or email opens that customer).
// - Enter in the film title search moves to the film list, not a submit.
// - A family account's customers (several share an email) are picked by a click.
// No inline handlers: everything is bound here, by delegation, so content
// that htmx swaps in works too.
(function () {
  "use strict";

  const OPTION = '[role="option"]';

  function listboxOf(input) {
    return document.getElementById(input.getAttribute("aria-controls"));
  }

  function optionsOf(input) {
    const listbox = listboxOf(input);
    return listbox ? Array.from(listbox.querySelectorAll(OPTION)) : [];
  }

  function activeOption(input) {
    const id = input.getAttribute("aria-activedescendant");
    return id ? document.getElementById(id) : null;
  }

  function setActive(input, option) {
    optionsOf(input).forEach((each) => {
      each.setAttribute("aria-selected", each === option ? "true" : "false");
      each.classList.toggle("active", each === option);
    });
    if (option) {
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function close(input) {
    const listbox = listboxOf(input);
    const container = listbox && listbox.parentElement;
    if (container) container.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function focusNextField(input) {
    const fields = Array.from(input.form.elements).filter(
      (el) => !el.disabled && el.type !== "hidden" && el.tabIndex >= 0 && el.offsetParent !== null,
    );
    const next = fields[fields.indexOf(input) + 1];
    if (next) next.focus();
  }

  function pick(input, option) {
    input.value = option.dataset.value;
    // A lookup still on its way would open the list again.
    if (window.htmx) window.htmx.trigger(input, "htmx:abort");
    close(input);
    focusNextField(input);
  }

  function comboboxKeydown(event, input) {
    const options = optionsOf(input);
    const current = activeOption(input);
    const index = options.indexOf(current);
    switch (event.key) {
      case "ArrowDown":
        if (!options.length) return;
        event.preventDefault();
        setActive(input, options[Math.min(index + 1, options.length - 1)]);
        break;
      case "ArrowUp":
        if (!options.length) return;
        event.preventDefault();
        setActive(input, index > 0 ? options[index - 1] : null);
        break;
      case "Enter":
        // Never submit the rent form from here: pick, or move on to the film.
        event.preventDefault();
        if (current) {
          pick(input, current);
        } else if (options.length === 1) {
          pick(input, options[0]);
        } else if (/^\s*(\d+|\S+@\S+)\s*$/.test(input.value)) {
          close(input);
          focusNextField(input);
        }
        break;
      case "Escape":
        if (options.length) {
          event.preventDefault();
          close(input);
        }
        break;
    }
  }

  function arrowsIntoKeydown(event, input) {
    const results = document.querySelector(input.dataset.arrowsInto);
    const links = results ? Array.from(results.querySelectorAll("a[href]")) : [];
    if (event.key === "ArrowDown" && links.length) {
      event.preventDefault();
      links[0].focus();
    }
  }

  function resultLinkKeydown(event, link, input) {
    const results = document.querySelector(input.dataset.arrowsInto);
    const links = Array.from(results.querySelectorAll("a[href]"));
    const index = links.indexOf(link);
    if (event.key === "ArrowDown" && index < links.length - 1) {
      event.preventDefault();
      links[index + 1].focus();
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      (index > 0 ? links[index - 1] : input).focus();
    } else if (event.key === "Escape") {
      event.preventDefault();
      input.focus();
    }
  }

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (!(target instanceof HTMLElement)) return;
    if (target.getAttribute("role") === "combobox") {
      comboboxKeydown(event, target);
    } else if (target.dataset.arrowsInto) {
      arrowsIntoKeydown(event, target);
    } else if (target.dataset.enterFocuses && event.key === "Enter") {
      event.preventDefault();
      const next = document.querySelector(target.dataset.enterFocuses);
      if (next) next.focus();
    } else if (target.matches("a[href]")) {
      const box = findArrowsInput(target);
      if (box) resultLinkKeydown(event, target, box);
    }
  });

  // The search box whose results hold ``link`` (its data-arrows-into names them).
  function findArrowsInput(link) {
    for (const input of document.querySelectorAll("[data-arrows-into]")) {
      const results = document.querySelector(input.dataset.arrowsInto);
      if (results && results.contains(link)) return input;
    }
    return null;
  }

  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    const option = target.closest(OPTION);
    if (option && option.dataset.value !== undefined) {
      const listbox = option.closest('[role="listbox"]');
      const input = listbox && document.querySelector(`[aria-controls="${CSS.escape(listbox.id)}"]`);
      if (input) pick(input, option);
      return;
    }
    const family = target.closest("[data-pick-customer]");
    if (family) {
      const input = document.getElementById("id_customer");
      if (input) {
        input.value = family.dataset.pickCustomer;
        family.closest(".alert")?.remove();
        focusNextField(input);
      }
    }
  });

  // A new list of matches came in: the combobox is open while it has options.
  document.addEventListener("htmx:afterSettle", () => {
    for (const input of document.querySelectorAll('[role="combobox"]')) {
      const options = optionsOf(input);
      input.setAttribute("aria-expanded", options.length ? "true" : "false");
      if (!options.includes(activeOption(input))) input.removeAttribute("aria-activedescendant");
    }
  });
})();
