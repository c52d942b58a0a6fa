// The urql client: queries and mutations over HTTP, subscriptions over graphql-ws.
import { Client, cacheExchange, fetchExchange, subscriptionExchange } from 'urql';
import { createClient as createWSClient, type Client as WSClient } from 'graphql-ws';

import { graphqlURL, graphqlWSURL } from './config';
import { authHeaders } from './session';

/**
 * A client for one access token: the WebSocket authenticates once, in connection_init, so a
 * new sign-in gets a new client (and an empty cache, as another viewer sees other data).
 */
export function makeClient(accessToken: string | null): { client: Client; ws: WSClient } {
  const ws = createWSClient({
    url: graphqlWSURL,
    lazy: true,
    connectionParams: () => (accessToken ? { Authorization: `Bearer ${accessToken}` } : {}),
    retryAttempts: 5,
  });
  const client = new Client({
    url: graphqlURL,
    // Read per request: the cart token may arrive after the client is made.
    fetchOptions: () => ({ headers: authHeaders() }),
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || '' };
          return {
            subscribe(sink) {
              const dispose = ws.subscribe(input, sink);
              return { unsubscribe: dispose };
            },
          };
        },
      }),
    ],
  });
  return { client, ws };
}
