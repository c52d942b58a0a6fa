// The storefront end to end in a real browser (issue 21), driven by
// graph/storefront_e2e_api_test.go, which starts the API with a vendor, its products and a
// customer, builds the app against it and serves the build at SF_URL.
//
//   SF_URL=http://127.0.0.1:PORT SHOPPER_EMAIL=… VENDOR_EMAIL=… PASSWORD=… SEARCH=… \
//   PRODUCT_A=… PRODUCT_B=… SCREENSHOTS=/dir node examples/storefront/e2e/storefront.spec.mjs
//
// A guest searches, adds two products, signs in (the guest cart merges into the customer's),
// adds an address to the address book, checks out and pays with the development-only
// "Simulate payment" button; the order page must show PAID from its subscription alone. The
// vendor signs in in another browser context and ships its line; the shopper's page must show
// SHIPPED live. Every page is checked with axe-core: a serious or critical violation fails.
//
// Output, one line each: "STEP <n> <file> <what it shows>", "AXE <page> <violations>",
// "OK <check>", and "ERROR <why>" before exiting 1. Environment: CHROMIUM (default
// /usr/bin/chromium), E2E_TIMEOUT_MS (default 15000, per wait).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { chromium } from 'playwright-core';

const env = (name) => {
  const v = process.env[name];
  if (!v) {
    console.error(`missing ${name}`);
    process.exit(2);
  }
  return v;
};
const base = env('SF_URL');
const shopperEmail = env('SHOPPER_EMAIL');
const vendorEmail = env('VENDOR_EMAIL');
const password = env('PASSWORD');
const search = env('SEARCH');
const productA = env('PRODUCT_A');
const productB = env('PRODUCT_B');
const shots = env('SCREENSHOTS');
const timeout = Number(process.env.E2E_TIMEOUT_MS || 15000);
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  // Playwright starts Chromium on a fresh temporary profile of its own.
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

