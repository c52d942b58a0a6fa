package order

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
	if !Status(str).Valid() {
		return fmt.Errorf("%q is not a valid OrderStatus", str)
	}
	*s = Status(str)
	return nil
}
