// CSP-compatible drop-in for react-style-singleton (same exports and
// behaviour), aliased in by build.mjs.
//
// The original injects a <style> element whenever a Radix dialog opens
// (react-remove-scroll locks body scrolling with it). Under our
// Content-Security-Policy (style-src 'self', no 'unsafe-inline') that element
// is blocked and reported as a violation. This version installs the same CSS
// as a constructable stylesheet (document.adoptedStyleSheets), which is CSSOM
// and therefore allowed by style-src 'self'. Where constructable stylesheets
// are unsupported it does nothing, which is what the blocked <style> would
// have done anyway.
import { useEffect } from 'react';

function canAdopt() {
  try {
    return (
      typeof document !== 'undefined' &&
      'adoptedStyleSheets' in document &&
      typeof CSSStyleSheet === 'function' &&
      typeof CSSStyleSheet.prototype.replaceSync === 'function'
    );
  } catch {
    return false;
  }
}

export function stylesheetSingleton() {
  let counter = 0;
  let sheet = null;
  return {
    add(style) {
      if (counter === 0 && canAdopt()) {
        sheet = new CSSStyleSheet();
        sheet.replaceSync(style);
        document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
      }
      counter++;
    },
    remove() {
      counter--;
      if (!counter && sheet) {
        const s = sheet;
        document.adoptedStyleSheets = document.adoptedStyleSheets.filter((x) => x !== s);
        sheet = null;
      }
    },
  };
}

export function styleHookSingleton() {
  const sheet = stylesheetSingleton();
  return (styles, isDynamic) => {
    useEffect(() => {
      sheet.add(styles);
      return () => sheet.remove();
      // Same dependency semantics as the original: re-run only for dynamic styles.
      // eslint-disable-next-line react-hooks/exhaustive-deps
    }, [styles && isDynamic]);
  };
}

export function styleSingleton() {
  const useStyle = styleHookSingleton();
  return function Sheet({ styles, dynamic }) {
    useStyle(styles, dynamic);
    return null;
  };
}
