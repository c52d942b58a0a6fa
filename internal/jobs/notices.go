package jobs

import "github.com/riverqueue/river"

// SendVendorOrderEmailsArgs asks to send each vendor of order OrderID's lines its notice of
// the order (internal/notify): its own lines and their total, to its contact address or, when
// it has none, to its members. It is inserted in the transaction that moves the order to PAID
// (with the customer's "payment received" email, in one InsertManyTx); the job finds the
// vendors when it runs, and the email_deliveries rows, keyed by order and vendor, send each
// recipient its notice at most once after it was marked sent.
type SendVendorOrderEmailsArgs struct {
	OrderID int64 `json:"order_id"`
}

// Kind names the job in the queue table.
func (SendVendorOrderEmailsArgs) Kind() string { return "email_vendor_order" }

// InsertOpts: as SendOrderPlacedEmailArgs.
func (SendVendorOrderEmailsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 17, Queue: QueueEmail}
}

// SendLowStockEmailArgs asks to tell vendor VendorID that variant VariantID's stock fell to
// Quantity, at or below its threshold Threshold (internal/notify). It is inserted in the
// transaction of the stock movement that crossed the threshold; Key names that crossing
// (stable: the same crossing always has the same key), so a crossing's notice goes out once
// per recipient, and two crossings two notices.
type SendLowStockEmailArgs struct {
	VariantID int64  `json:"variant_id"`
	VendorID  int64  `json:"vendor_id"`
	Quantity  int    `json:"quantity"`
	Threshold int    `json:"threshold"`
	Key       string `json:"key"`
}

// Kind names the job in the queue table.
func (SendLowStockEmailArgs) Kind() string { return "email_low_stock" }

// InsertOpts: as SendOrderPlacedEmailArgs.
func (SendLowStockEmailArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 17, Queue: QueueEmail}
}

// SendVendorApplicationEmailArgs asks to tell every admin of vendor VendorID's application to
// sell (internal/notify). It is inserted in the application's transaction (vendorApply); the
// job finds the admins when it runs, and each admin gets the notice at most once.
type SendVendorApplicationEmailArgs struct {
	VendorID int64 `json:"vendor_id"`
}

// Kind names the job in the queue table.
func (SendVendorApplicationEmailArgs) Kind() string { return "email_vendor_application" }

// InsertOpts: as SendOrderPlacedEmailArgs.
func (SendVendorApplicationEmailArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 17, Queue: QueueEmail}
}
