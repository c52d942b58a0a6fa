// Real GraphQL clients against a running shopgraph, unmodified (issue 14), driven by
// graph/e2e_clients_api_test.go:
//
//   SG_URL=http://127.0.0.1:PORT SG_TOKEN=... SG_PRODUCT_ID=... SG_PRODUCT_NAME=... \
//   SG_VARIANT_ID=... SG_ORDER_ID=... node e2e/clients.spec.mjs
//
// SG_TOKEN is a customer's access token and SG_ORDER_ID one of their orders awaiting payment.
// Each client uses its defaults (Accept headers, GET or POST, its own error handling); the
// script only wraps fetch to see what went over the wire. It prints one line per finding:
//
//   AUDIT <ok|notice|warn|error> <id> <name>[: reason]   graphql-http's serverAudit
//   OK <check>                                            a client check that passed
//   FAIL <check>: <why>                                   a client check that failed
//   READY                                                 both subscriptions hold the current status
//   STATUS <ws|sse> <status>                              an event a subscription received
//
// After READY the Go test pays the order (a signed Stripe webhook); both subscriptions must then
// see PAID. The script exits 0 when every check passed and no audit is "error", 1 otherwise.
// Every wait is bounded by E2E_TIMEOUT_MS (default 20000).

import { createHash } from 'node:crypto';

import { auditServer } from 'graphql-http';
import * as apollo3 from 'apollo3/core/index.js';
import { createPersistedQueryLink as createPersistedQueryLink3 } from 'apollo3/link/persisted-queries/index.js';
import * as apollo4 from '@apollo/client';
import { CombinedGraphQLErrors } from '@apollo/client/errors';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { Client as UrqlClient, cacheExchange, fetchExchange } from '@urql/core';
import { createClient as createWSClient } from 'graphql-ws';
import { createClient as createSSEClient } from 'graphql-sse';
import relay from 'relay-runtime';
import WebSocket from 'ws';

const env = (name) => {
  const v = process.env[name];
  if (!v) {
    console.error(`missing ${name}`);
    process.exit(2);
  }
  return v;
};
const serverURL = env('SG_URL');
const token = env('SG_TOKEN');
const productId = env('SG_PRODUCT_ID');
const productName = env('SG_PRODUCT_NAME');
const variantId = env('SG_VARIANT_ID');
const orderId = env('SG_ORDER_ID');
const timeout = Number(process.env.E2E_TIMEOUT_MS || 20000);
const graphqlURL = `${serverURL}/graphql`;
const authorization = `Bearer ${token}`;

let failed = false;
const ok = (check) => console.log(`OK ${check}`);
const fail = (check, why) => {
  failed = true;
  console.log(`FAIL ${check}: ${String(why).replace(/\s+/g, ' ')}`);
};

