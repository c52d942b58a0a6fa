// Live order tracking in a real browser (issue 6), driven by graph/e2e_browser_api_test.go:
//
//   node e2e/subscription.spec.mjs SERVER_URL EMAIL PASSWORD ORDER_ID [SCREENSHOT.png]
//
// Headless Chromium (Debian's /usr/bin/chromium, through playwright-core: no browser download)
// opens GraphiQL at SERVER_URL/graphql, signs in by running an accountLogin mutation in the
// editor (the session then lives in HttpOnly cookies), opens GraphiQL in a second tab and runs
// an orderStatusChanged subscription there (graphql-transport-ws, authenticated by the
// cookies). Once the subscription shows the order's current status it prints READY; the Go
// test then delivers a signed Stripe webhook, and the script waits for the subscription to
// show PAID. It prints "STATUS <status>" and exits 0 on success, and prints "ERROR <why>" and
// exits 1 otherwise.
//
// Environment: CHROMIUM (default /usr/bin/chromium), E2E_TIMEOUT_MS (default 60000).

import { chromium } from 'playwright-core';

const [serverURL, email, password, orderId, screenshot] = process.argv.slice(2);
if (!serverURL || !email || !password || !orderId) {
  console.error('usage: node e2e/subscription.spec.mjs SERVER_URL EMAIL PASSWORD ORDER_ID [SCREENSHOT.png]');
  process.exit(2);
}
const timeout = Number(process.env.E2E_TIMEOUT_MS || 60000);
const log = (...args) => console.log(...args);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-dev-shm-usage',
  ],
});

// openGraphiQL opens the playground in a new tab and waits until it has loaded the schema.
async function openGraphiQL(context) {
  const page = await context.newPage();
  page.setDefaultTimeout(timeout);
  page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
  page.on('websocket', (ws) => log(`WEBSOCKET ${ws.url()}`));
  await page.goto(`${serverURL}/graphql`);
  await page.waitForSelector('.graphiql-query-editor .CodeMirror');
  // GraphiQL introspects the schema first. Report whether it could; operations run either way.
  try {
    await page.waitForFunction(() => document.body?.dataset.playgroundState === 'schema-loaded', null, { timeout: 5000 });
    log('SCHEMA_LOADED');
  } catch {
    const why = await page.evaluate(() => document.querySelector('.graphiql-response .CodeMirror')?.CodeMirror.getValue() || document.body?.dataset.playgroundError || '');
    log(`SCHEMA_NOT_LOADED ${JSON.stringify(why.replace(/\s+/g, ' '))}`);
  }
  return page;
}

// run puts an operation in the editor and presses the run button, like a user would.
async function run(page, operation) {
  await page.evaluate((text) => {
    document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(text);
  }, operation);
  // GraphiQL picks the operation to run from the editor's text after a short debounce.
  await page.waitForTimeout(500);
  await page.click('.graphiql-execute-button');
}

// response is the text of the response pane.
function response(page) {
  return page.evaluate(() => document.querySelector('.graphiql-response .CodeMirror')?.CodeMirror.getValue() || '');
}

// waitForResult waits until the response pane holds a GraphQL result satisfying test, and
// returns it.
async function waitForResult(page, test, what) {
  const deadline = Date.now() + timeout;
  let text = '';
  while (Date.now() < deadline) {
    text = await response(page);
    let result;
    try {
      result = JSON.parse(text);
    } catch {
      result = undefined; // empty, or a placeholder
    }
    if (result && (result.errors || test(result))) return result;
    await page.waitForTimeout(50);
  }
  throw new Error(`${what}: the response pane shows ${JSON.stringify(text)}`);
}

let tracker;
let exitCode = 0;
try {
  const context = await browser.newContext();

  // Tab 1: sign in.
  const login = await openGraphiQL(context);
  await run(login, `mutation Login {
  accountLogin(input: {email: ${JSON.stringify(email)}, password: ${JSON.stringify(password)}}) {
    user { email }
    userErrors { code message }
  }
}`);
  const loginResult = await waitForResult(login, (r) => r.data?.accountLogin, 'accountLogin');
  if (!loginResult.data?.accountLogin?.user) {
    throw new Error(`accountLogin failed: ${JSON.stringify(loginResult)}`);
  }
  const cookies = await context.cookies();
  const session = cookies.filter((c) => c.httpOnly).map((c) => c.name);
  log(`LOGGED_IN ${email} httpOnly cookies: ${session.join(',')}`);

  // Tab 2: follow the order.
  tracker = await openGraphiQL(context);
  await run(tracker, `subscription TrackOrder {
  orderStatusChanged(orderId: ${JSON.stringify(orderId)}) {
    sequence
    status
    previousStatus
    order { id status }
  }
}`);
  const first = await waitForResult(tracker, (r) => r.data?.orderStatusChanged, 'the first event');
  const firstEvent = first.data?.orderStatusChanged;
  if (!firstEvent) {
    throw new Error(`subscription failed: ${JSON.stringify(first)}`);
  }
  log(`FIRST ${firstEvent.sequence} ${firstEvent.status}`);
  log('READY');

  // The Go test now delivers the webhook that pays the order.
  const changed = await waitForResult(
    tracker,
    (r) => r.data?.orderStatusChanged && r.data.orderStatusChanged.sequence !== firstEvent.sequence,
    'the status change',
  );
  const event = changed.data?.orderStatusChanged;
  if (!event) {
    throw new Error(`subscription failed: ${JSON.stringify(changed)}`);
  }
  log(`EVENT ${JSON.stringify(event)}`);
  if (screenshot) {
    await tracker.screenshot({ path: screenshot });
    log(`SCREENSHOT ${screenshot}`);
  }
  log(`STATUS ${event.status}`);
} catch (err) {
  console.log(`ERROR ${err.message.split('\n')[0]}`);
  console.error(err);
  if (screenshot && tracker) {
    await tracker.screenshot({ path: screenshot }).catch(() => {});
  }
  exitCode = 1;
} finally {
  await browser.close();
}
process.exit(exitCode);
