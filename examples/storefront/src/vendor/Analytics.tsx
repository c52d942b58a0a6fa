// Sales analytics: net sales per day over the last 30 days as an SVG bar chart, with totals
// and the best-selling products. No chart library: a few rectangles do.
import { useState } from 'react';
import { useQuery } from 'urql';

import { VendorAnalyticsDocument, type AnalyticsInterval } from '../gql/graphql';
import { Errors, money } from '../format';
import { NotAVendor } from './Products';
import { useVendor } from './useVendor';

const day = (d: Date) => d.toISOString().slice(0, 10);

export function AnalyticsPage() {
  const { vendor, fetching } = useVendor();
  if (!vendor) return fetching ? <p role="status">Loading…</p> : <NotAVendor />;
  return <Analytics vendorId={vendor.id} />;
}

function Analytics({ vendorId }: { vendorId: string }) {
  const [interval, setInterval] = useState<AnalyticsInterval>('DAY');
  const to = new Date();
  const from = new Date(to.getTime() - (interval === 'DAY' ? 29 : interval === 'WEEK' ? 7 * 11 : 365) * 86400000);
  const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const [{ data, error }] = useQuery({
    query: VendorAnalyticsDocument,
    variables: { input: { vendorId, from: day(from), to: day(to), interval, timeZone } },
    requestPolicy: 'cache-and-network',
  });
  const a = data?.vendorAnalytics;
  return (
    <>
      <h1>Sales</h1>
      <label>
        Per
        <select value={interval} onChange={(e) => setInterval(e.target.value as AnalyticsInterval)}>
          <option value="DAY">day (last 30 days)</option>
          <option value="WEEK">week (last 12 weeks)</option>
          <option value="MONTH">month (last year)</option>
        </select>
      </label>
      <Errors error={error} />
      {a && a.currencies.length === 0 && <p>No sales in this period.</p>}
      {a?.currencies.map((c) => (
        <section key={c.currency} aria-labelledby={`sales-${c.currency}`}>
          <h2 id={`sales-${c.currency}`}>
            {c.currency}: {money(c.totals.netSales)} net from {c.totals.orderCount} orders ({c.totals.units} units)
          </h2>
          <BarChart
            title={`Net sales per ${interval.toLowerCase()} in ${c.currency}`}
            points={c.series.map((p) => ({ label: p.startsAt.slice(0, 10), value: p.figures.netSales.amount, text: money(p.figures.netSales) }))}
          />
          <h3>Top products</h3>
          <ol>
            {c.topProductsByRevenue.map((p) => (
              <li key={p.productId}>
                {p.name}: {money(p.revenue)} ({p.units} units)
              </li>
            ))}
          </ol>
        </section>
      ))}
    </>
  );
}

type Point = { label: string; value: number; text: string };

/** A bar chart whose data is also in a visually hidden table, for screen readers. */
function BarChart({ title, points }: { title: string; points: Point[] }) {
  const w = 720;
  const h = 200;
  const max = Math.max(1, ...points.map((p) => p.value));
  const bw = points.length ? w / points.length : w;
  return (
    <figure>
      <svg viewBox={`0 0 ${w} ${h + 20}`} width="100%" role="img" aria-label={title} data-testid="sales-chart">
        <title>{title}</title>
        <line x1={0} y1={h} x2={w} y2={h} stroke="#1f2937" />
        {points.map((p, i) => {
          const bh = (p.value / max) * (h - 10);
          return (
            <rect key={p.label} x={i * bw + 2} y={h - bh} width={Math.max(1, bw - 4)} height={bh} fill="#1d4ed8">
              <title>{`${p.label}: ${p.text}`}</title>
            </rect>
          );
        })}
        {points.length > 0 && (
          <>
            <text x={0} y={h + 16} fontSize={12} fill="#1a1a1a">
              {points[0].label}
            </text>
            <text x={w} y={h + 16} fontSize={12} fill="#1a1a1a" textAnchor="end">
              {points[points.length - 1].label}
            </text>
          </>
        )}
      </svg>
      <figcaption>{title}</figcaption>
      <table className="sr-only">
        <caption>{title}</caption>
        <tbody>
          {points.map((p) => (
            <tr key={p.label}>
              <th scope="row">{p.label}</th>
              <td>{p.text}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