// within bounds a promise: every await on the network goes through it.
function within(promise, what, ms = timeout) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// check runs one named check; an exception fails it (and only it).
async function check(name, fn) {
  try {
    await within(fn(), name);
    ok(name);
  } catch (err) {
    fail(name, err?.stack || err);
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

// recordingFetch is global fetch that remembers each exchange: what the client sent and what
// the server answered, headers included.
function recordingFetch(log) {
  return async (input, init = {}) => {
    const url = new URL(typeof input === 'string' ? input : input.url);
    const res = await fetch(input, init);
    const entry = {
      method: (init.method || 'GET').toUpperCase(),
      url,
      accept: new Headers(init.headers).get('accept'),
      body: typeof init.body === 'string' ? JSON.parse(init.body) : null,
      status: res.status,
      contentType: res.headers.get('content-type'),
      cacheControl: res.headers.get('cache-control'),
    };
    entry.json = await res.clone().json().catch(() => null);
    log.push(entry);
    return res;
  };
}

const sha256 = (text) => createHash('sha256').update(text).digest('hex');

const productQuery = `query Product($id: ID!) { product(id: $id) { id name } }`;
const invalidQuery = `query Invalid($id: ID!) { product(id: $id) { id noSuchField } }`;
const cartItemAdd = `mutation Add($input: CartItemAddInput!) {
  cartItemAdd(input: $input) {
    cart { totalQuantity lines { quantity } }
    userErrors { field code message }
  }
}`;
const trackOrder = `subscription Track($id: ID!) { orderStatusChanged(orderId: $id) { sequence status } }`;

// --- graphql-http's audit of the GraphQL-over-HTTP spec -----------------------------------

async function audit() {
  const results = await within(auditServer({ url: graphqlURL }), 'graphql-http serverAudit', 2 * timeout);
  for (const r of results) {
    const reason = r.status === 'ok' ? '' : `: ${String(r.reason).replace(/\s+/g, ' ')}`;
    console.log(`AUDIT ${r.status} ${r.id} ${r.name}${reason}`);
    if (r.status === 'error') failed = true;
  }
}

// --- Apollo Client 3 and 4 ----------------------------------------------------------------

// apollo runs the same checks on Apollo Client 3 or 4: their API is the same here except for
// how a GraphQL error reaches the caller.
async function apollo(label, ac, createPQLink, graphQLErrorsOf) {
  const { ApolloClient, InMemoryCache, HttpLink, gql } = ac;
  const wire = [];
  const signedIn = new ApolloClient({
    cache: new InMemoryCache(),
    link: new HttpLink({ uri: graphqlURL, headers: { authorization }, fetch: recordingFetch(wire) }),
  });

  await check(`${label} query`, async () => {
    const { data } = await signedIn.query({ query: gql(productQuery), variables: { id: productId } });
    assert(data?.product?.id === productId, `product ${JSON.stringify(data)}`);
    assert(data.product.name === productName, `name ${data.product.name}`);
  });

  await check(`${label} validation error is a GraphQL error`, async () => {
    let error;
    try {
      await signedIn.query({ query: gql(invalidQuery), variables: { id: productId }, fetchPolicy: 'network-only' });
    } catch (err) {
      error = err;
    }
    assert(error, 'the invalid query did not fail');
    const errors = graphQLErrorsOf(error);
    const last = wire.at(-1);
    assert(errors?.length > 0, `no GraphQL errors (${error.name}: ${error.message}; HTTP ${last?.status} ${last?.contentType})`);
    assert(errors[0].extensions?.code === 'GRAPHQL_VALIDATION_FAILED', `code ${JSON.stringify(errors[0].extensions)}`);
    console.log(`${label} validation error over HTTP ${last.status} ${last.contentType}`);
  });

  await check(`${label} mutation`, async () => {
    const { data } = await signedIn.mutate({ mutation: gql(cartItemAdd), variables: { input: { variantId, quantity: 1 } } });
    const p = data?.cartItemAdd;
    assert(p && p.userErrors.length === 0, `payload ${JSON.stringify(data)}`);
    assert(p.cart.totalQuantity >= 1 && p.cart.lines.length >= 1, `cart ${JSON.stringify(p.cart)}`);
  });

  // Automatic persisted queries by GET, anonymous: the first hash-only GET misses, the link
  // sends the query (by POST) and the server registers it; a second client's hash-only GET
  // then answers, cacheable by a CDN like the same query sent in full.
  await check(`${label} persisted query by GET`, async () => {
    // A query text of this client's own, so that the other Apollo's run cannot register it.
    const query = gql(`query ${label}APQ($id: ID!) { product(id: $id) { id name } }`);
    const pqWire = [];
    const anon = () => new ApolloClient({
      cache: new InMemoryCache(),
      link: createPQLink({ sha256, useGETForHashedQueries: true }).concat(
        new HttpLink({ uri: graphqlURL, fetch: recordingFetch(pqWire) })),
    });
    const first = await anon().query({ query, variables: { id: productId } });
    assert(first.data?.product?.name === productName, `first ${JSON.stringify(first.data)}`);
    const second = await anon().query({ query, variables: { id: productId } });
    assert(second.data?.product?.name === productName, `second ${JSON.stringify(second.data)}`);

    const summary = pqWire.map((e) => `${e.method} ${e.status} ${e.url.searchParams.has('query') || e.body?.query ? 'query' : 'hash'} ${e.json?.errors?.[0]?.extensions?.code ?? 'data'}`);
    assert(pqWire.length === 3, `exchanges: ${summary.join(' | ')}`);
    const [miss, register, hit] = pqWire;
    assert(miss.method === 'GET' && !miss.url.searchParams.has('query'), `first: ${summary[0]}`);
    assert(miss.json?.errors?.[0]?.extensions?.code === 'PERSISTED_QUERY_NOT_FOUND', `first: ${summary[0]}`);
    assert(register.body?.query && register.json?.data?.product, `second: ${summary[1]}`);
    assert(hit.method === 'GET' && !hit.url.searchParams.has('query') && hit.json?.data?.product, `third: ${summary[2]}`);
    assert(hit.cacheControl?.startsWith('public'), `a hash-only catalog GET is not public: Cache-Control ${hit.cacheControl}`);
  });
  signedIn.stop();
}

// --- urql ---------------------------------------------------------------------------------

// urql with its defaults: GET for queries that fit in a URL, POST for mutations, and an Accept
// that lists text/event-stream and multipart/mixed beside JSON. preferGetMethod: false POSTs
// the query instead (the public response cache's POST path).
async function urql() {
  for (const preferGetMethod of [undefined, false]) {
    const wire = [];
    const label = preferGetMethod === false ? 'urql (POST queries)' : 'urql';
    const client = new UrqlClient({ url: graphqlURL, exchanges: [cacheExchange, fetchExchange], fetch: recordingFetch(wire), preferGetMethod });
    await check(`${label} query`, async () => {
      const res = await client.query(productQuery, { id: productId }).toPromise();
      assert(!res.error, `error: ${res.error?.message}`);
      assert(res.data?.product?.name === productName, `data ${JSON.stringify(res.data)}`);
      const e = wire.at(-1);
      assert(e.method === (preferGetMethod === false ? 'POST' : 'GET'), `method ${e.method}`);
      assert(e.accept?.includes('text/event-stream'), `urql's default Accept changed: ${e.accept}`);
      assert(e.status === 200 && /^application\/(graphql-response\+)?json/.test(e.contentType) && e.json?.data, `HTTP ${e.status} ${e.contentType}`);
    });
    await check(`${label} mutation`, async () => {
      const res = await client.mutation(cartItemAdd, { input: { variantId, quantity: 2 } }).toPromise();
      assert(!res.error, `error: ${res.error?.message}`);
      const p = res.data?.cartItemAdd;
      assert(p && p.userErrors.length === 0 && p.cart.totalQuantity === 2, `payload ${JSON.stringify(res.data)}`);
      const e = wire.at(-1);
      assert(e.method === 'POST' && e.status === 200 && /^application\/(graphql-response\+)?json/.test(e.contentType) && e.json?.data, `${e.method} HTTP ${e.status} ${e.contentType}`);
    });
  }
}

// --- Relay --------------------------------------------------------------------------------

// relayProductQuery is what relay-compiler generates for
//   query RelayProductQuery($id: ID!) { product(id: $id) { id name } }
// written out by hand, to keep the compiler (and Babel) out of the dependencies.
const relayProductQuery = (() => {
  const args = [{ defaultValue: null, kind: 'LocalArgument', name: 'id' }];
  const selections = [{
    alias: null,
    args: [{ kind: 'Variable', name: 'id', variableName: 'id' }],
    concreteType: 'Product',
    kind: 'LinkedField',
    name: 'product',
    plural: false,
    selections: [
      { alias: null, args: null, kind: 'ScalarField', name: 'id', storageKey: null },
      { alias: null, args: null, kind: 'ScalarField', name: 'name', storageKey: null },
    ],
    storageKey: null,
  }];
  return {
    fragment: { argumentDefinitions: args, kind: 'Fragment', metadata: null, name: 'RelayProductQuery', selections, type: 'Query', abstractKey: null },
    kind: 'Request',
    operation: { argumentDefinitions: args, kind: 'Operation', name: 'RelayProductQuery', selections },
    params: {
      cacheID: 'relay-product-query',
      id: null,
      metadata: {},
      name: 'RelayProductQuery',
      operationKind: 'query',
      text: 'query RelayProductQuery(\n  $id: ID!\n) {\n  product(id: $id) {\n    id\n    name\n  }\n}\n',
    },
  };
})();

async function relayQuery() {
  const { Environment, Network, RecordSource, Store, fetchQuery } = relay;
  await check('relay query', async () => {
    // The network layer of Relay's documentation: POST the text and variables, return the JSON.
    const network = Network.create(async (params, variables) => {
      const res = await fetch(graphqlURL, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ query: params.text, variables }),
      });
      return res.json();
    });
    const environment = new Environment({ network, store: new Store(new RecordSource()) });
    const data = await fetchQuery(environment, relayProductQuery, { id: productId }).toPromise();
    assert(data?.product?.id === productId && data.product.name === productName, `data ${JSON.stringify(data)}`);
    // The record is normalized under its global ID, as Relay's node refetching expects.
    const record = environment.getStore().getSource().get(productId);
    assert(record?.name === productName, `store record ${JSON.stringify(record)}`);
  });
}

