// A small element builder for the views.
//
// h("button", {type: "button", class: "primary", onclick: fn}, "Continue")
// - keys starting with "on" add event listeners;
// - value, checked, disabled, hidden, indeterminate are set as properties;
// - false / null / undefined attributes are left out, true sets an empty one;
// - children are nodes, strings, numbers, or arrays of them (null skipped).

const PROPERTIES = new Set(["value", "checked", "disabled", "hidden", "indeterminate"]);

export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (key.startsWith("on") && typeof value === "function") {
      element.addEventListener(key.slice(2), value);
    } else if (PROPERTIES.has(key)) {
      element[key] = value;
    } else if (value === true) {
      element.setAttribute(key, "");
    } else if (value !== false && value !== null && value !== undefined) {
      element.setAttribute(key, String(value));
    }
  }
  append(element, children);
  return element;
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

let counter = 0;

/** A fresh id for aria-labelledby / aria-describedby / label-for. */
export function uid(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** Text for screen readers only. */
export function srOnly(text) {
  return h("span", { class: "visually-hidden" }, text);
}
