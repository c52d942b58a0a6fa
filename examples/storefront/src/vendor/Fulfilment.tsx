// Orders to fulfil: the vendor's paid orders with lines of its own not yet shipped. Shipping
// creates a fulfilment with a tracking number; the order turns SHIPPED once every line has.
import { type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';

import { FulfillmentCreateDocument, OrdersToFulfilDocument } from '../gql/graphql';
import { Errors, date, money } from '../format';

export function FulfilmentPage() {
  const [{ data, error }, refetch] = useQuery({
    query: OrdersToFulfilDocument,
    variables: { first: 20 },
    requestPolicy: 'cache-and-network',
  });
  const [created, create] = useMutation(FulfillmentCreateDocument);
  const orders = (data?.orders.nodes || []).filter((o) => o.lines.some((l) => l.fulfilledQuantity < l.quantity));

  const ship = (orderId: string, lines: { id: string; quantity: number; fulfilledQuantity: number }[]) => async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const r = await create({
      input: {
        orderId,
        carrier: String(f.get('carrier') || '') || null,
        trackingNumber: String(f.get('trackingNumber')),
        lines: lines.filter((l) => l.fulfilledQuantity < l.quantity).map((l) => ({ orderLineId: l.id, quantity: l.quantity - l.fulfilledQuantity })),
      },
    });
    if (r.data?.fulfillmentCreate.fulfillment) refetch({ requestPolicy: 'network-only' });
  };

  return (
    <>
      <h1>Orders to fulfil</h1>
      <Errors error={error} />
      <Errors errors={created.data?.fulfillmentCreate.userErrors} error={created.error} />
      {created.data?.fulfillmentCreate.fulfillment && (
        <p role="status" className="notice">
          Shipped with tracking number {created.data.fulfillmentCreate.fulfillment.trackingNumber}; the order is now{' '}
          {created.data.fulfillmentCreate.fulfillment.order.status}.
        </p>
      )}
      {data && orders.length === 0 && <p>Nothing to ship.</p>}
      {orders.map((o) => (
        <section key={o.id} className="card" aria-label={`Order of ${date(o.createdAt)}`} data-testid="order-to-fulfil">
          <h2>
            Order of {date(o.createdAt)} — {money(o.total)}
          </h2>
          <p>
            To {o.shippingAddress.name}, {o.shippingAddress.line1}, {o.shippingAddress.postalCode} {o.shippingAddress.city}, {o.shippingAddress.country}
          </p>
          <ul>
            {o.lines.map((l) => (
              <li key={l.id}>
                {l.quantity - l.fulfilledQuantity} of {l.quantity} × {l.productName} — {l.variantName} ({l.sku}) to ship
              </li>
            ))}
          </ul>
          <form className="row" onSubmit={ship(o.id, o.lines)} aria-label="Ship this order">
            <label>
              Carrier
              <input name="carrier" defaultValue="UPS" />
            </label>
            <label>
              Tracking number
              <input name="trackingNumber" required />
            </label>
            <button type="submit" disabled={created.fetching}>
              Ship
            </button>
          </form>
        </section>
      ))}
    </>
  );
}