// --- subscriptions: graphql-ws and graphql-sse --------------------------------------------

// track follows one subscription: first resolves with the first event (the current
// status), paid with the PAID event.
function track(label, client) {
  let resolveFirst, rejectFirst, resolvePaid, rejectPaid;
  const first = new Promise((resolve, reject) => { resolveFirst = resolve; rejectFirst = reject; });
  const paid = new Promise((resolve, reject) => { resolvePaid = resolve; rejectPaid = reject; });
  first.catch(() => {});
  paid.catch(() => {});
  // Settling a settled promise does nothing: an error after PAID is not seen.
  const failWith = (err) => { rejectFirst(err); rejectPaid(err); };
  let events = 0;
  const dispose = client.subscribe({ query: trackOrder, variables: { id: orderId } }, {
    next(result) {
      if (result.errors) {
        failWith(new Error(`errors: ${JSON.stringify(result.errors)}`));
        return;
      }
      const status = result.data?.orderStatusChanged?.status;
      console.log(`STATUS ${label} ${status}`);
      if (++events === 1) resolveFirst(status);
      if (status === 'PAID') resolvePaid(status);
    },
    error(err) {
      failWith(new Error(`${label} error: ${JSON.stringify(err?.message ?? err)}`));
    },
    complete() {
      failWith(new Error(`${label} completed before PAID`));
    },
  });
  return { first, paid, dispose };
}

