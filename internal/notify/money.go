package notify

import (
	"math"

	"golang.org/x/text/currency"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/shopgraph/shopgraph/internal/money"
)

// printer formats amounts in emails (English number formatting).
var printer = message.NewPrinter(language.English)

// FormatMoney formats m with its currency's symbol and its own minor units (CLDR's, through
// golang.org/x/text/currency): 1000 USD is "$ 10.00", 1000 JPY "¥ 1,000", 1000 KWD
// "KWD 1.000". An unknown code is printed as amount and code.
func FormatMoney(m money.Money) string {
	unit, err := currency.ParseISO(m.Currency)
	if err != nil {
		return m.String()
	}
	scale, _ := currency.Standard.Rounding(unit)
	// Exact for amounts below 2⁵³ minor units; larger ones are beyond any real order.
	major := float64(m.Amount) / math.Pow10(scale)
	return printer.Sprint(currency.Symbol(unit.Amount(major)))
}
