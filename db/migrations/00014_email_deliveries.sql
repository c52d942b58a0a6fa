-- +goose Up
-- One row per email owed to a recipient for an event (event_key, e.g. "order_placed:42"): the
-- worker claims it before sending and marks it sent after, so a job run again never sends an
-- email twice once it is marked sent. A permanent refusal by the server is recorded as failed.
CREATE TABLE email_deliveries (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_key   text        NOT NULL,
    recipient   text        NOT NULL,
    status      text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts    integer     NOT NULL DEFAULT 0,
    last_error  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz,
    UNIQUE (event_key, recipient)
);

-- +goose Down
DROP TABLE email_deliveries;
