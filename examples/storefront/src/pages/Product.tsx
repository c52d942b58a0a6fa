// A product: its variants (with stock), rating histogram and latest reviews; adds to the cart.
import { useState } from 'react';
import { useMutation, useQuery } from 'urql';

import { CartItemAddDocument, ProductPageDocument, type StockStatus } from '../gql/graphql';
import { Errors, date, money } from '../format';
import { Link } from '../router';
import { session } from '../session';

// Shoppers see how much is left only as a status: exact units (quantityAvailable) are the
// vendor's and admins' to see, and selecting them here would fail the page for everyone else.
const stockLabel: Record<StockStatus, string> = {
  IN_STOCK: 'in stock',
  LOW_STOCK: 'only a few left',
  OUT_OF_STOCK: 'out of stock',
};

export function ProductPage({ slug }: { slug: string }) {
  const [{ data, fetching, error }] = useQuery({ query: ProductPageDocument, variables: { slug } });
  const [added, add] = useMutation(CartItemAddDocument);
  const [variantId, setVariantId] = useState('');
  const [quantity, setQuantity] = useState(1);
  const [message, setMessage] = useState('');
  const p = data?.product;
  if (fetching && !p) return <p role="status">Loading…</p>;
  if (!p) {
    return (
      <>
        <h1>Product not found</h1>
        <Errors error={error} />
      </>
    );
  }
  const chosen = p.variants.find((v) => v.id === variantId) || p.variants[0];
  const addToCart = async () => {
    setMessage('');
    const r = await add({ input: { variantId: chosen.id, quantity } });
    const cart = r.data?.cartItemAdd.cart;
    if (cart?.token) session.setCartToken(cart.token);
    if (cart && r.data?.cartItemAdd.userErrors.length === 0) setMessage(`Added ${quantity} × ${p.name} to your cart.`);
  };
  return (
    <article>
      <h1>{p.name}</h1>
      <p className="muted">
        {p.vendor ? `Sold by ${p.vendor.name}` : 'Sold by the shop'}
        {p.category && ` · ${p.category.name}`}
      </p>
      {p.imageUrls[0] && <img src={p.imageUrls[0]} alt={p.name} width={320} />}
      <p>{p.description}</p>
      <section aria-labelledby="buy">
        <h2 id="buy">Buy</h2>
        <div className="row">
          <label>
            Variant
            <select value={chosen.id} onChange={(e) => setVariantId(e.target.value)}>
              {p.variants.map((v) => (
                <option key={v.id} value={v.id}>
                  {v.name} — {money(v.price)} ({stockLabel[v.stockStatus]})
                </option>
              ))}
            </select>
          </label>
          <label>
            Quantity
            <input type="number" min={1} max={1000} value={quantity} onChange={(e) => setQuantity(Math.max(1, Number(e.target.value) || 1))} />
          </label>
          <button type="button" onClick={addToCart} disabled={added.fetching || chosen.stockStatus === 'OUT_OF_STOCK'}>
            Add to cart
          </button>
        </div>
        <p>
          Price: <strong>{money(chosen.price)}</strong> · SKU {chosen.sku}
          {chosen.options.map((o) => ` · ${o.name}: ${o.value}`)}
        </p>
        <Errors errors={added.data?.cartItemAdd.userErrors} error={added.error} />
        {message && (
          <p role="status" className="notice">
            {message} <Link href="/cart">View cart</Link>
          </p>
        )}
      </section>
      {p.attributes.length > 0 && (
        <section aria-labelledby="details">
          <h2 id="details">Details</h2>
          <dl>
            {p.attributes.map((a) => (
              <div key={a.key}>
                <dt>{a.key}</dt>
                <dd>{a.value}</dd>
              </div>
            ))}
          </dl>
        </section>
      )}
      <section aria-labelledby="reviews">
        <h2 id="reviews">Reviews</h2>
        <p>{p.rating.count ? `${p.rating.average?.toFixed(1)} out of 5 from ${p.rating.count} reviews` : 'No reviews yet.'}</p>
        {p.rating.count > 0 && (
          <table aria-label="Ratings histogram">
            <tbody>
              {[5, 4, 3, 2, 1].map((stars) => (
                <tr key={stars}>
                  <th scope="row">{stars}★</th>
                  <td>{p.rating.histogram[stars - 1] ?? 0}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <ul>
          {p.reviews.nodes.map((r) => (
            <li key={r.id}>
              <strong>
                {r.rating}★ {r.title}
              </strong>{' '}
              — {r.authorName}
              {r.verifiedPurchase && ' (verified purchase)'}, {date(r.createdAt)}
              {r.body && <p>{r.body}</p>}
            </li>
          ))}
        </ul>
      </section>
    </article>
  );
}