let step = 0;
async function shot(page, name, what) {
  step++;
  const file = path.join(shots, `${String(step).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`STEP ${step} ${path.basename(file)} ${what}`);
}

// axe checks the page as it is now; serious and critical violations fail the run.
async function axe(page, name) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  console.log(`AXE ${name} ${result.violations.length} violations, ${bad.length} serious or critical`);
  for (const v of bad) {
    console.log(`AXE_VIOLATION ${name} ${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  }
  if (bad.length) throw new Error(`${name}: ${bad.length} serious or critical accessibility violations`);
}

async function newPage(context, who) {
  const page = await context.newPage();
  page.setDefaultTimeout(timeout);
  page.on('pageerror', (err) => console.error(`${who} page error: ${err.message}`));
  page.on('console', (m) => m.type() === 'error' && console.error(`${who} console: ${m.text()}`));
  return page;
}

async function signIn(page, email) {
  const form = page.getByRole('form', { name: 'I have an account' });
  await form.getByLabel('Email').fill(email);
  await form.getByLabel('Password').fill(password);
  await form.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('signed-in-as').filter({ hasText: email }).waitFor();
}

async function addToCart(page, name, variant) {
  await page.getByRole('link', { name }).click();
  await page.getByRole('heading', { level: 1, name }).waitFor();
  if (variant) {
    const select = page.getByLabel('Variant');
    await select.selectOption(await select.locator('option', { hasText: `${variant} —` }).getAttribute('value'));
  }
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await page.getByRole('status').filter({ hasText: `to your cart` }).waitFor();
}

try {
  // The shopper, a guest at first.
  const shopper = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await newPage(shopper, 'shopper');
  await page.goto(base);
  await page.getByRole('heading', { name: 'Catalog' }).waitFor();
  await page.getByLabel('Search products').fill(search);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('heading', { name: '2 products' }).waitFor();
  await axe(page, 'catalog');
  await shot(page, 'search', `the catalog searched for "${search}": two products, facets on the left`);

  await addToCart(page, productA, process.env.VARIANT_A);
  await axe(page, 'product');
  await shot(page, 'product', `${productA}'s page: variants, rating and reviews, added to the cart`);
  await page.goBack();
  await page.getByRole('heading', { name: '2 products' }).waitFor();
  await addToCart(page, productB);

  await page.getByRole('link', { name: /^Cart/ }).click();
  await page.getByRole('heading', { name: 'Your cart' }).waitFor();
  await page.getByTestId('cart-line').nth(1).waitFor();
  const guestLines = await page.getByTestId('cart-line').count();
  console.log(`GUEST_CART_LINES ${guestLines}`);
  await axe(page, 'cart');
  await shot(page, 'guest-cart', 'the guest cart with the two products');

  await page.getByRole('button', { name: 'Sign in to check out' }).click();
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await axe(page, 'sign-in');
  await shot(page, 'sign-in', 'sign-in and registration forms');
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await page.getByRole('heading', { name: 'Forgot your password?' }).waitFor();
  await axe(page, 'reset-password');
  await page.goBack();
  await page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
  await signIn(page, shopperEmail);
  await page.getByRole('heading', { name: 'Checkout' }).waitFor();

  // The customer's own cart held a line already: the merged cart has all three.
  await page.getByRole('link', { name: /^Cart/ }).click();
  await page.getByTestId('cart-line').nth(2).waitFor();
  console.log(`MERGED_CART_LINES ${await page.getByTestId('cart-line').count()}`);
  await shot(page, 'merged-cart', "the cart after sign-in: the guest's two lines merged into the customer's one");
  await page.getByRole('button', { name: 'Check out' }).click();
  await page.getByRole('heading', { name: 'Checkout' }).waitFor();

  const address = page.getByRole('form', { name: 'New address' });
  await address.getByLabel('Full name').fill('Ada Shopper');
  await address.getByLabel('Street and number').fill('1 Infinite Loop');
  await address.getByLabel('Postal code').fill('95014');
  await address.getByLabel('City').fill('Cupertino');
  await address.getByLabel('Region (optional)').fill('CA');
  await address.getByRole('button', { name: 'Save address' }).click();
  await page.getByRole('radio', { name: /Ada Shopper/ }).waitFor();
  await axe(page, 'checkout');
  await shot(page, 'checkout', 'checkout with the new address picked from the address book');
  await page.getByRole('button', { name: 'Place order' }).click();

  const status = page.getByTestId('order-status');
  await page.getByRole('heading', { name: 'Your order' }).waitFor();
  await page.getByText('(live)').waitFor();
  await status.filter({ hasText: 'PENDING' }).waitFor();
  const orderURL = page.url();
  console.log(`ORDER ${decodeURIComponent(orderURL.split('/orders/')[1])}`);
  await axe(page, 'order');
  await shot(page, 'order-pending', 'the order page, PENDING, with the development "Simulate payment" button');

  // Only the subscription can change the status shown: the page does not poll or refetch.
  await page.getByRole('button', { name: 'Simulate payment' }).click();
  await status.filter({ hasText: 'PAID' }).waitFor();
  console.log('OK paid-live');
  await shot(page, 'order-paid', 'PAID, delivered live by the orderStatusChanged subscription');

  // The vendor, in a browser context of its own, while the shopper's page stays open.
  const vendorContext = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const vpage = await newPage(vendorContext, 'vendor');
  await vpage.goto(`${base}/signin?next=/vendor`);
  await signIn(vpage, vendorEmail);
  await vpage.getByRole('heading', { name: /products and stock/ }).waitFor();
  await vpage.getByRole('cell', { name: productA }).first().waitFor();
  await axe(vpage, 'vendor-products');
  await shot(vpage, 'vendor-products', "the vendor's products with each variant's stock");

  await vpage.getByRole('link', { name: 'Orders to fulfil' }).click();
  const toShip = vpage.getByTestId('order-to-fulfil');
  await toShip.first().waitFor();
  await axe(vpage, 'vendor-orders');
  await toShip.first().getByLabel('Tracking number').fill('1Z999AA10123456784');
  await shot(vpage, 'vendor-fulfil', 'the paid order to fulfil, tracking number typed in');
  await toShip.first().getByRole('button', { name: 'Ship' }).click();
  await vpage.getByRole('status').filter({ hasText: 'Shipped with tracking number' }).waitFor();
  await shot(vpage, 'vendor-shipped', 'the fulfilment created; the order is SHIPPED');

  await vpage.getByRole('link', { name: 'Sales' }).click();
  await vpage.getByTestId('sales-chart').waitFor();
  await axe(vpage, 'vendor-analytics');
  await shot(vpage, 'vendor-sales', "the vendor's net sales per day as an SVG bar chart");

  await status.filter({ hasText: 'SHIPPED' }).waitFor();
  await page.getByTestId('tracking-number').filter({ hasText: '1Z999AA10123456784' }).waitFor();
  console.log('OK shipped-live');
  await shot(page, 'order-shipped', "SHIPPED with the tracking number, live on the shopper's open page");
  await browser.close();
} catch (err) {
  console.log(`ERROR ${err.message.split('\n')[0]}`);
  console.error(err);
  await browser.close();
  process.exit(1);
}