async function subscriptions() {
  const ws = createWSClient({
    url: graphqlURL.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authToken: token },
    retryAttempts: 0,
  });
  const sse = createSSEClient({ url: graphqlURL, headers: { authorization }, retryAttempts: 0 });
  const subs = { 'graphql-ws': track('ws', ws), 'graphql-sse': track('sse', sse) };
  try {
    for (const [name, s] of Object.entries(subs)) {
      await check(`${name} first event`, async () => {
        const status = await s.first;
        assert(status === 'PENDING', `first status ${status}`);
      });
    }
    if (failed) return;
    console.log('READY');
    for (const [name, s] of Object.entries(subs)) {
      await check(`${name} sees PAID`, () => s.paid);
    }
  } finally {
    for (const s of Object.values(subs)) s.dispose();
    await within(ws.dispose(), 'graphql-ws dispose').catch((err) => fail('graphql-ws dispose', err));
    sse.dispose();
  }
}

// A last bound on the whole run, should a client hang outside a bounded await.
setTimeout(() => {
  console.log('FAIL run: did not finish in time');
  process.exit(1);
}, 6 * timeout).unref();

await audit();
// Apollo Client 3 puts GraphQL errors in ApolloError.graphQLErrors, and an HTTP status it does
// not accept in networkError (with graphQLErrors empty); Apollo Client 4 throws
// CombinedGraphQLErrors for the former and ServerError for the latter.
await apollo('apollo3', apollo3, createPersistedQueryLink3, (err) => (err.networkError ? undefined : err.graphQLErrors));
await apollo('apollo4', apollo4, (opts) => new PersistedQueryLink(opts), (err) => (CombinedGraphQLErrors.is(err) ? err.errors : undefined));
await urql();
await relayQuery();
await subscriptions();
console.log(failed ? 'DONE with failures' : 'DONE');
process.exit(failed ? 1 : 0);
