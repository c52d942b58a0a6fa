-- name: PaymentCustomerGet :one
-- PaymentCustomerGet is an account's provider customer.
SELECT * FROM payment_customers WHERE user_id = @user_id;

-- name: PaymentCustomerInsert :one
-- PaymentCustomerInsert records an account's provider customer; when a concurrent first use
-- recorded one a moment earlier, that row stands and is returned.
WITH inserted AS (
    INSERT INTO payment_customers (user_id, provider, customer_id)
    VALUES (@user_id, @provider, @customer_id)
    ON CONFLICT (user_id) DO NOTHING
    RETURNING *
)
SELECT * FROM inserted
UNION ALL
SELECT * FROM payment_customers WHERE user_id = @user_id AND NOT EXISTS (SELECT 1 FROM inserted);

-- name: OrderPaymentMethodInsert :one
-- OrderPaymentMethodInsert records the saved method an order is paid with; the first choice
-- stands and is returned.
WITH inserted AS (
    INSERT INTO order_payment_methods (order_id, customer_id, payment_method_id)
    VALUES (@order_id, @customer_id, @payment_method_id)
    ON CONFLICT (order_id) DO NOTHING
    RETURNING *
)
SELECT * FROM inserted
UNION ALL
SELECT * FROM order_payment_methods WHERE order_id = @order_id AND NOT EXISTS (SELECT 1 FROM inserted);

-- name: OrderPaymentMethodGet :one
-- OrderPaymentMethodGet is the saved method an order is paid with.
SELECT * FROM order_payment_methods WHERE order_id = @order_id;
