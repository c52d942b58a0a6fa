// Entry point of the shopgraph GraphiQL playground bundle.
//
// The Go package internal/httpapi/playground serves an HTML page without any
// inline script or style; everything the page needs comes from this bundle
// (playground.js) and its stylesheet (playground.css). The page passes its
// configuration through data- attributes on the mount element:
//
//   <div id="graphiql" data-endpoint="/graphql" data-tabs="[{&quot;query&quot;:…}]"></div>
//
// data-tabs (optional) holds the example operations to open in tabs.
//
// The bundle also records Content-Security-Policy violations on <body> as
// data-csp-violations (a count) and data-csp-violation-details (JSON), and
// sets data-playground-state to "rendered" / "schema-loaded" / "error", so a
// headless browser test (chromium --dump-dom) can check the page.

import 'graphiql/style.css';
import '@graphiql/plugin-explorer/style.css';
import './playground.css';

import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { explorerPlugin } from '@graphiql/plugin-explorer';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { createClient } from 'graphql-ws';

const MAX_REPORTED_VIOLATIONS = 20;

// Record CSP violations as early as possible so the browser test (and anyone
// looking at the DOM in devtools) can see them.
const violations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  violations.push({
    directive: event.effectiveDirective || event.violatedDirective,
    blockedURI: event.blockedURI,
    sample: event.sample,
    source: event.sourceFile ? `${event.sourceFile}:${event.lineNumber}:${event.columnNumber}` : '',
  });
  const body = document.body;
  if (!body) return;
  body.dataset.cspViolations = String(violations.length);
  body.dataset.cspViolationDetails = JSON.stringify(violations.slice(0, MAX_REPORTED_VIOLATIONS));
});

function setState(state, detail) {
  document.body.dataset.playgroundState = state;
  if (detail !== undefined) document.body.dataset.playgroundError = String(detail);
}

// subscriptionURL turns the HTTP endpoint into the ws:// or wss:// URL of the
// same path on the current host.
function subscriptionURL(httpURL) {
  const u = new URL(httpURL.href);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.hash = '';
  return u.href;
}

// exampleTabs reads the example operations the page passes as JSON in the
// data-tabs attribute (GraphiQL's defaultTabs: used when the browser has no
// tabs stored from an earlier visit). Anything unreadable means no tabs.
function exampleTabs(container) {
  const raw = container.dataset.tabs;
  if (!raw) return undefined;
  try {
    const tabs = JSON.parse(raw);
    return Array.isArray(tabs) && tabs.length > 0 ? tabs : undefined;
  } catch {
    return undefined;
  }
}

// sameOriginFetch sends the session cookies (HttpOnly, set by the
// accountLogin mutation) with every request -- and never to other origins --
// and makes sure the body is declared as JSON.
function sameOriginFetch(input, init = {}) {
  const headers = new Headers(init.headers);
  if (!headers.has('Content-Type')) headers.set('Content-Type', 'application/json');
  return window.fetch(input, { ...init, headers, credentials: 'same-origin' });
}

function mount() {
  const container = document.getElementById('graphiql');
  if (!container) {
    setState('error', 'missing #graphiql mount element');
    return;
  }
  document.body.dataset.cspViolations = String(violations.length);

  const endpoint = container.dataset.endpoint || '/graphql';
  const httpURL = new URL(endpoint, window.location.href);
  const wsURL = subscriptionURL(httpURL);

  // One lazily connecting graphql-ws client (graphql-transport-ws
  // subprotocol) for all subscriptions. The browser sends the same-origin
  // cookies with the WebSocket upgrade request.
  const wsClient = createClient({
    url: wsURL,
    lazy: true,
    retryAttempts: 3,
  });

  const fetcher = createGraphiQLFetcher({
    url: httpURL.href,
    subscriptionUrl: wsURL,
    wsClient,
    fetch: sameOriginFetch,
  });

  const explorer = explorerPlugin({ showAttribution: false });
  const tabs = exampleTabs(container);
  document.body.dataset.playgroundTabs = String(tabs ? tabs.length : 0);

  container.textContent = '';
  const root = createRoot(container);
  root.render(
    createElement(GraphiQL, {
      fetcher,
      plugins: [explorer],
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: true,
      defaultTabs: tabs,
      onSchemaChange: () => setState('schema-loaded'),
    }),
  );
  setState('rendered');
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', mount, { once: true });
} else {
  mount();
}
