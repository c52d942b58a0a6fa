// An order, following its status live: the orderStatusChanged subscription (graphql-ws)
// starts with the current status and then delivers each change (PAID, SHIPPED…) as it happens.
import { useQuery, useSubscription } from 'urql';

import { OrderDocument, OrderStatusChangedDocument, type OrderStatusChangedSubscription } from '../gql/graphql';
import { Errors, date, money } from '../format';
import { Payment } from './Payment';

type Event = OrderStatusChangedSubscription['orderStatusChanged'];

export function OrderPage({ id }: { id: string }) {
  const [{ data, error }] = useQuery({ query: OrderDocument, variables: { id }, requestPolicy: 'cache-and-network' });
  const [live] = useSubscription({ query: OrderStatusChangedDocument, variables: { orderId: id } }, (events: Event[] = [], e) => [
    ...events,
    e.orderStatusChanged,
  ]);
  const o = data?.order;
  if (!o) {
    return (
      <>
        <h1>Order</h1>
        <Errors error={error} />
        {!error && <p role="status">Loading…</p>}
      </>
    );
  }
  const events = live.data || [];
  const last = events[events.length - 1];
  const status = last?.status || o.status;
  const tracking = last?.order.trackingNumber ?? o.trackingNumber;
  return (
    <>
      <h1>Your order</h1>
      <p>
        Status:{' '}
        <span className="status" role="status" aria-live="polite" data-testid="order-status">
          {status}
        </span>{' '}
        <span className="muted">{live.error ? `(live updates stopped: ${live.error.message})` : last ? '(live)' : '(connecting…)'}</span>
      </p>
      {tracking && (
        <p>
          Tracking number: <strong data-testid="tracking-number">{tracking}</strong>
        </p>
      )}
      {status === 'PENDING' && o.payment && <Payment orderId={o.id} payment={o.payment} />}
      <table>
        <caption className="muted">Placed {date(o.createdAt)}</caption>
        <thead>
          <tr>
            <th scope="col">Item</th>
            <th scope="col">Quantity</th>
            <th scope="col">Total</th>
          </tr>
        </thead>
        <tbody>
          {o.lines.map((l) => (
            <tr key={l.id}>
              <td>
                {l.productName} — {l.variantName}
              </td>
              <td>{l.quantity}</td>
              <td>{money(l.lineTotal)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        Total: <strong>{money(o.total)}</strong>
      </p>
      <p>
        Ship to: {o.shippingAddress.name}, {o.shippingAddress.line1}, {o.shippingAddress.postalCode} {o.shippingAddress.city},{' '}
        {o.shippingAddress.country}
      </p>
      <section aria-labelledby="history">
        <h2 id="history">History</h2>
        <ol>
          {events.map((e) => (
            <li key={e.sequence}>
              {date(e.at)}: {e.kind === 'STATUS_CHANGED' ? `${e.status}${e.note ? ` — ${e.note}` : ''}` : e.note || e.kind.toLowerCase().replace(/_/g, ' ')}
            </li>
          ))}
        </ol>
      </section>
    </>
  );
}
