// Where the API is, fixed at build time (Vite inlines VITE_* variables).

const raw = import.meta.env.VITE_GRAPHQL_URL || 'http://127.0.0.1:8080/graphql';

/** The GraphQL endpoint for queries and mutations (HTTP POST). */
export const graphqlURL = new URL(raw, window.location.href).toString();

/** The same endpoint for subscriptions over graphql-ws. */
export const graphqlWSURL = graphqlURL.replace(/^http/, 'ws');

/**
 * The server's development-only route that pays an order as Stripe would (a signed
 * payment_intent.succeeded through its webhook handler). It answers 404 in production.
 */
export const devPaymentURL = new URL('/dev/payments/succeed', graphqlURL).toString();

/** Stripe's publishable key; empty in development, where payments are simulated. */
export const stripePublishableKey = import.meta.env.VITE_STRIPE_PUBLISHABLE_KEY || '';
