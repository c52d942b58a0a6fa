// Presenting money, dates and errors.

type Money = { amount: number; currency: string };

/** Formats minor units in their currency's own number of decimals. */
export function money(m: Money | null | undefined): string {
  if (!m) return '—';
  const f = new Intl.NumberFormat('en-US', { style: 'currency', currency: m.currency });
  const digits = f.resolvedOptions().maximumFractionDigits ?? 2;
  return f.format(m.amount / 10 ** digits);
}

export function date(s: string): string {
  return new Date(s).toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short' });
}

type UserError = { message: string; field?: readonly string[] | null };

/** Shows a payload's userErrors or a request's error, in an alert region. */
export function Errors({ errors, error }: { errors?: readonly UserError[] | null; error?: { message: string } | null }) {
  const msgs = [...(errors || []).map((e) => e.message), ...(error ? [error.message] : [])];
  if (msgs.length === 0) return null;
  return (
    <div role="alert" className="error">
      {msgs.map((m, i) => (
        <p key={i}>{m}</p>
      ))}
    </div>
  );
}
