/** A tiny DOM builder: elements from tag, attributes and children; text only via textContent. */

/**
 * @typedef {Record<string, string | number | boolean | null | undefined>} Attrs
 *   `class` sets className, `text` sets textContent, booleans toggle the attribute,
 *   null/undefined/false leave it out.
 * @typedef {Node | string | null | undefined | false} Child
 */

/**
 * Create an element.
 *
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs} [attrs]
 * @param {Child[]} [children]  strings become text nodes
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, children = []) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = String(value);
    else if (key === "text") el.textContent = String(value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return el;
}

/**
 * Set an element's text only when it changed (keeps patches cheap and selection stable).
 *
 * @param {Element} el
 * @param {string} text
 */
export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

/**
 * Set or remove an attribute only when it changed.
 *
 * @param {Element} el
 * @param {string} name
 * @param {string | null} value  null removes it
 */
export function setAttr(el, name, value) {
  if (value === null) {
    if (el.hasAttribute(name)) el.removeAttribute(name);
  } else if (el.getAttribute(name) !== value) {
    el.setAttribute(name, value);
  }
}

/**
 * The closest ancestor-or-self of an event's target matching a selector, inside `root`.
 *
 * @param {Event} event
 * @param {string} selector
 * @param {Element} root
 * @returns {HTMLElement | null}
 */
export function closest(event, selector, root) {
  const target = event.target;
  if (!(target instanceof Element)) return null;
  const found = target.closest(selector);
  return found instanceof HTMLElement && root.contains(found) ? found : null;
}
