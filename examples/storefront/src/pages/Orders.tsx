// The shopper's orders, newest first.
import { useQuery } from 'urql';

import { MyOrdersDocument } from '../gql/graphql';
import { Errors, date, money } from '../format';
import { Link } from '../router';

export function OrdersPage() {
  const [{ data, error }] = useQuery({ query: MyOrdersDocument, variables: { first: 20 }, requestPolicy: 'cache-and-network' });
  return (
    <>
      <h1>Your orders</h1>
      <Errors error={error} />
      {data && data.orders.nodes.length === 0 && <p>No orders yet.</p>}
      <ul>
        {data?.orders.nodes.map((o) => (
          <li key={o.id}>
            <Link href={`/orders/${encodeURIComponent(o.id)}`}>{date(o.createdAt)}</Link> — {money(o.total)} — {o.status}
          </li>
        ))}
      </ul>
    </>
  );
}
