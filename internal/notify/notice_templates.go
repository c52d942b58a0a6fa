package notify

import (
	"fmt"

	"github.com/shopgraph/shopgraph/internal/gid"
	"github.com/shopgraph/shopgraph/internal/order"
)

// vendorOrderData is what a vendor's notice of a paid order shows: its own lines only, their
// total, and where they ship to.
type vendorOrderData struct {
	Subject string
	Vendor  string
	Number  int64
	Lines   []lineData
	Total   string
	Address []string
}

// VendorOrderSubject is the subject of vendor vendorName's notice of paid order orderID.
func VendorOrderSubject(orderID int64, vendorName string) string {
	return fmt.Sprintf("New paid order #%d for %s", orderID, vendorName)
}

// VendorOrderMessage renders vendor vendorName's notice of paid order o, showing lines (its
// own), to `to`.
func (t *Templates) VendorOrderMessage(to, vendorName string, o order.Order, lines []order.Line) (Message, error) {
	total, err := vendorTotal(lines, o.Total.Currency)
	if err != nil {
		return Message{}, fmt.Errorf("order %d's vendor total: %w", o.ID, err)
	}
	data := vendorOrderData{Vendor: vendorName, Number: o.ID, Total: FormatMoney(total), Address: addressLines(o.ShippingAddress)}
	for _, l := range lines {
		data.Lines = append(data.Lines, lineData{Name: lineName(l), SKU: l.SKU, Quantity: l.Quantity,
			UnitPrice: FormatMoney(l.UnitPrice), LineTotal: FormatMoney(l.LineTotal)})
	}
	return t.render(to, "vendor_order", &data, func(s string) { data.Subject = s })
}

// lowStockData is what a low-stock notice shows.
type lowStockData struct {
	Subject             string
	Vendor              string
	SKU                 string
	Product, Variant    string
	Quantity, Threshold int
}

// LowStockSubject is the subject of the low-stock notice of the variant with SKU sku.
func LowStockSubject(sku string) string {
	return fmt.Sprintf("Low stock: %s", sku)
}

// LowStockMessage renders a low-stock notice to `to`.
func (t *Templates) LowStockMessage(to string, data lowStockData) (Message, error) {
	return t.render(to, "low_stock", &data, func(s string) { data.Subject = s })
}

// vendorApplicationData is what the admins' notice of an application shows.
type vendorApplicationData struct {
	Subject                   string
	VendorID                  string // its global ID, for vendorApprove and vendorReject
	Vendor, Slug              string
	ContactEmail, Description string
	Applicant, ApplicantEmail string // empty when the account was deleted since
	Applied                   string
}

// VendorApplicationSubject is the subject of the admins' notice of vendor vendorName's
// application.
func VendorApplicationSubject(vendorName string) string {
	return fmt.Sprintf("New vendor application: %s", vendorName)
}

// VendorApplicationMessage renders the admins' notice of an application to `to`.
func (t *Templates) VendorApplicationMessage(to string, data vendorApplicationData) (Message, error) {
	return t.render(to, "vendor_application", &data, func(s string) { data.Subject = s })
}

func vendorGID(id int64) string { return gid.Encode(gid.Vendor, id) }

// lineName is a line's product name with its variant's.
func lineName(l order.Line) string {
	if l.VariantName != "" {
		return l.ProductName + " (" + l.VariantName + ")"
	}
	return l.ProductName
}

// validateNotices renders the notices with sample data (LoadTemplates).
func (t *Templates) validateNotices(sample order.Order, lines []order.Line) error {
	if _, err := t.VendorOrderMessage("vendor@example.com", "Acme", sample, lines); err != nil {
		return err
	}
	if _, err := t.LowStockMessage("vendor@example.com", lowStockData{Vendor: "Acme", SKU: "W-1", Product: "Widget",
		Variant: "Blue", Quantity: 2, Threshold: 5}); err != nil {
		return err
	}
	for _, applicant := range []string{"", "Ada Lovelace"} {
		if _, err := t.VendorApplicationMessage("admin@example.com", vendorApplicationData{VendorID: vendorGID(1), Vendor: "Acme",
			Slug: "acme", ContactEmail: "sales@acme.example", Description: "Widgets.", Applicant: applicant,
			ApplicantEmail: "ada@example.com", Applied: "2026-01-02 03:04 UTC"}); err != nil {
			return err
		}
	}
	return nil
}
