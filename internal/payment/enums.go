package payment

import (
	"fmt"
	"io"
	"strconv"
)

// MarshalGQL writes the status as a GraphQL enum value.
func (s Status) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(s))) }

// UnmarshalGQL reads a GraphQL enum value.
func (s *Status) UnmarshalGQL(v any) error {
	str, _ := v.(string)
	switch Status(str) {
	case RequiresPayment, Processing, Succeeded, Failed, Canceled, AmountMismatch:
		*s = Status(str)
		return nil
	}
	return fmt.Errorf("%q is not a valid PaymentStatus", str)
}
