// A menu button (WAI-ARIA menu button pattern).
//
// The button (aria-haspopup="menu", aria-expanded) opens a `menu` of
// `menuitem`s. Keyboard: Enter, Space or ↓ on the button open the menu on its
// first item, ↑ on its last; in the menu ↓/↑ move (wrapping), Home/End go to the
// first/last item, a letter goes to the next item starting with it, Enter/Space
// choose the item, Escape closes and returns to the button, Tab closes and moves
// on. A disabled item (aria-disabled="true") can be reached but not chosen.

import { h, uid } from "./dom.js";

/**
 * `visibleLabel` is the button's text, `label` its accessible name (starting
 * with the visible text). items: [{label, disabled, onSelect, data}] — `data`
 * are data-* attributes.
 * Returns {element, button, close}.
 */
export function createMenuButton({ visibleLabel, label, items, className = "" }) {
  const buttonId = uid("menu-button");
  const menuId = uid("menu");

  const button = h(
    "button",
    {
      type: "button",
      id: buttonId,
      class: "menu-button__trigger",
      "aria-haspopup": "menu",
      "aria-expanded": "false",
      "aria-controls": menuId,
      "aria-label": label ?? null,
    },
    visibleLabel,
    h("span", { class: "menu-button__caret", "aria-hidden": "true" }, "▾"),
  );

  const itemElements = items.map((item) => {
    const attrs = { role: "menuitem", tabindex: "-1", class: "menu-button__item" };
    if (item.disabled) attrs["aria-disabled"] = "true";
    for (const [k, v] of Object.entries(item.data ?? {})) attrs[`data-${k}`] = v;
    const el = h("li", attrs, item.label);
    el.addEventListener("click", (event) => {
      event.preventDefault();
      choose(item);
    });
    return el;
  });

  const menu = h(
    "ul",
    { role: "menu", id: menuId, class: "menu-button__menu", "aria-labelledby": buttonId, hidden: true },
    itemElements,
  );

  const element = h("div", { class: `menu-button ${className}`.trim() }, button, menu);

  function isOpen() {
    return !menu.hidden;
  }

  function focusItem(index) {
    if (!itemElements.length) return;
    const i = (index + itemElements.length) % itemElements.length;
    itemElements[i].focus();
  }

  function currentIndex() {
    return itemElements.indexOf(document.activeElement);
  }

  function open(focusIndex = 0) {
    menu.hidden = false;
    button.setAttribute("aria-expanded", "true");
    element.classList.add("is-open");
    document.addEventListener("pointerdown", onOutside, true);
    focusItem(focusIndex);
  }

  function close({ focusButton = false } = {}) {
    if (!isOpen()) return;
    menu.hidden = true;
    button.setAttribute("aria-expanded", "false");
    element.classList.remove("is-open");
    document.removeEventListener("pointerdown", onOutside, true);
    if (focusButton) button.focus();
  }

  function choose(item) {
    if (item.disabled) return;
    close();
    item.onSelect?.();
  }

  function onOutside(event) {
    if (!element.contains(event.target)) close();
  }

  button.addEventListener("click", () => {
    if (isOpen()) close({ focusButton: true });
    else open(0);
  });

  button.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      open(0);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      open(itemElements.length - 1);
    }
  });

  menu.addEventListener("keydown", (event) => {
    const index = currentIndex();
    switch (event.key) {
      case "ArrowDown":
        event.preventDefault();
        focusItem(index + 1);
        break;
      case "ArrowUp":
        event.preventDefault();
        focusItem(index - 1);
        break;
      case "Home":
        event.preventDefault();
        focusItem(0);
        break;
      case "End":
        event.preventDefault();
        focusItem(itemElements.length - 1);
        break;
      case "Escape":
        event.preventDefault();
        event.stopPropagation();
        close({ focusButton: true });
        break;
      case "Tab":
        close();
        break;
      case "Enter":
      case " ":
        event.preventDefault();
        if (index >= 0) choose(items[index]);
        break;
      default:
        if (event.key.length === 1 && /\S/.test(event.key) && !event.ctrlKey && !event.metaKey && !event.altKey) {
          const letter = event.key.toLowerCase();
          for (let step = 1; step <= itemElements.length; step += 1) {
            const i = (index + step) % itemElements.length;
            if (itemElements[i].textContent.trim().toLowerCase().startsWith(letter)) {
              focusItem(i);
              break;
            }
          }
        }
    }
  });

  menu.addEventListener("focusout", (event) => {
    if (event.relatedTarget && !element.contains(event.relatedTarget)) close();
  });

  return { element, button, close };
}
